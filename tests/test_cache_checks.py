"""Cache entries prove they are whole and ours before they are used (#14 item 2).

Each case damages a filled cache the way issue #14 did, then runs the same study into a new
directory: the table equals the uninterrupted run's, exactly one warning line names the
entry, the damaged entry is in ``CACHE/set-aside/`` and the rebuilt one passes its check.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelcollapse.data.demo import make_demo_corpus
from modelcollapse.data.resolve import load_data
from modelcollapse.errors import ModelCollapseWarning
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.features import vectorize as vec
from modelcollapse.features.cache import file_record
from modelcollapse.runner import run_experiment

TINY = """
name = "tiny"
model = "nb"
tokenizer = "fast"

[[study]]
name = "rates"
kind = "rates"
initial_size = 100
increment = 100
max_size = 300
rates = [0.0, 1.0]
test_size = "rest"
repeats = 1
"""


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    timing = ["fit_seconds", "predict_seconds"]
    return frame.drop(columns=timing).sort_values(["trajectory", "step"], ignore_index=True)


def run(config, out: Path) -> tuple[pd.DataFrame, list[str]]:
    vec.load_features.cache_clear()  # as a new process would
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_experiment(config, out)
    assert result.complete
    lines = [str(w.message) for w in caught if issubclass(w.category, ModelCollapseWarning)]
    return comparable(result.results), lines


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, small_reviews):
    """The config, a cache filled by one uninterrupted run (kept unchanged), its table."""
    root = tmp_path_factory.mktemp("cache-checks")
    (root / "tiny.toml").write_text(TINY)
    config = apply_overrides(load_config(str(root / "tiny.toml")), data=str(small_reviews))
    cache = root / "cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MODELCOLLAPSE_CACHE", str(cache))
        table, lines = run(config, root / "first")
        assert lines == []
        # Another corpus with as many rows, cached on its own: the foreign entries.
        mp.setenv("MODELCOLLAPSE_CACHE", str(root / "foreign"))
        vec.featurize(make_demo_corpus(n=1500, seed=99), "fast")
    return config, cache, table


@pytest.fixture
def cache(pristine, tmp_path, monkeypatch):
    """A copy of the filled cache for this test: (features folder, token file, the foreign
    cache of another corpus)."""
    _, source, _ = pristine
    copy = tmp_path / "cache"
    shutil.copytree(source, copy)
    monkeypatch.setenv("MODELCOLLAPSE_CACHE", str(copy))
    (folder,) = (copy / "features").iterdir()
    (tokens,) = (copy / "tokens").glob("*.parquet")
    return folder, tokens, source.parent / "foreign"


def change_values(folder: Path, tokens: Path, foreign: Path) -> Path:
    path = folder / "data.npy"
    data = np.load(path, mmap_mode="r+")
    data[::7] += 1  # the overwrite: same size, other counts (accuracy moved)
    data.flush()
    del data
    return folder


def missing_meta(folder: Path, tokens: Path, foreign: Path) -> Path:
    (folder / "meta.json").unlink()
    return folder


def missing_indices(folder: Path, tokens: Path, foreign: Path) -> Path:
    (folder / "indices.npy").unlink()
    return folder


def truncated_data(folder: Path, tokens: Path, foreign: Path) -> Path:
    path = folder / "data.npy"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return folder


def garbled_meta(folder: Path, tokens: Path, foreign: Path) -> Path:
    (folder / "meta.json").write_text('{"key": ')
    return folder


def foreign_token_file(folder: Path, tokens: Path, foreign: Path) -> Path:
    shutil.rmtree(folder)  # counts are then made from the token cache, as in the issue
    (theirs,) = (foreign / "tokens").glob("*.parquet")
    shutil.copyfile(theirs, tokens)  # our metadata still describes ours: checksum differs
    return tokens


def foreign_token_entry(folder: Path, tokens: Path, foreign: Path) -> Path:
    shutil.rmtree(folder)
    (theirs,) = (foreign / "tokens").glob("*.parquet")
    shutil.copyfile(theirs, tokens)
    shutil.copyfile(theirs.with_suffix(".json"), tokens.with_suffix(".json"))  # another corpus's
    return tokens


def truncated_tokens(folder: Path, tokens: Path, foreign: Path) -> Path:
    shutil.rmtree(folder)
    tokens.write_bytes(tokens.read_bytes()[:100])
    return tokens


def foreign_features(folder: Path, tokens: Path, foreign: Path) -> Path:
    (theirs,) = (foreign / "features").iterdir()
    shutil.rmtree(folder)
    shutil.copytree(theirs, folder)
    return folder


def tokens_behind_good_counts(folder: Path, tokens: Path, foreign: Path) -> Path:
    """Counts from the cache, tokens damaged: studies that write text would read them."""
    tokens.write_bytes(tokens.read_bytes().replace(b"good", b"baad"))
    return tokens


DAMAGE = [
    (change_values, "data.npy was changed after it was written"),
    (missing_meta, "meta.json is missing"),
    (missing_indices, "indices.npy is missing"),
    (truncated_data, "data.npy has"),
    (garbled_meta, "meta.json is unreadable"),
    (foreign_token_file, "-fast-v2.parquet has"),  # another size
    (foreign_token_entry, "made for other data or settings"),
    (truncated_tokens, "-fast-v2.parquet has 100 bytes"),
    (foreign_features, "made for other data or settings"),
    (tokens_behind_good_counts, "parquet was changed after it was written"),
]


def featurize(corpus, **kwargs) -> tuple[vec.Features, list[str]]:
    vec.load_features.cache_clear()  # as a new process would
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        features = vec.featurize(corpus, "fast", **kwargs)
    lines = [str(w.message) for w in caught if issubclass(w.category, ModelCollapseWarning)]
    return features, lines


def same_features(a: vec.Features, b: vec.Features) -> None:
    assert (a.X != b.X).nnz == 0 and a.X.shape == b.X.shape
    assert np.array_equal(a.labels, b.labels)
    assert a.documents == b.documents


@pytest.mark.parametrize("damage, reason", DAMAGE, ids=[d.__name__ for d, _ in DAMAGE])
def test_a_damaged_cache_is_set_aside_and_rebuilt(pristine, cache, damage, reason):
    """The features a run uses (so its table) are those of the uninterrupted run."""
    _, source, _ = pristine
    corpus = load_data(pristine[0].data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MODELCOLLAPSE_CACHE", str(source))
        expected, lines = featurize(corpus)
        assert lines == []
        expected.documents  # noqa: B018 - read now, from the unchanged cache
    entry = damage(*cache)
    features, lines = featurize(corpus)
    same_features(features, expected)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"cache entry {entry} failed its check (")
    assert reason in lines[0] and lines[0].endswith(" and rebuilt")
    aside = entry.parent.parent / "set-aside" / entry.name
    assert aside.exists() and f"moved to {aside}" in lines[0]
    # The rebuilt entry passes: the next load says nothing.
    again, lines = featurize(corpus)
    assert lines == [] and again.path == features.path


def test_a_run_on_a_foreign_token_cache_gives_the_uninterrupted_table(pristine, cache, tmp_path):
    """The issue's case: another corpus's tokens with as many rows gave accuracy 0.49."""
    config, _, uninterrupted = pristine
    foreign_token_file(*cache)
    table, lines = run(config, tmp_path / "run")
    pd.testing.assert_frame_equal(table, uninterrupted)
    assert len(lines) == 1 and "failed its check" in lines[0]


def test_every_file_of_an_entry_is_recorded_with_its_checksum(cache):
    folder, tokens, _ = cache
    meta = json.loads((folder / "meta.json").read_text())
    on_disk = {p.name for p in folder.iterdir()} - {"meta.json"}
    assert set(meta["files"]) == on_disk
    for name, record in meta["files"].items():
        assert record == file_record(folder / name)  # hashed while written = hashed again
    token_meta = json.loads(tokens.with_suffix(".json").read_text())
    assert token_meta["file"] == file_record(tokens) and token_meta["rows"] == 1500


def test_a_cli_run_on_changed_values_says_it_in_one_line(pristine, cache, tmp_path, capsys):
    """The issue's case: overwritten counts moved accuracy (0.7960 -> 0.8059), exit 0."""
    from modelcollapse.cli import main
    from modelcollapse.store import RunStore

    config, _, uninterrupted = pristine
    folder = change_values(*cache)
    config_path = tmp_path / "tiny.toml"
    config_path.write_text(TINY.replace('name = "tiny"', f'name = "tiny"\ndata = "{config.data}"'))
    vec.load_features.cache_clear()
    assert main(["run", str(config_path), "--out", str(tmp_path / "run")]) == 0
    err = [x for x in capsys.readouterr().err.splitlines() if x.startswith("modelcollapse:")]
    assert len(err) == 1 and err[0].startswith(f"modelcollapse: warning: cache entry {folder}")
    table = comparable(RunStore(tmp_path / "run").read_results())
    pd.testing.assert_frame_equal(table, uninterrupted)


def test_a_model_that_reads_documents_gets_its_tokens_checked(pristine, cache):
    """``counts=False`` (fastText, hashing) reads the token cache alone."""
    corpus = load_data(pristine[0].data)
    _, tokens, _ = cache
    docs = pd.read_parquet(tokens)["tokens"].tolist()
    tokens.write_bytes(tokens.read_bytes()[:-50])
    features, lines = featurize(corpus, counts=False)
    assert features.X is None and features.documents == docs
    assert len(lines) == 1 and "parquet has" in lines[0] and "rebuilt" in lines[0]


def test_documents_know_their_classes_on_the_first_run_too(tmp_path, monkeypatch):
    """The first (tokenising) call returned 2 classes for any corpus; the cached one, k."""
    from modelcollapse.data.corpus import Corpus

    monkeypatch.setenv("MODELCOLLAPSE_CACHE", str(tmp_path))
    texts = [f"review {i} about {w}" for i, w in enumerate(["a", "b", "c"] * 4)]
    corpus = Corpus(texts, np.array([0, 1, 2] * 4), "t", label_names=("x", "y", "z"))
    first, _ = featurize(corpus, counts=False)
    again, lines = featurize(corpus, counts=False)
    assert first.n_classes == again.n_classes == 3 and lines == []
