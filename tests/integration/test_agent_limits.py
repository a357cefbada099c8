"""Agent daily limits: exact under concurrency, over the limit goes to approval, approvers unlimited."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.support import ADMIN, AGENT, APPROVER, Api, claims

LIMIT = 1000


def _limited(api: Api, limit: int = LIMIT) -> None:
    assert api.put("/config", {"points": {"agent_daily_limit": limit}}).status == 200


def test_concurrent_grants_of_one_agent_never_pass_the_daily_limit(api: Api) -> None:
    # Given a limit of 1000 points a day and ten customers
    _limited(api)
    for i in range(10):
        api.customer(f"c-{i}")
    sizes = [7 + (i * 37) % 41 for i in range(100)]  # 7..47 points, 2,649 in all

    # When one agent sends 100 credits at once
    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(lambda n: (n, api.grant(f"c-{n % 10}", sizes[n])), range(100)))

    # Then the auto-approved credits sum to at most the limit, and the counter holds exactly that sum
    applied = [sizes[n] for n, r in replies if r.status == 201]
    held = [(sizes[n], r) for n, r in replies if r.status == 202]
    assert len(applied) + len(held) == 100
    assert sum(applied) <= LIMIT
    assert api.get("/me/limits", as_=AGENT).body == {
        "date": api.get("/me/limits", as_=AGENT).body["date"],
        "agent_daily_limit": LIMIT,
        "used": sum(applied),
        "remaining": LIMIT - sum(applied),
    }
    # and each held grant would pass the limit even now, and says why in its history
    assert held
    for points, reply in held:
        assert sum(applied) + points > LIMIT
        created = reply.body["request"]["history"][0]
        assert created["held_for_approval"] == "AGENT_DAILY_LIMIT"
        assert reply.body["request"]["status"] == "PENDING_APPROVAL"
    assert sum(api.balance(f"c-{i}")["current"] for i in range(10)) == sum(applied)


def test_grant_over_the_limit_waits_for_approval_and_counts_nothing(api: Api) -> None:
    # Given an agent who has credited 900 of 1000 points today
    _limited(api)
    api.customer("c-1")
    assert api.grant("c-1", 900).status == 201

    # When they credit 200 more, then a debit, then 100
    over = api.grant("c-1", 200)
    debit = api.grant("c-1", -50)
    exact = api.grant("c-1", 100)

    # Then the 200 waits (with the reason), the debit is not limited, and 100 reaches the limit exactly
    assert over.status == 202
    assert "900 of the 1000" in over.body["request"]["history"][0]["detail"]
    assert (debit.status, exact.status) == (201, 201)
    assert api.get("/me/limits", as_=AGENT).body["used"] == 1000
    assert api.grant("c-1", 1).status == 202
    assert api.balance("c-1")["current"] == 950


def test_approvers_and_admins_are_not_limited_and_agents_count_separately(api: Api) -> None:
    # Given a limit of 10
    _limited(api, 10)
    api.customer("c-1")

    # When an approver, an admin and two agents credit 10 or more
    approver = api.grant("c-1", 500, as_=APPROVER)
    admin = api.grant("c-1", 500, as_=ADMIN)
    first = api.grant("c-1", 10, as_=AGENT)
    other = api.grant("c-1", 10, as_=claims(roles="agent", actor="erin"))

    # Then nothing waits, and each agent's counter holds their own credits
    assert [r.status for r in (approver, admin, first, other)] == [201, 201, 201, 201]
    assert api.get("/me/limits", as_=APPROVER).body["agent_daily_limit"] is None
    assert api.get("/me/limits", as_=AGENT).body["remaining"] == 0


def test_a_held_grant_once_approved_is_applied_and_an_idempotent_repeat_replays_the_202(api: Api) -> None:
    # Given an agent at their limit
    _limited(api, 100)
    api.customer("c-1")
    assert api.grant("c-1", 100).status == 201

    # When they send a keyed grant over it, twice
    first = api.grant("c-1", 50, key="k-1")
    again = api.grant("c-1", 50, key="k-1")

    # Then both answers are the same 202 and the request can be approved
    assert (first.status, again.status) == (202, 202)
    assert first.body == again.body
    request_id = first.body["request"]["request_id"]
    api.stack.settle()
    assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 200
    api.stack.settle()
    assert api.balance("c-1")["current"] == 150


def test_reversing_a_debit_counts_against_the_agents_limit_like_a_credit(api: Api) -> None:
    # Given an agent who has credited 900 of 1000 points today, and a 500-point debit by an admin
    _limited(api)
    api.customer("c-1")
    assert api.grant("c-1", 900).status == 201
    debit = api.grant("c-1", -500, as_=ADMIN)
    small = api.grant("c-1", -60, as_=ADMIN)
    path = "/customers/c-1/transactions/{}/reverse"

    # When the agent reverses the debit (500 points back to the customer), then the 60-point one
    big = api.post(path.format(debit.body["transaction"]["transaction_id"]), {"reason": "CORRECTION"}, as_=AGENT)
    fits = api.post(path.format(small.body["transaction"]["transaction_id"]), {"reason": "CORRECTION"}, as_=AGENT)

    # Then the 500 waits for an approver, saying why; the 60 applies and is counted
    assert big.status == 202, big.body
    assert big.body["request"]["history"][0]["held_for_approval"] == "AGENT_DAILY_LIMIT"
    assert fits.status == 201, fits.body
    assert api.get("/me/limits", as_=AGENT).body["used"] == 960
    assert api.balance("c-1")["current"] == 900 - 500


def test_an_api_client_is_no_agent_its_credits_are_not_held_by_the_agent_limit(api: Api) -> None:
    from tests.integration.test_api_clients import create_client, grant_body, token_claims

    # Given a limit of 1000 and a storefront's client (bounded by its rate limit and the org's
    # max_per_request and approval_threshold, not by the agents' daily limit)
    _limited(api)
    api.customer("c-1")
    client = create_client(api, ["goodwill/points.write"])
    # When it credits 800 points twice in a day
    replies = [api.post("/goodwill/points", grant_body(points=800), as_=token_claims(client)) for _ in range(2)]
    # Then both apply, and an agent's day is untouched by them
    assert [r.status for r in replies] == [201, 201], replies[-1].body
    assert api.balance()["current"] == 1600
    assert api.get("/me/limits", as_=AGENT).body["used"] == 0
    assert api.grant("c-1", 900).status == 201
