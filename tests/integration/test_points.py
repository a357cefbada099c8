from tests.support import AGENT, Api


def test_grant_credit_auto_approved_updates_balance_and_ledger(api: Api) -> None:
    # Given a customer
    api.customer("c-1")
    # When an agent grants 150 points
    reply = api.grant("c-1", 150, comment="late parcel", customer_message="Sorry!")
    # Then the request is fulfilled, the balance and the ledger show it
    assert reply.status == 201, reply.body
    assert reply.body["request"]["status"] == "FULFILLED"
    assert reply.body["balance"] == {"current": 150, "lifetime": 150}
    assert reply.body["transaction"]["type"] == "GOODWILL_CREDIT"
    assert api.balance("c-1") == {"current": 150, "lifetime": 150}
    ledger = api.ledger("c-1")
    assert [e["points"] for e in ledger] == [150]
    assert ledger[0]["current_after"] == 150
    assert ledger[0]["actor"] == AGENT["sub"]
