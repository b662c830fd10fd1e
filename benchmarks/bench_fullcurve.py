"""A logreg learning curve up to 3.6M training reviews, through `data import`; prints JSON.

Usage: python benchmarks/bench_fullcurve.py [--train 3600000] [--test 400000] [--model logreg]
           [--tokenizer seed] [--workdir /tmp/modelcollapse-fullcurve] [--keep] [--folder DIR]

``--folder`` uses a folder already holding ``train.ft.txt`` and ``test.ft.txt`` (for example
the Heaps-faithful corpus of ``benchmarks/heaps_corpus.py build --test N``, its train file
linked as ``train.ft.txt``) instead of building the resampled one; it is kept.

The real Kaggle files cannot be downloaded here, so the script builds a folder shaped like
them: ``train.ft.txt`` resampled (with replacement, numpy seed 4) from 12,000 reviews of the
real sample and ``test.ft.txt`` from the other 3,980, so no test review occurs in training.
Each text repeats about 300 times: the vocabulary is the sample's, far smaller than the real
corpus's, so fits and counting are cheaper than on real data. Then, each under
``/usr/bin/time -v`` with its own data home and cache (``MODELCOLLAPSE_DATA``,
``MODELCOLLAPSE_CACHE``):

1. ``modelcollapse data import FOLDER --name fullcurve``;
2. ``modelcollapse run learning-curve --data fullcurve --model logreg --max-size TRAIN
   --repeats 1 --jobs 1 --no-report``: 30 sizes, each 4/3 of the previous, up to all of the
   train split, scored on the whole test split.

Reports wall time and peak RSS of each command, and per size the fit and scoring seconds
and the accuracy.
"""

from __future__ import annotations

import argparse
import bz2
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_SAMPLE = Path(
    os.environ.get(
        "MODELCOLLAPSE_REAL_DATA",
        Path(__file__).resolve().parents[2] / "shared/data/amazon_polarity_sample.ft.txt.bz2",
    )
)


def build(sample: Path, folder: Path, n_train: int, n_test: int, seed: int = 4) -> None:
    """train.ft.txt and test.ft.txt resampled from disjoint parts of the sample, once."""
    done = folder / "test.ft.txt"
    if done.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    opener = bz2.open if sample.suffix == ".bz2" else open
    with opener(sample, "rb") as fh:
        lines = [line.rstrip(b"\n") + b"\n" for line in fh if line.strip()]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lines))
    sources = {"train.ft.txt": order[:12000], "test.ft.txt": order[12000:]}
    for (name, rows), n in zip(sources.items(), (n_train, n_test), strict=True):
        picks = rows[rng.integers(0, len(rows), size=n)]
        tmp = folder / f".{name}.part"
        with open(tmp, "wb") as out:
            for start in range(0, n, 100_000):
                out.writelines(lines[i] for i in picks[start : start + 100_000])
        tmp.replace(folder / name)


def timed(cmd: list[str], env: dict[str, str]) -> dict:
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return {
        "command": " ".join(cmd),
        "wall_s": round(wall, 1),
        "peak_rss_gb": round(int(peak.group(1)) / 1e6, 2) if peak else None,
        "load_after": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", type=int, default=3_600_000)
    parser.add_argument("--test", type=int, default=400_000)
    parser.add_argument("--model", default="logreg")
    parser.add_argument("--tokenizer", default="seed")
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "modelcollapse-fullcurve"
    )
    parser.add_argument("--keep", action="store_true", help="keep the built files")
    parser.add_argument("--folder", type=Path, help="a built train.ft.txt/test.ft.txt folder")
    args = parser.parse_args()

    import pandas as pd

    folder = args.folder or args.workdir / f"corpus-{args.train}-{args.test}"
    if args.folder is None:
        build(args.sample, folder, args.train, args.test)
    home, cache, out = (args.workdir / name for name in ("home", "cache", "run"))
    for path in (home, cache, out):
        shutil.rmtree(path, ignore_errors=True)
    env = {**os.environ, "MODELCOLLAPSE_DATA": str(home), "MODELCOLLAPSE_CACHE": str(cache)}
    load_before = os.getloadavg()
    imported = timed(["modelcollapse", "data", "import", str(folder), "--name", "fullcurve"], env)
    run = timed(
        ["modelcollapse", "run", "learning-curve", "--data", "fullcurve", "--model", args.model,
         "--tokenizer", args.tokenizer, "--max-size", str(args.train), "--repeats", "1",
         "--jobs", "1", "--out", str(out), "--no-report"],
        env,
    )  # fmt: skip
    table = pd.read_parquet(out / "results").sort_values("train_size")
    steps = [
        {"train_size": int(r.train_size), "n_test": int(r.n_test),
         "fit_s": round(r.fit_seconds, 2), "score_s": round(r.predict_seconds, 2),
         "accuracy": round(r.accuracy, 4)}
        for r in table.itertuples()
    ]  # fmt: skip
    print(json.dumps({
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_before": load_before},
        "corpus": {"train": args.train, "test": args.test, "tokenizer": args.tokenizer,
                   "built_from": str(args.sample)},
        "import": imported,
        "run": run,
        "fit_s_total": round(float(table.fit_seconds.sum()), 1),
        "score_s_total": round(float(table.predict_seconds.sum()), 1),
        "steps": steps,
    }, indent=2))  # fmt: skip
    if not args.keep:
        for path in (home, cache, out) if args.folder else (args.workdir,):
            shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
