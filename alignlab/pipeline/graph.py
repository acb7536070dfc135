"""The stage graph: declared stages unrolled over the feedback rounds, checked, ordered and content-hashed.

    graph = build_graph(config, source="configs/pipelines/demo.yaml", lines=lines)
    for node in graph.order:          # topological, round by round
        node.key                      # "dpo@r2" (per-round) or "sft"
        node.inputs                   # role -> [upstream Node, ...]

A reference is `stage`, `stage@previous` (the previous round's instance of a per-round stage; none in round
1) or a list of those, of which the first that exists is bound. In a per-round stage, a reference to another
per-round stage means the same round; in a once-stage it means every round (a report sees all of them).

Checks, each a one-line `ConfigError` naming the stage and its line in the file: a reference to a stage that
does not exist (with "did you mean"), a role the kind does not take, a required role left unbound, a role bound
to a stage that makes the wrong kind of output, `@previous` on a once-stage, and cycles (the error lists the
cycle). Hashes are Merkle-style: a stage's hash covers its kind, resolved settings, round and its inputs'
hashes, so changing one stage's config re-runs it and everything downstream, and nothing else.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from alignlab.config.pipeline import PipelineConfig, StageSpec
from alignlab.errors import ConfigError
from alignlab.pipeline.stages import STAGE_KINDS, Role

PREVIOUS = "@previous"
RULE_KINDS = frozenset({"annotate", "eval", "report"})  # stage kinds whose work depends on `rule`


@dataclass
class Node:
    spec: StageSpec
    round: int | None  # None: runs once
    inputs: dict[str, list[Node]] = field(default_factory=dict)
    after: list[Node] = field(default_factory=list)  # needs: ordering only
    hash: str = ""

    @property
    def key(self) -> str:
        return self.spec.name if self.round is None else f"{self.spec.name}@r{self.round}"

    @property
    def folder(self) -> str:
        base = self.spec.name if self.round is None else f"{self.spec.name}-r{self.round}"
        return f"{base}-{self.hash[:10]}"

    def upstream(self) -> list[Node]:
        return [n for nodes in self.inputs.values() for n in nodes] + self.after


@dataclass
class Graph:
    config: PipelineConfig
    nodes: dict[str, Node]
    order: list[Node]

    def rounds_of(self, stage: str) -> list[Node]:
        return [n for n in self.order if n.spec.name == stage]


def _where(source: str | None, lines: dict[tuple, int], index: int, *keys: Any) -> str:
    path = ("stages", index, *keys)
    line = next((lines[path[:n]] for n in range(len(path), 0, -1) if path[:n] in lines), None)
    if source and line:
        return f"{source}:{line}: "
    return f"{source}: " if source else ""


def _check_references(config: PipelineConfig, kinds: dict[str, Any], source: str | None,
                      lines: dict[tuple, int]) -> None:
    names = [s.name for s in config.stages]
    by_name = {s.name: s for s in config.stages}
    for index, stage in enumerate(config.stages):
        kind = kinds[stage.kind]
        roles: dict[str, Role] = kind.roles
        for role in stage.inputs:
            if role not in roles:
                valid = ", ".join(roles) or "none"
                raise ConfigError(f"{_where(source, lines, index, 'inputs', role)}stage {stage.name!r}: kind "
                                  f"{stage.kind} takes no input {role!r} (its inputs: {valid})")
        for role, ref in stage.references():
            name, _, suffix = ref.partition("@")
            where = _where(source, lines, index, "inputs" if role != "needs" else "needs", role)
            if name not in by_name:
                close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
                hint = f"; did you mean {close[0]!r}?" if close else f" (stages: {', '.join(names)})"
                raise ConfigError(f"{where}stage {stage.name!r}: input {role!r} names stage {name!r}, which is not "
                                  f"in the pipeline{hint}")
            if suffix and f"@{suffix}" != PREVIOUS:
                raise ConfigError(f"{where}stage {stage.name!r}: {ref!r}: the only suffix is {PREVIOUS} (the "
                                  "previous round's instance)")
            if suffix and not (stage.runs_per_round() and by_name[name].runs_per_round()):
                raise ConfigError(f"{where}stage {stage.name!r}: {ref!r}: {PREVIOUS} links two per-round stages; "
                                  f"{stage.name if not stage.runs_per_round() else name!r} runs once")
            if role != "needs":
                produced = kinds[by_name[name].kind].produces
                wanted = roles[role].produces
                if not set(wanted) & set(produced):
                    raise ConfigError(f"{where}stage {stage.name!r}: input {role!r} wants {' or '.join(wanted)}, "
                                      f"but stage {name!r} ({by_name[name].kind}) makes "
                                      f"{', '.join(produced) or 'nothing'}")
        for role, spec in roles.items():
            if spec.required and role not in stage.inputs:
                raise ConfigError(f"{_where(source, lines, index)}stage {stage.name!r}: kind {stage.kind} needs "
                                  f"input {role!r} ({spec.description}); add inputs: {{{role}: <stage>}}")


def _check_cycles(config: PipelineConfig, source: str | None, lines: dict[tuple, int]) -> None:
    """Depth-first search over same-round edges (`@previous` edges point back a round and cannot loop)."""
    edges = {s.name: [ref.partition("@")[0] for _, ref in s.references() if PREVIOUS not in ref]
             for s in config.stages}
    state: dict[str, int] = {}  # 1 visiting, 2 done
    index_of = {s.name: i for i, s in enumerate(config.stages)}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for upstream in edges[name]:
            if state.get(upstream) == 1:
                cycle = path[path.index(upstream):] + [upstream] if upstream in path else [name, upstream]
                shown = " -> ".join(reversed(cycle))
                raise ConfigError(f"{_where(source, lines, index_of[name])}stage {name!r}: the stages form a cycle "
                                  f"({shown}); a stage cannot depend on its own output (use @previous for the "
                                  "previous round's)")
            if state.get(upstream) is None:
                visit(upstream, [*path, upstream])
        state[name] = 2

    for stage in config.stages:
        if stage.name not in state:
            visit(stage.name, [stage.name])


def _bind(config: PipelineConfig, kinds: dict[str, Any]) -> dict[str, Node]:
    rounds = range(1, config.rounds + 1)
    nodes: dict[str, Node] = {}
    for stage in config.stages:
        for r in (rounds if stage.runs_per_round() else [None]):
            node = Node(stage, r)
            nodes[node.key] = node
    by_name = {s.name: s for s in config.stages}

    def resolve(node: Node, ref: str, gather: bool) -> list[Node]:
        name, _, suffix = ref.partition("@")
        target = by_name[name]
        if not target.runs_per_round():
            return [nodes[name]]
        if node.round is None:  # a once-stage reading a per-round stage: every round (or the last)
            found = [nodes[f"{name}@r{r}"] for r in rounds]
            return found if gather else found[-1:]
        r = node.round - 1 if suffix else node.round
        return [nodes[f"{name}@r{r}"]] if r >= 1 else []

    for node in nodes.values():
        roles = kinds[node.spec.kind].roles
        for role, value in node.spec.inputs.items():
            for ref in [value] if isinstance(value, str) else value:
                found = resolve(node, ref, roles[role].gather)
                if found:
                    node.inputs[role] = found
                    break
        node.after = [n for ref in node.spec.needs for n in resolve(node, ref, True)]
    return nodes


def _order(nodes: dict[str, Node], config: PipelineConfig) -> list[Node]:
    """Topological order preferring earlier rounds, then declaration order (Kahn's algorithm)."""
    declared = {s.name: i for i, s in enumerate(config.stages)}
    last = config.rounds + 1

    def late(node: Node, seen: set[str]) -> int:  # a once-stage after per-round ones sorts after the rounds
        if node.round is not None:
            return node.round
        ups = [late(u, seen | {node.key}) for u in node.upstream() if u.key not in seen]
        return last if any(u >= 1 for u in ups) else 0

    priority = {key: (late(node, set()), declared[node.spec.name]) for key, node in nodes.items()}
    waiting = {key: {u.key for u in node.upstream()} for key, node in nodes.items()}
    order: list[Node] = []
    while waiting:
        ready = sorted((k for k, ups in waiting.items() if not ups), key=lambda k: priority[k])
        if not ready:  # _check_cycles rules this out; kept as a guard against our own bugs
            raise RuntimeError(f"stage graph has a cycle among {sorted(waiting)}")
        key = ready[0]
        order.append(nodes[key])
        del waiting[key]
        for ups in waiting.values():
            ups.discard(key)
    return order


def stage_hash(node: Node, resolved: dict[str, Any], salt: dict[str, Any]) -> str:
    payload = {"kind": node.spec.kind, "name": node.spec.name, "round": node.round, "config": resolved,
               "pipeline": salt,
               "inputs": {role: [n.hash for n in ups] for role, ups in sorted(node.inputs.items())},
               "after": [n.hash for n in node.after]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def build_graph(config: PipelineConfig, *, source: str | None = None, lines: dict[tuple, int] | None = None,
                kinds: dict[str, Any] | None = None) -> Graph:
    """Check the declared stages and unroll them over `config.rounds`; hashes are filled in order."""
    kinds = kinds or {name: STAGE_KINDS.get(name) for name in {s.kind for s in config.stages}}
    lines = lines or {}
    _check_references(config, kinds, source, lines)
    _check_cycles(config, source, lines)
    for index, stage in enumerate(config.stages):
        try:
            kinds[stage.kind].check(stage, config)
        except ConfigError as err:
            raise ConfigError(f"{_where(source, lines, index, 'config')}stage {stage.name!r}: {err}") from None
    nodes = _bind(config, kinds)
    order = _order(nodes, config)
    salt = {"rule": config.rule, "seed": config.run.seed, "rounds_total": None}
    for node in order:
        # Only the kinds that read the hidden rule hash it: changing the rule keeps pretrain and SFT folders.
        mine = salt if node.spec.kind in RULE_KINDS else {k: v for k, v in salt.items() if k != "rule"}
        node.hash = stage_hash(node, kinds[node.spec.kind].resolved(node.spec, config), mine)
    return Graph(config, nodes, order)
