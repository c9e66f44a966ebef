"""The resold-WFM workflow walked task by task to an active 3-year subscription (seed 000)."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from libs.platform.periods import add_months
from tests.provisioning.integration.factories import (
    ADMIN,
    CRM,
    FINANCE,
    OPS,
    approved_order,
    customer_with_account,
    line,
    ok,
)

WFM_STEPS = [
    ("verify_order_lines", "service_delivery"),
    ("request_vendor_quote", "voice_engineering"),
    ("submit_purchase_request", "voice_engineering"),
    ("vendor_paperwork_signed", "finance"),
    ("kickoff_scheduled", "project_management"),
]


async def test_wfm_workflow_walked_to_an_active_three_year_subscription(client: httpx.AsyncClient) -> None:
    _, account_id = await customer_with_account(client)
    start = date.today() + timedelta(days=30)
    order = await approved_order(
        client, account_id, [line("price_wfm", 250, term_months=36, effective_date=start.isoformat())]
    )
    workflows = (await ok(await client.get(f"/v1/workflows?order_id={order['id']}", headers=OPS)))["data"]
    assert len(workflows) == 1
    workflow = workflows[0]
    assert workflow["template_name"] == "resold_wfm_seats"
    assert [(t["key"], t["owner_team"]) for t in workflow["tasks"]] == WFM_STEPS
    subscription_id = workflow["subscription_id"]
    pending = await ok(await client.get(f"/v1/subscriptions/{subscription_id}", headers=OPS))
    assert pending["state"] == "pending"

    tasks = workflow["tasks"]
    # Steps run in order: the vendor quote waits for the verified order lines.
    assert (await client.post(f"/v1/tasks/{tasks[1]['id']}/start", headers=CRM)).status_code == 409
    # Nothing can be completed before it is started.
    assert (
        await client.post(f"/v1/tasks/{tasks[0]['id']}/complete", json={}, headers=CRM)
    ).status_code == 409

    first = tasks[0]["id"]
    assigned = await ok(
        await client.patch(f"/v1/tasks/{first}", json={"assignee": "pat.delivery"}, headers=CRM)
    )
    assert assigned["assignee"] == "pat.delivery"
    noted = await ok(
        await client.post(f"/v1/tasks/{first}/notes", json={"text": "GIST held with sales"}, headers=CRM)
    )
    assert [n["text"] for n in noted["notes"]] == ["GIST held with sales"]
    blocked = await ok(
        await client.post(f"/v1/tasks/{first}/block", json={"reason": "line items missing"}, headers=CRM)
    )
    assert (blocked["state"], blocked["blocked_reason"]) == ("blocked", "line items missing")
    assert (await client.post(f"/v1/tasks/{first}/start", headers=CRM)).status_code == 409
    assert (await ok(await client.post(f"/v1/tasks/{first}/unblock", headers=CRM)))["state"] == "open"

    for task in tasks:
        assert (await ok(await client.post(f"/v1/tasks/{task['id']}/start", headers=FINANCE)))[
            "state"
        ] == "in_progress"
        done = await ok(
            await client.post(
                f"/v1/tasks/{task['id']}/complete",
                json={"completed_on": date.today().isoformat()},
                headers=ADMIN,
            )
        )
        assert done["state"] == "done"
        current = await ok(await client.get(f"/v1/subscriptions/{subscription_id}", headers=OPS))
        expected = "active" if task is tasks[-1] else "pending"
        assert current["state"] == expected

    active = await ok(await client.get(f"/v1/subscriptions/{subscription_id}", headers=OPS))
    assert (active["quantity"], active["price_version"], active["unit_price"]) == ("250", 1, "12")
    assert (active["term_start"], active["term_end"]) == (
        start.isoformat(),
        add_months(start, 36).isoformat(),
    )
    history = (await ok(await client.get(f"/v1/subscriptions/{subscription_id}/history", headers=OPS)))[
        "data"
    ]
    # Provisioned ahead of the contract: billing starts with the term, not on the day the work ended.
    assert [(h["kind"], h["effective_date"]) for h in history] == [("activate", start.isoformat())]
    finished = await ok(await client.get(f"/v1/workflows/{workflow['id']}", headers=OPS))
    assert finished["status"] == "completed"
    assert (await ok(await client.get(f"/v1/orders/{order['id']}", headers=OPS)))["status"] == "fulfilled"
    assert (await client.post(f"/v1/tasks/{tasks[0]['id']}/start", headers=CRM)).status_code == 409


async def test_overdue_tasks_and_who_may_touch_them(client: httpx.AsyncClient) -> None:
    _, account_id = await customer_with_account(client)
    await approved_order(client, account_id, [line("price_wfm", 20, term_months=36)])
    await approved_order(client, account_id, [line("price_support", 1, term_months=12)])
    today = date.today()
    assert (await ok(await client.get("/v1/tasks?overdue=true", headers=OPS)))["data"] == []
    # Three days on, only the steps due within two days are late: verifying the WFM order lines
    # (2 days) and the one-step standard activation (1 day).
    late = (
        await ok(
            await client.get(
                f"/v1/tasks?overdue=true&as_of={(today + timedelta(days=3)).isoformat()}", headers=OPS
            )
        )
    )["data"]
    assert sorted(t["key"] for t in late) == ["activate_service", "verify_order_lines"]
    assert all(t["overdue"] for t in late)
    task_id = late[0]["id"]
    assert (await client.post(f"/v1/tasks/{task_id}/start", headers=OPS)).status_code == 403
    assert (await client.post("/v1/tasks/task_nope/start", headers=CRM)).status_code == 404
    assert (await client.get("/v1/workflows/wf_nope", headers=OPS)).status_code == 404


async def test_a_last_task_completed_after_the_term_ended_is_refused_naming_its_completion_date(
    client: httpx.AsyncClient,
) -> None:
    _, account_id = await customer_with_account(client)
    start = date.today()
    order = await approved_order(
        client, account_id, [line("price_support", 1, term_months=12, effective_date=start.isoformat())]
    )
    workflow = (await ok(await client.get(f"/v1/workflows?order_id={order['id']}", headers=OPS)))["data"][0]
    *earlier, last = workflow["tasks"]
    for task in earlier:
        await ok(await client.post(f"/v1/tasks/{task['id']}/start", headers=ADMIN))
        await ok(await client.post(f"/v1/tasks/{task['id']}/complete", json={}, headers=ADMIN))
    await ok(await client.post(f"/v1/tasks/{last['id']}/start", headers=ADMIN))
    term_end = add_months(start, 12)

    refused = await client.post(
        f"/v1/tasks/{last['id']}/complete", json={"completed_on": term_end.isoformat()}, headers=ADMIN
    )

    assert refused.status_code == 422, refused.text
    assert [(e["field"], e["message"]) for e in refused.json()["errors"]] == [
        ("completed_on", f"must be before the subscription's term ends on {term_end}")
    ]
    still = await ok(await client.get(f"/v1/workflows/{workflow['id']}", headers=OPS))
    assert still["status"] != "completed"
    assert [t["state"] for t in still["tasks"]][-1] == "in_progress"
