"""A full disk, a read-only or impossible --out, hostile numbers and hostile input: one line,
exit status 2, and nothing the user stored before changed (#14 item 4, parts of item 10)."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import SMALL_CONFIG

import modelcollapse.atomic as atomic_module
import modelcollapse.data.home as home_module
import modelcollapse.features.vectorize as vectorize_module
from modelcollapse.cli import main
from modelcollapse.errors import is_storage_error

ENOSPC = OSError(errno.ENOSPC, "No space left on device")
# What numpy's tofile says on a full disk: no errno at all.
SHORT_WRITE = OSError("564591 requested and 40960 written")


@pytest.fixture(scope="module")
def config_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("config") / "small.toml"
    path.write_text(SMALL_CONFIG.replace("repeats = 2", "repeats = 1"))
    return path


def argv(config_path, data, out, *extra):
    return ["run", str(config_path), "--data", str(data), "--out", str(out), *extra]


def errors(captured) -> list[str]:
    return [line for line in captured.err.splitlines() if line.startswith("modelcollapse:")]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (the run's lock file aside) by relative path: its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def one_error(capsys, *words: str) -> str:
    (line,) = errors(capsys.readouterr())
    assert line.startswith("modelcollapse: error: ")
    for word in words:
        assert word.lower() in line.lower()
    return line


@pytest.fixture(scope="module")
def finished(tmp_path_factory, config_path, small_reviews):
    out = tmp_path_factory.mktemp("runs") / "run"
    with pytest.MonkeyPatch.context() as mp:  # the session's cache, as conftest's fixture
        mp.setenv("MODELCOLLAPSE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        assert main(argv(config_path, small_reviews, out)) == 0
    return out


def test_a_full_disk_while_writing_a_result_changes_nothing_stored(
    tmp_path, capsys, monkeypatch, finished, config_path, small_reviews
):
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    results = sorted((out / "results").glob("*.parquet"))
    for path in results[:3]:
        path.unlink()
    before = snapshot(out)
    capsys.readouterr()

    def full(tmp, target, existing):
        raise ENOSPC

    monkeypatch.setattr(atomic_module, "_publish", full)
    assert main(argv(config_path, small_reviews, out)) == 2
    one_error(capsys, "results/", "no space left")
    assert snapshot(out) == before
    assert not [p for p in out.rglob(".tmp-*")]  # no leftovers of the failed write
    monkeypatch.undo()  # space again: the run resumes and completes
    assert main(argv(config_path, small_reviews, out)) == 0
    assert len(list((out / "results").glob("*.parquet"))) == len(results)


@pytest.mark.parametrize("site", ["matrix", "tokens", "indptr"])
def test_a_full_disk_while_caching_features_is_one_line(
    tmp_path, capsys, monkeypatch, config_path, small_reviews, site
):
    cache = tmp_path / "cache"
    monkeypatch.setenv("MODELCOLLAPSE_CACHE", str(cache))
    if site == "matrix":  # numpy's short write: an OSError with no errno

        def write(self, values):
            raise SHORT_WRITE

        monkeypatch.setattr(vectorize_module._NpyWriter, "write", write)
    elif site == "tokens":

        def write(self, docs):
            raise ENOSPC

        monkeypatch.setattr(vectorize_module._TokenWriter, "write", write)
    else:

        def save(path, array):
            raise ENOSPC

        monkeypatch.setattr(vectorize_module.np, "save", save)
    out = tmp_path / "run"
    assert main(argv(config_path, small_reviews, out)) == 2
    one_error(capsys, str(cache), "no space left")
    assert not out.exists()  # the run directory is made after the features
    # No feature matrix, no leftovers; a token cache committed before the failure is whole.
    assert [p for p in (cache / "features").rglob("*") if p.is_file()] == []
    assert [p for p in cache.rglob(".*")] == []


def test_a_full_disk_while_importing_keeps_the_corpus_there(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MODELCOLLAPSE_DATA", str(tmp_path / "home"))
    data = tmp_path / "reviews.ft.txt"
    data.write_text("__label__1 bad\n__label__2 good\n__label__1 awful\n__label__2 fine\n")
    assert main(["data", "import", str(data), "--name", "mine"]) == 0
    before = snapshot(tmp_path / "home")
    capsys.readouterr()
    real = home_module._write_json

    def full(path, content):
        raise ENOSPC

    monkeypatch.setattr(home_module, "_write_json", full)
    data.write_text("__label__1 other\n__label__2 reviews\n")
    assert main(["data", "import", str(data), "--name", "mine", "--overwrite"]) == 2
    one_error(capsys, "mine", "no space left")
    assert snapshot(tmp_path / "home") == before
    assert main(["data", "import", str(data), "--name", "new"]) == 2
    one_error(capsys, "new", "no space left")
    assert not (tmp_path / "home" / "new").exists()
    monkeypatch.setattr(home_module, "_write_json", real)
    assert main(["data", "list"]) == 0
    assert "mine" in capsys.readouterr().out


def test_a_full_disk_while_writing_the_report_keeps_the_old_one(
    tmp_path, capsys, monkeypatch, finished
):
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    (out / "report").mkdir()  # an earlier report (building a real one twice takes a minute)
    (out / "report" / "report.html").write_text("<p>the old report</p>")
    before = snapshot(out)
    capsys.readouterr()
    real = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self.name.startswith(".tmp-report-"):  # the report's staging folder
            raise ENOSPC
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    assert main(["report", str(out)]) == 2
    one_error(capsys, "report", "no space left")
    assert snapshot(out) == before


def test_a_read_only_place_is_one_line(tmp_path, capsys, monkeypatch, config_path, small_reviews):
    # Root writes anywhere, so the read-only file system is simulated where it answers.
    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    assert main(argv(config_path, small_reviews, tmp_path / "run")) == 2
    one_error(capsys, "read-only file system")
    monkeypatch.undo()
    ro = tmp_path / "ro"
    ro.mkdir()
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != ro)
    assert main(argv(config_path, small_reviews, ro / "run")) == 2
    one_error(capsys, f"--out {ro / 'run'}", "is not writable")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        ("file/sub", ["cannot be made", "is a file, not a folder"]),
        ("file", ["is a file, not a folder"]),
        ("dangling", ["symbolic link", "does not exist"]),
        ("dangling/sub", ["symbolic link", "does not exist"]),
    ],
)
def test_an_impossible_out_is_one_line(tmp_path, capsys, config_path, small_reviews, make, words):
    (tmp_path / "file").write_text("mine")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert main(argv(config_path, small_reviews, tmp_path / make)) == 2
    one_error(capsys, "--out", *words)
    assert (tmp_path / "file").read_text() == "mine"
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(
    ("value", "words"),
    [("inf", "finite"), ("nan", "finite"), ("1e300", "less than or equal to 1000")],
)
def test_a_model_weight_that_breaks_the_metrics_is_refused_up_front(
    tmp_path, capsys, config_path, small_reviews, value, words
):
    out = tmp_path / "run"
    assert main(argv(config_path, small_reviews, out, "--model-weight", value)) == 2
    one_error(capsys, "--model-weight", words)
    assert not out.exists()


def test_dev_zero_as_data_names_the_line(tmp_path, capsys, monkeypatch):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    monkeypatch.setenv("MODELCOLLAPSE_DATA", str(tmp_path / "home"))
    assert main(["data", "import", "/dev/zero", "--format", "fasttext"]) == 2
    one_error(capsys, "/dev/zero:1: line longer than 32 MB")


def test_a_long_line_is_named_and_cr_endings_are_lines(tmp_path, monkeypatch):
    import modelcollapse.data.readers as readers
    from modelcollapse.data.resolve import load_data
    from modelcollapse.errors import UserError

    path = tmp_path / "mac.ft.txt"
    path.write_bytes(b"__label__1 bad thing\r__label__2 good thing\r__label__1 awful")
    corpus = load_data(str(path))
    assert list(corpus.texts) == ["bad thing", "good thing", "awful"]
    assert list(corpus.labels) == [0, 1, 0]
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(readers._LineStream.__init__, "__defaults__", (1000,))
    long = tmp_path / "long.ft.txt"
    long.write_bytes(b"__label__1 fine\n" * 5000 + b"__label__2 " + b"x" * 2000 + b"\n")
    with pytest.raises(UserError, match=r"long.ft.txt:5001: line longer than"):
        load_data(str(long))


def test_a_damaged_corpus_manifest_hides_no_other_corpus(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MODELCOLLAPSE_DATA", str(tmp_path / "home"))
    data = tmp_path / "reviews.ft.txt"
    data.write_text("__label__1 bad\n__label__2 good\n")
    for name in ("broken", "fine", "gone"):
        assert main(["data", "import", str(data), "--name", name]) == 0
    manifest = tmp_path / "home" / "broken" / "manifest.json"
    content = json.loads(manifest.read_text())
    content["splits"]["train"]["rows"] = "x"
    manifest.write_text(json.dumps(content))
    (tmp_path / "home" / "gone" / "manifest.json").unlink()
    capsys.readouterr()
    assert main(["data", "list"]) == 0
    captured = capsys.readouterr()
    assert "fine" in captured.out
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning")]
    assert len(warnings) == 2
    assert "'broken'" in warnings[0] and "rows 'x'" in warnings[0]
    assert "'gone'" in warnings[1] and "no manifest.json" in warnings[1]
    assert main(["run", "demo", "--data", "broken", "--out", str(tmp_path / "r")]) == 2
    one_error(capsys, "broken", "damaged", "--overwrite")
    # A name whose manifest is gone is neither invisible nor "already imported": it heals.
    assert main(["data", "import", str(data), "--name", "gone"]) == 2
    one_error(capsys, "no manifest.json", "--overwrite")
    assert main(["data", "import", str(data), "--name", "gone", "--overwrite"]) == 0
    capsys.readouterr()
    assert main(["data", "list"]) == 0
    captured = capsys.readouterr()
    assert "gone" in captured.out and "'gone'" not in captured.err


def test_an_unknown_format_hint_names_a_command_that_has_the_option(tmp_path, capsys):
    path = tmp_path / "reviews.dat"
    path.write_text("no label here\n")
    assert main(["run", "demo", "--data", str(path), "--out", str(tmp_path / "r")]) == 2
    line = one_error(capsys, "data import FILE --format")
    assert "set the format explicitly" not in line


def test_what_counts_as_the_disk_s_fault():
    assert is_storage_error(ENOSPC) and is_storage_error(SHORT_WRITE)
    assert is_storage_error(OSError(errno.EROFS, "Read-only file system"))
    assert not is_storage_error(FileNotFoundError(errno.ENOENT, "gone"))
    assert not is_storage_error(ValueError("no"))


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        ("rates = [true]", ["rates.0", "valid number"]),
        ("repeats = true", ["repeats", "valid integer"]),
        ('rates = ["0.5"]', ["rates.0", "valid number"]),
    ],
)
def test_a_boolean_or_string_is_no_number_in_a_config(tmp_path, capsys, edit, words):
    # rates = [true] ran as rate 1.0, repeats = true as 1 repeat.
    key = edit.split(" =")[0]
    lines = [edit if line.startswith(f"{key} =") else line for line in SMALL_CONFIG.splitlines()]
    config = tmp_path / "c.toml"
    config.write_text("\n".join(lines))
    assert main(["run", str(config), "--out", str(tmp_path / "r")]) == 2
    one_error(capsys, "c.toml", *words)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("argv_tail", "words"),
    [
        (["--baseline", "rate=0,rate=1"], ["--baseline", "names rate more than once"]),
        (["--margin", "inf"], ["--margin", "finite"]),
        (["--margin", "nan"], ["--margin", "finite"]),
    ],
)
def test_compare_refuses_a_double_baseline_and_an_infinite_margin(
    capsys, finished, argv_tail, words
):
    capsys.readouterr()
    assert main(["compare", str(finished), *argv_tail]) == 2
    one_error(capsys, *words)
