"""One file per evaluation suite; each registers in `alignlab.eval.suite.SUITES` under its file name.

bias: bbq, crows_pairs, stereoset · safety: xstest, harmbench, advbench, simple_safety_tests · toxicity ·
multilingual: multijail, xsafety · quality: perplexity, mt_bench · reward_model: reward_bench · winrate.
`_refusal.py` and `_parity.py` hold what the refusal and the two-language suites share.
Arabic and its dialects (`configs/eval/arabic.yaml`): arabic_dialects, dialect_safety (multilingual), camel, acva
(bias), arabic_toxicity (toxicity); `_arabic.py` holds their Wilson/Newcombe/paired-gap helpers.
"""
