"""Use cases of dunning policies: create, revise (until a case uses one), delete, read, make one the
default, and give an account its own. Every change is audited and publishes `dunning_policy.changed`
(the change and the policy as it stands) in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from invoicing.domain.dunning import DunningPolicy, DunningStep
from invoicing.events.dunning import policy_changed
from libs.platform.errors import Conflict, NotFound
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork


@dataclass(frozen=True)
class AccountPolicy:
    """The policy collections applies to an account, and where it comes from."""

    account_id: str
    policy: DunningPolicy | None
    source: Literal["account", "default", "none"]


async def create_policy(
    *,
    uow: InvoicingUnitOfWork,
    name: str,
    steps: Sequence[DunningStep],
    description: str | None = None,
    is_default: bool = False,
) -> DunningPolicy:
    """A new policy (422 when its steps are not valid), the default one if asked."""
    now = uow.clock.now()
    policy = DunningPolicy.create(
        id=new_id("dpol"), name=name, description=description, steps=steps, created_at=now, updated_at=now
    )
    await uow.dunning_policies.add(policy)
    if is_default:
        await uow.dunning_policies.make_default(policy)
    uow.emit_outgoing(policy_changed("created", policy, now))
    uow.audit("dunning_policy.created", "dunning_policy", policy.id, {"name": name, "default": is_default})
    await uow.commit()
    return policy


async def revise_policy(
    *,
    uow: InvoicingUnitOfWork,
    policy_id: str,
    name: str,
    steps: Sequence[DunningStep],
    description: str | None = None,
) -> DunningPolicy:
    """Replace a policy's name, description and steps: 404 unknown, 409 used by a case, 422 invalid."""
    policy = await uow.dunning_policies.get(policy_id)
    policy.revise(name=name, description=description, steps=steps, at=uow.clock.now())
    await uow.dunning_policies.save(policy)
    uow.emit_outgoing(policy_changed("revised", policy, uow.clock.now()))
    uow.audit(
        "dunning_policy.revised", "dunning_policy", policy.id, {"name": name, "steps": len(policy.steps)}
    )
    await uow.commit()
    return policy


async def delete_policy(*, uow: InvoicingUnitOfWork, policy_id: str) -> None:
    """Delete a policy no case has used, that is neither the default nor an account's own (409)."""
    policy = await uow.dunning_policies.get(policy_id)
    policy.require_unused("deleted")
    if policy.is_default:
        raise Conflict(f"dunning policy {policy.id} is the default; make another the default first")
    if await uow.dunning_policies.is_assigned(policy.id):
        raise Conflict(f"dunning policy {policy.id} is assigned to accounts; assign them another first")
    await uow.dunning_policies.delete(policy)
    uow.emit_outgoing(policy_changed("deleted", policy, uow.clock.now()))
    uow.audit("dunning_policy.deleted", "dunning_policy", policy.id, {"name": policy.name})
    await uow.commit()


async def make_default(*, uow: InvoicingUnitOfWork, policy_id: str) -> DunningPolicy:
    """Make a policy the default: accounts without one of their own are collected by it (404 unknown)."""
    policy = await uow.dunning_policies.get(policy_id)
    if not policy.is_default:
        await uow.dunning_policies.make_default(policy)
        uow.emit_outgoing(policy_changed("made_default", policy, uow.clock.now()))
        uow.audit("dunning_policy.made_default", "dunning_policy", policy.id, {})
        await uow.commit()
    return policy


async def get_policy(*, uow: InvoicingUnitOfWork, policy_id: str) -> DunningPolicy:
    """One policy (404 when unknown)."""
    return await uow.dunning_policies.get(policy_id)


async def list_policies(*, uow: InvoicingUnitOfWork, page: PageRequest) -> Page[DunningPolicy]:
    """A page of policies in creation order."""
    return await uow.dunning_policies.page(page)


async def assign_policy(*, uow: InvoicingUnitOfWork, account_id: str, policy_id: str) -> AccountPolicy:
    """Give an account its own policy (404 unknown account or policy); an open case keeps its policy."""
    await _require_account(uow, account_id)
    policy = await uow.dunning_policies.get(policy_id)
    await uow.dunning_policies.assign(account_id, policy.id, at=uow.clock.now())
    uow.emit_outgoing(policy_changed("assigned", policy, uow.clock.now(), account_id=account_id))
    uow.audit("dunning_policy.assigned", "account", account_id, {"policy_id": policy.id})
    await uow.commit()
    return AccountPolicy(account_id, policy, "account")


async def unassign_policy(*, uow: InvoicingUnitOfWork, account_id: str) -> AccountPolicy:
    """Take an account's own policy away: the default applies again (404 unknown account)."""
    await _require_account(uow, account_id)
    if await uow.dunning_policies.unassign(account_id):
        uow.emit_outgoing(policy_changed("unassigned", None, uow.clock.now(), account_id=account_id))
        uow.audit("dunning_policy.unassigned", "account", account_id, {})
        await uow.commit()
    return await account_policy(uow=uow, account_id=account_id)


async def account_policy(*, uow: InvoicingUnitOfWork, account_id: str) -> AccountPolicy:
    """The policy an account is collected by: its own, else the default, else none (404 unknown account)."""
    await _require_account(uow, account_id)
    own = (await uow.dunning_policies.assigned([account_id])).get(account_id)
    if own is not None:
        return AccountPolicy(account_id, await uow.dunning_policies.get(own), "account")
    default = await uow.dunning_policies.default()
    return AccountPolicy(account_id, default, "default" if default is not None else "none")


async def _require_account(uow: InvoicingUnitOfWork, account_id: str) -> None:
    if await uow.billing_inputs.find_account(account_id) is None:
        raise NotFound("account", account_id)
