"""Deployment size of every function package and of the layer.

Full mode runs `sam build` (arm64, as deployed; the SAM CLI in .venv-sam, as `make build` does)
into a temporary folder. Quick mode, or when the build fails, measures the sources plus the layer's
requirements installed with `pip install --target` for this machine (bench.lambda_env): the
method used is in the result. Sizes: unzipped bytes and a deflate zip made in memory.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench.cold_start import function_dirs
from bench.lambda_env import LAYER_SOURCE, ROOT, build

SAM = ROOT / ".venv-sam" / "bin" / "sam"
SAM_TIMEOUT_S = 300
UNZIPPED_LIMIT_MB = 250  # a function and all its layers, unzipped


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.name != ".complete"]


def measure(roots: list[Path]) -> dict[str, float]:
    files = [(r, p) for r in roots for p in _files(r)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, path in files:
            archive.write(path, str(path.relative_to(root)))
    return {
        "unzipped_kb": round(sum(p.stat().st_size for _, p in files) / 1024, 1),
        "zipped_kb": round(len(buffer.getvalue()) / 1024, 1),
        "files": len(files),
        "py_files": sum(p.suffix == ".py" for _, p in files),
        "pyc_files": sum(1 for r in roots for _ in r.rglob("*.pyc")),
    }


def _python313() -> str | None:
    try:
        found = subprocess.run(
            ["pyenv", "which", "python3.13"],
            env={**os.environ, "PYENV_VERSION": "3.13.0"},
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except FileNotFoundError:
        found = ""
    return found or shutil.which("python3.13")


def sam_build(build_dir: Path) -> str | None:
    """Run sam build into build_dir; None when it worked, else why not."""
    python = _python313()
    if not SAM.exists() or python is None:
        return "no SAM CLI (.venv-sam) or no python3.13"
    env = {**os.environ, "PYENV_VERSION": "3.13.0", "SAM_CLI_TELEMETRY": "0"}
    env["PATH"] = f"{Path(python).parent}{os.pathsep}{env.get('PATH', '')}"
    cmd = [str(SAM), "build", "--template", str(ROOT / "template.yaml"), "--build-dir", str(build_dir)]
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SAM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"sam build took over {SAM_TIMEOUT_S} s"
    return None if done.returncode == 0 else f"sam build failed: {done.stderr.strip()[-300:]}"


def _by_code_dir(build_dir: Path) -> dict[str, Path]:
    """Built function folder of each functions/<name> (sam names them by logical id)."""
    found = {}
    for built in build_dir.iterdir():
        if built.is_dir() and (built / "app.py").exists():
            source = (built / "app.py").read_bytes()
            for code_dir in function_dirs():
                if (code_dir / "app.py").read_bytes() == source:
                    found[code_dir.name] = built
    return found


def run(quick: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="goodwill-sam-") as tmp:
        build_dir = Path(tmp) / "build"
        why_not = "quick mode" if quick else sam_build(build_dir)
        if why_not is None:
            method = "sam build (arm64)"
            functions = {name: measure([path]) for name, path in sorted(_by_code_dir(build_dir).items())}
            layer = measure([build_dir / "GoodwillLayer"])
        else:
            env = build(function_dirs())
            method = f"sources + pip install --target ({os.uname().machine}; sam build skipped: {why_not})"
            functions = {d.name: measure([d]) for d in function_dirs()}
            layer = measure([LAYER_SOURCE, env.layer])
    largest = max((f["unzipped_kb"] for f in functions.values()), default=0.0)
    total_mb = (largest + layer["unzipped_kb"]) / 1024
    return {
        "benchmark": "size",
        "method": method,
        "functions": functions,
        "layer": layer,
        "largest_function_plus_layer_mb": round(total_mb, 1),
        "unzipped_limit_mb": UNZIPPED_LIMIT_MB,
        "meets_goal": total_mb < UNZIPPED_LIMIT_MB,
    }
