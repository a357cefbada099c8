"""A bulk CSV import row checked against its file: the header's columns, the row's customer
(in SET mode each customer once), then every cell by its column's validator (csvcolumns).

`context` checks a header and holds what the rows of one file are checked against; `check_row`
gives a `ValidRow` or an `InvalidRow`; `skip_row` only remembers the customer of a row outside the
wanted range. Pure: no AWS in here.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Set
from dataclasses import dataclass
from functools import partial
from hashlib import blake2b
from typing import Final

from goodwill.bulk.csvcolumns import (
    DEFAULT_REASON,
    FIELD,
    IDENTIFIERS,
    MAX_CELL_CHARS,
    SCHEMA,
    Check,
    ImportRules,
    InvalidRow,
    RowError,
    ValidRow,
    check_customer_id,
    check_email,
)
from goodwill.bulk.csvlines import CsvFileError

DUPLICATE_CUSTOMER: Final = "customer appears more than once in a SET import"


class DuplicateError(RowError):
    """The row repeats a customer of a SET import."""


@dataclass(slots=True)
class Context:
    """What the rows of one file are checked against: its header, the rules, what was seen."""

    names: tuple[str, ...]
    id_index: int | None
    email_index: int | None
    points_index: int
    checks: tuple[tuple[int, int, Check], ...]  # (cell, ValidRow field, validator), not ids
    rules: ImportRules
    seen: _DigestSet | None  # SET mode only
    duplicate_rows: Set[int]  # found by a whole-file scan, for chunk workers


def context(header: list[str], rules: ImportRules, duplicate_rows: Iterable[int]) -> Context:
    names = [cell.strip().lower() for cell in header]
    _check_names(names)
    if "points" not in names:
        raise CsvFileError("the points column is required")
    if not any(name in names for name in IDENTIFIERS):
        raise CsvFileError("a customer_id or email column is required")
    if "reason" not in names and DEFAULT_REASON not in rules.allowed_reasons:
        raise CsvFileError(f"a reason column is required: {DEFAULT_REASON} is not an org reason")
    index = {name: position for position, name in enumerate(names)}
    checks = [(at, FIELD[name], SCHEMA[name]) for name, at in index.items() if name in FIELD]
    return Context(
        tuple(names),
        index.get("customer_id"),
        index.get("email"),
        index["points"],
        tuple(checks),
        rules,
        _DigestSet() if rules.mode == "SET" else None,
        frozenset(duplicate_rows),
    )


def _check_names(names: list[str]) -> None:
    if any(";" in name for name in names):
        raise CsvFileError("the cells are separated by ';': save the file as CSV UTF-8 (commas)")
    for position, name in enumerate(names, start=1):
        if not name:
            raise CsvFileError(f"column {position} of the header has no name")
        if name not in SCHEMA:
            raise CsvFileError(f"unknown column {name!r} (allowed: {', '.join(SCHEMA)})")
        if names.count(name) > 1:
            raise CsvFileError(f"column {name!r} appears more than once")


class _DigestSet:
    """The customers seen so far in a SET import: 8-byte blake2b digests, open addressing.

    Memory is 16-32 bytes per customer (the table stays 25-50 % full; 48 for a moment while it
    doubles): 16-32 MB for a million rows, where a Python set of ints needs ~70 MB. Two
    customers are mistaken for one only on a 64-bit digest collision (~3e-8 for a million
    customers); the digest, unlike hash(), is the same in every process, so scans and chunk
    workers agree.
    """

    __slots__ = ("_mask", "_size", "_table")

    def __init__(self, capacity: int = 1 << 12) -> None:
        self._table = array("Q", [0]) * capacity
        self._mask = capacity - 1
        self._size = 0

    def add(self, key: str) -> bool:
        """Store the key; False when it was there already."""
        digest = int.from_bytes(blake2b(key.encode(), digest_size=8).digest()) or 1
        if not self._insert(digest):
            return False
        self._size += 1
        if self._size * 2 > self._mask:
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._table
        self._table = array("Q", [0]) * (2 * len(old))
        self._mask = 2 * len(old) - 1
        for held in old:
            if held:
                self._insert(held)

    def _insert(self, digest: int) -> bool:
        table, mask = self._table, self._mask
        slot = digest & mask
        while (held := table[slot]) != digest:
            if not held:
                table[slot] = digest
                return True
            slot = (slot + 1) & mask
        return False


def _claim(cells: list[str], row: int, ctx: Context) -> tuple[str | None, str | None]:
    """Check the row's shape and customer; in SET mode the row claims its customer."""
    if len(cells) != len(ctx.names):
        raise RowError(f"the row has {len(cells)} cells, the header {len(ctx.names)}")
    id_index, email_index, rules = ctx.id_index, ctx.email_index, ctx.rules
    customer_id = None if id_index is None else check_customer_id(cells[id_index], rules)
    email = None if email_index is None else check_email(cells[email_index], rules)
    if customer_id and email:
        raise RowError("give customer_id or email, not both")
    if not (customer_id or email):
        raise RowError("customer_id or email is required")
    if ctx.seen is not None:
        fresh = ctx.seen.add(f"id:{customer_id}" if customer_id else f"email:{email}")
        if not fresh or row in ctx.duplicate_rows:
            raise DuplicateError(DUPLICATE_CUSTOMER)
    return customer_id, email


_new_valid_row = partial(tuple.__new__, ValidRow)  # ValidRow._make without its overhead


def check_row(cells: list[str], row: int, ctx: Context) -> ValidRow | InvalidRow:
    try:
        customer_id, email = _claim(cells, row, ctx)
        # ValidRow with the defaults of absent columns (points is always present).
        values = [row, customer_id, email, 0, DEFAULT_REASON, None, None, True]
        rules = ctx.rules
        for index, position, check in ctx.checks:
            values[position] = check(cells[index], rules)
        return _new_valid_row(values)
    except RowError as exc:
        return _invalid_row(cells, row, ctx, str(exc))


def _invalid_row(cells: list[str], row: int, ctx: Context, error: str) -> InvalidRow:
    if max(map(len, cells)) > MAX_CELL_CHARS:  # no validator accepts such a cell: say why
        error = f"a cell is longer than {MAX_CELL_CHARS} characters"

    def raw(index: int | None) -> str | None:
        return None if index is None or index >= len(cells) else cells[index].strip()[:100] or None

    return InvalidRow(row, raw(ctx.id_index), raw(ctx.email_index), raw(ctx.points_index), error)


def skip_row(cells: list[str], row: int, ctx: Context) -> bool:
    """A row outside the wanted range: only a SET import must remember its customer.
    True when the row repeats a customer."""
    if ctx.seen is not None:
        try:
            _claim(cells, row, ctx)
        except DuplicateError:
            return True
        except RowError:
            pass
    return False
