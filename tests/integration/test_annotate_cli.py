"""`alignlab annotate` without a server: help, light start-up, and one-line errors."""

from __future__ import annotations

import subprocess
import sys

from alignlab.annotation.server.redis import free_port

HEAVY = ("argilla", "requests", "psutil", "numpy", "alignlab.annotation.server.launcher", "alignlab.annotation.push")


def one_line_error(result):
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_annotate_help_lists_commands_and_imports_nothing_heavy():
    probe = (
        "import sys\n"
        "sys.argv = ['alignlab', 'annotate', '--help']\n"
        "from alignlab.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED=' + ','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    for command in ("install", "up", "down", "status", "connect", "push", "pull"):
        assert command in out
    assert out.strip().splitlines()[-1] == "LOADED="


def test_status_without_a_server_exits_1(cli, tmp_path):
    result = cli("annotate", "status", f"server.state_dir={tmp_path}", f"server.port={free_port()}")
    assert result.returncode == 1 and "not answering" in result.stdout
    assert "server  not running" in result.stdout


def test_down_with_nothing_started(cli, tmp_path):
    result = cli("annotate", "down", f"server.state_dir={tmp_path}")
    assert result.returncode == 0 and result.stdout.strip() == "nothing was running"


def test_push_needs_a_dataset_and_a_path(cli, tmp_path):
    line = one_line_error(cli("annotate", "push", f"server.state_dir={tmp_path}"))
    assert line == "error: dataset: required section is missing (name, template, ...)"
    line = one_line_error(cli("annotate", "push", f"server.state_dir={tmp_path}", "dataset.name=d"))
    assert line == "error: push.path: required key is missing (the records to annotate)"


def test_unknown_template_names_the_valid_ones(cli, tmp_path):
    result = cli("annotate", "push", "dataset.name=d", "dataset.template=pairwize")
    assert result.returncode == 2 and "dataset.template" in result.stderr and "'pairwise'" in result.stderr


def test_connect_to_nothing_is_one_line(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNLAB_ARGILLA_API_KEY", "some-key")
    url = f"http://127.0.0.1:{free_port()}"
    line = one_line_error(cli("annotate", "connect", url, f"server.state_dir={tmp_path}", "server.retry_max_s=1"))
    assert f"no Argilla server answers at {url}" in line and "some-key" not in line
    monkeypatch.delenv("ALIGNLAB_ARGILLA_API_KEY")
    line = one_line_error(cli("annotate", "connect", url, f"server.state_dir={tmp_path}"))
    assert "set $ALIGNLAB_ARGILLA_API_KEY" in line


def test_pull_without_credentials_explains_where_the_key_comes_from(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("ALIGNLAB_ARGILLA_API_KEY", raising=False)
    line = one_line_error(cli("annotate", "pull", f"server.state_dir={tmp_path}", "dataset.name=d"))
    assert "no API key: set $ALIGNLAB_ARGILLA_API_KEY" in line
