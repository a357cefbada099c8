"""A Lambda-like import path for fresh processes: /var/task, /opt/python, /var/runtime.

- runtime: boto3 and its dependencies from the project's venv (Lambda's runtime ships boto3,
  precompiled);
- layer: `pip install --no-compile --target` of layers/goodwill/requirements.txt, which is what
  `sam build` ships (it unpacks wheels and compiles nothing), plus layers/goodwill's own source;
- the function's folder first, as /var/task.

Processes run with `python -S` so nothing else of the venv is importable. Two byte-code states:
`warm` has every module compiled (under a pycache prefix in the cache folder); `runtime_only` has
only the standard library and the runtime compiled, which is what Lambda has on a cold start of a
layer built by sam (it ships no .pyc, and /opt is read-only, so nothing is cached between starts).
If a handler does not import because the layer lacks a distribution, that distribution is added
in `extras` (for measuring only) and named in `missing`: the layer as specified fails on AWS
(unless the function's own requirements.txt lists it, as the authorizer's lists joserfc).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "layers" / "goodwill" / "requirements.txt"
LAYER_SOURCE = ROOT / "layers" / "goodwill"
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "dateutil", "six", "urllib3", "jmespath")
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "goodwill-bench"
PIP_TIMEOUT_S = 300
LAMBDA_VARIABLES = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "POWERTOOLS_SERVICE_NAME": "goodwill",
    "POWERTOOLS_METRICS_NAMESPACE": "Goodwill",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "TABLE_NAME": "goodwill",
}


@dataclass
class LambdaEnv:
    root: Path
    method: str  # "lambda-like" (python -S, the paths above) or "venv" (pip failed: the project's venv)
    missing: list[str] = field(default_factory=list)

    @property
    def layer(self) -> Path:
        return self.root / "layer"

    @property
    def extras(self) -> Path:
        return self.root / "extras"

    @property
    def runtime(self) -> Path:
        return self.root / "runtime"

    def pycache(self, kind: str) -> Path:
        return self.root / f"pyc-{kind}"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-S", *args] if self.method == "lambda-like" else [sys.executable, *args]

    def environment(self, code_dir: Path | None, pyc: str, name: str = "bench", extras: bool = True) -> dict[str, str]:
        """`warm`: every module's byte code cached under a prefix. `runtime_only`: no prefix, nothing
        written; the stdlib and the runtime copy have their own __pycache__, the layer and our
        source (a copy, so a work tree's __pycache__ cannot help) have none."""
        cold = pyc == "runtime_only" and self.method == "lambda-like"
        paths = [str(code_dir)] if code_dir else []
        paths.append(str(self.root / "source" if cold else LAYER_SOURCE))
        if self.method == "lambda-like":
            runtime = self.root / "runtime-compiled" if cold else self.runtime
            paths += [str(self.layer), *([str(self.extras)] if extras else []), str(runtime)]
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(paths), **LAMBDA_VARIABLES}
        env.update({"AWS_LAMBDA_FUNCTION_NAME": name, "LAMBDA_TASK_ROOT": str(code_dir or self.root)})
        if cold:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            env["PYTHONPYCACHEPREFIX"] = str(self.pycache(pyc))
        return env


def _pip(*args: str) -> bool:
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-compile", *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def _link_runtime(runtime: Path) -> None:
    runtime.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = (origin.parent if origin.name == "__init__.py" else origin).resolve()
        target = runtime / source.name
        if target.is_symlink() and target.resolve() != source:  # left by a venv or work tree since removed
            target.unlink()
        if not target.exists():
            target.symlink_to(source)


def _cold_copies(env: LambdaEnv) -> None:
    """A compiled copy of the runtime (once) and a fresh copy of our source without byte code."""
    compiled = env.root / "runtime-compiled"
    if not (compiled / ".complete").exists():
        shutil.rmtree(compiled, ignore_errors=True)
        for package in sorted(env.runtime.iterdir()):
            source = package.resolve()
            if source.is_dir():
                shutil.copytree(source, compiled / package.name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                compiled.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, compiled / package.name)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(compiled)], capture_output=True, check=False)
        (compiled / ".complete").touch()
    source = env.root / "source"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(LAYER_SOURCE / "goodwill", source / "goodwill", ignore=shutil.ignore_patterns("__pycache__"))


def _missing_module(env: LambdaEnv, code_dir: Path, extras: bool = True) -> str | None:
    cmd = env.command("-c", "import app")
    run_env = env.environment(code_dir, "warm", extras=extras)
    done = subprocess.run(cmd, cwd=code_dir, env=run_env, capture_output=True, text=True, check=False)
    found = re.search(r"No module named '([\w.]+)'", done.stderr)
    return found.group(1).split(".")[0] if done.returncode and found else None


def _own_requirement(code_dir: Path, distribution: str) -> bool:
    """Whether the function ships `distribution` itself (its requirements.txt, which sam build
    installs into the function's own package: the authorizer's joserfc), so the layer need not."""
    listed = code_dir / "requirements.txt"
    if not listed.exists():
        return False
    names = (re.split(r"[=<>!~\[; ]", line.strip(), maxsplit=1)[0] for line in listed.read_text().splitlines())
    return distribution.lower().replace("_", "-") in {n.lower().replace("_", "-") for n in names if n and n[0] != "#"}


def _complete(env: LambdaEnv, code_dirs: tuple[Path, ...]) -> None:
    """Import every handler once (warming the byte code); add what the layer lacks, and say so."""
    distributions = importlib.metadata.packages_distributions()
    for code_dir in code_dirs:
        for _ in range(6):
            module = _missing_module(env, code_dir)
            if module is None or module not in distributions:
                break
            dist = distributions[module][0]
            _pip("--no-deps", "--target", str(env.extras), f"{dist}=={importlib.metadata.version(dist)}")
    if any(env.extras.glob("*.dist-info")):  # added now or by an earlier run: which handlers need them?
        for code_dir in code_dirs:
            missing = _missing_module(env, code_dir, extras=False)
            name = distributions.get(missing, [missing])[0] if missing else None
            if name and name not in env.missing and not _own_requirement(code_dir, name):
                env.missing.append(name)
            if len(env.missing) >= len(list(env.extras.glob("*.dist-info"))):
                break  # every added distribution is accounted for


@functools.cache
def build(code_dirs: tuple[Path, ...]) -> LambdaEnv:
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + platform.python_version().encode()).hexdigest()[:12]
    env = LambdaEnv(root=CACHE / f"lambda-{platform.machine()}-{key}", method="lambda-like")
    env.extras.mkdir(parents=True, exist_ok=True)
    if not (env.layer / ".complete").exists():
        if not _pip("--target", str(env.layer), "-r", str(REQUIREMENTS)):
            env.method = "venv"
            return env
        (env.layer / ".complete").touch()
    _link_runtime(env.runtime)
    _cold_copies(env)
    _complete(env, code_dirs)
    return env
