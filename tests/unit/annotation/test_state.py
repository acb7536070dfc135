"""State folder: private credentials, environment first, which server to talk to."""

from __future__ import annotations

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
