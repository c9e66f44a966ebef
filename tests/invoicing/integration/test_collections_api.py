"""Dunning policies and collections through the API on SQLite and PostgreSQL: a policy walks an
account reminder -> escalation -> suspension over runs on successive dates and back on payment
(case closed, resumption requested); runs repeated or run for an earlier date change nothing; a
write-off step; 4xx on bad input. (That provisioning suspends the account's subscriptions on
`collections.suspend_requested` is tested in tests/provisioning/integration/test_bus.py.)"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tests.invoicing.factories import billing_account
from tests.invoicing.integration.receivables_book import ERP, FINANCE, Book, book_fixture  # noqa: F401

STANDARD = {
    "name": "Standard net-30",
    "is_default": True,
    "steps": [
        {"days_past_due": 1, "action": "reminder", "min_amounts": {"USD": "50.00"}},
        {"days_past_due": 15, "action": "escalate"},
        {"days_past_due": 30, "action": "suspend", "min_amounts": {"USD": "100.00", "JPY": "10000"}},
    ],
}
NOTHING = {"reminder": 0, "escalate": 0, "suspend": 0, "write_off": 0}


async def _policy(book: Book, body: dict[str, Any] = STANDARD) -> dict[str, Any]:
    response = await book.client.post("/v1/dunning-policies", json=body, headers=FINANCE)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _run(book: Book, on: str) -> dict[str, Any]:
    book.clock.at = datetime.fromisoformat(on).replace(hour=14, tzinfo=UTC)
    response = await book.client.post("/v1/collections/runs", json={"run_date": on}, headers=FINANCE)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def _cases(book: Book, **params: str) -> list[dict[str, Any]]:
    response = await book.client.get("/v1/collections/cases", params=params, headers=ERP)
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def test_a_policy_walks_an_account_to_suspension_and_back_on_payment(book: Book) -> None:
    policy = await _policy(book)
    invoice = await book.issue("sep", "500.00", on=date(2026, 9, 1))  # net 30: due 2026-10-01

    on_due_date = await _run(book, "2026-10-01")
    assert (on_due_date["accounts"], on_due_date["cases_opened"], on_due_date["steps_taken"]) == (
        0,
        0,
        NOTHING,
    )

    first = await _run(book, "2026-10-02")  # 1 day past due, 500.00 > 50.00
    assert (first["cases_opened"], first["steps_taken"]) == (1, NOTHING | {"reminder": 1})
    (case,) = await _cases(book, account_id="acct_1")
    assert (case["state"], case["policy_id"], case["opened_on"], case["currency"]) == (
        "open",
        policy["id"],
        "2026-10-02",
        "USD",
    )
    (reminder,) = await book.invoicing.outbox("collections.reminder_requested")
    assert (reminder["case_id"], reminder["past_due_amount"], reminder["days_past_due"]) == (
        case["id"],
        "500.00",
        1,
    )
    assert (reminder["billing_email"], [i["invoice_id"] for i in reminder["invoices"]]) == (
        "ap@acme.example",
        [invoice],
    )

    assert (await _run(book, "2026-10-02"))["steps_taken"] == NOTHING  # the same date again
    assert (await _run(book, "2026-10-15"))["steps_taken"] == NOTHING  # 14 days: nothing new

    escalated = await _run(book, "2026-10-16")  # 15 days
    assert escalated["steps_taken"] == NOTHING | {"escalate": 1}
    (escalation,) = await book.invoicing.outbox("collections.escalated")
    assert (escalation["crm_owner_name"], escalation["crm_owner_email"], escalation["days_past_due"]) == (
        "Dana Whitfield",
        "dana.whitfield@northwind.example",
        15,
    )

    assert (await _run(book, "2026-10-05"))["steps_taken"] == NOTHING  # an earlier date again

    suspended = await _run(book, "2026-10-31")  # 30 days, 500.00 > 100.00
    assert suspended["steps_taken"] == NOTHING | {"suspend": 1}
    (suspension,) = await book.invoicing.outbox("collections.suspend_requested")
    assert suspension["account_id"] == "acct_1"
    assert "500.00 USD" in suspension["reason"] and "30 days" in suspension["reason"]

    response = await book.client.get(f"/v1/collections/cases/{case['id']}", headers=ERP)
    history = response.json()
    assert (history["state"], history["suspended"]) == ("open", True)
    assert [
        (s["step_number"], s["action"], s["run_date"], s["days_past_due"], s["past_due_amount"])
        for s in history["steps"]
    ] == [
        (1, "reminder", "2026-10-02", 1, "500.00"),
        (2, "escalate", "2026-10-16", 15, "500.00"),
        (3, "suspend", "2026-10-31", 30, "500.00"),
    ]
    assert {s["taken_by"] for s in history["steps"]} == {history["opened_by"]}
    assert history["steps"][0]["taken_at"].startswith("2026-10-02T14:00:00")

    # Part paid: 300.00 is still past due, the case stays open.
    book.clock.at = datetime(2026, 11, 3, 15, tzinfo=UTC)
    await book.pay(invoice, "200.00")
    assert (await _cases(book))[0]["state"] == "open"
    assert await book.invoicing.outbox("collections.resume_requested") == []

    # Paid in full: the payment closes the case and asks provisioning to resume the account.
    book.clock.at = datetime(2026, 11, 4, 15, tzinfo=UTC)
    await book.pay(invoice, "300.00")
    closed = (await _cases(book))[0]
    assert (closed["state"], closed["close_reason"], closed["resume_requested"]) == ("closed", "paid", True)
    assert closed["closed_at"].startswith("2026-11-04T15:00:00")
    (resume,) = await book.invoicing.outbox("collections.resume_requested")
    assert resume["account_id"] == "acct_1"
    (closing,) = await book.invoicing.outbox("collections.case_closed")
    assert (closing["reason"], closing["resume_requested"]) == ("paid", True)
    assert len(await book.invoicing.outbox("collections.case_opened")) == 1

    # Nothing more on later runs, nor on the dates already run.
    for on in ("2026-11-05", "2026-10-31", "2026-10-02"):
        again = await _run(book, on)
        assert (again["cases_opened"], again["cases_closed"], again["steps_taken"]) == (0, 0, NOTHING)
    assert len(await book.invoicing.outbox("collections.suspend_requested")) == 1
    assert len(await book.invoicing.outbox("collections.reminder_requested")) == 1
    assert await book.invoicing.audit_actions(case["id"]) == [
        "collections_case.opened",
        "collections_case.reminder",
        "collections_case.escalate",
        "collections_case.suspend",
        "collections_case.closed",
    ]


async def test_the_daily_run_closes_a_case_paid_without_a_settlement(book: Book) -> None:
    await _policy(book)
    invoice = await book.issue("sep", "80.00", on=date(2026, 9, 1))
    await _run(book, "2026-10-02")
    await book.pay(invoice, "80.00", settle=False)

    after = await _run(book, "2026-10-03")

    assert (after["cases_closed"], after["resumes_requested"]) == (1, 0)  # never suspended: no resume
    assert (await _cases(book, state="closed"))[0]["close_reason"] == "paid"
    assert await book.invoicing.outbox("collections.resume_requested") == []


async def test_thresholds_per_currency_an_account_policy_and_no_policy(book: Book) -> None:
    await book.open(billing_account("acct_jp", name="Kaisha KK", currency="JPY"))
    await book.issue("small", "40.00", on=date(2026, 9, 1))  # 40.00 USD: under the 50.00 reminder threshold
    await book.issue("yen", "9999", on=date(2026, 9, 1), account_id="acct_jp", currency="JPY")
    # No policy yet: the accounts past due are counted and left alone.
    before = await _run(book, "2026-10-02")
    assert (before["accounts"], before["accounts_without_policy"], before["cases_opened"]) == (2, 2, 0)

    standard = await _policy(book)
    strict = await _policy(
        book,
        {"name": "Strict", "steps": [{"days_past_due": 1, "action": "suspend", "min_amounts": {"JPY": "0"}}]},
    )
    assign = await book.client.put(
        "/v1/accounts/acct_jp/dunning-policy", json={"policy_id": strict["id"]}, headers=FINANCE
    )
    assert (assign.status_code, assign.json()["source"]) == (200, "account")

    run = await _run(book, "2026-10-31")  # 30 days

    # acct_1: no reminder (40.00 is not above 50.00), the escalation (no threshold), no suspension
    # (not above 100.00); acct_jp: its own policy suspends above 0 yen.
    assert (run["cases_opened"], run["steps_taken"]) == (2, NOTHING | {"escalate": 1, "suspend": 1})
    by_account = {c["account_id"]: c for c in await _cases(book)}
    assert by_account["acct_1"]["policy_id"] == standard["id"]
    assert [s["action"] for s in by_account["acct_1"]["steps"]] == ["escalate"]
    assert (by_account["acct_jp"]["policy_id"], [s["action"] for s in by_account["acct_jp"]["steps"]]) == (
        strict["id"],
        ["suspend"],
    )
    assert by_account["acct_jp"]["steps"][0]["past_due_amount"] == "9999"
    # Taking the account's own policy away: the default applies again.
    await book.client.delete("/v1/accounts/acct_jp/dunning-policy", headers=FINANCE)
    shown = (await book.client.get("/v1/accounts/acct_jp/dunning-policy", headers=ERP)).json()
    assert (shown["source"], shown["policy"]["id"]) == ("default", standard["id"])
    for _ in range(2):  # the second time it is the default already: nothing changes
        made = await book.client.post(f"/v1/dunning-policies/{strict['id']}/default", headers=FINANCE)
        assert made.status_code == 200, made.text
    changes = await book.invoicing.outbox("dunning_policy.changed")
    assert [(c["change"], c["policy_id"], c["account_id"], c["is_default"]) for c in changes] == [
        ("created", standard["id"], None, True),
        ("created", strict["id"], None, False),
        ("assigned", strict["id"], "acct_jp", False),
        ("unassigned", None, "acct_jp", False),
        ("made_default", strict["id"], None, True),
    ]
    assert changes[0]["name"] == "Standard net-30"
    assert changes[0]["steps"] == [
        {"days_past_due": 1, "action": "reminder", "min_amounts": {"USD": "50.00"}},
        {"days_past_due": 15, "action": "escalate", "min_amounts": {}},
        {"days_past_due": 30, "action": "suspend", "min_amounts": {"USD": "100.00", "JPY": "10000"}},
    ]


async def test_a_write_off_step_writes_off_what_is_past_due(book: Book) -> None:
    await _policy(
        book,
        {
            "name": "Write off at 90",
            "is_default": True,
            "steps": [
                {"days_past_due": 30, "action": "suspend"},
                {"days_past_due": 90, "action": "write_off"},
            ],
        },
    )
    invoice = await book.issue("sep", "250.00", on=date(2026, 9, 1))  # due 2026-10-01
    book.clock.at = datetime(2026, 10, 15, 15, tzinfo=UTC)
    await book.pay(invoice, "100.00")  # received 2026-10-15: 150.00 left
    await _run(book, "2026-10-31")

    run = await _run(book, "2026-12-30")  # 90 days

    assert (run["steps_taken"]["write_off"], run["invoices_written_off"], run["cases_closed"]) == (1, 1, 1)
    written = await book.invoice(invoice)
    assert (written["state"], written["written_off"], written["amount_due"]) == (
        "written_off",
        "150.00",
        "0.00",
    )
    (event,) = await book.invoicing.outbox("invoice.written_off")
    assert (event["invoice_id"], event["amount"], event["currency"]) == (invoice, "150.00", "USD")
    (case,) = await _cases(book)
    assert (case["close_reason"], case["resume_requested"]) == ("written_off", False)
    # The aging owes it the day before the write-off, and not from its day on.
    aging = await book.client.get("/v1/ar/aging", params={"as_of": "2026-12-29"}, headers=ERP)
    assert aging.json()["accounts"][0]["days_61_90"] == "150.00"
    aging = await book.client.get("/v1/ar/aging", params={"as_of": "2026-12-30"}, headers=ERP)
    assert aging.json()["accounts"] == []
    assert (await _run(book, "2026-12-30"))["steps_taken"] == NOTHING
    # The statement takes it off the balance on the day it was written off (09:00 in New York).
    statement = await book.client.get(
        "/v1/accounts/acct_1/statements", params={"from": "2026-12-01", "to": "2026-12-31"}, headers=ERP
    )
    body = statement.json()
    assert [(e["date"], e["kind"], e["amount"]) for e in body["entries"]] == [
        ("2026-12-30", "write_off", "-150.00")
    ]
    # (Whether the payment is on it too is the payments' ledger source's business: only the difference.)
    summary = body["summary"]
    assert Decimal(summary["previous_balance"]) - Decimal(summary["balance_due"]) == Decimal("150.00")


async def test_a_used_policy_never_changes_and_bad_input_is_a_4xx(book: Book) -> None:
    client = book.client
    policy = await _policy(book)
    revised = await client.put(
        f"/v1/dunning-policies/{policy['id']}",
        json={"name": "Softer", "steps": [{"days_past_due": 5, "action": "reminder"}]},
        headers=FINANCE,
    )
    assert (revised.status_code, revised.json()["steps"][0]["days_past_due"]) == (200, 5)
    await book.issue("sep", "500.00", on=date(2026, 9, 1))
    await _run(book, "2026-10-10")

    used = await client.get(f"/v1/dunning-policies/{policy['id']}", headers=ERP)
    assert used.json()["in_use"] is True
    again = await client.put(
        f"/v1/dunning-policies/{policy['id']}",
        json={"name": "x", "steps": STANDARD["steps"]},
        headers=FINANCE,
    )
    assert again.status_code == 409
    assert (await client.delete(f"/v1/dunning-policies/{policy['id']}", headers=FINANCE)).status_code == 409
    unused = await _policy(book, {"name": "Spare", "steps": [{"days_past_due": 1, "action": "reminder"}]})
    assert (await client.delete(f"/v1/dunning-policies/{unused['id']}", headers=FINANCE)).status_code == 204
    changes = await book.invoicing.outbox("dunning_policy.changed")
    assert [(c["change"], c["policy_id"], c["name"]) for c in changes] == [
        ("created", policy["id"], "Standard net-30"),
        ("revised", policy["id"], "Softer"),
        ("created", unused["id"], "Spare"),
        ("deleted", unused["id"], "Spare"),
    ]  # the refused revision and deletion (409) published nothing
    assert changes[1]["steps"] == [{"days_past_due": 5, "action": "reminder", "min_amounts": {}}]

    def steps(*items: dict[str, Any]) -> dict[str, Any]:
        return {"name": "Bad", "steps": list(items)}

    for body in (
        steps({"days_past_due": 30, "action": "reminder"}, {"days_past_due": 10, "action": "suspend"}),
        steps({"days_past_due": -5, "action": "reminder"}),
        steps({"days_past_due": 0, "action": "reminder"}),
        steps({"days_past_due": 90, "action": "write_off"}, {"days_past_due": 120, "action": "suspend"}),
        steps({"days_past_due": 1, "action": "call_the_lawyers"}),
        steps({"days_past_due": 1, "action": "reminder", "min_amounts": {"JPY": "10.5"}}),
        steps({"days_past_due": 1, "action": "reminder", "min_amounts": {"USD": 10}}),
        steps({"days_past_due": 1, "action": "reminder", "min_amounts": {"ABC": "1"}}),
        steps({"days_past_due": "1", "action": "reminder"}),
        steps(),
        {"steps": [{"days_past_due": 1, "action": "reminder"}]},
    ):
        response = await client.post("/v1/dunning-policies", json=body, headers=FINANCE)
        assert response.status_code == 422, (body, response.text)
    for body in (
        {"run_date": "2026-02-30"},
        {"run_date": "yesterday"},
        {},
        {"run_date": "2026-10-01", "x": 1},
    ):
        response = await client.post("/v1/collections/runs", json=body, headers=FINANCE)
        assert response.status_code == 422, (body, response.text)
    assert (await client.get("/v1/collections/cases/col_unknown", headers=ERP)).status_code == 404
    assert (await client.get("/v1/dunning-policies/dpol_unknown", headers=ERP)).status_code == 404
    unknown_account = await client.put(
        "/v1/accounts/acct_unknown/dunning-policy", json={"policy_id": policy["id"]}, headers=FINANCE
    )
    assert unknown_account.status_code == 404
    unknown_policy = await client.put(
        "/v1/accounts/acct_1/dunning-policy", json={"policy_id": "dpol_unknown"}, headers=FINANCE
    )
    assert unknown_policy.status_code == 404
    assert (
        await client.post("/v1/collections/runs", json={"run_date": "2026-10-01"}, headers=ERP)
    ).status_code == 403
