"""Launcher configs: accelerate's own config files (`configs/accelerate/*.yaml`), typed.

The files are plain `accelerate launch --config_file` YAML, so they work with accelerate directly too. This
schema holds the keys alignlab's launcher reads and checks before any process starts (`alignlab.launch.plan`),
and forbids unknown ones so that a typo (`zero_stag: 3`) is an error naming the key, not a silently different
run. The shipped files are also loaded by accelerate's own loader in a test.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from alignlab.config.base import StrictModel

DistributedType = Literal["NO", "MULTI_GPU", "MULTI_CPU", "DEEPSPEED", "FSDP"]
OffloadDevice = Literal["none", "cpu", "nvme"]


class DeepSpeedSection(StrictModel):
    """accelerate's `deepspeed_config:` block. Batch size, accumulation, learning rate and precision are not
    set here: the Trainer fills DeepSpeed's "auto" values from the alignlab config."""

    zero_stage: Literal[0, 1, 2, 3] = 2
    offload_optimizer_device: OffloadDevice = "none"
    offload_param_device: OffloadDevice = "none"
    offload_optimizer_nvme_path: str | None = None
    offload_param_nvme_path: str | None = None
    zero3_init_flag: bool = False
    zero3_save_16bit_model: bool = False
    gradient_clipping: float | None = Field(None, gt=0)
    deepspeed_config_file: str | None = Field(None, description="A DeepSpeed JSON file instead of these keys.")
    deepspeed_multinode_launcher: Literal["standard", "pdsh", "openmpi", "mvapich", "mpich", "nossh"] | None = None
    deepspeed_hostfile: str | None = None

    @model_validator(mode="after")
    def _stage_features(self) -> DeepSpeedSection:
        if self.offload_param_device != "none" and self.zero_stage != 3:
            raise ValueError(f"offload_param_device: {self.offload_param_device} needs zero_stage: 3 "
                             f"(ZeRO-{self.zero_stage} keeps the weights on every device)")
        if self.zero3_save_16bit_model and self.zero_stage != 3:
            raise ValueError("zero3_save_16bit_model: only meaningful with zero_stage: 3")
        return self


class FSDPSection(StrictModel):
    """accelerate's `fsdp_config:` block (the keys alignlab's shipped file uses, and the common others)."""

    fsdp_version: Literal[1, 2] = 2
    fsdp_auto_wrap_policy: Literal["TRANSFORMER_BASED_WRAP", "SIZE_BASED_WRAP", "NO_WRAP"] = "TRANSFORMER_BASED_WRAP"
    fsdp_transformer_layer_cls_to_wrap: str | None = None
    fsdp_min_num_params: int | None = Field(None, ge=1)
    fsdp_cpu_ram_efficient_loading: bool = False
    fsdp_offload_params: bool = False
    fsdp_reshard_after_forward: bool | str = True
    fsdp_state_dict_type: Literal["FULL_STATE_DICT", "SHARDED_STATE_DICT"] = "FULL_STATE_DICT"
    fsdp_activation_checkpointing: bool = False
    fsdp_sync_module_states: bool | None = None
    fsdp_use_orig_params: bool | None = None
    fsdp_backward_prefetch: str | None = None
    fsdp_forward_prefetch: bool | None = None
    fsdp_sharding_strategy: str | None = None


class AccelerateConfig(StrictModel):
    """One `accelerate launch --config_file` file. `num_processes` counts the processes of all machines."""

    compute_environment: Literal["LOCAL_MACHINE"] = "LOCAL_MACHINE"
    distributed_type: DistributedType = "MULTI_GPU"
    use_cpu: bool = False
    num_machines: int = Field(1, ge=1)
    num_processes: int = Field(1, ge=1)
    machine_rank: int = Field(0, ge=0)
    main_process_ip: str | None = None
    main_process_port: int | None = Field(None, ge=0, le=65535)
    gpu_ids: str | None = None
    mixed_precision: Literal["no", "bf16"] = Field(
        "no", description="bf16 on GPUs that support it; 'no' (float32) on CPU. alignlab trainers do not use fp16.")
    rdzv_backend: Literal["static", "c10d"] = "static"
    same_network: bool = True
    main_training_function: str = "main"
    downcast_bf16: Literal["no", "yes"] | bool = "no"
    enable_cpu_affinity: bool = False
    debug: bool = False
    deepspeed_config: DeepSpeedSection | None = None
    fsdp_config: FSDPSection | None = None

    @model_validator(mode="after")
    def _sections_match_type(self) -> AccelerateConfig:
        if self.distributed_type == "DEEPSPEED" and self.deepspeed_config is None:
            raise ValueError("distributed_type: DEEPSPEED needs a deepspeed_config: section (zero_stage, ...)")
        if self.distributed_type == "FSDP" and self.fsdp_config is None:
            raise ValueError("distributed_type: FSDP needs an fsdp_config: section")
        if self.distributed_type != "DEEPSPEED" and self.deepspeed_config:
            raise ValueError(f"deepspeed_config: given, but distributed_type is {self.distributed_type}")
        if self.distributed_type != "FSDP" and self.fsdp_config:
            raise ValueError(f"fsdp_config: given, but distributed_type is {self.distributed_type}")
        return self

    @property
    def zero_stage(self) -> int | None:
        return self.deepspeed_config.zero_stage if self.deepspeed_config is not None else None

    def describe(self) -> str:
        """A short name for messages and tables: 'DDP (CPU)', 'DeepSpeed ZeRO-3 (offload)', 'FSDP'."""
        if self.distributed_type == "DEEPSPEED":
            offload = self.deepspeed_config.offload_param_device != "none" or \
                self.deepspeed_config.offload_optimizer_device != "none"
            return f"DeepSpeed ZeRO-{self.zero_stage}" + (" (offload)" if offload else "")
        if self.distributed_type == "FSDP":
            return "FSDP"
        return "DDP (CPU)" if self.use_cpu or self.distributed_type == "MULTI_CPU" else "DDP"
