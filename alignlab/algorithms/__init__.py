"""Algorithms: one file per method (rm, dpo, kto, ppo, grpo, ...), the same word as the CLI command and the
config kind. Each builds its trainer from plain arguments and runs it inside a run directory.

Import the submodule you need (`from alignlab.algorithms import rm`): this package imports nothing itself.
"""
