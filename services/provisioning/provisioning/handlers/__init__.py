"""Provisioning's use cases, one module per concept; each runs in one unit of work.

Routes and consumers import the module of their concept. Nothing is imported here: the port
(`handlers.unit_of_work`) is imported by the adapters, schemas and events, and must not pull
every use case in with it.
"""

# Subscriptions handled per round trip when terms end: one read of rows, one of their histories.
TERM_END_CHUNK = 500
