"""The seed's ``L04_model_gateway.services`` package."""
