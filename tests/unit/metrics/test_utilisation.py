"""Utilisation: FLOP arithmetic (6·N per trained token, 2·N per scored one), the measured peak and its cache,
the step meter, and a DPO run that logs achieved FLOP/s and its share of the peak."""

from __future__ import annotations

import json

import pytest

from alignlab.metrics.utilisation import (
    UtilisationMeter,
    achieved_flops,
    machine_key,
    peak_flops,
    training_dtype,
)


def test_achieved_flops_counts_six_per_trained_and_two_per_scored_token():
    # 1M parameters, 100 trained + 50 scored tokens in 2 s: (6*100 + 2*50) * 1e6 / 2 = 3.5e8 FLOP/s
    assert achieved_flops(1_000_000, 2.0, trained_tokens=100, forward_tokens=50) == pytest.approx(3.5e8)
    assert achieved_flops(1_000_000, 0.0, trained_tokens=100) == 0.0


def test_peak_is_measured_once_then_read_from_the_cache(tmp_path):
    path = tmp_path / "alignlab" / "peak_flops.json"
    measured = peak_flops("float32", threads=1, path=path)
    assert measured > 1e8  # any CPU multiplies 1024x1024 matrices faster than 0.1 GFLOP/s
    key = machine_key("float32", "cpu", 1)
    assert json.loads(path.read_text()) == {key: measured}
    path.write_text(json.dumps({key: 123.0}))  # a cached value is used as is, not measured again
    assert peak_flops("float32", threads=1, path=path) == 123.0
    path.write_text("not json")  # a damaged cache is measured again and rewritten
    assert peak_flops("float32", threads=1, path=path) > 1e8


def test_meter_reports_flops_over_timed_steps_and_resets(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    meter = UtilisationMeter(n_params=1000)
    assert meter.report("float32") == {}  # nothing ran yet
    meter.on_step_begin(None, None, None)
    meter.count(300, trained=True)
    meter.count(100, trained=False)
    meter.on_step_end(None, None, None)
    seconds = meter.seconds
    report = meter.report("float32")
    assert report["flops_per_s"] == pytest.approx(1000 * (6 * 300 + 2 * 100) / seconds)
    assert report["share_of_peak"] == pytest.approx(report["flops_per_s"] / report["peak_flops_per_s"])
    assert meter.report("float32") == {}  # reset after each report


def test_training_dtype_follows_the_trainer_arguments():
    class Args:
        bf16, fp16 = True, False

    assert training_dtype(Args()) == "bfloat16"
    Args.bf16 = False
    assert training_dtype(Args()) == "float32"


def test_a_run_faster_than_the_cached_peak_measures_it_again_and_keeps_the_higher(monkeypatch, tmp_path):
    """A peak measured while the machine was busy reads too low (shares above 100%): the first report that beats
    it measures again, and the cache keeps the higher value."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = tmp_path / "alignlab" / "peak_flops.json"
    key = machine_key("float32", "cpu", 1)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({key: 1.0}))  # an absurdly low peak, as if measured under heavy load
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        meter = UtilisationMeter(n_params=1000)
        meter.on_step_begin(None, None, None)
        meter.count(300, trained=True)
        meter.on_step_end(None, None, None)
        report = meter.report("float32")
    finally:
        torch.set_num_threads(threads)
    assert report["peak_flops_per_s"] > 1e8  # measured again (a 1024² matmul runs far above 1 FLOP/s)
    assert json.loads(path.read_text())[key] == report["peak_flops_per_s"]
    assert peak_flops("float32", threads=1, path=path, remeasure=True) >= 1.0  # never lowered by a re-measure
