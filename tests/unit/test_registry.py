from __future__ import annotations

import pytest

from alignlab.registry import Registry, UnknownNameError


def test_lazy_target_resolves_on_first_get():
    registry: Registry = Registry("thing")
    registry.register("dumps", "json:dumps")
    registry.register("path_join", "os.path:join")
    import json
    import os

    assert registry.get("dumps") is json.dumps
    assert registry.get("path_join") is os.path.join
    assert registry.names() == ["dumps", "path_join"]


def test_unknown_name_suggests_and_lists():
    registry: Registry = Registry("loss type")
    for name in ("sigmoid", "ipo", "hinge"):
        registry.register(name, name)
    with pytest.raises(UnknownNameError) as err:
        registry.get("sigmod")
    assert str(err.value) == "unknown loss type 'sigmod'. Did you mean 'sigmoid'? Valid: hinge, ipo, sigmoid"


def test_duplicate_registration_is_a_bug():
    registry: Registry = Registry("thing")
    registry.register("a", "json:dumps")
    with pytest.raises(ValueError):
        registry.register("a", "json:loads")
