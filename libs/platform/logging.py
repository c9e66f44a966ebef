"""structlog configured once for every service: JSON when not on a terminal, console on one.

The correlation id of the current HTTP request or event is kept in a context variable and
bound to every log line. A card number never reaches a log line: the edge refuses requests that
hold one, and every line, structlog's and the stdlib's (uvicorn's access lines), is masked here
as well (libs/platform/card_numbers.py).
"""

from __future__ import annotations

import logging
import sys
import uuid
from contextvars import ContextVar
from typing import Any

import structlog

from libs.platform.card_numbers import MaskingFilter, mask_log_event

CORRELATION_HEADER = "X-Correlation-ID"
_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
_configured = False


def current_correlation_id() -> str | None:
    """The correlation id of the request or event being handled, if any."""
    return _correlation_id.get()


def set_correlation_id(value: str | None) -> Any:
    """Set the correlation id for the current context; returns a token for `reset`."""
    structlog.contextvars.bind_contextvars(correlation_id=value)
    return _correlation_id.set(value)


def reset_correlation_id(token: Any) -> None:
    """Restore the previous correlation id."""
    _correlation_id.reset(token)
    structlog.contextvars.bind_contextvars(correlation_id=_correlation_id.get())


def new_correlation_id() -> str:
    """A fresh correlation id."""
    return uuid.uuid4().hex


def configure_logging(level: str = "INFO", json: bool | None = None) -> None:
    """Configure structlog and the stdlib root logger once per process."""
    global _configured
    if _configured:
        return
    as_json = (not sys.stderr.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        # Masked last, so the text of an exception is masked too.
        processors=[*shared, structlog.processors.format_exc_info, mask_log_event, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    _configured = True


def get_logger(name: str) -> Any:
    """A structlog logger bound with the component name."""
    return structlog.get_logger(name)
