"""Training backends. Subclassing a TRL/transformers Trainer happens here and nowhere else.

`hf.py` holds what every Trainer-based method shares: TrainingArguments built from our config sections with
device-aware precision, the callback that streams metrics into the run directory and stops on NaN, and
resume from the run's last complete checkpoint.
"""
