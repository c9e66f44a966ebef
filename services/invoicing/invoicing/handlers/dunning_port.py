"""The port of dunning policies and their assignment (SQL: `invoicing.repository.dunning`)."""

from __future__ import annotations

import abc
from collections.abc import Collection
from datetime import datetime

from invoicing.domain.dunning import DunningPolicy
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest


class DunningPolicyRepository(abc.ABC):
    """Dunning policies, the default one, and accounts' own."""

    @abc.abstractmethod
    async def find(self, policy_id: str) -> DunningPolicy | None:
        """One policy, if it exists."""

    @abc.abstractmethod
    async def add(self, policy: DunningPolicy) -> None:
        """Store a new policy."""

    @abc.abstractmethod
    async def save(self, policy: DunningPolicy) -> None:
        """Write a changed policy; a concurrent change is a 409."""

    @abc.abstractmethod
    async def delete(self, policy: DunningPolicy) -> None:
        """Remove a policy (the caller checked it is neither used nor assigned)."""

    @abc.abstractmethod
    async def page(self, page: PageRequest) -> Page[DunningPolicy]:
        """A page of policies by id."""

    @abc.abstractmethod
    async def default(self) -> DunningPolicy | None:
        """The default policy, if one is set."""

    @abc.abstractmethod
    async def make_default(self, policy: DunningPolicy) -> None:
        """Make `policy` the one default (the previous default no longer is)."""

    @abc.abstractmethod
    async def assigned(self, account_ids: Collection[str]) -> dict[str, str]:
        """The policy id each of these accounts has of its own."""

    @abc.abstractmethod
    async def assign(self, account_id: str, policy_id: str, *, at: datetime) -> None:
        """Give the account its own policy (replacing any)."""

    @abc.abstractmethod
    async def unassign(self, account_id: str) -> bool:
        """Take the account's own policy away; False when it had none."""

    @abc.abstractmethod
    async def is_assigned(self, policy_id: str) -> bool:
        """True when some account has this policy of its own."""

    @abc.abstractmethod
    async def mark_in_use(self, policy_id: str) -> None:
        """Remember that a case took a step of the policy: it never changes again."""

    async def get(self, policy_id: str) -> DunningPolicy:
        """One policy, or NotFound (404)."""
        policy = await self.find(policy_id)
        if policy is None:
            raise NotFound("dunning policy", policy_id)
        return policy
