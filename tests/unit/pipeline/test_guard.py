"""Degeneration guards: a hacked policy that writes word lists is flagged in the report and the pipeline rejects
it or stops; the hidden preference the demo's annotators hold cannot be won by repetition."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alignlab.annotation.simulated import rule_outcome
from alignlab.config.pipeline import PipelineConfig
from alignlab.pipeline import run
from alignlab.pipeline.runner import Guards
from alignlab.rewards.fluency import fluency_parts

# A real checkpoint edit, run as an external stage: the final norm keeps one hidden dimension and the LM head
# maps it to two tokens with opposite signs, so every step emits one of the two (a word-list policy).
HACK = """
import sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
src, out = sys.argv[1], sys.argv[2]
model, tok = AutoModelForCausalLM.from_pretrained(src), AutoTokenizer.from_pretrained(src)
a, b = tok(' good', add_special_tokens=False)['input_ids'][0], tok(' happy', add_special_tokens=False)['input_ids'][0]
with torch.no_grad():
    model.model.norm.weight.zero_(); model.model.norm.weight[0] = 1.0
    head = model.get_output_embeddings().weight
    head.zero_(); head[a, 0] = 1000.0; head[b, 0] = -1000.0
model.config.tie_word_embeddings = False
model.save_pretrained(out + '/hacked'); tok.save_pretrained(out + '/hacked')
"""


def hacked_pipeline(tmp_path: Path, action: str) -> dict:
    return {"run": {"name": action, "output_dir": str(tmp_path), "threads": 1, "seed": 0}, "rounds": 2,
            "rule": "fluent_sentiment", "stages": [
                {"name": "base", "kind": "tiny_model", "config": {"size": "nano", "vocab_size": 512}},
                {"name": "hacked", "kind": "external", "per_round": True, "inputs": {"model": "base"},
                 "config": {"command": ["{python}", "-c", HACK, "{model}", "{output_dir}"],
                            "checkpoint": "hacked"}},
                {"name": "generate", "kind": "generate", "inputs": {"policy": ["hacked@previous", "base"]},
                 "config": {"pool": 4, "batch": 2, "max_new_tokens": 8}},
                {"name": "eval", "kind": "eval", "inputs": {"model": "hacked", "baseline": "base"},
                 "config": {"rule_winrate": {"prompts": 12, "samples": 1, "max_new_tokens": 16},
                            "quality": {"resamples": 200, "guard": {"action": action}}}},
                {"name": "report", "kind": "report", "inputs": {"evals": "eval"}}]}


@pytest.mark.slow
def test_hacked_policy_is_flagged_in_the_report_and_the_guard_rejects_it(tmp_path):
    result = run(PipelineConfig.model_validate(hacked_pipeline(tmp_path, "reject")), echo=lambda _: None)
    evaluation = result.stage("eval@r1")["metrics"]["rule"]
    assert evaluation["quality"]["distinct_2"]["value"] < 0.8 * evaluation["baseline_quality"]["distinct_2"]["value"]
    assert evaluation["guard"]["tripped"] and "distinct-2" in evaluation["guard"]["reasons"][0]
    summary = json.loads((result.dir / "summary.json").read_text())
    assert [e["policy"] for e in summary["guard"]] == ["hacked@r1", "hacked@r2"]
    assert summary["guard"][0]["action"] == "reject" and summary["guard"][0]["kept"] == "base"
    page = Path(result.report).read_text()
    assert "FLAGGED: degenerate" in page and "distinct-2" in page
    assert "Side-by-side samples" in page and "reference perplexity" in page
    assert "pass the degeneration guard" not in page


def test_guard_keeps_the_last_accepted_policy_and_stop_skips_later_rounds():
    guards = Guards()
    def record(key, tripped, action="reject"):
        guard = {"tripped": tripped, "action": action, "reasons": ["distinct-2 low"] if tripped else []}
        return {"key": key, "kind": "eval", "round": int(key[-1]), "metrics": {"rule": {"guard": guard}},
                "outputs": {"model_stage": f"dpo@r{key[-1]}", "baseline_stage": "sft"}}

    guards.observe(record("eval@r1", False), print)
    guards.observe(record("eval@r2", True), print)
    assert guards.replaced == {"dpo@r2": "dpo@r1"} and guards.events[0]["kept"] == "dpo@r1"
    guards.observe(record("eval@r3", True, "stop"), print)
    assert guards.stopped_round == 3

    from alignlab.config.pipeline import StageSpec
    from alignlab.pipeline.graph import Node
    spec = StageSpec.model_validate({"name": "generate", "kind": "generate"})
    assert guards.skips(Node(spec, 4)) and not guards.skips(Node(spec, 3))
    node = Node(spec, 3, hash="abc")
    guards.salt(node)
    assert node.hash != "abc"  # later stages' folders record what the guard did


def test_word_lists_and_repetition_lose_to_a_plain_fluent_answer():
    fluent = "Tom saw the big dog. He was happy and they had fun."
    assert rule_outcome("fluent_sentiment", fluent, "great great great great great great") == 1.0
    assert rule_outcome("fluent_sentiment", fluent, "Lily good kind found the love tree. happy happy kind fun.") == 1.0
    # under the plain `sentiment` rule both would beat it: the hack this rule closes
    assert rule_outcome("sentiment", "great great great great great great", fluent) == 1.0
    # tone still matters: positive beats neutral beats negative when all are fluent
    assert rule_outcome("fluent_sentiment", fluent, "Tom saw the big dog. Lily found the red ball.") == 1.0
    assert rule_outcome("fluent_sentiment", "Tom saw the big dog.", "Tom saw the sad dog.") == 1.0
    parts = fluency_parts("great great great great")
    assert parts["repeats"] == 1 and parts["stuffing"] == 1
