"""TRL formats: standard, conversational, implicit prompt and unpaired, to and from."""

from __future__ import annotations

import pytest

from alignlab.data import extract_prompt, from_trl, parse_transcript, to_trl, to_trl_rows
from alignlab.data.convert import _trl_standard_line
from alignlab.data.io import encode_row
from tests.unit.data.helpers import CONVERSATION, pair

CHAT_PAIR = pair(CONVERSATION, [{"role": "assistant", "content": "Simmer it."}],
                 [{"role": "assistant", "content": "No."}])


def test_standard_strings_pass_through():
    assert to_trl(pair(id="x", margin=1)) == {"prompt": "What is 2+2?", "chosen": "4", "rejected": "5"}


def test_conversational_wraps_strings_as_messages():
    assert to_trl(pair(), style="conversational") == {
        "prompt": [{"role": "user", "content": "What is 2+2?"}],
        "chosen": [{"role": "assistant", "content": "4"}],
        "rejected": [{"role": "assistant", "content": "5"}],
    }
    assert to_trl(CHAT_PAIR, style="conversational") == {k: CHAT_PAIR[k] for k in ("prompt", "chosen", "rejected")}


def test_standard_renders_messages_as_a_transcript_that_parses_back():
    row = to_trl(CHAT_PAIR)
    assert row["prompt"].endswith("\n\nHuman: How do I boil an egg?\n\nAssistant:")
    assert row["chosen"] == " Simmer it."
    assert parse_transcript(row["prompt"] + row["chosen"]) == CONVERSATION + CHAT_PAIR["chosen"]


def test_unpaired_rows():
    record = {"prompt": "p", "completion": "c", "label": False}
    assert to_trl(record, "unpaired") == record
    assert from_trl(record) == ("unpaired", record)


@pytest.mark.parametrize("style", ["standard", "conversational"])
def test_round_trip_through_trl(style):
    for record in (pair(), CHAT_PAIR):
        row = to_trl(record, style=style)
        fmt, back = from_trl(row)
        assert fmt == "pairwise"
        assert to_trl(back, style=style) == row


def test_implicit_prompt_strings_follow_trl_rule():
    # TRL's extract_prompt: split where they differ, and the space before goes with the completion.
    assert extract_prompt("The sky is blue.", "The sky is green.") == ("The sky is", " blue.", " green.")


def test_implicit_prompt_hh_transcript_splits_after_assistant_marker():
    chosen = "\n\nHuman: hi\n\nAssistant: I can help with that."
    rejected = "\n\nHuman: hi\n\nAssistant: I cannot."
    prompt, c, r = extract_prompt(chosen, rejected)
    assert prompt == "\n\nHuman: hi\n\nAssistant:"
    assert (c, r) == (" I can help with that.", " I cannot.")


def test_implicit_prompt_conversational():
    chosen = CONVERSATION + [{"role": "assistant", "content": "Simmer it."}]
    rejected = CONVERSATION + [{"role": "assistant", "content": "No."}]
    fmt, record = from_trl({"chosen": chosen, "rejected": rejected})
    assert fmt == "pairwise"
    assert record["prompt"] == CONVERSATION and record["chosen"] == chosen[-1:]


def test_implicit_prompt_without_difference_is_an_error():
    with pytest.raises(ValueError, match="do not differ"):
        extract_prompt("same", "same and more")


def test_rankings_expand_on_the_way_to_trl():
    ranking = {"prompt": "p", "responses": ["a", "b", "c"], "ranks": [2, 1, 3]}
    rows = list(to_trl_rows([ranking], "ranking"))
    assert {(r["chosen"], r["rejected"]) for r in rows} == {("b", "a"), ("a", "c"), ("b", "c")}


def test_fast_standard_line_matches_generic_encoding():
    for record in (pair(), pair(prompt='quote " and \\ and \n newline', chosen="東京 ✓"), CHAT_PAIR):
        assert _trl_standard_line(record) == encode_row(to_trl(record))
