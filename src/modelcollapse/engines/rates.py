"""``rates``: the self-labelling loop over a size grid, one trajectory per collapse rate."""

from __future__ import annotations

from modelcollapse.engines.base import ENGINES, Engine


class RatesEngine(Engine):
    """Each trajectory grows its training set along the size grid, with a share ``rate`` of
    every addition labelled by the model; all rates of a repeat are paired."""

    name = "rates"


ENGINES.register(RatesEngine.name, RatesEngine())
