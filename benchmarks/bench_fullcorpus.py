"""Read and featurise a full-size corpus (issue #4: 3.6M reviews, < 15 min, < 12 GB); prints JSON.

Usage: python benchmarks/bench_fullcorpus.py [--sizes 400000,3600000] [--tokenizers seed,fast]
       [--jobs N] [--chunk-size N] [--bz2] [--workdir /tmp/modelcollapse-fullcorpus] [--keep]
       [--corpus FILE,FILE] [--ngram-max 2]

``--corpus`` measures the given fastText files instead of resampled ones, e.g. the
Heaps-faithful corpora of ``benchmarks/heaps_corpus.py build``.

The real 3.6M-review train file cannot be downloaded here, so the corpus is the real
15,980-review sample resampled with replacement (fixed ``--seed``) to each size, written as
plain fastText text (``--bz2`` also writes and measures a bz2 copy of the largest size). Every
text repeats about 225 times at 3.6M, so the vocabulary (and the lemma memo) stays that of
the sample: far smaller than the real corpus's, which makes counting and tokenising cheaper
than on real data.

Each measurement is a fresh process under ``/usr/bin/time -v`` (wall time and peak RSS of
the main process; ``worker_peak_rss_gb`` lists the peak RSS of each featurisation worker)
with an empty feature cache: read the file (``read_corpus``), fingerprint it, featurise it.
The machine's load average is recorded before and after, since other jobs may share it.
"""

from __future__ import annotations

import argparse
import bz2
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from modelcollapse.atomic import atomic_write

DEFAULT_SAMPLE = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon_polarity_sample.ft.txt.bz2"
)
DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "modelcollapse-fullcorpus"


def build(sample: Path, n: int, out: Path, seed: int) -> Path:
    """``n`` lines of ``sample`` drawn with replacement (numpy seed ``seed``), once."""
    import numpy as np

    if out.exists():
        return out
    with bz2.open(sample, "rb") if sample.suffix == ".bz2" else open(sample, "rb") as fh:
        lines = [line if line.endswith(b"\n") else line + b"\n" for line in fh if line.strip()]
    picks = np.random.default_rng(seed).integers(0, len(lines), size=n)

    def write(tmp: Path) -> None:
        with open(tmp, "wb", buffering=1 << 22) as fh:
            for start in range(0, n, 100_000):
                fh.write(b"".join(lines[i] for i in picks[start : start + 100_000]))

    return atomic_write(out, write)


def compress(path: Path) -> Path:
    out = path.with_name(path.name + ".bz2")
    if not out.exists():

        def write(tmp: Path) -> None:
            with open(path, "rb") as src, bz2.open(tmp, "wb", compresslevel=9) as dst:
                shutil.copyfileobj(src, dst, 1 << 22)

        atomic_write(out, write)
    return out


def load() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def worker_peaks() -> list[float]:
    """Peak RSS (GB) of this process's live children: the featurisation workers."""
    me = str(os.getpid())
    peaks = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[1] != me:
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError):
            continue
        found = re.search(r"VmHWM:\s+(\d+) kB", status)
        if found:
            peaks.append(round(int(found.group(1)) / 1e6, 2))
    return sorted(peaks, reverse=True)


def one(path: str, tokenizer: str, jobs: int | None, chunk_size: int, top: int = 1) -> None:
    """The measured process: read, fingerprint, featurise; phases as JSON on stdout."""
    from modelcollapse.data.readers import read_corpus
    from modelcollapse.features.vectorize import featurize

    t0 = time.perf_counter()
    corpus = read_corpus(path)
    t1 = time.perf_counter()
    fingerprint = corpus.fingerprint
    t2 = time.perf_counter()
    features = featurize(corpus, tokenizer, (1, top), jobs=jobs, chunk_size=chunk_size)
    t3 = time.perf_counter()
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "rows": len(corpus),
        "read_s": round(t1 - t0, 1),
        "fingerprint_s": round(t2 - t1, 1),
        "featurize_s": round(t3 - t2, 1),
        "shape": list(features.X.shape),
        "nnz": int(features.X.nnz),
        "fingerprint": fingerprint[:12],
        "self_maxrss_gb": round(self_rss / 1e6, 2),
        "worker_peak_rss_gb": worker_peaks(),
    }
    print(json.dumps(result))


def measure(path: Path, tokenizer: str, jobs: int, chunk_size: int, top: int = 1) -> dict:
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=path.parent))
    env = {**os.environ, "MODELCOLLAPSE_CACHE": str(cache)}
    cmd = [
        "/usr/bin/time",
        "-v",
        sys.executable,
        __file__,
        "--one",
        str(path),
        tokenizer,
        str(jobs),
        str(chunk_size),
        str(top),
    ]
    before = load()
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = load()
    shutil.rmtree(cache, ignore_errors=True)
    if proc.returncode != 0:
        return {"file": str(path), "tokenizer": tokenizer, "error": proc.stderr[-2000:]}
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    cpu = re.search(r"Percent of CPU this job got: (\d+)%", proc.stderr)
    return {
        "file": path.name,
        "tokenizer": tokenizer,
        "jobs": jobs or "all cores",
        "chunk_size": chunk_size,
        "ngrams": f"1-{top}",
        "wall_s": round(wall, 1),
        "peak_rss_gb": round(int(peak.group(1)) / 1e6, 2) if peak else None,
        "cpu_percent": int(cpu.group(1)) if cpu else None,
        "load_before": before,
        "load_after": after,
        **json.loads(proc.stdout.strip().splitlines()[-1]),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        path, tokenizer, jobs, chunk_size, top = sys.argv[2:7]
        one(path, tokenizer, int(jobs) or None, int(chunk_size), int(top))
        return
    from modelcollapse.features.vectorize import CHUNK_SIZE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument("--sizes", default="400000,3600000")
    parser.add_argument("--tokenizers", default="seed,fast")
    parser.add_argument(
        "--jobs", type=int, default=1, help="featurisation processes (0: every core, up to 4)"
    )
    parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--bz2", action="store_true", help="also measure a bz2 copy (largest)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--keep", action="store_true", help="keep the built corpora")
    parser.add_argument("--corpus", help="comma-separated files to measure instead (kept)")
    parser.add_argument(
        "--ngram-max", type=int, default=1, help="2: unigrams and bigrams, as logreg counts them"
    )
    args = parser.parse_args()
    if args.corpus:
        results = [
            measure(Path(path), tokenizer, args.jobs, args.chunk_size, args.ngram_max)
            for path in args.corpus.split(",")
            for tokenizer in args.tokenizers.split(",")
        ]
        print(json.dumps({"cpus": os.cpu_count(), "python": platform.python_version(),
                          "results": results}, indent=2))  # fmt: skip
        return

    args.workdir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    for n in sizes:
        path = build(args.sample, n, args.workdir / f"train-{n}-seed{args.seed}.ft.txt", args.seed)
        for tokenizer in args.tokenizers.split(","):
            results.append(measure(path, tokenizer, args.jobs, args.chunk_size, args.ngram_max))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    if args.bz2:
        path = args.workdir / f"train-{max(sizes)}-seed{args.seed}.ft.txt"
        start = time.perf_counter()
        packed = compress(path)
        compress_s = time.perf_counter() - start
        result = measure(packed, "fast", args.jobs, args.chunk_size, args.ngram_max)
        result["compress_s"] = round(compress_s, 1)
        results.append(result)
    out = {
        "sample": str(args.sample),
        "seed": args.seed,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "results": results,
    }
    print(json.dumps(out, indent=2))
    if not args.keep:
        for path in args.workdir.glob("train-*"):
            path.unlink()


if __name__ == "__main__":
    main()
