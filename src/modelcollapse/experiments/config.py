"""Run configurations: TOML presets and user files, validated, with command-line overrides."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from modelcollapse.core.options import LoopOptions, check_rate
from modelcollapse.engines import ENGINES, Engine
from modelcollapse.engines.base import scaled as _scaled
from modelcollapse.errors import UserError
from modelcollapse.experiments import shipped_presets
from modelcollapse.registry import Registry

_GRID_FIELDS = ("initial_size", "increment", "max_size", "ratio", "n_sizes")
MAX_SIZES = 100_000  # training sizes per study: more is a typo, and would exhaust memory
MAX_REPEATS = 10_000  # likewise for repeats and rates: a plan holds one object per trajectory
MAX_RATES = 1_000


class StudyConfig(BaseModel):
    """One study: a grid of trajectories sharing sizes, rates and a test-set rule.

    ``kind`` names a registered engine (:data:`modelcollapse.engines.ENGINES`), which
    validates the kind's own settings (the other fields of the ``[[study]]`` table, e.g.
    ``population`` for ``generations``; see each engine's ``Settings``) and fills their
    defaults. Read them as attributes (``study.population``).

    Sizes of a kind with a size grid are either linear (``initial_size``, ``increment``,
    ``max_size``) or geometric (``max_size`` × ``ratio``^j for j = ``n_sizes``-1 … 0).
    ``test_size`` is ``"rest"`` (every review outside the pool), a fraction of
    all reviews, or a count.

    Two kinds have no size grid (nor ``loop`` options):

    - ``generations``: generations of ``population`` models, each trained on a fresh
      sample of ``sample_size`` reviews whose share ``rate`` its parent labels, with
      hyper-parameters mutated from the parent; the best ``keep`` by accuracy on
      ``validation_size`` held-out reviews parent the next generation, until no child
      beats its parent or after ``max_generations`` (defaults 6, 2, 1,000, 10).
    - ``generative``: trigram models write ``generations`` generations of
      ``sample_size`` reviews, for each of ``regimes`` (default 10, both regimes).
    """

    # extra: the kind's own settings, validated by its engine.
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: str
    # Strict: TOML `true` is not 1 repeat nor rate 1.0 (an int is a float, a bool is neither).
    repeats: StrictInt = Field(ge=1, le=MAX_REPEATS)
    rates: list[StrictFloat] = Field(
        default_factory=lambda: [0.0], min_length=1, max_length=MAX_RATES
    )
    test_size: Literal["rest"] | StrictFloat | StrictInt = 0.2
    spacing: Literal["linear", "geometric"] = "linear"
    initial_size: StrictInt | None = Field(default=None, ge=1)
    increment: StrictInt | None = Field(default=None, ge=1)
    max_size: StrictInt | None = Field(default=None, ge=1)
    ratio: StrictFloat | None = Field(default=None, gt=0, lt=1)
    n_sizes: StrictInt | None = Field(default=None, ge=1, le=MAX_SIZES)
    # [study.loop]: validated by the loop options table (modelcollapse.core.options)
    loop: LoopOptions = Field(default_factory=LoopOptions)
    # Studies with the same seed_group share each repeat's seed (test set, order of
    # additions, model seeds): they pair with each other, e.g. replace vs accumulate.
    seed_group: str | None = None

    @field_validator("kind")
    @classmethod
    def _kind_registered(cls, kind: str) -> str:
        if kind not in ENGINES:
            raise ValueError(f"unknown study kind '{kind}' (expected one of: {', '.join(ENGINES)})")
        return kind

    @field_validator("rates")
    @classmethod
    def _rates_in_unit_interval(cls, rates: list[float]) -> list[float]:
        for r in rates:
            check_rate(r)
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

    @property
    def engine(self) -> Engine:
        return ENGINES.get(self.kind)

    @property
    def generational(self) -> bool:
        return self.engine.generational

    @model_validator(mode="after")
    def _settings_of_kind(self) -> StudyConfig:
        engine = self.engine
        own = engine.Settings.model_fields
        given = dict(self.__pydantic_extra__ or {})
        for name in given:
            if name not in own:
                raise ValueError(f"{name} does not apply to kind = '{self.kind}'")
        try:
            settings = engine.Settings.model_validate(given)
        except ValidationError as exc:
            err = exc.errors()[0]
            if err["type"] == "missing":
                raise ValueError(f"kind = '{self.kind}' needs {err['loc'][0]}") from None
            raise  # pydantic prefixes the error's location with this study's
        # Every setting, defaults filled, in the engine's order: the resolved config shows them.
        self.__pydantic_extra__ = settings.model_dump()
        if engine.has_size_grid:
            self._check_grid()
        else:
            for name in _GRID_FIELDS:
                if getattr(self, name) is not None:
                    raise ValueError(
                        f"{name} does not apply to kind = '{self.kind}' (it has no size grid)"
                    )
        if not engine.uses_loop and self.loop != LoopOptions():
            raise ValueError(f"loop options do not apply to kind = '{self.kind}'")
        engine.check(self)
        return self

    def _check_grid(self) -> None:
        if self.max_size is None:
            raise ValueError(f"kind = '{self.kind}' needs max_size")
        if self.spacing == "linear":
            if self.initial_size is None or self.increment is None:
                raise ValueError("linear spacing needs initial_size and increment")
            if self.initial_size > self.max_size:
                raise ValueError("initial_size exceeds max_size")
            if (self.max_size - self.initial_size) // self.increment >= MAX_SIZES:
                raise ValueError(f"more than {MAX_SIZES:,} training sizes; raise increment")
        elif self.ratio is None or self.n_sizes is None:
            raise ValueError("geometric spacing needs ratio and n_sizes")

    @model_serializer(mode="wrap")
    def _settings_before_seed_group(self, handler: Any) -> dict[str, Any]:
        # The kind's settings come after the loop and before seed_group, where the flat
        # config of earlier versions wrote them: resolved configs of old runs stay identical.
        data = handler(self)
        if "seed_group" in data:
            data["seed_group"] = data.pop("seed_group")
        return data

    def sizes(self, scale: float = 1.0) -> list[int]:
        """The training sizes of this study, multiplied by ``scale``."""
        return self.engine.sizes(self, scale)

    def rate_collisions(self, scale: float = 1.0) -> list[tuple[float, float, int, int]]:
        """Pairs of rates that model-label the same number of rows per batch at this scale.

        The loop labels round(rate × batch) rows (halves up), so at a small batch two rates
        can give identical trajectories: (rate_a, rate_b, rows, batch) for each such pair.
        """
        if not self.engine.uses_loop or self.spacing != "linear" or len(self.rates) < 2:
            return []
        # Imported here: the loop imports sklearn.
        from modelcollapse.core.training import model_labelled_count
        from modelcollapse.loop import refreshed_rows

        assert self.increment is not None
        batch = _scaled(self.increment, scale)
        # The rows a rate model-labels at each step: of every batch, of the data drawn so far
        # (fixed mixture) or of the refreshed set (fresh). Equal at every step: identical.
        sizes = self.sizes(scale)
        if self.loop.mixture == "fixed":
            counted = sizes[1:]
        elif self.loop.regime == "fresh":
            window = self.loop.window or sizes[0]
            m = refreshed_rows(window, self.loop.fresh_share)
            counted = [size - max(window, size - m) for size in sizes[1:]]
        else:
            counted = [batch]
        seen: dict[tuple[int, ...], float] = {}
        pairs = []
        for rate in sorted(self.rates):
            rows = tuple(model_labelled_count(rate, n) for n in counted)
            if rows in seen:
                pairs.append((seen[rows], rate, rows[-1], counted[-1]))
            else:
                seen[rows] = rate
        return pairs

    def pool_size(self, scale: float = 1.0) -> int:
        """Reviews a repeat draws outside its test set: the largest size, or what the kind's
        engine says (generations: the validation set plus every generation's fresh sample)."""
        return self.engine.pool_size(self, scale)


class RunConfig(BaseModel):
    """Everything that decides a run's results (and nothing that does not, like --jobs)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "run"
    description: str = ""
    data: str = "demo"
    model: str = "seed-rf"
    tokenizer: str = "seed"
    seed: int = Field(default=0, ge=0)
    # Bounded: sizes x scale must stay a finite float (1e305 x 10,000 overflows sizes()).
    scale: float = Field(default=1.0, gt=0, le=1e6, allow_inf_nan=False)
    study: list[StudyConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_study_names(self) -> RunConfig:
        names = [s.name for s in self.study]
        if len(set(names)) != len(names):
            raise ValueError("study names repeat")
        return self


# Shipped presets (discovered in the presets folder) and any an engine or plug-in registers:
# PRESETS.register("name", path_to_toml).
PRESETS: Registry[Any] = Registry("presets", "preset", "EXPERIMENT")
for _name, _file in shipped_presets().items():
    PRESETS.register(_name, _file)


def preset_text(name: str) -> str:
    return PRESETS.get(name).read_text(encoding="utf-8")


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"not valid TOML: {exc}", where) from None
    except RecursionError:  # tomllib recurses per nesting level: [[[[...]]]]
        raise UserError("not valid TOML: nested too deeply", where) from None
    # A preset may pull in other presets' studies (seed-study = studies 1-5).
    includes = raw.pop("include", [])
    if not isinstance(includes, list):
        raise UserError("include must be a list of preset names", where)
    studies = []
    for name in includes:
        if name not in PRESETS:
            raise UserError(f"include names unknown preset '{name}'", where)
        studies.extend(_parse(preset_text(name), f"preset {name}").get("study", []))
    own = raw.get("study", [])
    if not isinstance(own, list):
        raise UserError("[study] expected [[study]] tables", where)
    raw["study"] = studies + own
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
        text = path.read_text(encoding="utf-8-sig")  # -sig: editors that write a BOM
    except FileNotFoundError:
        raise UserError("no such file", str(path)) from None
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, or a NUL in the name
        raise UserError(f"cannot read: {_one_line(exc)}", str(path)) from None
    return validate_config(_parse(text, str(path)), str(path))


def validate_config(raw: dict[str, Any], where: str) -> RunConfig:
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        # repr() for keys a user cannot see (newlines, controls): messages stay one line
        loc = ".".join(str(p) if str(p).isprintable() else repr(p) for p in err["loc"])
        loc = loc or "config"
        msg = _one_line(err["msg"].removeprefix("Value error, "))
        more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise UserError(f"[{loc}] {msg}{more}", where) from None


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


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
    generator_options: dict[str, Any] | None = None,
) -> RunConfig:
    """Command-line flags over the file's values; the result is validated again.

    ``loop`` sets loop-design options (rows of the loop options table) in every study;
    ``generator_options`` the generator's options in every generative study.
    """
    raw = config.model_dump()
    top = {"data": data, "model": model, "tokenizer": tokenizer, "seed": seed, "scale": scale}
    raw.update({k: v for k, v in top.items() if v is not None})
    engines = {s["kind"]: ENGINES.get(s["kind"]) for s in raw["study"]}
    for study in raw["study"]:
        engine = engines[study["kind"]]
        if repeats is not None:
            study["repeats"] = repeats
        if test_size is not None:
            study["test_size"] = test_size
        if max_size is not None and engine.has_size_grid:
            study["max_size"] = max_size
        if rates is not None and engine.has_rates:
            study["rates"] = rates
        if loop and engine.uses_loop:
            study["loop"] = {**study.get("loop", {}), **loop}
        if generator_options and "generator_options" in study:
            study["generator_options"] = {**study["generator_options"], **generator_options}
        # Linear-only settings apply to the linear studies of a mixed run (seed-study).
        if study["spacing"] == "linear" and engine.has_size_grid:
            if initial_size is not None:
                study["initial_size"] = initial_size
            if increment is not None:
                study["increment"] = increment
    if generator_options and not any("generator_options" in s for s in raw["study"]):
        raise UserError("applies to generative studies only", "--generator-option")
    if rates is not None and not any(e.has_rates for e in engines.values()):
        raise UserError("a learning curve or a generative study has no collapse rates", "--rates")
    if max_size is not None and not any(e.has_size_grid for e in engines.values()):
        raise UserError("generational studies have no size grid; use --scale", "--max-size")
    for flag, value in (("--initial-size", initial_size), ("--increment", increment)):
        if value is not None and all(
            s["spacing"] != "linear" or not engines[s["kind"]].has_size_grid for s in raw["study"]
        ):
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
