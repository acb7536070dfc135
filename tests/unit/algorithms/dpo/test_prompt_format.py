"""A model without a chat template is evaluated in the format it was trained on (one prompt formatter)."""

from __future__ import annotations

import shutil

from tests.unit.algorithms.dpo.conftest import dpo_config

RECORD = {"prompt": [{"role": "user", "content": "Tell me a happy story about a cat."}],
          "chosen": [{"role": "assistant", "content": "A kind cat found a warm, sunny garden."}],
          "rejected": [{"role": "assistant", "content": "The cat was sad."}]}


def test_template_less_model_is_evaluated_in_its_training_prompt_format(policy, tmp_path):
    from alignlab.algorithms.dpo import train_dpo
    from alignlab.algorithms.preference_data import Encoder
    from alignlab.data import to_trl
    from alignlab.eval.lm import LanguageModel
    from alignlab.models import load_tokenizer

    plain = tmp_path / "plain"
    shutil.copytree(policy, plain)
    (plain / "chat_template.jinja").unlink()
    config = dpo_config(tmp_path, plain, train={"max_steps": 2, "save_steps": 2, "logging_steps": 1})
    run = train_dpo(config, echo=lambda _line: None)
    trained = run.summary()["model"]
    tokenizer = load_tokenizer(trained)
    assert not tokenizer.chat_template

    encoder = Encoder.for_data(tokenizer, config.data)  # data.chat_template: auto -> the plain transcript
    row = to_trl(RECORD, "pairwise", encoder.style)
    prompt_ids, _answers = encoder.encode(row["prompt"], [row["chosen"], row["rejected"]], "record")
    training_prompt = tokenizer.decode(prompt_ids, skip_special_tokens=True)

    evaluated = LanguageModel.load(trained, chat_template="auto").chat_prompt(RECORD["prompt"])
    assert evaluated == training_prompt
    assert evaluated == "\n\nHuman: Tell me a happy story about a cat.\n\nAssistant:"
