"""Name -> implementation, resolved lazily, with a "did you mean" error for unknown names.

Targets are `"package.module:attr"` strings so that registering a heavy implementation (a trainer, a suite)
costs nothing until it is used. Modelled on lm-evaluation-harness's registry.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from alignlab.errors import AlignlabError

T = TypeVar("T")


class UnknownNameError(AlignlabError):
    """A name that is not in a registry; the message lists the valid ones."""


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._targets: dict[str, str | T] = {}

    def register(self, name: str, target: str | T) -> None:
        if name in self._targets:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._targets[name] = target

    def names(self) -> list[str]:
        return sorted(self._targets)

    def __contains__(self, name: object) -> bool:
        return name in self._targets

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def check(self, name: str) -> str:
        """Return `name` if registered, else raise a one-line error naming the valid choices."""
        if name in self._targets:
            return name
        close = difflib.get_close_matches(name, self._targets, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownNameError(
            f"unknown {self.kind} {name!r}.{hint} Valid: {', '.join(self.names())}"
        )

    def get(self, name: str) -> T:
        target = self._targets[self.check(name)]
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            obj: Any = importlib.import_module(module_name)
            for part in attr.split(".") if attr else []:
                obj = getattr(obj, part)
            self._targets[name] = obj
            return obj
        return target


def registry_at(target: str) -> Registry[Any]:
    """The registry at `"package.module:ATTR"`, imported on use. The config layer checks names (suites, rules,
    rollout engines) against registries that live in higher layers through these references, so that loading a
    config module imports no trainer, suite or server code."""
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)
