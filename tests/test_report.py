"""The report from a simulated stored run: files, images, HTML, and the page as Chromium renders it.

The run is simulated (no experiment runs) but written in the store's layout, so these tests
pin the contract between store and report: config.toml, manifest.json, results/*.parquet.
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from modelcollapse.errors import UserError
from modelcollapse.report import build_report
from modelcollapse.report.figures import split_studies
from modelcollapse.report.load import load_run
from modelcollapse.report.tables import summary_table

CONFIG = """\
# resolved config written by the store
seed = 0
repeats = 3

[data]
source = "amazon-reviews-sample"
rows = 15980

[model]
name = "logreg"
tokenizer = "word"
"""

# Studies of the simulated run: (experiment, kind, size grid, collapse starts, rates).
# Trajectories run through the grid from their start; for total collapse the smallest start
# is the all-human no-collapse curve.
DOUBLING = (100, 200, 400, 800, 1600, 3200)
SMALL_RUN = (
    ("learning-curve", "learning-curve", DOUBLING, (100,), (0.0,)),
    ("total-collapse", "total-collapse", DOUBLING, (100, 200, 800), (1.0,)),
    ("collapse-rates", "rates", DOUBLING[1:], (200,), (0.0, 0.25, 0.5, 1.0)),
    ("lower-rates", "rates", DOUBLING[1:], (200,), (0.0, 0.01, 0.05, 0.1)),
)
Spec = tuple[str, str, tuple[int, ...], tuple[int, ...], tuple[float, ...]]


def simulate_trajectories(
    studies: Iterable[Spec], repeats: int, seed: int = 0
) -> list[pd.DataFrame]:
    """Plausible trajectories: accuracy rises with human labels and decays with the model's.

    A repeat-level offset is shared by every trajectory of a repeat (as the real paired design
    shares test set and draw order), so paired differences are much tighter than raw accuracy;
    each repeat's model drifts towards one class, as the real ones do.
    """
    rng = np.random.default_rng(seed)
    frames = []
    for experiment, kind, grid, starts, rates in studies:
        for repeat in range(repeats):
            offset = rng.normal(0, 0.012)
            lean = rng.choice([-1.0, 1.0])
            test_pos = 0.5 + rng.normal(0, 0.01)
            for start in starts:
                for rate in rates:
                    if kind == "total-collapse" and start == min(starts):
                        rate = 0.0
                    n = np.array([g for g in grid if g >= start], float)
                    added = np.diff(n, prepend=n[0])
                    model_rows = np.cumsum(np.floor(rate * added + 0.5))
                    base = 0.88 - 0.33 * np.exp(-(n - model_rows) / 400)
                    decay = np.exp(-1.5 * model_rows / start)
                    noise = rng.normal(0, 0.004, len(n))
                    acc = np.clip(0.5 + (base - 0.5) * decay + offset + noise, 0.45, 0.95)
                    pred_pos = test_pos + lean * (0.02 + 0.45 * (1 - decay))
                    label_acc = np.where(model_rows > np.roll(model_rows, 1), acc, np.nan)
                    label_acc[0] = np.nan
                    frames.append(
                        pd.DataFrame(
                            {
                                "experiment": experiment,
                                "kind": kind,
                                "trajectory": f"{experiment}/{start}/{rate}/{repeat}",
                                "repeat": repeat,
                                "seed": 1000 + repeat,
                                "model": "logreg",
                                "tokenizer": "word",
                                "rate": float(rate),
                                "initial_size": start,
                                "step": np.arange(len(n)),
                                "train_size": n.astype(int),
                                "n_model_labelled": model_rows.astype(int),
                                "model_label_accuracy": label_acc,
                                "accuracy": acc,
                                "predicted_positive_rate": np.clip(pred_pos, 0, 1),
                                "test_positive_rate": test_pos,
                                "n_test": 2000,
                                "fit_seconds": n / 10_000,
                                "predict_seconds": 0.002,
                            }
                        )
                    )
    return frames


def write_run(run_dir: Path, frames: list[pd.DataFrame]) -> Path:
    """Write frames in the store's layout: one Parquet file per trajectory."""
    (run_dir / "results").mkdir(parents=True, exist_ok=True)
    for frame in frames:
        name = re.sub(r"[^A-Za-z0-9.=-]+", "_", frame["trajectory"].iloc[0])
        frame.to_parquet(run_dir / "results" / f"{name}.parquet", index=False)
    (run_dir / "config.toml").write_text(CONFIG, encoding="utf-8")
    manifest = {
        "command": "modelcollapse run collapse-rates --repeats 3",
        "created": "2024-05-01T12:00:00Z",
        "seed": 0,
        "versions": {"modelcollapse": "0.1.0", "scikit-learn": "1.4.2", "numpy": "1.26.4"},
        "data": {
            "source": "https://example.org/amazon.csv",
            "fingerprint": "sha256:ab12",
            "rows": 15980,
        },
        "python": "3.11.7",
        "hosts": ["a", "b"],
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return run_dir


EXPECTED_STEMS = {
    "dashboard",
    "final-accuracy",
    "accuracy-learning-curve",
    "positive-rate-learning-curve",
    "accuracy-total-collapse",
    "positive-rate-total-collapse",
    "accuracy-collapse-rates",
    "difference-collapse-rates",
    "positive-rate-collapse-rates",
    "accuracy-lower-rates",
    "difference-lower-rates",
    "positive-rate-lower-rates",
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("run"), simulate_trajectories(SMALL_RUN, repeats=3))


@pytest.fixture(scope="module")
def png_report(run_dir: Path) -> Path:
    return build_report(run_dir, "png")


# --- files and images ---------------------------------------------------------------------


def test_every_figure_is_written_as_a_non_blank_png(png_report: Path) -> None:
    report = png_report.parent
    assert png_report == report / "report.html" and png_report.is_file()
    assert {p.stem for p in report.glob("*.png")} == EXPECTED_STEMS
    for path in report.glob("*.png"):
        pixels = imread(path)
        assert pixels.ndim == 3 and pixels.shape[1] >= 1500, path.name  # 300 dpi at print size
        assert pixels[..., :3].std() > 0.05, f"{path.name} looks blank"


def test_svg_and_pdf_formats(tmp_path: Path) -> None:
    # Two studies cover every figure type but the learning curve (PNG tests cover that); a
    # smaller run keeps the test quick, since vector output is drawn twice (file + page PNG).
    run = write_run(tmp_path, simulate_trajectories(SMALL_RUN[1:3], repeats=2))
    stems = {
        "dashboard",
        "final-accuracy",
        *(
            f"{kind}-{name}"
            for kind in ("accuracy", "positive-rate")
            for name in ("total-collapse", "collapse-rates")
        ),
        "difference-collapse-rates",
    }
    build_report(run, "svg")
    svgs = list((run / "report").glob("*.svg"))
    assert {p.stem for p in svgs} == stems
    for path in svgs:
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg") and len(list(root.iter())) > 50, path.name
    html = (run / "report" / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == len(stems)

    build_report(run, "pdf")  # replaces the svg report as a whole
    files = list((run / "report").iterdir())
    assert {p.suffix for p in files} == {".pdf", ".html"}
    assert {p.stem for p in files if p.suffix == ".pdf"} == stems
    for path in files:
        if path.suffix == ".pdf":
            assert path.read_bytes().startswith(b"%PDF") and path.stat().st_size > 5000


# --- HTML ---------------------------------------------------------------------------------


def test_html_is_self_contained_and_complete(png_report: Path) -> None:
    html = png_report.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", html, re.I)
    assert "<script" not in html.lower()
    assert html.count("<img ") == len(EXPECTED_STEMS) == html.count("<figcaption>")
    assert html.count('src="data:image/png;base64,') == len(EXPECTED_STEMS)
    for stem in EXPECTED_STEMS:
        assert f"report/{stem}.png" in html
    assert "<pre>" in html and "amazon-reviews-sample" in html  # config verbatim
    assert "scikit-learn" in html and "1.4.2" in html and "sha256:ab12" in html  # nested manifest
    assert "Δ vs 0 %" in html and "baseline" in html


def test_summary_table_matches_hand_computed_values(run_dir: Path) -> None:
    run = load_run(run_dir)
    study = next(s for s in split_studies(run.results) if s.name == "collapse-rates")
    table = summary_table(study)
    assert table["rate"].tolist() == [0.0, 0.25, 0.5, 1.0]
    assert (table["n"] == 3).all() and (table["diff_n"].fillna(3) == 3).all()
    r = run.results
    sub = r[(r["experiment"] == "collapse-rates")]
    last = sub[sub["step"] == sub["step"].max()]
    full = last[last["rate"] == 1.0].set_index("repeat")["accuracy"]
    zero = last[last["rate"] == 0.0].set_index("repeat")["accuracy"]
    row = table.set_index("rate").loc[1.0]
    assert row["last_mean"] == pytest.approx(full.mean())
    assert row["diff_mean"] == pytest.approx((full - zero).mean())
    assert row["diff_high"] < 0  # the simulated collapse is unmistakable
    assert np.isnan(table.set_index("rate").loc[0.0, "diff_mean"])


def test_total_collapse_pairs_by_training_size(run_dir: Path) -> None:
    run = load_run(run_dir)
    study = next(s for s in split_studies(run.results) if s.kind == "total-collapse")
    table = summary_table(study).set_index("initial_size")
    assert table.loc[100, "rate"] == 0.0 and table.loc[800, "rate"] == 1.0
    assert table.loc[800, "first_size"] == 800 and table.loc[800, "last_size"] == 3200
    assert table.loc[800, "diff_n"] == 3 and table.loc[800, "diff_mean"] < 0


# --- degenerate runs ----------------------------------------------------------------------


def test_directory_without_results_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        build_report(tmp_path)
    assert err.value.where == str(tmp_path)
    (tmp_path / "results").mkdir()
    with pytest.raises(UserError, match="no results"):
        build_report(tmp_path)
    with pytest.raises(UserError):
        build_report(tmp_path / "missing")
    assert not list(tmp_path.glob(".tmp-*")), "a failed build must not leave files behind"


def test_unknown_format_is_a_user_error(run_dir: Path) -> None:
    with pytest.raises(UserError, match="png, svg or pdf"):
        build_report(run_dir, "jpg")  # type: ignore[arg-type]


def test_one_study_one_repeat_without_config_or_manifest(tmp_path: Path) -> None:
    frames = simulate_trajectories(
        [("lower-rates", "rates", (200, 400, 800), (200,), (0.0, 0.05))], 1
    )
    write_run(tmp_path, frames)
    (tmp_path / "config.toml").unlink()
    (tmp_path / "manifest.json").write_text("{not json")
    (tmp_path / "results" / "partial.parquet.tmp").write_bytes(b"half-written")  # store temp file
    html = build_report(tmp_path).read_text()
    stems = {p.stem for p in (tmp_path / "report").glob("*.png")}
    # two panels (rates + final accuracy) still make a dashboard
    assert stems == {
        "dashboard",
        "final-accuracy",
        "accuracy-lower-rates",
        "difference-lower-rates",
        "positive-rate-lower-rates",
    }
    assert "no confidence intervals" in html and "config.toml is missing" in html
    assert "1 repeat, no CI" in html and "manifest.json could not be read" in html


def test_learning_curve_only_has_no_dashboard(tmp_path: Path) -> None:
    frames = simulate_trajectories([SMALL_RUN[0]], repeats=2)
    write_run(tmp_path, frames)
    build_report(tmp_path)
    stems = {p.stem for p in (tmp_path / "report").glob("*.png")}
    assert stems == {"accuracy-learning-curve", "positive-rate-learning-curve"}


def test_experiment_with_two_models_is_split_into_two_studies(tmp_path: Path) -> None:
    frames = simulate_trajectories([SMALL_RUN[2]], repeats=2)
    other = [f.assign(model="nb", trajectory=f["trajectory"] + "/nb") for f in frames]
    write_run(tmp_path, frames + other)
    build_report(tmp_path)
    stems = {p.stem for p in (tmp_path / "report").glob("accuracy-*.png")}
    assert stems == {"accuracy-collapse-rates-model-logreg", "accuracy-collapse-rates-model-nb"}


# --- the page in a real browser -----------------------------------------------------------

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # Any attempt to reach the network fails loudly (and shows up as a console error).
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
# Put first in <head> of a copy of the page (the report itself has no script): it records
# every load error, any resource fetched from outside the page, and how many images decoded.
PROBE = """<script>
(() => {
  const errors = [];
  window.addEventListener("error", (e) => {
    const t = e.target;
    const url = t && (t.currentSrc || t.src || t.href || "").slice(0, 60);
    errors.push(t && t !== window
      ? `failed to load <${t.tagName.toLowerCase()}> ${url}`
      : `script error: ${e.message}`);
  }, true);
  window.addEventListener("load", () => {
    const imgs = Array.from(document.images);
    const decoded = imgs.filter((i) => i.complete && i.naturalWidth > 0).length;
    const fetched = performance.getEntriesByType("resource").map((r) => r.name)
      .filter((n) => !n.startsWith("data:"));
    const marker = document.createElement("pre");
    marker.id = "probe";
    marker.textContent = JSON.stringify({ images: imgs.length, decoded, errors, fetched });
    document.body.appendChild(marker);
  });
})();
</script>"""


@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium's path; skipped when absent, except on CI where a missing browser is a failure."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("chromium not found, and CI is set: install it (apt-get install chromium)")
    pytest.skip("chromium not installed")


def _run_chromium(
    chromium: str, args: list[str], profile: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _console_messages(stderr: str) -> list[str]:
    """Console output Chromium logs to stderr (``INFO:CONSOLE``); a report should have none."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_page_renders_in_chromium_with_every_image_decoded(
    chromium: str, png_report: Path, tmp_path: Path
) -> None:
    probe_page = png_report.parent / "probe.html"  # same directory: same relative-URL behaviour
    html = png_report.read_text(encoding="utf-8")
    probe_page.write_text(html.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    try:
        dom = _run_chromium(
            chromium,
            ["--enable-logging=stderr", "--v=0", "--dump-dom", probe_page.as_uri()],
            tmp_path / "profile-dom",
        )
    finally:
        probe_page.unlink()
    assert dom.returncode == 0, dom.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.S)
    assert found, "the probe did not run: " + dom.stdout[-500:]
    probe = json.loads(html_lib.unescape(found.group(1)))
    n = len(EXPECTED_STEMS)
    assert probe == {"images": n, "decoded": n, "errors": [], "fetched": []}
    assert _console_messages(dom.stderr) == []

    shot = tmp_path / "page.png"
    result = _run_chromium(
        chromium,
        [
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={shot}",
            "--window-size=1400,6000",
            png_report.as_uri(),
        ],
        tmp_path / "profile-shot",
    )
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    assert _console_messages(result.stderr) == []
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (6000, 1400)
    assert pixels.std() > 0.05, "screenshot looks blank"
    assert (pixels.mean(axis=2) < 0.9).mean() > 0.05, "too little is drawn on the page"
    if os.environ.get("MODELCOLLAPSE_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["MODELCOLLAPSE_KEEP_SCREENSHOT"])


# --- new metrics, arms and loop designs ---------------------------------------------------

LOOP_DEFAULTS = {
    "regime": "accumulate",
    "window": -1,
    "fresh_share": 0.0,
    "labeller": "current",
    "label_policy": "argmax",
    "threshold": 0.9,
    "below_threshold": "drop",
    "verified_share": 0.0,
    "keep_correct": 1.0,
    "keep_wrong": 1.0,
    "model_weight": 1.0,
    "arms": False,
}


def with_new_columns(
    frames: list[pd.DataFrame], seed: int = 1, **loop: object
) -> list[pd.DataFrame]:
    """Add what newer runs record: class-balanced scores, calibration, the model-labelled share,
    the arms (when ``arms=True``) and the loop-design columns (``loop`` overrides defaults)."""
    rng = np.random.default_rng(seed)
    design = LOOP_DEFAULTS | loop
    out = []
    for frame in frames:
        f = frame.copy()
        acc = f["accuracy"].to_numpy()
        n = f["train_size"].to_numpy(float)
        lean = np.abs(f["predicted_positive_rate"] - f["test_positive_rate"]).to_numpy()
        noise = rng.normal(0, 0.003, (4, len(f)))
        f["n_train"] = f["train_size"]
        f["model_labelled_share"] = f["n_model_labelled"] / f["train_size"]
        f["n_dropped"] = 0
        f["balanced_accuracy"] = acc - 0.2 * lean + noise[0]
        f["macro_f1"] = acc - 0.5 * lean + noise[1]
        f["ece"] = np.clip(0.03 + 0.4 * (0.9 - acc) + noise[2], 0, 1)
        f["brier"] = np.clip(0.08 + 0.6 * (0.9 - acc) + noise[3], 0, 1)
        f["log_loss"] = 3 * f["brier"]
        human = n - f["n_model_labelled"].to_numpy()
        gold = 0.88 - 0.33 * np.exp(-n / 400)
        f["accuracy_gold"] = gold if design["arms"] else np.nan
        f["accuracy_real_only"] = 0.88 - 0.33 * np.exp(-human / 400) if design["arms"] else np.nan
        for name, value in design.items():
            f[name] = value
        out.append(f)
    return out


def _stems(run: Path) -> set[str]:
    return {p.stem for p in (run / "report").glob("*.png")}


def test_new_metric_figures_and_statistics_section(tmp_path: Path) -> None:
    spec = [("lower-rates", "rates", (200, 400, 800, 1600), (200,), (0.0, 0.05, 0.1, 0.5))]
    write_run(tmp_path, with_new_columns(simulate_trajectories(spec, repeats=3), arms=True))
    html = build_report(tmp_path).read_text(encoding="utf-8")
    new = {
        "calibration-lower-rates",
        "balance-lower-rates",
        "model-labels-lower-rates",
        "arms-lower-rates",
    }
    stems = _stems(tmp_path)
    assert new <= stems and not any(s.startswith("designs-") for s in stems)
    for stem in new:
        pixels = imread(tmp_path / "report" / f"{stem}.png")
        assert pixels.shape[1] >= 1500 and pixels[..., :3].std() > 0.05, stem
        assert f"report/{stem}.png" in html
    assert html.count("<img ") == len(stems)
    section = html[
        html.index('<h2 id="statistics">') : html.index("<h2", html.index("Statistics</h2>") + 1)
    ]
    assert "against <code>rate=0</code>" in section
    assert section.count("<tr><td") == 3  # rates 5 %, 10 %, 50 % against 0 %
    # 3 repeats: the Wilcoxon test cannot call anything worse, and the page says why.
    assert "inconclusive" in section and "cannot reach p &lt; 0.05" in section


def test_loop_designs_of_a_seed_group_get_a_figure_and_a_table(tmp_path: Path) -> None:
    grid = (200, 400, 800)
    spec = [
        ("acc", "rates", grid, (200,), (0.0, 0.1, 0.5)),
        ("rep", "rates", grid, (200,), (0.0, 0.1, 0.5)),
    ]
    frames = simulate_trajectories(spec, repeats=2)
    acc = with_new_columns([f for f in frames if f["experiment"].iloc[0] == "acc"])
    rep = with_new_columns(
        [f for f in frames if f["experiment"].iloc[0] == "rep"], regime="replace", window=200
    )
    # Columns a run lacks entirely, or holds only as NaN, get no figure.
    frames = [
        f.assign(ece=np.nan).drop(columns=["brier", "balanced_accuracy", "macro_f1"])
        for f in acc + rep
    ]
    write_run(tmp_path, frames)
    config = CONFIG + "".join(
        f'\n[[study]]\nname = "{name}"\nseed_group = "pair"\n' for name in ("acc", "rep")
    )
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    html = build_report(tmp_path).read_text(encoding="utf-8")
    stems = _stems(tmp_path)
    assert "designs-pair" in stems
    assert not any(s.startswith(("calibration-", "balance-", "arms-")) for s in stems)
    pixels = imread(tmp_path / "report" / "designs-pair.png")
    assert pixels[..., :3].std() > 0.05
    assert "Loop designs" in html and "pair: loop designs at matched rate" in html
    assert "against <code>regime=accumulate,window=-1</code>" in html
    assert html.count("against <code>rate=0</code>") == 1  # one seed group: one table


def test_old_run_gets_statistics_but_no_new_figures(png_report: Path) -> None:
    html = png_report.read_text(encoding="utf-8")
    assert '<a href="#statistics">' in html and '<h2 id="statistics">' in html
    for name in ("collapse-rates", "lower-rates", "total-collapse"):
        assert f"<h3>{name} <span class='muted'>against <code>rate=0</code>" in html
    assert "learning-curve <span" not in html  # nothing to pair with


# --- generational kinds: reports of real (small) runs --------------------------------------

GENERATIVE_RUN = """
name = "gen-small"
model = "logreg"
tokenizer = "fast"

[[study]]
name = "write"
kind = "generative"
sample_size = 400
generations = 2
regimes = ["replace", "accumulate"]
test_size = 300
repeats = 2
"""

MIXED_RUN = """
name = "mixed"
model = "logreg"
tokenizer = "fast"

[[study]]
name = "breed"
kind = "generations"
sample_size = 150
validation_size = 200
population = 3
keep = 2
max_generations = 3
rates = [0.0, 1.0]
test_size = 300
repeats = 2

[[study]]
name = "rates"
kind = "rates"
initial_size = 200
increment = 200
max_size = 600
rates = [0.0, 1.0]
test_size = 300
repeats = 2
"""


def _run(tmp_path: Path, config: str, data: Path, *args: str) -> Path:
    from modelcollapse.cli import main

    path = tmp_path / "config.toml"
    path.write_text(config)
    out = tmp_path / "run"
    assert main(["run", str(path), "--data", str(data), "--out", str(out), *args]) == 0
    return out


def _section(html: str, heading: str) -> str:
    start = html.index(heading)
    return html[start : html.index("<h2", start + 1)]


def test_report_of_a_generative_run(tmp_path: Path, small_reviews: Path, capsys) -> None:
    from modelcollapse.cli import main

    run = _run(tmp_path, GENERATIVE_RUN, small_reviews, "--report")
    assert "report: " in capsys.readouterr().out
    assert _stems(run) == {"accuracy-write", "diversity-write", "calibration-write",
                           "perplexity-histograms-write", "rank-frequency-write",
                           "text-measures-write"}  # fmt: skip
    for stem in _stems(run):
        pixels = imread(run / "report" / f"{stem}.png")
        assert pixels[..., :3].std() > 0.05, stem
    html = (run / "report" / "report.html").read_text(encoding="utf-8")
    assert "write: accuracy by generation" in html
    assert "write: diversity of the written reviews" in html
    # Summary: per regime, generation 0 → last, with the change inside each repeat.
    results = load_run(run).results
    summary = _section(html, '<h2 id="summary">')
    for regime in ("accumulate", "replace"):
        rows = results.loc[results["regime"] == regime]
        first = rows.loc[rows["step"] == 0, "accuracy"].mean() * 100
        last = rows.loc[rows["step"] == 2, "accuracy"].mean() * 100
        vocab = rows.groupby("step")["vocabulary_size"].mean()
        row = re.search(rf"<tr><td class=\"num\">{regime}</td>.*?</tr>", summary).group(0)
        assert f"{first:.1f} [" in row and f"{last:.1f} [" in row
        assert f"{vocab[0]:,.0f} → {vocab[2]:,.0f}" in row
    assert "nan" not in summary.lower()
    # Statistics: the regimes pair generation by generation.
    statistics = _section(html, '<h2 id="statistics">')
    assert "against <code>regime=accumulate</code>" in statistics
    assert "<th>Generation</th>" in statistics and "nan" not in statistics.lower()

    code = main(["compare", str(run), "--baseline", "regime=accumulate", "--all-steps"])
    printed = capsys.readouterr().out
    assert code == 0 and "generation" in printed and "Paired by seed group, repeat and generation"
    rows = [line for line in printed.splitlines() if line.startswith("│ replace")]
    assert [line.split("│")[3].strip() for line in rows] == ["0", "1", "2"]
    assert "equivalent" in rows[0]  # generation 0: the same real reviews in both regimes


def test_report_of_a_run_with_generations_and_rates(tmp_path: Path, small_reviews: Path) -> None:
    from modelcollapse.results import best_per_generation, final_models

    run = _run(tmp_path, MIXED_RUN, small_reviews)
    report = build_report(run)
    stems = _stems(run)
    assert "generations-breed" in stems
    assert {"accuracy-rates", "difference-rates", "final-accuracy"} <= stems
    assert {s for s in stems if s.endswith("-breed")} == {"generations-breed", "calibration-breed"}
    pixels = imread(run / "report" / "generations-breed.png")
    assert pixels[..., :3].std() > 0.05
    html = report.read_text(encoding="utf-8")
    assert "breed: best accuracy by generation" in html
    results = load_run(run).results
    breed = results.loc[results["experiment"] == "breed"]
    summary = _section(html, '<h2 id="summary">')
    assert "Best of generation 0" in summary and "Final model" in summary
    best = best_per_generation(breed)
    final = final_models(breed)
    for rate, label in ((0.0, "0 %"), (1.0, "100 %")):
        first = best.loc[(best["step"] == 0) & (best["rate"] == rate), "accuracy"].mean() * 100
        last = final.loc[final["rate"] == rate, "accuracy"].mean() * 100
        row = re.search(rf"<tr><td class=\"num\">{label}</td>.*?</tr>", summary).group(0)
        assert f"{first:.1f} [" in row and f"{last:.1f} [" in row
    # Statistics on the model each search ends with, paired by repeat.
    statistics = _section(html, '<h2 id="statistics">')
    assert "breed <span class='muted'>against <code>rate=0</code>" in statistics
    by_repeat = final.set_index(["rate", "repeat"])["accuracy"]
    diff = (by_repeat.loc[1.0] - by_repeat.loc[0.0]).mean() * 100
    assert f"{diff:+.2f}".replace("-", "\u2212") in statistics
