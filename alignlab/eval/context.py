"""What a suite's `run` gets: the models of this evaluation, loaded once and only when a suite needs them.

    context.policy                      # LanguageModel under test (--model)
    context.baseline                    # second LanguageModel (--baseline), for win rates
    context.judge(for_what, kinds)      # RewardModelJudge / LMJudge / ClassifierJudge (--judge), kind-checked
    context.generate(context.policy, conversations)   # chat-formatted, sampled with the run's settings
    context.refusal                     # the configured refusal classifier

`check(suite)` runs before any suite starts: a missing model, a tokenizer without the chat template a suite
needs, a missing or wrong-kind judge, a missing baseline are one-line errors up front, never after an hour of
generation. The context is built from plain values (`ModelRef`, settings), not from the config object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignlab.backends.rollout import SamplingParams
from alignlab.errors import AlignlabError
from alignlab.eval.data import eval_data_dir
from alignlab.eval.lm import LanguageModel, Messages
from alignlab.eval.suite import BASELINE, CHAT, JUDGE, MODEL, REWARD_JUDGE, Suite


class MissingInputError(AlignlabError):
    """A suite needs a model, judge or baseline the run was not given (or one of the wrong kind)."""

    exit_code = 2

# `--judge openai:MODEL`: an OpenAI-compatible chat endpoint (`alignlab.eval.judges.openai`) at $OPENAI_BASE_URL
# (default: OpenAI's API), key from $OPENAI_API_KEY, as the OpenAI SDK reads them
ENDPOINT_PREFIX = "openai:"
ENDPOINT = "endpoint"


@dataclass(frozen=True)
class ModelRef:
    name_or_path: str
    revision: str | None = None
    trust_remote_code: bool = False
    dtype: str = "auto"

    def load_kwargs(self) -> dict[str, Any]:
        return {"revision": self.revision, "trust_remote_code": self.trust_remote_code, "dtype": self.dtype}


@dataclass
class EvalContext:
    model: ModelRef | None = None
    judge_ref: ModelRef | None = None
    baseline_ref: ModelRef | None = None
    batch_size: int = 16
    device: str = "cpu"
    max_length: int | None = None
    share_prefixes: bool = True
    engine: str = "hf"
    sampling: SamplingParams = field(default_factory=SamplingParams)
    chat_template: str = "always"  # auto | always | never (alignlab.data.prompts)
    system_prompt: str | None = None
    judge_max_new_tokens: int = 256
    refusal_classifier: Any = "string_match"
    seed: int = 0
    echo: Any = None  # where progress goes (a generation's bar or lines); None: nowhere
    data_dir: Path = field(default_factory=eval_data_dir)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    # (model, prompts, completions) of every generate call: alignlab.eval.quality measures them per suite
    generations: list[tuple[Any, list[str], list[Any]]] = field(default_factory=list, repr=False)

    # -- checks ----------------------------------------------------------------------------------------------

    def check(self, suite: Suite) -> None:
        """Refuse, in one line, to start a suite this run cannot serve."""
        needs = suite.needs
        if MODEL in needs and self.model is None:
            raise MissingInputError(f"suite {suite.name!r} evaluates a model: pass --model PATH "
                                    "(or set model.name_or_path in the config)")
        if BASELINE in needs and self.baseline_ref is None:
            raise MissingInputError(f"suite {suite.name!r} compares against a baseline: pass --baseline PATH "
                                    "(a second policy; the same path as --model gives a sanity check near 50%)")
        if (JUDGE in needs or REWARD_JUDGE in needs) and self.judge_ref is None:
            raise MissingInputError(f"suite {suite.name!r} needs a judge: pass --judge PATH "
                                    "(a reward model, e.g. `alignlab rm train` output or a tiny build's reward/)")
        if REWARD_JUDGE in needs:
            self._check_judge_kind(f"suite {suite.name!r}", ("reward_model",))
        if hasattr(suite, "check"):  # what only this suite knows it cannot serve
            suite.check(self)
        if CHAT in needs and self.model is not None:
            self.policy.check_chat(suite.name)
            if BASELINE in needs:
                self.baseline.check_chat(suite.name)

    def _check_judge_kind(self, for_what: str, kinds: Sequence[str]) -> str:
        from alignlab.eval.judges import model_kind

        ref = self.judge_ref
        if ref is None:
            raise MissingInputError(f"{for_what} needs a judge: pass --judge PATH")
        if ref.name_or_path.startswith(ENDPOINT_PREFIX):
            kind = ENDPOINT
        else:
            kind = model_kind(ref.name_or_path, revision=ref.revision, trust_remote_code=ref.trust_remote_code)
        if kind not in kinds:
            wanted = " or ".join(k.replace("_", " ") for k in kinds)
            raise MissingInputError(
                f"--judge {ref.name_or_path} is a {kind.replace('_', ' ')}, but {for_what} needs a {wanted} "
                "(a reward model is a *ForSequenceClassification checkpoint with num_labels=1; a causal LM judge "
                f"is a *ForCausalLM checkpoint; an endpoint is {ENDPOINT_PREFIX}MODEL)"
            )
        return kind

    # -- models ----------------------------------------------------------------------------------------------

    def _lm(self, ref: ModelRef) -> LanguageModel:
        key = f"lm:{ref}"
        if key not in self._cache:
            self._cache[key] = LanguageModel.load(
                ref.name_or_path, device=self.device, batch_size=self.batch_size, max_length=self.max_length,
                share_prefixes=self.share_prefixes, engine=self.engine, chat_template=self.chat_template,
                system_prompt=self.system_prompt, **ref.load_kwargs(),
            )
        return self._cache[key]

    @property
    def policy(self) -> LanguageModel:
        if self.model is None:
            raise MissingInputError("no model to evaluate: pass --model PATH")
        return self._lm(self.model)

    @property
    def baseline(self) -> LanguageModel:
        if self.baseline_ref is None:
            raise MissingInputError("no baseline: pass --baseline PATH")
        return self._lm(self.baseline_ref)

    def judge(self, for_what: str, kinds: Sequence[str] = ("reward_model", "causal_lm")) -> Any:
        """The judge, loaded once, after checking its kind is one of `kinds`."""
        from alignlab.eval.judges import ClassifierJudge, LMJudge, RewardModelJudge

        kind = self._check_judge_kind(for_what, kinds)
        key = f"judge:{self.judge_ref}"
        if key not in self._cache:
            ref = self.judge_ref
            assert ref is not None
            if kind == ENDPOINT:
                from alignlab.eval.judges.openai import OpenAIJudge

                self._cache[key] = OpenAIJudge.from_spec(ref.name_or_path)
            elif kind == "causal_lm":
                self._cache[key] = LMJudge(self._lm(ref), max_new_tokens=self.judge_max_new_tokens)
            else:
                cls = RewardModelJudge if kind == "reward_model" else ClassifierJudge
                self._cache[key] = cls.load(ref.name_or_path, device=self.device, batch_size=self.batch_size,
                                            **ref.load_kwargs())
        return self._cache[key]

    @property
    def refusal(self) -> Any:
        if "refusal" not in self._cache:
            from alignlab.eval.refusal import REFUSAL_CLASSIFIERS

            chosen = self.refusal_classifier
            self._cache["refusal"] = REFUSAL_CLASSIFIERS.get(chosen)(self) if isinstance(chosen, str) else chosen
        return self._cache["refusal"]

    def generate(self, lm: LanguageModel, conversations: Sequence[Messages]) -> list[str]:
        """One greedy (or configured) answer per conversation, through the model's rollout engine."""
        prompts = lm.chat_prompts(conversations)
        engine = getattr(lm, "engine", None)
        if self.echo is not None and hasattr(engine, "progress"):
            engine.progress = self.echo
        completions = lm.generate(prompts, self.sampling)
        self.generations.append((lm, list(prompts), completions))
        return [completion.text for completion in completions]
