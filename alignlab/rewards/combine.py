"""Weighted combinations of rewards: total = sum_k w_k * r_k, with every component kept for the metrics.

`build_rewards(specs)` turns config entries (`{rule|model, weight, args, name}`; dicts or pydantic objects)
into a `RewardSet`. Calling it scores N completions once per component and returns a `RewardResult`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from alignlab.errors import ConfigError


@dataclass
class RewardResult:
    """Scores of N completions: `total` (N,), each component unweighted (N,), the ensemble spread (N,) or None."""

    total: np.ndarray
    components: dict[str, np.ndarray]
    ensemble_std: np.ndarray | None = None


@dataclass
class RewardComponent:
    name: str
    weight: float
    function: Callable[..., list[float]]


class RewardSet:
    def __init__(self, components: Sequence[RewardComponent]) -> None:
        if not components:
            raise ConfigError("rewards: empty; give at least one {rule: NAME} or {model: PATH}")
        self.components = list(components)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.components]

    def model_rewards(self) -> list[Any]:
        from alignlab.rewards.model import ModelReward

        return [c.function for c in self.components if isinstance(c.function, ModelReward)]

    def __call__(self, prompts: Sequence[Any], completions: Sequence[str],
                 columns: dict[str, Sequence[Any]] | None = None) -> RewardResult:
        parts: dict[str, np.ndarray] = {}
        total = np.zeros(len(completions), dtype=np.float64)
        stds = []
        for component in self.components:
            values = np.asarray(component.function(list(prompts), list(completions), **(columns or {})),
                                dtype=np.float64)
            if values.shape != (len(completions),):
                raise RuntimeError(f"reward {component.name} returned {values.shape[0]} scores for "
                                   f"{len(completions)} completions")
            parts[component.name] = values
            total += component.weight * values
            std = getattr(component.function, "last_std", None)
            if std is not None:
                stds.append(abs(component.weight) * np.asarray(std))
        return RewardResult(total, parts, np.sum(stds, axis=0) if stds else None)


def _field(spec: Any, name: str, default: Any = None) -> Any:
    return spec.get(name, default) if isinstance(spec, dict) else getattr(spec, name, default)


def build_rewards(specs: Sequence[Any], *, device: str | None = None, where: str = "rewards") -> RewardSet:
    """A RewardSet from config entries; rules are built first, so a bad rule fails before a model loads."""
    from alignlab.rewards.rules import make_rule

    components: list[RewardComponent | None] = [None] * len(specs)
    for index, spec in enumerate(specs):
        rule = _field(spec, "rule")
        if rule is not None:
            function = make_rule(rule, dict(_field(spec, "args") or {}), f"{where}[{index}]")
            components[index] = RewardComponent(_field(spec, "name") or rule, float(_field(spec, "weight", 1.0)),
                                                function)
    for index, spec in enumerate(specs):
        path = _field(spec, "model")
        if path is not None:
            from alignlab.rewards.model import ModelReward

            function = ModelReward(str(path), batch_size=int(_field(spec, "batch_size", 16) or 16), device=device)
            components[index] = RewardComponent(_field(spec, "name") or f"rm{index}",
                                                float(_field(spec, "weight", 1.0)), function)
    names = [c.name for c in components if c is not None]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ConfigError(f"{where}: two rewards are named {duplicate!r}; give each a distinct `name`")
    return RewardSet([c for c in components if c is not None])
