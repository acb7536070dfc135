"""Property-based bad input: generated broken configs and data rows thrown at every command that reads them.

Through the real CLI entry point (`alignlab.cli.main`, in-process): a broken YAML config (wrong types, unknown
keys, bad enum values, missing data files, broken YAML syntax, a section that is not a mapping) given to
`config show`, `rm train`, `train dpo|kto`, `eval run` and `pipeline run`, and a data file with a broken row
(a missing field, a wrong type, invalid JSON, a row that is not an object) given to `data validate`,
`data convert`, `rm train`, `train dpo` and `train kto`. Every case must end with a non-zero exit, no traceback,
exactly one `error:` line (for `data validate`, its `file:line: field: reason` report) and nothing written to
the output paths. Each case is built to be invalid on purpose (enum values and key names that no schema holds).
`pytest -s` prints how many cases each property tried.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
TRIED: Counter = Counter()
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# command -> (shipped config it starts from, argv builder, config kind for `config show`)
COMMANDS = {
    "rm train": ("configs/rm/tiny_bt.yaml", lambda path, out: ["rm", "train", "--config", path], "rm"),
    "train dpo": ("configs/dpo/tiny.yaml", lambda path, out: ["train", "dpo", "--config", path], "dpo"),
    "train kto": ("configs/kto/tiny.yaml", lambda path, out: ["train", "kto", "--config", path], "kto"),
    "eval run": ("configs/eval/standard.yaml", lambda path, out: ["eval", "run", "--config", path, "--model",
                                                                  "tiny:nano", "--out", out], "eval"),
    "pipeline run": ("configs/pipelines/demo.yaml", lambda path, out: ["pipeline", "run", "--config", path],
                     "pipeline"),
}
# (section, key) -> a value no schema accepts there
ENUMS = [("rm", "type"), ("rm", "batching"), ("data", "format"), ("dpo", "loss_type"), ("kto", "loss_type"),
         ("generation", "engine"), ("refusal", "classifier"), ("eval", "suites")]
NUMBERS = [("train", "lr"), ("train", "batch_size"), ("train", "epochs"), ("eval", "limit"), ("run", "seed"),
           ("data", "max_length"), ("eval", "batch_size"), ("rounds", None)]
GARBAGE = st.one_of(st.text("xyz#@!", min_size=1, max_size=6).map(lambda s: f"zz{s}"),
                    st.lists(st.integers(), min_size=1, max_size=3), st.dictionaries(st.just("zz"), st.integers(),
                                                                                      min_size=1))
NAME = st.text("abcdefghij_", min_size=1, max_size=8).map(lambda s: f"zz_{s}")


def invoke(argv: list[str]) -> tuple[int, str, str]:
    """`alignlab ARGV` through the console entry point, in this process: (exit code, stdout, stderr)."""
    from alignlab.cli import main

    out, err = io.StringIO(), io.StringIO()
    old_argv, sys.argv = sys.argv, ["alignlab", *argv]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    finally:
        sys.argv = old_argv
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def work() -> Path:
    """A working folder the commands run in (relative outputs such as runs/ would land here)."""
    folder = Path(tempfile.mkdtemp(prefix="alignlab-bad-input-"))
    previous = os.getcwd()
    os.chdir(folder)
    yield folder
    os.chdir(previous)


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def assert_one_line(argv: list[str], work: Path, outputs: list[Path]) -> None:
    before = _files(work)
    code, stdout, stderr = invoke(argv)
    where = f"alignlab {' '.join(argv)}\nstdout: {stdout[-500:]}\nstderr: {stderr[-1500:]}"
    assert code != 0, where
    assert "Traceback" not in stdout + stderr, where
    assert [line for line in stderr.splitlines() if line.strip()] == [stderr.strip()], where  # one line
    assert stderr.startswith("error: "), where
    assert _files(work) - before <= {p for p in _files(work) if ".hypothesis" in p.parts}, where
    assert not any(path.exists() for path in outputs), where


def _base(command: str, case: Path) -> dict:
    config = yaml.safe_load((ROOT / COMMANDS[command][0]).read_text())
    config.setdefault("run", {})["output_dir"] = str(case / "runs")
    if isinstance(config.get("rm"), dict):
        config["rm"]["output_dir"] = str(case / "models")
    return config


@st.composite
def broken_config(draw) -> tuple[str, str]:
    """(command, YAML text) of a config that cannot validate."""
    command = draw(st.sampled_from(sorted(COMMANDS)))
    config = _base(command, Path("CASE"))
    sections = [key for key, value in config.items() if isinstance(value, dict)]
    kind = draw(st.sampled_from(["unknown key", "wrong type", "bad enum", "missing file", "not a mapping",
                                 "yaml syntax"]))
    if kind == "unknown key":
        section = draw(st.sampled_from([None, *sections]))
        (config if section is None else config[section])[draw(NAME)] = draw(st.integers() | st.text(max_size=5))
    elif kind == "wrong type":
        section, key = draw(st.sampled_from([(s, k) for s, k in NUMBERS if s in config]))
        value = draw(GARBAGE)
        if key is None:
            config[section] = value
        else:
            config[section][key] = value
    elif kind == "bad enum":
        options = [(s, k) for s, k in ENUMS if isinstance(config.get(s), dict)]
        section, key = draw(st.sampled_from(options or [(sections[0], "zz_enum")]))
        config[section][key] = draw(NAME)
    elif kind == "missing file":
        config.setdefault("data", {})["path"] = f"CASE/missing/{draw(NAME)}.jsonl"
        if command in ("eval run", "pipeline run"):
            config["data"] = {"path": config["data"]["path"]}
    elif kind == "not a mapping":
        config[draw(st.sampled_from(sections))] = draw(st.sampled_from([[1, 2], "zz", 3]))
    text = yaml.safe_dump(config, sort_keys=False)
    if kind == "yaml syntax":
        lines = text.splitlines()
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, draw(st.sampled_from(["key: [unclosed", "  - : :", "\tbad: tab", "a: b: c", "{"])))
        text = "\n".join(lines)
    return command, text


@SETTINGS
@given(case=broken_config(), show=st.booleans())
def test_a_broken_config_is_one_line_and_writes_nothing(work, case, show):
    command, text = case
    folder = Path(tempfile.mkdtemp(dir=work))
    path = folder / "config.yaml"
    path.write_text(text.replace("CASE", str(folder)))
    out = folder / "out"
    source, argv, kind = COMMANDS[command]
    show = show and "/missing/" not in text  # `config show` checks the schema; a data file is read when used
    argv = ["config", "show", kind, str(path)] if show else argv(str(path), str(out))
    TRIED["broken config"] += 1
    assert_one_line(argv, work, [out, folder / "runs", folder / "models"])


VALID_ROWS = {
    "pairwise": {"prompt": "Say hi.", "chosen": "Hi there!", "rejected": "No."},
    "unpaired": {"prompt": "Say hi.", "completion": "Hi there!", "label": True},
    "ranking": {"prompt": "Say hi.", "responses": ["Hi there!", "Hello.", "No."], "ranks": [1, 2, 3]},
    "ratings": {"prompt": "Say hi.", "responses": ["Hi there!", "No."],
                "ratings": [{"helpfulness": 4, "correctness": 4, "coherence": 4, "complexity": 1, "verbosity": 1},
                            {"helpfulness": 0, "correctness": 2, "coherence": 3, "complexity": 0, "verbosity": 0}]},
}
WRONG = st.one_of(st.integers(), st.none(), st.booleans(), st.lists(st.integers(), min_size=1, max_size=2),
                  st.dictionaries(st.just("zz"), st.integers(), min_size=1))


@st.composite
def broken_rows(draw) -> tuple[str, str]:
    """(format, JSONL text) with one valid row and one broken one."""
    fmt = draw(st.sampled_from(sorted(VALID_ROWS)))
    row = json.loads(json.dumps(VALID_ROWS[fmt]))
    kind = draw(st.sampled_from(["missing field", "wrong type", "invalid json", "not an object"]))
    if kind == "missing field":
        del row[draw(st.sampled_from(sorted(row)))]
        line = json.dumps(row)
    elif kind == "wrong type":
        field = draw(st.sampled_from(sorted(row)))
        row[field] = draw(WRONG.filter(lambda v, f=field: not (f == "label" and isinstance(v, bool))))
        line = json.dumps(row)
    elif kind == "invalid json":
        line = json.dumps(row)[: draw(st.integers(1, 20))]
    else:
        line = json.dumps(draw(st.sampled_from([[1, 2], "text", 3, None])))
    rows = [json.dumps(VALID_ROWS[fmt]), line]
    if draw(st.booleans()):
        rows.reverse()
    return fmt, "\n".join(rows) + "\n"


DATA_COMMANDS = {"pairwise": ("configs/rm/tiny_bt.yaml", ["rm", "train"]),
                 "unpaired": ("configs/kto/tiny.yaml", ["train", "kto"])}


@SETTINGS
@given(case=broken_rows(), command=st.sampled_from(["data validate", "data convert", "train"]))
def test_a_broken_data_row_is_reported_by_every_command_that_reads_it(work, case, command):
    fmt, text = case
    folder = Path(tempfile.mkdtemp(dir=work))
    data = folder / f"{fmt}.jsonl"
    data.write_text(text)
    out = folder / "converted.jsonl"
    TRIED[f"broken {fmt} row"] += 1
    if command == "data validate":
        code, stdout, stderr = invoke(["data", "validate", str(data), "--format", fmt])
        report = stdout + stderr
        assert code == 1 and "Traceback" not in report, report
        assert any(line.startswith(f"{data}:") for line in report.splitlines()), report  # file:line: field: reason
    elif command == "data convert":
        assert_one_line(["data", "convert", str(data), str(out), "--format", fmt, "--to", "trl"], work, [out])
    else:
        shipped, argv = DATA_COMMANDS.get(fmt, ("configs/dpo/tiny.yaml", ["train", "dpo"]))
        config = yaml.safe_load((ROOT / shipped).read_text())
        config["run"]["output_dir"] = str(folder / "runs")
        config["data"] = {**config["data"], "path": str(data), "format": fmt}
        if "rm" in config:
            config["rm"]["output_dir"] = str(folder / "models")
        path = folder / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        assert_one_line([*argv, "--config", str(path)], work, [folder / "runs", folder / "models"])


def test_zz_report_cases_tried():
    print(f"\nbad-input cases tried: {dict(TRIED)} (total {sum(TRIED.values())})")
