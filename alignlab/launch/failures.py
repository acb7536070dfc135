"""How a failure inside launched processes reaches the user as ONE line, not once per rank plus a traceback.

`alignlab launch` (the parent) makes a private folder and names it to every process in ALIGNLAB_LAUNCH_ERRORS:

- a process whose command stops on a user error (`AlignlabError`) writes its line there (`rank<N>.json`) and
  exits with the error's code, printing nothing (`record_error`, called by `alignlab.launch.entry`);
- a process that crashes because another rank stopped first (a collective whose peer is gone) exits quietly:
  the first rank's line is the cause (`peer_failed`); a crash with no recorded cause is a bug and keeps its
  traceback;
- the launcher process (`alignlab.launch.runner`) ends with the failed worker's exit code instead of torchrun's
  ChildFailedError traceback, and the parent prints the recorded line once (`first_error`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ERRORS_ENV = "ALIGNLAB_LAUNCH_ERRORS"


def _folder() -> Path | None:
    value = os.environ.get(ERRORS_ENV)
    return Path(value) if value else None


def record_error(message: str, exit_code: int) -> bool:
    """Record this rank's user error for the parent; False outside `alignlab launch` (print it yourself)."""
    folder = _folder()
    if folder is None or not folder.is_dir():
        return False
    from alignlab.utils.io import atomic_write_text

    rank = os.environ.get("RANK", "0")
    atomic_write_text(folder / f"rank{rank}.json", json.dumps({"rank": int(rank), "message": message,
                                                                "exit_code": exit_code}))
    return True


def peer_failed() -> bool:
    """True when another process of this launch has already recorded a user error."""
    folder = _folder()
    return folder is not None and folder.is_dir() and any(folder.glob("rank*.json"))


def first_error(folder: Path) -> tuple[str, int] | None:
    """(message, exit code) of the lowest rank that recorded a user error, or None."""
    found = []
    for path in folder.glob("rank*.json"):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    if not found:
        return None
    first = min(found, key=lambda record: record["rank"])
    return first["message"], int(first["exit_code"])
