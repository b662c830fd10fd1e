"""Registries: the one place a kind of part (label policy, regime, model, study kind, data
format, executor) is listed, by name.

Each registry lives beside the built-in parts it holds, which register themselves when their
module is imported. Everything else that lists them (the config schema, CLI flags and their
help, the docs tables, error messages) reads the registry, so adding a part is one
registration, e.g. ``@LABEL_POLICIES.register("coin")`` above a function.

A third-party package registers parts without importing anything at start-up through an
entry point in the registry's group (``modelcollapse.<group>``), e.g. in its
``pyproject.toml``::

    [project.entry-points."modelcollapse.label_policies"]
    coin = "my_package.policies:coin"

The entry point's object is registered under the entry point's name; an entry point that
names a module instead is imported, and registers its parts itself. Entry points are loaded
the first time a registry is asked for its names or for a name it does not hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import metadata
from types import ModuleType
from typing import Generic, TypeVar, overload

from modelcollapse.errors import UserError, one_line

T = TypeVar("T")


class Registry(Generic[T]):
    """Named parts of one kind, in registration order.

    ``noun`` names a part in messages ("label policy"); ``option`` is where a user picks one
    (``--label-policy``), named by the error for an unknown name.
    """

    def __init__(self, group: str, noun: str, option: str) -> None:
        self.group = f"modelcollapse.{group}"
        self.noun = noun
        self.option = option
        self._parts: dict[str, T] = {}
        self._entry_points_loaded = False

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...
    @overload
    def register(self, name: str, part: T, *, replace: bool = False) -> T: ...

    def register(self, name: str, part: T | None = None, *, replace: bool = False):  # type: ignore[no-untyped-def]
        """Register ``part`` under ``name``; without ``part``, a decorator that does.

        A name is registered once: registering it again is an error unless ``replace``.
        """
        if not name or not all(c.isalnum() or c in "-_." for c in name):
            raise ValueError(f"{self.noun} name {name!r}: letters, digits, '-', '_' or '.' only")

        def add(obj: T) -> T:
            if name in self._parts and not replace and self._parts[name] is not obj:
                raise ValueError(f"{self.noun} {name!r} is already registered")
            self._parts[name] = obj
            return obj

        return add if part is None else add(part)

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests that register a part of their own clean up with this)."""
        self._parts.pop(name, None)

    def get(self, name: str) -> T:
        """The part registered as ``name``; an unknown name is a :class:`UserError`."""
        if name not in self._parts:
            self.load_entry_points()
        try:
            return self._parts[name]
        except KeyError:
            choices = ", ".join(self.names())
            raise UserError(
                f"unknown {self.noun} '{name}' (expected one of: {choices})", self.option
            ) from None

    __getitem__ = get

    def names(self) -> tuple[str, ...]:
        self.load_entry_points()
        return tuple(self._parts)

    def items(self) -> list[tuple[str, T]]:
        self.load_entry_points()
        return list(self._parts.items())

    def __contains__(self, name: object) -> bool:
        if name not in self._parts:
            self.load_entry_points()
        return name in self._parts

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def load_entry_points(self) -> None:
        """Register the parts that installed packages declare in this registry's group."""
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in metadata.entry_points(group=self.group):
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plug-in must not break every command
                raise UserError(
                    f"cannot load {self.noun} '{ep.name}' ({ep.value}): {one_line(exc)}",
                    f"entry point {self.group}",
                ) from None
            if not isinstance(obj, ModuleType):
                self.register(ep.name, obj)

    def __repr__(self) -> str:
        return f"Registry({self.group!r}, {list(self._parts)})"
