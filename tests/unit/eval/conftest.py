"""Shared fixtures for the evaluation tests: one nano tiny-model build per session, loaded once.

Every test here runs torch with one intra-op thread (restored afterwards): the models are tiny, so one thread
is as fast on a quiet machine, and on a busy shared 2-core machine two spinning OpenMP threads made the same
test up to ten times slower.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from alignlab.models.tiny import TinyModels, build_tiny_models


@contextmanager
def one_thread() -> Iterator[None]:
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    with one_thread():
        yield


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    with one_thread():
        return build_tiny_models(tmp_path_factory.mktemp("eval_tiny") / "nano", size="nano", seed=0)


@pytest.fixture(scope="session")
def tiny_lm(tiny: TinyModels):
    """The tiny policy as suites see it (chat template on, batch size 4)."""
    from alignlab.eval.lm import LanguageModel

    return LanguageModel.load(str(tiny.policy_dir), batch_size=4)


@pytest.fixture(scope="session")
def context(tiny: TinyModels):
    """An EvalContext on the tiny policy, its reward model as judge and itself as baseline; short generations."""
    from alignlab.backends.rollout import SamplingParams
    from alignlab.eval.context import EvalContext, ModelRef

    policy = ModelRef(str(tiny.policy_dir))
    return EvalContext(model=policy, judge_ref=ModelRef(str(tiny.reward_dir)), baseline_ref=policy, batch_size=4,
                       sampling=SamplingParams(max_new_tokens=6), judge_max_new_tokens=8)
