"""alignlab: preference data, reward models, policy optimisation, evaluation and reports in one framework.

`import alignlab` is cheap: it imports no torch, transformers or optional extras. The Python API lives in the
submodules (`alignlab.data`, `alignlab.models`, `alignlab.config`, `alignlab.runs`) and is what the CLI calls.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "evaluate"]


def evaluate(*args, **kwargs):
    """Run evaluation suites (lazy import; see `alignlab.eval.runner.evaluate`)."""
    from alignlab.eval.runner import evaluate as _evaluate

    return _evaluate(*args, **kwargs)
