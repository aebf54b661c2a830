"""Telemetry of a registry (what it did) and its Prometheus metrics.

Rule: imports nothing above :mod:`modelregistry.db`; ``prometheus_client`` is loaded only by
:mod:`modelregistry.metrics.prometheus`, when metrics are asked for.
"""
