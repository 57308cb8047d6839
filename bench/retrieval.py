"""KB search and duplicate finding on the shared public data, through the CLI contracts.

StackFAQ's json becomes, in a temporary folder, a KB folder (one markdown article per thread: its
question as the title, its answers as the body, ``thread-NNN.md``) and a queries CSV (each
paraphrase, ``rephr``, with its thread); then ``frontline eval --kb`` and ``frontline eval
--duplicates`` (on both GitBugs sets) run with the sentence encoder and without it (FTS5/BM25 only).

    .venv/bin/python bench/retrieval.py [--data-dir ../shared/data] [--json]

Only the train splits are here (100 StackFAQ threads, the GitBugs train pairs); the held-out data
decides acceptance. Targets (issue 13): KB hit@1 >= 0.93; duplicates recall@10 >= 0.90, MRR >= 0.72.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def stackfaq_threads(data_dir: Path) -> list[dict[str, Any]]:
    """The StackFAQ train threads (question, answers, paraphrases)."""
    path = data_dir / "stackfaq" / "stackExchange-FAQ.train.json"
    threads = json.loads(path.read_text(encoding="utf-8"))["root"]["qapair"]
    return list(threads)


def paraphrases(thread: dict[str, Any]) -> list[str]:
    """A thread's usable paraphrases (the file's ``*`` and null placeholders left out)."""
    return [r.strip() for r in thread.get("rephr") or [] if r and r.strip() and r.strip() != "*"]


def write_stackfaq(data_dir: Path, into: Path, threads: list[int] | None = None) -> tuple[Path, Path]:
    """A KB folder of every thread and a queries CSV of the chosen threads' paraphrases (all by default)."""
    loaded = stackfaq_threads(data_dir)
    kb = into / "kb"
    kb.mkdir(parents=True, exist_ok=True)
    for number, thread in enumerate(loaded):
        answers = "\n\n".join(a for a in thread.get("answer") or [] if a)
        (kb / f"thread-{number:03d}.md").write_text(f"# {thread['question']}\n\n{answers}\n", encoding="utf-8")
    queries = into / "queries.csv"
    with queries.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query", "article"])
        for number, thread in enumerate(loaded):
            if threads is None or number in threads:
                for query in paraphrases(thread):
                    writer.writerow([query, f"thread-{number:03d}"])
    return kb, queries


def gitbugs(data_dir: Path) -> list[tuple[str, Path, Path, str]]:
    """(name, bugs CSV, pairs CSV, time column) of each GitBugs set."""
    return [("hadoop", data_dir / "gitbugs_hadoop" / "hadoop_bugs.csv",
             data_dir / "gitbugs_hadoop" / "hadoop_bugs-pairs.train.csv", "Created"),
            ("seamonkey", data_dir / "gitbugs_seamonkey" / "SeaMonkey_bugs.csv",
             data_dir / "gitbugs_seamonkey" / "SeaMonkey_bugs-pairs.train.csv", "Created")]


def run(args: list[str]) -> dict[str, Any]:
    """One `frontline eval … --json` run: its figures and seconds."""
    started = time.perf_counter()
    command = [str(Path(sys.executable).with_name("frontline")), "eval", *args, "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"frontline eval {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def main() -> None:
    """Run every measurement and print a table (or one JSON object)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    if not (options.data_dir / "stackfaq").is_dir():
        raise SystemExit(f"{options.data_dir} has no stackfaq folder; pass --data-dir ../shared/data")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="frontline-bench-retrieval-") as folder:
        kb, queries = write_stackfaq(options.data_dir, Path(folder))
        for encoder in ("auto", "off"):
            result = run(["--kb", "--kb-dir", str(kb), "--data", str(queries), "--query-column", "query",
                          "--article-column", "article", "--embeddings", encoder])
            rows.append({"set": "stackfaq (train threads)", "embeddings": encoder, **result})
    for name, bugs, pairs, time_column in gitbugs(options.data_dir):
        for encoder in ("auto", "off"):
            result = run(["--duplicates", "--data", str(bugs), "--id-column", "Issue id", "--text-column", "Summary",
                          "--text-column", "Description", "--time-column", time_column, "--pairs", str(pairs),
                          "--embeddings", encoder])
            rows.append({"set": f"gitbugs {name} (train pairs)", "embeddings": encoder, **result})
    if options.json:
        print(json.dumps(rows))
        return
    for row in rows:
        figures = {k: v for k, v in row.items() if k not in {"set", "embeddings"}}
        print(f"{row['set']:<32} {row['embeddings']:<5} " + "  ".join(f"{k} {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
