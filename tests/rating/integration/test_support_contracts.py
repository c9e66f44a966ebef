"""Support contracts through the API on SQLite and PostgreSQL: templates kept from the catalog's
events (the `rating.support` consumer), contracts opened for an item, a customer or an org unit,
their states, lists and cancellation (seed 004, EXAMPLES §5)."""

from __future__ import annotations

from datetime import timedelta

from tests.rating.integration.factories import (
    outbox_payloads,
    rated_account,
    rated_subscription,
)
from tests.rating.integration.factories_support import (
    CRM,
    FINANCE,
    NOW,
    OPS,
    contract_view,
    deliver,
    ok,
    open_contract,
    support_service,
    template_event,
)


async def test_templates_follow_the_catalogs_latest_event_and_contracts_copy_their_terms(
    database_url: str,
) -> None:
    async with support_service(database_url) as service:
        await rated_subscription(
            service, subscription_id="sub_1", account_id=await rated_account(service, account_id="acct_1")
        )
        created = template_event("ctpl_tl", "time_limited", period_months=12, hours=40, on_expiry="rollover")
        assert await deliver(service, created) == 1
        assert await deliver(service, created) == 0  # redelivered: the inbox skips it

        first = await open_contract(service, "ctpl_tl", ("subscription", "sub_1"), "2026-01-01")
        assert {k: first[k] for k in ("kind", "starts_on", "ends_on", "hours_granted", "hours_used")} == {
            "kind": "time_limited",
            "starts_on": "2026-01-01",
            "ends_on": "2027-01-01",
            "hours_granted": "40",
            "hours_used": "0",
        }
        assert (first["on_expiry"], first["state"], first["account_id"]) == ("rollover", "active", "acct_1")
        assert (first["hours_remaining"], first["product_id"], first["time_zone"]) == (
            "40",
            "prod_support",
            "UTC",
        )

        # An older event (delivered late) changes nothing; a newer one changes the template.
        late = template_event(
            "ctpl_tl", "time_limited", period_months=12, hours=80, occurred_at=NOW - timedelta(days=1)
        )
        await deliver(service, late)
        assert (await open_contract(service, "ctpl_tl", ("subscription", "sub_1"), "2026-01-01"))[
            "hours_granted"
        ] == "40"
        newer = template_event(
            "ctpl_tl", "time_limited", period_months=6, hours="60.5", occurred_at=NOW + timedelta(seconds=1)
        )
        await deliver(service, newer)
        second = await open_contract(service, "ctpl_tl", ("subscription", "sub_1"), "2026-01-01")
        assert (second["hours_granted"], second["ends_on"], second["on_expiry"]) == (
            "60.5",
            "2026-07-01",
            "ignore",
        )
        # A contract sold earlier keeps the terms it was sold on.
        assert (await contract_view(service, first["id"]))["hours_granted"] == "40"


async def test_a_contract_for_each_holder_with_the_overrides_its_kind_allows(database_url: str) -> None:
    async with support_service(database_url) as service:
        org = await rated_account(service, account_id="acct_org", time_zone="Europe/Paris")
        customer = await rated_account(service, account_id="acct_cus", parent_account_id=org)
        await rated_subscription(service, subscription_id="sub_1", account_id=customer)
        await deliver(
            service,
            template_event("ctpl_sub", "subscription", period_months=12),
            template_event("ctpl_hours", "support_hours", hours=10, on_expiry="rollover"),
        )
        item = await open_contract(
            service, "ctpl_sub", ("subscription", "sub_1"), "2026-01-31", period_months=1
        )
        assert (item["ends_on"], item["hours_granted"], item["account_id"]) == (
            "2026-02-28",
            None,
            "acct_cus",
        )
        on_customer = await open_contract(
            service, "ctpl_hours", ("account", customer), "2026-03-01", hours="12.5"
        )
        assert (on_customer["hours_granted"], on_customer["ends_on"]) == ("12.5", None)
        on_org = await open_contract(service, "ctpl_hours", ("account", org), "2026-03-01")
        assert (on_org["account_id"], on_org["time_zone"], on_org["hours_granted"]) == (
            "acct_org",
            "Europe/Paris",
            "10",
        )

        opened = await outbox_payloads(service, "support.contract_changed")
        assert [(e["contract_id"], e["change"], e["holder_id"]) for e in opened] == [
            (item["id"], "opened", "sub_1"),
            (on_customer["id"], "opened", customer),
            (on_org["id"], "opened", org),
        ]
        audit = ok(await service.client.get(f"/v1/audit-log?entity_id={on_org['id']}", headers=FINANCE))
        assert [a["action"] for a in audit["data"]] == ["support_contract.opened"]


async def test_bad_contracts_are_refused_with_reasons(database_url: str) -> None:
    async with support_service(database_url) as service:
        await rated_subscription(
            service, subscription_id="sub_1", account_id=await rated_account(service, account_id="acct_1")
        )
        await deliver(
            service,
            template_event("ctpl_sub", "subscription", period_months=12),
            template_event("ctpl_inc", "per_incident"),
        )
        post = service.client.post

        async def refused(body: dict[str, object], status: int = 422) -> list[str]:
            base = {"template_id": "ctpl_sub", "holder_type": "subscription", "holder_id": "sub_1"}
            response = await post(
                "/v1/support-contracts", json=base | {"starts_on": "2026-01-01"} | body, headers=FINANCE
            )
            assert response.status_code == status, response.text
            assert response.headers["content-type"] == "application/problem+json"
            return [e["field"] for e in response.json().get("errors", [])]

        assert await refused({"hours": 10}) == ["hours"]
        assert await refused({"template_id": "ctpl_inc"}) == ["template_id"]
        assert await refused({"starts_on": "2026-02-30"}) == ["starts_on"]
        assert await refused({"starts_on": "1999-12-31"}) == ["starts_on"]
        assert await refused({"period_months": 0}) == ["period_months"]
        assert await refused({"holder_type": "org_unit"}) == ["holder_type"]
        assert await refused({"color": "red"}) == ["color"]
        assert await refused({"template_id": "ctpl_none"}, 404) == []
        assert await refused({"holder_id": "sub_none"}, 404) == []
        assert await refused({"holder_type": "account", "holder_id": "acct_none"}, 404) == []
        # Only admin and finance sell contracts.
        response = await post(
            "/v1/support-contracts",
            json={
                "template_id": "ctpl_sub",
                "holder_type": "subscription",
                "holder_id": "sub_1",
                "starts_on": "2026-01-01",
            },
            headers=CRM,
        )
        assert response.status_code == 403
        assert ok(await service.client.get("/v1/support-contracts", headers=OPS))["data"] == []


async def test_states_filters_and_pages_read_each_contract_on_its_holders_date(database_url: str) -> None:
    # The clock says 2026-11-30T12:00Z: already 2026-12-01 in Auckland, still 2026-11-30 in UTC.
    async with support_service(database_url) as service:
        utc = await rated_account(service, account_id="acct_utc")
        auckland = await rated_account(service, account_id="acct_akl", time_zone="Pacific/Auckland")
        await deliver(
            service,
            template_event("ctpl_sub", "subscription", period_months=12),
            template_event("ctpl_hours", "support_hours", hours=2),
        )
        active = await open_contract(service, "ctpl_sub", ("account", utc), "2026-01-01")
        pending = await open_contract(service, "ctpl_sub", ("account", utc), "2026-12-01")
        starts_in_auckland = await open_contract(service, "ctpl_sub", ("account", auckland), "2026-12-01")
        expired = await open_contract(service, "ctpl_sub", ("account", utc), "2025-01-01")
        cancelled = await open_contract(service, "ctpl_hours", ("account", utc), "2026-01-01")
        assert (pending["state"], starts_in_auckland["state"], expired["state"]) == (
            "pending",
            "active",
            "expired",
        )

        response = await service.client.post(
            f"/v1/support-contracts/{cancelled['id']}/cancel", headers=FINANCE
        )
        assert ok(response)["state"] == "cancelled"
        again = await service.client.post(f"/v1/support-contracts/{cancelled['id']}/cancel", headers=FINANCE)
        assert again.status_code == 409

        async def listed(query: str) -> list[str]:
            return [
                c["id"]
                for c in ok(await service.client.get(f"/v1/support-contracts?{query}", headers=OPS))["data"]
            ]

        assert await listed("state=active") == [active["id"], starts_in_auckland["id"]]
        assert await listed("state=pending") == [pending["id"]]
        assert await listed("state=expired") == [expired["id"]]
        assert await listed("state=cancelled") == [cancelled["id"]]
        assert await listed(f"holder_type=account&holder_id={auckland}") == [starts_in_auckland["id"]]
        assert await listed("holder_type=subscription") == []

        first = ok(await service.client.get("/v1/support-contracts?limit=3&holder_id=acct_utc", headers=OPS))
        assert first["has_more"] and len(first["data"]) == 3
        rest = ok(
            await service.client.get(
                f"/v1/support-contracts?limit=3&cursor={first['next_cursor']}&holder_id=acct_utc", headers=OPS
            )
        )
        assert [c["id"] for c in first["data"] + rest["data"]] == [
            active["id"],
            pending["id"],
            expired["id"],
            cancelled["id"],
        ]
        assert not rest["has_more"]
        assert (await service.client.get("/v1/support-contracts/sct_unknown", headers=OPS)).status_code == 404
        assert (
            await service.client.get("/v1/support-contracts?state=sleeping", headers=OPS)
        ).status_code == 422
