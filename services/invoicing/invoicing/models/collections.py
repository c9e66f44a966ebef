"""Dunning policies, their assignment to accounts, collections cases and the steps they took.

What the database itself guarantees (whatever the collections run does — repeated, run for an
earlier date, two runs at once):

- `uq_collections_case_steps_case_step`: a step of a policy is taken at most once per case; the
  run inserts the step in a savepoint and a second insert changes nothing.
- `uq_collections_cases_open`: one open case per account and currency.
- `uq_dunning_policies_default`: at most one default policy.

A policy's steps are stored as JSON text (the policy is data, read whole); a policy some case
has taken a step of is `in_use` and never changes again (a new policy replaces it).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from libs.platform.db import ExactDecimal, UtcDateTime

_DEFAULT = text("is_default")
_OPEN = text("state = 'open'")


class DunningPolicyRow(SQLModel, table=True):
    """A dunning policy: ordered steps (JSON), whether it is the default, whether a case used it."""

    __tablename__ = "dunning_policies"
    __table_args__ = (
        Index(
            "uq_dunning_policies_default",
            "is_default",
            unique=True,
            sqlite_where=_DEFAULT,
            postgresql_where=_DEFAULT,
        ),
    )

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    steps: str = Field(sa_column=Column(Text, nullable=False))
    is_default: bool = Field(sa_column=Column(Boolean, nullable=False))
    in_use: bool = Field(sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))


class DunningAssignmentRow(SQLModel, table=True):
    """An account's own policy, overriding the default."""

    __tablename__ = "dunning_policy_assignments"
    __table_args__ = (Index("ix_dunning_policy_assignments_policy", "policy_id"),)

    account_id: str = Field(primary_key=True, max_length=64)
    policy_id: str = Field(sa_column=Column(String(40), ForeignKey("dunning_policies.id"), nullable=False))
    assigned_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class CollectionsCaseRow(SQLModel, table=True):
    """An account's past-due balance in one currency being collected, from opening to closing."""

    __tablename__ = "collections_cases"
    __table_args__ = (
        Index(
            "uq_collections_cases_open",
            "account_id",
            "currency",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index("ix_collections_cases_state", "state", "account_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    policy_id: str = Field(max_length=40)
    state: str = Field(max_length=16)
    opened_on: date = Field(sa_column=Column(Date, nullable=False))
    last_run_on: date = Field(sa_column=Column(Date, nullable=False))
    opened_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    opened_by: str = Field(max_length=200)
    suspended: bool = Field(sa_column=Column(Boolean, nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    closed_by: str | None = Field(default=None, max_length=200)
    close_reason: str | None = Field(default=None, max_length=32)
    resume_requested: bool = Field(sa_column=Column(Boolean, nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))


class CollectionsCaseStepRow(SQLModel, table=True):
    """A step of the case's policy, taken once: what, on which run date, by whom, at what balance."""

    __tablename__ = "collections_case_steps"
    __table_args__ = (UniqueConstraint("case_id", "step_number", name="uq_collections_case_steps_case_step"),)

    id: str = Field(primary_key=True, max_length=40)
    case_id: str = Field(sa_column=Column(String(40), ForeignKey("collections_cases.id"), nullable=False))
    step_number: int = Field(sa_column=Column(Integer, nullable=False))
    action: str = Field(max_length=16)
    run_on: date = Field(sa_column=Column(Date, nullable=False))
    days_past_due: int = Field(sa_column=Column(Integer, nullable=False))
    past_due_amount: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    taken_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    taken_by: str = Field(max_length=200)
    detail: str = Field(sa_column=Column(Text, nullable=False))
