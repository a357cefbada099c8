"""DynamoDB sizing and capacity arithmetic used by the cost benchmark (bench/capacity.py)."""

from __future__ import annotations

import pytest

from bench import capacity

GSI1 = ("GSI1PK", "GSI1SK")


@pytest.mark.parametrize(
    ("number", "size"),
    [("0", 1), ("7", 2), ("100", 2), ("123456", 4), ("-499", 3), ("-0.00120", 2), ("1E+5", 2)],
)
def test_number_size_counts_significant_digits_in_pairs_plus_one(number: str, size: int) -> None:
    assert capacity.number_size(number) == size


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "héllo"}, 6),
        ({"BOOL": True}, 1),
        ({"NULL": True}, 1),
        ({"B": b"\x00\x01\x02"}, 3),
        ({"B": "AAEC"}, 3),
        ({"SS": ["a", "bc"]}, 3),
        ({"NS": ["1", "100"]}, 4),
        ({"L": []}, 3),
        ({"L": [{"S": "ab"}, {"BOOL": False}]}, 3 + 3 + 2),
        ({"M": {"a": {"N": "1"}}}, 3 + 1 + 2 + 1),
    ],
)
def test_value_size_follows_the_documented_rules(value: dict[str, object], size: int) -> None:
    assert capacity.value_size(value) == size


def test_item_size_adds_attribute_names_to_their_values() -> None:
    item = {"PK": {"S": "ORG#a"}, "points": {"N": "100"}, "tags": {"L": [{"S": "x"}]}}

    assert capacity.item_size(item) == (2 + 5) + (6 + 2) + (4 + 3 + 1 + 1)


def test_item_size_of_a_missing_item_is_zero() -> None:
    assert capacity.item_size(None) == 0


@pytest.mark.parametrize(
    ("size", "transactional", "units"),
    [(0, False, 1), (1024, False, 1), (1025, False, 2), (1025, True, 4), (300, True, 2)],
)
def test_write_units_round_up_per_kb_and_double_in_transactions(size: int, transactional: bool, units: int) -> None:
    assert capacity.write_units(size, transactional) == units


@pytest.mark.parametrize(
    ("size", "consistent", "transactional", "units"),
    [
        (0, True, False, 1.0),
        (0, False, False, 0.5),
        (4096, True, False, 1.0),
        (4097, True, False, 2.0),
        (4097, False, False, 1.0),
        (10, True, True, 2.0),
    ],
)
def test_read_units_round_up_per_4kb(size: int, consistent: bool, transactional: bool, units: float) -> None:
    assert capacity.read_units(size, consistent, transactional) == units


def _request(status: str, padding: int = 0) -> dict[str, dict[str, str]]:
    return {"PK": {"S": "R"}, "GSI1PK": {"S": status}, "GSI1SK": {"S": "1"}, "pad": {"S": "x" * padding}}


def test_an_item_entering_an_index_costs_one_index_write() -> None:
    assert capacity.index_write_units(None, _request("PENDING"), GSI1) == 1


def test_a_changed_index_key_costs_a_delete_and_a_put() -> None:
    assert capacity.index_write_units(_request("PENDING"), _request("DONE", 1100), GSI1) == 1 + 2


def test_an_item_outside_the_index_costs_it_nothing() -> None:
    assert capacity.index_write_units(None, {"PK": {"S": "L"}}, GSI1) == 0


def test_an_unchanged_item_costs_the_index_nothing() -> None:
    assert capacity.index_write_units(_request("A"), _request("A"), GSI1) == 0


def test_gsi_write_units_sum_over_indexes() -> None:
    after = {**_request("P"), "GSI2PK": {"S": "x"}}

    assert capacity.gsi_write_units(None, after, [GSI1, ("GSI2PK", None), ("GSI3PK", "GSI3SK")]) == 2
