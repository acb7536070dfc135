"""`alignlab models`: build tiny offline models (`tiny`) and describe a model folder or hub id (`info`).

Thin wrappers over `alignlab.models`: only typer is imported here; torch and transformers are imported inside
the commands, so `alignlab --help` stays fast.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from alignlab.cli._common import quiet_transformers

app = typer.Typer(
    help="Build and inspect models (tiny offline models for tests and demos).", no_args_is_help=True
)

SIZE_HELP = "Size preset: nano (~0.9M parameters), micro (~5M), small (~15M) or base (~30M)."
# Command-line flag of each TinyModelConfig field, for error messages.
_FLAGS = {
    "size": "--size",
    "vocab_size": "--vocab-size",
    "seed": "--seed",
    "corpus": "--corpus",
    "max_position_embeddings": "--max-position-embeddings",
}


@app.command("tiny")
def tiny(
    out: Path = typer.Argument(
        ..., metavar="OUT", help="Folder to create: OUT/policy, OUT/reward and OUT/alignlab_tiny.json."
    ),
    size: str = typer.Option("nano", "--size", help=SIZE_HELP),
    vocab_size: int = typer.Option(2048, "--vocab-size", help="Byte-level BPE vocabulary size."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random weights."),
    corpus: list[Path] | None = typer.Option(
        None, "--corpus", help="UTF-8 text to train the tokenizer on; repeat for more files "
        "(default: the shipped TinyStories excerpt).", show_default=False,
    ),
    max_position_embeddings: int = typer.Option(1024, "--max-position-embeddings", help="Context length."),
    force: bool = typer.Option(False, "--force", help="Replace OUT when it holds an earlier tiny build."),
) -> None:
    """Build a tiny Llama-style policy and reward model offline, with a tokenizer trained on shipped text."""
    config = _tiny_config(size=size, vocab_size=vocab_size, seed=seed, corpus=corpus or [],
                          max_position_embeddings=max_position_embeddings)
    from alignlab.models.tiny import build_tiny_models, check_out_dir

    check_out_dir(out, force)  # before transformers is imported: a refusal is instant
    quiet_transformers()
    start = time.perf_counter()
    built = build_tiny_models(
        out,
        size=config.size,
        vocab_size=config.vocab_size,
        corpus=config.corpus or None,
        max_position_embeddings=config.max_position_embeddings,
        seed=config.seed,
        overwrite=force,
    )
    seconds = time.perf_counter() - start
    typer.echo(f"policy: {built.policy_dir} (LlamaForCausalLM, {built.policy_parameters:,} parameters)")
    typer.echo(
        f"reward: {built.reward_dir} (LlamaForSequenceClassification, {built.reward_parameters:,} parameters)"
    )
    typer.echo(f"tokenizer: byte-level BPE, {built.vocab_size} tokens, chat template; saved in both folders")
    typer.echo(f"built {built.size} (seed {built.seed}) in {seconds:.1f} s; details in {built.manifest_path}")


@app.command("info")
def info(
    path: str = typer.Argument(
        ..., metavar="PATH", help="Model folder, `alignlab models tiny` output folder, or hub id."
    ),
    revision: str | None = typer.Option(None, "--revision", help="Hub revision (branch, tag or commit)."),
    trust_remote_code: bool = typer.Option(
        False, "--trust-remote-code", help="Allow code shipped with a hub model (off by default)."
    ),
) -> None:
    """Describe a model from its config and file headers, without loading its weights."""
    from alignlab.models.info import describe_model
    from alignlab.models.tiny import MANIFEST_NAME, POLICY_DIR, REWARD_DIR

    root = Path(path)
    targets = [path]
    if root.is_dir() and not (root / "config.json").exists() and (root / MANIFEST_NAME).is_file():
        targets = [str(root / POLICY_DIR), str(root / REWARD_DIR)]
    for target in targets:
        details = describe_model(target, revision=revision, trust_remote_code=trust_remote_code)
        width = max(len(key) for key in details)
        typer.echo(target)
        for key, value in details.items():
            typer.echo(f"  {key:<{width}}  {value}")


def _tiny_config(**values):
    """Validate the options through `TinyModelConfig`; a bad value is one `ConfigError` line naming the flag."""
    from pydantic import ValidationError

    from alignlab.config.schemas import TinyModelConfig
    from alignlab.errors import ConfigError

    try:
        return TinyModelConfig(**values)
    except ValidationError as err:
        problems = []
        for error in err.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            flag = _FLAGS.get(field, field)
            problems.append(f"{flag} {error.get('input')!r}: {error['msg']}")
        raise ConfigError("; ".join(problems)) from None
