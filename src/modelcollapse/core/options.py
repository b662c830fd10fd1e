"""The loop's options: one declarative table, and everything derived from it.

:data:`CORE` declares the options every loop has; the label policies and regimes declare
their own (:mod:`.policies`, :mod:`.regimes`), which apply when that part is chosen.
:func:`loop_options` joins them into the table (a part's options follow the option that
chooses it). From the table come :class:`LoopOptions` and its validation (a pydantic model,
:func:`config_model`, the same for ``[study.loop]`` in a config file, the command line and
the library), the command-line flags (``modelcollapse.cli``) and the docs table
(:func:`options_markdown`, written into ``docs/options.md`` by ``python -m
modelcollapse.core.options``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelcollapse.core.labellers import LABELLERS
from modelcollapse.core.parameters import Option
from modelcollapse.core.policies import LABEL_POLICIES
from modelcollapse.core.regimes import REGIMES
from modelcollapse.registry import Registry

if TYPE_CHECKING:  # pydantic is imported where a value is validated: `--help` lists the table
    from pydantic import ValidationError
    from pydantic_core import core_schema

CORE: tuple[Option, ...] = (
    Option("regime", str, "accumulate", "Which rows each model is fitted on.", choices=REGIMES),
    Option(
        "mixture", str, "batch",
        "batch: the rate is the model-labelled share of every batch added; fixed: the "
        "model-labelled share of the rows drawn so far, at every size.",
        choices=("batch", "fixed"),
    ),
    Option(
        "labeller", str, "current",
        "Who labels a batch: one of the loop's models (the one just fitted, the one before "
        "it, the first one, frozen) or a labeller from outside (a teacher model, the VADER "
        "lexicon, a file of machine labels).",
        choices=LABELLERS,
    ),
    Option("label_policy", str, "argmax", "How a labeller makes labels.", choices=LABEL_POLICIES),
    Option(
        "verified_share", float, 0.0,
        "Probability that a row chosen for a model label is checked by a person (keeps its "
        "human label).",
        ge=0, le=1,
    ),
    Option(
        "keep_correct", float, 1.0,
        "Simulated verifier: probability of keeping a correct model label.", ge=0, le=1,
    ),
    Option(
        "keep_wrong", float, 1.0,
        "Simulated verifier: probability of keeping a wrong model label.", ge=0, le=1,
    ),
    Option(
        "model_weight", float, 1.0,
        "Sample weight of model-labelled rows (0 leaves them out of the fit; at most 1000, "
        "beyond which the fit's weight sums lose precision).",
        ge=0, le=1000,
    ),
    Option(
        "arms", bool, False,
        "Also fit gold (true labels) and real-only references at every step.",
    ),
)  # fmt: skip


def check_rate(rate: float) -> float:
    """The rule for a rate (the model-labelled share): within [0, 1]."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate {rate:g} is outside [0, 1]")
    return rate


@dataclass(frozen=True)
class Entry:
    """A row of the table: an option, its choices as they stand, and the part(s) it belongs
    to (``applies``: the choosing option and the parts that declare it; None for the core)."""

    option: Option
    choices: tuple[str, ...] | None = None
    applies: tuple[str, tuple[str, ...]] | None = None

    @property
    def name(self) -> str:
        return self.option.name


def loop_options() -> tuple[Entry, ...]:
    """The table of loop options as the registries stand now."""
    entries: dict[str, Entry] = {}

    def add(entry: Entry) -> None:
        old = entries.get(entry.name)
        if old is not None and old.option != entry.option:
            raise ValueError(f"loop option '{entry.name}' is declared twice, differently")
        entries[entry.name] = entry

    for option in CORE:
        choices = option.choice_names() if option.choices is not None else None
        add(Entry(option, choices))
        if isinstance(option.choices, Registry):
            owners: dict[str, tuple[Option, list[str]]] = {}
            for part_name, part in option.choices.items():
                for parameter in part.parameters:
                    declared, parts = owners.setdefault(parameter.name, (parameter, []))
                    if declared != parameter:
                        raise ValueError(
                            f"loop option '{parameter.name}' is declared twice, differently"
                        )
                    parts.append(part_name)
            for parameter, parts in owners.values():
                if parameter.name in entries and entries[parameter.name].applies is None:
                    raise ValueError(f"loop option '{parameter.name}' is declared twice")
                choices = parameter.choice_names() if parameter.choices is not None else None
                add(Entry(parameter, choices, (option.name, tuple(parts))))
    return tuple(entries.values())


def option_names() -> tuple[str, ...]:
    return tuple(e.name for e in loop_options())


def _quoted(names: tuple[str, ...]) -> str:
    quoted = [f"'{n}'" for n in names]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]


_MODELS: dict[tuple[Entry, ...], type] = {}


def config_model() -> type:
    """The pydantic model of ``[study.loop]`` for the table as it stands (cached)."""
    entries = loop_options()
    if entries not in _MODELS:
        _MODELS[entries] = _make_model(entries)
    return _MODELS[entries]


def _make_model(entries: tuple[Entry, ...]) -> type:
    from pydantic import ConfigDict, create_model, model_validator

    def check(self: Any) -> Any:
        for e in entries:
            if e.applies is None:
                continue
            chooser, parts = e.applies
            if getattr(self, e.name) != e.option.default and getattr(self, chooser) not in parts:
                raise ValueError(f"{e.name} applies to {chooser} = {_quoted(parts)} only")
        if self.mixture == "fixed" and not REGIMES[self.regime].fixed_mixture:
            fixed = tuple(name for name, part in REGIMES.items() if part.fixed_mixture)
            raise ValueError(f"mixture = 'fixed' applies to regime = {_quoted(fixed)} only")
        return self

    fields: dict[str, Any] = {e.name: (e.option.annotation(), e.option.default) for e in entries}
    return create_model(  # type: ignore[call-overload]
        "LoopConfig",
        __config__=ConfigDict(extra="forbid"),
        __validators__={"_options_apply": model_validator(mode="after")(check)},
        **fields,
    )


def validate_options(values: Any) -> dict[str, Any]:
    """Every option's value (defaults filled in), checked against the table; a
    :class:`pydantic.ValidationError` locates what is wrong."""
    return config_model().model_validate(values).model_dump()


def one_line_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = " ".join(err["msg"].removeprefix("Value error, ").split())
    return f"{loc}: {msg}" if loc else msg


class LoopOptions:
    """How the loop grows its training set and makes labels (defaults: the original study).

    One attribute per row of the options table (:func:`loop_options`; the table is
    ``docs/options.md``), validated on construction, immutable. In a config file it is
    ``[study.loop]``; :meth:`record` gives the result columns.
    """

    __slots__ = ("_values",)

    def __init__(self, **values: Any) -> None:
        from pydantic import ValidationError

        try:
            checked = validate_options(values)
        except ValidationError as exc:
            raise ValueError(one_line_error(exc)) from None
        object.__setattr__(self, "_values", checked)

    @classmethod
    def _trusted(cls, values: dict[str, Any]) -> LoopOptions:
        out = object.__new__(cls)
        object.__setattr__(out, "_values", dict(values))
        return out

    def __getattr__(self, name: str) -> Any:
        if name == "_values":
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no loop option '{name}'") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("LoopOptions are immutable; use replace()")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (self._values,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LoopOptions) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"LoopOptions({args})"

    def asdict(self) -> dict[str, Any]:
        return dict(self._values)

    def replace(self, **changes: Any) -> LoopOptions:
        return LoopOptions(**{**self._values, **changes})

    def record(self) -> dict[str, object]:
        """The options as result columns (the window as -1 when it is the first size)."""
        out = self.asdict()
        if "window" in out and out["window"] is None:
            out["window"] = -1
        return out

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        # In a config, [study.loop] is validated by the table's model: its errors keep their
        # location (study.0.loop.threshold).
        from pydantic_core import core_schema

        return core_schema.no_info_plain_validator_function(
            cls._from_config,
            serialization=core_schema.plain_serializer_function_ser_schema(cls.asdict),
        )

    @classmethod
    def _from_config(cls, value: Any) -> LoopOptions:
        if isinstance(value, LoopOptions):
            return value
        return cls._trusted(validate_options(value))


def _restore(values: dict[str, Any]) -> LoopOptions:
    return LoopOptions._trusted(values)


# --- the docs table -------------------------------------------------------------------------

DOCS_BEGIN = "<!-- BEGIN loop options: generated by `python -m modelcollapse.core.options` -->"
DOCS_END = "<!-- END loop options -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def options_markdown() -> str:
    """The options table, then the label policies and regimes, as markdown tables."""
    lines = [
        "| `[study.loop]` key | Flag | Values | Default | Applies to | Meaning |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for e in loop_options():
        o = e.option
        flag = f"`{o.flag}/--no-{o.flag[2:]}`" if o.type is bool else f"`{o.flag}`"
        default = o.default_text or (str(o.default).lower() if o.type is bool else f"`{o.default}`")
        applies = (
            f"{e.applies[0]} = " + ", ".join(f"`{p}`" for p in e.applies[1]) if e.applies else "all"
        )
        lines.append(
            f"| `{o.name}` | {flag} | {_cell(o.allowed())} | {default} | {applies} | "
            f"{_cell(o.help)} |"
        )
    for title, registry in (
        ("Labeller", LABELLERS), ("Label policy", LABEL_POLICIES), ("Regime", REGIMES)
    ):
        lines += ["", f"| {title} | Options | Meaning |", "| --- | --- | --- |"]
        for name, part in registry.items():
            own = ", ".join(f"`{p.name}`" for p in part.parameters) or "-"
            lines.append(f"| `{name}` | {own} | {_cell(part.help)} |")
    return "\n".join(lines) + "\n"


def docs_with_table(text: str) -> str:
    """``text`` (a docs page) with the generated tables between its markers."""
    start, end = text.index(DOCS_BEGIN) + len(DOCS_BEGIN), text.index(DOCS_END)
    return text[:start] + "\n\n" + options_markdown() + "\n" + text[end:]


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "docs/options.md")
    path.write_text(docs_with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote the loop options table into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
