"""Corpora by name: where each lives on the Hugging Face hub, pinned to one commit.

``modelcollapse data download NAME`` fetches a corpus of :data:`CORPORA` (``data list
--available`` shows them). Each entry pins the repository to a 40-hex commit, never ``main``,
and says which Parquet files make each split, how many rows each split holds, which columns
hold the text, title and label, and the class names in label order (label value ``i`` is
``label_names[i]``). At download time :func:`fetch_listing` asks the hub (or a mirror) for the
file listing of that commit (``GET {endpoint}/api/datasets/{repo}/tree/{revision}/{folder}
?recursive=true``, the hub API ``huggingface_hub.HfApi.list_repo_tree`` calls), whose entries
give every file's size and, for LFS/Xet files, ``lfs.oid``: the file's sha256.
:func:`select_files` checks that listing against what the table itself pins (sizes and
sha256s found in public records of the same commit, below) and returns the files to fetch
with the size and sha256 each must have once downloaded.

Where each revision and pinned value comes from is in a comment beside it. A corpus whose
commit could not be found is in the table unpinned (``revision=None``): it is listed, and a
download refuses it in one line.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, ClassVar

from modelcollapse.data.archive import ArchiveCorpus, ArchiveMember
from modelcollapse.errors import UserError, one_line

__all__ = [
    "CORPORA",
    "HubCorpus",
    "ListedFile",
    "PinnedFile",
    "available_names",
    "corpora_table",
    "fetch_listing",
    "get_corpus",
    "select_files",
]

_REVISION = re.compile(r"[0-9a-f]{40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MAX_PAGES = 100  # the hub pages tree listings (Link: rel="next"); ours need one page


@dataclass(frozen=True)
class PinnedFile:
    """What a public record of the pinned commit says one file is (None: not recorded)."""

    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class HubCorpus:
    """One corpus of the table: a hub dataset at one commit, and how to read it.

    ``splits`` maps our split (``train``/``test``) to the repository's split whose shards
    (``{folder}/{split}-NNNNN-of-NNNNN.parquet``) make it, and its published row total.
    """

    source: ClassVar[str] = "hub"
    checked: ClassVar[str] = (
        "each file's size and sha256 against the hub's listing of the pinned commit, the rows "
        "against the split totals"
    )

    name: str
    description: str
    repo: str
    revision: str | None  # a 40-hex commit; None: not pinned yet, downloads refuse it
    folder: str
    splits: dict[str, tuple[str, int]]
    label_names: tuple[str, ...]
    text_column: str = "text"
    label_column: str = "label"
    title_column: str | None = None
    pinned: dict[str, PinnedFile] = field(default_factory=dict)  # path in the repo -> record
    approx_bytes: int | None = None  # the download, from the hub's pages; for display
    unpinned_reason: str = ""

    @property
    def k(self) -> int:
        return len(self.label_names)

    def rows(self, split: str) -> int:
        return self.splits[split][1] if split in self.splits else 0

    def check_pinned(self) -> None:
        """A corpus without a commit is refused here, in one line, before any request."""
        if self.revision is None or not _REVISION.fullmatch(self.revision):
            raise UserError(
                f"'{self.name}' is not pinned yet ({self.unpinned_reason}); downloads take "
                "only corpora pinned to a hub commit, so nothing was fetched",
                "NAME",
            )

    @property
    def where(self) -> str:
        return (
            f"{self.repo}@{self.revision[:7]}"
            if self.revision
            else "not pinned yet: cannot download"
        )

    def table_cells(self) -> tuple[str, str, str]:
        """(source, text, what the table pins) for the corpora table of docs/data.md."""
        where = (
            f"`{self.repo}` @ `{self.revision}`" if self.revision else "not pinned yet (refused)"
        )
        text = (
            f"`{self.title_column}: {self.text_column}`" if self.title_column
            else f"`{self.text_column}`"
        )  # fmt: skip
        pins = "; ".join(
            f"`{PurePosixPath(path).name}`: "
            + " and ".join(k for k, v in (("size", pin.size), ("sha256", pin.sha256)) if v)
            for path, pin in self.pinned.items()
        )
        return where, text, pins or "-"

    def tree_url(self, endpoint: str) -> str:
        repo = urllib.parse.quote(self.repo, safe="/")
        folder = urllib.parse.quote(self.folder, safe="/")
        return (
            f"{endpoint.rstrip('/')}/api/datasets/{repo}/tree/{self.revision}/{folder}"
            "?recursive=true"
        )

    def file_url(self, endpoint: str, path: str) -> str:
        repo = urllib.parse.quote(self.repo, safe="/")
        quoted = urllib.parse.quote(path, safe="/")
        return f"{endpoint.rstrip('/')}/datasets/{repo}/resolve/{self.revision}/{quoted}"


@dataclass(frozen=True)
class ListedFile:
    """A file of the listing, as it must be once downloaded; ``local`` names it for import."""

    path: str  # in the repository
    local: str  # train-00000-of-00004.parquet: the split is ours (sst2's validation -> test)
    split: str
    size: int
    sha256: str


_BINARY = ("negative", "positive")
_STARS = ("1 star", "2 stars", "3 stars", "4 stars", "5 stars")

CORPORA: dict[str, HubCorpus | ArchiveCorpus] = {
    c.name: c
    for c in (
        HubCorpus(
            name="amazon-polarity",
            description="Amazon product reviews, 1-2 vs 4-5 stars (Zhang et al. 2015)",
            repo="fancyzhx/amazon_polarity",
            # The commit "Convert dataset to Parquet (#3)", shown as the head of main on the
            # hub's tree page (huggingface.co/datasets/fancyzhx/amazon_polarity/tree/main) and
            # pinned by public code, e.g. a README that fixes the revision ("Révision
            # 9d9c45c1... (figée)") and a script with DATASET_REVISION = this commit.
            revision="9d9c45c18f8c3cf1b23a3c27917b60cbf28f3289",
            folder="amazon_polarity",
            splits={"train": ("train", 3_600_000), "test": ("test", 400_000)},
            label_names=_BINARY,
            text_column="content",
            title_column="title",
            pinned={
                # TEST_BYTES = 117_422_360 beside DATASET_REVISION = this commit and
                # TEST_BLOB = this path, in a public evaluation script.
                "amazon_polarity/test-00000-of-00001.parquet": PinnedFile(size=117_422_360),
                # A public course README: "arquivo original: 259.761.770 bytes", "SHA-256 do
                # original 57c367f8...", fetched from main while main was this commit (the
                # commit was still main's head in a public pin list "resolved on 2026-09-22").
                "amazon_polarity/train-00000-of-00004.parquet": PinnedFile(
                    size=259_761_770,
                    sha256="57c367f8c74210dde3742b17d103af33820df3af39d029f2a5051a6f87810661",
                ),
            },
            approx_bytes=1_145_430_497,  # download_size of the card at this commit
        ),
        ArchiveCorpus(
            name="amazon-review-full",
            description="Amazon product reviews, 1-5 stars (Zhang et al. 2015)",
            # No hub repository and commit for it could be verified from public records; its
            # original distribution can be. The MD5s and line counts are those torchtext
            # publishes for it (torchtext/datasets/amazonreviewfull.py: MD5 of the Drive
            # archive amazon_review_full_csv.tar.gz, _EXTRACTED_FILES_MD5, NUM_LINES). The
            # default mirror is the copy fast.ai keeps on S3 (fast-ai-nlp), named in public
            # code beside the same files; its archive bytes may differ from the Drive one,
            # so the extracted files' MD5s are what is checked.
            archive="amazon_review_full_csv.tgz",
            default_mirror="https://s3.amazonaws.com/fast-ai-nlp",
            members={
                "train": ArchiveMember(
                    "amazon_review_full_csv/train.csv",
                    "31b268b09fd794e0ca5a1f59a0358677",
                    3_000_000,
                ),
                "test": ArchiveMember(
                    "amazon_review_full_csv/test.csv",
                    "0f1e78ab60f625f2a30eab6810ef987c",
                    650_000,
                ),
            },
            label_values=("1", "2", "3", "4", "5"),
            label_names=_STARS,
            published_archive_md5="57d28bd5d930e772930baddf36641c7c",
        ),
        HubCorpus(
            name="yelp-polarity",
            description="Yelp reviews, 1-2 vs 3-4 stars (Zhang et al. 2015)",
            repo="fancyzhx/yelp_polarity",
            # "Convert dataset to Parquet (#9)", the commit of plain_text/ on the hub's tree
            # page; also pinned in public code (DATASETS = [..., ("yelp",
            # "fancyzhx/yelp_polarity", this commit)]) and a public dataset audit.
            revision="bbf1c97a1f0cf005e5aded43839fd814654a1557",
            folder="plain_text",
            splits={"train": ("train", 560_000), "test": ("test", 38_000)},
            label_names=_BINARY,
            approx_bytes=273_700_000,  # 256 MB + 17.7 MB on the hub's tree page
        ),
        HubCorpus(
            name="yelp-review-full",
            description="Yelp reviews, 1-5 stars (Zhang et al. 2015)",
            repo="Yelp/yelp_review_full",
            # A public PINNED_REVISIONS table: "Yelp/yelp_review_full": this commit.
            revision="c1f9ee939b7d05667af864ee1cb066393154bf85",
            # The folder (the config's name, as in imdb's plain_text/) is not confirmed by a
            # public record; a listing without its shards is refused in one line.
            folder="yelp_review_full",
            splits={"train": ("train", 650_000), "test": ("test", 50_000)},
            label_names=("1 star", "2 star", "3 stars", "4 stars", "5 stars"),  # the card's
        ),
        HubCorpus(
            name="ag-news",
            description="AG's news topics: World, Sports, Business, Sci/Tech (Zhang et al. 2015)",
            repo="fancyzhx/ag_news",
            # A public PINNED_REVISIONS table ("fancyzhx/ag_news": this commit) and a public
            # study that records it with the test file's sha256 (below).
            revision="eb185aade064a813bc0b7f42de02595523103ca4",
            folder="data",  # the hub's usual Parquet layout (as sst2's); not confirmed
            splits={"train": ("train", 120_000), "test": ("test", 7_600)},
            label_names=("World", "Sports", "Business", "Sci/Tech"),
            pinned={
                "data/test-00000-of-00001.parquet": PinnedFile(
                    sha256="71de87ec66bc5737752a2502204dfa6d7fe9856ade3ea444dc6317789a4f13fb"
                ),
            },
        ),
        HubCorpus(
            name="imdb",
            description="IMDB movie reviews, negative vs positive (Maas et al. 2011)",
            repo="stanfordnlp/imdb",
            # "Convert dataset to Parquet (#5)", the commit of plain_text/ on the hub's tree
            # page; pinned in public code with both files' sha256 (IMDB_REVISION, IMDB_FILES).
            revision="e6281661ce1c48d982bc483cf8a173c1bbeb5d31",
            folder="plain_text",
            splits={"train": ("train", 25_000), "test": ("test", 25_000)},  # not unsupervised
            label_names=_BINARY,
            pinned={
                "plain_text/train-00000-of-00001.parquet": PinnedFile(
                    sha256="db47d16b5c297cc0dd625e519c81319c24c9149e70e8496de5475f6fa928342c"
                ),
                "plain_text/test-00000-of-00001.parquet": PinnedFile(
                    sha256="b52e26e2f872d282ffac460bf9770b25ac6f102cda0e6ca7158df98c94e8b3da"
                ),
            },
            approx_bytes=41_500_000,  # 21 MB + 20.5 MB on the hub's tree page
        ),
        HubCorpus(
            name="sst2",
            description="SST-2 movie-review sentences, negative vs positive (Socher et al. 2013)",
            repo="stanfordnlp/sst2",
            # "Convert dataset to Parquet (#7)", the commit of data/ on the hub's tree page;
            # pinned in public code (DATASETS) and a public study with the train sha256.
            revision="8d51e7e4887a4caaa95b3fbebbf53c0490b58bbb",
            folder="data",
            # The test split's labels are hidden (-1): the labelled validation split is ours.
            splits={"train": ("train", 67_349), "test": ("validation", 872)},
            label_names=_BINARY,
            text_column="sentence",
            pinned={
                # Also the LFS pointer of this file in the hub commit f817a2b that this
                # commit merged.
                "data/train-00000-of-00001.parquet": PinnedFile(
                    sha256="c7921283b75a42e685f50edecb96798607ea0fcbfd0739ee8975f22c12d55f09"
                ),
            },
            approx_bytes=3_180_000,  # 3.11 MB + 72.8 kB on the hub's tree page
        ),
    )
}


def corpora_table() -> str:
    """The table of docs/data.md (``python -m modelcollapse.doctables`` writes it)."""
    lines = [
        "| NAME | source @ pin | train | test | classes (label 0, 1, ...) "
        "| text | what the table pins per file |",
        "|---|---|---:|---:|---|---|---|",
    ]
    for c in CORPORA.values():
        where, text, pins = c.table_cells()
        lines.append(
            f"| `{c.name}` | {where} | {c.rows('train'):,} | {c.rows('test'):,} | "
            f"{', '.join(c.label_names)} | {text} | {pins} |"
        )
    return "\n".join(lines) + "\n"


def available_names() -> str:
    return ", ".join(CORPORA)


def get_corpus(name: str) -> HubCorpus | ArchiveCorpus:
    if name not in CORPORA:
        raise UserError(f"unknown corpus '{name}' (available: {available_names()})", "NAME")
    return CORPORA[name]


Opener = Callable[[urllib.request.Request, float], Any]


def fetch_listing(
    corpus: HubCorpus, endpoint: str, timeout: float, opener: Opener | None = None
) -> list[dict[str, Any]]:
    """The hub's file listing of the corpus folder at its pinned commit (all pages)."""
    corpus.check_pinned()
    open_url = opener or (lambda req, t: urllib.request.urlopen(req, timeout=t))
    url: str | None = corpus.tree_url(endpoint)
    entries: list[dict[str, Any]] = []
    for _ in range(_MAX_PAGES):
        if url is None:
            return entries
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with open_url(request, timeout) as response:
                body = response.read()
                link = response.headers.get("Link", "")
        except urllib.error.HTTPError as exc:
            raise UserError(
                f"cannot list {corpus.repo} at {corpus.revision[:12]}: HTTP {exc.code} "
                f"{exc.reason} (a mirror must serve the hub's /api/datasets/.../tree listing, "
                "which the download is checked against)",
                url,
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise UserError(f"cannot list {corpus.repo}: {one_line(exc)}", url) from None
        try:
            page = json.loads(body)
        except ValueError:
            page = None
        if not isinstance(page, list) or not all(isinstance(e, dict) for e in page):
            raise UserError("the file listing is not a JSON list of files", url)
        entries.extend(page)
        url = _next_link(link, url)
    raise UserError(f"the file listing has more than {_MAX_PAGES} pages", corpus.tree_url(endpoint))


def _next_link(header: str, current: str) -> str | None:
    """``<url>; rel="next"`` of an RFC 8288 Link header, resolved against the current URL."""
    for part in header.split(","):
        match = re.match(r'\s*<([^>]*)>\s*;.*\brel="?next"?', part)
        if match:
            return urllib.parse.urljoin(current, match.group(1))
    return None


_SHARD = r"(?P<index>\d{5})-of-(?P<total>\d{5})(?:-[0-9a-f]+)?\.parquet"


def select_files(corpus: HubCorpus, listing: list[dict[str, Any]], where: str) -> list[ListedFile]:
    """The shards of each split, with the size and sha256 the listing gives them.

    Refused in one line: a split with no shards or an incomplete set, a shard listed without
    a size or sha256, and a listing that contradicts a value the table pins (a mirror that
    lists other files than the hub's commit holds).
    """
    files: list[ListedFile] = []
    for split, (source, _) in corpus.splits.items():
        pattern = re.compile(re.escape(f"{corpus.folder}/{source}-") + _SHARD)
        found: dict[int, tuple[int, dict[str, Any]]] = {}
        for entry in listing:
            match = pattern.fullmatch(str(entry.get("path", "")))
            if match and entry.get("type", "file") == "file":
                found[int(match["index"])] = (int(match["total"]), entry)
        totals = {total for total, _ in found.values()}
        if not found or len(totals) != 1 or set(found) != set(range(totals.pop())):
            raise UserError(
                f"the listing of {corpus.repo}@{corpus.revision} has no complete set of "
                f"{corpus.folder}/{source}-*.parquet shards ({len(found)} found)",
                where,
            )
        n = len(found)
        for index in range(n):
            entry = found[index][1]
            path = str(entry["path"])
            size, sha256 = _size_and_sha256(entry)
            if size is None or sha256 is None:
                raise UserError(
                    f"the listing gives {path} no size and sha256 (lfs.oid) to check it by",
                    where,
                )
            files.append(ListedFile(path, f"{split}-{index:05d}-of-{n:05d}.parquet", split,
                                    size, sha256))  # fmt: skip
    listed = {f.path: f for f in files}
    for path, pin in corpus.pinned.items():
        got = listed.get(path)
        if got is None:
            raise UserError(f"the listing lacks {path}, which the pinned commit holds", where)
        if (pin.size is not None and got.size != pin.size) or (
            pin.sha256 is not None and got.sha256 != pin.sha256
        ):
            expected = pin.sha256[:12] + "..." if pin.sha256 else f"{pin.size:,} bytes"
            shown = got.sha256[:12] + "..." if pin.sha256 else f"{got.size:,} bytes"
            raise UserError(
                f"the listing says {path} is {shown}, but {corpus.repo}@{corpus.revision[:12]} "
                f"holds {expected}: not a copy of the pinned commit; nothing was downloaded",
                where,
            )
    return files


def _size_and_sha256(entry: dict[str, Any]) -> tuple[int | None, str | None]:
    lfs = entry.get("lfs")
    size = entry.get("size")
    sha256 = None
    if isinstance(lfs, dict):
        size = lfs.get("size", size)
        sha256 = lfs.get("oid") or lfs.get("sha256")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        size = None
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256.lower()):
        sha256 = None
    return size, sha256.lower() if sha256 else None
