"""Customers: finding them, PUT/GET /customers/{id}, their ledger and their coupons."""

from __future__ import annotations

from typing import Annotated, Any

from goodwill.api import json_response
from goodwill.auth import Role
from goodwill.customer_search import search
from goodwill.customers import profiles
from goodwill.handler import Api, Body, NextToken, OnlyIfNew, PageLimit, PathId, Query
from goodwill.models.customers import CustomerPutRequest

app = Api("Customers")
NO_SUCH_CUSTOMER = "no such customer"


@app.endpoint("GET /customers", {200: ("CustomerPage", "A page of customers")}, role=Role.AGENT)
def search_customers(
    q: Annotated[str, Query(min_length=1, max_length=254)],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    next_token: NextToken = None,
) -> Any:
    """Find customers

    Role: agent. `q` matches exactly a customer id, an e-mail (case-insensitive) or a phone
    (E.164; spaces, dots, dashes and brackets are ignored), or the start of a name
    (case-insensitive, at least 2 characters). Exact matches come first, then names in
    alphabetical order; never more than `limit` a page, a `next_token` while more may follow,
    each match once across the pages. Each customer comes with their balances, as in
    GET /customers/{customer_id}. Pass `next_token` back with the same `q`."""
    return json_response(200, search.search(app.caller(), q, limit, next_token))


@app.endpoint(
    "PUT /customers/<customer_id>",
    {201: ("CustomerResponse", "Created"), 200: ("CustomerResponse", "Replaced")},
    conflict="EMAIL_IN_USE: another customer of the org has this e-mail",
    precondition="PRECONDITION_FAILED: If-None-Match: * and the customer exists (nothing changed)",
    role=Role.ADMIN,
)
def put_customer(
    customer_id: PathId, body: Annotated[CustomerPutRequest, Body()], only_if_new: OnlyIfNew = None
) -> Any:
    """Create or replace a customer

    Role: admin. A full replace of the profile; the e-mail is unique within the org. With
    `If-None-Match: *` only a new customer is created: an existing one is 412 and stays as it is."""
    created, view = profiles.put_customer(app.caller(), customer_id, body, only_if_new=only_if_new is not None)
    return json_response(201 if created else 200, view)


@app.endpoint(
    "GET /customers/<customer_id>",
    {200: ("CustomerResponse", "The customer")},
    not_found=NO_SUCH_CUSTOMER,
    role=Role.AGENT,
)
def get_customer(customer_id: PathId) -> Any:
    """Read a customer with their balances

    Role: agent."""
    return json_response(200, profiles.get_customer(app.caller(), customer_id))


@app.endpoint(
    "GET /customers/<customer_id>/transactions",
    {200: ("TransactionPage", "A page of ledger entries")},
    not_found=NO_SUCH_CUSTOMER,
    role=Role.AGENT,
)
def list_transactions(
    customer_id: PathId,
    program_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")] = None,
    limit: PageLimit = 25,
    next_token: NextToken = None,
) -> Any:
    """List a customer's ledger entries, newest first

    Role: agent."""
    found = profiles.list_transactions(app.caller(), customer_id, program_id, limit, next_token)
    return json_response(200, found)


@app.endpoint(
    "GET /customers/<customer_id>/coupons",
    {200: ("CouponPage", "A page of coupons")},
    not_found=NO_SUCH_CUSTOMER,
    role=Role.AGENT,
)
def list_customer_coupons(customer_id: PathId, limit: PageLimit = 25, next_token: NextToken = None) -> Any:
    """List the coupons issued to a customer

    Role: agent."""
    return json_response(200, profiles.list_coupons(app.caller(), customer_id, limit, next_token))


lambda_handler = app.entry_point()
