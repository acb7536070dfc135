"""The launcher process `alignlab launch` starts: accelerate's `launch` command run in-process.

    python -m alignlab.launch.runner --config_file ... --num_processes 2 -m alignlab.launch.entry rm train ...

The same arguments and behaviour as `python -m accelerate.commands.launch`, except when a worker fails: torchrun
raises ChildFailedError (a traceback plus a block per failed rank); here the launcher ends with the worker's
exit code and prints nothing, because the worker has already reported the cause (`alignlab.launch.failures`).
"""

from __future__ import annotations

import logging
import sys


def _exit_code(error: BaseException) -> int:
    """The first failed worker's exit code. A worker killed by a signal recorded no cause, so it is named here
    (rank and signal), in one line."""
    failures = getattr(error, "failures", {})
    codes = [failure.exitcode for failure in failures.values()]
    code = next((code for code in codes if isinstance(code, int) and code > 0), None)
    if code is not None:
        return code
    for rank, failure in sorted(failures.items()):
        if isinstance(failure.exitcode, int) and failure.exitcode < 0:
            print(f"error: rank {rank} was killed by signal {failure.signal_name()} (exit code {failure.exitcode})",
                  file=sys.stderr)
            break
    return 1


def main(argv: list[str] | None = None) -> None:
    from accelerate.commands.launch import launch_command, launch_command_parser
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    # the elastic agent logs "failed (exitcode: N) local_rank: ..." for each failed worker; the worker said why
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)
    args = launch_command_parser().parse_args(argv)
    try:
        launch_command(args)
    except ChildFailedError as error:
        sys.exit(_exit_code(error))


if __name__ == "__main__":
    main()
