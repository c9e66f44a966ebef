"""Provisioning tables: partners and deals, customers and accounts, orders, subscriptions and their
history, workflows and tasks, fulfillments, named-user pools.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.platform.migrations import ExactDecimal, UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("partner_id", sa.String(40), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "partners",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_account_id", sa.String(40), nullable=True),
        sa.Column("bills_to_parent", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("bill_cycle_day", sa.Integer(), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("delivery", sa.String(10), nullable=False),
        sa.Column("tax_treatment", sa.String(10), nullable=False),
        sa.Column("tax_certificate_number", sa.String(80), nullable=True),
        sa.Column("tax_certificate_expiry", sa.Date(), nullable=True),
        sa.Column("tax_country", sa.String(2), nullable=True),
        sa.Column("tax_region", sa.String(100), nullable=True),
        sa.Column("tax_postal_code", sa.String(20), nullable=True),
        sa.Column("contacts", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["parent_account_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_accounts_parent_account_id"), ["parent_account_id"], unique=False
        )

    op.create_table(
        "deal_registrations",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("partner_id", sa.String(40), nullable=False),
        sa.Column("opportunity_name", sa.String(200), nullable=False),
        sa.Column("opportunity_details", sa.Text(), nullable=True),
        sa.Column("customer_company_name", sa.String(200), nullable=True),
        sa.Column("agreement_contact_name", sa.String(200), nullable=True),
        sa.Column("agreement_contact_email", sa.String(254), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("license_type", sa.String(20), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("discounts_requested", sa.Text(), nullable=False),
        sa.Column("project_description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=True),
        sa.Column("order_id", sa.String(40), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deal_registrations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_registrations_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "named_user_pools",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("subscription_id", sa.String(40), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("programs_per_user", sa.Integer(), nullable=False),
        sa.Column("contract_programs", sa.Text(), nullable=False),
        sa.Column("contract_start", sa.Date(), nullable=False),
        sa.Column("transfer_percent", ExactDecimal(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("named_user_pools", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_named_user_pools_account_id"), ["account_id"], unique=False)

    op.create_table(
        "sales_orders",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("approval_required", sa.Boolean(), nullable=False),
        sa.Column("approved_by", sa.String(80), nullable=True),
        sa.Column("deal_registration_id", sa.String(40), nullable=True),
        sa.Column("requested_discounts_note", sa.Text(), nullable=True),
        sa.Column("quote_id", sa.String(60), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sales_orders_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_orders_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_orders_status"), ["status"], unique=False)

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=True),
        sa.Column("order_line_id", sa.String(40), nullable=True),
        sa.Column("product_id", sa.String(60), nullable=False),
        sa.Column("price_id", sa.String(60), nullable=False),
        sa.Column("price_version", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("unit_price", ExactDecimal(), nullable=False),
        sa.Column("discount_percent", ExactDecimal(), nullable=False),
        sa.Column("charge_type", sa.String(30), nullable=True),
        sa.Column("billing_period", sa.String(30), nullable=True),
        sa.Column("billing_timing", sa.String(30), nullable=True),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("commitment_quantity", ExactDecimal(), nullable=False),
        sa.Column("license_type", sa.String(20), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("renewal_kind", sa.String(20), nullable=False),
        sa.Column("renewal_months", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscriptions_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscriptions_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscriptions_state"), ["state"], unique=False)

    op.create_table(
        "fulfillments",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("associated_project_id", sa.String(60), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_orders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fulfillments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fulfillments_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fulfillments_order_id"), ["order_id"], unique=False)

    op.create_table(
        "named_user_assignments",
        sa.Column("pool_id", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(120), nullable=False),
        sa.Column("programs", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_id"],
            ["named_user_pools.id"],
        ),
        sa.PrimaryKeyConstraint("pool_id", "user_id"),
    )
    op.create_table(
        "named_user_transfers",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("pool_id", sa.String(40), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("from_user", sa.String(120), nullable=False),
        sa.Column("to_user", sa.String(120), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("contract_year", sa.Integer(), nullable=False),
        sa.Column("by", sa.String(80), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_id"],
            ["named_user_pools.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("named_user_transfers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_named_user_transfers_pool_id"), ["pool_id"], unique=False)

    op.create_table(
        "order_lines",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(60), nullable=False),
        sa.Column("product_sku", sa.String(100), nullable=True),
        sa.Column("product_name", sa.String(200), nullable=True),
        sa.Column("product_kind", sa.String(60), nullable=True),
        sa.Column("product_vendor_id", sa.String(64), nullable=True),
        sa.Column("price_id", sa.String(60), nullable=False),
        sa.Column("price_version", sa.Integer(), nullable=False),
        sa.Column("charge_type", sa.String(30), nullable=True),
        sa.Column("billing_period", sa.String(30), nullable=True),
        sa.Column("billing_timing", sa.String(30), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("license_type", sa.String(20), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("unit_list_price", ExactDecimal(), nullable=False),
        sa.Column("list_amount", ExactDecimal(), nullable=False),
        sa.Column("discount_amount", ExactDecimal(), nullable=False),
        sa.Column("net_amount", ExactDecimal(), nullable=False),
        sa.Column("effective_percent_off", ExactDecimal(), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("discounts", sa.Text(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=True),
        sa.Column("subscription_id", sa.String(40), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_orders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_lines_order_id"), ["order_id"], unique=False)

    op.create_table(
        "subscription_changes",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("subscription_id", sa.String(40), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("by", sa.String(80), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("before_state", sa.String(20), nullable=False),
        sa.Column("after_state", sa.String(20), nullable=False),
        sa.Column("before_quantity", ExactDecimal(), nullable=False),
        sa.Column("after_quantity", ExactDecimal(), nullable=False),
        sa.Column("before_term_start", sa.Date(), nullable=False),
        sa.Column("after_term_start", sa.Date(), nullable=False),
        sa.Column("before_term_end", sa.Date(), nullable=False),
        sa.Column("after_term_end", sa.Date(), nullable=False),
        sa.Column("price_id", sa.String(60), nullable=False),
        sa.Column("price_version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("subscription_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscription_changes_subscription_id"), ["subscription_id"], unique=False
        )

    op.create_table(
        "workflows",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("template_name", sa.String(60), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("order_line_id", sa.String(40), nullable=True),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("subscription_id", sa.String(40), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_orders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("workflows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workflows_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_workflows_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_workflows_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_workflows_subscription_id"), ["subscription_id"], unique=False)

    op.create_table(
        "fulfillment_lines",
        sa.Column("fulfillment_id", sa.String(40), nullable=False),
        sa.Column("order_line_id", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(60), nullable=False),
        sa.Column("license_type", sa.String(20), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("unit_list_price", ExactDecimal(), nullable=False),
        sa.Column("discount_percent", ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.ForeignKeyConstraint(
            ["fulfillment_id"],
            ["fulfillments.id"],
        ),
        sa.PrimaryKeyConstraint("fulfillment_id", "order_line_id"),
    )
    op.create_table(
        "workflow_tasks",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("workflow_id", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(60), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("owner_team", sa.String(60), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("requires", sa.Text(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("assignee", sa.String(120), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("blocked_reason", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("workflow_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workflow_tasks_due_date"), ["due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_workflow_tasks_owner_team"), ["owner_team"], unique=False)
        batch_op.create_index(batch_op.f("ix_workflow_tasks_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_workflow_tasks_workflow_id"), ["workflow_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("workflow_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_tasks_workflow_id"))
        batch_op.drop_index(batch_op.f("ix_workflow_tasks_state"))
        batch_op.drop_index(batch_op.f("ix_workflow_tasks_owner_team"))
        batch_op.drop_index(batch_op.f("ix_workflow_tasks_due_date"))

    op.drop_table("workflow_tasks")
    op.drop_table("fulfillment_lines")
    with op.batch_alter_table("workflows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflows_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_workflows_status"))
        batch_op.drop_index(batch_op.f("ix_workflows_order_id"))
        batch_op.drop_index(batch_op.f("ix_workflows_account_id"))

    op.drop_table("workflows")
    with op.batch_alter_table("subscription_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_changes_subscription_id"))

    op.drop_table("subscription_changes")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_lines_order_id"))

    op.drop_table("order_lines")
    with op.batch_alter_table("named_user_transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_named_user_transfers_pool_id"))

    op.drop_table("named_user_transfers")
    op.drop_table("named_user_assignments")
    with op.batch_alter_table("fulfillments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fulfillments_order_id"))
        batch_op.drop_index(batch_op.f("ix_fulfillments_account_id"))

    op.drop_table("fulfillments")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_state"))
        batch_op.drop_index(batch_op.f("ix_subscriptions_order_id"))
        batch_op.drop_index(batch_op.f("ix_subscriptions_account_id"))

    op.drop_table("subscriptions")
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_orders_status"))
        batch_op.drop_index(batch_op.f("ix_sales_orders_customer_id"))
        batch_op.drop_index(batch_op.f("ix_sales_orders_account_id"))

    op.drop_table("sales_orders")
    with op.batch_alter_table("named_user_pools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_named_user_pools_account_id"))

    op.drop_table("named_user_pools")
    with op.batch_alter_table("deal_registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_registrations_partner_id"))

    op.drop_table("deal_registrations")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_parent_account_id"))
        batch_op.drop_index(batch_op.f("ix_accounts_customer_id"))

    op.drop_table("accounts")
    op.drop_table("partners")
    op.drop_table("customers")
