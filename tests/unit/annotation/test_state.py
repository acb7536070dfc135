"""State folder: private credentials, environment first, which server to talk to."""

from __future__ import annotations

import json
import stat

from alignlab.annotation.state import CONNECTION_FILE, Credentials, Paths, resolve_url, write_private_json
from alignlab.config.annotate import ServerSection


def test_generated_secrets_are_private_and_stable(tmp_path, monkeypatch):
    monkeypatch.delenv("ALIGNLAB_ARGILLA_API_KEY", raising=False)
    monkeypatch.delenv("ALIGNLAB_ARGILLA_PASSWORD", raising=False)
    server = ServerSection(state_dir=tmp_path)
    credentials = Credentials(server, Paths.of(server))
    owner = credentials.owner(create=True)
    assert len(owner.api_key) > 20 and len(owner.password) >= 8
    assert stat.S_IMODE(credentials.path.stat().st_mode) == 0o600
    assert credentials.owner().api_key == owner.api_key  # read back, not regenerated
    assert credentials.auth_secret() == credentials.auth_secret()
    assert owner.key_source == f"the key in {credentials.path}"


def test_environment_wins_and_is_not_written(tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNLAB_ARGILLA_API_KEY", "from-env-key")
    server = ServerSection(state_dir=tmp_path)
    credentials = Credentials(server, Paths.of(server))
    owner = credentials.owner(create=True)
    assert owner.api_key == "from-env-key" and owner.key_source == "$ALIGNLAB_ARGILLA_API_KEY"
    assert "from-env-key" not in credentials.path.read_text()


def test_annotator_passwords_env_or_generated(tmp_path, monkeypatch):
    server = ServerSection(state_dir=tmp_path, annotator_password_env="TEST_ANNOTATOR_PASSWORD")
    credentials = Credentials(server, Paths.of(server))
    monkeypatch.delenv("TEST_ANNOTATOR_PASSWORD", raising=False)
    password, generated = credentials.annotator_password("alice")
    assert generated and credentials.annotator_password("alice") == (password, True)
    monkeypatch.setenv("TEST_ANNOTATOR_PASSWORD", "shared-initial")
    assert credentials.annotator_password("bob") == ("shared-initial", False)


def test_url_resolution_order(tmp_path):
    server = ServerSection(state_dir=tmp_path, port=7001)
    paths = Paths.of(server)
    assert resolve_url(server, paths) == "http://127.0.0.1:7001"
    write_private_json(tmp_path / CONNECTION_FILE, {"url": "https://argilla.example.org/"})
    assert resolve_url(server, paths) == "https://argilla.example.org"
    explicit = ServerSection(state_dir=tmp_path, url="http://other:6900")
    assert resolve_url(explicit, Paths.of(explicit)) == "http://other:6900"


def test_sync_folders_differ_per_server_and_dataset(tmp_path):
    paths = Paths.of(ServerSection(state_dir=tmp_path))
    assert paths.sync("http://a", "w", "d") != paths.sync("http://b", "w", "d")
    assert paths.sync("http://a", "w", "d").parent == tmp_path / "sync"


def test_up_records_its_url_and_later_commands_in_that_folder_use_it(tmp_path):
    from alignlab.annotation.state import LOCAL_FILE, record_local_url, recorded_local

    default = ServerSection(state_dir=tmp_path)
    paths = Paths.of(default)
    assert resolve_url(default, paths) == "http://127.0.0.1:6900"
    record_local_url(paths, "http://127.0.0.1:7123")  # `annotate up server.port=7123`
    assert json.loads((tmp_path / LOCAL_FILE).read_text()) == {"url": "http://127.0.0.1:7123"}
    assert resolve_url(default, paths) == "http://127.0.0.1:7123"
    assert recorded_local(default, paths).port == 7123  # a second `up` finds the same server
    other = ServerSection(state_dir=tmp_path, port=7200)  # a config that names another port wins
    assert resolve_url(other, paths) == "http://127.0.0.1:7200" and recorded_local(other, paths).port == 7200


def test_secret_files_and_their_folders_are_made_private_and_reported(tmp_path):
    from alignlab.annotation.state import secure_state

    root = tmp_path / "state"
    (root / "server" / "logs").mkdir(parents=True)
    database = root / "server" / "argilla.db"
    database.write_text("api keys in plain text")
    (root / "server" / "argilla.db-wal").write_text("")
    log = root / "server" / "logs" / "server.log"
    log.write_text("no secrets")
    for path, mode in ((root, 0o755), (root / "server", 0o755), (database, 0o644),
                       (root / "server" / "argilla.db-wal", 0o664), (log, 0o644)):
        path.chmod(mode)
    paths = Paths.of(ServerSection(state_dir=root))
    report = secure_state(paths)
    assert report.startswith(f"tightened permissions in {root}") and "\n" not in report
    assert "server/argilla.db 0644 -> 0600" in report and "server 0755 -> 0700" in report
    assert ". 0755 -> 0700" in report and "server/argilla.db-wal 0664 -> 0600" in report
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE(root.stat().st_mode) == stat.S_IMODE((root / "server").stat().st_mode) == 0o700
    assert stat.S_IMODE(log.stat().st_mode) == 0o644  # no secret in it; the 0700 folders above guard it
    assert secure_state(paths) is None  # nothing left to tighten: nothing to report


def test_a_stopped_local_server_fails_at_once_with_one_line(tmp_path, monkeypatch):
    import pytest

    from alignlab.annotation.errors import ServerUnreachable
    from alignlab.annotation.server.redis import free_port
    from alignlab.annotation.state import api_for

    monkeypatch.setenv("ALIGNLAB_ARGILLA_API_KEY", "some-key")
    port = free_port()
    server = ServerSection(state_dir=tmp_path, port=port, retry_max_s=600)  # retries would take 10 minutes
    with pytest.raises(ServerUnreachable) as err:
        api_for(server)
    message = str(err.value)
    assert message.startswith(f"no Argilla server answers at http://127.0.0.1:{port} (connection refused)")
    assert "local server of" in message and "alignlab annotate up" in message and "some-key" not in message
