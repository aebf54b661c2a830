"""The registry's operations: each public method's logic, over the database and the cache.

Rule: owns no connection and parses no argument the facade has not checked; imported only by
:mod:`modelregistry.registry` and :mod:`modelregistry.aio`.
"""
