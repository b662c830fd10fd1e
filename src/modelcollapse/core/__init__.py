"""The loop's parts, each defined once: its options (:mod:`.options`), label policies
(:mod:`.policies`) and data regimes (:mod:`.regimes`)."""
