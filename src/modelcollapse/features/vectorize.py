"""Tokenise and count a corpus once; every trajectory slices the cached matrix.

The whole corpus is counted with one vocabulary whose columns are in sorted
order, as :class:`~sklearn.feature_extraction.text.CountVectorizer` sorts them.
Restricting a slice of rows to the columns those rows use
(:func:`restrict_to_vocabulary`) gives exactly the matrix a CountVectorizer
fitted on those rows alone would give, so models see the same input as in a
per-step refit, without re-tokenising or re-counting text.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from modelcollapse.data.corpus import Corpus
from modelcollapse.errors import UserError
from modelcollapse.features.cache import cache_dir
from modelcollapse.features.tokenize import tokenize

# Bump when tokens or counts for the same settings would change.
FEATURES_VERSION = 1


@dataclass(frozen=True, eq=False)
class Features:
    """Term counts of a whole corpus (rows = reviews, columns = sorted terms)."""

    X: sp.csr_matrix
    labels: np.ndarray
    key: str
    path: Path | None = None
    test_mask: np.ndarray | None = None  # rows of a fixed test split, if the corpus has one
    tokens_path: Path | None = None  # the cached tokens behind X, read by `documents`
    in_memory_documents: list[str] | None = field(default=None, repr=False)  # when uncached

    @property
    def n_rows(self) -> int:
        return self.X.shape[0]

    @cached_property
    def documents(self) -> list[str]:
        """Each review's tokens joined by spaces, read on first use.

        Only studies that write text need them: X has lost the order of words.
        """
        if self.in_memory_documents is not None:
            return self.in_memory_documents
        if self.tokens_path is None or not self.tokens_path.exists():
            raise UserError(
                f"the cached tokens are gone ({self.tokens_path}); delete this folder to rebuild",
                str(self.path),
            )
        return pd.read_parquet(self.tokens_path)["tokens"].tolist()


def _split(doc: str) -> list[str]:
    return doc.split()


def token_cache_path(corpus: Corpus, tokenizer: str) -> Path:
    return _token_path(corpus.fingerprint, tokenizer)


def _token_path(fingerprint: str, tokenizer: str) -> Path:
    return cache_dir() / "tokens" / f"{fingerprint[:24]}-{tokenizer}-v{FEATURES_VERSION}.parquet"


def tokenized_documents(corpus: Corpus, tokenizer: str, use_cache: bool = True) -> list[str]:
    """Each review as its tokens joined by single spaces; tokenised once per corpus."""
    path = token_cache_path(corpus, tokenizer)
    if use_cache and path.exists():
        return pd.read_parquet(path)["tokens"].tolist()
    docs = [" ".join(tokens) for tokens in tokenize(corpus.texts, tokenizer)]
    if use_cache:
        _atomic_write(path, lambda tmp: pd.DataFrame({"tokens": docs}).to_parquet(tmp))
    return docs


def features_key(corpus: Corpus, tokenizer: str, ngram_range: tuple[int, int]) -> str:
    raw = f"{corpus.fingerprint}|{tokenizer}|{ngram_range[0]}-{ngram_range[1]}|v{FEATURES_VERSION}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def featurize(
    corpus: Corpus,
    tokenizer: str,
    ngram_range: tuple[int, int] = (1, 1),
    use_cache: bool = True,
) -> Features:
    """Count matrix of the whole corpus, from the on-disk cache when it is there."""
    key = features_key(corpus, tokenizer, ngram_range)
    folder = cache_dir() / "features" / key
    if use_cache and (folder / "meta.json").exists():
        return load_features(folder)
    docs = tokenized_documents(corpus, tokenizer, use_cache)
    vectorizer = CountVectorizer(
        analyzer="word",
        tokenizer=_split,
        preprocessor=None,
        lowercase=False,
        token_pattern=None,
        ngram_range=ngram_range,
        dtype=np.int32,
    )
    X = vectorizer.fit_transform(docs).tocsr()
    X.sort_indices()
    labels = np.asarray(corpus.labels, dtype=np.int8)
    mask = None if corpus.test_mask is None else np.asarray(corpus.test_mask, dtype=bool)
    if not use_cache:
        return Features(X=X, labels=labels, key=key, test_mask=mask, in_memory_documents=docs)

    def write(tmp: Path) -> None:
        tmp.mkdir()
        for name in ("data", "indices", "indptr"):
            np.save(tmp / f"{name}.npy", getattr(X, name))
        np.save(tmp / "labels.npy", labels)
        if mask is not None:
            np.save(tmp / "test_mask.npy", mask)
        terms = vectorizer.get_feature_names_out()
        (tmp / "vocabulary.txt").write_text("\n".join(terms) + "\n", encoding="utf-8")
        meta = {
            "key": key,
            "shape": list(X.shape),
            "tokenizer": tokenizer,
            "ngram_range": list(ngram_range),
            "corpus_fingerprint": corpus.fingerprint,
            "version": FEATURES_VERSION,
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))

    _atomic_write(folder, write)
    return load_features(folder)


@cache
def load_features(folder: Path) -> Features:
    """Memory-map a cached matrix; memoised so a worker process loads it once."""
    meta = json.loads((folder / "meta.json").read_text())
    arrays = {n: np.load(folder / f"{n}.npy", mmap_mode="r") for n in ("data", "indices", "indptr")}
    X = sp.csr_matrix(
        (arrays["data"], arrays["indices"], arrays["indptr"]), shape=tuple(meta["shape"])
    )
    labels = np.load(folder / "labels.npy")
    mask_path = folder / "test_mask.npy"
    mask = np.load(mask_path) if mask_path.exists() else None
    tokens = _token_path(meta["corpus_fingerprint"], meta["tokenizer"])
    return Features(
        X=X, labels=labels, key=meta["key"], path=folder, test_mask=mask, tokens_path=tokens
    )


def restrict_to_vocabulary(
    X_train: sp.csr_matrix, *others: sp.csr_matrix
) -> tuple[np.ndarray, list[sp.csr_matrix]]:
    """Keep only the columns the training rows use (the vocabulary of a refit vectoriser)."""
    columns = np.flatnonzero(np.diff(X_train.tocsc().indptr)) if X_train.nnz else np.array([], int)
    return columns, [m[:, columns] for m in (X_train, *others)]


def _atomic_write(target: Path, write) -> None:
    """Write to a temporary sibling, then rename: readers never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    tmp.rmdir()
    try:
        write(tmp)
        try:
            os.replace(tmp, target)
        except OSError:
            # Another process cached the same key first: its copy is identical.
            if not target.exists():
                raise
    finally:
        if tmp.exists():
            _remove(tmp)


def _remove(path: Path) -> None:
    if path.is_dir():
        for child in path.iterdir():
            _remove(child)
        path.rmdir()
    else:
        path.unlink()
