"""Use cases of vendor commitments: commit a resold subscription (from its activation, or when the
catalog data it needs arrives later), enter one by hand, read and list them.

Idempotent per subscription: whoever comes second — a redelivered activation, finance entering the
same subscription, two requests at once — gets the commitment that exists
(`uq_vendor_commitments_subscription` settles a race).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from libs.platform.errors import ValidationFailed
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest
from overage.domain.resold_subscriptions import (
    ResaleTerms,
    ResoldSubscription,
    cost_book_in_force,
    resale_terms,
)
from overage.domain.vendor_commitments import (
    CommitmentRequest,
    CommitmentSource,
    ManualCommitment,
    VendorCommitment,
)
from overage.domain.vendor_invoices import VendorInvoice
from overage.handlers.vendor_payables_port import CommitmentFilters, CommitmentTaken

if TYPE_CHECKING:
    from overage.handlers.unit_of_work import OverageUnitOfWork

ACTIVE_STATES = frozenset({"active"})


@dataclass(frozen=True)
class CommitmentView:
    """A commitment with the received invoice that matched each expected one (if any)."""

    commitment: VendorCommitment
    received: dict[str, VendorInvoice]


async def terms_of(uow: OverageUnitOfWork, subscription: ResoldSubscription) -> ResaleTerms | None:
    """The vendor and cost book of a subscription, or None (not resold, or not known yet)."""
    product = await uow.resale.product(subscription.product_id)
    price = await uow.resale.price(subscription.price_id, subscription.price_version)
    books_by_id = []
    if price is not None and price.cost_book_id:
        books_by_id = await uow.resale.cost_book_versions(price.cost_book_id)
    books_by_vendor = []
    if product is not None and product.vendor_id:
        books_by_vendor = await uow.resale.vendor_cost_books(product.vendor_id)
    return resale_terms(
        subscription=subscription,
        product=product,
        price=price,
        books_by_id=books_by_id,
        books_by_vendor=books_by_vendor,
    )


async def commit_subscriptions(
    uow: OverageUnitOfWork, subscriptions: Sequence[ResoldSubscription]
) -> list[VendorCommitment]:
    """Commit each active resold subscription that has no commitment yet (the consumer's call;
    the caller commits). A subscription whose catalog data is not known yet waits for it."""
    made: list[VendorCommitment] = []
    for subscription in subscriptions:
        if subscription.state not in ACTIVE_STATES:
            continue
        if await uow.vendor_commitments.of_subscription(subscription.subscription_id) is not None:
            continue
        terms = await terms_of(uow, subscription)
        if terms is None:
            continue
        request = CommitmentRequest(
            vendor_id=terms.vendor_id,
            account_id=subscription.account_id,
            subscription_id=subscription.subscription_id,
            product_id=subscription.product_id,
            seats=subscription.committed_seats,
            term_start=subscription.term_start,
            term_end=subscription.term_end,
            source=CommitmentSource.SUBSCRIPTION,
        )
        commitment = VendorCommitment.commit(
            id=new_id("vcom"), request=request, cost_book=terms.cost_book, at=uow.clock.now()
        )
        try:
            await uow.vendor_commitments.add(commitment)
        except CommitmentTaken:
            continue
        _audit(uow, commitment)
        made.append(commitment)
    return made


async def follow_seat_change(
    uow: OverageUnitOfWork, subscription: ResoldSubscription, effective: date
) -> None:
    """A raise of a committed subscription's seats (a keep's amendment, `subscription.changed`)
    reprices the commitment's years not begun nor received by `effective` (the caller commits)."""
    commitment = await uow.vendor_commitments.of_subscription(subscription.subscription_id)
    if commitment is None:
        return
    seats = max(subscription.quantity, subscription.committed_seats)
    if seats <= commitment.seats:
        return
    versions = await uow.resale.cost_book_versions(commitment.cost_book_id)
    book = next((v for v in versions if v.version == commitment.cost_book_version), None)
    if book is None:
        return
    received = await uow.vendor_invoices.matching([e.id for e in commitment.expected_invoices])
    previous = commitment.seats
    changed = commitment.raise_seats(
        seats=seats, effective=effective, cost_book=book, received_ids=set(received)
    )
    await uow.vendor_commitments.save_seats(commitment, changed)
    uow.audit(
        "vendor_commitment.seats_raised",
        "vendor_commitment",
        commitment.id,
        {
            "subscription_id": commitment.subscription_id,
            "previous_seats": str(previous),
            "seats": str(seats),
            "effective_date": effective.isoformat(),
            "repriced": [
                {"period_start": e.period_start.isoformat(), "amount": str(e.amount)} for e in changed
            ],
        },
    )


async def enter_commitment(
    *, uow: OverageUnitOfWork, entry: ManualCommitment
) -> tuple[VendorCommitment, bool]:
    """Enter a commitment by hand (True when made now; the existing one when the subscription has one).

    The cost book is the catalog's (422 when unknown, or when none of its versions is in force on
    the term's start, or when it is another vendor's)."""
    existing = await uow.vendor_commitments.of_subscription(entry.subscription_id)
    if existing is not None:
        return existing, False
    versions = await uow.resale.cost_book_versions(entry.cost_book_id)
    if not versions:
        raise ValidationFailed.single(
            "cost_book_id", f"no cost book {entry.cost_book_id!r} is known from the catalog"
        )
    book = cost_book_in_force(versions, entry.term_start)
    if book is None:
        raise ValidationFailed.single(
            "cost_book_id", f"cost book {entry.cost_book_id!r} has no version in force on {entry.term_start}"
        )
    if book.vendor_id != entry.vendor_id:
        raise ValidationFailed.single(
            "vendor_id",
            f"cost book {entry.cost_book_id!r} is vendor {book.vendor_id!r}'s, not {entry.vendor_id!r}'s",
        )
    request = CommitmentRequest(
        vendor_id=entry.vendor_id,
        account_id=entry.account_id,
        subscription_id=entry.subscription_id,
        product_id=entry.product_id,
        seats=entry.seats,
        term_start=entry.term_start,
        term_end=entry.term_end,
        source=CommitmentSource.FINANCE,
    )
    commitment = VendorCommitment.commit(
        id=new_id("vcom"), request=request, cost_book=book, at=uow.clock.now()
    )
    try:
        await uow.vendor_commitments.add(commitment)
    except CommitmentTaken:
        taken = await uow.vendor_commitments.of_subscription(entry.subscription_id)
        assert taken is not None
        return taken, False
    _audit(uow, commitment)
    await uow.commit()
    return commitment, True


async def get_commitment(*, uow: OverageUnitOfWork, commitment_id: str) -> CommitmentView:
    """One commitment with what matched its expected invoices (404 when unknown)."""
    commitment = await uow.vendor_commitments.get(commitment_id)
    return await _view(uow, commitment)


async def list_commitments(
    *, uow: OverageUnitOfWork, filters: CommitmentFilters, page: PageRequest
) -> Page[CommitmentView]:
    """A page of commitments in creation order."""
    found = await uow.vendor_commitments.page(filters, page)
    # One look-up for the whole page's expected invoices.
    received = await uow.vendor_invoices.matching([e.id for c in found.data for e in c.expected_invoices])
    return Page[CommitmentView](
        data=[CommitmentView(c, received) for c in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


async def _view(uow: OverageUnitOfWork, commitment: VendorCommitment) -> CommitmentView:
    received = await uow.vendor_invoices.matching([e.id for e in commitment.expected_invoices])
    return CommitmentView(commitment, received)


def _audit(uow: OverageUnitOfWork, commitment: VendorCommitment) -> None:
    uow.audit(
        "vendor_commitment.created",
        "vendor_commitment",
        commitment.id,
        {
            "subscription_id": commitment.subscription_id,
            "vendor_id": commitment.vendor_id,
            "seats": str(commitment.seats),
            "cost_book": f"{commitment.cost_book_id} v{commitment.cost_book_version}",
            "expected_invoices": [
                {"period_start": e.period_start.isoformat(), "amount": str(e.amount)}
                for e in commitment.expected_invoices
            ],
            "source": commitment.source.value,
        },
    )
