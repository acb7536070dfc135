"""Templates: input items, Argilla payloads (order, hidden info, suggestions) and pulled outputs."""

from __future__ import annotations

import json

import pytest

from alignlab.annotation.templates import TEMPLATES
from alignlab.annotation.templates.base import (
    HIDDEN_KEY,
    Item,
    detect_format,
    display_order,
    item_from,
    majority,
    render,
)
from alignlab.errors import DataError
from tests.unit.annotation.helpers import judged, section

PAIR = {"prompt": "Name a colour.", "chosen": "Blue.", "rejected": "I refuse.", "source": "web"}
CHAT_PROMPT = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
               {"role": "user", "content": "Boil an egg?"}]


def test_detect_format_and_items_from_every_format():
    assert detect_format(PAIR) == "pairwise"
    assert detect_format({"prompt": "p", "responses": ["a", "b"]}) == "candidates"
    assert detect_format({"prompt": "p", "responses": ["a", "b"], "ranks": [1, 2]}) == "ranking"
    assert detect_format({"prompt": "p", "response": "r", "ratings": {"helpfulness": 3}}) == "ratings"
    assert detect_format({"prompt": "p", "completion": "c", "label": True}) == "unpaired"
    assert detect_format({"text": "x"}) is None

    item = item_from(PAIR, "pairwise", "f:1")
    assert item.responses == ["Blue.", "I refuse."] and item.label == 0 and item.source == "web"
    assert item.id.startswith("pairwise-") and item.models == [None, None]
    candidates = item_from({"id": "c1", "prompt": "p", "responses": ["a", "b"], "models": ["m1", "m2"],
                            "scores": [0.1, 0.9]}, "candidates", "f:2")
    assert (candidates.id, candidates.models, candidates.scores) == ("c1", ["m1", "m2"], [0.1, 0.9])
    with pytest.raises(DataError, match="f:3: models: expected a list of 2 entries"):
        item_from({"prompt": "p", "responses": ["a", "b"], "models": ["m1"]}, "candidates", "f:3")


def test_display_order_is_deterministic_and_balanced():
    assert display_order("x", 2, 0) == display_order("x", 2, 0)
    swapped = sum(display_order(f"id-{i}", 2, 0) == [1, 0] for i in range(1000))
    assert 430 < swapped < 570  # a fair coin per record
    assert sorted(display_order("y", 5, 3)) == [0, 1, 2, 3, 4]


def test_render_chat_messages_as_markdown_turns():
    assert render("plain") == "plain"
    assert render(CHAT_PROMPT) == "**User:** Hi\n\n**Assistant:** Hello\n\n**User:** Boil an egg?"


def test_pairwise_payload_order_hidden_info_and_reward_model_suggestion():
    template = TEMPLATES.get("pairwise")()
    item = Item("c1", CHAT_PROMPT, ["first", "second"], ["m1", "m2"], [2.0, 0.0], source="web")
    (payload,) = template.records(item, section(), seed=0)
    order = display_order("c1", 2, 0)
    assert payload["external_id"] == "c1"
    assert payload["fields"]["response_a"] == ["first", "second"][order[0]]
    assert payload["metadata"]["model_a"] == ["m1", "m2"][order[0]]
    info = json.loads(payload["metadata"][HIDDEN_KEY])
    assert info["order"] == order and info["prompt"] == CHAT_PROMPT and "responses" not in info
    (suggested,) = payload["suggestions"]
    assert suggested["value"] == ("a" if order[0] == 0 else "b")  # the higher score wins
    assert suggested["score"] == pytest.approx(0.8808, abs=1e-4)  # sigmoid(2)
    assert template.records(item, section(suggestions=False), 0)[0]["suggestions"] == []
    settings = template.settings(section(show_models=False), [item])
    hidden = {m["name"]: m["visible_for_annotators"] for m in settings["metadata"]}
    assert hidden["model_a"] is False and hidden["source"] is True


def test_pairwise_output_undoes_the_display_order():
    template = TEMPLATES.get("pairwise")()
    # Shown order [1, 0]: "a" means the input's second response.
    record = judged("r1", {"u1": {"preference": "a"}, "u2": {"preference": "a"}, "u3": {"preference": "tie"}},
                    order=[1, 0], fields={"prompt": "P", "response_a": "second", "response_b": "first"},
                    info={"models": ["m1", "m2"]})
    out = template.output(record, section())
    assert (out["prompt"], out["chosen"], out["rejected"]) == ("P", "second", "first")
    assert out["agreement"] == pytest.approx(2 / 3, abs=1e-4)
    assert out["metadata"]["soft_label"] == pytest.approx(2.5 / 3, abs=1e-4)
    assert out["metadata"]["chosen_position"] == "a"
    assert out["metadata"]["models"] == {"chosen": "m2", "rejected": "m1"}
    assert out["annotators"] == ["u1", "u2", "u3"]
    assert template.votes(record) == {"u1": "1", "u2": "1", "u3": "tie"}
    assert template.positions(record) == {"u1": "a", "u2": "a", "u3": "tie"}


def test_pairwise_ties_and_splits_settle_nothing():
    template = TEMPLATES.get("pairwise")()
    assert template.output(judged("r", {"u1": {"preference": "tie"}}), section()) is None
    assert template.output(judged("r", {"u1": {"preference": "a"}, "u2": {"preference": "b"}}), section()) is None
    discarded = judged("r", {"u1": {"preference": "a"}}, status={"u1": "discarded"})
    assert template.output(discarded, section()) is None


def test_pairwise_rejects_three_responses():
    with pytest.raises(DataError, match="needs exactly 2 responses, got 3"):
        TEMPLATES.get("pairwise")().check_input(Item("x", "p", ["a", "b", "c"]), "f:1")


def test_ranking_maps_slots_back_and_averages_ranks():
    template = TEMPLATES.get("ranking")()
    item = Item("k1", "P", ["r0", "r1", "r2"], [None] * 3, [0.1, 0.9, 0.5])
    (payload,) = template.records(item, section(template="ranking"), seed=1)
    order = json.loads(payload["metadata"][HIDDEN_KEY])["order"]
    for position, original in enumerate(order):
        assert payload["fields"][f"response_{position + 1}"] == f"r{original}"
    suggestion = {e["value"]: e["rank"] for e in payload["suggestions"][0]["value"]}
    assert suggestion[f"response_{order.index(1) + 1}"] == 1  # the best score ranks first
    # Identity order; u1 ranks 0 > 1 > 2, u2 ranks 1 > 0 > 2: means (1.5, 1.5, 3) -> ranks (1, 1, 2).
    ranking = [{"value": f"response_{p + 1}", "rank": r} for p, r in enumerate((1, 2, 3))]
    other = [{"value": f"response_{p + 1}", "rank": r} for p, r in enumerate((2, 1, 3))]
    record = judged("k1", {"u1": {"ranking": ranking}, "u2": {"ranking": other}}, order=[0, 1, 2],
                    fields={"prompt": "P", "response_1": "r0", "response_2": "r1", "response_3": "r2"})
    out = template.output(record, section(template="ranking"))
    assert out["responses"] == ["r0", "r1", "r2"] and out["ranks"] == [1, 1, 2]
    assert out["metadata"]["mean_ranks"] == [1.5, 1.5, 3.0]
    # Pairs (0,1): split 1/2; (0,2) and (1,2): both agree -> (0.5 + 1 + 1) / 3
    assert out["agreement"] == pytest.approx(2.5 / 3, abs=1e-4)


def test_ratings_suggest_existing_ratings_and_average_answers():
    template = TEMPLATES.get("ratings")()
    record_in = {"prompt": "P", "response": "R", "ratings": {"helpfulness": 3, "verbosity": 1}}
    item = item_from(record_in, "ratings", "f:1")
    (payload,) = template.records(item, section(template="ratings"), 0)
    assert {s["question_name"]: s["value"] for s in payload["suggestions"]} == {"helpfulness": 3, "verbosity": 1}
    record = judged(item.id, {"u1": {"helpfulness": 4, "verbosity": 1}, "u2": {"helpfulness": 2, "verbosity": 1},
                              "u3": {"helpfulness": 3, "verbosity": 2}}, order=[0],
                    fields={"prompt": "P", "response": "R"})
    out = template.output(record, section(template="ratings"))
    assert out["ratings"] == {"helpfulness": 3.0, "verbosity": pytest.approx(4 / 3, abs=1e-4)}
    # helpfulness median 3: one of three matches; verbosity median 1: two of three -> (1/3 + 2/3) / 2
    assert out["agreement"] == pytest.approx(0.5)


def test_single_response_templates_split_candidates():
    template = TEMPLATES.get("binary")()
    item = item_from({"id": "c", "prompt": "P", "responses": ["x", "y"], "models": ["m1", "m2"]}, "candidates", "f")
    payloads = template.records(item, section(template="binary"), 0)
    assert [p["external_id"] for p in payloads] == ["c-0", "c-1"]
    assert [p["metadata"]["model"] for p in payloads] == ["m1", "m2"]
    unpaired = item_from({"prompt": "P", "completion": "x", "label": False}, "unpaired", "f")
    assert template.records(unpaired, section(template="binary"), 0)[0]["suggestions"][0]["value"] == "bad"


def test_binary_and_safety_outputs():
    binary = TEMPLATES.get("binary")()
    record = judged("b", {"u1": {"label": "good"}, "u2": {"label": "good"}, "u3": {"label": "bad"}}, order=[0],
                    fields={"prompt": "P", "response": "R"})
    out = binary.output(record, section(template="binary"))
    assert out["label"] is True and out["completion"] == "R"
    assert out["metadata"]["soft_label"] == pytest.approx(2 / 3, abs=1e-4)
    safety = TEMPLATES.get("safety")()
    record = judged("s", {"u1": {"safety": "over_refusal"}, "u2": {"safety": "over_refusal"},
                          "u3": {"safety": "refusal"}}, order=[0], fields={"prompt": "P", "response": "R"})
    out = safety.output(record, section(template="safety"))
    assert out["label"] is False and out["metadata"]["safety_label"] == "over_refusal"
    assert out["metadata"]["safety_votes"] == {"safe": 0, "refusal": 1, "over_refusal": 2, "harmful": 0}


def test_majority_reports_ties_as_none():
    assert majority(["a", "a", "b"]) == ("a", pytest.approx(2 / 3))
    assert majority(["a", "b"])[0] is None
    assert majority([]) == (None, 0.0)


def test_pulled_records_are_valid_canonical_records(tmp_path):
    from alignlab.data.io import write_jsonl
    from alignlab.data.validation import load_records

    template = TEMPLATES.get("pairwise")()
    record = judged("r1", {"u1": {"preference": "b"}}, order=[0, 1],
                    fields={"prompt": "P", "response_a": "x", "response_b": "y"})
    write_jsonl(tmp_path / "out.jsonl", [template.output(record, section())])
    (loaded,) = load_records(tmp_path / "out.jsonl", "pairwise")
    assert loaded["chosen"] == "y" and loaded["metadata"]["chosen_position"] == "b"


@pytest.mark.parametrize(("name", "answers", "fields"), [
    ("pairwise", {"preference": "a"}, {"prompt": "P", "response_a": "x", "response_b": "y"}),
    ("ranking", {"ranking": [{"value": "response_1", "rank": 1}, {"value": "response_2", "rank": 2}]},
     {"prompt": "P", "response_1": "x", "response_2": "y"}),
    ("ratings", {"helpfulness": 3}, {"prompt": "P", "response": "x"}),
    ("binary", {"label": "good"}, {"prompt": "P", "response": "x"}),
    ("safety", {"safety": "refusal"}, {"prompt": "P", "response": "x"}),
])
def test_one_annotator_gives_null_agreement_and_two_who_agree_give_one(name, answers, fields):
    template = TEMPLATES.get(name)()
    alone = template.output(judged("r1", {"u1": answers}, fields=fields), section(template=name))
    assert alone["agreement"] is None and alone["annotators"] == ["u1"]  # not 1.0: nobody to agree with
    both = template.output(judged("r1", {"u1": answers, "u2": answers}, fields=fields), section(template=name))
    assert both["agreement"] == 1.0
