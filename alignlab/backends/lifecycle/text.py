"""Raw text for pretraining and CPT: files to documents, documents to token ids, ids packed into blocks.

    files = corpus_files(data.paths)                        # globs expanded; [] -> the shipped TinyStories text
    documents = read_documents(files, data.documents, data.text_field)
    blocks = pack(tokenize_documents(tokenizer, documents), block_size=128)

Packing is the GPT-2 / nanoGPT recipe: every document becomes `[bos] + ids + [eos]` (bos only where the
tokenizer has one), the documents are joined into one token stream in order, and the stream is cut into
blocks of exactly `block_size` tokens; the tail shorter than a block is dropped (and counted). A block may
span a document boundary; the eos between them tells the model a new document starts. Labels are the inputs
(the model shifts them), so every token is trained on.

Held-out text is `data.eval_paths` packed the same way, else the last `test_size` share of the blocks: the end
of the stream, not random blocks, so no held-out block shares a document with a training block except at the
one boundary.
"""

from __future__ import annotations

import glob
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.errors import ConfigError, DataError

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson")
TOKENIZE_BATCH = 1000


@dataclass
class Blocks:
    """Packed training and held-out blocks, and what packing did."""

    train: list[list[int]]
    eval: list[list[int]]
    documents: int
    tokens: int
    dropped_tokens: int
    files: list[str]

    def describe(self) -> dict[str, Any]:
        return {"files": self.files, "documents": self.documents, "tokens": self.tokens,
                "dropped_tokens": self.dropped_tokens, "train_blocks": len(self.train),
                "eval_blocks": len(self.eval)}


def corpus_files(paths: Sequence[str], field: str = "data.paths") -> list[Path]:
    """Files named by `paths` (globs expanded, in order); empty -> the shipped TinyStories excerpt."""
    if not paths:
        from alignlab.paths import tiny_corpus_files

        files = tiny_corpus_files()
        if not files:
            raise DataError(f"{field} is empty and the shipped corpus (preference_data/tiny_corpus/*.txt) is "
                            "missing; name text files in data.paths")
        return files
    files: list[Path] = []
    for entry in paths:
        if any(ch in entry for ch in "*?["):
            matched = sorted(Path(p) for p in glob.glob(entry, recursive=True) if Path(p).is_file())
            if not matched:
                raise DataError(f"{field}: {entry!r} matches no file; check the pattern")
            files += matched
            continue
        from alignlab.paths import shipped_path

        path = shipped_path(entry)  # `data/lifecycle/...` in a shipped config also works outside a checkout
        if not path.exists():
            raise DataError(f"{entry}: file not found ({field}); name existing text or JSONL files")
        if path.is_dir():
            raise DataError(f"{entry}: is a folder ({field}); name files, or a glob such as {entry}/*.txt")
        files.append(path)
    return files


def read_documents(files: Iterable[Path], documents: str = "paragraph", text_field: str = "text") -> list[str]:
    """The documents of every file, in order: JSONL rows' `text_field`, or text split by `documents`."""
    out: list[str] = []
    for path in files:
        if str(path).lower().endswith(JSONL_SUFFIXES):
            out += _jsonl_documents(path, text_field)
        else:
            out += split_documents(_read_text(path), documents)
    return out


def split_documents(text: str, documents: str) -> list[str]:
    """`file`: the whole text; `paragraph`: blank-line separated blocks; `line`: lines. Blank ones dropped."""
    if documents == "file":
        parts = [text.strip()]
    elif documents == "paragraph":
        parts = [part.strip() for part in _PARAGRAPH_BREAK.split(text)]
    elif documents == "line":
        parts = [line.strip() for line in text.splitlines()]
    else:
        raise ValueError(f"unknown documents mode {documents!r}")
    return [part for part in parts if part]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (bad byte at offset {err.start}); save it as UTF-8") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None


def _jsonl_documents(path: Path, text_field: str) -> list[str]:
    from alignlab.data.io import RowError, iter_jsonl

    out = []
    for line, row in iter_jsonl(path):
        if isinstance(row, RowError):
            raise DataError(f"{path}:{line}: {row.reason}")
        if not isinstance(row, dict) or text_field not in row:
            raise DataError(f"{path}:{line}: no {text_field!r} field; each row must be an object like "
                            f'{{"{text_field}": "..."}} (or set data.text_field)')
        value = row[text_field]
        if not isinstance(value, str):
            raise DataError(f"{path}:{line}: {text_field} must be a string, got {type(value).__name__}")
        if value.strip():
            out.append(value)
    return out


def tokenize_documents(tokenizer: Any, documents: Sequence[str]) -> list[list[int]]:
    """Each document's ids with bos in front (when the tokenizer has one) and eos at the end."""
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    if eos is None:
        raise ConfigError("the tokenizer has no eos token, which packing puts between documents; use a "
                          "tokenizer with one (or set tokenizer.eos_token in the model folder)")
    head = [bos] if bos is not None else []
    out: list[list[int]] = []
    for start in range(0, len(documents), TOKENIZE_BATCH):
        batch = list(documents[start:start + TOKENIZE_BATCH])
        for ids in tokenizer(batch, add_special_tokens=False, verbose=False)["input_ids"]:
            out.append(head + list(ids) + [eos])
    return out


def pack(token_lists: Iterable[Sequence[int]], block_size: int,
         max_tokens: int | None = None) -> tuple[list[list[int]], int, int]:
    """(blocks of exactly `block_size` ids, tokens in the stream, tokens dropped at the end)."""
    stream: list[int] = []
    for ids in token_lists:
        stream.extend(ids)
        if max_tokens is not None and len(stream) >= max_tokens:
            del stream[max_tokens:]
            break
    full = len(stream) // block_size
    blocks = [stream[i * block_size:(i + 1) * block_size] for i in range(full)]
    return blocks, len(stream), len(stream) - full * block_size


def held_out_count(blocks: int, test_size: float) -> int:
    """How many of `blocks` to hold out: ceil(test_size * blocks), at least one training block left."""
    if test_size <= 0 or blocks < 2:
        return 0
    return min(blocks - 1, max(1, math.ceil(test_size * blocks)))


def build_blocks(data: Any, tokenizer: Any, documents: list[str] | None = None) -> Blocks:
    """Read, tokenize and pack `data` (a TextDataSection); held-out blocks from eval_paths or the stream's end."""
    files = corpus_files(data.paths)
    if documents is None:
        documents = read_documents(files, data.documents, data.text_field)
    where = ", ".join(str(f) for f in files[:3]) + (" ..." if len(files) > 3 else "")
    if not documents:
        raise DataError(f"{where}: the corpus is empty (no text); name files with text in data.paths")
    blocks, tokens, dropped = pack(tokenize_documents(tokenizer, documents), data.block_size, data.max_tokens)
    if not blocks:
        raise DataError(f"{where}: the corpus has {tokens} tokens, fewer than one block of data.block_size "
                        f"{data.block_size}; add text or lower data.block_size")
    if data.eval_paths:
        eval_files = corpus_files(data.eval_paths, "data.eval_paths")
        eval_docs = read_documents(eval_files, data.documents, data.text_field)
        held_out, _, _ = pack(tokenize_documents(tokenizer, eval_docs), data.block_size)
        if not held_out:
            raise DataError(f"{eval_files[0]}: held-out text is shorter than one block of data.block_size "
                            f"{data.block_size}; add text or lower data.block_size")
        train = blocks
    else:
        count = held_out_count(len(blocks), data.test_size)
        train, held_out = blocks[:len(blocks) - count], blocks[len(blocks) - count:]
    return Blocks(train=train, eval=held_out, documents=len(documents), tokens=tokens, dropped_tokens=dropped,
                  files=[f.name for f in files])


def check_block_size(block_size: int, model_config: Any, model_name: str) -> None:
    """A block longer than the model's context cannot be trained on: one line naming both numbers."""
    context = getattr(model_config, "max_position_embeddings", None) or getattr(model_config, "n_positions", None)
    if context is not None and block_size > context:
        raise ConfigError(f"data.block_size {block_size} is larger than the context of {model_name} "
                          f"({context} positions); set data.block_size to at most {context}")


def as_dataset(blocks: list[list[int]]) -> Any:
    """A datasets.Dataset of input_ids and labels (the same ids; the model shifts them)."""
    from datasets import Dataset

    return Dataset.from_dict({"input_ids": blocks, "labels": [list(b) for b in blocks]})
