"""``total-collapse``: from each size of the grid on, every addition is model-labelled."""

from __future__ import annotations

from modelcollapse.engines.base import ENGINES, Engine


class TotalCollapseEngine(Engine):
    """One rate-0 curve over the whole grid, and per start size and positive rate a curve that
    starts there (its first model trained on true labels) and model-labels from then on."""

    name = "total-collapse"
    figures = ("start-curves", "positive-rate")
    overview_panel = "start-curves"
    compares_rates = False
    # Curves start at different sizes, so steps do not line up; sizes do.
    pair_on = ("repeat", "train_size")
    splits_by_start = False
    start_in_series = True

    def shared_sizes(self, traj):
        # Each start's first fit (true labels only) is the no-collapse curve's at that size.
        return traj.sizes[:-1] if traj.rate == 0 else traj.sizes[:1]

    def shapes(self, study, sizes):
        shapes = [(0.0, sizes)]
        shapes += [(r, sizes[i:]) for i in range(len(sizes) - 1) for r in study.rates if r > 0]
        return shapes


ENGINES.register(TotalCollapseEngine.name, TotalCollapseEngine())
