"""The one prompt formatter: how a prompt (and its response) becomes the text a model reads.

Used by data conversion (`alignlab.data.trl_format`), DPO/KTO encoding, reward-model encoding, generation
(candidates, rollouts) and evaluation (`alignlab.eval.lm`), so a model is evaluated in the format it was trained on.

One config spelling everywhere, `chat_template: auto | always | never`:
- `auto`: the tokenizer's chat template when it has one, else the plain transcript below;
- `always`: the chat template; a tokenizer without one is a `ChatTemplateError` naming the key;
- `never`: the plain transcript even when a template exists.

The plain transcript is the HH-RLHF form TRL's standard (non-conversational) rows use:
`"\\n\\nHuman: hi\\n\\nAssistant:"` as the prompt and `" hello"` as the response.
"""

from __future__ import annotations

from typing import Any, Literal

from alignlab.errors import ChatTemplateError

__all__ = ["CHAT_TEMPLATE_MODES", "ChatTemplateMode", "format_prompt", "has_chat_template", "plain_prompt",
           "plain_response", "render_transcript", "use_chat_template"]

ChatTemplateMode = Literal["auto", "always", "never"]
CHAT_TEMPLATE_MODES: tuple[str, ...] = ("auto", "always", "never")
CHAT_TEMPLATE_HELP = ("auto: the tokenizer's chat template when it has one, else a plain Human:/Assistant: "
                      "transcript; always: the chat template (an error without one); never: the plain transcript.")

_SPEAKERS = {"system": "System", "user": "Human", "assistant": "Assistant"}
ASSISTANT_TURN = "\n\nAssistant:"


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def use_chat_template(tokenizer: Any, mode: str, *, key: str, model: str | None = None) -> bool:
    """Whether `mode` (auto/always/never, config key `key`) formats with this tokenizer's chat template."""
    has = has_chat_template(tokenizer)
    if mode == "always" and not has:
        who = f"{model}: " if model else ""
        raise ChatTemplateError(f"{who}{key} is always but the tokenizer has no chat template; set {key}: auto "
                                "(a plain Human:/Assistant: transcript when there is none) or never, or use a chat "
                                "model")
    return has and mode != "never"


def render_transcript(messages: list[dict]) -> str:
    """Messages as an HH transcript: `"\\n\\nHuman: hi\\n\\nAssistant: hello"`."""
    return "".join(f"\n\n{_SPEAKERS.get(m['role'], m['role'].title())}: {m['content']}" for m in messages)


def plain_prompt(prompt: Any) -> str:
    """A prompt in the plain format: a string as is, messages as a transcript ending with an open assistant turn."""
    return prompt if isinstance(prompt, str) else render_transcript(prompt) + ASSISTANT_TURN


def plain_response(response: Any) -> str:
    """A response in the plain format: a string as is, assistant messages joined after one space."""
    if isinstance(response, str):
        return response
    return " " + "\n\n".join(m["content"] for m in response)


def format_prompt(tokenizer: Any, prompt: Any, mode: str, *, key: str, system_prompt: str | None = None,
                  model: str | None = None) -> str:
    """The text a model continues with its answer: chat template with a generation prompt, or the plain form.

    `prompt`: a string (one user turn; in the plain form used as is, as TRL's standard rows are) or messages
    ending with a user turn (in the plain form: the transcript with an open assistant turn)."""
    if use_chat_template(tokenizer, mode, key=key, model=model):
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
        if system_prompt:
            messages = [{"role": "system", "content": system_prompt}, *messages]
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    if system_prompt:
        prompt = [{"role": "system", "content": system_prompt},
                  *([{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt)]
    return plain_prompt(prompt)
