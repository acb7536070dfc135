"""`import alignlab.data` stays light; the benchmark script still runs (on a few hundred rows)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

HEAVY = ("pandas", "pyarrow", "datasets", "matplotlib", "jinja2", "torch", "transformers", "trl", "scipy")
ROOT = Path(__file__).resolve().parents[3]


def test_import_is_light():
    probe = f"import sys, alignlab.data; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_benchmark_sides_agree_on_a_small_input(tmp_path):
    spec = importlib.util.spec_from_file_location("data_pipeline", ROOT / "benchmarks" / "data_pipeline.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    source = tmp_path / "pairs.jsonl"
    copies = bench.generate(source, 400, duplicate_share=0.05)
    a = bench.run_alignlab(str(source), str(tmp_path / "a.jsonl"))
    b = bench.run_pandas(str(source), str(tmp_path / "b.jsonl"))
    assert a["rows_in"] == b["rows_in"] == 400
    assert a["rows_out"] == b["rows_out"] <= 400 - copies + 1  # a copy may repeat a row already repeated
    assert bench.same_rows(tmp_path / "a.jsonl", tmp_path / "b.jsonl")
