"""Every training method alignlab runs, in one registry: name -> config class, train function, pipeline types.

    from alignlab.methods import METHODS
    method = METHODS.get("rloo")
    run = method.train_function()(load_config("configs/rloo/tiny.yaml", method.config_class()))

The CLI (`alignlab train NAME`), the pipeline (`alignlab pipeline kinds`: every method is a stage kind) and
`alignlab config schema NAME` read this table, so a method added here is reachable from all three. Targets are
`"module:attr"` strings resolved on use: importing this module costs nothing (no torch, no TRL), and the config
layer can read it without importing an algorithm.

Adding a method (say `orpo`): write `alignlab/config/orpo.py` (its pydantic config) and
`alignlab/algorithms/orpo.py` (`train_orpo(config, *, force=False, echo=print) -> Run`), register one `Method`
below, add a `configs/orpo/tiny.yaml`, and a CLI command in `alignlab/cli/train.py` that calls `run_method`.
The pipeline picks it up from `family` (what it consumes and produces).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from alignlab.registry import Registry

__all__ = ["FAMILIES", "METHODS", "Method"]

# What a family of methods takes in a pipeline (role -> output types it accepts) and what it makes.
FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "reward": (("preferences",), ("reward_model",)),
    "offline": (("model", "preferences"), ("model",)),  # DPO family, KTO: a policy and preference records
    "online": (("model", "reward_model"), ("model",)),  # PPO, GRPO, RLOO: a policy, rewards, prompts
    "lifecycle": (("model",), ("model",)),  # pretrain, CPT, SFT, external trainers
}


def _resolve(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Method:
    """A training method: the config it reads, the function that trains, and its place in a pipeline."""

    name: str
    config: str  # "module:Class" of the pydantic config
    train: str  # "module:function"; called as fn(config, force=..., echo=...) (rm returns an RMResult)
    family: str  # a key of FAMILIES
    summary: str

    @property
    def consumes(self) -> tuple[str, ...]:
        return FAMILIES[self.family][0]

    @property
    def produces(self) -> tuple[str, ...]:
        return FAMILIES[self.family][1]

    def config_class(self) -> Any:
        return _resolve(self.config)

    def train_function(self) -> Any:
        return _resolve(self.train)


METHODS: Registry[Method] = Registry("training method")

for _method in (
    Method("rm", "alignlab.config.rm:RMConfig", "alignlab.algorithms.rm:train_rm", "reward",
           "reward model: Bradley-Terry, multi-attribute regression, ensembles"),
    Method("dpo", "alignlab.config.dpo:DPOConfig", "alignlab.algorithms.dpo:train_dpo", "offline",
           "direct preference optimisation and its variants (IPO, cDPO, robust, hinge, SimPO, ORPO, RPO, ...)"),
    Method("kto", "alignlab.config.dpo:KTOConfig", "alignlab.algorithms.kto:train_kto", "offline",
           "Kahneman-Tversky optimisation on unpaired desirable/undesirable answers"),
    Method("ppo", "alignlab.config.online:PPOConfig", "alignlab.algorithms.ppo:train_ppo", "online",
           "proximal policy optimisation with a value head and GAE"),
    Method("grpo", "alignlab.config.online:GRPOConfig", "alignlab.algorithms.grpo:train_grpo", "online",
           "group relative policy optimisation"),
    Method("rloo", "alignlab.config.online:RLOOConfig", "alignlab.algorithms.rloo:train_rloo", "online",
           "REINFORCE leave-one-out"),
    Method("pretrain", "alignlab.config.lifecycle:PretrainConfig", "alignlab.algorithms.pretrain:train_pretrain",
           "lifecycle", "pretraining from random weights on raw text"),
    Method("cpt", "alignlab.config.lifecycle:CPTConfig", "alignlab.algorithms.pretrain:train_cpt", "lifecycle",
           "continued pretraining of an existing model"),
    Method("sft", "alignlab.config.lifecycle:SFTConfig", "alignlab.algorithms.sft:train_sft", "lifecycle",
           "supervised fine-tuning / instruction tuning"),
    Method("external", "alignlab.config.lifecycle:ExternalConfig", "alignlab.algorithms.external:run_external",
           "lifecycle", "another framework's training command, its checkpoint picked up"),
):
    METHODS.register(_method.name, _method)
