"""Losses: pure functions, tensors in and tensors out, each beside the paper equation it implements.

Import the submodule you need (`from alignlab.losses.reward import bradley_terry_loss`): this package imports
nothing itself, so one method's losses never pull in another's.
"""
