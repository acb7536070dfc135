"""Errors a user can cause, reported by the CLI as one line and a non-zero exit.

Raise a subclass of `AlignlabError` for anything the user can fix (a bad config key, a missing file, a
malformed row): the message is the whole report, so it says what went wrong, where (file and line, or the
config key) and how to fix it. Our own bugs raise ordinary exceptions and keep their traceback.
"""

from __future__ import annotations


class AlignlabError(Exception):
    """A user-caused error; `str(err)` is the one line the CLI prints."""

    exit_code = 1


class ConfigError(AlignlabError):
    """A config file or override that does not validate."""

    exit_code = 2


class DataError(AlignlabError):
    """A data file that cannot be read or does not hold the expected records."""


class ModelLoadError(AlignlabError):
    """A model path or hub id that cannot be loaded."""


class RunError(AlignlabError):
    """A run directory that cannot be created or resumed as asked."""


class ChatTemplateError(ModelLoadError):
    """A config asks for the tokenizer's chat template (`chat_template: always`) and the tokenizer has none."""
