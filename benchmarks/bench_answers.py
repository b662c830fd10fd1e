"""What the answers (and the theory checks) add to ``compare`` and the report, on a stored run.

    python benchmarks/bench_answers.py RUN_DIR [--runs 3]

Times, in CPU seconds (the fastest of ``--runs``): the ``compare`` command with its leading
answers and without them (``--baseline rate=0.00`` selects the same rows but prints no
answers), each in a fresh process; in-process, the report's Answers section (the answers with
learning curves, the worth figure saved at the report's 300 dpi, the HTML) and its Theory
section; and ``build_report`` as a whole. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import matplotlib

from modelcollapse.compare import seed_groups_from_config
from modelcollapse.report import build as report_build
from modelcollapse.report.answers import answers_html, report_answers, worth_plot
from modelcollapse.report.load import load_run
from modelcollapse.report.style import RC
from modelcollapse.report.theory import report_theory, theory_html


def cli_cpu(args: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["modelcollapse", *args], check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def sections(run: Path) -> tuple[float, float]:
    stored = load_run(run)
    groups = seed_groups_from_config(stored.config_text)
    scratch = Path(tempfile.mkdtemp())
    try:
        start = time.process_time()
        with matplotlib.rc_context(RC):
            answered, reason = report_answers(stored.results, groups, report_build.MARGIN)
            plot = worth_plot(answered)
            figure = report_build._save(plot, scratch, "png") if plot is not None else None
        answers_html(
            answered, reason, figure.png if figure else None, figure.width_px if figure else 0
        )
        middle = time.process_time()
        theory_html(report_theory(stored.results, groups))
        return middle - start, time.process_time() - middle
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    run = str(args.run)
    with_answers = min(cli_cpu(["compare", run]) for _ in range(args.runs))
    without = min(cli_cpu(["compare", run, "--baseline", "rate=0.00"]) for _ in range(args.runs))
    timed = [sections(args.run) for _ in range(args.runs)]
    report = []
    for _ in range(args.runs):
        start = time.process_time()
        report_build.build_report(args.run)
        report.append(time.process_time() - start)
    result = {
        "run": run,
        "compare_cpu_with_answers": round(with_answers, 3),
        "compare_cpu_without_answers": round(without, 3),
        "report_answers_section_cpu": round(min(a for a, _ in timed), 3),
        "report_theory_section_cpu": round(min(t for _, t in timed), 3),
        "report_cpu": round(min(report), 3),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
