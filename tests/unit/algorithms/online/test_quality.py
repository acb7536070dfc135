"""Generation quality at the online eval steps: the degeneration guard compares with the evaluation before
training, flags a collapse in `eval/degenerate` and stops training only with `guards.early_stop`."""

from __future__ import annotations

from alignlab.algorithms.online.loop import _divergence
from alignlab.config.online import GuardSection


def test_degeneration_guard_flags_collapse_against_the_start_and_stops_only_with_early_stop():
    state = {"baseline": {"eval/reward": 0.0, "eval/distinct_2": 0.9, "eval/reference_perplexity": 8.0}}
    healthy = {"eval/reward": 2.0, "eval/distinct_2": 0.85, "eval/reference_perplexity": 9.0}
    collapsed = {"eval/reward": 3.0, "eval/distinct_2": 0.2, "eval/reference_perplexity": 30.0}
    flag_only = GuardSection(min_distinct_2_ratio=0.8, max_perplexity_ratio=1.5)
    assert _divergence(flag_only, healthy, state) is None and healthy["eval/degenerate"] == 0.0
    assert _divergence(flag_only, collapsed, state) is None and collapsed["eval/degenerate"] == 1.0
    stopping = GuardSection(min_distinct_2_ratio=0.8, max_perplexity_ratio=1.5, early_stop=True)
    reason = _divergence(stopping, dict(collapsed), state)
    assert reason is not None and "distinct-2 0.200" in reason
    assert _divergence(GuardSection(early_stop=True), dict(collapsed), state) is None  # checks off by default
