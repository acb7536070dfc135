"""The Argilla annotation workspace: a local Argilla 2.8 server, preference-data templates, idempotent sync.

    from alignlab.annotation import up, down, push, pull
    from alignlab.config import load_config
    from alignlab.config.annotate import AnnotateConfig

    config = load_config("configs/annotate/pairwise.yaml", AnnotateConfig)
    up(config.server)            # server in its own venv, Redis, worker, embedded search engine
    push(config)                 # records -> dataset from a template (pairwise, ranking, ratings, binary, safety)
    summary = pull(config)       # answers -> preference_data/annotated/<dataset>/ + agreement statistics
    down(config.server)

Modules: `server/` (launcher, install, processes, Redis; `server/engine/` runs inside the server's venv),
`templates/`, `push`, `pull`, `stats`, `workspace`, `client` (REST with retries), `state` (paths, secrets).
Agreement maths lives in `alignlab.metrics.agreement`. Importing this package imports nothing heavy.
"""

from __future__ import annotations

from typing import Any

__all__ = ["down", "install_server", "pull", "push", "status", "up"]


def up(server: Any, **kwargs: Any):
    from alignlab.annotation.server.launcher import up as _up

    return _up(server, **kwargs)


def down(server: Any):
    from alignlab.annotation.server.launcher import down as _down

    return _down(server)


def status(server: Any):
    from alignlab.annotation.server.launcher import status as _status

    return _status(server)


def install_server(server: Any, **kwargs: Any):
    from alignlab.annotation.server.launcher import install_server as _install

    return _install(server, **kwargs)


def push(config: Any, **kwargs: Any):
    from alignlab.annotation.push import push as _push

    return _push(config, **kwargs)


def pull(config: Any, **kwargs: Any):
    from alignlab.annotation.pull import pull as _pull

    return _pull(config, **kwargs)
