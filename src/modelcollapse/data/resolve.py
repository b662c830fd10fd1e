"""What ``--data`` names, as a :class:`Corpus`: the built-in corpus, a file, or an imported one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from modelcollapse.data.corpus import Corpus
from modelcollapse.errors import UserError


def load_data(
    data: str | Corpus,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    labels: str | Sequence[str] | None = None,
) -> Corpus:
    """``"demo"`` (built in), a path, the name of an imported corpus, or a ready :class:`Corpus`.

    A path wins over a name. An imported corpus brings its own test split as ``test_mask``.
    ``text_column``/``label_column`` name a file's columns (else they are guessed);
    ``labels`` (``--labels a,b,c``) fixes the class order and refuses other labels: for a
    file while it is read, for an imported or built-in corpus by recoding its classes.
    """
    from modelcollapse.data.readers import parse_labels

    order = parse_labels(labels)
    if isinstance(data, Corpus) or data == "demo" or not Path(data).exists():
        columns = [o for o, v in (("--text-column", text_column), ("--label-column", label_column))
                   if v is not None]  # fmt: skip
        if columns:
            what = "a ready corpus" if isinstance(data, Corpus) else f"'{data}'"
            raise UserError(
                f"applies to a data file; {what} has its columns chosen already", columns[0]
            )
    if isinstance(data, Corpus):
        corpus = data
    elif data == "demo":
        from modelcollapse.data.demo import make_demo_corpus

        corpus = make_demo_corpus()
    else:
        from modelcollapse.data.home import (
            get_data_home,
            imported_names,
            is_imported,
            load_imported,
        )
        from modelcollapse.data.readers import read_corpus

        if Path(data).exists():
            return read_corpus(
                data, text_column=text_column, label_column=label_column, labels=order
            )
        if not is_imported(data):
            names = imported_names() or f"none in {get_data_home()}"
            raise UserError(
                f"'{data}' is neither a file nor an imported corpus (imported: {names}; "
                "add one with 'modelcollapse data import PATH')",
                "--data",
            )
        corpus = load_imported(data)
    return corpus if order is None else corpus.with_label_order(order)


def check_classes(corpus: Corpus, what: str, where: str | None = "--data") -> None:
    """Refuse, in one line, a corpus whose classes a model cannot learn: a class with no row,
    or one seen only in the fixed test split (no training row could teach it)."""
    counts = corpus.class_counts()
    empty = [n for n, c in zip(corpus.label_names, counts, strict=True) if c == 0]
    if empty:
        raise UserError(
            f"class {', '.join(map(repr, empty))} of {what} has no rows (classes: "
            f"{', '.join(corpus.label_names)}); a model cannot learn a class it never sees", where
        )  # fmt: skip
    if corpus.test_mask is None:
        return
    mask = np.asarray(corpus.test_mask, dtype=bool)
    labels = np.asarray(corpus.labels, dtype=np.int64)
    train = np.bincount(labels[~mask], minlength=corpus.n_classes)
    test = np.bincount(labels[mask], minlength=corpus.n_classes)
    names = corpus.label_names
    unseen = [(n, int(t)) for n, c, t in zip(names, train, test, strict=True) if c == 0]
    if unseen:
        name, rows = unseen[0]
        raise UserError(
            f"label {name!r} is only in the test split of {what} ({rows:,} "
            f"row{'' if rows == 1 else 's'}): no training row "
            "has it, so no model can learn it; remove those rows or add training rows with it",
            where,
        )
