"""Server setup pieces that need no server: the install stamp, Redis command lines, config validation."""

from __future__ import annotations

import json
import sys

import pytest

from alignlab.annotation.server import install
from alignlab.annotation.server.redis import ping, redis_command
from alignlab.config import load_config
from alignlab.config.annotate import AnnotateConfig
from alignlab.errors import ConfigError


def test_stamp_decides_whether_to_install(tmp_path):
    venv = tmp_path / "venv"
    wanted = install.requirements_for()
    assert not install.is_installed(venv, wanted)
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    tag = f"{sys.version_info.major}.{sys.version_info.minor}"
    (venv / install.STAMP).write_text(json.dumps({"python": tag, "requirements": wanted}))
    assert install.is_installed(venv, wanted)
    assert not install.is_installed(venv, install.requirements_for(embedded_redis=True))
    assert "click<8.2" in wanted and "argilla-server==2.8.0" in wanted


def test_redis_listens_on_a_private_socket_or_loopback(tmp_path):
    argv, url = redis_command("redis-server", tmp_path / "redis")
    assert url == f"unix://{(tmp_path / 'redis' / 'redis.sock').resolve()}?db=0"
    assert argv[argv.index("--port") + 1] == "0" and argv[argv.index("--save") + 1] == ""
    deep = tmp_path / ("x" * 120)
    argv, url = redis_command("redis-server", deep)
    assert url.startswith("redis://127.0.0.1:") and "--bind" in argv
    assert not ping(f"unix://{tmp_path}/nothing.sock")


def test_annotate_config_validation(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("dataset:\n  name: d\n  template: pairwis\n")
    with pytest.raises(ConfigError, match="dataset.template"):
        load_config(path, AnnotateConfig)
    with pytest.raises(ConfigError, match="use lowercase letters"):
        load_config(None, AnnotateConfig, ["annotators=[Alice]"])
    with pytest.raises(ConfigError, match="scale"):
        load_config(None, AnnotateConfig, ["dataset.name=d", "dataset.scale=[3,1]"])
    config = load_config(None, AnnotateConfig, ["dataset.name=d", "server.port=7000"])
    assert config.dataset.template == "pairwise" and config.server.port == 7000
