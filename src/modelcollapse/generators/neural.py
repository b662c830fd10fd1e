"""The neural generator: a class-conditional word-level LSTM language model in JAX.

Written with plain ``jax`` + ``optax`` (the optional extra ``modelcollapse[neural]``): the
layers are a few lines each, and the extra stays at two CPU wheels plus small pure-Python
dependencies. The model is trained from scratch; nothing is downloaded.

Token ids: 0 is ``<unk>``, 1 … V the vocabulary's words (the V most frequent training
words), V + 1 + c the class token of class c, which starts every sequence and is only ever
read, never predicted. The model predicts each token from the class token and the tokens
before it; the softmax runs over ``<unk>`` and the words.
"""

from __future__ import annotations

import typing
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from modelcollapse.core.parameters import Option
from modelcollapse.errors import UserError
from modelcollapse.generators.base import TextGenerator, draw, filtered_probabilities

# Sequences are padded to a multiple of this many tokens: few shapes, few XLA compilations.
_BUCKET = 32


def _jax():
    try:
        import jax
        import optax
    except ImportError:
        raise UserError(
            "the neural generator needs JAX and optax: pip install 'modelcollapse[neural]'",
            "generator",
        ) from None
    return jax, optax


def _setting(default, help: str, **bounds):
    """A field of :class:`NeuralSettings` that is also a generator option (its help, bounds)."""
    return field(default=default, metadata={"help": help, **bounds})


@dataclass(frozen=True)
class NeuralSettings:
    """The model's sizes and its training (see docs/methods.md, "The neural generator").

    Each field is a generator option (``NeuralGenerator.options``: ``[study.generator_options]``
    in a config, ``--generator-option NAME=VALUE`` on the command line, the docs table).
    """

    max_vocabulary: int = _setting(
        5000, "Words the model knows: the most frequent training words; the rest is `<unk>`.", ge=1
    )
    embedding: int = _setting(64, "Size of the word embeddings.", ge=1)
    hidden: int = _setting(256, "Units of each LSTM layer.", ge=1)
    layers: int = _setting(1, "Stacked LSTM layers.", ge=1)
    epochs: int = _setting(6, "Passes over the training texts (0: the untrained model).", ge=0)
    batch_size: int = _setting(32, "Texts per gradient step.", ge=1)
    learning_rate: float = _setting(3e-3, "Adam's step size.", gt=0)
    clip_norm: float = _setting(1.0, "Gradients are clipped to this global norm.", gt=0)
    max_length: int | None = _setting(
        None, "Training reads each text's first max_length tokens (none: all of it); written "
        "texts still take their drawn lengths.", ge=1,
    )  # fmt: skip


def settings_options(settings: type) -> tuple[Option, ...]:
    """The generator options a settings dataclass declares: one per field, with its type,
    default, help and bounds (the one definition the config, the CLI and the docs read)."""
    hints = typing.get_type_hints(settings)
    options = []
    for f in fields(settings):
        kind = hints[f.name]
        nullable = type(None) in typing.get_args(kind)
        if nullable:
            kind = next(t for t in typing.get_args(kind) if t is not type(None))
        meta = dict(f.metadata)
        options.append(Option(f.name, kind, f.default, meta.pop("help"), nullable=nullable,
                              default_text="none" if nullable else "", **meta))  # fmt: skip
    return tuple(options)


def _lstm_layer(jnp, lax, W, b, xs, h0, c0):
    """One LSTM layer over xs (T, B, E): the input half of the gates in one matmul for all
    steps, the recurrent half inside the scan."""
    H = h0.shape[-1]
    gates_x = xs @ W[: xs.shape[-1]] + b
    W_h = W[xs.shape[-1] :]

    def step(carry, gx):
        h, c = carry
        z = gx + h @ W_h
        i, f, g, o = (z[..., k * H : (k + 1) * H] for k in range(4))
        c = _sigmoid(jnp, f) * c + _sigmoid(jnp, i) * jnp.tanh(g)
        h = _sigmoid(jnp, o) * jnp.tanh(c)
        return (h, c), h

    (h, c), hs = lax.scan(step, (h0, c0), gates_x)
    return hs, (h, c)


def _sigmoid(jnp, x):
    return 0.5 * (jnp.tanh(0.5 * x) + 1.0)


def _logits(params, inputs):
    """Logits (B, T, V + 1) of the next token at every position of ``inputs`` (B, T)."""
    import jax.numpy as jnp
    from jax import lax

    x = jnp.swapaxes(params["embed"][inputs], 0, 1)  # (T, B, E)
    B = inputs.shape[0]
    for W, b in params["lstm"]:
        H = W.shape[1] // 4
        zeros = jnp.zeros((B, H), x.dtype)
        x, _ = _lstm_layer(jnp, lax, W, b, x, zeros, zeros)
    return jnp.swapaxes(x @ params["out_W"] + params["out_b"], 0, 1)


def _loss(params, inputs, targets, mask):
    """Mean cross-entropy (nats per token) over the unmasked positions."""
    import jax

    logp = jax.nn.log_softmax(_logits(params, inputs), axis=-1)
    picked = jax.numpy.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    return -(picked * mask).sum() / mask.sum()


def _token_log_probs(params, inputs, targets):
    import jax

    logp = jax.nn.log_softmax(_logits(params, inputs), axis=-1)
    return jax.numpy.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]


def _step(params, state, tokens):
    """One decoding step: logits of the next token after ``tokens`` (B,), and the new state."""
    import jax.numpy as jnp
    from jax import lax

    x = params["embed"][tokens][None]
    new = []
    for (W, b), (h, c) in zip(params["lstm"], state, strict=True):
        x, (h, c) = _lstm_layer(jnp, lax, W, b, x, h, c)
        new.append((h, c))
    return x[0] @ params["out_W"] + params["out_b"], tuple(new)


_COMPILED: dict = {}


def _trainer(learning_rate: float, clip_norm: float):
    """The optimiser and its jitted update step, kept across fits: XLA compiles once per
    shape, not once per model."""
    jax, optax = _jax()
    key = ("update", learning_rate, clip_norm)
    if key not in _COMPILED:
        optimiser = optax.chain(optax.clip_by_global_norm(clip_norm), optax.adam(learning_rate))

        @jax.jit
        def update(params, opt_state, inputs, targets, mask):
            loss, grads = jax.value_and_grad(_loss)(params, inputs, targets, mask)
            updates, opt_state = optimiser.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, loss

        _COMPILED[key] = (optimiser, update)
    return _COMPILED[key]


def _compiled(name: str):
    jax, _ = _jax()
    if name not in _COMPILED:
        _COMPILED[name] = jax.jit({"score": _token_log_probs, "step": _step}[name])
    return _COMPILED[name]


class NeuralGenerator(TextGenerator):
    """A class-conditional word-level LSTM language model (JAX), trained from scratch.

    After :meth:`fit`: ``vocabulary_`` (the words, most frequent first; ``<unk>`` is id 0),
    ``params_`` (numpy arrays: ``embed``, ``lstm`` as a list of (W, b), ``out_W``,
    ``out_b``), ``losses_`` (mean training cross-entropy of each epoch, nats per token) and
    ``batch_losses_``. Sampling never writes ``<unk>``: it samples the model conditioned
    on a word of the vocabulary, as the trigram generator conditions on seen words.
    """

    name = "neural"
    supports_filters = True
    options = settings_options(NeuralSettings)

    def __init__(self, settings: NeuralSettings | None = None, **options) -> None:
        self.settings = settings or NeuralSettings(**options)

    # -- encoding ------------------------------------------------------------------------
    def _encode(self, texts: Sequence[str], limit: int | None = None) -> list[np.ndarray]:
        index = self._index
        return [np.array([index.get(w, 0) for w in t.split()[:limit]], dtype=np.int32)
                for t in texts]  # fmt: skip

    def _class_token(self, label: int) -> int:
        if int(label) not in self._class_ids:
            raise ValueError(f"no texts of class {label} were fitted")
        return len(self.vocabulary_) + 1 + self._class_ids[int(label)]

    @staticmethod
    def _batch(seqs: list[np.ndarray], class_tokens: np.ndarray, rows: int | None = None):
        """Inputs (class token, then every token but the last), targets and mask, padded."""
        T = max(1, max((len(s) for s in seqs), default=1))
        T = -(-T // _BUCKET) * _BUCKET
        n = rows or len(seqs)
        inputs = np.zeros((n, T), np.int32)
        targets = np.zeros((n, T), np.int32)
        mask = np.zeros((n, T), np.float32)
        for r, (s, c) in enumerate(zip(seqs, class_tokens, strict=True)):
            inputs[r, 0] = c
            inputs[r, 1 : len(s)] = s[:-1]
            targets[r, : len(s)] = s
            mask[r, : len(s)] = 1.0
        return inputs, targets, mask

    # -- fitting -------------------------------------------------------------------------
    def fit(self, texts: Mapping[int, Sequence[str]], seed: int = 0) -> NeuralGenerator:
        jax, _ = _jax()
        import jax.numpy as jnp

        s = self.settings
        # The vocabulary is of the tokens trained on (the first max_length of each text).
        counts = Counter(
            w for group in texts.values() for t in group for w in t.split()[: s.max_length]
        )
        if not counts:
            raise ValueError("no tokens to fit")
        # Most frequent first, ties alphabetical: the vocabulary depends on the texts only.
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        self.vocabulary_ = [w for w, _ in ranked[: s.max_vocabulary]]
        self._index = {w: i + 1 for i, w in enumerate(self.vocabulary_)}
        self._class_ids = {int(c): k for k, c in enumerate(sorted(int(c) for c in texts))}
        seqs, cls = [], []
        for c, group in texts.items():
            for seq in self._encode(list(group), s.max_length):
                if len(seq):
                    seqs.append(seq)
                    cls.append(self._class_token(c))
        cls = np.asarray(cls)

        V1 = len(self.vocabulary_) + 1
        key = jax.random.PRNGKey(seed)
        keys = jax.random.split(key, 2 + s.layers)
        params = {
            "embed": jax.random.normal(keys[0], (V1 + len(self._class_ids), s.embedding)) * 0.1,
            "lstm": [],
            "out_W": jax.random.normal(keys[1], (s.hidden, V1)) * (1.0 / np.sqrt(s.hidden)),
            "out_b": jnp.zeros(V1),
        }
        n_in = s.embedding
        for layer in range(s.layers):
            W = jax.random.normal(keys[2 + layer], (n_in + s.hidden, 4 * s.hidden))
            b = jnp.zeros(4 * s.hidden).at[s.hidden : 2 * s.hidden].set(1.0)  # forget gate open
            params["lstm"].append((W * (1.0 / np.sqrt(n_in + s.hidden)), b))
            n_in = s.hidden
        optimiser, update = _trainer(s.learning_rate, s.clip_norm)
        opt_state = optimiser.init(params)

        rng = np.random.default_rng([seed, 1])
        lengths = np.array([len(q) for q in seqs])
        self.losses_, batch_losses = [], []
        for _ in range(s.epochs):
            # Similar lengths share a batch (less padding); the batches' order is shuffled.
            order = rng.permutation(len(seqs))
            chunk = 50 * s.batch_size
            order = np.concatenate([
                part[np.argsort(lengths[part], kind="stable")]
                for part in np.split(order, range(chunk, len(order), chunk))
            ])  # fmt: skip
            batches = [order[i : i + s.batch_size] for i in range(0, len(order), s.batch_size)]
            total, tokens = 0.0, 0
            for b in rng.permutation(len(batches)):
                rows = batches[b]
                inputs, targets, mask = self._batch(
                    [seqs[r] for r in rows], cls[rows], rows=s.batch_size
                )
                params, opt_state, loss = update(params, opt_state, inputs, targets, mask)
                loss = float(loss)
                batch_losses.append(loss)
                total += loss * mask.sum()
                tokens += mask.sum()
            self.losses_.append(float(total / tokens))
        self.batch_losses_ = np.array(batch_losses)
        self.params_ = jax.tree_util.tree_map(np.asarray, params)
        return self

    # -- scoring -------------------------------------------------------------------------
    def token_log_probs(self, texts: Sequence[str], label: int) -> list[np.ndarray]:
        """Per text: the natural log-probability of each of its tokens (<unk> for OOV words)."""
        c = self._class_token(label)
        seqs = self._encode(list(texts))
        out: list[np.ndarray] = [np.zeros(0)] * len(seqs)
        order = np.argsort([len(q) for q in seqs], kind="stable")
        size = 64
        for i in range(0, len(order), size):
            rows = order[i : i + size]
            inputs, targets, _ = self._batch([seqs[r] for r in rows], [c] * len(rows), rows=size)
            logp = np.asarray(_compiled("score")(self.params_, inputs, targets), np.float64)
            for k, r in enumerate(rows):
                out[r] = logp[k, : len(seqs[r])]
        return out

    def log_probs(self, texts: Sequence[str], label: int) -> np.ndarray:
        return np.array([lp.sum() for lp in self.token_log_probs(texts, label)])

    def in_vocabulary(self, texts: Sequence[str], label: int) -> list[np.ndarray]:
        """Per text: whether each token is one of the model's ``max_vocabulary`` words (the
        rest is scored as ``<unk>``), aligned with :meth:`token_log_probs`; one vocabulary
        for every class."""
        return [seq > 0 for seq in self._encode(list(texts))]

    # -- writing -------------------------------------------------------------------------
    def sample(
        self,
        label: int,
        lengths: Sequence[int],
        rng: np.random.Generator,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
    ) -> list[str]:
        import jax.numpy as jnp

        lengths = np.asarray(lengths, dtype=np.int64)
        n = len(lengths)
        longest = int(lengths.max(initial=0))
        filtered_probabilities(np.zeros((1, 2)), temperature, top_k, top_p)  # check options
        if not n or not longest:
            return [""] * n
        H = [W.shape[1] // 4 for W, _ in self.params_["lstm"]]
        state = tuple((jnp.zeros((n, h)), jnp.zeros((n, h))) for h in H)
        tokens = np.full(n, self._class_token(label), dtype=np.int32)
        written = np.zeros((n, longest), dtype=np.int64)
        step = _compiled("step")
        for t in range(longest):
            logits, state = step(self.params_, state, tokens)
            logits = np.asarray(logits, np.float64)
            logits[:, 0] = -np.inf  # never <unk>
            tokens = draw(filtered_probabilities(logits, temperature, top_k, top_p), rng)
            written[:, t] = tokens
            tokens = tokens.astype(np.int32)
        words = np.asarray(["<unk>", *self.vocabulary_], dtype=object)
        return [" ".join(words[row[:k]]) for row, k in zip(written, lengths, strict=True)]


__all__ = ["NeuralGenerator", "NeuralSettings"]
