"""The root CLI: help, version, start-up without heavy imports, config schema/show, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

from alignlab import __version__

HEAVY = ("torch", "transformers", "trl", "pandas", "datasets", "argilla", "vllm", "deepspeed", "matplotlib",
         "peft", "accelerate", "sklearn", "pyarrow")


def test_help_lists_every_sub_app(cli):
    result = cli("--help")
    assert result.returncode == 0
    for name in ("data", "models", "rm", "train", "annotate", "eval", "report", "pipeline", "demo", "config"):
        assert name in result.stdout


def test_version(cli):
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"alignlab {__version__}"


def test_help_imports_nothing_heavy():
    probe = (
        "import sys\n"
        "sys.argv = ['alignlab', '--help']\n"
        "from alignlab.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED=' + ','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "LOADED="


def test_planned_sub_app_says_so(cli):
    result = cli("rm")
    assert result.returncode != 0
    assert "has no commands" in result.stderr or "Usage" in result.stdout + result.stderr


def test_config_schema_rm_is_json(cli):
    result = cli("config", "schema", "rm")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert set(schema["properties"]) == {"run", "model", "data", "train", "rm"}


def test_config_schema_unknown_kind_is_one_line(cli):
    result = cli("config", "schema", "rn")
    assert result.returncode == 1
    from alignlab.config import CONFIGS

    valid = ", ".join(sorted(CONFIGS.names()))
    assert result.stderr.strip() == f"error: unknown config kind 'rn'. Did you mean 'rm'? Valid: {valid}"


def test_config_show_resolves_overrides(cli, tmp_path):
    result = cli("config", "show", "demo", "configs/demo.yaml", "tiny_model.size=micro", "run.seed=3")
    assert result.returncode == 0, result.stderr
    assert "size: micro" in result.stdout and "seed: 3" in result.stdout


def test_config_show_bad_key_is_one_line_no_traceback(cli, tmp_path):
    bad = tmp_path / "demo.yaml"
    bad.write_text("run:\n  name: demo\ntiny_model:\n  sise: nano\n")
    result = cli("config", "show", "demo", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {bad}:4: tiny_model.sise: unknown key; did you mean 'size'? "
                               "(valid keys here: size,")
