"""The worked example of docs/data.md, "Your own machine labels", runs and prints what the page
says it prints: the supplied labels' accuracy per batch, 0.75 taken whole, 1.0 above the
threshold (the wrong labels are the unsure ones)."""

from __future__ import annotations

from extending_docs import DOCS, section_blocks, section_code


def test_the_machine_labels_example_runs_as_documented(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # it writes llm-labels.csv where it runs
    exec(
        compile(section_code("Your own machine labels", DOCS / "data.md"), "docs/data.md", "exec"),
        {},
    )
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("argmax [0.75, 0.75] test accuracy ")
    assert printed[1].startswith("threshold [1.0, 1.0] test accuracy ")
    # The CSV example above it has the layout the reader takes: class names, a confidence
    (csv,) = section_blocks("Your own machine labels", "csv", DOCS / "data.md")
    assert csv.splitlines()[0] == "id,label,confidence" and "__label__2" in csv
