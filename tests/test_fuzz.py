"""Fuzzing every place that reads what a user (or a disk) hands over (#14): each reader, the
config, the CLI's option parsers, corpus manifests, and the result files a resume trusts.

The property is the same everywhere: a valid result, or a
:class:`~modelcollapse.errors.UserError` whose message is one line and names the file or the
option. Anything else (another exception, a message over several lines) fails.

How many cases: the Hypothesis profile named by ``HYPOTHESIS_PROFILE`` — ``dev`` (the
default, 50 cases per target, for a quick local run) or ``ci`` (1,000 per target; ``.ci/run``
selects it). Each case is an in-process library call on a tiny input, so 1,000 cost seconds.
The strategies that build hostile bytes are test_robustness.py's.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import shutil
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_robustness import (
    JSONISH,
    check_corpus,
    parquet_bytes,
    review_bytes,
    toml_bytes,
)

from modelcollapse.cli import _check_baseline, _check_margin, _parse_rates, _parse_test_size
from modelcollapse.data.corpus import Corpus
from modelcollapse.data.home import damaged_corpora, import_corpus, list_corpora, load_imported
from modelcollapse.data.readers import parse_labels, read_corpus
from modelcollapse.errors import UserError
from modelcollapse.experiments.config import load_config
from modelcollapse.experiments.plan import build_plan
from modelcollapse.stats import parse_conditions, select_rows

# Wall-clock health checks and deadlines fail on a loaded machine without saying anything
# about the code; the example counts are what matter.
_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
settings.register_profile(
    "ci", max_examples=1000, deadline=None, suppress_health_check=_QUIET, database=None
)
settings.register_profile("dev", max_examples=50, deadline=None, suppress_health_check=_QUIET)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
pytestmark = pytest.mark.fuzz
FUZZ = settings(settings.get_profile(PROFILE if PROFILE in ("ci", "dev") else "dev"))


def outcome(call, *names: str):
    """``call()``'s value, or its UserError's message: one line that names one of ``names``."""
    try:
        return call()
    except UserError as err:
        message = str(err)
        assert "\n" not in message and "\r" not in message, message
        assert any(name in message for name in names), (names, message)
        return message


# --------------------------------------------------------------------------- readers

READERS = {  # target -> file names it reads (compressed streams: test_robustness.py)
    "fasttext": ("r.ft.txt", "r.ft.txt.gz", "noext"),
    "csv": ("r.csv",),
    "tsv": ("r.tsv",),
    "jsonl": ("r.jsonl",),
}


@pytest.mark.parametrize("reader", sorted(READERS))
@FUZZ
@given(data=st.data(), body=review_bytes(), on_error=st.sampled_from(["raise", "skip"]))
def test_reader(tmp_path: Path, reader: str, data, body: bytes, on_error: str) -> None:
    name = data.draw(st.sampled_from(READERS[reader]))
    if name.endswith(".gz"):
        body = gzip.compress(body, compresslevel=1)
    path = tmp_path / name
    path.write_bytes(body)
    got = outcome(lambda: read_corpus(path, on_error=on_error), name)
    if isinstance(got, Corpus):
        check_corpus(got)


@FUZZ
@given(body=parquet_bytes(), on_error=st.sampled_from(["raise", "skip"]))
def test_parquet_reader(tmp_path: Path, body: bytes, on_error: str) -> None:
    path = tmp_path / "r.parquet"
    path.write_bytes(body)
    got = outcome(lambda: read_corpus(path, on_error=on_error), "r.parquet")
    if isinstance(got, Corpus):
        check_corpus(got)


# --------------------------------------------------------------------------- config


@FUZZ
@given(body=toml_bytes())
def test_config_file(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(body)
    got = outcome(lambda: load_config(str(path)), "c.toml")
    if not isinstance(got, str):
        outcome(lambda: build_plan(got, 5000), "c.toml", "study", "size", "rate")


# --------------------------------------------------------------------------- CLI options

OPTION_TEXT = st.one_of(
    st.text(max_size=30),
    st.lists(
        st.sampled_from(
            ["0", "1", "0.5", "-1", "1e999", "nan", "inf", "-inf", "1e-320", "rate", "regime",
             "=", ",", " ", "accumulate", "true", "0x1", "1_0", "٣", "\x00", "a", "seed_group"]
        ),
        max_size=8,
    ).map("".join),
)  # fmt: skip


def _rates(text: str):
    rates = _parse_rates(text)
    assert rates and all(0.0 <= r <= 1.0 and math.isfinite(r) for r in rates)


def _labels(text: str):
    names = parse_labels(text)
    assert names is not None and len(names) >= 2 and all(n.strip() for n in names)


def _test_size(text: str):
    value = _parse_test_size(text)
    assert value == "rest" or (isinstance(value, int) and value >= 1) or 0 < value < 1


BASELINE_FRAME = None


def _baseline(text: str):
    # What compare does with --baseline before any statistics: check, parse, select.
    global BASELINE_FRAME
    if BASELINE_FRAME is None:
        BASELINE_FRAME = _results_frame()
    _check_baseline(text)
    try:
        conditions = parse_conditions(text, BASELINE_FRAME, ["seed_group", "rate", "regime"])
    except ValueError as err:
        raise UserError(str(err), "--baseline") from None
    assert select_rows(BASELINE_FRAME, conditions).dtype == bool


def _margin(text: str):
    try:
        value = float(text)  # Typer's float parsing comes first
    except ValueError:
        return
    _check_margin(value)


def _results_frame():
    import pandas as pd

    return pd.DataFrame(
        {
            "seed_group": ["rates"] * 4,
            "rate": [0.0, 0.0, 1.0, 1.0],
            "regime": ["accumulate", "replace", "accumulate", "replace"],
            "accuracy": [0.8, 0.7, 0.6, 0.5],
        }
    )


OPTIONS = {
    "--rates": _rates,
    "--labels": _labels,
    "--baseline": _baseline,
    "--test-size": _test_size,
    "--margin": _margin,
}


@pytest.mark.parametrize("option", sorted(OPTIONS))
@FUZZ
@given(text=OPTION_TEXT)
def test_cli_option(option: str, text: str) -> None:
    outcome(lambda: OPTIONS[option](text), option)


# --------------------------------------------------------------------------- manifests


@pytest.fixture(scope="module")
def imported_home(tmp_path_factory) -> Path:
    """A data home with one genuine corpus, 'c', to damage."""
    home = tmp_path_factory.mktemp("home")
    source = home.parent / "c.ft.txt"
    lines = [
        f"__label__{1 + i % 2} review number {i} is {'good' if i % 2 else 'bad'}\n"
        for i in range(20)
    ]
    source.write_text("".join(lines))
    previous = os.environ.get("MODELCOLLAPSE_DATA")
    os.environ["MODELCOLLAPSE_DATA"] = str(home)
    try:
        import_corpus(source, name="c")
    finally:
        if previous is None:
            del os.environ["MODELCOLLAPSE_DATA"]
        else:
            os.environ["MODELCOLLAPSE_DATA"] = previous
    return home


@st.composite
def manifests(draw, genuine: dict) -> bytes:
    """Raw bytes, or the genuine manifest with fields replaced, dropped or added."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.binary(max_size=200))
    manifest = json.loads(json.dumps(genuine))
    for _ in range(draw(st.integers(1, 4))):
        where = manifest
        if draw(st.booleans()) and isinstance(manifest.get("splits"), dict) and manifest["splits"]:
            split = draw(st.sampled_from(sorted(manifest["splits"])))
            where = manifest["splits"][split]
            if not isinstance(where, dict):
                break
        key = draw(st.sampled_from([*where, "x"]) if where else st.just("x"))
        if draw(st.integers(0, 3)) == 0:
            where.pop(key, None)
        else:
            where[key] = draw(JSONISH)
    return json.dumps(manifest).encode()


@FUZZ
@given(data=st.data())
def test_corpus_manifest(imported_home: Path, monkeypatch: pytest.MonkeyPatch, data) -> None:
    monkeypatch.setenv("MODELCOLLAPSE_DATA", str(imported_home))
    path = imported_home / "c" / "manifest.json"
    genuine = getattr(test_corpus_manifest, "genuine", None)
    if genuine is None:
        genuine = path.read_bytes()
        test_corpus_manifest.genuine = genuine  # type: ignore[attr-defined]
    body = data.draw(manifests(json.loads(genuine)))
    try:
        path.write_bytes(body)
        # What 'data list' shows of each corpus, then loading it for a run.
        for corpus in list_corpora():
            (corpus.n_rows("train"), corpus.n_rows("test"), corpus.label_names, corpus.source)
            (corpus.created[:10], corpus.class_counts(), corpus.disk_bytes(), corpus.splits)
        damaged_corpora()
        got = outcome(lambda: load_imported("c"), "manifest.json", "'c'")
        if isinstance(got, Corpus):
            check_corpus(got)
    finally:
        path.write_bytes(genuine)


# --------------------------------------------------------------------------- results


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished two-trajectory run, and everything a resume of it checks."""
    from modelcollapse.data.demo import make_demo_corpus
    from modelcollapse.experiments.config import validate_config as validate
    from modelcollapse.runner import prepare_run

    root = tmp_path_factory.mktemp("resume")
    corpus = make_demo_corpus(n=200, seed=3)
    config = validate(
        {
            "name": "fuzz", "model": "nb", "tokenizer": "fast",
            "study": [{"name": "r", "kind": "rates", "repeats": 1, "initial_size": 40,
                       "increment": 40, "max_size": 80, "rates": [0.0, 1.0], "test_size": 0.3}],
        },
        "fuzz",
    )  # fmt: skip
    prepared = prepare_run(config, root / "run", data=corpus, use_cache=False)
    prepared.execute()
    genuine = {p.name: p.read_bytes() for p in sorted((root / "run" / "results").iterdir())}
    return prepared, genuine


@st.composite
def damaged_results(draw, genuine: dict[str, bytes]) -> tuple[str, bytes]:
    """One result file's name and new bytes: another's, cut, with bytes changed, random, or
    a readable table with other metadata or rows."""
    names = sorted(genuine)
    name = draw(st.sampled_from(names))
    body = genuine[name]
    how = draw(st.sampled_from(["other", "cut", "flip", "random", "metadata", "rows"]))
    if how == "other":
        return name, genuine[draw(st.sampled_from(names))]
    if how == "cut":
        return name, body[: draw(st.integers(0, len(body) - 1))]
    if how == "flip":
        out = bytearray(body)
        for _ in range(draw(st.integers(1, 4))):
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
        return name, bytes(out)
    if how == "random":
        return name, draw(st.binary(max_size=300))
    table = pq.read_table(io.BytesIO(body))
    if how == "metadata":
        value = draw(
            st.one_of(st.binary(max_size=40), JSONISH.map(lambda v: json.dumps(v).encode()))
        )
        table = table.replace_schema_metadata({b"modelcollapse.provenance": value})
    else:
        keep = draw(st.lists(st.integers(0, table.num_rows - 1), max_size=table.num_rows))
        table = table.take(pa.array(sorted(keep), pa.int64()))
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return name, sink.getvalue()


@FUZZ
@given(data=st.data(), error_record=st.none() | st.binary(max_size=60))
def test_result_files_on_resume(finished_run, data, error_record) -> None:
    prepared, genuine = finished_run
    store = prepared.store
    name, body = data.draw(damaged_results(genuine))
    for folder in (store.results, store.errors, store.root / "set-aside"):
        shutil.rmtree(folder, ignore_errors=True)
    store.results.mkdir()
    for other, text in genuine.items():
        (store.results / other).write_bytes(body if other == name else text)
    if error_record is not None:
        store.errors.mkdir()
        (store.errors / name.replace(".parquet", ".json")).write_bytes(error_record)
    # What a resume does before it computes anything (PreparedRun._run), then the table.
    store.open(prepared.resolved, prepared.manifest)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            set_aside = outcome(
                lambda: store.set_aside_untrusted(prepared.plan, prepared.model.name), name
            )
        outcome(store.failures, name.replace(".parquet", ".json"))
        if store.result_files():
            table = outcome(store.read_results, str(store.root))
            if not isinstance(table, str) and not isinstance(set_aside, str):
                assert set(table["trajectory"]) <= {t.key for t in prepared.plan}
    finally:
        store.close()


# --------------------------------------------------------------------------- found and fixed


@pytest.mark.parametrize("record", [b"\x80", b"", b"{"])
def test_a_damaged_error_record_is_a_failure_not_a_crash(finished_run, record) -> None:
    prepared, genuine = finished_run
    store = prepared.store
    name = sorted(genuine)[0]
    key = name.removesuffix(".parquet").replace("~", "/")
    # The fixture is shared: start from the genuine files, whatever ran before on this worker.
    for folder in (store.results, store.errors):
        shutil.rmtree(folder, ignore_errors=True)
    store.results.mkdir()
    for other, text in genuine.items():
        if other != name:
            (store.results / other).write_bytes(text)
    store.errors.mkdir(exist_ok=True)
    (store.errors / name.replace(".parquet", ".json")).write_bytes(record)
    try:
        assert store.failures()[key]["error"].startswith("unreadable record: ")
    finally:
        (store.results / name).write_bytes(genuine[name])
        shutil.rmtree(store.errors)


@pytest.mark.parametrize(
    ("parse", "text", "option"),
    [(_parse_rates, "0,\ra", "--rates"), (_parse_test_size, "x\ny", "--test-size")],
)
def test_an_option_value_with_a_line_break_is_shown_on_one_line(parse, text, option) -> None:
    with pytest.raises(UserError) as err:
        parse(text)
    assert (
        "\n" not in str(err.value) and "\r" not in str(err.value) and repr(text) in str(err.value)
    )


@pytest.mark.parametrize("names", [["a"], ["a", "b", "c"]])
def test_a_manifest_whose_classes_do_not_match_its_counts_is_damaged(
    imported_home: Path, monkeypatch: pytest.MonkeyPatch, names: list[str]
) -> None:
    monkeypatch.setenv("MODELCOLLAPSE_DATA", str(imported_home))
    path = imported_home / "c" / "manifest.json"
    genuine = path.read_bytes()
    manifest = json.loads(genuine)
    manifest["label_names"] = names
    for part in manifest["splits"].values():
        part.pop("class_counts", None)  # as written before k classes: binary counts only
    path.write_text(json.dumps(manifest))
    try:
        assert [c.name for c in list_corpora()] == []
        assert "differ in length" in damaged_corpora()["c"]
        with pytest.raises(UserError, match="is damaged"):
            load_imported("c")
    finally:
        path.write_bytes(genuine)


@pytest.mark.parametrize("name", ["r.tsv", "r.csv"])
def test_a_quoted_header_over_lines_with_bad_utf8_is_one_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b'"\n\n\x80\n')  # found by the fuzzer: the bad byte is on line 4
    with pytest.raises(UserError) as err:
        read_corpus(path, on_error="raise")
    assert "header is" in str(err.value) and f"{name}:1" in str(err.value)
