"""Tiny offline models: a byte-level BPE tokenizer trained on shipped text, a random-init Llama policy and a
reward model that shares its backbone. Nothing is downloaded; everything is built on a CPU in seconds.

    from alignlab.models.tiny import build_tiny_models
    tiny = build_tiny_models("runs/tiny", size="nano", seed=0)
    tiny.policy_dir   # LlamaForCausalLM + tokenizer, loads with AutoModelForCausalLM.from_pretrained
    tiny.reward_dir   # LlamaForSequenceClassification (num_labels=1) + the same tokenizer

Layout written (atomically: a temporary sibling folder renamed into place, so a crash leaves nothing that looks
complete):

    OUT/policy/             config.json, generation_config.json, model.safetensors, tokenizer files
    OUT/reward/             config.json (num_labels=1, pad_token_id set), model.safetensors, tokenizer files
    OUT/alignlab_tiny.json  size, parameter counts, vocabulary, seed, corpus file names and sha256

The tokenizer is byte-level (GPT-2 style), so any text, Arabic and emoji included, encodes and decodes back
exactly. Its chat template wraps turns in `<|system|>`, `<|user|>`, `<|assistant|>` markers, ends user and
system turns with `<|end|>` and assistant turns with the eos token, so a policy learns to stop where generation
stops. Assistant content sits inside `{% generation %}` markers: TRL's `assistant_only_loss` (transformers'
`return_assistant_tokens_mask`) needs them and the eos token falls inside, so stopping is trained.

Choices worth knowing:
- The reward model's backbone is a copy of the policy's random weights; only the score head is new. That is the
  usual RLHF recipe (InstructGPT initialises its reward model from the SFT policy), and it lets demos start the
  reward model and the policy from the same point. Both are random here, so neither knows any language yet.
- Weights depend only on `seed` and the size: torch's global RNG is seeded inside `torch.random.fork_rng`, so
  the caller's RNG state is restored afterwards. The tokenizer has no randomness: the same corpus gives the
  same tokenizer.
- Embeddings are untied (the Llama default); parameter counts below are for the default 2048-token vocabulary.

torch, transformers and tokenizers are imported inside the functions that use them: importing this module is
cheap, so the CLI can list the sizes without loading torch.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alignlab.errors import AlignlabError, ConfigError, DataError
from alignlab.models._rng import seeded_torch
from alignlab.paths import preference_data_dir, tiny_corpus_files
from alignlab.registry import Registry
from alignlab.utils.io import atomic_dir, atomic_write_json

if TYPE_CHECKING:
    from transformers import LlamaConfig, PreTrainedModel, PreTrainedTokenizerFast

BOS, EOS, PAD = "<|bos|>", "<|eos|>", "<|pad|>"
SYSTEM, USER, ASSISTANT, END_OF_TURN = "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"
# Order fixes the ids: bos=0, eos=1, pad=2. Pad is deliberately not 0: code such as
# `tokenizer.pad_token_id or tokenizer.eos_token_id` (TRL has it) would silently pad with eos.
SPECIAL_TOKENS = (BOS, EOS, PAD, SYSTEM, USER, ASSISTANT, END_OF_TURN)

POLICY_DIR = "policy"
REWARD_DIR = "reward"
MANIFEST_NAME = "alignlab_tiny.json"
# Tokenizer training reads at most this many characters of the corpus (about 2 s on 2 cores); the shipped
# corpus is 0.4 MB, so this only bounds large user corpora.
MAX_TOKENIZER_TRAINING_CHARS = 4_000_000

# `{% generation %}` marks what TRL's assistant-only loss trains on; the eos token sits inside it.
CHAT_TEMPLATE = (
    "{{- bos_token -}}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{- '<|assistant|>\\n' -}}"
    "{%- generation -%}{{- message['content'] + eos_token -}}{%- endgeneration -%}"
    "{%- elif message['role'] in ['system', 'user'] -%}"
    "{{- '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>' -}}"
    "{%- else -%}"
    "{{- raise_exception('unknown chat role \"' + message['role'] + '\": this template knows system, user "
    "and assistant') -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}"
)


@dataclass(frozen=True)
class TinySize:
    """Shape of one size preset; `approx_parameters` is the policy's count at a 2048-token vocabulary."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    intermediate_size: int
    approx_parameters: str


TINY_SIZES: Registry[TinySize] = Registry("tiny model size")
TINY_SIZES.register("nano", TinySize(128, 2, 4, 2, 384, "0.9M"))
TINY_SIZES.register("micro", TinySize(256, 4, 4, 2, 1024, "5.0M"))
TINY_SIZES.register("small", TinySize(384, 6, 6, 2, 1536, "14.6M"))
TINY_SIZES.register("base", TinySize(512, 8, 8, 4, 1792, "30.4M"))


@dataclass(frozen=True)
class TinyModels:
    """What `build_tiny_models` wrote: the two model folders and their parameter counts."""

    out_dir: Path
    policy_dir: Path
    reward_dir: Path
    manifest_path: Path
    size: str
    vocab_size: int
    policy_parameters: int
    reward_parameters: int
    seed: int


def build_tiny_models(
    out_dir: str | os.PathLike,
    *,
    size: str = "nano",
    vocab_size: int = 2048,
    corpus: Sequence[str | os.PathLike] | None = None,
    max_position_embeddings: int = 1024,
    seed: int = 0,
    overwrite: bool = False,
) -> TinyModels:
    """Train a tokenizer on `corpus` (default: the shipped TinyStories excerpt) and write a tiny policy and
    reward model under `out_dir`. An existing non-empty `out_dir` is an error unless `overwrite` is set, and
    even then only a folder holding nothing but a previous build is replaced."""
    spec = TINY_SIZES.get(size)
    out_dir = Path(out_dir)
    check_out_dir(out_dir, overwrite)
    files = _corpus_files(corpus)
    tokenizer = train_tokenizer(
        _read_corpus(files), vocab_size=vocab_size, model_max_length=max_position_embeddings
    )
    config = tiny_llama_config(
        spec,
        vocab_size=len(tokenizer),
        max_position_embeddings=max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    policy, reward = _init_models(config, seed)
    policy_parameters = count_parameters(policy)
    reward_parameters = count_parameters(reward)

    with atomic_dir(out_dir) as tmp:
        for model, name in ((policy, POLICY_DIR), (reward, REWARD_DIR)):
            model.save_pretrained(tmp / name)
            tokenizer.save_pretrained(tmp / name)
        manifest = _manifest(size, seed, vocab_size, max_position_embeddings, len(tokenizer), files,
                             policy_parameters, reward_parameters)
        atomic_write_json(tmp / MANIFEST_NAME, manifest)

    return TinyModels(
        out_dir=out_dir,
        policy_dir=out_dir / POLICY_DIR,
        reward_dir=out_dir / REWARD_DIR,
        manifest_path=out_dir / MANIFEST_NAME,
        size=size,
        vocab_size=len(tokenizer),
        policy_parameters=policy_parameters,
        reward_parameters=reward_parameters,
        seed=seed,
    )


def _manifest(size: str, seed: int, requested_vocab_size: int, max_position_embeddings: int, vocab_size: int,
              files: Sequence[Path], policy_parameters: int, reward_parameters: int) -> dict[str, Any]:
    """What `alignlab_tiny.json` records: enough to rebuild the same models and to check the corpus."""
    spec = TINY_SIZES.get(size)
    return {
        "kind": "alignlab tiny models",
        "size": size,
        "shape": {k: v for k, v in vars(spec).items() if k != "approx_parameters"},
        "seed": seed,
        "vocab_size": vocab_size,
        "requested_vocab_size": requested_vocab_size,
        "max_position_embeddings": max_position_embeddings,
        "policy": {"path": POLICY_DIR, "architecture": "LlamaForCausalLM", "parameters": policy_parameters},
        "reward": {
            "path": REWARD_DIR,
            "architecture": "LlamaForSequenceClassification",
            "parameters": reward_parameters,
            "init": "backbone copied from the policy; score head random (normal, std 0.02)",
        },
        "tokenizer": {"type": "byte-level BPE", "special_tokens": list(SPECIAL_TOKENS)},
        # Names only: a manifest must not carry the paths of the machine that built it.
        "corpus": [_describe_file(path) for path in files],
        "max_tokenizer_training_chars": MAX_TOKENIZER_TRAINING_CHARS,
        "versions": _versions(),
    }


def train_tokenizer(
    texts: Sequence[str], *, vocab_size: int = 2048, model_max_length: int = 1024
) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer with alignlab's special tokens and chat template.

    Deterministic: the BPE trainer has no randomness, so the same texts give the same tokenizer. Plain
    `tokenizer(text)` prepends bos (as Llama tokenizers do); the chat template writes bos itself, and TRL
    tokenizes templated text with `add_special_tokens=False`.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    smallest = len(alphabet) + len(SPECIAL_TOKENS)
    if vocab_size < smallest:
        raise ConfigError(f"vocab_size {vocab_size} is too small: a byte-level vocabulary needs at least {smallest}")
    backend = Tokenizer(models.BPE())
    # No normalizer: text must round-trip byte for byte.
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=alphabet,
        show_progress=False,
    )
    backend.train_from_iterator(_lines(texts), trainer)
    bos_id = backend.token_to_id(BOS)
    backend.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(
            single=f"{BOS} $A", pair=f"{BOS} $A {BOS}:1 $B:1", special_tokens=[(BOS, bos_id)]
        ),
    ])
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        model_max_length=model_max_length,
        padding_side="right",
        chat_template=CHAT_TEMPLATE,
        # Cleaning up would turn "a ." into "a." on decode and break the exact round trip.
        clean_up_tokenization_spaces=False,
    )


def tiny_llama_config(
    spec: TinySize | str,
    *,
    vocab_size: int,
    max_position_embeddings: int = 1024,
    bos_token_id: int = 0,
    eos_token_id: int = 1,
    pad_token_id: int = 2,
) -> LlamaConfig:
    """The `LlamaConfig` of a size preset (a name from `TINY_SIZES` or a `TinySize`)."""
    from transformers import LlamaConfig

    if isinstance(spec, str):
        spec = TINY_SIZES.get(spec)
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_hidden_layers,
        num_attention_heads=spec.num_attention_heads,
        num_key_value_heads=spec.num_key_value_heads,
        max_position_embeddings=max_position_embeddings,
        rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        tie_word_embeddings=False,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
        pad_token_id=pad_token_id,
        dtype="float32",
    )


def count_parameters(model: Any) -> int:
    """Number of distinct parameters (a tied weight counts once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def _init_models(config: LlamaConfig, seed: int) -> tuple[PreTrainedModel, PreTrainedModel]:
    """Random-init the policy from `seed`, then a reward model whose backbone is a copy of the policy's."""
    import copy

    import torch
    from transformers import GenerationConfig, LlamaForCausalLM, LlamaForSequenceClassification

    with seeded_torch(seed):
        policy = LlamaForCausalLM(config)
        reward_config = copy.deepcopy(config)
        reward_config.num_labels = 1
        reward = LlamaForSequenceClassification(reward_config)
    with torch.no_grad():
        reward.model.load_state_dict(policy.model.state_dict())
    policy.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id,
        eos_token_id=config.eos_token_id,
        pad_token_id=config.pad_token_id,
    )
    return policy.eval(), reward.eval()


def check_out_dir(out_dir: str | os.PathLike, overwrite: bool) -> None:
    """Raise unless `out_dir` is new, empty, or (with `overwrite`) holds only an earlier tiny build."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise AlignlabError(f"{out_dir} is a file; pass a folder to write the tiny models into")
    here = Path.cwd().resolve()
    if out_dir.exists() and (out_dir.resolve() == here or out_dir.resolve() in here.parents):
        raise AlignlabError(f"{out_dir} is the current folder or one of its parents; pass a new folder")
    entries = sorted(p.name for p in out_dir.iterdir()) if out_dir.is_dir() else []
    if not entries:
        return
    if not overwrite:
        raise AlignlabError(
            f"{out_dir} already exists and is not empty; pass --force (overwrite=True) to replace it, "
            "or choose a new folder"
        )
    foreign = [name for name in entries if name not in (POLICY_DIR, REWARD_DIR, MANIFEST_NAME)]
    if foreign or MANIFEST_NAME not in entries:
        shown = ", ".join(foreign[:5]) or "no alignlab_tiny.json"
        raise AlignlabError(
            f"{out_dir} holds files that `alignlab models tiny` did not write ({shown}); "
            "refusing to replace it, choose a new folder"
        )


def _corpus_files(corpus: Sequence[str | os.PathLike] | None) -> list[Path]:
    files = [Path(p) for p in corpus] if corpus else tiny_corpus_files()
    if not files:
        where = preference_data_dir() / "tiny_corpus"
        raise DataError(f"no corpus text (*.txt) in {where}; pass text files with --corpus FILE")
    for path in files:
        if not path.is_file():
            raise DataError(f"{path}: corpus file not found (pass UTF-8 text files with --corpus)")
    return files


def _read_corpus(files: Sequence[Path]) -> list[str]:
    """Read the corpus files in order, stopping at MAX_TOKENIZER_TRAINING_CHARS characters."""
    texts: list[str] = []
    budget = MAX_TOKENIZER_TRAINING_CHARS
    for path in files:
        if budget <= 0:
            break
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise DataError(f"{path}: not UTF-8 text (bad byte at offset {err.start}); save it as UTF-8") from None
        texts.append(text[:budget])
        budget -= len(texts[-1])
    if not any(text.strip() for text in texts):
        raise DataError(f"{files[0]}: the corpus is empty; pass text files with --corpus")
    return texts


def _lines(texts: Sequence[str]) -> Iterator[str]:
    for text in texts:
        yield from text.splitlines(keepends=True)


def _describe_file(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": digest}


def _versions() -> dict[str, str]:
    import tokenizers
    import torch
    import transformers

    from alignlab._version import __version__

    return {
        "alignlab": __version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
    }
