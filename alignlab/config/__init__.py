"""Typed configs: pydantic schemas (unknown keys forbidden), a YAML loader with dotted overrides, a registry.

    from alignlab.config import CONFIGS, load_config
    config = load_config("configs/demo.yaml", CONFIGS.get("demo"), ["run.seed=1"])
"""

from alignlab.config.base import DataSection, ModelSection, RunSection, StrictModel, TrainSection
from alignlab.config.loader import dump_yaml, load_config, parse_yaml_value
from alignlab.registry import Registry

CONFIGS: Registry[type[StrictModel]] = Registry("config kind")
CONFIGS.register("demo", "alignlab.config.schemas:DemoConfig")
CONFIGS.register("tiny_model", "alignlab.config.schemas:TinyModelConfig")
CONFIGS.register("rm", "alignlab.config.schemas:RMConfig")

__all__ = [
    "CONFIGS",
    "DataSection",
    "ModelSection",
    "RunSection",
    "StrictModel",
    "TrainSection",
    "dump_yaml",
    "load_config",
    "parse_yaml_value",
]
