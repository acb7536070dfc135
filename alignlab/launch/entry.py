"""What `alignlab launch` starts in every process: the alignlab command line, as `python -m alignlab.launch.entry
rm train --config ...`. Ranks other than 0 keep stderr (their errors) but not stdout, so progress lines and
summaries are printed once."""

from __future__ import annotations

import os
import sys

from alignlab.launch.topology import is_main_process


def main() -> None:
    if not is_main_process() and not os.environ.get("ALIGNLAB_ALL_RANKS_OUTPUT"):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    from alignlab.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
