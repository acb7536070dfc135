"""The versions CI proved (constraints.txt) against an environment: write them, or say which pins differ.

    python scripts/constraints.py --write constraints.txt   # record this environment (after the tests pass)
    .venv-latest/bin/python scripts/constraints.py constraints.txt   # which pins the newest releases would move

Reads the environment of the Python that runs it (importlib.metadata). alignlab itself is left out, and so is
torch: its pin is the Makefile's TORCH_SPEC, installed first (a constraint would fight its local build tag).
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

SKIPPED = {"alignlab", "torch", "pip", "setuptools", "wheel"}
HEADER = """\
# The versions `make test` proved together (written by `make constraints` from a passing .venv).
# make setup / demo / test and CI install with `pip install -c constraints.txt`, so a new release upstream cannot
# break a fresh clone. pyproject.toml keeps the ranges library users get. `make test-latest` tries the newest
# releases in a separate venv and lists the pins to move. torch is pinned by the Makefile's TORCH_SPEC instead.
"""


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed() -> dict[str, tuple[str, str]]:
    """{normalised name: (name, version)} of this environment, without the skipped ones."""
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and _key(name) not in SKIPPED:
            found[_key(name)] = (name, dist.version)
    return found


def read_pins(path: Path) -> dict[str, tuple[str, str]]:
    pins = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            sys.exit(f"error: {path}:{number}: expected name==version, got {line!r}")
        pins[_key(name)] = (name.strip(), version.strip())
    return pins


def drift(pins: dict[str, tuple[str, str]], env: dict[str, tuple[str, str]]) -> list[str]:
    """One line per pin this environment differs from (moved, missing here, or new here)."""
    lines = []
    for key in sorted(pins.keys() | env.keys()):
        if key not in env:
            lines.append(f"{pins[key][0]}: pinned {pins[key][1]}, not installed here")
        elif key not in pins:
            lines.append(f"{env[key][0]}: {env[key][1]} here, not pinned (add it)")
        elif pins[key][1] != env[key][1]:
            lines.append(f"{pins[key][0]}: pinned {pins[key][1]}, newest {env[key][1]} (move the pin)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("constraints", type=Path, nargs="?", default=Path("constraints.txt"))
    parser.add_argument("--write", action="store_true", help="write this environment's versions to the file")
    args = parser.parse_args(argv)
    env = installed()
    if args.write:
        body = "".join(f"{name}=={version}\n" for _, (name, version) in sorted(env.items()))
        tmp = args.constraints.with_name(f".{args.constraints.name}.tmp")
        tmp.write_text(HEADER + body)
        tmp.replace(args.constraints)
        print(f"wrote {len(env)} pins to {args.constraints}")
        return 0
    if not args.constraints.is_file():
        sys.exit(f"error: {args.constraints}: no such file; record one with --write")
    lines = drift(read_pins(args.constraints), env)
    print("\n".join(lines) if lines else f"every pin in {args.constraints} is what this environment has")
    return 0


if __name__ == "__main__":
    sys.exit(main())
