"""Anthropic HH-RLHF transcripts into messages and pairwise records."""

from __future__ import annotations

import gzip
import json

import pytest

from alignlab.data import RowError, hh_pair_to_record, parse_transcript, record_id
from alignlab.data.sources.hh_rlhf import iter_hh_rlhf
from alignlab.errors import DataError

PROMPT = "\n\nHuman: What is a pen?\n\nAssistant: A writing tool.\n\nHuman: Any pranks with it?"
CHOSEN = PROMPT + "\n\nAssistant: Let's keep pranks kind."
REJECTED = PROMPT + "\n\nAssistant: Draw on a sleeping friend."


def test_parse_multi_turn_transcript():
    assert parse_transcript(CHOSEN) == [
        {"role": "user", "content": "What is a pen?"},
        {"role": "assistant", "content": "A writing tool."},
        {"role": "user", "content": "Any pranks with it?"},
        {"role": "assistant", "content": "Let's keep pranks kind."},
    ]


def test_parse_tolerates_missing_leading_blank_line():
    assert parse_transcript("Human: hi\n\nAssistant: hello")[1] == {"role": "assistant", "content": "hello"}


def test_parse_rejects_text_before_the_first_turn():
    with pytest.raises(DataError, match="before the first"):
        parse_transcript("preamble\n\nHuman: hi")


def test_pair_to_record_keeps_the_conversation_as_prompt():
    record = hh_pair_to_record(CHOSEN, REJECTED, source="hh-rlhf/harmless-base")
    assert [m["role"] for m in record["prompt"]] == ["user", "assistant", "user"]
    assert record["chosen"] == [{"role": "assistant", "content": "Let's keep pranks kind."}]
    assert record["rejected"] == [{"role": "assistant", "content": "Draw on a sleeping friend."}]
    assert record["source"] == "hh-rlhf/harmless-base"
    assert record["id"] == record_id({k: v for k, v in record.items() if k != "id"})
    assert hh_pair_to_record(CHOSEN, REJECTED, source="other")["id"] == record["id"]  # content, not source


@pytest.mark.parametrize(
    ("chosen", "rejected", "words"),
    [
        (CHOSEN, "\n\nHuman: something else\n\nAssistant: x", "differ before the final"),
        (CHOSEN, PROMPT + "\n\nAssistant:", "empty final"),
        (PROMPT, PROMPT, "does not end with an Assistant turn"),
    ],
)
def test_unusable_pairs_raise(chosen, rejected, words):
    with pytest.raises(DataError, match=words):
        hh_pair_to_record(chosen, rejected)


def test_iter_upstream_gz_reports_bad_rows_by_line(tmp_path):
    path = tmp_path / "test.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"chosen": CHOSEN, "rejected": REJECTED}) + "\n")
        handle.write(json.dumps({"chosen": CHOSEN}) + "\n")
        handle.write(json.dumps({"chosen": CHOSEN, "rejected": PROMPT + "\n\nAssistant: "}) + "\n")
    rows = list(iter_hh_rlhf(path))
    assert [line for line, _ in rows] == [1, 2, 3]
    assert isinstance(rows[0][1], dict)
    assert isinstance(rows[1][1], RowError) and isinstance(rows[2][1], RowError)
    assert "empty final" in rows[2][1].reason
