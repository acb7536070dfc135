"""On a CUDA GPU (bf16 where supported, chosen by the shared Trainer glue): training learns, and the saved
model scores the same on the GPU through alignlab as on the CPU through plain transformers."""

from __future__ import annotations

import pytest

from .conftest import make_config


@pytest.mark.gpu
def test_trains_on_gpu_and_scores_match_cpu(tiny, tmp_path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from alignlab.algorithms.rm import train
    from alignlab.models.reward import RewardModel

    result = train(make_config(tmp_path, tiny.policy_dir, train={"max_steps": 40}), echo=lambda _line: None)
    assert result.summary["eval"]["accuracy"] >= 0.75
    rm = RewardModel.load(result.model_dir, device="cuda")
    assert next(rm.members[0].parameters()).is_cuda
    prompt, response = [{"role": "user", "content": "Hi"}], [{"role": "assistant", "content": "Tom saw a dog."}]
    gpu_reward = rm.score([prompt], [response]).reward[0]
    tokenizer = AutoTokenizer.from_pretrained(result.model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(result.model_dir).eval()
    inputs = tokenizer(tokenizer.apply_chat_template(prompt + response, tokenize=False), add_special_tokens=False,
                       return_tensors="pt")
    with torch.inference_mode():
        cpu_reward = model(**inputs).logits[0, 0].item()
    assert gpu_reward == pytest.approx(cpu_reward, abs=1e-3)
