"""Reference log-prob cache: compute the reference model's log-probs once, reuse them in later runs and rounds.

DPO and KTO compare the policy with a frozen reference on every example. The reference never changes during a
run, so its log-probs are a function of (reference weights, tokenizer, examples, max_length, encoding) only.
They are stored beside the data in one safetensors file per key:

    <data folder>/.alignlab_refcache/<data name>-<key digest>.safetensors
        tensors:  "<split>/<column>", e.g. "train/chosen", "train/rejected", "eval/chosen", ...
        metadata: the key's fields (model, tokenizer and data hashes, max_length, encoding) and the format version

    key = CacheKey(kind="dpo", model_hash=model_hash(reference), tokenizer_hash=tokenizer_hash(tokenizer),
                   data_hash=token_hash(examples), max_length=512, encoding="chat/truncate_response")
    tensors = load_cache(path, key)          # None when absent; RefCacheMismatch when made for another key
    save_cache(path, key, tensors)           # atomic: a crash leaves the old file or none

A changed model, tokenizer, data set or max_length gives another key, so another file: caches of several
models and rounds live side by side. A file named explicitly (`reference.cache_file`) that was made for another
key is refused with a one-line error naming what differs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alignlab.errors import AlignlabError

if TYPE_CHECKING:
    import torch

FORMAT_VERSION = "1"
_FIELD_NAMES = {
    "kind": "method", "model_hash": "reference model", "tokenizer_hash": "tokenizer", "data_hash": "data",
    "max_length": "max_length", "encoding": "encoding",
}


class RefCacheMismatch(AlignlabError):
    """A reference log-prob file that was computed for another model, tokenizer, data set or length."""


@dataclass(frozen=True)
class CacheKey:
    kind: str  # "dpo" or "kto"
    model_hash: str
    tokenizer_hash: str
    data_hash: str
    max_length: int
    encoding: str  # how examples became tokens: chat template or plain, truncation policy, KTO's KL batch

    def digest(self) -> str:
        return _sha256(json.dumps(asdict(self), sort_keys=True).encode())[:16]

    def metadata(self) -> dict[str, str]:
        return {"format_version": FORMAT_VERSION, **{k: str(v) for k, v in asdict(self).items()}}

    def first_difference(self, metadata: dict[str, str]) -> str | None:
        """The first field where a stored file's metadata differs from this key, described for a user."""
        for field in fields(self):
            stored, expected = metadata.get(field.name), str(getattr(self, field.name))
            if stored != expected:
                return f"{_FIELD_NAMES[field.name]} ({_short(stored)} there, {_short(expected)} here)"
        return None


def _short(value: str | None) -> str:
    if value is None:
        return "missing"
    return value[:12] if len(value) == 64 else value


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def model_hash(model: Any) -> str:
    """SHA-256 of a module's weights (names, dtypes, shapes, bytes), in name order. About 0.3 s per 100M bytes."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        tensor = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().data)
    return digest.hexdigest()


def tokenizer_hash(tokenizer: Any) -> str:
    """SHA-256 of what decides token ids: the vocabulary and merges, special tokens and the chat template."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    body = backend.to_str() if backend is not None else json.dumps(sorted(tokenizer.get_vocab().items()))
    extra = json.dumps({
        "special": {k: str(v) for k, v in sorted(tokenizer.special_tokens_map.items())},
        "chat_template": getattr(tokenizer, "chat_template", None),
    }, sort_keys=True)
    return _sha256(body.encode() + extra.encode())


def token_hash(columns: dict[str, list[list[int]]]) -> str:
    """SHA-256 of tokenized examples: column name, then every example's ids (length-prefixed), in order."""
    import numpy as np

    digest = hashlib.sha256()
    for name in sorted(columns):
        digest.update(f"{name}:{len(columns[name])};".encode())
        for ids in columns[name]:
            digest.update(len(ids).to_bytes(4, "little"))
            digest.update(np.asarray(ids, dtype=np.int64).tobytes())
    return digest.hexdigest()


def cache_path(cache_dir: str | Path, data_name: str, key: CacheKey) -> Path:
    """The file for `key` in `cache_dir`; `data_name` (the data file's stem) keeps the folder readable."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in data_name)[:60] or "data"
    return Path(cache_dir) / f"{safe}-{key.kind}-{key.digest()}.safetensors"


def load_cache(path: str | Path, key: CacheKey) -> dict[str, torch.Tensor] | None:
    """The stored tensors when `path` exists and was made for `key`; None when it does not exist."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            difference = key.first_difference(metadata)
            if difference is not None:
                raise RefCacheMismatch(
                    f"{path}: reference log-probs computed for another {difference}; delete the file or set "
                    "reference.cache_file to a new path to compute them again"
                )
            return {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118 - not a dict
    except SafetensorError as err:
        raise RefCacheMismatch(f"{path}: not a readable reference log-prob file ({err}); delete it") from None


def save_cache(path: str | Path, key: CacheKey, tensors: dict[str, torch.Tensor]) -> Path:
    """Write `tensors` with `key` as metadata, atomically."""
    from safetensors.torch import save_file

    from alignlab.data.io import atomic_output

    with atomic_output(path, suffix=".safetensors.tmp") as tmp:
        save_file({name: t.contiguous() for name, t in tensors.items()}, str(tmp), metadata=key.metadata())
    return Path(path)
