"""The port of vendor commitments and vendor invoices (SQL: `overage.repository.vendor_payables`)."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import date

from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest
from overage.domain.margins import BilledAmount
from overage.domain.vendor_commitments import ExpectedVendorInvoice, VendorCommitment
from overage.domain.vendor_invoices import VendorInvoice, VendorInvoiceMatch, VendorInvoiceState


@dataclass(frozen=True)
class CommitmentFilters:
    """What a list of commitments is narrowed to (None = any)."""

    account_id: str | None = None
    vendor_id: str | None = None
    subscription_id: str | None = None


@dataclass(frozen=True)
class VendorInvoiceFilters:
    """What a list of vendor invoices is narrowed to (None = any)."""

    account_id: str | None = None
    vendor_id: str | None = None
    state: VendorInvoiceState | None = None
    match: VendorInvoiceMatch | None = None


class CommitmentTaken(Exception):
    """The subscription has a commitment already (raised by `add`; the transaction stays usable)."""


class VendorCommitmentRepository(abc.ABC):
    """Vendor commitments with their expected annual invoices."""

    @abc.abstractmethod
    async def find(self, commitment_id: str) -> VendorCommitment | None:
        """One commitment with its expected invoices, if it exists."""

    @abc.abstractmethod
    async def of_subscription(self, subscription_id: str) -> VendorCommitment | None:
        """The commitment of a subscription, if any."""

    @abc.abstractmethod
    async def add(self, commitment: VendorCommitment) -> None:
        """Store a commitment and its expected invoices; `CommitmentTaken` when the subscription has one."""

    @abc.abstractmethod
    async def save_seats(self, commitment: VendorCommitment, changed: list[ExpectedVendorInvoice]) -> None:
        """Write a commitment's new seats and cost, and the expected invoices repriced for them."""

    @abc.abstractmethod
    async def page(self, filters: CommitmentFilters, page: PageRequest) -> Page[VendorCommitment]:
        """A page of commitments in creation order."""

    @abc.abstractmethod
    async def unmatched_expected(
        self, *, vendor_id: str, period_start: date, subscription_id: str | None, account_id: str
    ) -> list[ExpectedVendorInvoice]:
        """Expected invoices of a vendor for a period start, of the subscription (or else the
        account), that no received invoice matched yet."""

    async def get(self, commitment_id: str) -> VendorCommitment:
        """One commitment, or NotFound (404)."""
        commitment = await self.find(commitment_id)
        if commitment is None:
            raise NotFound("vendor commitment", commitment_id)
        return commitment


class VendorInvoiceRepository(abc.ABC):
    """Received vendor invoices."""

    @abc.abstractmethod
    async def find(self, vendor_invoice_id: str) -> VendorInvoice | None:
        """One vendor invoice, if it exists."""

    @abc.abstractmethod
    async def add(self, invoice: VendorInvoice) -> None:
        """Store a new one; the vendor's number taken already (or its expected invoice matched
        meanwhile) is a `VendorInvoiceConflict` (409) and changes nothing."""

    @abc.abstractmethod
    async def save(self, invoice: VendorInvoice) -> None:
        """Write a changed one; a concurrent change is a 409."""

    @abc.abstractmethod
    async def page(self, filters: VendorInvoiceFilters, page: PageRequest) -> Page[VendorInvoice]:
        """A page in creation order."""

    @abc.abstractmethod
    async def matching(self, expected_ids: list[str]) -> dict[str, VendorInvoice]:
        """The received invoice that matched each of these expected invoices (those that have one)."""

    @abc.abstractmethod
    async def billed_amounts(self, start: date, end: date, account_id: str | None) -> list[BilledAmount]:
        """What vendors billed for periods starting in [start, end), per account, currency and start."""

    async def get(self, vendor_invoice_id: str) -> VendorInvoice:
        """One vendor invoice, or NotFound (404)."""
        invoice = await self.find(vendor_invoice_id)
        if invoice is None:
            raise NotFound("vendor invoice", vendor_invoice_id)
        return invoice
