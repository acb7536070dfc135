"""`alignlab launch`: run a training command on several processes (GPUs, machines, or CPU processes) through
`accelerate launch`, after checking the launcher config against this machine and the command.

    alignlab launch --config-file configs/accelerate/ddp_cpu.yaml -- rm train --config configs/rm/tiny_bt.yaml
    alignlab launch --config-file zero3 --num-processes 8 -- train dpo --config my.yaml train.lr=1e-6

Only typer is imported at start-up; torch (to count GPUs) loads when the command runs.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import typer

from alignlab.cli._common import print_error

HELP = ("Run a training command (rm train, train dpo|kto|ppo|grpo|rloo|...) on several processes with accelerate "
        "(DDP, DeepSpeed ZeRO-2/3, FSDP). Put the command after `--`. Counts come from flags, else WORLD_SIZE, "
        "NUM_MACHINES/NNODES, MACHINE_RANK/NODE_RANK/RANK, MASTER_ADDR/MASTER_PORT, else the config file.")


def launch(
    ctx: typer.Context,
    config_file: Path = typer.Option(None, "--config-file", help="accelerate config, e.g. configs/accelerate/"
                                     "zero2.yaml or just zero2 (default: ddp.yaml with GPUs, ddp_cpu.yaml without)."),
    num_processes: int = typer.Option(None, "--num-processes", min=1, help="Processes on all machines together."),
    num_machines: int = typer.Option(None, "--num-machines", min=1),
    machine_rank: int = typer.Option(None, "--machine-rank", min=0, help="This machine's rank (0 on the main one)."),
    main_process_ip: str = typer.Option(None, "--main-process-ip", help="Address of machine 0."),
    main_process_port: int = typer.Option(None, "--main-process-port", min=1, max=65535),
    mixed_precision: str = typer.Option(None, "--mixed-precision", help="no | bf16 (default: the config's)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and print the command; start nothing."),
) -> None:
    """Check the launcher config against this machine, then `accelerate launch` the alignlab command."""
    from alignlab.launch.plan import LaunchError, Machine, check, make_plan, resolve_config_file

    if mixed_precision not in (None, "no", "bf16"):
        raise LaunchError(f"--mixed-precision {mixed_precision}: use no (float32) or bf16")
    machine = Machine.detect()
    path = resolve_config_file(config_file, machine)
    plan = make_plan(path, list(ctx.args), num_processes=num_processes, num_machines=num_machines,
                     machine_rank=machine_rank, main_process_ip=main_process_ip,
                     main_process_port=main_process_port, mixed_precision=mixed_precision)
    plan = check(plan, machine)
    argv = plan.argv()
    typer.echo(f"launch: {plan.config.describe()}, {plan.num_processes} process(es) on {plan.num_machines} "
               f"machine(s), this one rank {plan.machine_rank} ({path})", err=True)
    if dry_run:
        typer.echo(shlex.join(argv))
        return
    sys.stdout.flush()
    from alignlab.launch.failures import ERRORS_ENV, first_error

    with tempfile.TemporaryDirectory(prefix="alignlab-launch-") as errors:  # private (0700): ranks' error lines
        completed = subprocess.run(argv, check=False, env={**os.environ, ERRORS_ENV: errors})
        failure = first_error(Path(errors))
    if failure is not None:  # every rank stopped on the same line, or one did and the others followed
        print_error(failure[0])
        raise typer.Exit(failure[1])
    if completed.returncode:
        print_error(f"the launched command failed (exit code {completed.returncode}); its output is above")
        raise typer.Exit(completed.returncode)
