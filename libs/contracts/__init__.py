"""Schemas of every message that crosses a service boundary, the envelope and the topics."""

from libs.contracts import catalog  # noqa: F401
