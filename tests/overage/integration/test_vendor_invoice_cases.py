"""The two halves of overage together: a vendor invoice names its customer by the vendor's tenant
id (the tenant mapping fills in the account and subscription), and an overage invoice received for
a case moves the case to vendor_invoice_received when `vendor.invoice_received` is consumed (group
`overage.case_workflow`). On SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from libs.contracts.registry import spec_of
from libs.contracts.vendor_payables import VendorInvoiceReceived
from libs.platform.outbox import build_envelope
from overage.consumers import CASE_WORKFLOW_GROUP
from tests.overage.integration.conftest import MovableClock, runtime_of
from tests.overage.integration.factories import (
    act,
    case,
    cases,
    notice_body,
    outbox,
    post_notice,
    seeded_tenant,
)
from tests.support.services import auth


def overage_invoice(vendor_id: str, **fields: Any) -> dict[str, Any]:
    """The vendor's invoice for July 2026's 12 extra licenses at its 10.00: 120.00."""
    return {
        "vendor_id": vendor_id,
        "number": "MON-OVG-2026-07",
        "kind": "overage",
        "currency": "USD",
        "amount": "120.00",
        "invoice_date": "2026-08-05",
        "period_start": "2026-07-01",
        "period_end": "2026-08-01",
        "source": "vendor",
        **fields,
    }


async def deliver_received(app: FastAPI) -> None:
    """Consume every `vendor.invoice_received` in the outbox as the case workflow's group does."""
    runtime = runtime_of(app)
    (spec,) = [s for s in runtime.consumer_specs if s.group_id == CASE_WORKFLOW_GROUP]
    for payload in await outbox(app, "vendor.invoice_received"):
        envelope = build_envelope(VendorInvoiceReceived.model_validate(payload), producer="test", key="k")
        async with runtime.db.session() as session:
            await spec.handlers[spec_of(VendorInvoiceReceived).type](session, envelope)
            await session.commit()


async def test_a_vendor_invoice_naming_a_tenant_bills_its_mapped_account_and_subscription(
    client: httpx.AsyncClient, overage_app: FastAPI
) -> None:
    tenant = await seeded_tenant(client, overage_app)

    response = await client.post(
        "/v1/vendor-invoices",
        json=overage_invoice(tenant.vendor_id, tenant_id=tenant.tenant_ref),
        headers=auth("finance"),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["account_id"], body["subscription_id"], body["amount"]) == ("acct_wfm", "sub_wfm", "120.00")


async def test_a_tenant_the_vendor_never_mapped_is_refused_on_the_field(
    client: httpx.AsyncClient, overage_app: FastAPI
) -> None:
    tenant = await seeded_tenant(client, overage_app)

    response = await client.post(
        "/v1/vendor-invoices",
        json=overage_invoice(tenant.vendor_id, tenant_id="someone-else"),
        headers=auth("finance"),
    )

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["tenant_id"]


async def _informed_case(client: httpx.AsyncClient, app: FastAPI, clock: MovableClock) -> tuple[Any, str]:
    tenant = await seeded_tenant(client, app)
    stored = await post_notice(client, tenant.vendor_id, tenant.secret, notice_body("n-07"), clock)
    assert stored.status_code == 202, stored.text
    await runtime_of(app).work_notices()
    (opened,) = await cases(client)
    for action, extra in [
        ("contact_crm_owner", {}),
        ("record_decision", {"decision": "keep"}),
        ("inform_vendor", {}),
    ]:
        assert (await act(client, opened["id"], action, **extra)).status_code == 200
    return tenant, str(opened["id"])


async def test_the_vendors_overage_invoice_moves_its_case_to_vendor_invoice_received(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    tenant, case_id = await _informed_case(client, overage_app, clock)
    received = await client.post(
        "/v1/vendor-invoices",
        json=overage_invoice(tenant.vendor_id, tenant_id=tenant.tenant_ref, overage_case_id=case_id),
        headers=auth("finance"),
    )
    assert received.status_code == 201, received.text

    await deliver_received(overage_app)
    await deliver_received(overage_app)  # redelivered: one step, not two

    found = await case(client, case_id)
    assert found["state"] == "vendor_invoice_received"
    steps = [s for s in found["steps"] if s["action"] == "record_vendor_invoice"]
    assert len(steps) == 1
    assert steps[0]["actor"] == CASE_WORKFLOW_GROUP
    assert received.json()["number"] in (steps[0]["note"] or "")


async def test_an_invoice_for_a_case_not_yet_informed_leaves_the_case_where_it_is(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    tenant = await seeded_tenant(client, overage_app)
    await post_notice(client, tenant.vendor_id, tenant.secret, notice_body("n-07"), clock)
    await runtime_of(overage_app).work_notices()
    (opened,) = await cases(client)
    received = await client.post(
        "/v1/vendor-invoices",
        json=overage_invoice(tenant.vendor_id, tenant_id=tenant.tenant_ref, overage_case_id=opened["id"]),
        headers=auth("finance"),
    )
    assert received.status_code == 201, received.text

    await deliver_received(overage_app)

    assert (await case(client, opened["id"]))["state"] == "notified"
