"""`alignlab launch`: check a launcher config against this machine and the training command, then build the
`accelerate launch` command line. Everything here runs BEFORE any training process starts, so a config that
cannot work on this machine is one line on stderr, not a crash in eight processes.

    plan = make_plan(config_file, ["train", "dpo", "--config", "configs/dpo/tiny.yaml"], num_processes=2)
    check(plan, Machine.detect())           # LaunchError naming the file, the key and the fix
    subprocess.run(plan.argv())             # python -m alignlab.launch.runner ... -m alignlab.launch.entry ...

Process counts and the node's place come from flags, else the environment a scheduler sets, else the file:
num_processes (all machines together) <- WORLD_SIZE; num_machines <- NUM_MACHINES or NNODES; machine_rank <-
MACHINE_RANK, NODE_RANK or RANK; main_process_ip/port <- MASTER_ADDR / MASTER_PORT.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass, field, replace
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from alignlab.config.launch import AccelerateConfig
from alignlab.errors import ConfigError
from alignlab.paths import project_root


class LaunchError(ConfigError):
    """A launcher config or command that cannot run on this machine."""


SHIPPED_DIR = Path("configs") / "accelerate"
# alignlab commands that train, and the config kind each one reads.
TRAINING_COMMANDS: dict[tuple[str, str], str] = {
    ("rm", "train"): "rm",
    **{("train", kind): kind for kind in ("dpo", "kto", "ppo", "grpo", "rloo", "sft", "pretrain", "cpt")},
}
# (trainer kind, what) -> why it cannot run sharded (ZeRO-3 / FSDP). Checked before any process starts.
SHARDED_UNSUPPORTED = {
    "rm": "a reward model is merged and evaluated in memory right after training, which needs the whole model "
          "on rank 0; use configs/accelerate/zero2.yaml (reward models up to a few billion parameters fit)",
}
# Lifecycle trainers (sft, pretrain, cpt) gather their final model from the shards under ZeRO-3 (tested on the CPU,
# tests/integration/test_multiprocess.py); FSDP is untested for them, and a LoRA adapter is merged into rank 0's
# own full copy of the weights, which neither sharding keeps.
LIFECYCLE = ("sft", "pretrain", "cpt")
# Trainers that cannot run on more than one process yet, and why (none now: kto's metrics are gathered the same
# way on every rank since its 2-process test, tests/integration/test_multiprocess.py).
SINGLE_PROCESS_ONLY: dict[str, str] = {}
# Trainers with their own accelerate loop (no DeepSpeed/FSDP plugin handling): DDP only.
DDP_ONLY = {kind: "runs its own accelerate loop (rollouts, reward scoring, PPO updates), built for DDP; use "
                  "configs/accelerate/ddp.yaml (GPUs) or ddp_cpu.yaml" for kind in ("ppo", "grpo", "rloo")}


@dataclass(frozen=True)
class Machine:
    """What this machine offers (measured by `detect`; tests build one by hand)."""

    cuda_devices: int = 0
    bf16: bool = False
    deepspeed: bool = False

    @classmethod
    def detect(cls) -> Machine:
        import torch

        cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
        return cls(cuda_devices=cuda, bf16=bool(cuda and torch.cuda.is_bf16_supported()),
                   deepspeed=find_spec("deepspeed") is not None)


@dataclass
class LaunchPlan:
    config_file: Path
    config: AccelerateConfig
    command: list[str]
    num_processes: int
    num_machines: int
    machine_rank: int
    main_process_ip: str | None
    main_process_port: int | None
    mixed_precision: str
    trainer_config: Any = None  # the training command's config, loaded, when it names one
    notes: list[str] = field(default_factory=list)

    @property
    def trainer_kind(self) -> str | None:
        return TRAINING_COMMANDS.get(tuple(self.command[:2]))

    @property
    def per_machine(self) -> int:
        return self.num_processes // self.num_machines

    @property
    def on_gpu(self) -> bool:
        return not self.config.use_cpu and self.config.distributed_type != "MULTI_CPU"

    def argv(self, python: str = sys.executable) -> list[str]:
        """`python -m alignlab.launch.runner ... -m alignlab.launch.entry <command>` (the runner is accelerate's
        launch command with one-line failures, `alignlab.launch.runner`)."""
        argv = [python, "-m", "alignlab.launch.runner", "--config_file", str(self.config_file),
                "--num_processes", str(self.num_processes), "--num_machines", str(self.num_machines),
                "--machine_rank", str(self.machine_rank), "--mixed_precision", self.mixed_precision]
        if self.main_process_ip:
            argv += ["--main_process_ip", self.main_process_ip]
        if self.main_process_port is not None:
            argv += ["--main_process_port", str(self.main_process_port)]
        return [*argv, "-m", "alignlab.launch.entry", *self.command]


def shipped_configs() -> list[str]:
    return sorted(p.stem for p in (project_root() / SHIPPED_DIR).glob("*.yaml"))


def resolve_config_file(config_file: str | Path | None, machine: Machine) -> Path:
    """The file to use: as given (a bare shipped name such as `zero2` works too), or the shipped DDP config for
    this machine (ddp.yaml with GPUs, ddp_cpu.yaml without)."""
    if config_file is None:
        return project_root() / SHIPPED_DIR / ("ddp.yaml" if machine.cuda_devices else "ddp_cpu.yaml")
    path = Path(config_file)
    if not path.is_file() and path.suffix == "" and (project_root() / SHIPPED_DIR / f"{path}.yaml").is_file():
        return project_root() / SHIPPED_DIR / f"{path}.yaml"
    if not path.is_file():
        raise LaunchError(f"--config-file {path}: no such file; shipped launcher configs: "
                          f"{', '.join(shipped_configs())} (in {SHIPPED_DIR}/)")
    return path


def _env_int(names: tuple[str, ...], env: dict[str, str]) -> int | None:
    for name in names:
        value = env.get(name)
        if value not in (None, ""):
            try:
                return int(value)
            except ValueError:
                raise LaunchError(f"environment variable {name}={value!r} is not a whole number") from None
    return None


def make_plan(config_file: Path, command: list[str], *, num_processes: int | None = None,
              num_machines: int | None = None, machine_rank: int | None = None,
              main_process_ip: str | None = None, main_process_port: int | None = None,
              mixed_precision: str | None = None, env: dict[str, str] | None = None) -> LaunchPlan:
    """Read the launcher config (errors name the file and line) and settle every count: flag > environment >
    file. Loads the training command's own config too, so its errors also come before any process starts."""
    from alignlab.config import load_config

    env = dict(os.environ if env is None else env)
    config = load_config(config_file, AccelerateConfig)
    machines = num_machines or _env_int(("NUM_MACHINES", "NNODES"), env) or config.num_machines
    plan = LaunchPlan(
        config_file=Path(config_file), config=config, command=list(command),
        num_processes=num_processes or _env_int(("WORLD_SIZE",), env) or config.num_processes,
        num_machines=machines,
        machine_rank=machine_rank if machine_rank is not None else (
            _env_int(("MACHINE_RANK", "NODE_RANK", "RANK"), env) if machines > 1 else None) or config.machine_rank,
        main_process_ip=main_process_ip or env.get("MASTER_ADDR") or config.main_process_ip,
        main_process_port=main_process_port or _env_int(("MASTER_PORT",), env) or config.main_process_port,
        mixed_precision=mixed_precision or config.mixed_precision,
    )
    plan.trainer_config = _trainer_config(plan.command)
    return plan


def _trainer_config(command: list[str]) -> Any:
    """The training command's config with its overrides, loaded as the command itself will load it."""
    from alignlab.config import CONFIGS, load_config

    kind = TRAINING_COMMANDS.get(tuple(command[:2]))
    if kind is None or kind not in CONFIGS:
        return None
    rest, config_path, overrides = command[2:], None, []
    index = 0
    while index < len(rest):
        token = rest[index]
        if token == "--config" and index + 1 < len(rest):
            config_path, index = rest[index + 1], index + 2
            continue
        if token.startswith("--config="):
            config_path = token.split("=", 1)[1]
        elif not token.startswith("-"):
            overrides.append(token)
        index += 1
    if config_path is None:
        return None
    if not Path(config_path).is_file():
        raise LaunchError(f"{' '.join(command[:2])} --config {config_path}: no such file")
    return load_config(config_path, CONFIGS.get(kind), overrides)


def check(plan: LaunchPlan, machine: Machine, env: dict[str, str] | None = None) -> LaunchPlan:
    """Raise LaunchError (one line: which file or flag, what is wrong, how to fix it) for a plan that cannot run
    here; return the plan, with a free port chosen for a single-machine run that named none."""
    env = dict(os.environ if env is None else env)
    where, config = plan.config_file, plan.config
    if "LOCAL_RANK" in env:
        raise LaunchError("alignlab launch is running inside a launched process (LOCAL_RANK is set); run the "
                          "training command itself there, or launch from a plain shell")
    _check_command(plan)
    if plan.num_processes % plan.num_machines:
        raise LaunchError(f"{where}: num_processes {plan.num_processes} is not a multiple of num_machines "
                          f"{plan.num_machines}; num_processes counts the processes of all machines together")
    if plan.machine_rank >= plan.num_machines:
        raise LaunchError(f"{where}: machine_rank {plan.machine_rank} with num_machines {plan.num_machines}; "
                          f"ranks run from 0 to {plan.num_machines - 1}")
    if plan.num_machines > 1 and not plan.main_process_ip:
        raise LaunchError(f"{where}: {plan.num_machines} machines need the address of machine 0: pass "
                          "--main-process-ip (or set MASTER_ADDR) on every machine")
    if plan.mixed_precision != "no" and not machine.bf16:
        raise LaunchError(f"{where}: mixed_precision {plan.mixed_precision} needs a GPU with bf16 (this machine has "
                          f"{_gpus(machine)}); pass --mixed-precision no to train in float32")
    if config.distributed_type == "MULTI_CPU":
        raise LaunchError(f"{where}: distributed_type MULTI_CPU starts one process unless mpirun starts the others; "
                          f"use distributed_type MULTI_GPU with use_cpu: true ({SHIPPED_DIR}/ddp_cpu.yaml)")
    if config.distributed_type == "FSDP" and (config.use_cpu or not machine.cuda_devices):
        raise LaunchError(f"{where}: FSDP runs on CUDA GPUs only ({_gpus(machine)} here); use "
                          f"{SHIPPED_DIR}/ddp_cpu.yaml on the CPU")
    if config.distributed_type == "DEEPSPEED":
        _check_deepspeed(plan, machine)
    elif plan.on_gpu:
        if not machine.cuda_devices:
            raise LaunchError(f"{where}: DDP on GPUs, but this machine has no CUDA GPU; use "
                              f"{SHIPPED_DIR}/ddp_cpu.yaml to run the processes on the CPU")
    if plan.on_gpu and machine.cuda_devices and plan.per_machine > machine.cuda_devices:
        raise LaunchError(f"{where}: {plan.per_machine} processes on this machine but {_gpus(machine)}; one process "
                          f"per GPU: pass --num-processes {machine.cuda_devices * plan.num_machines}")
    _check_trainer(plan)
    if plan.num_machines == 1 and plan.main_process_port is None:
        plan = replace(plan, main_process_port=free_port())
    return plan


def _gpus(machine: Machine) -> str:
    return f"{machine.cuda_devices} CUDA GPU" + ("" if machine.cuda_devices == 1 else "s")


def _check_command(plan: LaunchPlan) -> None:
    trainers = ", ".join(" ".join(c) for c in TRAINING_COMMANDS)
    if not plan.command:
        raise LaunchError(f"alignlab launch needs a training command after `--`, one of: {trainers}")
    if plan.trainer_kind is None:
        raise LaunchError(f"alignlab launch -- {' '.join(plan.command[:2])}: not a training command; "
                          f"launch one of: {trainers}")


def _check_deepspeed(plan: LaunchPlan, machine: Machine) -> None:
    where, config = plan.config_file, plan.config
    if not machine.deepspeed:
        raise LaunchError(f"{where}: distributed_type DEEPSPEED but deepspeed is not installed; "
                          "pip install 'alignlab[gpu]' (or pip install deepspeed)")
    if config.use_cpu:
        raise LaunchError(f"{where}: use_cpu: true makes accelerate drop DeepSpeed silently; set use_cpu: false "
                          "(without a GPU DeepSpeed runs on its CPU accelerator by itself)")
    ds = config.deepspeed_config
    if not machine.cuda_devices and (ds.offload_optimizer_device != "none" or ds.offload_param_device != "none"):
        raise LaunchError(f"{where}: offloading to CPU memory needs a GPU to offload from ({_gpus(machine)} here); "
                          f"use {SHIPPED_DIR}/zero3.yaml on the CPU")


def _check_trainer(plan: LaunchPlan) -> None:
    """Trainer features that cannot run under the chosen sharding."""
    kind, trainer = plan.trainer_kind, plan.trainer_config
    what = plan.config.describe()
    if kind in SINGLE_PROCESS_ONLY and plan.num_processes > 1:
        raise LaunchError(f"train {kind} on {plan.num_processes} processes: {SINGLE_PROCESS_ONLY[kind]}")
    if kind in DDP_ONLY and plan.config.distributed_type in ("DEEPSPEED", "FSDP"):
        raise LaunchError(f"{plan.config_file}: train {kind} under {what}: {kind} {DDP_ONLY[kind]}")
    sharded = plan.config.zero_stage == 3 or plan.config.distributed_type == "FSDP"
    if not sharded:
        return
    if kind in SHARDED_UNSUPPORTED:
        raise LaunchError(f"{plan.config_file}: {' '.join(plan.command[:2])} under {what}: "
                          f"{SHARDED_UNSUPPORTED[kind]}")
    if kind in LIFECYCLE and plan.config.distributed_type == "FSDP":
        raise LaunchError(f"{plan.config_file}: train {kind} under {what}: untested for the lifecycle backends; "
                          f"use {SHIPPED_DIR}/zero3.yaml (shards the weights too), zero2.yaml or ddp.yaml")
    if kind in LIFECYCLE and getattr(trainer, "lora", None) is not None:
        raise LaunchError(f"{plan.config_file}: train {kind} with lora under {what}: the adapter is merged into "
                          "the saved model from rank 0's full copy of the weights, which the sharding does not "
                          f"keep; use {SHIPPED_DIR}/zero2.yaml or ddp.yaml (LoRA weights are small), or drop lora")
    hooks = getattr(getattr(trainer, "eval", None), "hooks", None)
    if hooks:
        raise LaunchError(f"{plan.config_file}: eval.hooks ({', '.join(hooks)}) under {what}: a hook receives the "
                          "model while its weights are sharded across processes; run hooks after training with "
                          "`alignlab eval run` on the saved model, or use zero2/ddp")


def free_port() -> int:
    """A TCP port nothing listens on now (for the rendezvous of a single-machine run)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
