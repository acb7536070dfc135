"""Hand-off of a trained policy: its model card, an adapter that loads from anywhere, the hub upload.

    hand_off(run, run.dir / "model", echo=print)   # what every policy trainer calls after `run.finish`

- `model_card(...)`: `README.md` in the model folder, with hub metadata (base model, library, tags): the base
  model, the training data (each file with its sha256, synthetic specs as written), the method and its
  hyper-parameters (the resolved config's method section and `train`), the held-out evaluation summary, the
  alignlab version, and how to load it with transformers or PEFT.
- `anchor_adapter(model_dir)`: PEFT stores the base model as it was named when training, often a path relative
  to the working folder (`runs/tiny_policies/micro-sft`), which fails to load from anywhere else; a relative
  path that exists is rewritten as absolute (a hub id is left alone).
- `push_to_hub(model_dir, repo_id, private)`: `train.push_to_hub` / `train.hub_model_id` through
  huggingface_hub (token from the environment or the huggingface-cli login; never written anywhere).
Reward models keep their own card (`alignlab.algorithms.rm_card`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from alignlab._version import __version__
from alignlab.errors import RunError

# The method section of each trainer kind's config, shown as the method's hyper-parameters.
METHOD_SECTIONS = ("dpo", "kto", "ppo", "grpo", "rloo", "method", "online", "rollout", "lora", "reference")


def data_sources(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every data path of the config with the sha256 of the file (specs and hub names as written)."""
    data = config.get("data") or {}
    paths = [data.get(key) for key in ("path", "eval_path") if data.get(key)] + list(data.get("paths") or [])
    out = []
    for entry in paths:
        from alignlab.paths import shipped_path

        found = shipped_path(entry)
        item: dict[str, Any] = {"path": str(entry)}
        if found.is_file():
            digest = hashlib.sha256()
            with open(found, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            item["sha256"] = digest.hexdigest()
        out.append(item)
    return out


def _table(values: dict[str, Any]) -> list[str]:
    rows = ["| key | value |", "|---|---|"]
    for key, value in values.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                rows.append(f"| {key}.{sub} | `{json.dumps(inner, default=str)}` |")
        else:
            rows.append(f"| {key} | `{json.dumps(value, default=str)}` |")
    return rows


def _eval_lines(summary: dict[str, Any]) -> list[str]:
    held_out = summary.get("eval") or {}
    numbers = {k: v for k, v in held_out.items() if isinstance(v, int | float)}
    if not numbers:
        return ["No held-out evaluation was run."]
    return [f"- {key}: {value:.4g}" for key, value in sorted(numbers.items())]


def model_card(config: dict[str, Any], summary: dict[str, Any], method: str, adapter: bool) -> str:
    """The README.md text of a trained policy."""
    model = config.get("model") or {}
    base = model.get("name_or_path", "unknown")
    sources = data_sources(config)
    hyper = {name: config[name] for name in METHOD_SECTIONS if isinstance(config.get(name), dict)}
    train = {k: v for k, v in (config.get("train") or {}).items() if k not in ("callbacks", "report_to")}
    tags = ["alignlab", method, *(["peft", "lora"] if adapter else [])]
    load = ("from peft import AutoPeftModelForCausalLM\nmodel = AutoPeftModelForCausalLM.from_pretrained(\"PATH\")"
            if adapter else "from transformers import AutoModelForCausalLM\n"
                            "model = AutoModelForCausalLM.from_pretrained(\"PATH\")")
    lines = ["---", f"base_model: {json.dumps(base)}", "library_name: " + ("peft" if adapter else "transformers"),
             "tags:", *[f"- {tag}" for tag in tags], "---", "",
             f"# {config.get('run', {}).get('name', 'policy')} ({method})", "",
             f"Trained with alignlab {__version__} ({method}) from `{base}`"
             + (f" at revision `{model['revision']}`" if model.get("revision") else "") + ".", "",
             "## Data", ""]
    lines += [f"- `{s['path']}`" + (f" (sha256 `{s['sha256']}`)" if "sha256" in s else "") for s in sources] or \
        ["- (none recorded)"]
    lines += ["", "## Method and hyper-parameters", "", *_table({**hyper, "train": train}), "",
              "## Evaluation (held-out)", "", *_eval_lines(summary), "",
              f"Steps: {summary.get('steps', 'n/a')}. The run folder's `config.yaml`, `metrics.jsonl` and "
              "`summary.json` hold the full record.", "", "## Use", "", "```python", load, "```", ""]
    return "\n".join(lines)


def anchor_adapter(model_dir: Path, working_dir: Path | None = None) -> str | None:
    """Make an adapter's base-model path absolute when it is a relative local path; return the stored base."""
    from alignlab.utils.io import atomic_write_json

    config_path = Path(model_dir) / "adapter_config.json"
    if not config_path.is_file():
        return None
    adapter = json.loads(config_path.read_text(encoding="utf-8"))
    base = adapter.get("base_model_name_or_path")
    if base and not Path(base).is_absolute():
        local = (working_dir or Path.cwd()) / base
        if local.is_dir():
            adapter["base_model_name_or_path"] = str(local.resolve())
            atomic_write_json(config_path, adapter)
    return adapter.get("base_model_name_or_path")


def push_to_hub(model_dir: Path, repo_id: str, private: bool = True, api: Any = None) -> str:
    """Create the repo (if needed) and upload the folder; the URL of the commit. `api`: an `HfApi`-like object."""
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi()  # the token comes from HF_TOKEN or the saved login, never from alignlab's files
    try:
        api.create_repo(repo_id=repo_id, private=private, exist_ok=True, repo_type="model")
        commit = api.upload_folder(folder_path=str(model_dir), repo_id=repo_id, repo_type="model",
                                   commit_message=f"alignlab {__version__}: {Path(model_dir).parent.name}")
    except Exception as err:  # network, auth and hub errors: one line with the fix
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RunError(f"push to hub {repo_id!r} failed: {first}; the model is saved in {model_dir} (log in with "
                       "`huggingface-cli login` or set HF_TOKEN, then upload it with `huggingface-cli upload`)") \
            from None
    return str(getattr(commit, "commit_url", commit))


def hand_off(run: Any, model_dir: Path, echo: Any = print, method: str | None = None, api: Any = None) -> None:
    """Card, adapter path and (when asked) the hub upload for a finished policy run; rank 0 only."""
    from alignlab.utils.io import atomic_write_text

    model_dir = Path(model_dir)
    if not getattr(run, "writer", True) or not model_dir.is_dir():
        return
    config, summary = run.config, run.summary() or {}
    method = method or summary.get("method") or summary.get("backend") or str(config.get("run", {}).get("name"))
    adapter = anchor_adapter(model_dir) is not None
    atomic_write_text(model_dir / "README.md", model_card(config, summary, method, adapter))
    train = config.get("train") or {}
    if train.get("push_to_hub") and train.get("hub_model_id"):
        url = push_to_hub(model_dir, train["hub_model_id"], bool(train.get("hub_private_repo", True)), api=api)
        echo(f"pushed {model_dir} to {train['hub_model_id']} ({url})")
