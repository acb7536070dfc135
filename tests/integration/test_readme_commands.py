"""Every command in the README's fenced bash blocks that can run on a CPU, run as written.

The commands are read from README.md (continuation lines joined, `# ...` comments dropped, `[optional ...]` parts
of a synopsis left out) and run in README order in a copy of the checkout (configs, shipped data, examples), so
outputs land in the copy and chained commands reuse what the earlier ones wrote (`rm eval` reads the model
`rm train` saved). Each must exit 0 without a traceback, and where the README promises an outcome, OUTCOMES
checks it (the online methods' tiny configs raise the held-out rule reward within their KL budget). The rest are
listed in SKIP with the reason; a README command that is neither run nor skipped fails
`test_every_readme_command_is_run_or_skipped_with_a_reason`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# command prefix -> why it does not run here
SKIP: dict[str, str] = {
    "make ": "make targets: CI runs `make test` itself (.ci/run); `make demo` is tests/integration/test_demo.py",
    "python3.11 -m venv": "installation steps: the Makefile's setup runs them on every fresh clone",
    'pip install "torch': "installation steps: the Makefile's setup runs them on every fresh clone",
    "pip install -c constraints.txt": "installation steps: the Makefile's setup runs them on every fresh clone",
    "pip install deepspeed": "GPU: the gpu-marked multi-process tests",
    "alignlab annotate ": "needs the Argilla server: tests/integration/test_annotate_*.py run these against one",
    "alignlab pipeline run --config configs/pipelines/demo.yaml": "the full demo (minutes): "
    "tests/integration/test_demo.py runs the same pipeline reduced",
    "alignlab train grpo --config configs/grpo/qwen_0.5b_vllm.yaml": "GPU: vLLM rollouts of a 0.5B model",
    "alignlab eval run --suite bbq,crows_pairs,xstest,winrate --model POLICY": "synopsis with placeholders "
    "(POLICY, REWARD_MODEL, BASELINE_POLICY): tests/integration/test_cli_eval.py runs eval on real models",
    "alignlab eval run --config configs/eval/standard.yaml --model POLICY": "synopsis with placeholders",
    "alignlab eval run --config configs/eval/harmbench.yaml --model POLICY": "synopsis with placeholders",
    "alignlab report runs/eval-round1 runs/eval ": "reads the folders of the synopsis above; "
    "tests/integration/test_cli_eval.py builds a report",
    "alignlab eval judge refusal --data mine.jsonl": "synopsis: mine.jsonl is the user's own rows",
    ".venv-vllm/bin/alignlab ": "runs in .venv-vllm (vLLM's CPU build): the vllm-marked tests, `make test-vllm`",
    "alignlab rollout serve ": "a server that runs until stopped: the vllm-marked tests start and stop one",
    "pip uninstall -y torchvision": "installation of .venv-vllm: scripts/vllm_env.sh runs it (`make test-vllm`)",
    "alignlab launch --config-file zero2 ": "GPU: DeepSpeed ZeRO-2 on 8 GPUs (or 2 machines)",
    "alignlab launch --config-file zero3 ": "GPU: DeepSpeed ZeRO-3 on 8 GPUs",
    "alignlab launch --config-file zero3_offload ": "GPU: ZeRO-3 with CPU offload needs GPUs to offload from",
    "alignlab launch --config-file ddp --dry-run": "GPU: ddp.yaml is the GPU launcher (the check refuses it here)",
}


def _online_learned(name: str, steps: int = 60):
    """The online method's tiny config, as written, raised the held-out rule reward (PPO, GRPO and RLOO each
    move it from 0 to about 2.7-3.0 on this config) inside its KL budget, and its step lines carry an ETA."""

    def check(workdir: Path, stdout: str) -> None:
        summary = json.loads((workdir / "runs" / name / "summary.json").read_text())
        before, after = summary["eval_before"]["eval/reward"], summary["eval"]["eval/reward"]
        assert after > before + 0.25, (name, before, after)
        assert summary["kl"]["within_budget"] is True
        assert (workdir / "runs" / name / "samples" / "step_10.jsonl").is_file()
        assert re.search(rf"^step 10/{steps}: reward .*\(eta \d+:\d\d\)$", stdout, re.M), stdout

    return check


OUTCOMES = {"alignlab train ppo ": _online_learned("ppo_tiny"), "alignlab train grpo --config configs/grpo/tiny.yaml":
            _online_learned("grpo_tiny"), "alignlab train rloo ": _online_learned("rloo_tiny", steps=40)}
# copied into the working folder: what the commands read (a user's checkout has them too)
COPIED = ("configs", "preference_data", "reward_models", "examples", "eval_data", "data")


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.append(re.sub(r"\s+", " ", line))
    return commands


def skip_reason(command: str) -> str | None:
    return next((reason for prefix, reason in SKIP.items() if command.startswith(prefix)), None)


def test_every_readme_command_is_run_or_skipped_with_a_reason():
    commands = readme_commands()
    assert any(c.startswith("alignlab launch --config-file configs/accelerate/ddp_cpu.yaml") for c in commands)
    unused = [prefix for prefix in SKIP if not any(c.startswith(prefix) for c in commands)]
    assert unused == [], f"SKIP entries that match no README command (remove them): {unused}"
    for command in commands:
        runnable = skip_reason(command) is None
        assert not runnable or command.startswith("alignlab "), f"not an alignlab command, not skipped: {command}"
        assert not runnable or not re.search(r"\b[A-Z][A-Z_]{2,}\b", command), f"a placeholder: {command}"


def _checkout_copy(work: Path) -> Path:
    for name in COPIED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__", "exports"))
    return work


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return _checkout_copy(tmp_path_factory.mktemp("readme"))


def _argv(command: str) -> list[str]:
    command = re.sub(r"\s*\[[^\]]*\]", "", command)  # a synopsis' optional parts
    return shlex.split(command)[1:]


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for c in readme_commands() if skip_reason(c) is None])
def test_readme_command_runs_as_written(workdir, tmp_path, command):
    if command.startswith("alignlab launch"):  # in a folder of its own: the same run name would be finished already
        workdir = _checkout_copy(tmp_path)
    result = subprocess.run([sys.executable, "-c", "from alignlab.cli import main; main()", *_argv(command)],
                            cwd=workdir, capture_output=True, text=True, timeout=900,
                            env={**os.environ, "PYTHONWARNINGS": "ignore", "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, f"{command}\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    for prefix, check in OUTCOMES.items():
        if command.startswith(prefix):
            check(workdir, result.stdout)
