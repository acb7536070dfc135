"""Backends: train/ (TRL and transformers trainers, glued to run directories), later rollout/ and lifecycle/."""
