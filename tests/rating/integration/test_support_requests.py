"""Support requests through the API on SQLite and PostgreSQL: the seed's validation order (item,
customer, org unit; valid, then pending; else a per-incident charge), time drawn down, and time
spent after a contract expired rolled over or ignored (seed 004, EXAMPLES §5)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from libs.platform.errors import Conflict
from tests.rating.integration.factories import (
    outbox_payloads,
    rated_account,
    rated_subscription,
)
from tests.rating.integration.factories_support import (
    CRM,
    FINANCE,
    OPS,
    SupportService,
    contract_view,
    deliver,
    log_time,
    ok,
    open_contract,
    open_request,
    support_service,
    template_event,
)


async def _item_customer_org_unit(service: SupportService) -> None:
    """The org unit `acct_org`, its child the customer `acct_cus`, and the item `sub_item` of it."""
    await rated_account(service, account_id="acct_org")
    await rated_account(service, account_id="acct_cus", parent_account_id="acct_org")
    await rated_subscription(service, subscription_id="sub_item", account_id="acct_cus")


async def _cancel(service: SupportService, contract_id: str) -> None:
    ok(await service.client.post(f"/v1/support-contracts/{contract_id}/cancel", headers=FINANCE))


async def test_a_request_is_validated_in_the_seeds_order(database_url: str) -> None:
    async with support_service(database_url) as service:
        await _item_customer_org_unit(service)
        await deliver(
            service,
            template_event("ctpl_tl", "time_limited", period_months=12, hours=40, on_expiry="rollover"),
            template_event("ctpl_sub", "subscription", period_months=12),
            template_event("ctpl_hours", "support_hours", hours=10),
            template_event("ctpl_inc", "per_incident", product_id="prod_incident"),
        )
        item, customer, org = ("subscription", "sub_item"), ("account", "acct_cus"), ("account", "acct_org")
        # Opened in the reverse of the order, so the order is not the order of creation.
        org_pending = await open_contract(service, "ctpl_hours", org, "2026-09-01")
        customer_pending = await open_contract(service, "ctpl_sub", customer, "2026-08-01")
        item_pending = await open_contract(service, "ctpl_tl", item, "2026-07-01")
        org_valid = await open_contract(service, "ctpl_hours", org, "2026-01-01")
        customer_valid = await open_contract(service, "ctpl_sub", customer, "2026-01-01")
        item_valid = await open_contract(service, "ctpl_tl", item, "2026-01-01")
        # Contracts of someone else never cover this item.
        await rated_account(service, account_id="acct_other")
        await rated_subscription(service, subscription_id="sub_other", account_id="acct_cus")
        await open_contract(service, "ctpl_sub", ("account", "acct_other"), "2026-01-01")
        await open_contract(service, "ctpl_sub", ("subscription", "sub_other"), "2026-01-01")

        expected = [
            (item_valid, "item_valid", 1),
            (customer_valid, "customer_valid", 2),
            (org_valid, "org_unit_valid", 3),
            (item_pending, "item_pending", 4),
            (customer_pending, "customer_pending", 5),
            (org_pending, "org_unit_pending", 6),
        ]
        for contract, step, number in expected:
            request = await open_request(service, "sub_item", "2026-06-15T09:00:00Z")
            assert request["coverage"]["contract_id"] == contract["id"], step
            assert (request["coverage"]["step"], request["coverage"]["step_number"]) == (step, number)
            assert request["coverage"]["reason"]
            assert (request["contract_id"], request["state"], request["account_id"]) == (
                contract["id"],
                "open",
                "acct_cus",
            )
            await _cancel(service, contract["id"])

        # Nothing left: a per-incident contract is opened for the request and charged once.
        request = await open_request(service, "sub_item", "2026-06-15T23:30:00-05:00")
        assert (request["coverage"]["step"], request["coverage"]["step_number"]) == ("per_incident", 7)
        incident = await contract_view(service, request["contract_id"])
        assert (incident["kind"], incident["request_id"], incident["state"]) == (
            "per_incident",
            request["id"],
            "active",
        )
        assert (incident["holder_type"], incident["holder_id"], incident["starts_on"]) == (
            "subscription",
            "sub_item",
            "2026-06-16",  # the request's UTC date: the account's zone is UTC
        )
        (charge,) = await outbox_payloads(service, "support.incident_charged")
        assert charge == {
            "contract_id": incident["id"],
            "request_id": request["id"],
            "account_id": "acct_cus",
            "subscription_id": "sub_item",
            "template_id": "ctpl_inc",
            "product_id": "prod_incident",
            "quantity": "1",
            "currency": "USD",
            "charged_on": "2026-06-16",
        }
        opened = await outbox_payloads(service, "support.request_opened")
        assert [e["coverage_step"] for e in opened] == [step for _, step, _ in expected] + ["per_incident"]


async def test_an_org_unit_contract_covers_the_child_accounts_items_not_the_parents_own_as_org_unit(
    database_url: str,
) -> None:
    async with support_service(database_url) as service:
        await _item_customer_org_unit(service)
        await rated_subscription(service, subscription_id="sub_of_org", account_id="acct_org")
        await deliver(service, template_event("ctpl_hours", "support_hours", hours=10))
        org_contract = await open_contract(service, "ctpl_hours", ("account", "acct_org"), "2026-01-01")
        on_child = await open_request(service, "sub_item", "2026-06-15T09:00:00Z")
        on_parent = await open_request(service, "sub_of_org", "2026-06-15T09:00:00Z")
        assert (on_child["coverage"]["step"], on_child["contract_id"]) == (
            "org_unit_valid",
            org_contract["id"],
        )
        # For the parent's own subscription the same account is the customer.
        assert (on_parent["coverage"]["step"], on_parent["contract_id"]) == (
            "customer_valid",
            org_contract["id"],
        )


@pytest.mark.parametrize("on_expiry", ["rollover", "ignore"])
async def test_examples_5_three_hours_on_a_contract_with_two_left(database_url: str, on_expiry: str) -> None:
    # Time-limited [2026-01-01, 2027-01-01) or 40 hours; 38 used by June; a 3-hour request:
    # 2 hours covered, the contract expired, the third hour rolled over (or not covered).
    async with support_service(database_url) as service:
        await _item_customer_org_unit(service)
        await deliver(
            service,
            template_event("ctpl_tl", "time_limited", period_months=12, hours=40, on_expiry=on_expiry),
            template_event("ctpl_hours", "support_hours", hours=10),
        )
        time_limited = await open_contract(service, "ctpl_tl", ("subscription", "sub_item"), "2026-01-01")
        next_valid = await open_contract(service, "ctpl_hours", ("account", "acct_cus"), "2026-01-01")

        earlier = await open_request(service, "sub_item", "2026-02-02T10:00:00Z")
        await log_time(service, earlier["id"], 20, "2026-03-01T10:00:00Z")
        await log_time(service, earlier["id"], "18.0", "2026-05-20T10:00:00Z")
        by_june = await contract_view(service, time_limited["id"])
        assert (by_june["hours_used"], by_june["hours_remaining"], by_june["state"]) == ("38", "2", "active")

        request = await open_request(service, "sub_item", "2026-06-10T08:00:00Z")
        assert (request["coverage"]["step"], request["contract_id"]) == ("item_valid", time_limited["id"])
        entry = await log_time(service, request["id"], 3, "2026-06-12T16:00:00Z")

        assert (entry["hours"], entry["covered_hours"]) == ("3", "2")
        assert entry["expired_contract_ids"] == [time_limited["id"]]
        expired = await contract_view(service, time_limited["id"])
        assert (expired["hours_used"], expired["hours_remaining"], expired["state"]) == ("40", "0", "expired")
        assert expired["ended_at"] == "2026-06-12T16:00:00Z"
        covering = {"contract_id": time_limited["id"], "hours": "2", "rule": "covering"}
        if on_expiry == "rollover":
            assert (entry["rolled_over_hours"], entry["uncovered_hours"]) == ("1", "0")
            assert entry["allocations"] == [
                covering,
                {"contract_id": next_valid["id"], "hours": "1", "rule": "rollover"},
            ]
            assert entry["contract_id"] == next_valid["id"]
            assert (await contract_view(service, next_valid["id"]))["hours_used"] == "1"
        else:
            assert (entry["rolled_over_hours"], entry["uncovered_hours"]) == ("0", "1")
            assert entry["allocations"] == [covering]
            assert entry["contract_id"] == time_limited["id"]
            assert (await contract_view(service, next_valid["id"]))["hours_used"] == "0"

        # One more hour: the request now sits on the contract it rolled to (or on the expired one).
        more = await log_time(service, request["id"], 1, "2026-06-13T09:00:00Z")
        assert (more["covered_hours"], more["uncovered_hours"]) == (
            ("1", "0") if on_expiry == "rollover" else ("0", "1")
        )
        shown = ok(await service.client.get(f"/v1/support-requests/{request['id']}", headers=OPS))
        totals = (
            shown["hours_logged"],
            shown["hours_covered"],
            shown["hours_rolled_over"],
            shown["hours_uncovered"],
        )
        assert totals == (("4", "3", "1", "0") if on_expiry == "rollover" else ("4", "2", "0", "2"))
        assert shown["coverage"]["contract_id"] == time_limited["id"]

        entries = ok(await service.client.get(f"/v1/support-requests/{request['id']}/time", headers=OPS))
        assert [e["id"] for e in entries["data"]] == [entry["id"], more["id"]]
        assert entries["data"][0] == entry
        logged = [
            e
            for e in await outbox_payloads(service, "support.time_logged")
            if e["request_id"] == request["id"]
        ]
        assert [(e["covered_hours"], e["rolled_over_hours"], e["uncovered_hours"]) for e in logged] == (
            [("2", "1", "0"), ("1", "0", "0")]
            if on_expiry == "rollover"
            else [("2", "0", "1"), ("0", "0", "1")]
        )


@pytest.mark.parametrize(("on_expiry", "covered_by_next"), [("rollover", True), ("ignore", False)])
async def test_time_spent_after_the_period_ended_follows_the_expiry_option(
    database_url: str, on_expiry: str, covered_by_next: bool
) -> None:
    async with support_service(database_url) as service:
        await _item_customer_org_unit(service)
        await deliver(
            service,
            template_event("ctpl_tl", "time_limited", period_months=12, hours=100, on_expiry=on_expiry),
            template_event("ctpl_sub", "subscription", period_months=12),
        )
        last_year = await open_contract(service, "ctpl_tl", ("subscription", "sub_item"), "2025-01-01")
        this_year = await open_contract(service, "ctpl_sub", ("account", "acct_org"), "2026-01-01")
        request = await open_request(service, "sub_item", "2025-12-30T10:00:00Z")
        assert request["contract_id"] == last_year["id"]
        entry = await log_time(service, request["id"], "2.25", "2026-01-03T10:00:00Z")
        assert entry["covered_hours"] == "0"
        assert entry["expired_contract_ids"] == [last_year["id"]]
        if covered_by_next:
            assert (entry["rolled_over_hours"], entry["uncovered_hours"]) == ("2.25", "0")
            assert entry["allocations"] == [
                {"contract_id": this_year["id"], "hours": "2.25", "rule": "rollover"}
            ]
        else:
            assert (entry["rolled_over_hours"], entry["uncovered_hours"], entry["allocations"]) == (
                "0",
                "2.25",
                [],
            )


async def test_a_pending_contract_bought_ahead_takes_the_time_of_the_request_it_covers(
    database_url: str,
) -> None:
    async with support_service(database_url) as service:
        await _item_customer_org_unit(service)
        await deliver(service, template_event("ctpl_hours", "support_hours", hours=10))
        # A support-hours contract starting next month, bought ahead.
        ahead = await open_contract(service, "ctpl_hours", ("account", "acct_cus"), "2026-07-01")
        request = await open_request(service, "sub_item", "2026-06-15T09:00:00Z")
        assert (request["coverage"]["step"], request["contract_id"]) == ("customer_pending", ahead["id"])
        entry = await log_time(service, request["id"], "1.5", "2026-06-15T11:00:00Z")
        assert (entry["covered_hours"], entry["uncovered_hours"]) == ("1.5", "0")
        assert (await contract_view(service, ahead["id"]))["hours_remaining"] == "8.5"


async def test_a_per_incident_contract_covers_its_request_until_it_closes(database_url: str) -> None:
    async with support_service(database_url) as service:
        await _item_customer_org_unit(service)
        await deliver(service, template_event("ctpl_inc", "per_incident", product_id="prod_incident"))
        request = await open_request(service, "sub_item", "2026-06-15T09:00:00Z")
        assert request["coverage"]["step"] == "per_incident"
        entry = await log_time(service, request["id"], 37, "2026-06-16T09:00:00Z")
        assert (entry["covered_hours"], entry["rolled_over_hours"], entry["uncovered_hours"]) == (
            "37",
            "0",
            "0",
        )

        closed = ok(
            await service.client.post(
                f"/v1/support-requests/{request['id']}/close",
                json={"closed_at": "2026-06-17T09:00:00Z"},
                headers=CRM,
            )
        )
        assert (closed["state"], closed["closed_at"]) == ("closed", "2026-06-17T09:00:00Z")
        incident = await contract_view(service, request["contract_id"])
        assert (incident["state"], incident["ended_at"], incident["hours_used"]) == (
            "expired",
            "2026-06-17T09:00:00Z",
            "37",
        )
        late = await service.client.post(
            f"/v1/support-requests/{request['id']}/time",
            json={"hours": 1, "logged_at": "2026-06-18T09:00:00Z"},
            headers=CRM,
        )
        assert late.status_code == 409
        again = await service.client.post(f"/v1/support-requests/{request['id']}/close", headers=CRM)
        assert again.status_code == 409
        # The next request of the item is charged again: per-incident contracts cover one request.
        second = await open_request(service, "sub_item", "2026-06-20T09:00:00Z")
        assert (
            second["coverage"]["step"] == "per_incident" and second["contract_id"] != request["contract_id"]
        )
        assert len(await outbox_payloads(service, "support.incident_charged")) == 2
        closed_events = await outbox_payloads(service, "support.request_closed")
        assert [(e["request_id"], e["hours_logged"]) for e in closed_events] == [(request["id"], "37")]
        listed = ok(
            await service.client.get(
                "/v1/support-requests?state=closed&subscription_id=sub_item", headers=OPS
            )
        )
        assert [r["id"] for r in listed["data"]] == [request["id"]]
        listed = ok(
            await service.client.get("/v1/support-requests?state=open&account_id=acct_cus", headers=OPS)
        )
        assert [r["id"] for r in listed["data"]] == [second["id"]]


async def test_without_a_contract_the_per_incident_template_must_be_known(database_url: str) -> None:
    async with support_service(database_url) as service:
        await _item_customer_org_unit(service)
        body = {"subscription_id": "sub_item", "summary": "Down", "opened_at": "2026-06-15T09:00:00Z"}
        none = await service.client.post("/v1/support-requests", json=body, headers=CRM)
        assert none.status_code == 409, none.text
        await deliver(
            service,
            template_event("ctpl_inc_a", "per_incident", product_id="prod_a"),
            template_event("ctpl_inc_b", "per_incident", product_id="prod_b"),
            template_event("ctpl_hours", "support_hours", hours=10),
        )
        several = await service.client.post("/v1/support-requests", json=body, headers=CRM)
        assert several.status_code == 422
        assert [e["field"] for e in several.json()["errors"]] == ["per_incident_template_id"]
        wrong_kind = await service.client.post(
            "/v1/support-requests", json=body | {"per_incident_template_id": "ctpl_hours"}, headers=CRM
        )
        assert [e["field"] for e in wrong_kind.json()["errors"]] == ["per_incident_template_id"]
        named = await open_request(
            service, "sub_item", "2026-06-15T09:00:00Z", per_incident_template_id="ctpl_inc_b"
        )
        assert (await contract_view(service, named["contract_id"]))["product_id"] == "prod_b"
        assert ok(await service.client.get("/v1/support-requests", headers=OPS))["data"] == [named]


async def test_bad_requests_and_time_are_refused_with_reasons(database_url: str) -> None:
    async with support_service(database_url) as service:
        await _item_customer_org_unit(service)
        await deliver(service, template_event("ctpl_sub", "subscription", period_months=12))
        await open_contract(service, "ctpl_sub", ("subscription", "sub_item"), "2026-01-01")
        post = service.client.post
        body: dict[str, Any] = {
            "subscription_id": "sub_item",
            "summary": "Down",
            "opened_at": "2026-06-15T09:00:00Z",
        }

        async def fields(response: Any, status: int = 422) -> list[str]:
            assert response.status_code == status, response.text
            assert response.headers["content-type"] == "application/problem+json"
            return [e["field"] for e in response.json().get("errors", [])]

        assert (
            await fields(
                await post("/v1/support-requests", json=body | {"subscription_id": "sub_x"}, headers=CRM), 404
            )
            == []
        )
        assert await fields(await post("/v1/support-requests", json=body | {"summary": ""}, headers=CRM)) == [
            "summary"
        ]
        assert await fields(
            await post("/v1/support-requests", json=body | {"opened_at": "2026-06-15T09:00:00"}, headers=CRM)
        ) == ["opened_at"]
        assert await fields(
            await post("/v1/support-requests", json=body | {"opened_at": 1781514000}, headers=CRM)
        ) == ["opened_at"]
        assert await fields(
            await post(
                "/v1/support-requests", json=body | {"opened_at": "9999-12-31T23:59:59-10:00"}, headers=CRM
            )
        ) == ["opened_at"]
        assert await fields(await post("/v1/support-requests", json=body | {"priority": 1}, headers=CRM)) == [
            "priority"
        ]
        assert await fields(await post("/v1/support-requests", json=body, headers=OPS), 403) == []

        request = await open_request(service, "sub_item", "2026-06-15T09:00:00Z")
        time = f"/v1/support-requests/{request['id']}/time"
        at = "2026-06-15T10:00:00Z"
        assert await fields(await post(time, json={"hours": 0, "logged_at": at}, headers=CRM)) == ["hours"]
        assert await fields(await post(time, json={"hours": "-1", "logged_at": at}, headers=CRM)) == ["hours"]
        assert await fields(await post(time, json={"hours": 1.5, "logged_at": at}, headers=CRM)) == ["hours"]
        assert await fields(await post(time, json={"hours": "0.0000001", "logged_at": at}, headers=CRM)) == [
            "hours"
        ]
        assert await fields(await post(time, json={"hours": 100001, "logged_at": at}, headers=CRM)) == [
            "hours"
        ]
        before = {"hours": 1, "logged_at": "2026-06-15T08:00:00Z"}
        assert await fields(await post(time, json=before, headers=CRM)) == ["logged_at"]
        assert (
            await fields(await post("/v1/support-requests/srq_x/time", json={"hours": 1}, headers=CRM), 404)
            == []
        )
        assert await fields(
            await post(
                f"/v1/support-requests/{request['id']}/close",
                json={"closed_at": "2026-06-14T00:00:00Z"},
                headers=CRM,
            )
        ) == ["closed_at"]
        # Nothing was logged by the refused calls.
        shown = ok(await service.client.get(f"/v1/support-requests/{request['id']}", headers=OPS))
        assert (shown["hours_logged"], shown["state"]) == ("0", "open")


async def test_concurrent_time_on_one_contract_never_draws_more_than_it_has(database_url: str) -> None:
    async with support_service(database_url) as service:
        await _item_customer_org_unit(service)
        await deliver(service, template_event("ctpl_tl", "time_limited", period_months=12, hours=40))
        contract = await open_contract(service, "ctpl_tl", ("subscription", "sub_item"), "2026-01-01")
        warm_up = await open_request(service, "sub_item", "2026-02-01T09:00:00Z")
        await log_time(service, warm_up["id"], 38, "2026-02-01T10:00:00Z")
        first = await open_request(service, "sub_item", "2026-06-15T09:00:00Z")
        second = await open_request(service, "sub_item", "2026-06-15T09:00:00Z")

        async def two_hours(request_id: str) -> Any:
            body = {"hours": 2, "logged_at": "2026-06-15T10:00:00Z"}
            return await service.client.post(
                f"/v1/support-requests/{request_id}/time", json=body, headers=CRM
            )

        responses = await asyncio.gather(two_hours(first["id"]), two_hours(second["id"]))
        assert sorted(r.status_code for r in responses) in ([201, 201], [201, 409])
        covered = sum(Decimal(r.json()["covered_hours"]) for r in responses if r.status_code == 201)
        assert covered == 2  # the two hours left, drawn once
        shown = await contract_view(service, contract["id"])
        assert (shown["hours_used"], shown["hours_remaining"], shown["state"]) == ("40", "0", "expired")


async def test_a_contract_changed_meanwhile_is_a_conflict_not_a_lost_drawdown(postgres_url: str) -> None:
    # SQLite serialises writers (BEGIN IMMEDIATE); on PostgreSQL two transactions may hold the
    # same contract, and the second write must not overwrite the first one's hours.
    async with support_service(postgres_url) as service:
        await _item_customer_org_unit(service)
        await deliver(service, template_event("ctpl_hours", "support_hours", hours=10))
        contract = await open_contract(service, "ctpl_hours", ("subscription", "sub_item"), "2026-01-01")
        at = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
        async with (
            service.runtime.rating_unit_of_work() as first,
            service.runtime.rating_unit_of_work() as second,
        ):
            mine = await first.support_contracts.get(contract["id"])
            theirs = await second.support_contracts.get(contract["id"])
            mine.draw(Decimal(3), at=at, now=at)
            await first.support_contracts.save(mine)
            await first.commit()
            theirs.draw(Decimal(4), at=at, now=at)
            with pytest.raises(Conflict):
                await second.support_contracts.save(theirs)
        assert (await contract_view(service, contract["id"]))["hours_used"] == "3"
