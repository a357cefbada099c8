"""Partitions of a bulk file by customer (goodwill.bulk.partition): every row once, each
customer's rows in one partition and in file order, e-mails placed with their customer's ids."""

from __future__ import annotations

from collections.abc import Collection

from goodwill.bulk.csvfile import ImportRules, ValidRow
from goodwill.bulk.partition import Partition, parse_partition, partition_file

RULES = ImportRules(allowed_reasons=frozenset({"BULK_ADJUSTMENT"}))


def _split(text: str, rows_per_partition: int, segment_rows: int) -> dict[int, list[tuple[int, str]]]:
    """partition -> [(row, customer)] as a worker reads them (e-mails resolved as the scan did)."""
    segments: dict[int, bytes] = {}

    def resolve(emails: Collection[str]) -> dict[str, str]:
        return {e: e.split("@")[0].upper() for e in emails if not e.startswith("nobody")}

    scan = partition_file([text.encode()], rows_per_partition, RULES, resolve, segments.__setitem__, segment_rows)
    found = {}
    for part in scan.partitions:
        again = Partition.from_dict(part.to_dict())
        reads = [(s, [segments[s][a:b]]) for s, a, b in again.ranges]
        rows = list(parse_partition(reads, RULES, scan.header))
        assert sum(1 for _ in rows) == part.rows
        found[part.index] = [
            (p.row.row, (p.customer_id or p.row.customer_id or "") if isinstance(p.row, ValidRow) else "?")
            for p in rows
        ]
    return found


def test_every_row_once_each_customer_in_one_partition_in_file_order() -> None:
    lines = [f"C{n % 37},{n % 5 + 1}" for n in range(1000)]
    found = _split("customer_id,points\n" + "\n".join(lines) + "\n", 100, 64)

    assert 5 <= len(found) <= 10
    rows = [row for part in found.values() for row, _ in part]
    assert sorted(rows) == list(range(1, 1001))
    owner = {}
    for index, part in found.items():
        assert [row for row, _ in part] == sorted(row for row, _ in part)  # file order
        for _, customer in part:
            assert owner.setdefault(customer, index) == index  # one partition per customer


def test_rows_by_email_go_with_the_rows_by_id_of_their_customer() -> None:
    text = "customer_id,email,points\n"
    text += "".join(f"C{n},,1\n,c{n}@example.com,2\n" for n in range(50))
    text += ",nobody@example.com,3\n"

    found = _split(text, 10, 7)

    by_customer: dict[str, set[int]] = {}
    for index, part in found.items():
        for _, customer in part:
            by_customer.setdefault(customer, set()).add(index)
    assert all(len(parts) == 1 for parts in by_customer.values())
    assert len([c for c in by_customer if c.startswith("C")]) == 50
    assert "" in by_customer  # the e-mail that names nobody: placed anywhere, failed by the worker
