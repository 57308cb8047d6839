"""The embedded knowledge base: a folder of markdown files indexed in SQLite FTS5 (BM25)."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frontline.config import Settings
from frontline.errors import ConnectorError
from frontline.model import Article
from frontline.ports import Check

from .sqlite import connect, migrate, transaction

SERVICE = "Local knowledge base"

SCHEMA = [
    """
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        url TEXT NOT NULL,
        body TEXT NOT NULL,
        mtime REAL NOT NULL
    );
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, body, content='articles', content_rowid='id', tokenize='porter unicode61'
    );
    CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END;
    CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    END;
    CREATE TRIGGER articles_au AFTER UPDATE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END
    """,
]

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can cannot could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just me more most my no nor not
    now of off on once only or other our ours out over own same she should so some such than that the
    their them then there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours hi hello thanks thank please help
    team get got also still our us im ive dont cant doesnt isnt""".split()
)
_WORD = re.compile(r"[^\W_]{2,}", re.UNICODE)
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_HEADING = re.compile(r"^#\s+(.+)$", re.MULTILINE)
_MARKDOWN = re.compile(r"(!?\[([^\]]*)\]\([^)]*\))|[*_`>#]+")


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What an index run changed."""

    added: int
    updated: int
    removed: int
    total: int


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


class LocalKnowledgeBase:
    """Markdown articles searchable with BM25."""

    name = "local"

    def __init__(self, index_path: Path, folder: Path | None = None) -> None:
        self.index_path = index_path
        self.folder = folder
        self._db = connect(index_path)
        try:
            migrate(self._db, SCHEMA)
        except sqlite3.OperationalError as exc:
            raise ConnectorError(SERVICE, f"SQLite here lacks FTS5 ({exc})",
                                 hint="Use a Python built with SQLite 3.9+ with FTS5") from None

    @classmethod
    def from_settings(cls, settings: Settings, **_: Any) -> LocalKnowledgeBase:
        """Open the index in the workspace; refresh it from the configured folder when that exists."""
        kb = cls(settings.path("kb.db"), settings.path(settings.local.kb_dir))
        if kb.folder is not None and kb.folder.is_dir():
            kb.index(kb.folder)
        return kb

    def index(self, folder: Path) -> IndexReport:
        """Index every ``*.md`` under ``folder``: new and changed files, removing deleted ones."""
        if not folder.is_dir():
            raise ConnectorError(SERVICE, f"{folder} is not a folder", hint="Pass a folder of .md files")
        files = {str(p.resolve()): p for p in sorted(folder.rglob("*.md"))}
        known = {r["path"]: r["mtime"] for r in self._db.execute("SELECT path, mtime FROM articles")}
        added = updated = 0
        with transaction(self._db):
            for key, path in files.items():
                mtime = path.stat().st_mtime
                if known.get(key) == mtime:
                    continue
                raw = path.read_bytes()
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
            gone = [p for p in known if p not in files and p.startswith(str(folder.resolve()))]
            for path_key in gone:
                self._db.execute("DELETE FROM articles WHERE path = ?", (path_key,))
        if added or updated or gone:
            # One merged FTS segment instead of one per inserted article: searches get about twice as fast.
            self._db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('optimize')")
        total = self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        return IndexReport(added, updated, len(gone), int(total))

    async def diagnose(self) -> list[Check]:
        """Whether there are articles to find."""
        total = self.count()
        if not total:
            where = f" from {self.folder}" if self.folder is not None else ""
            return [Check("kb local", False, f"no articles are indexed{where}",
                          "Put .md files in the kb folder or run `frontline kb index DIR`")]
        return [Check("kb local", True, f"ACTIVE: {total} articles indexed in {self.index_path}")]

    def count(self) -> int:
        """Number of indexed articles."""
        return int(self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    async def search(self, query: str, k: int = 3) -> list[Article]:
        """The ``k`` best articles for ``query`` by BM25 (title weighted over body)."""
        return self._search(self._db, query, k)

    def search_now(self, query: str, k: int = 3) -> list[Article]:
        """Synchronous search, for the CLI."""
        return self._search(self._db, query, k)

    @staticmethod
    def _search(db: sqlite3.Connection, query: str, k: int) -> list[Article]:
        match = fts_query(query)
        if not match:
            return []
        # Rank first, then read only the winners: FTS5's snippet() would run for every matching
        # article before the LIMIT applies, which made it three times the cost of the ranking.
        ranked = db.execute(
            "SELECT rowid, bm25(articles_fts, 8.0, 1.0) AS rank FROM articles_fts "
            "WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?",
            (match, k),
        ).fetchall()
        if not ranked:
            return []
        ids = [row[0] for row in ranked]
        found = {
            row["id"]: row for row in db.execute(
                f"SELECT id, title, url, body FROM articles WHERE id IN ({','.join('?' * len(ids))})", ids
            )
        }
        terms = [t.strip('"') for t in match.split(" OR ")]
        return [
            Article(title=found[i]["title"], url=found[i]["url"], snippet=snippet(found[i]["body"], terms),
                    score=round(-rank, 3))
            for i, rank in ((row[0], row[1]) for row in ranked) if i in found
        ]

    async def aclose(self) -> None:
        """Close the index."""
        self._db.close()
