"""Run configurations: TOML presets and user files, validated, with command-line overrides."""

from __future__ import annotations

import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from modelcollapse.errors import UserError

Kind = Literal["learning-curve", "total-collapse", "rates"]


class LoopConfig(BaseModel):
    """The loop design of a study (see :class:`modelcollapse.loop.LoopOptions`)."""

    model_config = ConfigDict(extra="forbid")

    regime: Literal["accumulate", "replace", "accumulate-subsample", "fresh"] = "accumulate"
    window: int | None = Field(default=None, ge=1)
    fresh_share: float = Field(default=0.0, ge=0, le=1)
    labeller: Literal["current", "previous", "generation0"] = "current"
    label_policy: Literal["argmax", "sample", "threshold", "balanced"] = "argmax"
    threshold: float = Field(default=0.9, ge=0.5, le=1)
    below_threshold: Literal["drop", "human"] = "drop"
    verified_share: float = Field(default=0.0, ge=0, le=1)
    keep_correct: float = Field(default=1.0, ge=0, le=1)
    keep_wrong: float = Field(default=1.0, ge=0, le=1)
    model_weight: float = Field(default=1.0, ge=0)
    arms: bool = False

    @model_validator(mode="after")
    def _fresh_share_needs_fresh(self) -> LoopConfig:
        if self.fresh_share and self.regime != "fresh":
            raise ValueError("fresh_share applies to regime = 'fresh' only")
        return self

    def options(self):  # -> LoopOptions; imported lazily to keep config free of sklearn
        from modelcollapse.loop import LoopOptions

        return LoopOptions(**self.model_dump())


class StudyConfig(BaseModel):
    """One study: a grid of trajectories sharing sizes, rates and a test-set rule.

    Sizes are either linear (``initial_size``, ``increment``, ``max_size``) or
    geometric (``max_size`` × ``ratio``^j for j = ``n_sizes``-1 … 0).
    ``test_size`` is ``"rest"`` (every review outside the pool), a fraction of
    all reviews, or a count.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Kind
    repeats: int = Field(ge=1)
    rates: list[float] = Field(default_factory=lambda: [0.0], min_length=1)
    test_size: Literal["rest"] | float | int = 0.2
    spacing: Literal["linear", "geometric"] = "linear"
    initial_size: int | None = Field(default=None, ge=1)
    increment: int | None = Field(default=None, ge=1)
    max_size: int = Field(ge=1)
    ratio: float | None = Field(default=None, gt=0, lt=1)
    n_sizes: int | None = Field(default=None, ge=1)
    loop: LoopConfig = Field(default_factory=LoopConfig)
    # Studies with the same seed_group share each repeat's seed (test set, order of
    # additions, model seeds): they pair with each other, e.g. replace vs accumulate.
    seed_group: str | None = None

    @field_validator("rates")
    @classmethod
    def _rates_in_unit_interval(cls, rates: list[float]) -> list[float]:
        for r in rates:
            if not 0.0 <= r <= 1.0:
                raise ValueError(f"rate {r:g} is outside [0, 1]")
        if len(set(rates)) != len(rates):
            raise ValueError("rates repeat")
        return rates

    @field_validator("test_size")
    @classmethod
    def _test_size_positive(cls, v: str | float | int) -> str | float | int:
        if isinstance(v, float) and not 0.0 < v < 1.0:
            raise ValueError("a fractional test_size must be within (0, 1)")
        if isinstance(v, int) and not isinstance(v, bool) and v < 1:
            raise ValueError("test_size must be at least 1")
        return v

    @model_validator(mode="after")
    def _sizes_given(self) -> StudyConfig:
        if self.spacing == "linear":
            if self.initial_size is None or self.increment is None:
                raise ValueError("linear spacing needs initial_size and increment")
            if self.initial_size > self.max_size:
                raise ValueError("initial_size exceeds max_size")
        elif self.ratio is None or self.n_sizes is None:
            raise ValueError("geometric spacing needs ratio and n_sizes")
        if self.kind == "learning-curve" and self.rates != [0.0]:
            raise ValueError("a learning curve uses true labels only (rates = [0.0])")
        return self

    def sizes(self, scale: float = 1.0) -> list[int]:
        """The training sizes of this study, multiplied by ``scale``."""
        if self.spacing == "linear":
            assert self.initial_size is not None and self.increment is not None
            first = _scaled(self.initial_size, scale)
            step = _scaled(self.increment, scale)
            last = _scaled(self.max_size, scale)
            sizes = list(range(first, last + 1, step))
            if sizes[-1] != last:
                sizes.append(last)
        else:
            assert self.ratio is not None and self.n_sizes is not None
            raw = [_scaled(self.max_size * self.ratio**j, scale) for j in range(self.n_sizes)]
            sizes = sorted(set(raw))
        return sizes


def _scaled(size: float, scale: float) -> int:
    return max(1, math.floor(size * scale + 0.5))


class RunConfig(BaseModel):
    """Everything that decides a run's results (and nothing that does not, like --jobs)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "run"
    description: str = ""
    data: str = "demo"
    model: str = "seed-rf"
    tokenizer: str = "seed"
    seed: int = Field(default=0, ge=0)
    scale: float = Field(default=1.0, gt=0)
    study: list[StudyConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_study_names(self) -> RunConfig:
        names = [s.name for s in self.study]
        if len(set(names)) != len(names):
            raise ValueError("study names repeat")
        return self


PRESETS = (
    "learning-curve",
    "total-collapse",
    "collapse-rates",
    "lower-rates",
    "lower-rates-detail",
    "seed-study",
    "demo",
)


def preset_text(name: str) -> str:
    return (resources.files("modelcollapse.experiments") / "presets" / f"{name}.toml").read_text()


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"not valid TOML: {exc}", where) from None
    # A preset may pull in other presets' studies (seed-study = studies 1-5).
    includes = raw.pop("include", [])
    if not isinstance(includes, list):
        raise UserError("include must be a list of preset names", where)
    studies = []
    for name in includes:
        if name not in PRESETS:
            raise UserError(f"include names unknown preset '{name}'", where)
        studies.extend(_parse(preset_text(name), f"preset {name}").get("study", []))
    raw["study"] = studies + raw.get("study", [])
    return raw


def load_config(experiment: str) -> RunConfig:
    """A shipped preset by name, or a user's TOML file by path."""
    if experiment in PRESETS:
        return validate_config(_parse(preset_text(experiment), f"preset {experiment}"), experiment)
    path = Path(experiment)
    if path.suffix != ".toml":
        names = ", ".join(PRESETS)
        raise UserError(
            f"'{experiment}' is neither a preset ({names}) nor a .toml file", "EXPERIMENT"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError("no such file", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read: {exc}", str(path)) from None
    return validate_config(_parse(text, str(path)), str(path))


def validate_config(raw: dict[str, Any], where: str) -> RunConfig:
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "config"
        msg = err["msg"].removeprefix("Value error, ")
        more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise UserError(f"[{loc}] {msg}{more}", where) from None


def apply_overrides(
    config: RunConfig,
    *,
    data: str | None = None,
    model: str | None = None,
    tokenizer: str | None = None,
    seed: int | None = None,
    scale: float | None = None,
    rates: list[float] | None = None,
    repeats: int | None = None,
    initial_size: int | None = None,
    increment: int | None = None,
    max_size: int | None = None,
    test_size: str | float | int | None = None,
    loop: dict[str, Any] | None = None,
) -> RunConfig:
    """Command-line flags over the file's values; the result is validated again.

    ``loop`` sets loop-design options (``LoopConfig`` fields) in every study.
    """
    raw = config.model_dump()
    top = {"data": data, "model": model, "tokenizer": tokenizer, "seed": seed, "scale": scale}
    raw.update({k: v for k, v in top.items() if v is not None})
    for study in raw["study"]:
        if repeats is not None:
            study["repeats"] = repeats
        if test_size is not None:
            study["test_size"] = test_size
        if max_size is not None:
            study["max_size"] = max_size
        if rates is not None and study["kind"] != "learning-curve":
            study["rates"] = rates
        if loop:
            study["loop"] = {**study.get("loop", {}), **loop}
        # Linear-only settings apply to the linear studies of a mixed run (seed-study).
        if study["spacing"] == "linear":
            if initial_size is not None:
                study["initial_size"] = initial_size
            if increment is not None:
                study["increment"] = increment
    if rates is not None and all(s["kind"] == "learning-curve" for s in raw["study"]):
        raise UserError("a learning curve has no collapse rates", "--rates")
    for flag, value in (("--initial-size", initial_size), ("--increment", increment)):
        if value is not None and all(s["spacing"] != "linear" for s in raw["study"]):
            raise UserError("applies to linearly spaced studies only; use --max-size", flag)
    return validate_config(raw, "command line")


def dump_config(config: RunConfig) -> dict[str, Any]:
    """The resolved config as plain TOML-writable data (no None values)."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(config.model_dump())
