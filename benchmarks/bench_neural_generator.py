"""Train the neural text generator on real reviews; time, memory and held-out perplexity; JSON.

Usage: python benchmarks/bench_neural_generator.py [--data SAMPLE] [--train 3000] [--test 1000]
           [--OPTION VALUE ...] [--write 200] [--seed 0]

``--OPTION``: any of the neural generator's options (docs/options.md, "Generator options"),
e.g. ``--epochs 2 --hidden 64 --max-length 64``; unset ones keep their defaults.

Reads the reviews (fastText format; default ``$MODELCOLLAPSE_REAL_DATA``), tokenizes them
as the studies do (``fast``), draws ``--train`` training and ``--test`` held-out reviews
with ``--seed``, fits the neural generator (one model, class token prefix) and the trigram
generator (one model per class) on the training reviews, and prints JSON: the wall time of
each fit, the seconds to write ``--write`` reviews per class, the process's peak resident
memory, and the perplexity of the held-out reviews under each generator, each review under
its own class. Perplexities of models with different vocabularies mix different ``<unk>``
events, so the trigram model is also scored with the neural model's capped vocabulary, and
both are scored on in-vocabulary tokens apart from the out-of-vocabulary rate.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import time

import numpy as np

from modelcollapse.data.readers import read_corpus
from modelcollapse.features.tokenize import tokenize
from modelcollapse.generators import (
    NeuralGenerator,
    NeuralSettings,
    TrigramGenerator,
    check_generator_options,
)


def _by_class(docs, labels):
    return {int(c): [d for d, y in zip(docs, labels, strict=True) if y == c]
            for c in np.unique(labels)}  # fmt: skip


def _scores(gen, test, vocabulary):
    """Perplexity over all tokens, and over in-vocabulary tokens, of the held-out reviews."""
    known = set(vocabulary)
    logs, in_vocab = [], []
    for c, texts in test.items():
        if isinstance(gen, NeuralGenerator):
            per_token = gen.token_log_probs(texts, c)
        else:
            flat = gen.models_[c].token_log_probs(texts)
            ends = np.cumsum([len(t.split()) for t in texts])
            per_token = np.split(flat, ends[:-1])
        for text, lp in zip(texts, per_token, strict=True):
            logs.append(lp)
            in_vocab.append(np.array([w in known for w in text.split()], dtype=bool))
    logs, in_vocab = np.concatenate(logs), np.concatenate(in_vocab)
    return {
        "perplexity": float(np.exp(-logs.mean())),
        "in_vocabulary_perplexity": float(np.exp(-logs[in_vocab].mean())),
        "oov_rate": float(1 - in_vocab.mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("MODELCOLLAPSE_REAL_DATA"))
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--test", type=int, default=1000)
    for option in NeuralGenerator.options:
        parser.add_argument(option.flag, dest=option.name, default=None, help=option.help)
    parser.add_argument("--write", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.data:
        parser.error("--data (or MODELCOLLAPSE_REAL_DATA) is required")

    corpus = read_corpus(args.data)
    docs = [" ".join(t) for t in tokenize(corpus.texts, "fast")]
    order = np.random.default_rng(args.seed).permutation(len(docs))
    tr, te = order[: args.train], order[args.train : args.train + args.test]
    train = _by_class([docs[i] for i in tr], corpus.labels[tr])
    test = _by_class([docs[i] for i in te], corpus.labels[te])
    out: dict[str, object] = {
        "machine": platform.platform(), "cpus": os.cpu_count(),
        "train_reviews": len(tr), "train_tokens": int(sum(len(docs[i].split()) for i in tr)),
        "test_reviews": len(te), "seed": args.seed,
    }  # fmt: skip

    given = {o.name: getattr(args, o.name) for o in NeuralGenerator.options}
    settings = NeuralSettings(
        **check_generator_options("neural", {k: v for k, v in given.items() if v is not None})
    )
    start = time.perf_counter()
    neural = NeuralGenerator(settings).fit(train, seed=args.seed)
    out["neural"] = {
        "settings": dataclasses.asdict(settings),
        "fit_seconds": time.perf_counter() - start,
        "epoch_losses": neural.losses_,
        **_scores(neural, test, neural.vocabulary_),
    }
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    for c, texts in train.items():
        lengths = rng.choice([len(t.split()) for t in texts], size=args.write)
        sample = neural.sample(c, lengths, rng)
    out["neural"]["write_seconds"] = time.perf_counter() - start
    out["neural"]["example"] = sample[0][:300]

    full_vocab = sorted({w for texts in train.values() for t in texts for w in t.split()})
    for name, vocabulary in (("trigram", full_vocab), ("trigram_capped", neural.vocabulary_)):
        start = time.perf_counter()
        tri = TrigramGenerator(vocabulary).fit(train)
        out[name] = {
            "vocabulary": len(vocabulary),
            "fit_seconds": time.perf_counter() - start,
            # In-vocabulary: the neural model's words, so both are scored on the same tokens.
            **_scores(tri, test, neural.vocabulary_),
        }
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out, indent=2, default=float))


if __name__ == "__main__":
    main()
