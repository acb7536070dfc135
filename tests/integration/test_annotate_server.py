"""The annotation workspace against a real Argilla 2.8 server (started once per session, no mocks).

The server runs from its own stamped virtual environment (`alignlab annotate install`, the setup step) with
alignlab's embedded search engine; each test uses its own dataset.
"""

from __future__ import annotations

import json

import pytest

from alignlab.annotation import testing
from alignlab.annotation.errors import AuthenticationFailed
from alignlab.annotation.pull import pull
from alignlab.annotation.push import push
from alignlab.annotation.state import Credentials, Paths
from alignlab.config.annotate import AnnotateConfig
from alignlab.data.validation import load_records

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def argilla(tmp_path_factory):
    server = testing.shared_server(tmp_path_factory.getbasetemp())
    yield server
    testing.stop_shared_server()


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def candidates(n, prefix="c", models=("policy-a", "policy-b")):
    return [{"id": f"{prefix}{i}", "prompt": f"Question {i}?", "responses": [f"first {i}", f"second {i}"],
             "models": list(models), "scores": [0.2, 0.7], "category": f"cat{i % 3}"} for i in range(n)]


def make_config(argilla, tmp_path, name, rows, template="pairwise", annotators=("alice", "bob"), **dataset):
    path = write_jsonl(tmp_path / f"{name}.jsonl", rows)
    return AnnotateConfig.model_validate(argilla.config(
        dataset={"name": name, "template": template, **dataset}, annotators=list(annotators),
        push={"path": str(path)}, pull={"output_dir": str(tmp_path / f"{name}-out")}))


def one_line_error(result):
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_up_again_is_a_no_op_and_status_is_healthy(argilla, cli):
    result = cli("annotate", "up", *argilla.overrides)
    assert result.returncode == 0, result.stderr
    assert "healthy (search engine: alignlab-sql)" in result.stdout
    assert "starting" not in result.stdout  # everything was already running
    status = cli("annotate", "status", *argilla.overrides)
    assert status.returncode == 0 and "healthy" in status.stdout and "server  pid" in status.stdout


def test_pushing_twice_creates_no_duplicates(argilla, cli, tmp_path):
    path = write_jsonl(tmp_path / "dup.jsonl", candidates(120, "dup"))
    args = ["annotate", "push", *argilla.overrides, "dataset.name=dup-test", f"push.path={path}",
            "push.batch_size=50", "annotators=[alice]"]
    first = cli(*args)
    assert first.returncode == 0, first.stderr
    assert "120 records; sent 120, already there 0" in first.stdout
    assert "/annotation-mode" in first.stdout
    again = cli(*args)
    assert "sent 0, already there 120" in again.stdout
    for ledger in (argilla.server.state_dir / "sync").glob("*dup-test*/push-ledger.jsonl"):
        ledger.unlink()  # without the ledger every record is sent again: upserts, not inserts
    resent = cli(*args)
    assert "sent 120, already there 0" in resent.stdout
    api = argilla.owner()
    dataset = testing.dataset_of(argilla, "dup-test")
    assert api.get(f"/api/v1/datasets/{dataset['id']}/progress")["total"] == 120
    assert len(testing.records_by_external_id(api, dataset["id"])) == 120


# Votes in terms of the input's responses ("0" first, "1" second): the hand-computed example of
# tests/unit/annotation/test_stats.py.
VOTES = {"v1": ("0", "0"), "v2": ("0", "1"), "v3": ("1", "1"), "v4": ("tie", "tie")}


def _as_position(intended: str, order: list[int]) -> str:
    return "tie" if intended == "tie" else ("a" if order[0] == int(intended) else "b")


def test_annotators_submit_through_rest_and_pull_computes_agreement(argilla, tmp_path):
    rows = [{"id": rid, "prompt": f"Prompt {rid}", "chosen": f"good {rid}", "rejected": f"bad {rid}"}
            for rid in VOTES] + [{"id": "v5", "prompt": "Unanswered", "chosen": "x", "rejected": "y"}]
    config = make_config(argilla, tmp_path, "agreement-test", rows, min_submitted=2)
    summary = push(config)
    assert summary.records == 5 and summary.created and set(summary.new_annotators) <= {"alice", "bob"}
    records = testing.records_by_external_id(argilla.owner(), summary.dataset_id)
    for column, user in enumerate(("alice", "bob")):
        api = testing.login(argilla, user)
        assert testing.annotator_queue(api, summary.dataset_id)["total"] == 5
        for rid, votes in VOTES.items():
            order = json.loads(records[rid]["metadata"]["alignlab"])["order"]
            testing.submit(api, records[rid]["id"], {"preference": {"value": _as_position(votes[column], order)}})
        assert testing.annotator_queue(api, summary.dataset_id)["total"] == 1  # only v5 is left for them
    result = pull(config)
    assert (result.pulled, result.written, result.undecided) == (4, 2, 2)
    out = {r["id"]: r for r in load_records(tmp_path / "agreement-test-out" / "records.jsonl", "pairwise")}
    assert out["v1"]["chosen"] == "good v1" and out["v3"]["chosen"] == "bad v3"
    assert out["v1"]["annotators"] == ["alice", "bob"] and out["v1"]["agreement"] == 1.0
    stats = json.loads((tmp_path / "agreement-test-out" / "agreement.json").read_text())
    preference = stats["agreement"]["preference"]
    assert preference["cohen_kappa"] == pytest.approx(0.6364, abs=1e-4)
    assert preference["fleiss_kappa"] == pytest.approx(0.6190, abs=1e-4)
    assert preference["krippendorff_alpha_nominal"] == pytest.approx(0.6667, abs=1e-4)
    assert preference["krippendorff_alpha_ordinal"] == pytest.approx(0.4167, abs=1e-4)
    assert stats["annotators"]["alice"]["agreement_with_majority"] == 0.75
    trl = (tmp_path / "agreement-test-out" / "trl.jsonl").read_text().splitlines()
    assert {json.loads(line)["chosen"] for line in trl} == {"good v1", "bad v3"}


def test_embedded_engine_answers_queue_filters_and_progress(argilla, tmp_path):
    config = make_config(argilla, tmp_path, "engine-test", candidates(30, "e"), annotators=("alice",))
    summary = push(config)
    owner, dataset_id = argilla.owner(), summary.dataset_id
    search = f"/api/v1/datasets/{dataset_id}/records/search?limit=50"
    by_category = {"filters": {"and": [{"type": "terms", "scope": {"entity": "metadata", "metadata_property":
                                                                  "category"}, "values": ["cat1"]}]}}
    assert owner.post(search, by_category)["total"] == 10
    e0 = testing.records_by_external_id(owner, dataset_id)["e0"]  # terms metadata may also be a list
    owner.put(f"/api/v1/datasets/{dataset_id}/records/bulk",
              {"items": [{"external_id": "e0", "metadata": {**e0["metadata"], "category": ["cat0", "cat-x"]}}]})
    listed = {"filters": {"and": [{"type": "terms", "scope": {"entity": "metadata", "metadata_property": "category"},
                                   "values": ["cat-x", "nothing"]}]}}
    assert [item["record"]["external_id"] for item in owner.post(search, listed)["items"]] == ["e0"]
    assert owner.post(search, by_category)["total"] == 10
    text = {"query": {"text": {"q": "question 10", "field": "prompt"}}}
    assert owner.post(search, text)["total"] == 1  # every term, case-insensitively
    suggested = {"filters": {"and": [{"type": "terms", "scope": {"entity": "suggestion", "question": "preference",
                                                                 "property": "agent"}, "values": ["reward-model"]}]}}
    assert owner.post(search, suggested)["total"] == 30
    alice = testing.login(argilla, "alice")
    queue = testing.annotator_queue(alice, dataset_id, limit=30)
    assert queue["total"] == 30 and len({item["record"]["id"] for item in queue["items"]}) == 30
    first = queue["items"][0]["record"]
    assert "model_a" not in first["metadata"] and "alignlab" not in first["metadata"]  # hidden from annotators
    assert testing.annotator_queue(alice, dataset_id, limit=1)["items"][0]["record"]["id"] == first["id"]
    testing.submit(alice, first["id"], {"preference": {"value": "a"}})
    assert testing.annotator_queue(alice, dataset_id)["total"] == 29
    # The queue's fast path and the general path (taken once a text query is added) agree, page by page.
    fast = [testing.annotator_queue(alice, dataset_id, limit=7, offset=o) for o in (0, 7, 21)]
    general_body = {"query": {"text": {"q": "question"}}, "filters": {"and": [
        {"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": ["pending"]},
        {"type": "terms", "scope": {"entity": "record", "property": "status"}, "values": ["pending"]}]}}
    general = [alice.post(f"/api/v1/me/datasets/{dataset_id}/records/search?limit=7&offset={o}", general_body)
               for o in (0, 7, 21)]
    assert [p["total"] for p in fast] == [p["total"] for p in general] == [29, 29, 29]
    assert [[i["record"]["id"] for i in p["items"]] for p in fast] == \
        [[i["record"]["id"] for i in p["items"]] for p in general]
    assert len(fast[2]["items"]) == 7 and first["id"] not in {i["record"]["id"] for p in fast for i in p["items"]}
    progress = owner.get(f"/api/v1/datasets/{dataset_id}/progress")
    assert (progress["total"], progress["completed"], progress["pending"]) == (30, 1, 29)
    metrics = alice.get(f"/api/v1/me/datasets/{dataset_id}/metrics")["responses"]
    assert (metrics["submitted"], metrics["pending"]) == (1, 29)
    properties = owner.get(f"/api/v1/me/datasets/{dataset_id}/metadata-properties")["items"]
    category = next(p for p in properties if p["name"] == "category")
    terms = owner.get(f"/api/v1/metadata-properties/{category['id']}/metrics")
    assert terms["total"] == 31 and {v["term"] for v in terms["values"]} == {"cat0", "cat1", "cat2", "cat-x"}


def test_other_templates_round_trip(argilla, tmp_path):
    ranking_rows = [{"id": f"k{i}", "prompt": f"P{i}", "responses": ["r0", "r1", "r2"]} for i in range(2)]
    config = make_config(argilla, tmp_path, "ranking-test", ranking_rows, template="ranking", annotators=("alice",))
    summary = push(config)
    records = testing.records_by_external_id(argilla.owner(), summary.dataset_id)
    alice = testing.login(argilla, "alice")
    for record in records.values():
        order = json.loads(record["metadata"]["alignlab"])["order"]
        # alice ranks the input's r2 first, then r0, then r1: rank of original index i
        wanted = {2: 1, 0: 2, 1: 3}
        value = [{"value": f"response_{p + 1}", "rank": wanted[original]} for p, original in enumerate(order)]
        testing.submit(alice, record["id"], {"ranking": {"value": value}})
    pull(config)
    for record in load_records(tmp_path / "ranking-test-out" / "records.jsonl", "ranking"):
        assert record["ranks"] == [2, 3, 1]  # ranks survive the round trip (the argilla SDK drops them)

    ratings_rows = [{"id": "h1", "prompt": "P", "response": "R", "ratings": {"helpfulness": 2}}]
    config = make_config(argilla, tmp_path, "ratings-test", ratings_rows, template="ratings", annotators=("alice",),
                         attributes=["helpfulness", "verbosity"])
    summary = push(config)
    (record,) = testing.records_by_external_id(argilla.owner(), summary.dataset_id).values()
    testing.submit(alice, record["id"], {"helpfulness": {"value": 4}, "verbosity": {"value": 1}})
    (rated,) = load_records_after_pull(config, tmp_path / "ratings-test-out", "ratings")
    assert rated["ratings"] == {"helpfulness": 4.0, "verbosity": 1.0}

    for template, question, answer, label in (("binary", "label", "bad", False),
                                              ("safety", "safety", "over_refusal", False)):
        rows = [{"id": f"{template}1", "prompt": "How do I boil an egg?", "completion": "I cannot help.",
                 "label": True}]
        config = make_config(argilla, tmp_path, f"{template}-test", rows, template=template, annotators=("alice",))
        summary = push(config)
        (record,) = testing.records_by_external_id(argilla.owner(), summary.dataset_id).values()
        testing.submit(alice, record["id"], {question: {"value": answer}})
        (judged,) = load_records_after_pull(config, tmp_path / f"{template}-test-out", "unpaired")
        assert judged["label"] is label and judged["completion"] == "I cannot help."


def load_records_after_pull(config, out_dir, fmt):
    pull(config)
    return load_records(out_dir / "records.jsonl", fmt)


def test_blind_evaluation_hides_models_and_reports_the_human_win_rate(argilla, tmp_path):
    rows = candidates(6, "blind", models=("model-x", "model-y"))
    config = make_config(argilla, tmp_path, "blind-test", rows, annotators=("alice",), suggestions=False)
    summary = push(config)
    records = testing.records_by_external_id(argilla.owner(), summary.dataset_id)
    alice = testing.login(argilla, "alice")
    for index, (_ext, record) in enumerate(sorted(records.items())):
        order = json.loads(record["metadata"]["alignlab"])["order"]
        intended = "0" if index < 4 else "1"  # model-x wins 4 of 6
        testing.submit(alice, record["id"], {"preference": {"value": _as_position(intended, order)}})
    seen = testing.annotator_queue(testing.login(argilla, "alice"), summary.dataset_id)
    assert seen["total"] == 0
    result = pull(config)
    (rate,) = result.win_rates
    assert (rate["model"], rate["opponent"], rate["records"]) == ("model-x", "model-y", 6)
    assert rate["win_rate"] == pytest.approx(4 / 6, abs=1e-4)
    assert rate["ci_low"] < rate["win_rate"] < rate["ci_high"]


@pytest.mark.filterwarnings("ignore:`user_id` not provided")  # the SDK, reading responses back
def test_discarded_answers_are_sent_as_empty_values_and_the_sdk_still_reads_the_dataset(argilla, tmp_path):
    import argilla as rg

    config = make_config(argilla, tmp_path, "sdk-test", candidates(3, "sdk"), annotators=("alice",))
    summary = push(config)
    records = testing.records_by_external_id(argilla.owner(), summary.dataset_id)
    alice = testing.login(argilla, "alice")
    testing.submit(alice, records["sdk0"]["id"], {}, status="discarded")
    testing.submit(alice, records["sdk1"]["id"], {"preference": {"value": "tie"}})
    owner_key = Credentials(argilla.server, Paths.of(argilla.server)).owner().api_key
    client = rg.Argilla(api_url=argilla.url, api_key=owner_key)
    dataset = client.datasets("sdk-test", workspace="alignlab")
    read = list(dataset.records(with_responses=True, with_suggestions=True))
    # The SDK lists answers per question: the discard has none, the tie one (a null would break this read).
    assert len(read) == 3 and sum(len(r.responses) for r in read) == 1
    stats = pull(config)
    assert stats.pulled == 2 and stats.written == 0 and stats.too_few == 1


def test_user_errors_are_one_line(argilla, cli, tmp_path, monkeypatch):
    good = write_jsonl(tmp_path / "good.jsonl", candidates(3, "err"))
    base = ["annotate", "push", *argilla.overrides, "dataset.name=errors-test", f"push.path={good}"]
    assert cli(*base).returncode == 0

    bad = write_jsonl(tmp_path / "bad.jsonl", [{"prompt": "p", "chosen": "a", "rejected": "b"},
                                               {"prompt": "p", "chosen": "a"}])
    line = one_line_error(cli(*base[:-1], f"push.path={bad}"))
    assert line.endswith("bad.jsonl:2: rejected: missing required field")

    line = one_line_error(cli(*base, "dataset.template=binary"))
    assert "dataset 'errors-test' in workspace 'alignlab'" in line and "already exists with other settings" in line

    line = one_line_error(cli(*base, "push.seed=7"))
    assert "it was pushed with push.seed=0 (this push: 7)" in line

    monkeypatch.setenv("ALIGNLAB_TEST_UNSET_API_KEY", "not-the-key")
    line = one_line_error(cli(*base))
    assert "rejected $ALIGNLAB_TEST_UNSET_API_KEY (401 Unauthorized)" in line and "not-the-key" not in line
    monkeypatch.delenv("ALIGNLAB_TEST_UNSET_API_KEY")

    free = testing.free_port()
    line = one_line_error(cli(*base, f"server.port={free}", "server.retry_max_s=1"))
    assert f"no Argilla server answers at http://127.0.0.1:{free}" in line


def test_responses_from_removed_annotators_are_one_line_or_skipped(argilla, tmp_path):
    from alignlab.annotation.errors import RemovedAnnotator

    config = make_config(argilla, tmp_path, "removed-test", candidates(2, "rm"), annotators=("carol", "dave"))
    summary = push(config)
    records = testing.records_by_external_id(argilla.owner(), summary.dataset_id)
    testing.submit(testing.login(argilla, "carol"), records["rm0"]["id"], {"preference": {"value": "a"}})
    testing.submit(testing.login(argilla, "dave"), records["rm1"]["id"], {"preference": {"value": "b"}})
    without_carol = config.model_copy(update={"annotators": ["dave"]})
    with pytest.raises(RemovedAnnotator, match=r"no longer annotators: 'carol' \(1\); set pull.removed_annotators"):
        pull(without_carol)
    skip = without_carol.model_copy(update={"pull": config.pull.model_copy(update={"removed_annotators": "skip"})})
    assert pull(skip).responses == 1
    keep = without_carol.model_copy(update={"pull": config.pull.model_copy(update={"removed_annotators": "keep"})})
    assert pull(keep).responses == 2


def test_connect_uses_an_existing_server_and_secrets_stay_out_of_logs(argilla, cli, tmp_path, monkeypatch):
    owner = Credentials(argilla.server, Paths.of(argilla.server)).owner()
    monkeypatch.setenv("ALIGNLAB_ARGILLA_API_KEY", owner.api_key)
    elsewhere = tmp_path / "client-state"
    result = cli("annotate", "connect", argilla.url, f"server.state_dir={elsewhere}")
    assert result.returncode == 0, result.stderr
    assert f"connected to Argilla 2.8.0 at {argilla.url} as alignlab (owner)" in result.stdout
    status = cli("annotate", "status", f"server.state_dir={elsewhere}")
    assert status.returncode == 0 and "remote server" in status.stdout and "alignlab-sql" in status.stdout
    rows = write_jsonl(tmp_path / "remote.jsonl", candidates(2, "remote"))
    pushed = cli("annotate", "push", f"server.state_dir={elsewhere}", "dataset.name=remote-test",
                 f"push.path={rows}", "annotators=[erin]")
    assert pushed.returncode == 0 and f"{argilla.url}/dataset/" in pushed.stdout, pushed.stderr
    assert owner.api_key not in (elsewhere / "connection.json").read_text()
    assert cli("annotate", "connect", "--local", f"server.state_dir={elsewhere}").returncode == 0
    assert not (elsewhere / "connection.json").exists()

    secrets = [owner.api_key, owner.password]
    for log in (argilla.server.state_dir / "server" / "logs").glob("*.log"):
        text = log.read_text(errors="replace")
        assert not any(secret in text for secret in secrets), f"a secret leaked into {log}"
    for output in [*result.stdout.splitlines(), *pushed.stdout.splitlines(), *status.stdout.splitlines()]:
        assert not any(secret in output for secret in secrets)


def test_bulk_read_and_records_search_pull_the_same_data(argilla, tmp_path):
    rows = candidates(25, "bulk")
    config = make_config(argilla, tmp_path, "bulk-test", rows, annotators=("alice", "bob"), min_submitted=2)
    summary = push(config)
    owner = argilla.owner()
    alice, bob = testing.user_id(owner, "alice"), testing.user_id(owner, "bob")
    answers = [(f"bulk{i}", alice, {"preference": {"value": "a" if i % 3 else "b"}}, "submitted") for i in range(20)]
    answers += [(f"bulk{i}", bob, {"preference": {"value": "a"}}, "submitted") for i in range(0, 20, 2)]
    answers += [("bulk21", bob, {}, "discarded")]
    testing.seed_responses(owner, summary.dataset_id, answers)
    outputs = {}
    for bulk in (True, False):
        options = config.pull.model_copy(update={"bulk_read": bulk, "page_size": 7,
                                                  "output_dir": tmp_path / f"out-{bulk}"})
        result = pull(config.model_copy(update={"pull": options}))
        assert (result.pulled, result.responses) == (21, 31)
        outputs[bulk] = {name: (tmp_path / f"out-{bulk}" / name).read_text()
                         for name in ("records.jsonl", "trl.jsonl", "annotations.jsonl")}
    assert outputs[True] == outputs[False]
    annotator = testing.login(argilla, "alice")
    with pytest.raises(AuthenticationFailed, match="403"):
        annotator.get(f"/api/v1/alignlab/datasets/{summary.dataset_id}/answered")
