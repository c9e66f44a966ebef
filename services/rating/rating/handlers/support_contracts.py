"""Use cases of support contracts: keep the catalog's templates, open a contract for a holder, read,
list and cancel contracts. Also the port of their repository (`SupportContractRepository`).

Dates of a contract are its holder's local dates; "now" is the unit of work's clock.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from libs.contracts.catalog import ContractTemplateChanged
from libs.contracts.vocabulary import ContractKind, ExpiryOption
from libs.platform.errors import NotFound, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest
from rating.domain.subscriptions import Account
from rating.domain.support_contracts import (
    AccountHolder,
    ContractState,
    HolderType,
    SubscriptionHolder,
    SupportContract,
    SupportContractTemplate,
    contract_terms,
)
from rating.events.support_requests import outgoing_of
from rating.schemas.support_contracts import (
    SupportContractCreate,
    SupportContractPublic,
    support_contract_public,
)

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork


@dataclass(frozen=True)
class SupportContractFilters:
    """What a list of contracts is narrowed to (None = any)."""

    holder_type: HolderType | None = None
    holder_id: str | None = None
    state: ContractState | None = None


class SupportContractRepository(abc.ABC):
    """Templates, contracts, and the holders they belong to (the read model of accounts and subscriptions)."""

    @abc.abstractmethod
    async def template(self, template_id: str) -> SupportContractTemplate | None:
        """The local copy of a catalog template, if any."""

    @abc.abstractmethod
    async def per_incident_templates(self) -> list[SupportContractTemplate]:
        """Every per-incident template, by id."""

    @abc.abstractmethod
    async def save_template(self, template: SupportContractTemplate) -> None:
        """Insert or replace a template."""

    @abc.abstractmethod
    async def find(self, contract_id: str) -> SupportContract | None:
        """One contract, if it exists."""

    @abc.abstractmethod
    async def held_by(self, subscription_id: str, account_ids: Iterable[str]) -> list[SupportContract]:
        """Contracts held by the subscription or any of the accounts, not cancelled, not per-incident
        (one query): the candidates of the validation order."""

    @abc.abstractmethod
    async def time_zones(self, filters: SupportContractFilters) -> list[str]:
        """The distinct time zones of the contracts matching the holder filters."""

    @abc.abstractmethod
    async def page(
        self, filters: SupportContractFilters, page: PageRequest, *, today: dict[str, date]
    ) -> Page[SupportContract]:
        """A page of contracts ordered by id; a state filter reads each contract on `today[its zone]`."""

    @abc.abstractmethod
    async def save(self, contract: SupportContract) -> None:
        """Insert a new contract or write a changed one (a concurrent change to it is a 409)."""

    async def get(self, contract_id: str) -> SupportContract:
        """One contract, or NotFound (404)."""
        contract = await self.find(contract_id)
        if contract is None:
            raise NotFound("support contract", contract_id)
        return contract


async def apply_contract_template(
    *, uow: RatingUnitOfWork, template: ContractTemplateChanged, occurred_at: datetime
) -> bool:
    """Keep the catalog's template as of its event; an older event changes nothing. True if applied."""
    try:
        kind, on_expiry = ContractKind(template.kind), ExpiryOption(template.on_expiry)
    except ValueError as exc:
        raise ValidationFailed.single("kind", f"unknown contract kind or expiry option: {exc}") from None
    stored = await uow.support_contracts.template(template.template_id)
    if stored is not None and not stored.is_superseded_by(occurred_at):
        return False
    await uow.support_contracts.save_template(
        SupportContractTemplate(
            id=template.template_id,
            name=template.name,
            kind=kind,
            period_months=template.period_months,
            hours=template.hours,
            on_expiry=on_expiry,
            product_id=template.product_id,
            event_at=occurred_at,
        )
    )
    await uow.commit()
    return True


async def open_support_contract(
    *, uow: RatingUnitOfWork, command: SupportContractCreate
) -> SupportContractPublic:
    """Sell a contract from a template to a subscription or an account, starting on `starts_on`."""
    now = uow.clock.now()
    template = await uow.support_contracts.template(command.template_id)
    if template is None:
        raise NotFound("contract template", command.template_id)
    terms = contract_terms(template, period_months=command.period_months, hours=command.hours)
    account_id, time_zone = await _holder_account(uow, command.holder_type, command.holder_id)
    contract = SupportContract.open(
        id=new_id("sct"),
        template=template,
        terms=terms,
        holder_type=command.holder_type,
        holder_id=command.holder_id,
        account_id=account_id,
        time_zone=time_zone,
        starts_on=command.starts_on,
        now=now,
    )
    await uow.support_contracts.save(contract)
    public = support_contract_public(contract, now=now)
    await commit_support(
        uow,
        "support_contract.opened",
        "support_contract",
        contract.id,
        public.model_dump(mode="json"),
        contract,
    )
    return public


async def get_support_contract(*, uow: RatingUnitOfWork, contract_id: str) -> SupportContractPublic:
    """One contract with its hours and its state now."""
    contract = await uow.support_contracts.get(contract_id)
    return support_contract_public(contract, now=uow.clock.now())


async def list_support_contracts(
    *, uow: RatingUnitOfWork, filters: SupportContractFilters, page: PageRequest
) -> Page[SupportContractPublic]:
    """A page of contracts, by holder and state (each read on its holder's local date today)."""
    now = uow.clock.now()
    today: dict[str, date] = {}
    if filters.state is not None and filters.state is not ContractState.CANCELLED:
        today = {zone: uow.business_date(zone) for zone in await uow.support_contracts.time_zones(filters)}
    found = await uow.support_contracts.page(filters, page, today=today)
    return Page[SupportContractPublic](
        data=[support_contract_public(c, now=now) for c in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


async def cancel_support_contract(*, uow: RatingUnitOfWork, contract_id: str) -> SupportContractPublic:
    """Cancel a contract: it covers no new request nor time from now on."""
    now = uow.clock.now()
    contract = await uow.support_contracts.get(contract_id)
    contract.cancel(now=now)
    await uow.support_contracts.save(contract)
    public = support_contract_public(contract, now=now)
    await commit_support(
        uow,
        "support_contract.cancelled",
        "support_contract",
        contract.id,
        {"cancelled_at": now.isoformat()},
        contract,
    )
    return public


async def subscription_holder(uow: RatingUnitOfWork, subscription_id: str) -> SubscriptionHolder | None:
    """A subscription with its account as contracts see them, from the read model (None: unknown)."""
    pair = await uow.subscriptions.subscription_and_account(subscription_id)
    if pair is None:
        return None
    subscription, account = pair
    return SubscriptionHolder(
        subscription.subscription_id,
        subscription.account_id,
        subscription.currency,
        None if account is None else _account_holder(account),
    )


async def account_holder(uow: RatingUnitOfWork, account_id: str) -> AccountHolder | None:
    """An account as contracts see it, from the read model (None: unknown)."""
    account = await uow.subscriptions.account(account_id)
    return None if account is None else _account_holder(account)


def _account_holder(account: Account) -> AccountHolder:
    return AccountHolder(account.account_id, account.parent_account_id, account.time_zone)


async def _holder_account(uow: RatingUnitOfWork, holder_type: HolderType, holder_id: str) -> tuple[str, str]:
    # The account a contract belongs to and the zone its dates are read in.
    if holder_type is HolderType.SUBSCRIPTION:
        subscription = await subscription_holder(uow, holder_id)
        if subscription is None:
            raise NotFound("subscription", holder_id)
        return subscription.account_id, subscription.time_zone
    account = await account_holder(uow, holder_id)
    if account is None:
        raise NotFound("account", holder_id)
    return account.account_id, account.time_zone


async def commit_support(
    uow: RatingUnitOfWork,
    action: str,
    entity_type: str,
    entity_id: str,
    changes: dict[str, Any],
    *aggregates: Any,
) -> None:
    """Audit one change, put the events the aggregates recorded in the outbox (in order), commit."""
    for aggregate in aggregates:
        for event in aggregate.events:
            payload, key = outgoing_of(event)
            uow.emit(payload, key=key)
        aggregate.events.clear()
    uow.audit(action, entity_type, entity_id, changes)
    await uow.commit()
