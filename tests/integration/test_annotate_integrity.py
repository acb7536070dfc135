"""Integrity of the annotation workspace against a real Argilla server: private state, no answer attached to
text nobody saw, fast failure when the local server is down, one rule for where things go."""

from __future__ import annotations

import json
import stat

import pytest

from alignlab.annotation import testing
from alignlab.annotation.pull import pull
from alignlab.annotation.push import push
from alignlab.annotation.state import LOCAL_FILE
from alignlab.config.annotate import AnnotateConfig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def argilla(tmp_path_factory):
    return testing.shared_server(tmp_path_factory.getbasetemp())


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def one_line_error(result):
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def write_rows(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_the_server_database_and_credentials_are_private_and_looser_modes_are_tightened(argilla, cli):
    root = argilla.server.state_dir
    database = root / "server" / "argilla.db"
    # The database holds every user's API key in plain text: the server created it under umask 077.
    assert mode(database) == 0o600 and mode(root / "credentials.json") == 0o600
    assert mode(root) == mode(root / "server") == 0o700
    wal = root / "server" / "argilla.db-wal"
    assert not wal.exists() or mode(wal) == 0o600
    database.chmod(0o644)  # as an older alignlab, or a copy, left them
    (root / "server").chmod(0o755)
    result = cli("annotate", "up", *argilla.overrides)
    assert result.returncode == 0, result.stderr
    (report,) = [line for line in result.stdout.splitlines() if "tightened permissions" in line]
    assert "server/argilla.db 0644 -> 0600" in report and "server 0755 -> 0700" in report
    assert mode(database) == 0o600 and mode(root / "server") == 0o700
    (root / "credentials.json").chmod(0o640)
    status = cli("annotate", "status", *argilla.overrides)
    assert status.returncode == 0 and "credentials.json 0640 -> 0600" in status.stdout
    assert mode(root / "credentials.json") == 0o600


def test_changed_text_under_an_answered_id_is_refused_or_published_as_a_new_version(argilla, cli, tmp_path):
    rows = [{"id": f"st{i}", "prompt": f"Prompt {i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(3)]
    path = write_rows(tmp_path / "rows.jsonl", rows)
    config = AnnotateConfig.model_validate(argilla.config(
        dataset={"name": "stale-test", "template": "pairwise"}, annotators=["alice", "bob"],
        push={"path": str(path)}, pull={"output_dir": str(tmp_path / "out")}))
    summary = push(config, echo=lambda *_: None)
    owner = argilla.owner()
    before = testing.records_by_external_id(owner, summary.dataset_id)
    for user in ("alice", "bob"):
        testing.submit(testing.login(argilla, user), before["st0"]["id"], {"preference": {"value": "a"}})

    rows[0]["rejected"] = "an edited rejected text"  # same id, new text, two answers on the old one
    write_rows(path, rows)
    base = ["annotate", "push", *argilla.overrides, "dataset.name=stale-test", f"push.path={path}",
            "annotators=[alice,bob]"]
    line = one_line_error(cli(*base, "push.on_changed=refuse"))
    assert "1 records changed text after annotators answered them ('st0'); nothing was sent" in line
    assert "push.on_changed=new_version" in line
    assert testing.records_by_external_id(owner, summary.dataset_id)["st0"]["fields"] == before["st0"]["fields"]

    result = cli(*base)  # the default: a new version
    assert result.returncode == 0, result.stderr
    assert "1 answered records changed text: published as new versions (st0 -> st0@" in result.stdout
    after = testing.records_by_external_id(owner, summary.dataset_id)
    assert len(after) == 4 and after["st0"]["fields"] == before["st0"]["fields"]
    assert len(after["st0"]["responses"]) == 2
    (version,) = [ext for ext in after if ext.startswith("st0@")]
    assert "an edited rejected text" in after[version]["fields"].values() and not after[version]["responses"]
    assert "sent 0" in cli(*base).stdout  # idempotent: the version is not sent again

    testing.submit(testing.login(argilla, "alice"), after[version]["id"], {"preference": {"value": "b"}})
    pull(config, echo=lambda *_: None)
    written = {json.loads(line)["id"]: json.loads(line) for line in (tmp_path / "out" / "records.jsonl").open()}
    old, new = written["st0"], written[version]
    assert {old["chosen"], old["rejected"]} == {"good 0", "bad 0"} and old["annotators"] == ["alice", "bob"]
    assert "an edited rejected text" in (new["chosen"], new["rejected"]) and new["annotators"] == ["alice"]
    assert new["agreement"] is None and new["metadata"]["version_of"] == "st0"
    contents = {}
    for line in (tmp_path / "out" / "annotations.jsonl").open():
        answer = json.loads(line)
        contents.setdefault(answer["record"], set()).add(answer["content"])
    assert len(contents["st0"]) == 1 and contents["st0"] != contents[version]  # each answer, its own text


def test_a_stopped_local_server_fails_at_once_and_up_remembers_its_port(argilla, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNLAB_ARGILLA_API_KEY", "a-key-of-a-stopped-server")
    stopped = tmp_path / "stopped-state"
    stopped.mkdir()
    port = testing.free_port()
    (stopped / LOCAL_FILE).write_text(json.dumps({"url": f"http://127.0.0.1:{port}"}))  # `up`, then `down`
    rows = write_rows(tmp_path / "rows.jsonl", [{"prompt": "p", "chosen": "a", "rejected": "b"}])
    # With 10 minutes of retries allowed, only the up-front check can answer before the subprocess timeout.
    result = cli("annotate", "push", f"server.state_dir={stopped}", "dataset.name=d", f"push.path={rows}",
                 "server.retry_max_s=600", timeout=120)
    line = one_line_error(result)
    assert f"no Argilla server answers at http://127.0.0.1:{port} (connection refused)" in line
    assert "alignlab annotate up" in line and "a-key-of-a-stopped-server" not in line

    # The shared server was started on a random port by `up`; a config that leaves the port at its default
    # finds it through the state folder (no 401 from whatever listens on 6900).
    recorded = json.loads((argilla.server.state_dir / LOCAL_FILE).read_text())
    assert recorded == {"url": argilla.url}
    monkeypatch.delenv("ALIGNLAB_ARGILLA_API_KEY")
    unset = [override for override in argilla.overrides if not override.startswith("server.port=")]
    status = cli("annotate", "status", *unset)
    assert status.returncode == 0 and f"Argilla server {argilla.url}: healthy" in status.stdout


def test_pull_writes_relative_to_the_working_folder_for_every_template(argilla, cli, tmp_path):
    rows = [{"id": f"wf{i}", "prompt": f"P{i}", "responses": ["x", "y", "z"]} for i in range(2)]
    path = write_rows(tmp_path / "ranking.jsonl", rows)
    config = AnnotateConfig.model_validate(argilla.config(
        dataset={"name": "where-test", "template": "ranking"}, annotators=["alice"], push={"path": str(path)}))
    summary = push(config, echo=lambda *_: None)
    alice = testing.login(argilla, "alice")
    for record in testing.records_by_external_id(argilla.owner(), summary.dataset_id).values():
        ranking = [{"value": f"response_{p + 1}", "rank": p + 1} for p in range(3)]
        testing.submit(alice, record["id"], {"ranking": {"value": ranking}})
    work = tmp_path / "work"
    work.mkdir()
    result = cli("annotate", "pull", *argilla.overrides, "dataset.name=where-test", "dataset.template=ranking",
                 "annotators=[alice]", cwd=work)
    assert result.returncode == 0, result.stderr
    out = work / "preference_data" / "annotated" / "where-test"
    assert str(out) in result.stdout and len((out / "records.jsonl").read_text().splitlines()) == 2
    relative = cli("annotate", "pull", *argilla.overrides, "dataset.name=where-test", "dataset.template=ranking",
                   "annotators=[alice]", "pull.output_dir=mine", cwd=work)
    assert relative.returncode == 0 and (work / "mine" / "records.jsonl").is_file()
