"""The run directory's manifest, and refusals to resume a run that would not mix."""

from __future__ import annotations

import platform
import shlex
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from modelcollapse.data.corpus import Corpus
from modelcollapse.errors import UserError
from modelcollapse.features.vectorize import Features
from modelcollapse.models import ModelSpec
from modelcollapse.store import RunStore

VERSIONS_OF = ("modelcollapse", "numpy", "scipy", "scikit-learn", "pandas", "pyarrow", "joblib",
               "nltk")  # fmt: skip


def versions() -> dict[str, str]:
    out = {}
    for name in VERSIONS_OF:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def build_manifest(
    *,
    seed: int,
    n_trajectories: int,
    corpus: Corpus,
    features: Features,
    model: ModelSpec,
    estimator: str,
    command: str | None = None,
    planned: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """What ``manifest.json`` records: command, versions, plan size (in all and per study as
    ``planned``), data, features and model."""
    return {
        "command": command or shlex.join(["modelcollapse", *sys.argv[1:]]),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "n_trajectories": n_trajectories,
        **({"planned": dict(planned)} if planned is not None else {}),
        "versions": versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "data": {
            "source": corpus.source,
            "rows": len(corpus),
            "positive": int(corpus.class_counts()[1]) if corpus.n_classes == 2 else None,
            "fingerprint": corpus.fingerprint,
            # Class k of the results is label_names[k]; "positive" columns count class 1.
            "label_names": list(corpus.label_names),
            "class_counts": corpus.class_counts().tolist(),
            "positive_class": corpus.positive_class,
            "synthetic": bool(corpus.meta.get("synthetic", False)),
        },
        "features": {
            "key": features.key,
            "shape": None if features.X is None else list(features.X.shape),  # None: documents
        },
        "model": {"name": model.name, "estimator": estimator},
    }


def check_legacy_logreg(store: RunStore, spec: ModelSpec) -> None:
    """Runs of 0.1 record no model definition; their ``logreg`` was today's ``logreg-primal``."""
    if spec.name != "logreg" or not store.exists():
        return
    manifest, _ = store.stored_manifest()
    if manifest is not None and "model" not in manifest:
        version = manifest.get("versions", {}).get("modelcollapse", "0.1")
        raise UserError(
            f"was started by modelcollapse {version}, whose logreg used liblinear's primal "
            "solver (now logreg-primal); finish it with that version or choose another --out",
            str(store.root),
        )


def check_features(store: RunStore, key: str) -> None:
    """The features key covers data, tokenizer, n-grams and the features version; with
    the first three checked, a different key means tokens or counts changed since
    the run started (e.g. 0.2's seed tokenizer, issue #17): its steps would not mix.
    """
    manifest, _ = store.stored_manifest() if store.exists() else (None, None)
    if manifest is None:
        return
    features = manifest.get("features")
    recorded = features.get("key") if isinstance(features, dict) else None
    if recorded is not None and recorded != key:
        raise UserError(
            "was started with other tokens or counts (they changed since; see CHANGELOG.md); "
            "finish it with the version that started it or choose another --out",
            str(store.root),
        )
