"""Every shipped launcher config is read by accelerate's own loader the way `accelerate launch` reads it, and by
alignlab's schema (tests/unit/config/test_shipped_configs.py loads it too, as kind `accelerate`)."""

from __future__ import annotations

import pytest

from alignlab.config import CONFIGS, kind_for_path, load_config
from tests.conftest import ROOT

SHIPPED = sorted((ROOT / "configs" / "accelerate").glob("*.yaml"))
EXPECTED = {"ddp_cpu": ("MULTI_GPU", None), "ddp": ("MULTI_GPU", None), "zero2": ("DEEPSPEED", 2),
            "zero3": ("DEEPSPEED", 3), "zero3_offload": ("DEEPSPEED", 3), "fsdp": ("FSDP", None)}


def test_the_six_launchers_are_shipped():
    assert {path.stem for path in SHIPPED} == set(EXPECTED)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_accelerate_reads_the_shipped_config(path):
    from accelerate.commands.config.config_args import load_config_from_file

    theirs = load_config_from_file(str(path))
    ours = load_config(path, CONFIGS.get(kind_for_path(f"accelerate/{path.name}")))
    distributed_type, stage = EXPECTED[path.stem]
    assert theirs.distributed_type.value == ours.distributed_type == distributed_type
    assert (theirs.deepspeed_config or {}).get("zero_stage") == ours.zero_stage == stage
    assert theirs.num_processes == ours.num_processes and theirs.use_cpu == ours.use_cpu
    if stage == 3:  # the final model is gathered from the shards when saved
        assert theirs.deepspeed_config["zero3_save_16bit_model"] is True
    if path.stem == "ddp_cpu":
        assert theirs.use_cpu and theirs.mixed_precision == "no"
