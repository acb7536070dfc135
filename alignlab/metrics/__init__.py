"""Metrics shared by reward-model evaluation, evaluation suites and reports.

Proportions with Wilson intervals and exact binomial tests live in `alignlab.data.stats` (pure Python, for
audits); resampling statistics live here.
"""

from alignlab.metrics.bootstrap import BootstrapResult, bootstrap_ci, paired_bootstrap_diff

__all__ = ["BootstrapResult", "bootstrap_ci", "paired_bootstrap_diff"]
