"""A TRL user's recipe and data through the real CLI: `config import-trl` on the zephyr DPO recipe, TRL-shaped
rows through `data validate` / `data convert`, then `train dpo` on the imported config and those rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "unit" / "config" / "fixtures"


def alignlab(*args, cwd):
    return subprocess.run([sys.executable, "-c", "from alignlab.cli import main; main()", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def trl_rows(path: Path, n: int) -> Path:
    """Implicit-prompt conversational rows (trl-lib/ultrafeedback_binarized's layout)."""
    rows = []
    for i in range(n):
        question = [{"role": "user", "content": f"Tell me about day {i}."}]
        rows.append({"chosen": question + [{"role": "assistant", "content": f"Day {i} was happy and bright."}],
                     "rejected": question + [{"role": "assistant", "content": f"Day {i} was sad and grey."}]})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_import_validate_convert(tmp_path):
    data = trl_rows(tmp_path / "uf.jsonl", 6)
    done = alignlab("config", "import-trl", str(FIXTURES / "zephyr_dpo_config_full.yaml"), "--out", "dpo.yaml",
                    cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "not mapped: max_prompt_length:" in done.stderr and "7 recipe key(s) not mapped" in done.stderr
    mixture = (tmp_path / "dpo.mixture.yaml").read_text()
    assert "train_prefs" in mixture and "HuggingFaceH4/ultrafeedback_binarized" in mixture
    shown = alignlab("config", "show", "dpo", "dpo.yaml", cwd=tmp_path)
    assert shown.returncode == 0 and "lr_scheduler_type: cosine" in shown.stdout, shown.stderr
    assert alignlab("data", "validate", str(data), cwd=tmp_path).stdout.startswith("OK ")
    strict = alignlab("data", "validate", str(data), "--from", "alignlab", cwd=tmp_path)
    assert strict.returncode == 1
    assert "prompt: missing required field (6 rows, lines 1, 2, 3, 4, 5, ...)" in strict.stdout
    converted = alignlab("data", "convert", str(data), "out.jsonl", "--to", "trl-conversational", cwd=tmp_path)
    assert converted.returncode == 0, converted.stderr
    first = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])
    assert first["prompt"] == [{"role": "user", "content": "Tell me about day 0."}]


@pytest.mark.slow
def test_imported_recipe_trains_dpo_on_trl_rows(tmp_path):
    data = trl_rows(tmp_path / "uf.jsonl", 24)
    done = alignlab("config", "import-trl", str(FIXTURES / "zephyr_dpo_config_full.yaml"), "--out", "dpo.yaml",
                    "--data", str(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # the 7B model, gradient checkpointing and the hub upload swapped for what runs here; the recipe's bf16 stays
    # (CPU bf16 autocast)
    trained = alignlab("train", "dpo", "--config", "dpo.yaml", f"model.name_or_path={tmp_path / 'policy'}",
                       "tiny_policy.size=nano", "tiny_policy.sft_steps=2",
                       "train.gradient_checkpointing=false", "train.push_to_hub=false", "train.max_steps=2",
                       "train.batch_size=4", "train.grad_accum=1", "data.max_length=64", "data.test_size=0.25",
                       "run.output_dir=runs", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    run = tmp_path / "runs" / "zephyr-7b-dpo-full"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "finished"
    config = (run / "config.yaml").read_text()
    assert "lr_scheduler_type: cosine" in config and "log_level: info" in config
    import hashlib

    card = (run / "model" / "README.md").read_text()  # every trained policy gets its model card
    assert f"sha256 `{hashlib.sha256(data.read_bytes()).hexdigest()}`" in card and "| dpo.beta | `0.01` |" in card
