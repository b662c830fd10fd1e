"""A run, an import and a report killed or failed at every write site (#14): the next command
finishes with the table of a run never interrupted, or stops with one line, and no file that
was there before is changed.

Write sites are counted, not listed: a child process counts, with an audit hook
(:func:`sys.addaudithook`), every ``open`` for writing, rename/replace, ``mkdir``, remove
and ``rmdir`` under the test's folder, plus every Parquet writer pyarrow opens (it writes
from C++, where no audit event is raised), during an uninterrupted reference command. For
each N = 1..count a fresh copy of the starting folder gets the same command, stopped at its
Nth site:

- kill: ``os._exit`` there, before the operation (no ``finally``, no clean-up: as SIGKILL);
- fail: ``OSError(ENOSPC)`` raised there, as a full disk would; the command itself must stop
  with one line (exit status 2) or finish.

Then the same command runs again, uninterrupted. A site added to the package later (another
cache file, a temp-folder clean-up) is covered without editing this file.

The commands run in processes forked from a helper (this file run as a script) that imported
the package once, so a point costs the command's work, not an interpreter start. In the
report, the figures are tiny blank ones: matplotlib's drawing takes seconds per report and
is not what is tested here; the files, the staging folder and the swap are the real ones.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

# A temporary name's random part, so that the sites of two runs can be compared.
_RANDOM = re.compile(r"-[0-9a-f]{8}\b")

SCENARIOS = ("run", "import", "report")
MODES = ("kill", "fail")
KILLED = 77  # a child's exit status when it was killed at its site
# Fewer sites than this means the counting broke (an audit event renamed, a filter too tight).
MIN_SITES = {"run": 12, "import": 3, "report": 6}

TINY = """
name = "tiny"
model = "nb"
tokenizer = "fast"

[[study]]
name = "rates"
kind = "rates"
initial_size = 40
increment = 40
max_size = 80
rates = [0.0, 1.0]
test_size = "rest"
repeats = 1
"""


# --------------------------------------------------------------------------- the helper
# Everything from here to the tests runs in the helper process and its forked children.


def _argv(scenario: str, root: Path) -> list[str]:
    if scenario == "run":
        return ["run", str(root / "tiny.toml"), "--data", str(root / "reviews.ft.txt"),
                "--out", str(root / "run"), "--no-report"]  # fmt: skip
    if scenario == "import":
        return ["data", "import", str(root / "reviews.ft.txt"), "--name", "new"]
    return ["report", str(root / "run")]


def _setup(scenario: str, root: Path) -> None:
    """What the user has before the command: reviews and a config; for the import a corpus
    already imported; for the report a finished run with an older report (svg figures)."""
    from modelcollapse.cli import main
    from modelcollapse.data.demo import make_demo_corpus

    root.mkdir(parents=True)
    os.environ["MODELCOLLAPSE_CACHE"] = str(root / "cache")
    os.environ["MODELCOLLAPSE_DATA"] = str(root / "home")
    corpus = make_demo_corpus(n=300, seed=7)
    lines = [
        f"__label__{int(y) + 1} {t}\n" for t, y in zip(corpus.texts, corpus.labels, strict=True)
    ]
    (root / "reviews.ft.txt").write_text("".join(lines), encoding="utf-8")
    (root / "tiny.toml").write_text(TINY, encoding="utf-8")
    if scenario == "import":
        (root / "old.ft.txt").write_text("".join(lines[:60]), encoding="utf-8")
        assert main(["data", "import", str(root / "old.ft.txt"), "--name", "old"]) == 0
    if scenario == "report":
        assert main(_argv("run", root)) == 0
        assert main(["report", str(root / "run"), "--format", "svg"]) == 0


class Sites:
    """The audit hook: counts write sites under ``root``; at the ``at``-th, kills or fails."""

    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def __init__(self, root: Path, mode: str | None = None, at: int = 0) -> None:
        self.root = str(root) + os.sep
        self.mode, self.at = mode, at
        self.seen: list[str] = []

    def __call__(self, event: str, args: tuple) -> None:
        site = self._site(event, args)
        if site is None:
            return
        self.seen.append(site)
        if len(self.seen) != self.at:
            return
        if self.mode == "kill":
            os._exit(KILLED)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), site.split(" ", 1)[1])

    def _site(self, event: str, args: tuple) -> str | None:
        if event == "open":
            path, mode, flags = args
            writes = mode is None and flags & self.WRITE_FLAGS
            writes = writes or (isinstance(mode, str) and any(c in mode for c in "wxa+"))
            return self._under(event, path) if writes and not isinstance(path, int) else None
        if event == "modelcollapse.test.parquet":
            return self._under("parquet", args[0])
        if event == "os.rename":  # os.rename and os.replace
            return self._under(event, args[0], args[2])
        if event == "os.mkdir":  # one that exists fails with EEXIST before the disk is asked
            path = self._path(args[0], args[2])
            return None if path is None or os.path.lexists(path) else self._under(event, path)
        if event in ("os.remove", "os.rmdir"):  # rmtree names entries relative to a dir_fd
            path = self._path(args[0], args[1])
            return None if path is None or not os.path.lexists(path) else self._under(event, path)
        return None

    @staticmethod
    def _path(path, dir_fd) -> str | None:
        if isinstance(path, int):
            return None
        path = os.fsdecode(path)
        if dir_fd is not None and dir_fd >= 0 and not os.path.isabs(path):
            path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)
        return path

    def _under(self, event: str, path, dir_fd=None) -> str | None:
        path = self._path(path, dir_fd)
        if path is None or not os.path.abspath(path).startswith(self.root):
            return None
        return f"{event} {path}"


def _in_child(fn) -> int:
    """Run ``fn`` in a forked child; its return value (or 71 for an escaped exception) is
    the child's exit status."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 71
        try:
            code = fn()
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _command(root: Path, argv: list[str], tag: str, sites: Sites | None = None):
    def run() -> int:
        from modelcollapse.cli import main

        os.chdir(root)
        os.environ["MODELCOLLAPSE_CACHE"] = str(root / "cache")
        os.environ["MODELCOLLAPSE_DATA"] = str(root / "home")
        for fd, name in ((1, "out"), (2, "err")):
            handle = os.open(root / f".{name}-{tag}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(handle, fd)
            os.close(handle)
        if sites is not None:
            sys.addaudithook(sites)
        code = main(argv)
        if sites is not None:
            (root / f".sites-{tag}.json").write_text(json.dumps(sites.seen))
        return code

    return run


def _stand_in_figures() -> None:
    """Replace the report's drawing with one tiny blank figure per study (see the docstring)."""
    from matplotlib.figure import Figure

    import modelcollapse.report.build as build

    def plots(studies, seed_groups):
        return [
            build.Plot(f"blank-{s.slug}", s.name, "", "accuracy", Figure(figsize=(0.5, 0.5)))
            for s in studies
        ]

    build.build_plots = plots
    build.worth_plot = lambda answered: None


def _audit_parquet_writers() -> None:
    import pyarrow.parquet as pq

    opened = pq.ParquetWriter.__init__

    def init(self, where, *args, **kwargs):
        if isinstance(where, str | os.PathLike):
            sys.audit("modelcollapse.test.parquet", os.fspath(where))
        opened(self, where, *args, **kwargs)

    pq.ParquetWriter.__init__ = init


def _name(site: str, root: Path) -> str:
    return _RANDOM.sub("-X", site.replace(str(root), "ROOT"))


def _hashes(folder: Path, work: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path: its SHA-256, with the names of the copies
    under ``work`` (a report names its run's folder) made one."""
    copy = re.compile(re.escape(os.fsencode(work)) + rb"/(?:p\d+|template|reference)\b")
    return {
        str(p.relative_to(folder)): hashlib.sha256(copy.sub(b"ROOT", p.read_bytes())).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith((".out-", ".err-", ".sites-"))
    }


def helper(scenario: str, mode: str, work: Path) -> None:
    """Write ``work/points.json``: for each site N, what the stopped command and the next one
    did, with the hashes of the folder after each."""
    import sklearn.naive_bayes  # noqa: F401

    import modelcollapse.cli
    import modelcollapse.data.home
    import modelcollapse.report.build
    import modelcollapse.runner  # noqa: F401

    _stand_in_figures()
    _audit_parquet_writers()
    template = work / "template"
    code = _in_child(lambda: _setup(scenario, template) or 0)
    assert code == 0, f"setting up {scenario} failed ({code})"
    reference = work / "reference"
    shutil.copytree(template, reference)
    ref_code = _in_child(_command(reference, _argv(scenario, reference), "ref", Sites(reference)))
    sites = json.loads((reference / ".sites-ref.json").read_text())
    # Site names with the reference folder's name, so that each point's can be compared.
    sites = [_name(s, reference) for s in sites]
    points = []
    for n in range(1, len(sites) + 1):
        root = work / f"p{n}"
        shutil.copytree(template, root)
        argv = _argv(scenario, root)
        stopped = _in_child(_command(root, argv, "stopped", Sites(root, mode, n)))
        after_stop = _hashes(root, work)
        seen = root / ".sites-stopped.json"
        got = json.loads(seen.read_text()) if seen.exists() else None
        next_code = _in_child(_command(root, argv, "next"))
        points.append(
            {
                "n": n, "site": sites[n - 1], "root": str(root), "stopped": stopped,
                "stopped_err": (root / ".err-stopped").read_text(errors="replace"),
                "stopped_sites": got and [_name(s, root) for s in got],
                "after_stop": after_stop, "next": next_code,
                "next_err": (root / ".err-next").read_text(errors="replace"),
            }
        )  # fmt: skip
    summary = {"reference_code": ref_code, "sites": sites, "points": points}
    (work / "points.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    helper(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
    sys.exit(0)


# --------------------------------------------------------------------------- the tests


def _inject(scenario: str, mode: str, work: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, __file__, scenario, mode, str(work)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((work / "points.json").read_text())


def _product(scenario: str, root: Path, monkeypatch: pytest.MonkeyPatch):
    """What the command makes, to compare with the uninterrupted command's: the result table
    (column hashes, timings left out), the imported corpus, the report's files."""
    if scenario == "run":
        from golden import column_hashes

        from modelcollapse.results import read_results

        return column_hashes(read_results(root / "run"))
    if scenario == "import":
        from modelcollapse.data.home import load_imported

        monkeypatch.setenv("MODELCOLLAPSE_DATA", str(root / "home"))
        corpus = load_imported("new")
        return corpus.texts, corpus.labels.tolist(), corpus.fingerprint
    return _hashes(root / "run" / "report", root.parent)


def _one_line(err: str) -> bool:
    """Exactly one error line and no traceback (a progress bar or a warning, such as a cache
    entry rebuilt, may come before it)."""
    lines = [line for line in err.splitlines() if line.startswith("modelcollapse: error: ")]
    return len(lines) == 1 and "Traceback" not in err


def _problems(summary: dict, work: Path, scenario: str, mode: str, monkeypatch) -> list[str]:
    """What went wrong at each point, as lines naming the point."""
    before = _hashes(work / "template", work)
    # The report is the one thing a command replaces: as a whole, never in part.
    replaced = "run/report/" if scenario == "report" else "\0"
    kept = {k: v for k, v in before.items() if not k.startswith(replaced)}
    old_report = {k: v for k, v in before.items() if k.startswith(replaced)}
    new_report = {
        k: v for k, v in _hashes(work / "reference", work).items() if k.startswith(replaced)
    }
    reference = _product(scenario, work / "reference", monkeypatch)
    problems = []
    for p in summary["points"]:
        where = f"{mode} at site {p['n']} ({p['site']})"
        root = Path(p["root"])
        if mode == "kill" and p["stopped"] != KILLED:
            problems.append(f"{where}: the command ended ({p['stopped']}) before its site")
            continue
        if mode == "fail":
            if p["stopped"] != 0 and not (p["stopped"] == 2 and _one_line(p["stopped_err"])):
                problems.append(f"{where}: exit {p['stopped']}, {p['stopped_err'][-800:]!r}")
            if (p["stopped_sites"] or summary["sites"])[: p["n"]] != summary["sites"][: p["n"]]:
                problems.append(f"{where}: the sites differ from the reference's")
        report = {k: v for k, v in p["after_stop"].items() if k.startswith(replaced)}
        if report and report not in (old_report, new_report):
            problems.append(f"{where}: a mixed report after the stop: {sorted(report)}")
        if p["next"] == 0:
            if _product(scenario, root, monkeypatch) != reference:
                problems.append(f"{where}: the next command's result differs from the reference")
        elif not (p["next"] == 2 and _one_line(p["next_err"])):
            problems.append(f"{where}: next command exit {p['next']}, {p['next_err'][-800:]!r}")
        after = _hashes(root, work)
        changed = sorted(k for k, v in kept.items() if after.get(k) != v)
        if changed:
            problems.append(f"{where}: changed or removed what was there before: {changed}")
    return problems


# Every point reruns a whole command twice: a run's and a report's points (about 70 s of CPU
# each mode) are .ci/run's exhaustive step; an import's stay in the quick suite.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "scenario",
    [s if s == "import" else pytest.param(s, marks=pytest.mark.exhaustive) for s in SCENARIOS],
)
def test_stopped_at_every_write_site(tmp_path, monkeypatch, scenario, mode):
    summary = _inject(scenario, mode, tmp_path)
    assert summary["reference_code"] == 0
    assert len(summary["points"]) >= MIN_SITES[scenario], summary["sites"]
    problems = _problems(summary, tmp_path, scenario, mode, monkeypatch)
    assert not problems, "\n".join(problems)
