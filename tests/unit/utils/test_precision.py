"""Precision choice: bf16 only where the hardware has bf16 matmuls and the model is big enough to gain;
an explicit choice wins, an unsupported one is refused with one line."""

from __future__ import annotations

import pytest

from alignlab.errors import ConfigError
from alignlab.utils.precision import CPU_BF16_MIN_PARAMS, choose_precision, cpu_bf16_flags

WITH_BF16 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n"
WITHOUT_BF16 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n"


def test_cpu_flags_are_read_from_cpuinfo():
    assert cpu_bf16_flags(WITH_BF16) == ["avx512_bf16"]
    assert cpu_bf16_flags(WITHOUT_BF16) == []


def test_auto_picks_bf16_on_a_bf16_cpu_only_for_models_big_enough():
    big, small = CPU_BF16_MIN_PARAMS * 2, CPU_BF16_MIN_PARAMS // 2
    assert choose_precision(big, cpuinfo=WITH_BF16).name == "bf16"
    choice = choose_precision(small, cpuinfo=WITH_BF16)
    assert choice.name == "fp32" and "runs as fast in fp32" in choice.reason
    assert choose_precision(big, cpuinfo=WITHOUT_BF16).name == "fp32"
    assert choose_precision(big, cpuinfo=WITH_BF16).trainer_kwargs() == {"bf16": True, "fp16": False}


def test_an_explicit_choice_wins_and_an_unsupported_one_is_refused():
    assert choose_precision(1000, requested="bf16", cpuinfo=WITH_BF16).name == "bf16"
    assert choose_precision(10**9, requested="fp32", cpuinfo=WITH_BF16).as_dict() == {"name": "fp32",
                                                                                        "reason": "asked for"}
    with pytest.raises(ConfigError, match="bf16 asked for, but the CPU has no bf16"):
        choose_precision(1000, requested="bf16", cpuinfo=WITHOUT_BF16)
    with pytest.raises(ConfigError, match="not one of auto, bf16, fp32"):
        choose_precision(1000, requested="fp16")
