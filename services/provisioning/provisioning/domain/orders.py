"""Sales orders, their lines and the discount-approval state machine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from libs.contracts.vocabulary import ChargeType, LicenseType
from libs.platform.errors import Conflict, FieldErrors, Forbidden, NotFound
from libs.platform.ids import new_id
from libs.platform.periods import add_months
from libs.pricing import Discount, DiscountKind, DiscountResult, apply_discounts, needs_approval

from .events import DomainEvent
from .subscriptions import RenewalPolicy
from .workflows import WorkflowTemplate

HUNDRED = Decimal(100)
APPROVER_ROLES = frozenset({"finance", "admin"})
AUTOMATIC_APPROVER = "system"
# Charges that make a lasting service instance; one-time charges are billed on fulfillment.
SUBSCRIPTION_CHARGE_TYPES: frozenset[ChargeType | None] = frozenset(
    {ChargeType.RECURRING, ChargeType.USAGE, None}
)
# The term of a subscription whose order line names none and whose product's workflow template
# carries no term of its own.
DEFAULT_TERM_MONTHS = 12


class OrderKind(StrEnum):
    """A new sale, or an amendment of existing subscriptions."""

    NEW = "new"
    AMENDMENT = "amendment"


class OrderStatus(StrEnum):
    """Where a sales order is on its way from draft to fulfilled."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class LineDiscount:
    """A discount on a line: a percent off or an amount off the line's list amount.

    Without a threshold the discount is pre-approved; with one, a line whose percent off list
    is strictly above it waits for finance (DESIGN §7) — the rule of `libs.pricing`, the same
    one the catalog's quotes apply.
    """

    discount_id: str
    approval_threshold_percent: Decimal | None
    percent: Decimal | None = None
    amount: Decimal | None = None

    def as_pricing(self) -> Discount:
        """This discount as the pricing engine takes it."""
        if self.percent is not None:
            return Discount(DiscountKind.PERCENT, self.percent, self.approval_threshold_percent)
        return Discount(DiscountKind.AMOUNT, self.amount or Decimal(0), self.approval_threshold_percent)


@dataclass(frozen=True)
class OrderLine:
    """One product on an order, with the list price and currency as quoted (a snapshot)."""

    id: str
    product_id: str
    price_id: str
    price_version: int
    quantity: Decimal
    unit_list_price: Decimal
    currency: str
    license_type: LicenseType
    term_months: int | None = None
    discounts: tuple[LineDiscount, ...] = ()
    # Amendment lines only: which subscription changes, and from when.
    subscription_id: str | None = None
    effective_date: date | None = None
    # New lines only; None means the default (expire; the whole quantity of a committed license).
    renewal: RenewalPolicy | None = None
    commitment_quantity: Decimal | None = None
    termination_fee_price_id: str | None = None

    @property
    def renewal_policy(self) -> RenewalPolicy:
        """What the subscription made from this line does at term end (expire by default)."""
        return self.renewal or RenewalPolicy.expire()

    @property
    def committed_quantity(self) -> Decimal:
        """The quantity committed for the term: as agreed, else all of a committed license."""
        if self.commitment_quantity is not None:
            return self.commitment_quantity
        return self.quantity if self.license_type is LicenseType.COMMITTED else Decimal(0)

    @property
    def list_amount(self) -> Decimal:
        """Quantity times unit list price, unrounded (invoicing rounds per line)."""
        return self.quantity * self.unit_list_price

    @cached_property
    def _discounted(self) -> DiscountResult:
        return apply_discounts(self.list_amount, [d.as_pricing() for d in self.discounts], self.currency)

    @property
    def discount_amount(self) -> Decimal:
        """All discounts added up on the undiscounted amount, never more than the line."""
        return self._discounted.total_discount

    @property
    def net_amount(self) -> Decimal:
        """What the line is worth after discounts, rounded to the currency."""
        return self._discounted.net_amount

    @property
    def effective_discount_percent(self) -> Decimal:
        """The percent off list the line's discounts amount to together."""
        return self._discounted.effective_percent_off

    @property
    def needs_approval(self) -> bool:
        """True when the percent off list is strictly above some discount's threshold."""
        return bool(self.discounts) and needs_approval(
            self.list_amount, [d.as_pricing() for d in self.discounts]
        )


def order_line(
    *,
    product_id: str,
    price_id: str,
    price_version: int,
    quantity: Decimal,
    unit_list_price: Decimal,
    currency: str,
    license_type: LicenseType = LicenseType.SUBSCRIPTION,
    term_months: int | None = None,
    discounts: Iterable[LineDiscount] = (),
    subscription_id: str | None = None,
    effective_date: date | None = None,
    renewal: RenewalPolicy | None = None,
    commitment_quantity: Decimal | None = None,
    termination_fee_price_id: str | None = None,
) -> OrderLine:
    """A new order line with a fresh id."""
    return OrderLine(
        id=new_id("oli"),
        product_id=product_id,
        price_id=price_id,
        price_version=price_version,
        quantity=quantity,
        unit_list_price=unit_list_price,
        currency=currency,
        license_type=license_type,
        term_months=term_months,
        discounts=tuple(discounts),
        subscription_id=subscription_id,
        effective_date=effective_date,
        renewal=renewal,
        commitment_quantity=commitment_quantity,
        termination_fee_price_id=termination_fee_price_id,
    )


@dataclass(frozen=True)
class OrderSubmitted(DomainEvent):
    """The order went to contracts; `approval_required` says whether finance must look."""

    order_id: str
    account_id: str
    customer_id: str
    kind: OrderKind
    currency: str
    approval_required: bool
    by: str


@dataclass(frozen=True)
class OrderApproved(DomainEvent):
    """The order may be provisioned; carries its lines so workflows can start."""

    order_id: str
    account_id: str
    customer_id: str
    kind: OrderKind
    currency: str
    lines: tuple[OrderLine, ...]
    approved_by: str
    automatic: bool


@dataclass(frozen=True)
class OrderFulfilled(DomainEvent):
    """Everything on the order has been provisioned."""

    order_id: str
    account_id: str
    by: str


@dataclass(frozen=True)
class OrderCancelled(DomainEvent):
    """The order was withdrawn before approval."""

    order_id: str
    account_id: str
    reason: str | None
    by: str


@dataclass
class SalesOrder:
    """What a customer agreed to buy (or to change), from draft to fulfilled."""

    id: str
    customer_id: str
    account_id: str
    kind: OrderKind = OrderKind.NEW
    status: OrderStatus = OrderStatus.DRAFT
    lines: list[OrderLine] = field(default_factory=list)
    approval_required: bool = False
    approved_by: str | None = None
    deal_registration_id: str | None = None
    requested_discounts_note: str | None = None
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def draft(
        cls,
        *,
        customer_id: str,
        account_id: str,
        kind: OrderKind = OrderKind.NEW,
        lines: Iterable[OrderLine] = (),
        deal_registration_id: str | None = None,
        requested_discounts_note: str | None = None,
    ) -> SalesOrder:
        """A new draft order that can still be edited."""
        return cls(
            id=new_id("ord"),
            customer_id=customer_id,
            account_id=account_id,
            kind=kind,
            lines=list(lines),
            deal_registration_id=deal_registration_id,
            requested_discounts_note=requested_discounts_note,
        )

    @property
    def currency(self) -> str | None:
        """The order's single currency (that of its first line), if it has lines."""
        return self.lines[0].currency if self.lines else None

    @property
    def list_total(self) -> Decimal:
        """Sum of the lines' list amounts, unrounded."""
        return sum((line.list_amount for line in self.lines), Decimal(0))

    @property
    def net_total(self) -> Decimal:
        """Sum of the lines' amounts after discounts, unrounded."""
        return sum((line.net_amount for line in self.lines), Decimal(0))

    def line(self, line_id: str) -> OrderLine:
        """The line with this id, or NotFound."""
        for candidate in self.lines:
            if candidate.id == line_id:
                return candidate
        raise NotFound("order line", line_id)

    def add_line(self, line: OrderLine) -> None:
        """Add a line while the order is a draft."""
        self._require_status("add a line to", OrderStatus.DRAFT)
        self.lines.append(line)

    def remove_line(self, line_id: str) -> None:
        """Remove a line while the order is a draft."""
        self._require_status("remove a line from", OrderStatus.DRAFT)
        self.lines.remove(self.line(line_id))

    def submit(self, *, by: str) -> None:
        """Submit to contracts; approves at once unless a discount is above its threshold."""
        self._require_status("submit", OrderStatus.DRAFT)
        self._validate_lines()
        currency = self.lines[0].currency
        self.status = OrderStatus.SUBMITTED
        self.approval_required = any(line.needs_approval for line in self.lines)
        self.events.append(
            OrderSubmitted(
                self.id,
                self.account_id,
                self.customer_id,
                self.kind,
                currency,
                self.approval_required,
                by,
            )
        )
        if not self.approval_required:
            self._approve(AUTOMATIC_APPROVER, automatic=True)

    def approve(self, *, by_role: str, by: str) -> None:
        """Finance (or an admin) approves an order that waits for a discount approval."""
        if by_role not in APPROVER_ROLES:
            raise Forbidden(f"Only {' or '.join(sorted(APPROVER_ROLES))} may approve orders")
        self._require_status("approve", OrderStatus.SUBMITTED)
        self._approve(by, automatic=False)

    def cancel(self, *, by: str, reason: str | None = None) -> None:
        """Withdraw a draft or submitted order."""
        self._require_status("cancel", OrderStatus.DRAFT, OrderStatus.SUBMITTED)
        self.status = OrderStatus.CANCELLED
        self.events.append(OrderCancelled(self.id, self.account_id, reason, by))

    def mark_fulfilled(self, *, by: str) -> None:
        """Record that everything on an approved order has been provisioned."""
        self._require_status("fulfil", OrderStatus.APPROVED)
        self.status = OrderStatus.FULFILLED
        self.events.append(OrderFulfilled(self.id, self.account_id, by))

    def _approve(self, by: str, *, automatic: bool) -> None:
        self.status = OrderStatus.APPROVED
        self.approved_by = by
        currency = self.lines[0].currency
        self.events.append(
            OrderApproved(
                self.id,
                self.account_id,
                self.customer_id,
                self.kind,
                currency,
                tuple(self.lines),
                by,
                automatic,
            )
        )

    def _require_status(self, action: str, *allowed: OrderStatus) -> None:
        if self.status not in allowed:
            raise Conflict(f"Cannot {action} an order that is {self.status.value}")

    def _validate_lines(self) -> None:
        errors = FieldErrors()
        if not self.lines:
            errors.add("lines", "an order needs at least one line", "required")
        currency = self.lines[0].currency if self.lines else None
        for index, line in enumerate(self.lines):
            prefix = f"lines.{index}"
            if line.quantity <= 0:
                errors.add(f"{prefix}.quantity", "must be positive")
            if line.unit_list_price < 0:
                errors.add(f"{prefix}.unit_list_price", "must not be negative")
            if line.currency != currency:
                errors.add(
                    f"{prefix}.currency",
                    f"all lines must be in {currency}; currencies never mix on one order",
                    "currency_mismatch",
                )
            if line.term_months is not None and line.term_months <= 0:
                errors.add(f"{prefix}.term_months", "must be positive")
            for d_index, discount in enumerate(line.discounts):
                _collect_discount_errors(discount, f"{prefix}.discounts.{d_index}", errors)
            self._collect_kind_errors(line, prefix, errors)
        errors.raise_if_any("The order cannot be submitted")

    def _collect_kind_errors(self, line: OrderLine, prefix: str, errors: FieldErrors) -> None:
        if self.kind is OrderKind.AMENDMENT:
            if not line.subscription_id:
                errors.add(f"{prefix}.subscription_id", "an amendment names its subscription")
            if line.effective_date is None:
                errors.add(f"{prefix}.effective_date", "an amendment needs an effective date")
        elif line.subscription_id is not None:
            errors.add(
                f"{prefix}.subscription_id",
                "only amendment orders change existing subscriptions",
            )
        collect_term_errors(
            kind=self.kind,
            quantity=line.quantity,
            commitment_quantity=line.commitment_quantity,
            has_renewal=line.renewal is not None,
            has_termination_fee=line.termination_fee_price_id is not None,
            prefix=prefix,
            errors=errors,
        )


def collect_term_errors(
    *,
    kind: OrderKind,
    quantity: Decimal,
    commitment_quantity: Decimal | None,
    has_renewal: bool,
    has_termination_fee: bool,
    prefix: str,
    errors: FieldErrors,
) -> None:
    """A line's renewal, commitment and fee: new lines only, the commitment within the quantity."""
    if kind is OrderKind.AMENDMENT:
        given = {
            "renewal": has_renewal,
            "commitment_quantity": commitment_quantity is not None,
            "termination_fee_price_id": has_termination_fee,
        }
        for name, sent in given.items():
            if sent:
                errors.add(f"{prefix}.{name}", "only new lines set the terms of a subscription")
        return
    if commitment_quantity is None:
        return
    if commitment_quantity < 0:
        errors.add(f"{prefix}.commitment_quantity", "must not be negative")
    elif commitment_quantity > quantity:
        errors.add(
            f"{prefix}.commitment_quantity",
            f"must not exceed the line's quantity {quantity}",
            "above_quantity",
        )


def _collect_discount_errors(discount: LineDiscount, prefix: str, errors: FieldErrors) -> None:
    if (discount.percent is None) == (discount.amount is None):
        errors.add(prefix, "a discount is either a percent or an amount")
    if discount.percent is not None and not 0 < discount.percent <= HUNDRED:
        errors.add(f"{prefix}.percent", "must be above 0 and at most 100")
    if discount.amount is not None and discount.amount <= 0:
        errors.add(f"{prefix}.amount", "must be positive")
    threshold = discount.approval_threshold_percent
    if threshold is not None and not 0 <= threshold <= HUNDRED:
        errors.add(f"{prefix}.approval_threshold_percent", "must be between 0 and 100")


def makes_subscription(charge_type: ChargeType | None) -> bool:
    """Whether a line of this charge type becomes a subscription when its order is approved."""
    return charge_type in SUBSCRIPTION_CHARGE_TYPES


def line_term_months(chosen: int | None, template: WorkflowTemplate) -> int:
    """A line's term: the one chosen on the order, else its product template's, else the default."""
    if chosen is not None:
        return chosen
    return template.term_months or DEFAULT_TERM_MONTHS


def term_end(start: date, term_months: int | None) -> date:
    """The end of a term starting on `start` (the default term when the line names none)."""
    return add_months(start, term_months or DEFAULT_TERM_MONTHS)


def line_license_type(
    *,
    chosen: LicenseType | None,
    product_license_type: LicenseType | None,
    charge_type: ChargeType | None,
) -> LicenseType:
    """A line's license type: the one chosen on the order, else the product's, else by its charge."""
    if chosen is not None:
        return chosen
    if product_license_type in {t.value for t in LicenseType}:
        return LicenseType(product_license_type)
    return LicenseType.SUBSCRIPTION if charge_type in {ChargeType.RECURRING, None} else LicenseType.NONE
