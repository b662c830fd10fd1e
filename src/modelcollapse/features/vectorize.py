"""Tokenise and count a corpus once; every trajectory slices the cached matrix.

The whole corpus is counted with one vocabulary whose columns are in sorted
order, as :class:`~sklearn.feature_extraction.text.CountVectorizer` sorts them.
Restricting a slice of rows to the columns those rows use
(:func:`restrict_to_vocabulary`) gives exactly the matrix a CountVectorizer
fitted on those rows alone would give, so models see the same input as in a
per-step refit, without re-tokenising or re-counting text.

Counting streams: reviews are tokenised and counted ``chunk_size`` at a time (on
``jobs`` processes), each chunk against its own vocabulary; the main process maps
every chunk's terms into one growing vocabulary and spills the chunk's counts to
disk. A last pass renumbers the columns in sorted-term order and sorts each row,
which is the canonical CSR form, so the matrix and the vocabulary are those of a
one-shot ``CountVectorizer.fit_transform`` whatever the chunk size or number of
jobs. Memory stays at the texts plus a few chunks; the tokens go to the cache as
they are made, never through pandas.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cache, cached_property, partial
from pathlib import Path
from typing import IO, Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from modelcollapse.atomic import atomic_path, atomic_write, clean_stale_temps
from modelcollapse.data.corpus import Corpus
from modelcollapse.errors import UserError
from modelcollapse.features.cache import (
    HashingFile,
    cache_dir,
    check_files,
    read_meta,
    set_aside,
)
from modelcollapse.features.tokenize import TOKENIZERS, get_tokenizer
from modelcollapse.linalg import column_rank, take_columns, used_columns

# Bump when tokens or counts for the same settings would change: it is part of
# every token-cache file name and features key. 2: seed keeps non-ASCII letters
# and digits and counts as CountVectorizer's default token pattern; fast splits
# Unicode text into words (issue #17).
FEATURES_VERSION = 2

#: Reviews tokenised and counted per chunk (per task when ``jobs > 1``).
CHUNK_SIZE = 50_000

# Below this many chunks, starting worker processes costs more than it saves.
_MIN_CHUNKS_PER_JOB = 2


@dataclass(frozen=True, eq=False)
class Features:
    """Term counts of a whole corpus (rows = reviews, columns = sorted terms), and its tokens.

    ``X`` is None for a model that reads token text (``ModelSpec.input == "documents"``):
    :func:`featurize` with ``counts=False`` builds no count matrix.
    """

    X: sp.csr_matrix | None
    labels: np.ndarray
    key: str
    path: Path | None = None
    test_mask: np.ndarray | None = None  # rows of a fixed test split, if the corpus has one
    tokens_path: Path | None = None  # the cached tokens behind X, read by `documents`
    in_memory_documents: list[str] | None = field(default=None, repr=False)  # when uncached
    tokenizer: str = "fast"  # whose documents these are: count them with count_vectorizer
    #: k of the label codes 0 … k−1: the corpus's classes (``len(label_names)``), not the
    #: largest label seen.
    n_classes: int = 2
    #: Per-row values a run computed from the corpus as it was read (raw texts, class names),
    #: by key (``core.labellers.CorpusRows``): what labellers read that the tokens lost.
    row_data: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def n_rows(self) -> int:
        return len(self.labels)

    @cached_property
    def document_array(self) -> np.ndarray:
        """:attr:`documents` as a NumPy array of strings, for row indexing like ``X``."""
        docs = np.empty(len(self.documents), dtype=object)
        docs[:] = self.documents
        return docs

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
        return _read_tokens(self.tokens_path)


def _split(doc: str) -> list[str]:
    return doc.split()


def count_vectorizer(ngram_range: tuple[int, int], tokenizer: str) -> CountVectorizer:
    """The CountVectorizer that counts ``tokenizer``'s documents (its tokens joined by
    spaces), whose ``fit_transform`` :func:`count_documents` reproduces.

    ``seed`` documents are counted as the original study counted them, by
    ``CountVectorizer(min_df=1, ngram_range=...)``: its default token pattern
    ``(?u)\\b\\w\\w+\\b`` drops one-character tokens ("u", "3", "é"), before
    n-grams are formed. ``fast`` documents are counted token by token, one-character
    tokens included.
    """
    if tokenizer not in TOKENIZERS:
        get_tokenizer(tokenizer)  # raises the one-line error naming --tokenizer
    if tokenizer == "seed":
        return CountVectorizer(min_df=1, ngram_range=ngram_range, dtype=np.int32)
    return CountVectorizer(
        analyzer="word",
        tokenizer=_split,
        preprocessor=None,
        lowercase=False,
        token_pattern=None,
        ngram_range=ngram_range,
        dtype=np.int32,
    )


@cache
def _analyzer(ngram_range: tuple[int, int], tokenizer: str) -> Callable[[str], list[str]]:
    return count_vectorizer(tuple(ngram_range), tokenizer).build_analyzer()


def token_cache_path(corpus: Corpus, tokenizer: str) -> Path:
    return _token_path(corpus.fingerprint, tokenizer)


def _token_path(fingerprint: str, tokenizer: str) -> Path:
    return cache_dir() / "tokens" / f"{fingerprint[:24]}-{tokenizer}-v{FEATURES_VERSION}.parquet"


def features_key(corpus: Corpus, tokenizer: str, ngram_range: tuple[int, int] | None) -> str:
    """The cache key of the counts (``ngram_range``) or of the documents alone (None)."""
    grams = "documents" if ngram_range is None else f"{ngram_range[0]}-{ngram_range[1]}"
    raw = f"{corpus.fingerprint}|{tokenizer}|{grams}|v{FEATURES_VERSION}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def featurize(
    corpus: Corpus,
    tokenizer: str,
    ngram_range: tuple[int, int] = (1, 1),
    use_cache: bool = True,
    *,
    jobs: int | None = 1,
    chunk_size: int = CHUNK_SIZE,
    counts: bool = True,
) -> Features:
    """Count matrix of the whole corpus, from the on-disk cache when it is there.

    ``counts=False`` (a model that reads token text): the documents only, tokenised into the
    token cache (or memory, without ``use_cache``) and no count matrix (``X`` is None).

    Counted in chunks of ``chunk_size`` reviews on ``jobs`` processes (None: every
    available core, up to 4); fewer when there are too few chunks to share (under 2
    per process). The result does not depend on either. One process is the default:
    on a machine that other jobs keep busy, worker processes were slower, not faster.
    """
    if not counts:
        return _documents_only(corpus, tokenizer, use_cache, chunk_size)
    key = features_key(corpus, tokenizer, ngram_range)
    folder = cache_dir() / "features" / key
    if use_cache and (folder.exists() or folder.is_symlink()):
        problem = _features_problem(folder, key, corpus.fingerprint)
        if problem is None:
            _check_token_cache(corpus, tokenizer, chunk_size)
            return load_features(folder)
        set_aside(folder, problem)
        load_features.cache_clear()  # this process may have mapped the old files
    chunk_size = max(1, int(chunk_size))
    ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
    labels = np.asarray(corpus.labels, dtype=np.int8)
    mask = None if corpus.test_mask is None else np.asarray(corpus.test_mask, dtype=bool)
    n = len(corpus)
    jobs = _jobs(jobs, n, chunk_size)
    token_path = token_cache_path(corpus, tokenizer)

    if not use_cache:
        get_tokenizer(tokenizer)  # an unknown name or a missing WordNet fails here, once
        docs: list[str] = []
        counter = _Counter(None)
        texts = _chunks(corpus.texts, chunk_size)
        for piece in _pieces(texts, tokenizer, ngram_range, jobs, tokenize=True):
            assert piece.docs is not None
            docs.extend(piece.docs)
            counter.add(piece)
        terms, indptr, parts = counter.finish()
        X = _assemble(len(terms), indptr, parts)
        return Features(
            X=X,
            labels=labels,
            key=key,
            test_mask=mask,
            in_memory_documents=docs,
            tokenizer=tokenizer,
            n_classes=corpus.n_classes,
        )

    for leftovers in (folder.parent, token_path.parent):  # of killed featurisations
        clean_stale_temps(leftovers)
    cached_tokens = _token_cache_ok(token_path, corpus, tokenizer)
    if not cached_tokens:
        get_tokenizer(tokenizer)

    def write(tmp: Path) -> None:
        tmp.mkdir()
        counter = _Counter(tmp)
        with ExitStack() as stack:
            if cached_tokens:
                source = _token_chunks(token_path, chunk_size)
                pieces = _pieces(source, tokenizer, ngram_range, jobs, tokenize=False)
                for piece in pieces:
                    counter.add(piece)
            else:
                writer = stack.enter_context(_TokenWriter(token_path, corpus, tokenizer))
                source = _chunks(corpus.texts, chunk_size)
                for piece in _pieces(source, tokenizer, ngram_range, jobs, tokenize=True):
                    assert piece.docs is not None
                    writer.write(piece.docs)
                    counter.add(piece)
                writer.commit()
        terms, indptr, parts = counter.finish()
        records = {"indptr.npy": _save_npy(tmp / "indptr.npy", indptr)}
        nnz = int(indptr[-1])
        with ExitStack() as stack:
            files = {
                name: stack.enter_context(_NpyWriter(tmp / f"{name}.npy", dtype, nnz))
                for name, dtype in (("indices", indptr.dtype), ("data", np.int32))
            }
            for indices, data in parts:
                files["indices"].write(indices)
                files["data"].write(data)
        records.update({f"{name}.npy": file.record() for name, file in files.items()})
        counter.cleanup()
        records["labels.npy"] = _save_npy(tmp / "labels.npy", labels)
        if mask is not None:
            records["test_mask.npy"] = _save_npy(tmp / "test_mask.npy", mask)
        with HashingFile(tmp / "vocabulary.txt") as fh:
            for lines in _term_lines(terms):
                fh.write(lines)
        records["vocabulary.txt"] = fh.record()
        meta = {
            "key": key,
            "shape": [n, len(terms)],
            "tokenizer": tokenizer,
            "ngram_range": list(ngram_range),
            "corpus_fingerprint": corpus.fingerprint,
            "version": FEATURES_VERSION,
            "n_classes": corpus.n_classes,
            "files": records,  # checked on every load: see features.cache
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))

    # Another process may cache the same key first: its copy is identical.
    atomic_write(folder, write, existing="keep")
    return load_features(folder)


def _documents_only(corpus: Corpus, tokenizer: str, use_cache: bool, chunk_size: int) -> Features:
    labels = np.asarray(corpus.labels, dtype=np.int8)
    mask = None if corpus.test_mask is None else np.asarray(corpus.test_mask, dtype=bool)
    key = features_key(corpus, tokenizer, None)
    token_path = token_cache_path(corpus, tokenizer)
    if use_cache and _token_cache_ok(token_path, corpus, tokenizer):
        return Features(None, labels, key, test_mask=mask, tokens_path=token_path,
                        tokenizer=tokenizer, n_classes=corpus.n_classes)  # fmt: skip
    fn = get_tokenizer(tokenizer)  # an unknown name or a missing WordNet fails here, once
    if use_cache:
        clean_stale_temps(token_path.parent)  # of killed featurisations
    chunks = (
        [" ".join(fn(text)) for text in chunk]
        for chunk in _chunks(corpus.texts, max(1, int(chunk_size)))
    )
    if not use_cache:
        docs = [doc for chunk in chunks for doc in chunk]
        return Features(None, labels, key, test_mask=mask, in_memory_documents=docs,
                        tokenizer=tokenizer, n_classes=corpus.n_classes)  # fmt: skip
    with _TokenWriter(token_path, corpus, tokenizer) as writer:
        for chunk in chunks:
            writer.write(chunk)
        writer.commit()
    return Features(None, labels, key, test_mask=mask, tokens_path=token_path,
                    tokenizer=tokenizer, n_classes=corpus.n_classes)  # fmt: skip


def count_documents(
    docs: Iterable[str],
    ngram_range: tuple[int, int],
    tokenizer: str,
    *,
    chunk_size: int = CHUNK_SIZE,
    jobs: int = 1,
) -> tuple[sp.csr_matrix, list[str]]:
    """``CountVectorizer`` counts of ``tokenizer``'s documents and its sorted terms.

    The same matrix (values, dtypes, sorted indices) and vocabulary as
    ``fit_transform`` of :func:`count_vectorizer`, which :func:`featurize` uses,
    counted in chunks.
    """
    counter = _Counter(None)
    chunks = _chunks(docs, max(1, int(chunk_size)))
    ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
    count_vectorizer(ngram_range, tokenizer)  # an unknown name fails here, once
    for piece in _pieces(chunks, tokenizer, ngram_range, jobs, tokenize=False):
        counter.add(piece)
    terms, indptr, parts = counter.finish()
    return _assemble(len(terms), indptr, parts), terms.to_pylist()


# --------------------------------------------------------------------------- streaming


def _jobs(jobs: int | None, n_rows: int, chunk_size: int) -> int:
    n_chunks = -(-n_rows // chunk_size)
    if jobs is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cores = os.cpu_count() or 1
        jobs = min(cores, 4)
    if jobs < 1:
        raise UserError(f"must be at least 1, got {jobs}", "--jobs")
    return max(1, min(jobs, n_chunks // _MIN_CHUNKS_PER_JOB))


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    if isinstance(items, list):
        for start in range(0, len(items), size):
            yield items[start : start + size]
        return
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class _Piece:
    """One chunk counted against its own vocabulary ``terms`` (in first-seen order).

    ``cols`` are ids into ``terms``, ascending within each row; ``row_nnz`` counts a
    row's entries. ``docs`` are the chunk's documents when it was tokenised here.
    """

    docs: list[str] | None
    terms: list[str]
    row_nnz: np.ndarray
    cols: np.ndarray
    counts: np.ndarray


def _count_chunk(
    chunk: list[str], tokenizer: str, ngram_range: tuple[int, int], tokenize: bool
) -> _Piece:
    """Count ``chunk``'s documents as ``tokenizer``'s (see :func:`count_vectorizer`),
    tokenising its texts first if ``tokenize``, else it holds the documents.
    """
    if tokenize:
        fn = get_tokenizer(tokenizer)
        docs = [" ".join(fn(text)) for text in chunk]
    else:
        docs = chunk
    analyze = _analyzer(ngram_range, tokenizer)
    vocab: defaultdict[str, int] = defaultdict()
    vocab.default_factory = vocab.__len__  # a new term gets the next id
    lookup = vocab.__getitem__
    ids: list[int] = []
    lengths: list[int] = []
    for doc in docs:
        terms = analyze(doc)
        lengths.append(len(terms))
        ids.extend(map(lookup, terms))
    # The default factory is the dict's own method: a reference cycle that only the garbage
    # collector's rare full passes would free, keeping every chunk's terms alive until then
    # (issue #15: gigabytes at 3.6M reviews). Breaking it frees them on return.
    vocab.default_factory = None
    n, n_terms = len(docs), len(vocab)
    if ids:
        rows = np.repeat(np.arange(n, dtype=np.int64), np.asarray(lengths, dtype=np.int64))
        keys = rows * n_terms + np.asarray(ids, dtype=np.int64)
        keys, counts = np.unique(keys, return_counts=True)
        row_of = keys // n_terms
        cols = (keys - row_of * n_terms).astype(np.int32)
        row_nnz = np.bincount(row_of, minlength=n).astype(np.int64)
    else:
        cols = np.zeros(0, dtype=np.int32)
        counts = np.zeros(0, dtype=np.int64)
        row_nnz = np.zeros(n, dtype=np.int64)
    return _Piece(
        docs if tokenize else None,
        list(vocab),
        row_nnz,
        cols,
        counts.astype(np.int32),
    )


def _pieces(
    chunks: Iterator[list[str]],
    tokenizer: str,
    ngram_range: tuple[int, int],
    jobs: int,
    *,
    tokenize: bool,
) -> Iterator[_Piece]:
    """Counted chunks, in order: here, or on ``jobs`` worker processes."""
    task = partial(_count_chunk, tokenizer=tokenizer, ngram_range=ngram_range, tokenize=tokenize)
    if jobs == 1:
        yield from map(task, chunks)
        return
    from joblib import Parallel, delayed

    # At most 2 chunks per worker in flight: memory stays a few chunks.
    from modelcollapse.run.executors import worker_processes

    with worker_processes():  # the run's workers: they die with this process
        parallel = Parallel(
            n_jobs=jobs, return_as="generator", batch_size=1, pre_dispatch="2*n_jobs"
        )
    yield from parallel(delayed(task)(chunk) for chunk in chunks)


class _Vocabulary:
    """A growing map of terms to ids (in first-seen order) with no Python object per term.

    The corpus's terms are kept as UTF-8 in Arrow arrays and found by their hash in a sorted
    NumPy array: 47 bytes a term where a dict of strings took 142 (measured, docs/benchmarks.md;
    issue #15: the Heaps-faithful corpus's 4M reviews have 54 million unigram and bigram
    terms). A hash
    only proposes an id: every match is checked against the stored term, and a term whose
    hash another term already has gets its own id through a small dict, so ids are exact
    whatever the hash function. Python's own string hash is used, since each chunk's
    counting has computed it already (it is cached on the string).
    """

    def __init__(self, hash_fn: Callable[[str], int] = hash) -> None:
        self._hash = hash_fn
        self._hashes = np.zeros(0, dtype=np.int64)  # sorted
        self._ids = np.zeros(0, dtype=np.int64)  # the id of each hash above
        self._stored: list[Any] = []  # Arrow arrays of the terms, in id order
        self._collided: dict[str, int] = {}  # terms whose hash an earlier term has
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def ids(self, terms: list[str]) -> np.ndarray:
        """The id of each of ``terms`` (distinct strings), new terms getting the next ids."""
        import pyarrow as pa
        import pyarrow.compute as pc

        n = len(terms)
        out = np.full(n, -1, dtype=np.int64)
        if n == 0:
            return out
        hashes = np.fromiter(map(self._hash, terms), dtype=np.int64, count=n)
        arrow_terms = pa.array(terms, type=pa.large_string())
        if self._collided:
            for i, term in enumerate(terms):
                found = self._collided.get(term)
                if found is not None:
                    out[i] = found
        # Looked up in sorted order: successive searches then walk nearby parts of the
        # (large) sorted array, several times faster than in the terms' order.
        order = np.argsort(hashes)
        known = np.zeros(n, dtype=bool)  # the hash is in the index (perhaps another term's)
        where = np.zeros(n, dtype=np.int64)
        if len(self._hashes):
            ordered = hashes[order]
            at = np.searchsorted(self._hashes, ordered)
            inside = at < len(self._hashes)
            found = np.zeros(n, dtype=bool)
            found[inside] = self._hashes[at[inside]] == ordered[inside]
            known[order], where[order] = found, at
            rows = np.flatnonzero(known & (out < 0))
            if len(rows):
                candidates = self._ids[where[rows]]
                stored = self._all_terms().take(pa.array(candidates)).combine_chunks()
                asked = arrow_terms.take(pa.array(rows))
                same = pc.equal(stored, asked).to_numpy(zero_copy_only=False)
                out[rows[same]] = candidates[same]
        new = np.flatnonzero(out < 0)
        if len(new) == 0:
            return out
        # New terms, in first-seen order; of several sharing a hash, the first is indexed
        # by it unless an earlier term already holds it, the others go to the dict.
        new_hashes = hashes[new]
        _, first = np.unique(new_hashes, return_index=True)
        indexed = np.zeros(len(new), dtype=bool)
        indexed[first] = True
        indexed &= ~known[new]
        new_ids = np.arange(self._n, self._n + len(new), dtype=np.int64)
        out[new] = new_ids
        for i in np.flatnonzero(~indexed):
            self._collided[terms[new[i]]] = int(new_ids[i])
        self._insert(new_hashes[indexed], new_ids[indexed])
        self._stored.append(arrow_terms.take(pa.array(new)))
        self._n += len(new)
        return out

    def _insert(self, hashes: np.ndarray, ids: np.ndarray) -> None:
        order = np.argsort(hashes, kind="stable")
        hashes, ids = hashes[order], ids[order]
        at = np.searchsorted(self._hashes, hashes)
        self._hashes = np.insert(self._hashes, at, hashes)
        self._ids = np.insert(self._ids, at, ids)

    def _all_terms(self) -> Any:
        import pyarrow as pa

        return pa.chunked_array(self._stored, type=pa.large_string())

    def sorted_terms(self) -> tuple[Any, np.ndarray]:
        """The terms in sorted order (an Arrow array) and each id's position in it.

        Arrow orders strings by their UTF-8 bytes, which is the order of their code points,
        as ``sorted()`` orders Python strings.
        """
        import pyarrow.compute as pc

        terms = self._all_terms().combine_chunks()
        self._stored = [terms]
        order = pc.sort_indices(terms).to_numpy()
        position = np.empty(len(terms), dtype=np.int64)
        position[order] = np.arange(len(terms), dtype=np.int64)
        return terms.take(order), position


def _term_lines(terms: Any, batch: int = 1 << 20) -> Iterator[bytes]:
    """The vocabulary file's bytes (one term per line, UTF-8), a batch of terms at a time."""
    for start in range(0, len(terms), batch):
        yield ("\n".join(terms.slice(start, batch).to_pylist()) + "\n").encode("utf-8")


# The hash that proposes a term's id (checked against the term): tests set a weak one.
_term_hash: Callable[[str], int] = hash


class _Counter:
    """Merges counted chunks into one vocabulary; spills their entries to ``spill`` if set."""

    def __init__(self, spill: Path | None) -> None:
        self.vocab = _Vocabulary(_term_hash)
        self.row_nnz: list[np.ndarray] = []
        self.sizes: list[int] = []  # entries per piece
        self.kept: list[tuple[np.ndarray, np.ndarray]] = []
        self.spill = spill
        self._files: dict[str, IO[bytes]] = {}
        if spill is not None:
            for name in ("cols", "counts"):
                self._files[name] = open(spill / f".{name}.tmp", "wb")  # noqa: SIM115

    def add(self, piece: _Piece) -> None:
        lut = self.vocab.ids(piece.terms).astype(np.int32)
        cols = lut[piece.cols]
        self.row_nnz.append(piece.row_nnz)
        self.sizes.append(len(cols))
        if self.spill is None:
            self.kept.append((cols, piece.counts))
        else:
            cols.tofile(self._files["cols"])
            piece.counts.astype(np.int32, copy=False).tofile(self._files["counts"])

    def finish(self) -> tuple[Any, np.ndarray, Iterator[tuple[np.ndarray, np.ndarray]]]:
        """Sorted terms (an Arrow string array), indptr, and each piece's (indices, data) in
        canonical CSR order."""
        for fh in self._files.values():
            fh.close()
        if not len(self.vocab):
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        terms, position = self.vocab.sorted_terms()
        self.vocab = _Vocabulary(_term_hash)  # the sorted copy is all that is needed now
        row_nnz = np.concatenate(self.row_nnz) if self.row_nnz else np.zeros(0, np.int64)
        nnz = int(row_nnz.sum())
        # As CountVectorizer: 32-bit indices unless the entries need 64.
        dtype = np.int64 if nnz > np.iinfo(np.int32).max else np.int32
        indptr = np.zeros(len(row_nnz) + 1, dtype=dtype)
        np.cumsum(row_nnz, out=indptr[1:])
        return terms, indptr, self._canonical(position, dtype)

    def _canonical(
        self, position: np.ndarray, dtype: type[np.integer]
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n_terms = len(position)
        offset = 0
        for row_nnz, size in zip(self.row_nnz, self.sizes, strict=True):
            if self.spill is None:
                cols, counts = self.kept.pop(0)
            else:
                cols = np.fromfile(
                    self.spill / ".cols.tmp", dtype=np.int32, count=size, offset=4 * offset
                )
                counts = np.fromfile(
                    self.spill / ".counts.tmp", dtype=np.int32, count=size, offset=4 * offset
                )
            offset += size
            new = position[cols]
            rows = np.repeat(np.arange(len(row_nnz), dtype=np.int64), row_nnz)
            order = np.argsort(rows * n_terms + new)
            yield new[order].astype(dtype), counts[order]

    def cleanup(self) -> None:
        if self.spill is not None:
            for name in ("cols", "counts"):
                (self.spill / f".{name}.tmp").unlink(missing_ok=True)


def _assemble(
    n_terms: int, indptr: np.ndarray, parts: Iterator[tuple[np.ndarray, np.ndarray]]
) -> sp.csr_matrix:
    pieces = list(parts)
    indices = np.concatenate([p[0] for p in pieces]) if pieces else np.zeros(0, indptr.dtype)
    data = np.concatenate([p[1] for p in pieces]) if pieces else np.zeros(0, np.int32)
    X = sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, n_terms))
    X.has_sorted_indices = True
    return X


class _NpyWriter:
    """A 1-d ``.npy`` file of known length written piece by piece (no array in memory)."""

    def __init__(self, path: Path, dtype: Any, length: int) -> None:
        self.path = path
        self.dtype = np.dtype(dtype)
        self.length = length
        self.written = 0
        self.fh: HashingFile | None = None

    def __enter__(self) -> _NpyWriter:
        self.fh = HashingFile(self.path)
        header = {
            "descr": np.lib.format.dtype_to_descr(self.dtype),
            "fortran_order": False,
            "shape": (self.length,),
        }
        np.lib.format.write_array_header_1_0(self.fh, header)
        return self

    def write(self, values: np.ndarray) -> None:
        assert self.fh is not None
        self.fh.write(np.ascontiguousarray(values, dtype=self.dtype).data)
        self.written += len(values)

    def __exit__(self, *exc: object) -> None:
        assert self.fh is not None
        self.fh.close()
        if exc[0] is None and self.written != self.length:
            raise RuntimeError(f"{self.path}: wrote {self.written} of {self.length} values")

    def record(self) -> dict[str, Any]:
        assert self.fh is not None
        return self.fh.record()


def _save_npy(path: Path, array: np.ndarray) -> dict[str, Any]:
    """``np.save`` hashing as it writes; the file's record."""
    with HashingFile(path) as fh:
        np.save(fh, array)  # type: ignore[arg-type]
    return fh.record()


def _features_problem(folder: Path, key: str, fingerprint: str) -> str | None:
    """Why the cached feature folder cannot be trusted for ``key``; None if it can."""
    if not folder.is_dir():
        return "it is not a folder"
    meta, problem = read_meta(folder / "meta.json")
    if meta is None:
        return problem
    if meta.get("key") != key or meta.get("corpus_fingerprint") != fingerprint:
        return "it was made for other data or settings"
    files = meta.get("files")
    required = {"indptr.npy", "indices.npy", "data.npy", "labels.npy", "vocabulary.txt"}
    if isinstance(files, dict) and not required <= files.keys():
        return "its metadata lists too few files"
    return check_files(folder, files)


# --------------------------------------------------------------------------- token cache


def _read_tokens(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=["tokens"]).column(0).to_pylist()


def _token_chunks(path: Path, size: int) -> Iterator[list[str]]:
    """The cached documents (checked by :func:`_token_cache_ok`) in chunks of ``size``, read
    a batch at a time."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        for batch in pf.iter_batches(batch_size=size, columns=["tokens"]):
            yield batch.column(0).to_pylist()


def _token_meta_path(path: Path) -> Path:
    """The token file's metadata (what it was made from, its checksum), written after it."""
    return path.with_suffix(".json")


def _token_problem(path: Path, corpus: Corpus, tokenizer: str) -> str | None:
    """Why the token file at ``path`` cannot be trusted for ``corpus``; None if it can."""
    if not path.is_file():
        return "it is not a file"
    meta, problem = read_meta(_token_meta_path(path))
    if meta is None:
        return problem
    if (
        meta.get("corpus_fingerprint") != corpus.fingerprint
        or meta.get("tokenizer") != tokenizer
        or meta.get("rows") != len(corpus)
    ):
        return "it was made for other data or settings"
    return check_files(path.parent, {path.name: meta.get("file")})


def _token_cache_ok(path: Path, corpus: Corpus, tokenizer: str) -> bool:
    """Whether the token cache is there and passes its check; a failing one is set aside."""
    if not (path.exists() or path.is_symlink()):
        meta = _token_meta_path(path)
        if meta.exists():  # metadata without its file: a leftover
            meta.unlink()
        return False
    problem = _token_problem(path, corpus, tokenizer)
    if problem is None:
        return True
    set_aside(path, problem, _token_meta_path(path))
    return False


def _check_token_cache(corpus: Corpus, tokenizer: str, chunk_size: int) -> None:
    """With the counts from the cache: a token file that is there must pass its check too
    (studies that write text read it); a failing one is set aside and made again."""
    path = token_cache_path(corpus, tokenizer)
    if not (path.exists() or path.is_symlink()) or _token_cache_ok(path, corpus, tokenizer):
        return
    fn = get_tokenizer(tokenizer)
    with _TokenWriter(path, corpus, tokenizer) as writer:
        for chunk in _chunks(corpus.texts, max(1, int(chunk_size))):
            writer.write([" ".join(fn(text)) for text in chunk])
        writer.commit()


class _TokenWriter:
    """Writes documents to a Parquet token cache chunk by chunk, hashing them; the file
    appears only on commit, followed by its metadata."""

    def __init__(self, path: Path, corpus: Corpus, tokenizer: str) -> None:
        self.path = path
        self.writer: Any = None
        self._target = ExitStack()
        self.meta = {
            "corpus_fingerprint": corpus.fingerprint,
            "tokenizer": tokenizer,
            "rows": len(corpus),
            "version": FEATURES_VERSION,
        }

    def __enter__(self) -> _TokenWriter:
        import pyarrow as pa
        import pyarrow.parquet as pq

        tmp = self._target.enter_context(atomic_path(self.path, existing="keep"))
        self.schema = pa.schema([("tokens", pa.string())])
        self.file = HashingFile(tmp)
        self.writer = pq.ParquetWriter(self.file, self.schema)
        return self

    def write(self, docs: list[str]) -> None:
        import pyarrow as pa

        self.writer.write_table(pa.table([pa.array(docs, pa.string())], schema=self.schema))

    def commit(self) -> None:
        self.writer.close()
        self.writer = None
        self.file.close()
        meta = {**self.meta, "file": self.file.record()}
        self._target.close()  # publishes the file, then its metadata
        atomic_write(_token_meta_path(self.path), json.dumps(meta, indent=2).encode())

    def __exit__(self, *exc: object) -> None:
        if self.writer is not None:  # not committed: the partial file goes
            self.writer.close()
            self.writer = None
            self.file.close()
            self._target.__exit__(RuntimeError, RuntimeError("not committed"), None)


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
        X=X,
        labels=labels,
        key=meta["key"],
        path=folder,
        test_mask=mask,
        tokens_path=tokens,
        tokenizer=meta["tokenizer"],
        # Caches from before the count was recorded: every class of a corpus has rows.
        n_classes=int(meta.get("n_classes", max(2, int(labels.max()) + 1) if len(labels) else 2)),
    )


def release_pages(X: Any) -> None:
    """Give back this process's pages of a memory-mapped count matrix (:func:`load_features`).

    They stay in the page cache, so a later read costs a page fault, not a disk read; until
    then they no longer count in the process's resident memory (issue #15: a trajectory that
    has copied its rows out of the 3.6M-review matrix would otherwise keep gigabytes of it
    mapped through its largest fit). Anything else (an in-memory matrix, documents) is left
    alone.
    """
    import mmap

    if not sp.issparse(X):
        return
    for array in (X.data, X.indices, X.indptr):
        while array is not None and not isinstance(array, np.memmap):
            array = getattr(array, "base", None)
        mapped = getattr(array, "_mmap", None)  # numpy's handle on the mapping
        if isinstance(mapped, mmap.mmap) and hasattr(mapped, "madvise"):
            mapped.madvise(mmap.MADV_DONTNEED)


def restrict_to_vocabulary(
    X_train: sp.csr_matrix, *others: sp.csr_matrix
) -> tuple[np.ndarray, list[sp.csr_matrix]]:
    """Keep only the columns the training rows use (the vocabulary of a refit vectoriser)."""
    matrices = [sp.csr_matrix(m) for m in (X_train, *others)]
    columns = used_columns(matrices[0])
    rank = column_rank(columns, max(m.shape[1] for m in matrices))
    return columns, [take_columns(m, columns, rank) for m in matrices]
