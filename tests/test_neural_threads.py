"""The neural generator across XLA thread settings: one seed gives bit-identical training
losses, weights, log-probabilities and samples with one CPU thread and with the default
(every core). XLA reads its thread flags once, when JAX starts, so the one-thread run is a
subprocess, compared with this process; the model is tiny (8 training steps) to keep the
test short.

Larger sizes, by hand (docs/benchmarks.md)::

    python tests/test_neural_threads.py HIDDEN VOCABULARY TEXTS_PER_CLASS EPOCHS
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Fit a model of the given sizes, write and score some texts: the hashes of the results.
PROBE = """
import hashlib, json, sys
import numpy as np
from modelcollapse.generators import NeuralGenerator, NeuralSettings

def probe(hidden, vocabulary, n, epochs):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(vocabulary + 5)]
    texts = {c: [" ".join(rng.choice(words, size=rng.integers(3, 40))) for _ in range(n)]
             for c in (0, 1)}
    settings = NeuralSettings(max_vocabulary=vocabulary, embedding=max(8, hidden // 8),
                              hidden=hidden, epochs=epochs, batch_size=8)
    g = NeuralGenerator(settings).fit(texts, seed=1)
    def digest(arrays):
        return hashlib.sha256(
            b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()
    leaves = [g.params_["embed"], g.params_["out_W"], g.params_["out_b"]]
    leaves += [a for layer in g.params_["lstm"] for a in layer]
    written = g.sample(1, [30] * 6, np.random.default_rng(2), temperature=0.9, top_p=0.95)
    return {
        "losses": digest([g.batch_losses_]), "weights": digest(leaves),
        "log_probs": digest([g.log_probs(texts[0], 0)]), "samples": digest([" ".join(written)]),
        "steps": len(g.batch_losses_),
    }

if __name__ == "__main__":
    print(json.dumps(probe(*map(int, sys.argv[1:5]))))
"""

SINGLE = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
TINY = (16, 25, 16, 2)  # LSTM 16, 25 words, 16 texts per class, 2 epochs


def in_subprocess(xla_flags: str, *sizes: int) -> dict:
    env = {**os.environ, "XLA_FLAGS": xla_flags, "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", PROBE, *map(str, sizes)], env=env,
                          capture_output=True, text=True, timeout=1200, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# A second JAX start-up and compilation in a subprocess: .ci/run's exhaustive step.
@pytest.mark.exhaustive
def test_one_thread_and_the_default_threads_give_bit_identical_results():
    """One subprocess with one XLA thread against this process (the default: every core,
    unless the environment's XLA_FLAGS say otherwise)."""
    pytest.importorskip("jax")
    if SINGLE in os.environ.get("XLA_FLAGS", ""):
        pytest.skip("this process already runs XLA on one thread")
    namespace: dict = {"__name__": "probe"}
    exec(PROBE, namespace)
    here = namespace["probe"](*TINY)
    assert here["steps"] == 8  # 2 epochs of 4 batches of 8 texts
    assert in_subprocess(SINGLE, *TINY) == here


if __name__ == "__main__":
    sizes = tuple(int(a) for a in sys.argv[1:5])
    results = {"1 thread": in_subprocess(SINGLE, *sizes), "default": in_subprocess("", *sizes)}
    print(json.dumps({**results, "identical": results["1 thread"] == results["default"]}))
