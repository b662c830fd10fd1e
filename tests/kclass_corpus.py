"""A 4-class corpus of real text that ships with every Python: the standard library's docstrings.

Four topics, each the docstrings (module, class, method and function) of a group of
standard-library packages: e-mail, the web, testing and debugging, concurrency. Built in a
second from what is installed, no download; the exact texts follow the Python version, so
tests assert behaviour, not numbers.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from functools import cache
from types import ModuleType

import numpy as np

from modelcollapse.data.corpus import Corpus

TOPICS: dict[str, tuple[str, ...]] = {
    "email": ("email", "mailbox", "smtplib", "imaplib", "poplib"),
    "web": ("http", "urllib", "html", "wsgiref", "xmlrpc"),
    "testing": ("unittest", "doctest", "pdb", "bdb", "trace", "cProfile", "pstats", "timeit"),
    "concurrency": ("asyncio", "concurrent", "threading", "multiprocessing", "queue", "selectors"),
}
MIN_WORDS = 5


def _modules(name: str) -> Iterator[ModuleType]:
    module = importlib.import_module(name)
    yield module
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), name + "."):
        if ".test" in info.name or "__main__" in info.name:
            continue
        try:
            yield importlib.import_module(info.name)
        except Exception:  # a platform's module (e.g. asyncio.windows_events): not here
            continue


def _docstrings(module: ModuleType) -> Iterator[str]:
    if module.__doc__:
        yield module.__doc__
    for obj in vars(module).values():
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj):
            if obj.__doc__:
                yield obj.__doc__
            for member in vars(obj).values():
                function = getattr(member, "__func__", member)
                if inspect.isfunction(function) and function.__doc__:
                    yield function.__doc__
        elif inspect.isfunction(obj) and obj.__doc__:
            yield obj.__doc__


def topic_texts(packages: tuple[str, ...]) -> list[str]:
    """The distinct docstrings of ``packages`` of at least MIN_WORDS words, whitespace
    collapsed, sorted."""
    texts = set()
    for name in packages:
        for module in _modules(name):
            for doc in _docstrings(module):
                text = " ".join(doc.split())
                if len(text.split()) >= MIN_WORDS:
                    texts.add(text)
    return sorted(texts)


@cache
def kclass_corpus() -> Corpus:
    """The four topics as a :class:`Corpus`: labels 0-3 in the order of :data:`TOPICS`, a
    docstring found in two topics dropped from both, rows shuffled with a fixed seed."""
    by_topic = {topic: topic_texts(packages) for topic, packages in TOPICS.items()}
    counts: dict[str, int] = {}
    for texts in by_topic.values():
        for text in texts:
            counts[text] = counts.get(text, 0) + 1
    texts, labels = [], []
    for code, topic_rows in enumerate(by_topic.values()):
        kept = [t for t in topic_rows if counts[t] == 1]
        texts += kept
        labels += [code] * len(kept)
    order = np.random.default_rng(0).permutation(len(texts))
    return Corpus(
        texts=[texts[i] for i in order],
        labels=np.asarray(labels, dtype=np.int8)[order],
        source="standard-library docstrings (tests/kclass_corpus.py)",
        label_names=tuple(TOPICS),
    )
