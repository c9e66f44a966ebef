"""Quotes in SQL: `quotes` rows (lines and approval reasons as JSON text) <-> `Quote`."""

from __future__ import annotations

import json
from typing import Any

from catalog.domain.quotes import Quote
from catalog.handlers.unit_of_work import QuoteRepository
from catalog.models import Quote as QuoteRow
from catalog.repository.common import SqlRepository
from libs.platform.pagination import Page, PageRequest


class SqlQuoteRepository(SqlRepository[Quote], QuoteRepository):
    """Quotes over the `quotes` table."""

    model = QuoteRow

    def to_domain(self, row: QuoteRow) -> Quote:
        """The quote of a row."""
        return Quote(
            id=row.id,
            currency=row.currency,
            as_of=row.as_of,
            subtotal=row.subtotal,
            discount_total=row.discount_total,
            total=row.total,
            needs_approval=row.needs_approval,
            approval_reasons=tuple(json.loads(row.approval_reasons)),
            lines=tuple(json.loads(row.lines)),
            created_at=row.created_at,
            created_by=row.created_by,
        )

    def to_row(self, quote: Quote) -> dict[str, Any]:
        """The columns of a quote."""
        return {
            "id": quote.id,
            "currency": quote.currency,
            "as_of": quote.as_of,
            "subtotal": quote.subtotal,
            "discount_total": quote.discount_total,
            "total": quote.total,
            "needs_approval": quote.needs_approval,
            "approval_reasons": json.dumps(list(quote.approval_reasons)),
            "lines": json.dumps(list(quote.lines)),
            "created_at": quote.created_at,
            "created_by": quote.created_by,
        }

    async def page(self, page: PageRequest) -> Page[Quote]:
        """A page of quotes ordered by id."""
        return await self._page(page)
