"""The Python API a notebook user meets: light `import alignlab`, real signatures and docs, configs importable
from `alignlab.config`, `train_rm` with `train` kept as its earlier name."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest


def test_import_is_light_and_the_api_is_documented():
    code = ("import sys, alignlab, alignlab.config as c; from alignlab.config import DPOConfig; "
            "print(any(m in sys.modules for m in ('torch', 'transformers')))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    import alignlab

    for name in alignlab.__all__[1:]:
        function = getattr(alignlab, name)
        assert "Args:" in (function.__doc__ or "") or name == "train", name
        assert "args" not in inspect.signature(function).parameters, name
    assert list(inspect.signature(alignlab.evaluate).parameters)[:3] == ["model", "suites", "judge"]


def test_every_config_class_is_importable_from_alignlab_config():
    import alignlab.config as config

    for name, kind in config.CONFIG_CLASSES.items():
        cls = getattr(config, name)
        assert cls.__name__ == name and config.CONFIGS.get(kind) is cls
    with pytest.raises(AttributeError):
        config.NoSuchConfig  # noqa: B018


def test_train_rm_and_its_old_name_are_one_function():
    from alignlab.algorithms import rm

    assert rm.train is rm.train_rm


def test_yaml_paths_and_overrides_load_the_method_config(monkeypatch):
    import alignlab

    seen = {}
    monkeypatch.setattr(alignlab, "_method", lambda kind: lambda config, **kw: seen.setdefault(kind, config))
    alignlab.train_dpo("configs/dpo/tiny.yaml", ["train.lr=1e-3", "run.name=x"])
    assert seen["dpo"].train.lr == 1e-3 and type(seen["dpo"]).__name__ == "DPOConfig"
    from alignlab.errors import ConfigError

    with pytest.raises(ConfigError, match="overrides apply to a YAML path"):
        alignlab.train_kto(seen["dpo"], ["train.lr=1"])
    with pytest.raises(ConfigError, match="not a training config"):
        alignlab.train(object())
