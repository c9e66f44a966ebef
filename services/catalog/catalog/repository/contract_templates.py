"""Support-contract templates in SQL: `contract_templates` rows <-> `ContractTemplate`."""

from __future__ import annotations

from typing import Any

from catalog.domain.contract_templates import ContractKind, ContractTemplate, ExpiryOption
from catalog.handlers.unit_of_work import ContractTemplateRepository
from catalog.models import ContractTemplate as ContractTemplateRow
from catalog.repository.common import SqlRepository
from libs.platform.pagination import Page, PageRequest


class SqlContractTemplateRepository(SqlRepository[ContractTemplate], ContractTemplateRepository):
    """Templates over the `contract_templates` table."""

    model = ContractTemplateRow

    def to_domain(self, row: ContractTemplateRow) -> ContractTemplate:
        """The template of a row."""
        return ContractTemplate(
            id=row.id,
            name=row.name,
            kind=ContractKind(row.kind),
            period_months=row.period_months,
            hours=row.hours,
            on_expiry=ExpiryOption(row.on_expiry),
            product_id=row.product_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def to_row(self, template: ContractTemplate) -> dict[str, Any]:
        """The columns of a template."""
        return {
            "id": template.id,
            "name": template.name,
            "kind": template.kind.value,
            "period_months": template.period_months,
            "hours": template.hours,
            "on_expiry": template.on_expiry.value,
            "product_id": template.product_id,
            "created_at": template.created_at,
            "updated_at": template.updated_at,
        }

    async def page(self, page: PageRequest) -> Page[ContractTemplate]:
        """A page of templates ordered by id."""
        return await self._page(page)
