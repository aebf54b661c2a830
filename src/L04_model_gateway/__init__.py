"""The seed's import path (``L04_model_gateway``), kept so its code runs unchanged.

A thin re-export of :mod:`modelregistry`; new code should import ``modelregistry``.
"""
