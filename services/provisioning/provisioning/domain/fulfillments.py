"""License and service fulfillments against a sales order, and committed-license balances."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from libs.contracts.vocabulary import LicenseType
from libs.platform.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from libs.platform.ids import new_id

from .events import DomainEvent
from .orders import OrderLine, OrderStatus, SalesOrder

ZERO = Decimal(0)

# Pay-as-you-go licenses and plain services (a workshop, a tailoring service) are invoiced on
# fulfillment at actuals; committed, named-user and subscription licenses were billed by their
# commitment or subscription, so fulfilling them bills nothing more (seed 003).
BILLED_ON_FULFILLMENT = frozenset({LicenseType.PAY_AS_YOU_GO, LicenseType.NONE})

FULFILLABLE_ORDER_STATUSES = frozenset({OrderStatus.APPROVED, OrderStatus.FULFILLED})


class FulfillmentStatus(StrEnum):
    """Scheduled ahead of a session, completed after it (which invoices), or cancelled."""

    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass
class CommittedLicenseBalance:
    """How much of a committed order line has been launched and how much remains."""

    order_line_id: str
    product_id: str
    committed: Decimal
    launched: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        """Committed minus launched."""
        return self.committed - self.launched

    @classmethod
    def of(cls, line: OrderLine, fulfillments: Iterable[Fulfillment]) -> CommittedLicenseBalance:
        """The balance of a committed line given every fulfillment recorded against it."""
        launched = sum(
            (
                fl.quantity
                for f in fulfillments
                if f.status is not FulfillmentStatus.CANCELLED
                for fl in f.lines
                if fl.order_line_id == line.id
            ),
            ZERO,
        )
        return cls(line.id, line.product_id, line.quantity, launched)

    def launch(self, quantity: Decimal, *, field_name: str = "quantity") -> None:
        """Count `quantity` more as consumed; refuses going past the commitment."""
        self._check_launch(quantity, field_name).raise_if_any("The commitment is exhausted")
        self.launched += quantity

    def release(self, quantity: Decimal) -> None:
        """Give back launched quantity (a cohort shrank or a session was cancelled)."""
        self.launched -= min(quantity, self.launched)

    def _check_launch(self, quantity: Decimal, field_name: str) -> FieldErrors:
        errors = FieldErrors()
        if quantity > self.remaining:
            errors.add(
                field_name,
                f"only {self.remaining} of {self.committed} committed licenses remain",
                "over_commitment",
            )
        return errors


def currency_of(lines: Sequence[FulfillmentLine] | Sequence[FulfilledLine]) -> str:
    """The currency a fulfillment bills in: that of its lines (all in the order's currency)."""
    if not lines:
        # Every fulfillment has a line; guessing a currency would bill in the wrong one.
        raise ValueError("a fulfillment without lines has no currency")
    return lines[0].currency


def committed_balances(
    order: SalesOrder, fulfillments: Iterable[Fulfillment]
) -> dict[str, CommittedLicenseBalance]:
    """The balance of every committed line of an order, keyed by order line id."""
    recorded = list(fulfillments)
    return {
        line.id: CommittedLicenseBalance.of(line, recorded)
        for line in order.lines
        if line.license_type is LicenseType.COMMITTED
    }


@dataclass
class FulfillmentLine:
    """One order line being fulfilled, with the quantity launched or delivered."""

    order_line_id: str
    product_id: str
    license_type: LicenseType
    quantity: Decimal
    unit_list_price: Decimal
    discount_percent: Decimal
    currency: str

    @property
    def billable_quantity(self) -> Decimal:
        """What this line invoices: actuals when billed on fulfillment, else nothing."""
        return self.quantity if self.license_type in BILLED_ON_FULFILLMENT else ZERO


@dataclass(frozen=True)
class FulfilledLine:
    """Per line of a completed fulfillment: consumed and billable quantities and the price."""

    order_line_id: str
    product_id: str
    license_type: LicenseType
    consumed_quantity: Decimal
    billable_quantity: Decimal
    unit_list_price: Decimal
    discount_percent: Decimal
    currency: str


@dataclass(frozen=True)
class FulfillmentCompleted(DomainEvent):
    """A fulfillment completed; invoicing bills its billable quantities at once."""

    fulfillment_id: str
    order_id: str
    account_id: str
    associated_project_id: str | None
    completed_on: date
    lines: tuple[FulfilledLine, ...]
    by: str

    @property
    def is_billable(self) -> bool:
        """True when at least one line has something to invoice."""
        return any(line.billable_quantity > 0 for line in self.lines)


@dataclass(frozen=True)
class FulfillmentCancelled(DomainEvent):
    """A scheduled fulfillment was called off; its launches no longer count."""

    fulfillment_id: str
    order_id: str
    account_id: str
    by: str


@dataclass
class Fulfillment:
    """Licenses launched and services delivered against one sales order."""

    id: str
    order_id: str
    account_id: str
    lines: list[FulfillmentLine]
    associated_project_id: str | None = None
    status: FulfillmentStatus = FulfillmentStatus.SCHEDULED
    completed_on: date | None = None
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def schedule(
        cls,
        order: SalesOrder,
        quantities: Mapping[str, Decimal],
        *,
        balances: Mapping[str, CommittedLicenseBalance],
        associated_project_id: str | None = None,
        by: str,
    ) -> Fulfillment:
        """Record launches ahead of a session; committed licenses count as consumed now.

        `quantities` maps order line ids to quantities; `balances` are the order's committed
        balances (see `committed_balances`) and are updated in place.
        """
        if order.status not in FULFILLABLE_ORDER_STATUSES:
            raise Conflict(f"Cannot fulfil an order that is {order.status.value}")
        errors = FieldErrors()
        if not quantities:
            errors.add("lines", "a fulfillment needs at least one line", "required")
        lines: list[FulfillmentLine] = []
        for line_id, quantity in quantities.items():
            name = f"lines.{line_id}.quantity"
            order_line = next((ol for ol in order.lines if ol.id == line_id), None)
            if order_line is None:
                errors.add(f"lines.{line_id}", "is not a line of this order", "unknown_line")
                continue
            if quantity <= 0:
                errors.add(name, "must be positive")
                continue
            if order_line.license_type is LicenseType.COMMITTED:
                errors.errors.extend(_balance_for(balances, line_id)._check_launch(quantity, name).errors)
            lines.append(_line_for(order_line, quantity))
        errors.raise_if_any("The fulfillment cannot be recorded")
        # Checked everything first so a refused fulfillment consumes nothing.
        for line in lines:
            if line.license_type is LicenseType.COMMITTED:
                _balance_for(balances, line.order_line_id).launch(line.quantity)
        fulfillment = cls(
            id=new_id("ful"),
            order_id=order.id,
            account_id=order.account_id,
            lines=lines,
            associated_project_id=associated_project_id,
        )
        return fulfillment

    def line(self, order_line_id: str) -> FulfillmentLine:
        """The line fulfilling an order line, or NotFound."""
        for line in self.lines:
            if line.order_line_id == order_line_id:
                return line
        raise NotFound("fulfillment line", order_line_id)

    def update_quantity(
        self,
        order_line_id: str,
        quantity: Decimal,
        *,
        balances: Mapping[str, CommittedLicenseBalance],
    ) -> None:
        """Change a line's quantity while scheduled (a cohort of 10 becomes 12)."""
        self._require_status("update", FulfillmentStatus.SCHEDULED)
        line = self.line(order_line_id)
        name = f"lines.{order_line_id}.quantity"
        if quantity < 0:
            raise ValidationFailed.single(name, "must not be negative")
        if line.license_type is LicenseType.COMMITTED:
            balance = _balance_for(balances, order_line_id)
            if quantity > line.quantity:
                balance.launch(quantity - line.quantity, field_name=name)
            else:
                balance.release(line.quantity - quantity)
        line.quantity = quantity

    def complete(self, *, on: date, by: str) -> None:
        """scheduled → completed; records what was consumed and what to invoice."""
        self._require_status("complete", FulfillmentStatus.SCHEDULED)
        self.status = FulfillmentStatus.COMPLETED
        self.completed_on = on
        self.events.append(
            FulfillmentCompleted(
                self.id,
                self.order_id,
                self.account_id,
                self.associated_project_id,
                on,
                tuple(
                    FulfilledLine(
                        line.order_line_id,
                        line.product_id,
                        line.license_type,
                        line.quantity,
                        line.billable_quantity,
                        line.unit_list_price,
                        line.discount_percent,
                        line.currency,
                    )
                    for line in self.lines
                ),
                by,
            )
        )

    def cancel(self, *, balances: Mapping[str, CommittedLicenseBalance], by: str) -> None:
        """scheduled → cancelled; committed launches are given back."""
        self._require_status("cancel", FulfillmentStatus.SCHEDULED)
        for line in self.lines:
            if line.license_type is LicenseType.COMMITTED:
                _balance_for(balances, line.order_line_id).release(line.quantity)
        self.status = FulfillmentStatus.CANCELLED
        self.events.append(FulfillmentCancelled(self.id, self.order_id, self.account_id, by))

    @classmethod
    def record_completed(
        cls,
        order: SalesOrder,
        quantities: Mapping[str, Decimal],
        *,
        balances: Mapping[str, CommittedLicenseBalance],
        associated_project_id: str | None = None,
        on: date,
        by: str,
    ) -> Fulfillment:
        """Record a fulfillment straight as completed (a mass launch, a finished service)."""
        fulfillment = cls.schedule(
            order,
            quantities,
            balances=balances,
            associated_project_id=associated_project_id,
            by=by,
        )
        fulfillment.complete(on=on, by=by)
        return fulfillment

    def _require_status(self, action: str, *allowed: FulfillmentStatus) -> None:
        if self.status not in allowed:
            raise Conflict(f"Cannot {action} a fulfillment that is {self.status.value}")


def _line_for(order_line: OrderLine, quantity: Decimal) -> FulfillmentLine:
    return FulfillmentLine(
        order_line_id=order_line.id,
        product_id=order_line.product_id,
        license_type=order_line.license_type,
        quantity=quantity,
        unit_list_price=order_line.unit_list_price,
        discount_percent=order_line.effective_discount_percent,
        currency=order_line.currency,
    )


def _balance_for(
    balances: Mapping[str, CommittedLicenseBalance], order_line_id: str
) -> CommittedLicenseBalance:
    try:
        return balances[order_line_id]
    except KeyError:
        # A wiring mistake, not bad input: the caller must pass the order's balances.
        raise ValueError(f"no committed balance passed for order line {order_line_id}") from None
