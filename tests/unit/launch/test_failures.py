"""One line for a failure inside launched processes: ranks record their user error, the parent prints the lowest
rank's once; the launcher ends with the worker's exit code; a reward model wrapped for DDP packs its pairs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from alignlab.launch.failures import ERRORS_ENV, first_error, peer_failed, record_error
from alignlab.launch.runner import _exit_code


def test_ranks_record_their_error_and_the_lowest_rank_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv(ERRORS_ENV, str(tmp_path))
    assert first_error(tmp_path) is None and not peer_failed()
    monkeypatch.setenv("RANK", "1")
    assert record_error("data.jsonl:2: chosen: bad", 1)
    assert peer_failed()
    monkeypatch.setenv("RANK", "0")
    assert record_error("data.jsonl:1: prompt: bad", 2)
    assert first_error(tmp_path) == ("data.jsonl:1: prompt: bad", 2)
    assert json.loads((tmp_path / "rank1.json").read_text())["message"] == "data.jsonl:2: chosen: bad"


def test_outside_a_launch_nothing_is_recorded(monkeypatch):
    monkeypatch.delenv(ERRORS_ENV, raising=False)
    assert not record_error("x", 1) and not peer_failed()


def test_the_launcher_ends_with_the_failed_workers_exit_code():
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, ProcessFailure

    failure = ProcessFailure(local_rank=1, pid=1, exitcode=2, error_file="")
    assert _exit_code(ChildFailedError("alignlab.launch.entry", {1: failure})) == 2
    assert _exit_code(RuntimeError("no failures listed")) == 1


def test_a_worker_killed_by_a_signal_is_named_in_one_line(capsys):
    """A rank that aborts (SIGABRT) recorded no cause: the launcher names its rank and signal, then exits 1."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, ProcessFailure

    failure = ProcessFailure(local_rank=1, pid=1, exitcode=-6, error_file="")
    assert _exit_code(ChildFailedError("alignlab.launch.entry", {1: failure})) == 1
    assert capsys.readouterr().err == "error: rank 1 was killed by signal SIGABRT (exit code -6)\n"


ENDING = """
import atexit, sys
import torch.distributed as dist
from alignlab.launch import entry
dist.init_process_group("gloo", init_method="file://" + sys.argv[1], rank=0, world_size=1)
atexit.register(lambda: open(sys.argv[2], "w").write(str(dist.is_initialized())))
print("summary line", end="")  # buffered: must still come out
entry._end(3)
print("not reached")
"""


def test_a_distributed_rank_ends_without_interpreter_finalisation_but_runs_its_exit_handlers(tmp_path):
    """`_end` destroys the process group, runs the atexit handlers (trackers, logging) after that, flushes the
    output and exits with the run's status, skipping the finalisation that can abort a gloo process."""
    marker = tmp_path / "atexit.txt"
    result = subprocess.run([sys.executable, "-c", ENDING, str(tmp_path / "store"), str(marker)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 3, result.stderr
    assert result.stdout == "summary line"
    assert marker.read_text() == "False"  # the handler ran, after the group was destroyed


def test_entry_hands_a_user_error_to_the_parent_and_prints_nothing(tmp_path):
    """The launched module itself, on a command that fails on its config: exit code 2, no stderr, one record."""
    env = {ERRORS_ENV: str(tmp_path), "RANK": "0", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "alignlab.launch.entry", "config", "show", "rm",
                             str(tmp_path / "no.yaml")],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode != 0 and result.stderr == ""
    message, code = first_error(tmp_path)
    assert code == result.returncode and "no.yaml" in message


def test_packed_pairs_run_through_a_ddp_wrapper(tmp_path):
    """`rm.batching: shared_prompt` on a DDP-wrapped classifier: the score head is found through the wrapper, the
    forward runs through it (so DDP syncs the gradients), and the rewards are the unwrapped model's."""
    import torch.distributed as dist
    from transformers import LlamaConfig, LlamaForSequenceClassification

    from alignlab.backends.train.reward import SharedPromptCollator, pair_rewards

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, num_labels=1, pad_token_id=0)
    model = LlamaForSequenceClassification(config).eval()
    batch = SharedPromptCollator(pad_token_id=0)([{"chosen_ids": [1, 5, 6, 7], "rejected_ids": [1, 5, 8]},
                                                 {"chosen_ids": [1, 3], "rejected_ids": [2, 4, 9]}])
    expected = pair_rewards(model, batch)
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        wrapped = torch.nn.parallel.DistributedDataParallel(model)
        forwards = []
        wrapped.register_forward_pre_hook(lambda *_: forwards.append(1))
        chosen, rejected = pair_rewards(wrapped, batch)
        (chosen - rejected).sum().backward()
    finally:
        dist.destroy_process_group()
    assert forwards == [1]
    assert torch.allclose(chosen, expected[0]) and torch.allclose(rejected, expected[1])
    assert model.score.weight.grad is not None and model.model.layers[0].self_attn.q_proj.weight.grad is not None


@pytest.mark.parametrize("argv", [["--help"]])
def test_the_runner_takes_accelerate_launchs_arguments(argv, capsys):
    from alignlab.launch.runner import main

    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 0 and "--num_processes" in capsys.readouterr().out
