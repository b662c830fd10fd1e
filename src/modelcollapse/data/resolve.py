"""What ``--data`` names, as a :class:`Corpus`: the built-in corpus, a file, or an imported one."""

from __future__ import annotations

from pathlib import Path

from modelcollapse.data.corpus import Corpus
from modelcollapse.errors import UserError


def load_data(data: str | Corpus) -> Corpus:
    """``"demo"`` (built in), a path, the name of an imported corpus, or a ready :class:`Corpus`.

    A path wins over a name. An imported corpus brings its own test split as ``test_mask``.
    """
    if isinstance(data, Corpus):
        return data
    if data == "demo":
        from modelcollapse.data.demo import make_demo_corpus

        return make_demo_corpus()
    from modelcollapse.data.home import get_data_home, imported_names, is_imported, load_imported
    from modelcollapse.data.readers import read_corpus

    if Path(data).exists():
        return read_corpus(data)
    if is_imported(data):
        return load_imported(data)
    names = imported_names() or f"none in {get_data_home()}"
    raise UserError(
        f"'{data}' is neither a file nor an imported corpus (imported: {names}; "
        "add one with 'modelcollapse data import PATH')",
        "--data",
    )
