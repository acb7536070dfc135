"""Raw text for pretraining: documents, packing into blocks, the held-out split, and bad input."""

from __future__ import annotations

import json

import pytest

from alignlab.backends.lifecycle.text import (
    build_blocks,
    corpus_files,
    held_out_count,
    pack,
    read_documents,
    split_documents,
    tokenize_documents,
)
from alignlab.config.lifecycle import TextDataSection
from alignlab.errors import DataError


def test_pack_cuts_the_joined_stream_into_full_blocks_in_order():
    docs = [[0, 10, 11, 1], [0, 12, 1], [0, 13, 14, 15, 16, 1]]
    blocks, tokens, dropped = pack(docs, block_size=4)
    stream = [t for doc in docs for t in doc]
    assert tokens == len(stream) == 13
    assert blocks == [[0, 10, 11, 1], [0, 12, 1, 0], [13, 14, 15, 16]]
    assert dropped == 1  # the trailing eos: shorter than a block
    assert [t for block in blocks for t in block] == stream[:12]


def test_pack_stops_at_max_tokens():
    blocks, tokens, dropped = pack([[1] * 10, [2] * 10], block_size=3, max_tokens=14)
    assert tokens == 14 and dropped == 2 and len(blocks) == 4
    assert blocks[-1] == [1, 2, 2]


def test_packing_a_real_tokenizer_keeps_every_document_between_bos_and_eos(tokenizer):
    docs = ["Lily saw a red ball.", "Tom ran to the park. He was happy!", "The end."]
    token_lists = tokenize_documents(tokenizer, docs)
    for text, ids in zip(docs, token_lists, strict=True):
        assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
        assert tokenizer.decode(ids[1:-1]) == text  # byte-level: exact round trip
    blocks, tokens, dropped = pack(token_lists, block_size=5)
    assert all(len(block) == 5 for block in blocks)
    assert sum(map(len, token_lists)) == tokens == 5 * len(blocks) + dropped


def test_documents_split_by_file_paragraph_or_line():
    text = "One.\nTwo.\n\n  \nThree.\n"
    assert split_documents(text, "file") == ["One.\nTwo.\n\n  \nThree."]
    assert split_documents(text, "paragraph") == ["One.\nTwo.", "Three."]
    assert split_documents(text, "line") == ["One.", "Two.", "Three."]


def test_jsonl_rows_are_documents_and_a_bad_row_names_its_line(tmp_path):
    good = tmp_path / "corpus.jsonl"
    good.write_text(json.dumps({"text": "a b"}) + "\n" + json.dumps({"text": "c"}) + "\n")
    assert read_documents([good]) == ["a b", "c"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "a"}) + "\n" + json.dumps({"body": "b"}) + "\n")
    with pytest.raises(DataError, match=r"bad.jsonl:2: no 'text' field"):
        read_documents([bad])


def test_missing_files_and_empty_globs_are_one_line_errors(tmp_path):
    with pytest.raises(DataError, match=r"nope.txt: file not found \(data.paths\)"):
        corpus_files([str(tmp_path / "nope.txt")])
    with pytest.raises(DataError, match="matches no file"):
        corpus_files([str(tmp_path / "*.txt")])
    assert corpus_files([])  # the shipped corpus


def test_held_out_blocks_come_from_the_end_and_leave_training_blocks(tokenizer, tmp_path):
    assert held_out_count(100, 0.05) == 5 and held_out_count(1, 0.5) == 0 and held_out_count(2, 0.9) == 1
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n\n".join(f"Story {i}: Lily saw a dog and a cat in the park." for i in range(60)))
    data = TextDataSection(paths=[str(corpus)], block_size=16, test_size=0.2)
    blocks = build_blocks(data, tokenizer)
    everything, _, _ = pack(tokenize_documents(tokenizer, read_documents([corpus])), 16)
    assert blocks.train + blocks.eval == everything
    assert len(blocks.eval) == held_out_count(len(everything), 0.2)


def test_empty_or_too_short_corpus_is_a_data_error(tokenizer, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n  \n")
    with pytest.raises(DataError, match="the corpus is empty"):
        build_blocks(TextDataSection(paths=[str(empty)]), tokenizer)
    short = tmp_path / "short.txt"
    short.write_text("Lily saw a dog.")
    with pytest.raises(DataError, match="fewer than one block of data.block_size 128"):
        build_blocks(TextDataSection(paths=[str(short)], block_size=128), tokenizer)
