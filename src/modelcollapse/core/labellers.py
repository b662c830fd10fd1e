"""Labellers: who gives the model labels of a batch.

A labeller is a registered part (:data:`LABELLERS`, the loop option ``labeller``). Two sorts:

* one of the loop's own models (``current``, ``previous``, ``generation0``): ``pick`` chooses
  it among the fits so far; the loop scores the chosen rows with it, as it always did;
* a labeller from outside the loop (``teacher``, ``vader``, ``file``, ``given``): ``scores``
  gives the (n, k) class probabilities of the pool's rows, once per trajectory, before the
  loop starts (a row of NaN: no label for that row, which keeps its human label). ``given``
  has no ``scores``: the caller hands the loop the probabilities, or a fitted classifier
  (``SelfLabellingLoop.fit(..., labeller_scores=...)``).

A labeller that reads the corpus as it was read (raw texts with capitals and punctuation, the
class names; a run's features keep lower-cased tokens and class codes) declares
:class:`CorpusRows`: values of every row computed once per run before any trajectory starts,
handed to it as ``source.rows`` (VADER's scores, a labels file's probabilities). The negation
flag of each review (:func:`negated_reviews`) is one too: where a labeller's errors fall is
recorded per batch (:func:`label_errors`).

The label policies then turn the probabilities into labels as for a model (argmax, a sample,
a threshold on the top probability, class-balanced), and the loop records the accuracy of the
labels made against the human ones (``model_label_accuracy``). ``docs/extending.md`` ("A
labeller") registers one from outside the package.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelcollapse.core.parameters import Option
from modelcollapse.errors import UserError
from modelcollapse.registry import Registry

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, eq=False)
class LabellerSource:
    """What a labeller from outside the loop may read about one trajectory.

    ``documents()`` gives the text of every corpus row (in a run: its tokens joined by spaces),
    ``X`` the model input of every row (counts, or documents), ``labels`` the human labels of
    every row; ``pool`` the rows the loop draws from, in draw order, ``test`` its test rows.
    ``seed`` is the repeat's seed: every random choice a labeller makes flows from it.
    ``rows`` holds what the labeller reads of the corpus as it was read (its ``corpus_rows``:
    VADER's scores of the raw texts, a labels file's probabilities), for every corpus row.
    """

    documents: Callable[[], Sequence[str]]
    X: Any
    labels: np.ndarray
    pool: np.ndarray
    test: np.ndarray
    n_classes: int
    options: Any
    seed: int
    #: The labeller's :class:`CorpusRows` values of every corpus row (None: it reads none).
    rows: np.ndarray | None = None


@dataclass(frozen=True)
class Labeller:
    """A registered labeller: one-line help, the options it declares, and either ``pick`` (one
    of the loop's fits) or ``scores`` (class probabilities of the pool's rows); ``check``, when
    given, refuses bad input (a corpus, the options) before a run writes anything."""

    help: str
    parameters: tuple[Option, ...] = ()
    pick: Callable[[Sequence[Any]], Any] | None = None
    scores: Callable[[LabellerSource], np.ndarray] | None = None
    check: Callable[[Any, Any], None] | None = None
    #: What it reads of the corpus as read (raw texts, class names), once per run: its
    #: values of every corpus row are ``source.rows``.
    corpus_rows: CorpusRows | None = None
    #: Refuses, before a run writes anything, a plan that leaves a trajectory too few rows
    #: outside its pool and test set: ``check_rows(options, spare rows, study name)``.
    check_rows: Callable[[Any, int, str], None] | None = None

    @property
    def outside(self) -> bool:
        """True for a labeller that is not one of the loop's own models."""
        return self.pick is None


LABELLERS: Registry[Labeller] = Registry("labellers", "labeller", "--labeller")


def labeller(
    name: str,
    *,
    help: str,
    parameters: Sequence[Option] = (),
    check: Callable[[Any, Any], None] | None = None,
    corpus_rows: CorpusRows | None = None,
    check_rows: Callable[[Any, int, str], None] | None = None,
) -> Callable[[Callable[[LabellerSource], np.ndarray]], Labeller]:
    """Register the decorated ``scores`` function as the labeller ``name`` (from outside the
    loop: it returns the (len(source.pool), k) class probabilities of the pool's rows)."""

    def add(scores: Callable[[LabellerSource], np.ndarray]) -> Labeller:
        return LABELLERS.register(
            name, Labeller(help, tuple(parameters), None, scores, check, corpus_rows, check_rows)
        )

    return add


# --- the loop's own models --------------------------------------------------------------------

LABELLERS.register("current", Labeller("The model just fitted.", pick=lambda fits: fits[-1]))
LABELLERS.register(
    "previous",
    Labeller(
        "The model fitted before it (the first step: the one just fitted).",
        pick=lambda fits: fits[-2] if len(fits) > 1 else fits[-1],
    ),
)
LABELLERS.register("generation0", Labeller("The first model, frozen.", pick=lambda fits: fits[0]))
LABELLERS.register(
    "given",
    Labeller(
        "Class probabilities handed to the loop in Python: a fitted classifier or an (n, k) "
        "array (SelfLabellingLoop.fit(labeller_scores=...)); not from a config.",
    ),
)


# --- a teacher: one of our models, trained on human rows the loop never sees -----------------


def _teacher_check(corpus: Any, options: Any) -> None:
    from modelcollapse.models import get_model

    try:
        get_model(options.teacher_model)
    except UserError as exc:
        raise UserError(exc.message, "--teacher-model") from None


def _teacher_rows_check(options: Any, spare: int, study: str = "") -> None:
    if spare < options.teacher_size:
        whose = f"study {study!r}" if study else "the trajectory"
        raise UserError(
            f"teacher_size = {options.teacher_size} needs that many rows outside the loop's "
            f"pool and test set; {whose} leaves {spare} (lower teacher_size, the study's "
            "sizes or its test_size)",
            "--teacher-size",
        )


@labeller(
    "teacher",
    help="A model (--teacher-model) trained once per repeat on --teacher-size human-labelled "
    "rows outside the loop's pool and test set.",
    parameters=[
        Option("teacher_model", str, "logreg", "The teacher's registered model."),
        Option("teacher_size", int, 2000, "Human-labelled rows the teacher is trained on.", ge=2),
    ],
    check=_teacher_check,
    check_rows=_teacher_rows_check,
)
def teacher(source: LabellerSource) -> np.ndarray:
    import numpy as np

    from modelcollapse.core.seeds import model_seed
    from modelcollapse.core.training import fresh_model
    from modelcollapse.models import get_model
    from modelcollapse.scoring import class_probabilities

    opts = source.options
    spare = np.setdiff1d(np.arange(len(source.labels)), np.concatenate([source.pool, source.test]))
    _teacher_rows_check(opts, len(spare))
    rng = np.random.default_rng([source.seed, 16])
    rows = np.sort(rng.choice(spare, opts.teacher_size, replace=False))
    spec = get_model(opts.teacher_model)
    y = source.labels[rows]
    est = fresh_model(spec, y, model_seed(source.seed, opts.teacher_size))
    est.fit(source.X[rows], y)
    return class_probabilities(est, source.X[source.pool], source.n_classes)


# --- what a labeller reads of the corpus as it was read, once per run -------------------------


@dataclass(frozen=True)
class CorpusRows:
    """Values of every corpus row that a run computes once, in the main process, from the
    corpus as it was read (raw texts with their capitals and punctuation, the class names):
    what the run's features (lower-cased tokens, class codes) no longer hold. ``key`` names
    the values from the loop options alone (the trajectory finds them under it in
    ``Features.row_data``); ``compute(corpus, options)`` gives them. ``cached``: they depend on
    the texts alone (and ``key`` names their code and version), so the run keeps them in the
    cache folder of the corpus's features."""

    key: Callable[[Any], str]
    compute: Callable[[Any, Any], np.ndarray]
    cached: bool = False


@lru_cache(maxsize=1)
def _vader():  # type: ignore[no-untyped-def]
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=1)
def _vader_version() -> str:
    from importlib.metadata import version

    return version("vaderSentiment")


def vader_positive(texts: Sequence[str]) -> np.ndarray:
    """P(positive) of each text: (compound + 1) / 2, VADER's compound score (in [-1, 1])
    mapped linearly onto [0, 1], so compound 0 (no sentiment found) is 0.5. Give it the raw
    text: VADER's rules read capitals ("GREAT") and exclamation marks."""
    import numpy as np

    analyzer = _vader()
    compound = np.array([analyzer.polarity_scores(t)["compound"] for t in texts], dtype=float)
    return (compound + 1.0) / 2.0


#: Words before a sentiment word that VADER's negation rule looks at (Hutto & Gilbert 2014;
#: vaderSentiment's ``_negation_check`` reads the three words before it).
NEGATION_WINDOW = 3


def negated_reviews(texts: Sequence[str]) -> np.ndarray:
    """True for each text in which a negation precedes a sentiment word: a word of VADER's
    own negation list (``vaderSentiment.NEGATE``: not, no, never, cannot, don't, ...) or any
    word containing "n't" (as VADER's ``negated`` counts them), within the
    :data:`NEGATION_WINDOW` words before a word of VADER's lexicon, on VADER's own split into
    words. These are the reviews whose sentiment a negation may turn, where a lexicon is
    known to err."""
    import numpy as np
    from vaderSentiment.vaderSentiment import NEGATE, SentiText

    lexicon = _vader().lexicon
    negations = frozenset(NEGATE)
    flags = np.zeros(len(texts), dtype=bool)
    for row, text in enumerate(texts):
        words = [w.lower() for w in SentiText(text).words_and_emoticons]
        negation = [w in negations or "n't" in w for w in words]
        for i, word in enumerate(words):
            if word in lexicon and any(negation[max(0, i - NEGATION_WINDOW) : i]):
                flags[row] = True
                break
    return flags


VADER_ROWS = CorpusRows(
    key=lambda options: f"vader-{_vader_version()}",
    compute=lambda corpus, options: vader_positive(corpus.texts),
    cached=True,
)
#: The negation flag of every review (:func:`negated_reviews`).
NEGATED_ROWS = CorpusRows(
    key=lambda options: f"negated-vader-{_vader_version()}-window{NEGATION_WINDOW}",
    compute=lambda corpus, options: negated_reviews(corpus.texts),
    cached=True,
)


def corpus_rows_for(corpus: Any, studies: Sequence[Any]) -> list[tuple[CorpusRows, Any]]:
    """What a run of ``studies`` on ``corpus`` reads of the corpus as read, with the options
    of a study that reads it: what its labellers read and, where a study brings a labeller
    from outside the loop on two classes, the negation flags (where every loop study's label
    errors fall, its own models' included, so that they compare)."""
    needed: dict[str, tuple[CorpusRows, Any]] = {}
    options = [s.loop for s in studies if getattr(s, "loop", None) is not None]
    for opts in options:
        rows = LABELLERS[opts.labeller].corpus_rows
        if rows is not None:
            needed.setdefault(rows.key(opts), (rows, opts))
    if corpus.n_classes == 2 and any(LABELLERS[o.labeller].outside for o in options):
        needed.setdefault(NEGATED_ROWS.key(None), (NEGATED_ROWS, None))
    return list(needed.values())


def with_corpus_rows(features: Any, corpus: Any, studies: Sequence[Any]) -> Any:
    """``features`` with the :class:`CorpusRows` values a run of ``studies`` reads, computed
    from ``corpus`` (those ``cached`` read from, or else written to, the ``measures/`` folder
    of the features' cache)."""
    import io

    import numpy as np

    from modelcollapse.atomic import atomic_write

    have = dict(features.row_data)
    for rows, opts in corpus_rows_for(corpus, studies):
        key = rows.key(opts)
        if key in have:
            continue
        path = None
        if rows.cached and features.path is not None:
            path = Path(features.path) / "measures" / f"{key}.npy"
        if path is not None and path.is_file():
            have[key] = np.load(path)
            continue
        have[key] = values = np.asarray(rows.compute(corpus, opts))
        if path is not None:
            path.parent.mkdir(exist_ok=True)
            buffer = io.BytesIO()
            np.save(buffer, values)
            atomic_write(path, buffer.getvalue(), existing="keep")
    return replace(features, row_data=have)


# --- a lexicon: VADER -------------------------------------------------------------------------


def _vader_check(corpus: Any, options: Any) -> None:
    if corpus.n_classes != 2:
        raise UserError(
            f"labeller = 'vader' is binary only; the data have {corpus.n_classes} classes",
            "--labeller",
        )


@labeller(
    "vader",
    help="The VADER sentiment lexicon on the raw review text: P(positive) = (compound + 1) / 2 "
    "(binary data only).",
    check=_vader_check,
    corpus_rows=VADER_ROWS,
)
def vader(source: LabellerSource) -> np.ndarray:
    import numpy as np

    if source.n_classes != 2:
        raise UserError(
            f"labeller = 'vader' is binary only; the data have {source.n_classes} classes",
            "--labeller",
        )
    p = np.asarray(source.rows)[source.pool]
    return np.column_stack([1.0 - p, p])


# --- labels from a file -----------------------------------------------------------------------


def _numeric(names: Sequence[str]) -> bool:
    return any(str(name).strip().lstrip("-").isdigit() for name in names)


def _class_spellings(names: Sequence[str]) -> dict[str, int]:
    """How a labels file may name each class: as the corpus spells it and, unless some class
    is spelled as a number (star ratings "1".."5", whose codes 0..4 would read as other
    classes), by its code 0..k−1."""
    spell = {str(name): code for code, name in enumerate(names)}
    if not _numeric(names):
        spell.update({str(code): code for code in range(len(names))})
    return spell


def _spelled(names: Sequence[str]) -> str:
    if _numeric(names):
        return ", ".join(names) + " (spelled as numbers: names only, no codes)"
    return ", ".join(names) + f", or their codes 0..{len(names) - 1}"


def read_supplied_labels(
    path: str | Path,
    n_rows: int,
    n_classes: int,
    missing: str = "refuse",
    class_names: Sequence[str] | None = None,
) -> np.ndarray:
    """The (n_rows, k) class probabilities of a labels file (docs/data.md, "Your own machine
    labels"), a CSV with

    * ``label``: the machine label, a class as the corpus spells it (``class_names``; e.g.
      ``__label__2``) or, unless a class is spelled as a number, its code 0..k−1; empty: no
      label;
    * ``confidence`` (optional): the probability of that label, in [1/k, 1]; the rest is shared
      equally by the other classes (without it a label is certain);
    * ``p_<class>`` (optional, instead of ``confidence``): the probability of each class, one
      column per class (named as ``label`` names it), summing to 1; with them ``label`` may be
      left out, and where given it must be a most probable class;
    * ``id`` (optional): the corpus row, 0-based; without it the file's rows are the corpus's
      rows in order.

    Rows without a label are NaN; ``missing="refuse"`` refuses a file that leaves any row
    without one. Any mismatch with the corpus is a :class:`UserError` naming the file and the
    line."""
    import numpy as np

    path = Path(path)
    where = f"labels_file {path}"
    names = [str(n) for n in class_names] if class_names is not None else None
    if names is None:
        names = [str(c) for c in range(n_classes)]
    spell = _class_spellings(names)
    if not path.is_file():
        raise UserError(f"{where}: no such file")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        rows = list(reader)
    p_columns = [c for c in fields if c.startswith("p_")]
    has_id, has_conf, has_label = "id" in fields, "confidence" in fields, "label" in fields
    if not has_label and not p_columns:
        raise UserError(
            f"{where}: no 'label' column and no 'p_<class>' columns (found "
            f"{', '.join(fields) or 'none'})",
            None,
        )
    p_class: dict[str, int] = {}
    if p_columns:
        if has_conf:
            raise UserError(f"{where}: give 'confidence' or 'p_<class>' columns, not both", None)
        for column in p_columns:
            if column[2:] not in spell:
                raise UserError(
                    f"{where}: column {column!r} names no class (the corpus's classes: "
                    f"{_spelled(names)})",
                    None,
                )
            p_class[column] = spell[column[2:]]
        absent = sorted(set(range(n_classes)) - set(p_class.values()))
        if absent or len(p_class) != n_classes:
            which = ", ".join(names[c] for c in absent) if absent else "one class twice"
            raise UserError(f"{where}: the p_<class> columns leave out {which}", None)
    if not has_id and len(rows) != n_rows:
        raise UserError(
            f"{where}: {len(rows)} rows, the corpus has {n_rows} (without an 'id' column the "
            "file's rows are the corpus's, in order)",
            None,
        )
    proba = np.full((n_rows, n_classes), np.nan)
    seen = np.zeros(n_rows, dtype=bool)
    for line, row in enumerate(rows, start=2):
        if has_id:
            try:
                i = int(row["id"])
            except (TypeError, ValueError):
                raise UserError(f"{where} line {line}: id {row['id']!r} is not a row number",
                                None) from None  # fmt: skip
            if not 0 <= i < n_rows:
                raise UserError(
                    f"{where} line {line}: unknown id {i} (the corpus's rows are 0..{n_rows - 1})",
                    None,
                )
            if seen[i]:
                raise UserError(f"{where} line {line}: id {i} appears twice")
        else:
            i = line - 2
        seen[i] = True
        text = (row.get("label") or "").strip()
        label = None
        if text:
            if text not in spell:
                raise UserError(
                    f"{where} line {line}: unknown class {text!r} (the corpus's classes: "
                    f"{_spelled(names)})",
                    None,
                )
            label = spell[text]
        if p_class:
            given = {c: (row[c] or "").strip() for c in p_class}
            if not any(given.values()):
                if label is not None:
                    raise UserError(f"{where} line {line}: a label without its p_<class> "
                                    "probabilities", None)  # fmt: skip
                continue
            p = np.full(n_classes, np.nan)
            for column, value in given.items():
                with contextlib.suppress(ValueError):  # not a number: NaN, refused below
                    p[p_class[column]] = float(value)
            if not (np.all(p >= 0) and np.all(p <= 1) and abs(p.sum() - 1.0) <= 1e-3):
                raise UserError(
                    f"{where} line {line}: the p_<class> values are not probabilities summing "
                    f"to 1 ({', '.join(given.values())})",
                    None,
                )
            if label is not None and p[label] < p.max():
                raise UserError(
                    f"{where} line {line}: label {text!r} is not a most probable class of its "
                    "p_<class> values",
                    None,
                )
            proba[i] = p / p.sum()
            continue
        if label is None:
            continue
        conf = 1.0
        if has_conf and (row["confidence"] or "").strip():
            try:
                conf = float(row["confidence"])
            except ValueError:
                conf = float("nan")
            if not 1.0 / n_classes <= conf <= 1.0:
                raise UserError(
                    f"{where} line {line}: confidence {row['confidence']!r} is outside "
                    f"[{1 / n_classes:g}, 1]",
                    None,
                )
        proba[i] = (1.0 - conf) / (n_classes - 1)
        proba[i, label] = conf
    if missing == "refuse":
        unlabelled = np.flatnonzero(np.isnan(proba[:, 0]))
        if len(unlabelled):
            raise UserError(
                f"{where}: {len(unlabelled)} corpus rows have no label (first: row "
                f"{unlabelled[0]}); set missing_labels = 'skip' to leave them their human label",
                None,
            )
    return proba


def _read_file(corpus: Any, options: Any) -> np.ndarray:
    return read_supplied_labels(
        options.labels_file, len(corpus), corpus.n_classes, options.missing_labels,
        corpus.label_names,
    )  # fmt: skip


def _file_check(corpus: Any, options: Any) -> None:
    if not options.labels_file:
        raise UserError("labeller = 'file' needs labels_file (a CSV of machine labels)",
                        "--labels-file")  # fmt: skip
    _read_file(corpus, options)


@labeller(
    "file",
    help="Machine labels (and, where given, their confidence or class probabilities) read from "
    "--labels-file, matched by row id or row order (docs/data.md).",
    parameters=[
        Option(
            "labels_file", str, "",
            "CSV of machine labels: label (a class name or code), optional id, and confidence "
            "or p_<class> columns.",
            default_text="none",
        ),
        Option(
            "missing_labels", str, "refuse",
            "Corpus rows without a supplied label: refuse the file, or skip them (they keep "
            "their human label).",
            choices=("refuse", "skip"),
        ),
    ],
    check=_file_check,
    # Read once per run, where the corpus's class names are at hand.
    corpus_rows=CorpusRows(
        key=lambda options: f"labels-file:{options.labels_file}:{options.missing_labels}",
        compute=_read_file,
    ),
)  # fmt: skip
def supplied(source: LabellerSource) -> np.ndarray:
    import numpy as np

    return np.asarray(source.rows)[source.pool]


def check_labeller(corpus: Any, options: Any) -> None:
    """Refuse, before a run writes anything, input the chosen labeller cannot use."""
    part = LABELLERS[options.labeller]
    if options.labeller == "given":
        raise UserError("labeller = 'given' takes its probabilities in Python, not from a config",
                        "--labeller")  # fmt: skip
    if part.check is not None:
        part.check(corpus, options)


# --- where a labeller's errors fall ------------------------------------------------------------


def confusion_column(true: int, made: int) -> str:
    """The column counting a step's labels made ``made`` on rows whose human label is ``true``."""
    return f"label_confusion_{true}_{made}"


#: Columns of the negation split: labels made on negated reviews and on the others, and the
#: share of each that agrees with the human label.
NEGATION_COLUMNS = (
    "n_labels_negated", "n_labels_other", "label_accuracy_negated", "label_accuracy_other",
)  # fmt: skip


def label_errors(
    batches: Sequence[Any],
    y_true: np.ndarray,
    n_classes: int,
    n_steps: int,
    negated: np.ndarray | None = None,
) -> dict[str, list[float]]:
    """Per step, where the labels a labeller made (``SelfLabellingLoop.label_batches_``) went
    wrong: the confusion counts (:func:`confusion_column`: human class × label made; 0 at a
    step that made none) and, given the ``negated`` flag of each pool row
    (:func:`negated_reviews`), the labels made on negated and other reviews and their accuracy
    (:data:`NEGATION_COLUMNS`; NaN without such labels). ``y_true``: the pool's human labels.
    The counts' diagonal over their sum is the step's ``model_label_accuracy``."""
    import numpy as np

    k = n_classes
    counts = np.zeros((n_steps, k, k), dtype=np.int64)
    split = np.full((n_steps, 4), np.nan)
    for batch in batches:
        true = np.asarray(y_true)[batch.rows]
        np.add.at(counts[batch.step], (true, np.asarray(batch.labels)), 1)
        if negated is not None:
            right = true == batch.labels
            flag = np.asarray(negated)[batch.rows]
            n_neg, n_other = int(flag.sum()), int((~flag).sum())
            split[batch.step] = (
                n_neg, n_other,
                right[flag].mean() if n_neg else np.nan,
                right[~flag].mean() if n_other else np.nan,
            )  # fmt: skip
    columns: dict[str, list[float]] = {
        confusion_column(t, m): counts[:, t, m].tolist() for t in range(k) for m in range(k)
    }
    if negated is not None:
        for step in range(n_steps):  # a step without labels made none on either group
            if np.isnan(split[step, 0]):
                split[step, :2] = 0
        for j, name in enumerate(NEGATION_COLUMNS):
            columns[name] = split[:, j].tolist()
    return columns


def check_labeller_rows(plan: Sequence[Any], n_rows: int, test_mask: Any = None) -> None:
    """Refuse, before a run writes anything, a plan whose labellers need more rows outside a
    trajectory's pool and test set than it leaves (a teacher's ``teacher_size``)."""
    import numpy as np

    from modelcollapse.engines.base import n_test_rows

    n_fixed = None if test_mask is None else int(np.sum(test_mask))
    for traj in plan:
        part = LABELLERS[traj.options.labeller]
        if part.check_rows is None:
            continue
        if n_fixed is None:
            n_test = n_test_rows(traj.test_size, n_rows, traj.pool_size)
        elif isinstance(traj.test_size, int):
            n_test = min(traj.test_size, n_fixed)
        else:
            n_test = n_fixed
        part.check_rows(traj.options, n_rows - traj.pool_size - n_test, traj.experiment)


__all__ = [
    "LABELLERS",
    "NEGATED_ROWS",
    "NEGATION_COLUMNS",
    "CorpusRows",
    "Labeller",
    "LabellerSource",
    "check_labeller",
    "check_labeller_rows",
    "confusion_column",
    "label_errors",
    "labeller",
    "negated_reviews",
    "read_supplied_labels",
    "vader_positive",
    "with_corpus_rows",
]
