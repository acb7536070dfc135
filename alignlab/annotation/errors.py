"""Errors a user can cause while working with the Argilla annotation workspace (one line each on the CLI)."""

from __future__ import annotations

from alignlab.errors import AlignlabError


class AnnotationError(AlignlabError):
    """Anything about the annotation workspace that the user can fix."""


class ServerUnreachable(AnnotationError):
    """No Argilla server answers at the configured address (not started, stopped, wrong URL)."""


class AuthenticationFailed(AnnotationError):
    """The server rejected the API key or password."""


class DatasetConflict(AnnotationError):
    """A dataset of that name exists with settings other than the template's."""


class RemovedAnnotator(AnnotationError):
    """Responses come from a user who is no longer an annotator of the dataset."""


class ServerSetupError(AnnotationError):
    """The local server could not be installed or started (the message says which step and where the log is)."""
