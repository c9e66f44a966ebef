"""Domain errors shared by every service.

Pure exceptions (no web framework imports) so that `domain/` modules can raise them; the HTTP
layer (`libs.platform.problems`) maps each kind to an RFC 9457 problem+json response.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field; `field` is a dotted path such as `tiers.1.up_to`."""

    field: str
    message: str
    code: str = "invalid"


class DomainError(Exception):
    """Base of every business error; `status` is the HTTP status it maps to.

    `transient` says the same input may succeed later (a consumer retries it with back-off
    before parking it as a dead letter); any other domain error parks the event at once.
    """

    status: int = 400
    title: str = "Bad request"
    code: str = "bad_request"
    transient: bool = False

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """An id that names nothing (404).

    Transient for a consumer: the event that creates it may travel on another topic and not
    have been delivered yet.
    """

    status = 404
    title = "Not found"
    code = "not_found"
    transient = True

    def __init__(self, entity: str, entity_id: str) -> None:
        super().__init__(f"{entity} {entity_id!r} does not exist")
        self.entity = entity
        self.entity_id = entity_id


class RetryableError(DomainError):
    """Cannot be done now but may succeed later, e.g. data another event brings (503)."""

    status = 503
    title = "Try again later"
    code = "retry_later"
    transient = True


class Conflict(DomainError):
    """The request is valid but the current state forbids it (409)."""

    status = 409
    title = "Conflict"
    code = "conflict"


class ValidationFailed(DomainError):
    """Input breaks a business rule; carries every field problem found at once (422)."""

    status = 422
    title = "Validation failed"
    code = "validation_failed"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.errors: list[FieldError] = list(errors or [])

    @classmethod
    def single(cls, field_name: str, message: str, code: str = "invalid") -> ValidationFailed:
        """Build the error for one field."""
        return cls(message, [FieldError(field_name, message, code)])


class Forbidden(DomainError):
    """The caller is authenticated but its role may not do this (403)."""

    status = 403
    title = "Forbidden"
    code = "forbidden"


@dataclass
class FieldErrors:
    """Collects field problems so a validator can report all of them in one 422."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, field_name: str, message: str, code: str = "invalid") -> None:
        """Record one problem."""
        self.errors.append(FieldError(field_name, message, code))

    def raise_if_any(self, detail: str = "The request has invalid fields") -> None:
        """Raise ValidationFailed carrying every recorded problem, if there is one."""
        if self.errors:
            raise ValidationFailed(detail, self.errors)
