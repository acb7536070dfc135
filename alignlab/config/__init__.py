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
CONFIGS.register("rm", "alignlab.config.rm:RMConfig")
CONFIGS.register("annotate", "alignlab.config.annotate:AnnotateConfig")
CONFIGS.register("dpo", "alignlab.config.dpo:DPOConfig")
CONFIGS.register("kto", "alignlab.config.dpo:KTOConfig")
CONFIGS.register("eval", "alignlab.config.eval:EvalConfig")
CONFIGS.register("accelerate", "alignlab.config.launch:AccelerateConfig")
CONFIGS.register("ppo", "alignlab.config.online:PPOConfig")
CONFIGS.register("grpo", "alignlab.config.online:GRPOConfig")
CONFIGS.register("rloo", "alignlab.config.online:RLOOConfig")
CONFIGS.register("pipeline", "alignlab.config.pipeline:PipelineConfig")
CONFIGS.register("pretrain", "alignlab.config.lifecycle:PretrainConfig")
CONFIGS.register("cpt", "alignlab.config.lifecycle:CPTConfig")
CONFIGS.register("sft", "alignlab.config.lifecycle:SFTConfig")
CONFIGS.register("external", "alignlab.config.lifecycle:ExternalConfig")

# Which config kind a shipped YAML under configs/ is: by its folder, or by its own name at the top level.
CONFIG_KIND_BY_FOLDER = {"annotate": "annotate", "rm": "rm", "dpo": "dpo", "kto": "kto", "eval": "eval",
                         "pretrain": "pretrain", "cpt": "cpt", "sft": "sft", "external": "external",
                         "pipelines": "pipeline"}
CONFIG_KIND_BY_FOLDER.update({"ppo": "ppo", "grpo": "grpo", "rloo": "rloo"})
CONFIG_KIND_BY_FOLDER["accelerate"] = "accelerate"
CONFIG_KIND_BY_FILE = {"demo.yaml": "demo"}


def kind_for_path(relative_path: str) -> str | None:
    """The config kind of a file under configs/ (e.g. 'rm/tiny_bt.yaml' -> 'rm'), None when unknown."""
    parts = relative_path.replace("\\", "/").split("/")
    if len(parts) == 1:
        return CONFIG_KIND_BY_FILE.get(parts[0])
    return CONFIG_KIND_BY_FOLDER.get(parts[0])

__all__ = [
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
