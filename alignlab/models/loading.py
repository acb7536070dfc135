"""Load tokenizers, causal LMs and reward models from a hub id or a local folder, with one-line errors.

    tokenizer = load_tokenizer("runs/tiny/policy")            # pad token set (pad = eos when it had none)
    policy = load_causal_lm("Qwen/Qwen3-0.6B", dtype="bfloat16")
    reward = load_reward_model("runs/tiny/reward")            # num_labels=1, pad_token_id set for batching

Every function calls the ordinary `transformers.Auto*.from_pretrained`, so hub ids work unchanged wherever a
hub (or its cache) is reachable. Safe defaults: `trust_remote_code=False` and safetensors only
(`use_safetensors=True`): pickled `.bin` weights can run code when they are loaded.

Errors a user can cause become one `ModelLoadError` line: a local folder that does not exist, a folder that is
not a model, a folder with only `.bin` weights, a hub id that is neither local nor reachable (the offline case
says so and how to get a model without a hub). Local folders are checked before transformers sees them because
transformers reports an empty folder with a `ValueError` about `model_type`. Only the exceptions transformers
and huggingface_hub raise for unreadable or unreachable files are caught; anything else keeps its traceback.

torch and transformers are imported inside the functions.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alignlab.errors import ConfigError, ModelLoadError
from alignlab.models._rng import seeded_torch

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

DTYPES = ("auto", "float32", "bfloat16", "float16")
TINY_HINT = "pass a local path or build one with `alignlab models tiny OUT`"
# `org/name` or `name`, the shape huggingface_hub accepts; anything else that is not on disk is a missing path.
_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
_TOKENIZER_FILES = (
    "tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json", "spiece.model", "vocab.txt",
)


def load_tokenizer(
    name_or_path: str | os.PathLike, *, revision: str | None = None, trust_remote_code: bool = False
) -> PreTrainedTokenizerBase:
    """`AutoTokenizer.from_pretrained` with a pad token guaranteed.

    A tokenizer without a pad token gets pad = eos (what TRL does and TRL users expect), with a log note: with
    pad = eos, padding masks must come from `attention_mask`, never from comparing ids with `pad_token_id`.
    """
    name = str(name_or_path)
    local = _local_folder(name)
    if local is not None and not any((local / f).is_file() for f in _TOKENIZER_FILES):
        raise ModelLoadError(f"{name}: no tokenizer files here (tokenizer.json or tokenizer_config.json)")
    from transformers import AutoTokenizer

    with _one_line_errors(name, "tokenizer", extra=(ValueError,)):
        tokenizer = AutoTokenizer.from_pretrained(name, revision=revision, trust_remote_code=trust_remote_code)
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ModelLoadError(
                f"{name}: the tokenizer has neither a pad nor an eos token; add a pad token "
                "(tokenizer.add_special_tokens({'pad_token': ...})) and save it"
            )
        tokenizer.pad_token = tokenizer.eos_token
        logger.warning("%s: the tokenizer has no pad token; using eos %r as pad", name, tokenizer.eos_token)
    return tokenizer


def load_model_config(
    name_or_path: str | os.PathLike, *, revision: str | None = None, trust_remote_code: bool = False
) -> PretrainedConfig:
    """`AutoConfig.from_pretrained` with the same checks and one-line errors (no weights are read)."""
    name = str(name_or_path)
    _check_model_folder(name, need_weights=False)
    from transformers import AutoConfig

    # ValueError here means config.json itself is unusable (no or unknown `model_type`): the user's file.
    with _one_line_errors(name, "config", extra=(ValueError,)):
        return AutoConfig.from_pretrained(name, revision=revision, trust_remote_code=trust_remote_code)


def load_causal_lm(
    name_or_path: str | os.PathLike,
    *,
    revision: str | None = None,
    trust_remote_code: bool = False,
    dtype: str = "auto",
) -> PreTrainedModel:
    """`AutoModelForCausalLM.from_pretrained`, safetensors only, in `dtype` ("auto" keeps the saved dtype)."""
    name = str(name_or_path)
    torch_dtype = _torch_dtype(dtype)
    _check_model_folder(name, need_weights=True)
    from transformers import AutoModelForCausalLM

    config = load_model_config(name, revision=revision, trust_remote_code=trust_remote_code)
    with _one_line_errors(name, "model weights"):
        return AutoModelForCausalLM.from_pretrained(
            name,
            config=config,
            revision=revision,
            trust_remote_code=trust_remote_code,
            dtype=torch_dtype,
            use_safetensors=True,
        )


def load_reward_model(
    name_or_path: str | os.PathLike,
    *,
    num_labels: int = 1,
    revision: str | None = None,
    trust_remote_code: bool = False,
    dtype: str = "auto",
    pad_token_id: int | None = None,
    seed: int | None = None,
) -> PreTrainedModel:
    """`AutoModelForSequenceClassification.from_pretrained` with `num_labels` outputs, safetensors only.

    Loading a causal LM here gives a reward model with a new, random score head (transformers logs which
    weights it initialised); pass `seed` to make that head reproducible. Batched scoring needs
    `config.pad_token_id` (the model scores the last non-pad token): it comes from `pad_token_id`, else the
    saved config, else the tokenizer saved beside the model.
    """
    name = str(name_or_path)
    torch_dtype = _torch_dtype(dtype)
    _check_model_folder(name, need_weights=True)
    from transformers import AutoModelForSequenceClassification

    config = load_model_config(name, revision=revision, trust_remote_code=trust_remote_code)
    if config.num_labels != num_labels:
        config.num_labels = num_labels
    if pad_token_id is not None:
        config.pad_token_id = pad_token_id
    elif getattr(config, "pad_token_id", None) is None:
        config.pad_token_id = _pad_id_from_tokenizer(name, revision, trust_remote_code)
    with _one_line_errors(name, "model weights"), seeded_torch(seed):
        return AutoModelForSequenceClassification.from_pretrained(
            name,
            config=config,
            revision=revision,
            trust_remote_code=trust_remote_code,
            dtype=torch_dtype,
            use_safetensors=True,
        )


def is_hub_id(name: str) -> bool:
    """True when `name` has the shape of a hub id (`org/name` or `name`) and is not an existing path."""
    return not Path(name).exists() and _HUB_ID.fullmatch(name) is not None and not name.endswith((".", "-"))


def _local_folder(name: str) -> Path | None:
    """The folder `name` names, None for a hub id; a missing path that cannot be a hub id is an error."""
    path = Path(name)
    if path.is_dir():
        return path
    if path.exists():
        raise ModelLoadError(f"{name} is a file, not a model folder; pass the folder that holds config.json")
    if is_hub_id(name):
        return None
    raise ModelLoadError(f"no such folder: {name} (and it is not a hub id); {TINY_HINT}")


def _check_model_folder(name: str, *, need_weights: bool) -> None:
    """For a local folder: config.json present and, when weights are needed, safetensors weights."""
    folder = _local_folder(name)
    if folder is None:
        return
    if not (folder / "config.json").is_file():
        if (folder / "adapter_config.json").is_file():
            hint = "it holds a PEFT adapter: load its base model and apply the adapter with peft"
        elif (folder / "alignlab_tiny.json").is_file():
            hint = f"it holds tiny models: pass {Path(name) / 'policy'} or {Path(name) / 'reward'}"
        else:
            hint = "not a transformers model folder"
        raise ModelLoadError(f"{name}: no config.json here ({hint})")
    if not need_weights:
        return
    files = [p.name for p in folder.iterdir() if p.is_file()]
    if any(f.endswith(".safetensors") or f.endswith(".safetensors.index.json") for f in files):
        return
    pickles = sorted(f for f in files if f.endswith(_PICKLE_SUFFIXES) or f.endswith(".bin.index.json"))
    if pickles:
        raise ModelLoadError(
            f"{name}: only PyTorch pickle weights ({', '.join(pickles[:3])}); alignlab loads safetensors only "
            "because pickles can run code when loaded. Convert once where you trust the file: "
            "AutoModel.from_pretrained(path, use_safetensors=False).save_pretrained(new_path)"
        )
    raise ModelLoadError(f"{name}: config.json but no model weights (model.safetensors) in this folder")


@contextmanager
def _one_line_errors(name: str, what: str, extra: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Turn the errors transformers and huggingface_hub raise for unreadable or unreachable files into one
    `ModelLoadError` line; everything else propagates with its traceback."""
    from huggingface_hub import is_offline_mode
    from huggingface_hub.errors import HFValidationError
    from safetensors import SafetensorError

    try:
        yield
    except (OSError, HFValidationError, SafetensorError, *extra) as err:
        first_line = next((line.strip() for line in str(err).splitlines() if line.strip()), type(err).__name__)
        if Path(name).exists():
            raise ModelLoadError(f"{name}: cannot load the {what}: {first_line}") from None
        if is_offline_mode():
            raise ModelLoadError(
                f"{name!r} is not a local folder and the hub is offline (HF_HUB_OFFLINE=1) and it is not in "
                f"the cache; {TINY_HINT}"
            ) from None
        raise ModelLoadError(
            f"{name!r} is not a local folder and its {what} could not be loaded from the hub: {first_line}"
        ) from None


def _torch_dtype(dtype: str) -> Any:
    if dtype not in DTYPES:
        raise ConfigError(f"dtype {dtype!r}: expected one of {', '.join(DTYPES)}")
    if dtype == "auto":
        return "auto"
    import torch

    return getattr(torch, dtype)


def _pad_id_from_tokenizer(name: str, revision: str | None, trust_remote_code: bool) -> int | None:
    try:
        tokenizer = load_tokenizer(name, revision=revision, trust_remote_code=trust_remote_code)
    except ModelLoadError as err:
        logger.warning("%s: no pad_token_id in config.json and no usable tokenizer (%s); batched scoring "
                       "needs one: pass pad_token_id", name, err)
        return None
    return tokenizer.pad_token_id

