"""What `alignlab launch` starts in every process: the alignlab command line, as `python -m alignlab.launch.entry
rm train --config ...`. Ranks other than 0 keep stderr (their errors) but not stdout, so progress lines and
summaries are printed once. A user error is handed to the parent (`alignlab.launch.failures`), which prints it
once for all ranks; a crash caused by another rank's stop is not reported again.

How a rank ends: its process group is destroyed (a local operation), the atexit handlers run (trackers, logging),
and the process exits without interpreter finalisation. Left to finalisation, gloo's worker threads (and the
process groups DeepSpeed keeps in module globals, which `destroy_process_group` cannot free) are torn down while the
interpreter is half gone, and now and then that aborts the process ("terminate called without an active
exception", SIGABRT) after a run that finished and saved everything."""

from __future__ import annotations

import atexit
import os
import sys
import traceback

from alignlab.launch.topology import is_main_process


def main() -> None:
    if not is_main_process() and not os.environ.get("ALIGNLAB_ALL_RANKS_OUTPUT"):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    from alignlab.cli import app
    from alignlab.cli._common import print_error
    from alignlab.errors import AlignlabError
    from alignlab.launch.failures import peer_failed, record_error

    code: int = 0
    try:
        app(prog_name="alignlab")
    except SystemExit as stop:
        code = _status(stop.code)
    except AlignlabError as err:
        if not record_error(str(err), err.exit_code):
            print_error(str(err))
        code = err.exit_code
    except Exception:  # noqa: BLE001 - reported below, as the interpreter would
        code = 1
        if not peer_failed():  # e.g. a collective whose peer stopped on a user error: that error is the cause
            traceback.print_exc()
    _end(code)


def _status(code: object) -> int:
    """SystemExit's code as the process' exit status (what the interpreter would make of it)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _end(code: int) -> None:
    if not _close_process_group():  # never distributed: a plain exit
        sys.exit(code)
    atexit._run_exitfuncs()  # what a normal exit runs first: trackers' and logging's handlers
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _close_process_group() -> bool:
    """Tear the default process group (and every group made from it) down; True if there was one."""
    dist = sys.modules.get("torch.distributed")
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return False
    try:
        dist.destroy_process_group()
    except Exception:  # noqa: BLE001 - shutting down: a failure here must not mask the run's outcome
        pass
    return True


if __name__ == "__main__":
    main()
