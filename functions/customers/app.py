"""Customers: finding them, PUT/GET /customers/{id}, their ledger and their coupons."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill.api import build_resolver, current_principal, json_response, resolve
from goodwill.auth import Role
from goodwill.customer_search import search
from goodwill.models.common import ID_PATTERN
from goodwill.models.customers import CustomerPutRequest
from goodwill.models.responses import CouponPage, CustomerPage, CustomerResponse, TransactionPage, route_responses
from goodwill.observability import logger, metrics
from goodwill.services import customers

app = build_resolver()

CustomerId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=100)]
NextToken = Annotated[str | None, Query(max_length=2048)]


@app.get(
    "/customers",
    summary="Find customers",
    description=(
        "Role: agent. `q` matches exactly a customer id, an e-mail (case-insensitive) or a phone "
        "(E.164; spaces, dots, dashes and brackets are ignored), or the start of a name "
        "(case-insensitive, at least 2 characters). Exact matches come first on the first page, "
        "then names in alphabetical order. Each customer comes with their balances, as in "
        "GET /customers/{customer_id}. Pass `next_token` back with the same `q`."
    ),
    tags=["Customers"],
    operation_id="searchCustomers",
    responses=route_responses({200: (CustomerPage, "A page of customers")}),
)
def search_customers(
    q: Annotated[str, Query(min_length=1, max_length=254)],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    next_token: NextToken = None,
) -> Any:
    principal = current_principal(app, Role.AGENT)
    return json_response(200, search.search(principal, q, limit, next_token))


@app.put(
    "/customers/<customer_id>",
    summary="Create or replace a customer",
    description="Role: admin. A full replace of the profile; the e-mail is unique within the org.",
    tags=["Customers"],
    operation_id="putCustomer",
    responses=route_responses(
        {201: (CustomerResponse, "Created"), 200: (CustomerResponse, "Replaced")},
        body=True,
        conflict="EMAIL_IN_USE: another customer of the org has this e-mail",
        ids_in_path=True,
    ),
)
def put_customer(customer_id: CustomerId, body: Annotated[CustomerPutRequest, Body()]) -> Any:
    principal = current_principal(app, Role.ADMIN)
    created, view = customers.put_customer(principal, customer_id, body)
    return json_response(201 if created else 200, view)


@app.get(
    "/customers/<customer_id>",
    summary="Read a customer with their balances",
    description="Role: agent.",
    tags=["Customers"],
    operation_id="getCustomer",
    responses=route_responses(
        {200: (CustomerResponse, "The customer")}, not_found="no such customer", ids_in_path=True
    ),
)
def get_customer(customer_id: CustomerId) -> Any:
    return json_response(200, customers.get_customer(current_principal(app), customer_id))


@app.get(
    "/customers/<customer_id>/transactions",
    summary="List a customer's ledger entries, newest first",
    description="Role: agent.",
    tags=["Customers"],
    operation_id="listTransactions",
    responses=route_responses(
        {200: (TransactionPage, "A page of ledger entries")}, not_found="no such customer", ids_in_path=True
    ),
)
def list_transactions(
    customer_id: CustomerId,
    program_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")] = None,
    limit: Limit = 25,
    next_token: NextToken = None,
) -> Any:
    principal = current_principal(app)
    return json_response(200, customers.list_transactions(principal, customer_id, program_id, limit, next_token))


@app.get(
    "/customers/<customer_id>/coupons",
    summary="List the coupons issued to a customer",
    description="Role: agent.",
    tags=["Customers"],
    operation_id="listCustomerCoupons",
    responses=route_responses({200: (CouponPage, "A page of coupons")}, not_found="no such customer", ids_in_path=True),
)
def list_coupons(customer_id: CustomerId, limit: Limit = 25, next_token: NextToken = None) -> Any:
    principal = current_principal(app)
    return json_response(200, customers.list_coupons(principal, customer_id, limit, next_token))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
