"""One loop option, declared once: its type, default, bounds or choices and help.

The declaration is all there is: the config schema, the command-line flag and its help and
the docs table are derived from it (:mod:`modelcollapse.core.options`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Any, Literal


@dataclass(frozen=True)
class Option:
    """A loop option: ``name`` is its TOML key and result column; ``--name-with-dashes`` its flag.

    ``choices`` is a tuple of names or a :class:`~modelcollapse.registry.Registry` (read
    when the option is validated, so that parts registered later are choices too). Bounds
    are pydantic's ``ge``, ``gt``, ``le`` and ``lt``; ``nullable`` admits None (the default
    meaning a value the loop derives, as ``window``'s first size).
    """

    name: str
    type: type
    default: Any
    help: str
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: Collection[str] | None = None
    nullable: bool = False
    default_text: str = ""  # the default in words, when it is derived (None)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def choice_names(self) -> tuple[str, ...]:
        return tuple(self.choices) if self.choices is not None else ()

    def annotation(self) -> Any:
        """The pydantic type of a value: its type, bounds and choices."""
        from pydantic import Field  # here: the CLI lists options without importing pydantic

        if self.choices is not None:
            base: Any = Literal[self.choice_names()]  # type: ignore[valid-type]
        else:
            bounds = {k: getattr(self, k) for k in ("ge", "gt", "le", "lt")}
            bounds = {k: v for k, v in bounds.items() if v is not None}
            if self.type is float:  # inf and nan pass every bound check and break the metrics
                bounds["allow_inf_nan"] = False
            base = Annotated[self.type, Field(**bounds)] if bounds else self.type
        return base | None if self.nullable else base

    def allowed(self) -> str:
        """The values allowed, for help and docs: "0.5 ≤ x ≤ 1", "a, b or c"."""
        if self.choices is not None:
            names = self.choice_names()
            return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
        if self.type is bool:
            return "true or false"
        kind = {int: "integer", str: "text"}.get(self.type, "number")
        low = [f"{_num(v)} {s}" for v, s in ((self.ge, "≤"), (self.gt, "<")) if v is not None]
        high = [f"{s} {_num(v)}" for v, s in ((self.le, "≤"), (self.lt, "<")) if v is not None]
        if low and high:
            return f"{kind}, {low[0]} x {high[0]}"
        if low:  # x ≥ 1 reads better than 1 ≤ x
            flipped = low[0].replace("≤", "≥").replace("<", ">").split(" ")
            return f"{kind}, x {flipped[1]} {flipped[0]}"
        return f"{kind}, x {high[0]}" if high else kind


def _num(value: float) -> str:
    return f"{value:g}"
