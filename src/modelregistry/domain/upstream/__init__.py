"""Upstream catalogs (LiteLLM, models.dev, OpenRouter): conversion and the sync plan.

Rule: pure functions from parsed documents and catalog state to results; no I/O here.
"""
