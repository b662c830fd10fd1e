"""The registry every kind of part is listed in: names, errors and entry points."""

from __future__ import annotations

import sys

import pytest

from modelcollapse.errors import UserError
from modelcollapse.registry import Registry


def test_register_get_and_names_in_order():
    reg: Registry[int] = Registry("test_numbers", "number", "--number")
    reg.register("one", 1)

    @reg.register("two")
    def two() -> int:
        return 2

    assert reg.names() == ("one", "two")
    assert reg["one"] == 1 and reg.get("two") is two
    assert "one" in reg and "three" not in reg
    reg.unregister("one")
    assert reg.names() == ("two",)


def test_unknown_name_is_a_user_error_listing_the_choices():
    reg: Registry[int] = Registry("test_numbers", "number", "--number")
    reg.register("one", 1)
    with pytest.raises(UserError) as err:
        reg["uno"]
    assert str(err.value) == "--number: unknown number 'uno' (expected one of: one)"


def test_a_name_is_registered_once_unless_replaced():
    reg: Registry[int] = Registry("test_numbers", "number", "--number")
    reg.register("one", 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("one", 11)
    reg.register("one", 11, replace=True)
    assert reg["one"] == 11
    with pytest.raises(ValueError, match="letters, digits"):
        reg.register("a b", 2)


def test_entry_points_of_an_installed_package_register_parts(tmp_path, monkeypatch):
    # A package as pip installs it: its module and a dist-info with entry_points.txt.
    (tmp_path / "plugin_numbers.py").write_text("SEVEN = 7\n")
    info = tmp_path / "plugin_numbers-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plugin-numbers\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[modelcollapse.test_plugin_numbers]\nseven = plugin_numbers:SEVEN\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    reg: Registry[int] = Registry("test_plugin_numbers", "number", "--number")
    assert reg.names() == ("seven",)
    assert reg["seven"] == 7
    sys.modules.pop("plugin_numbers", None)


def test_a_broken_entry_point_is_one_user_error(tmp_path, monkeypatch):
    info = tmp_path / "broken-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[modelcollapse.test_broken]\nnope = no_such_module_here:X\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    reg: Registry[int] = Registry("test_broken", "number", "--number")
    with pytest.raises(UserError, match=r"entry point modelcollapse.test_broken: cannot load"):
        reg.names()
