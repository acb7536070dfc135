"""Every YAML shipped under configs/ loads with the schema of the code that reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignlab.config import CONFIGS, kind_for_path, load_config

CONFIGS_DIR = Path(__file__).resolve().parents[3] / "configs"
SHIPPED = sorted(p.relative_to(CONFIGS_DIR).as_posix() for p in CONFIGS_DIR.rglob("*.y*ml"))


def test_configs_are_shipped():
    assert "demo.yaml" in SHIPPED


@pytest.mark.parametrize("relative", SHIPPED)
def test_shipped_yaml_loads(relative):
    kind = kind_for_path(relative)
    assert kind is not None, f"configs/{relative}: no config kind maps to this file; add it in alignlab.config"
    load_config(CONFIGS_DIR / relative, CONFIGS.get(kind))
