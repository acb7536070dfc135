"""Typed configs: pydantic schemas (unknown keys forbidden), a YAML loader with dotted overrides, a registry.

    from alignlab.config import CONFIGS, load_config
    config = load_config("configs/demo.yaml", CONFIGS.get("demo"), ["run.seed=1"])
"""

from alignlab.config.base import DataSection, ModelSection, RunSection, StrictModel, TrainSection
from alignlab.config.loader import dump_yaml, load_config, parse_yaml_value
from alignlab.methods import METHODS
from alignlab.registry import Registry

CONFIGS: Registry[type[StrictModel]] = Registry("config kind")
CONFIGS.register("demo", "alignlab.config.schemas:DemoConfig")
CONFIGS.register("tiny_model", "alignlab.config.schemas:TinyModelConfig")
CONFIGS.register("annotate", "alignlab.config.annotate:AnnotateConfig")
CONFIGS.register("eval", "alignlab.config.eval:EvalConfig")
CONFIGS.register("accelerate", "alignlab.config.launch:AccelerateConfig")
CONFIGS.register("pipeline", "alignlab.config.pipeline:PipelineConfig")
for _name in METHODS:  # every training method's config is a config kind (`alignlab config schema NAME`)
    CONFIGS.register(_name, METHODS.get(_name).config)

# Which config kind a shipped YAML under configs/ is: by its folder, or by its own name at the top level.
CONFIG_KIND_BY_FOLDER = {"annotate": "annotate", "eval": "eval", "pipelines": "pipeline", "accelerate": "accelerate",
                         **{name: name for name in METHODS}}
CONFIG_KIND_BY_FILE = {"demo.yaml": "demo"}


def kind_for_path(relative_path: str) -> str | None:
    """The config kind of a file under configs/ (e.g. 'rm/tiny_bt.yaml' -> 'rm'), None when unknown."""
    parts = relative_path.replace("\\", "/").split("/")
    if len(parts) == 1:
        return CONFIG_KIND_BY_FILE.get(parts[0])
    return CONFIG_KIND_BY_FOLDER.get(parts[0])

# Every stage's config class, importable from here (`from alignlab.config import DPOConfig`), loaded on first use
# through the CONFIGS registry so that this package stays light and a class may move between modules.
CONFIG_CLASSES = {"DPOConfig": "dpo", "KTOConfig": "kto", "RMConfig": "rm", "PPOConfig": "ppo", "GRPOConfig": "grpo",
                  "RLOOConfig": "rloo", "SFTConfig": "sft", "PretrainConfig": "pretrain", "CPTConfig": "cpt",
                  "ExternalConfig": "external", "EvalConfig": "eval", "PipelineConfig": "pipeline",
                  "DemoConfig": "demo", "AnnotateConfig": "annotate", "TinyModelConfig": "tiny_model",
                  "AccelerateConfig": "accelerate"}


def __getattr__(name: str):
    if name in CONFIG_CLASSES:
        return CONFIGS.get(CONFIG_CLASSES[name])
    raise AttributeError(f"module 'alignlab.config' has no attribute {name!r}")


__all__ = [
    *CONFIG_CLASSES,
    "CONFIGS",
    "DataSection",
    "ModelSection",
    "RunSection",
    "StrictModel",
    "TrainSection",
    "dump_yaml",
    "kind_for_path",
    "load_config",
    "parse_yaml_value",
]
