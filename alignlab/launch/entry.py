"""What `alignlab launch` starts in every process: the alignlab command line, as `python -m alignlab.launch.entry
rm train --config ...`. Ranks other than 0 keep stderr (their errors) but not stdout, so progress lines and
summaries are printed once. A user error is handed to the parent (`alignlab.launch.failures`), which prints it
once for all ranks; a crash caused by another rank's stop is not reported again."""

from __future__ import annotations

import os
import sys

from alignlab.launch.topology import is_main_process


def main() -> None:
    if not is_main_process() and not os.environ.get("ALIGNLAB_ALL_RANKS_OUTPUT"):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    from alignlab.cli import app
    from alignlab.cli._common import print_error
    from alignlab.errors import AlignlabError
    from alignlab.launch.failures import peer_failed, record_error

    try:
        app(prog_name="alignlab")
    except AlignlabError as err:
        if not record_error(str(err), err.exit_code):
            print_error(str(err))
        sys.exit(err.exit_code)
    except Exception:
        if peer_failed():  # e.g. a collective whose peer stopped on a user error: that error is the cause
            sys.exit(1)
        raise
    finally:
        _close_process_group()


def _close_process_group() -> None:
    """Tear the process group down before the interpreter exits. Left to interpreter shutdown, gloo's threads
    can be destroyed while still joinable, which aborts the process ("terminate called without an active
    exception", exit code 1) after a run that finished; destroying the group is local, no collective."""
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        try:
            dist.destroy_process_group()
        except Exception:  # noqa: BLE001 - shutting down: a failure here must not mask the run's outcome
            pass


if __name__ == "__main__":
    main()
