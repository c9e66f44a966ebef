"""SQL adapters of provisioning, one module per concept (re-exported here while handlers call them)."""

from provisioning.repository.common import count, today
from provisioning.repository.customers import (
    account_from_row,
    add_customer,
    children_billing_to,
    get_account,
    get_account_row,
    get_customer_row,
    hierarchy_of,
    save_account,
)
from provisioning.repository.deals import (
    add_partner,
    deal_from_row,
    get_deal_row,
    get_partner,
    get_partner_row,
    partner_from_row,
    save_deal,
)
from provisioning.repository.fulfillments import (
    StoredFulfillment,
    fulfillments_of_order,
    get_fulfillment,
    save_fulfillment,
)
from provisioning.repository.named_users import StoredPool, get_pool, save_pool
from provisioning.repository.orders import (
    LinePricing,
    QuotedLineDiscount,
    StoredOrder,
    get_order,
    line_discount,
    save_order,
)
from provisioning.repository.subscriptions import (
    StoredSubscription,
    get_subscription,
    save_subscription,
    save_subscriptions,
    subscriptions_at_term_end,
    subscriptions_of_account,
)
from provisioning.repository.workflows import (
    StoredWorkflow,
    get_workflow,
    save_workflow,
    task_from_row,
    workflow_id_of_task,
    workflows_of_order,
)

__all__ = [
    "LinePricing",
    "QuotedLineDiscount",
    "StoredFulfillment",
    "StoredOrder",
    "StoredPool",
    "StoredSubscription",
    "StoredWorkflow",
    "account_from_row",
    "add_customer",
    "add_partner",
    "children_billing_to",
    "count",
    "deal_from_row",
    "fulfillments_of_order",
    "get_account",
    "get_account_row",
    "get_customer_row",
    "get_deal_row",
    "get_fulfillment",
    "get_order",
    "get_partner",
    "get_partner_row",
    "get_pool",
    "get_subscription",
    "get_workflow",
    "hierarchy_of",
    "line_discount",
    "partner_from_row",
    "save_account",
    "save_deal",
    "save_fulfillment",
    "save_order",
    "save_pool",
    "save_subscription",
    "save_subscriptions",
    "save_workflow",
    "subscriptions_at_term_end",
    "subscriptions_of_account",
    "task_from_row",
    "today",
    "workflow_id_of_task",
    "workflows_of_order",
]
