"""YAML -> pydantic config, with dotted overrides and errors that name the key, the file and its line.

    config = load_config("configs/demo.yaml", DemoConfig, ["run.seed=3", "train.lr=1e-4"])

Unknown keys are errors (every schema forbids extras), listing the keys that are allowed at that place;
a wrong value names the allowed values. Nothing is written and no run directory exists until this returns.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from alignlab.errors import ConfigError

C = TypeVar("C", bound=BaseModel)


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads `1e-4` as a float (YAML 1.1 wants `1.0e-4`)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def parse_yaml_value(text: str) -> Any:
    """Parse an override's right-hand side the way the same text would read inside a YAML file."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError:
        return text


def _line_map(node: yaml.Node | None, prefix: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """Map each key path, e.g. ('train', 'lr'), to its 1-based line in the file."""
    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = (*prefix, key_node.value)
            out[path] = key_node.start_mark.line + 1
            _line_map(value_node, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out[(*prefix, index)] = item.start_mark.line + 1
            _line_map(item, (*prefix, index), out)
    return out


def read_yaml(path: str | Path) -> tuple[dict, dict[tuple, int]]:
    """Read a YAML mapping and the line of every key; errors are one line naming the file."""
    from alignlab.paths import shipped_path

    path = shipped_path(path)  # `configs/rm/tiny_bt.yaml` also finds the shipped copy outside a checkout
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found (check the path passed to --config)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not valid UTF-8 at byte {err.start}; save the file as UTF-8") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
        lines = _line_map(yaml.compose(text, Loader=_Loader))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the top level must be a mapping of sections, got {type(data).__name__}")
    return data, lines


def section_defaults(schema: type[BaseModel]) -> dict[str, Any]:
    """Each sub-section's default values, e.g. {'run': {'name': 'demo', ...}}, for overrides to start from."""
    defaults: dict[str, Any] = {}
    for name, field in schema.model_fields.items():
        if field.default_factory is not None:
            value = field.default_factory()
        elif field.is_required():
            continue
        else:
            value = field.default
        if isinstance(value, BaseModel):
            defaults[name] = value.model_dump(mode="json")
    return defaults


def apply_overrides(data: dict, overrides: list[str], defaults: dict | None = None) -> dict[tuple, str]:
    """Apply `a.b.c=value` strings in place; return key path -> the override text, for error messages.

    A section the file leaves out starts from the schema's defaults for it (`run.seed=3` alone keeps the
    stage's default `run.name`), as if the file had spelled the section out.
    """
    origin: dict[tuple, str] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r}: expected KEY=VALUE with a dotted key, e.g. train.lr=1e-4")
        parts = key.strip().split(".")
        node, default_node = data, defaults or {}
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            default_child = default_node.get(part) if isinstance(default_node, dict) else None
            default_node = default_child if isinstance(default_child, dict) else {}
            if child is None:
                child = node[part] = copy.deepcopy(default_node)
            if not isinstance(child, dict):
                joined = ".".join(parts[: depth + 1])
                raise ConfigError(f"override {item!r}: {joined} is a value, not a section")
            node = child
        node[parts[-1]] = parse_yaml_value(raw)
        origin[tuple(parts)] = item
    return origin


def _submodel(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """Walk a pydantic model class along `loc` to the model that owns its last key."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None
        current = field.annotation
        for arg in getattr(current, "__args__", ()) or ():
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                current = arg
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _did_you_mean(key: str, owner: type[BaseModel]) -> str:
    """`; did you mean 'lr_scheduler_type'?` for a near miss among the section's keys."""
    import difflib

    names = list(owner.model_fields)
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


def _describe(error: dict, schema: type[BaseModel]) -> str:
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        owner = _submodel(schema, loc[:-1]) if loc[:-1] else schema
        valid = ", ".join(owner.model_fields) if owner else "see `alignlab config schema`"
        hint = _did_you_mean(str(loc[-1]), owner) if owner else ""
        return f"unknown key{hint} (valid keys here: {valid})"
    message = error["msg"]
    if error["type"] == "missing":
        message = "required key is missing"
    return message


def format_validation_error(err: ValidationError, schema: type[BaseModel], source: str,
                            lines: dict[tuple, int], origin: dict[tuple, str]) -> str:
    problems = []
    for error in err.errors():
        loc = tuple(error["loc"])
        key = ".".join(str(part) for part in loc) or "(top level)"
        if loc in origin:
            where = f"override {origin[loc]!r}"
        else:
            line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), None)
            where = f"{source}:{line}" if line else source
        problems.append(f"{where}: {key}: {_describe(error, schema)}")
    return "\n".join(problems)


def load_config(path: str | Path | None, schema: type[C], overrides: list[str] | None = None) -> C:
    """Load `path` (or only the schema's defaults when None) plus overrides into `schema`."""
    data, lines = read_yaml(path) if path is not None else ({}, {})
    origin = apply_overrides(data, list(overrides or []), section_defaults(schema))
    try:
        return schema.model_validate(data)
    except ValidationError as err:
        source = str(path) if path is not None else "defaults"
        if "model_name_or_path" in data and "model_name_or_path" not in schema.model_fields:
            raise ConfigError(f"{source}: this is a TRL / alignment-handbook recipe, not an alignlab config; convert "
                              f"it with `alignlab config import-trl {source} --out alignlab.yaml`") from None
        raise ConfigError(format_validation_error(err, schema, source, lines, origin)) from None


def dump_yaml(config: BaseModel) -> str:
    """The resolved config as YAML (what `config.yaml` in a run directory holds)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
