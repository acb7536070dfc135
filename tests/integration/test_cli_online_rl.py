"""`alignlab train ppo|grpo|rloo` as a user runs it: bad input is one line on stderr with exit code 2 and nothing
written. That the shipped tiny configs, as the README writes them, raise the held-out rule reward inside their KL
budget is checked where the README's commands run (tests/integration/test_readme_commands.py, OUTCOMES)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def _args(tmp_path, kind: str, *extra: str) -> list[str]:
    return ["train", kind, "--config", f"configs/{kind}/tiny.yaml", f"run.output_dir={tmp_path / 'runs'}",
            f"model.name_or_path={tmp_path / 'nano-online'}", *extra]


def test_one_generation_per_prompt_is_one_line_and_writes_nothing(tmp_path, cli):
    result = cli(*_args(tmp_path, "grpo", "grpo.num_generations=1"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "grpo.num_generations" in lines[0] and "at least 2" in lines[0]
    assert not (tmp_path / "runs").exists()
