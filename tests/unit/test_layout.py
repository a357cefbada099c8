"""The layout's rules (docs/architecture.md), checked on the source itself so they stay true:
small files and functions, and imports that run one way only (functions -> domain -> repositories).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "goodwill" / "goodwill"
FUNCTIONS = ROOT / "functions"
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 50
# What the data layer may import: the AWS clients, plain helpers, models, and itself.
REPOSITORY_IMPORTS = {
    "aws",
    "clock",
    "errors",
    "jsonutil",
    "models",
    "observability",
    "repositories",
    "retry",
    "settings",
}


def sources(*roots: Path) -> Iterator[Path]:
    for root in roots:
        yield from sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def goodwill_imports(path: Path) -> set[str]:
    """The goodwill modules `path` imports, as dotted names below goodwill (e.g. "repositories.keys")."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "goodwill":
            base = node.module.removeprefix("goodwill").lstrip(".")
            found.update(f"{base}.{alias.name}".lstrip(".") for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("goodwill.") for a in node.names if a.name.startswith("goodwill."))
    return found


def test_no_layer_file_is_over_the_line_limit() -> None:
    over = {
        str(p.relative_to(LAYER)): n for p in sources(LAYER) if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES
    }
    assert over == {}, f"files over {MAX_FILE_LINES} lines: {over}"


def test_no_function_is_over_the_line_limit() -> None:
    long = []
    for path in sources(LAYER, FUNCTIONS):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert long == [], f"functions over {MAX_FUNCTION_LINES} lines: {long}"


@pytest.mark.parametrize("path", list(sources(LAYER / "repositories")), ids=lambda p: p.name)
def test_repositories_import_no_domain_code(path: Path) -> None:
    wrong = {m for m in goodwill_imports(path) if m.split(".")[0] not in REPOSITORY_IMPORTS}
    assert wrong == set(), f"{path.name} imports {wrong}: the data layer calls nothing above it"


@pytest.mark.parametrize("path", list(sources(FUNCTIONS)), ids=lambda p: p.parent.name)
def test_handlers_reach_data_only_through_the_domain(path: Path) -> None:
    source = path.read_text()
    wrong = {m for m in goodwill_imports(path) if m.split(".")[0] in ("repositories", "aws")}
    assert wrong == set() and "import boto3" not in source, f"{path.parent.name} reaches AWS directly: {wrong}"


def aws_access(path: Path) -> list[str]:
    """How `path` reaches AWS itself: importing goodwill.aws or boto3, calling `aws.<client>()`."""
    found = [f"imports goodwill.{m}" for m in goodwill_imports(path) if m == "aws" or m.startswith("aws.")]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [f"imports {n}" for n in names if n.split(".")[0] == "boto3"]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            client = node.func
            if isinstance(client.value, ast.Name) and client.value.id == "aws":  # aws.sqs()
                found.append(f"line {node.lineno} calls aws.{client.attr}()")
    return found


@pytest.mark.parametrize(
    "path",
    [p for p in sources(LAYER) if p.relative_to(LAYER).parts[0] != "repositories" and p.name != "aws.py"],
    ids=lambda p: str(p.relative_to(LAYER)),
)
def test_only_repositories_reach_aws(path: Path) -> None:
    access = aws_access(path)
    assert access == [], f"{path.relative_to(LAYER)} reaches AWS itself ({access}): move the call to repositories/"


def test_the_aws_check_sees_a_client_call(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from goodwill import aws\n\ndef f():\n    aws.sqs().send_message(QueueUrl='q')\n")
    assert aws_access(sample) == ["imports goodwill.aws", "line 4 calls aws.sqs()"]


def test_only_handlers_use_the_handler_helper() -> None:
    users = [p.relative_to(LAYER) for p in sources(LAYER) if "handler" in goodwill_imports(p)]
    assert users == [], f"the layer must not depend on the handler helper: {users}"


def test_every_package_says_what_it_owns() -> None:
    silent = [
        str(p.parent.relative_to(LAYER))
        for p in sources(LAYER)
        if p.name == "__init__.py" and p.parent != LAYER and not ast.get_docstring(ast.parse(p.read_text()))
    ]
    assert silent == [], f"packages without a docstring: {silent}"
