"""settings.py and errors.py: every variable the template gives a function is read under its
name, and every domain error answers with its own status and code."""

from __future__ import annotations

import pytest

from goodwill import errors
from goodwill.bulk.csvlines import CsvFileError
from goodwill.settings import Settings, from_environ, variable
from local.aws import template

# Variables the template sets for the runtime around the code, not for goodwill.settings.
NOT_SETTINGS = {"AWS_LAMBDA_EXEC_WRAPPER", "OTEL_SERVICE_NAME", "POWERTOOLS_SERVICE_NAME"}
NOT_SETTINGS |= {"POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}


def template_variables() -> set[str]:
    doc = template.load()
    found = set(doc["Globals"]["Function"].get("Environment", {}).get("Variables", {}))
    for function in template.resources("AWS::Serverless::Function").values():
        found |= set(function["Properties"].get("Environment", {}).get("Variables", {}))
    return found


def test_every_variable_the_template_sets_is_a_setting() -> None:
    read = {variable(field) for field in Settings._fields}
    assert template_variables() - NOT_SETTINGS - read == set()


def test_a_setting_is_read_from_its_name_in_capitals_unless_it_names_another() -> None:
    names = {name: variable(name) for name in Settings._fields}
    assert names.pop("local_webhooks") == "GOODWILL_LOCAL_WEBHOOKS"
    assert names == {name: name.upper() for name in names}


def test_settings_come_from_the_environment_and_are_checked() -> None:
    settings = from_environ({"TABLE_NAME": "t", "IMPORT_CHUNK_ROWS": "7", "GOODWILL_LOCAL_WEBHOOKS": "1"})
    assert (settings.table_name, settings.import_chunk_rows, settings.local_webhooks) == ("t", 7, True)
    assert from_environ({"LOCAL_WEBHOOKS": "1"}).local_webhooks is False  # not its name
    assert from_environ({"DYNAMODB_PARAM_VALIDATION": "false"}).dynamodb_param_validation is False
    assert from_environ({"WEBHOOK_TIMEOUT_SECONDS": "2.5"}).webhook_timeout_seconds == 2.5
    assert from_environ({}) == Settings()  # every field has its default


@pytest.mark.parametrize(
    ("variable_name", "value", "words"),
    [
        ("IMPORT_CHUNK_ROWS", "0", "must be >= 1"),
        ("IMPORT_CHUNK_ROWS", "many", "not a valid int"),
        ("WEBHOOK_TIMEOUT_SECONDS", "0", "must be > 0"),
        ("API_CLIENT_CACHE_SECONDS", "61", "must be <= 60"),
        ("GOODWILL_LOCAL_WEBHOOKS", "maybe", "not a valid bool"),
    ],
)
def test_a_setting_that_does_not_fit_names_its_variable(variable_name: str, value: str, words: str) -> None:
    with pytest.raises(ValueError, match=f"{variable_name}: .*{words}"):
        from_environ({variable_name: value})


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (errors.GoodwillError, 500, "INTERNAL_ERROR"),
        (errors.UnauthorizedError, 401, "UNAUTHORIZED"),
        (errors.SelfApprovalForbiddenError, 403, "SELF_APPROVAL_FORBIDDEN"),
        (errors.NotFoundError, 404, "NOT_FOUND"),
        (errors.InsufficientBalanceError, 409, "INSUFFICIENT_BALANCE"),
        (errors.NotReversibleError, 409, "NOT_REVERSIBLE"),
        (errors.PayloadTooLargeError, 413, "PAYLOAD_TOO_LARGE"),
        (errors.ValidationFailedError, 422, "VALIDATION_ERROR"),
        (errors.TooManyRequestsError, 429, "TOO_MANY_REQUESTS"),
        (errors.ServiceUnavailableError, 503, "SERVICE_UNAVAILABLE"),
        (CsvFileError, 422, "INVALID_FILE"),
    ],
)
def test_each_error_answers_with_its_status_and_code(error: type[errors.GoodwillError], status: int, code: str) -> None:
    raised = error("what happened")
    assert (raised.status_code, raised.code, raised.message) == (status, code, "what happened")


def test_a_subclass_keeps_what_it_does_not_name_and_leaves_its_parent_alone() -> None:
    class Gone(errors.NotFoundError, code="GONE"): ...

    assert (Gone.status_code, Gone.code) == (404, "GONE")
    assert (errors.NotFoundError.status_code, errors.NotFoundError.code) == (404, "NOT_FOUND")
    assert isinstance(Gone("x"), errors.NotFoundError)


def test_a_field_error_names_the_field() -> None:
    error = errors.ValidationFailedError.field("points", "must not be 0")
    assert error.message == "points: must not be 0"
    assert error.details == [{"field": "points", "message": "must not be 0"}]
