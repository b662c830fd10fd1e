"""What every engine shares, each defined once: the loop's options (:mod:`.options`), label
policies (:mod:`.policies`) and data regimes (:mod:`.regimes`); the metrics every engine
records (:mod:`.metrics`), its models' seeds (:mod:`.seeds`) and fits (:mod:`.training`)."""
