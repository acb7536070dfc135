"""Annotation workspace config (`alignlab annotate up|down|status|connect|push|pull`).

    server:    where the Argilla server is (or will be started), its state folder, how to authenticate
    dataset:   name, workspace, template and its options, overlap (`min_submitted`)
    annotators: usernames created on push (passwords from the environment or generated)
    push:      the records to send
    pull:      where the annotated preference data and agreement statistics go

Secrets never live in a config file: the owner API key and passwords come from the environment variables
named here, or from a private file in `server.state_dir` that `annotate up` creates for a local server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from alignlab.config.base import StrictModel
from alignlab.data.records import DEFAULT_ATTRIBUTES

TemplateName = Literal["pairwise", "ranking", "ratings", "binary", "safety", "arabic_pairwise"]
# Argilla accepts names with letters, digits, dashes and underscores.
ARGILLA_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
USERNAME = r"^[a-z0-9][a-z0-9_-]*$"


class ServerSection(StrictModel):
    url: str | None = Field(None, description="An existing Argilla server, e.g. https://argilla.example.org; "
                                              "empty: the local server that `annotate up` starts.")
    host: str = Field("127.0.0.1", description="Local server: address to listen on (loopback by default).")
    port: int = Field(6900, ge=1, le=65535, description="Local server: port.")
    state_dir: Path = Field(Path(".alignlab/argilla"),
                            description="Local server data (SQLite, Redis, logs, PIDs, private credentials) and "
                                        "sync state (resumable push/pull).")
    venv_dir: Path | None = Field(None, description="The server's own virtual environment (default: "
                                                    "$ALIGNLAB_ARGILLA_VENV or "
                                                    "~/.cache/alignlab/argilla-server-2.8.0).")
    database_url: str | None = Field(None, description="PostgreSQL URL for the local server (default: SQLite in "
                                                       "state_dir).")
    elasticsearch_url: str | None = Field(None, description="Use this Elasticsearch 8 instead of alignlab's "
                                                            "embedded search engine.")
    redis_url: str | None = Field(None, description="An existing Redis (default: one started in state_dir).")
    owner: str = Field("alignlab", pattern=USERNAME, description="Owner account of the local server.")
    api_key_env: str = Field("ALIGNLAB_ARGILLA_API_KEY", description="Environment variable with the owner API key.")
    password_env: str = Field("ALIGNLAB_ARGILLA_PASSWORD",
                              description="Environment variable with the owner's web-UI password.")
    annotator_password_env: str = Field("ALIGNLAB_ANNOTATOR_PASSWORD",
                                        description="Environment variable with the initial password of new "
                                                    "annotators (default: a generated one per annotator).")
    workers: int = Field(1, ge=1, le=8, description="Background job workers of the local server.")
    start_timeout_s: float = Field(240.0, gt=0, description="How long `annotate up` waits for a healthy server.")
    request_timeout_s: float = Field(120.0, gt=0, description="Timeout of one HTTP request.")
    retry_max_s: float = Field(60.0, ge=0, description="How long transient errors (connection refused, 502-504) "
                                                       "are retried with back-off before giving up.")


class DatasetSection(StrictModel):
    name: str = Field(..., pattern=ARGILLA_NAME, description="Dataset name in Argilla.")
    workspace: str = Field("alignlab", pattern=ARGILLA_NAME)
    template: TemplateName = Field("pairwise", description="pairwise | ranking | ratings | binary | safety | "
                                                              "arabic_pairwise.")
    guidelines: str | None = Field(None, description="Annotation guidelines (Markdown); default: the template's.")
    min_submitted: int = Field(1, ge=1, description="Submitted responses a record needs to leave the queue "
                                                    "(overlap: 2 or more gives agreement statistics).")
    attributes: list[str] = Field(default_factory=lambda: list(DEFAULT_ATTRIBUTES),
                                  description="ratings template: attributes rated on `scale`.")
    scale: tuple[int, int] = Field((0, 4), description="ratings template: lowest and highest rating.")
    rationale: bool = Field(True, description="Ask for an optional free-text rationale.")
    suggestions: bool = Field(True, description="Pre-fill answers from reward-model scores or existing labels "
                                                "(turn off for blind human evaluation).")
    show_models: bool = Field(False, description="Show model names to annotators (hidden by default: blind).")
    max_responses: int = Field(8, ge=2, le=50, description="ranking template: most responses per record.")

    @model_validator(mode="after")
    def _check(self) -> DatasetSection:
        low, high = self.scale
        if not 0 <= low < high <= 10:
            raise ValueError(f"scale {self.scale}: need 0 <= low < high <= 10 (Argilla ratings go from 0 to 10)")
        if len(set(self.attributes)) != len(self.attributes) or not self.attributes:
            raise ValueError("attributes must be a non-empty list of distinct names")
        return self


class PushSection(StrictModel):
    path: str | None = Field(None, description="Records to annotate (JSONL/CSV/Parquet; canonical format or "
                                               "candidates: prompt + responses [+ models, scores]).")
    format: Literal["auto", "pairwise", "ranking", "ratings", "unpaired", "candidates"] = "auto"
    limit: int | None = Field(None, ge=1, description="Push only the first N records.")
    seed: int = Field(0, ge=0, description="Seed of the per-record response order (position-bias control).")
    batch_size: int = Field(500, ge=1, le=500, description="Records per request (the server takes at most 500).")
    on_changed: Literal["new_version", "refuse"] = Field(
        "new_version", description="A record whose text changed after annotators answered it (same id): "
        "new_version publishes the new text as a new record `<id>@<hash>` and keeps the old answers with the "
        "old text; refuse stops the push before anything is sent.")


class PullSection(StrictModel):
    output_dir: Path | None = Field(None, description="Where annotated data goes (default: "
                                                      "preference_data/annotated/<dataset name>); relative "
                                                      "paths start at the working folder, for every template.")
    min_responses: int = Field(1, ge=1, description="Records with fewer submitted responses are left out.")
    removed_annotators: Literal["error", "skip", "keep"] = Field(
        "error", description="Responses by users who are no longer annotators: stop, drop them, or count them.")
    trl_style: Literal["standard", "conversational"] = "standard"
    page_size: int = Field(1000, ge=1, le=1000, description="Records per request (the server takes at most 1,000).")
    bulk_read: bool = Field(True, description="Read through the local server's bulk endpoint where it has one "
                                              "(off: the records search every Argilla server has).")
    workers: int = Field(1, ge=1, le=4, description="Pages requested at the same time from a server without "
                                                    "alignlab's bulk read (helps when it runs several workers).")
    bootstrap_resamples: int = Field(2000, ge=100)
    seed: int = Field(0, ge=0, description="Seed of the bootstrap confidence intervals.")


class AnnotateConfig(StrictModel):
    """The Argilla annotation workspace: server, dataset template, annotators, push and pull."""

    server: ServerSection = Field(default_factory=ServerSection)
    dataset: DatasetSection | None = None
    annotators: list[str] = Field(default_factory=list, description="Annotator usernames (lowercase).")
    push: PushSection = Field(default_factory=PushSection)
    pull: PullSection = Field(default_factory=PullSection)

    @model_validator(mode="after")
    def _check_annotators(self) -> AnnotateConfig:
        import re

        bad = [name for name in self.annotators if not re.match(USERNAME, name)]
        if bad:
            raise ValueError(f"annotator {bad[0]!r}: use lowercase letters, digits, '-' and '_'")
        if len(set(self.annotators)) != len(self.annotators):
            raise ValueError("annotators lists a username twice")
        return self
