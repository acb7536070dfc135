"""`describe_model`: a model summary from config and file headers, and the light import of alignlab.models."""

from __future__ import annotations

import subprocess
import sys

from alignlab.models import describe_model
from alignlab.models.info import safetensors_parameters


def test_describes_the_tiny_policy_and_reward(tiny_models):
    policy = describe_model(tiny_models.policy_dir)
    assert policy["architecture"] == "LlamaForCausalLM"
    assert policy["parameters"] == f"{tiny_models.policy_parameters / 1e6:.2f}M ({tiny_models.policy_parameters:,})"
    assert policy["vocab_size"] == 2048 and policy["layers"] == 2
    assert policy["chat_template"] == "yes, with {% generation %} markers"
    assert (policy["pad_token"], policy["weights"]) == ("<|pad|>", "safetensors")

    reward = describe_model(tiny_models.reward_dir)
    assert reward["architecture"] == "LlamaForSequenceClassification"
    assert (reward["num_labels"], reward["pad_token_id"]) == (1, 2)


def test_parameter_count_from_safetensors_headers_is_exact(tiny_models):
    assert safetensors_parameters(tiny_models.policy_dir) == tiny_models.policy_parameters
    assert safetensors_parameters(tiny_models.reward_dir) == tiny_models.reward_parameters


def test_importing_the_models_package_and_cli_does_not_import_torch():
    code = (
        "import sys, alignlab.models, alignlab.cli.models; "
        "heavy = [m for m in ('torch', 'transformers', 'tokenizers') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
