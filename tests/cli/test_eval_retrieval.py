"""`frontline eval --kb` and `eval --duplicates`: the contracts, on tiny generated data and the shared data."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from frontline.cli import cli, model, retrieval_eval  # noqa: F401  (registers the commands)
from tests.fakes.encoder import ConceptEncoder
from tests.helpers import SHARED_DATA, SHARED_MISSING


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def kb(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "delete-account.md").write_text("# Deleting your account\n\nSettings, privacy, delete.\n")
    (folder / "refunds.md").write_text("# Refunds\n\nRefunds go back to the card in five days.\n")
    (folder / "avatar.md").write_text("# Changing your avatar\n\nUpload a picture in settings.\n")
    queries = write_csv(tmp_path / "q.csv", ["question", "article"], [
        ["How do I delete my account", "delete-account"], ["refund to my card", "refunds"],
        ["wipe my profile", "delete-account"], ["new avatar picture", "avatar"]])
    return folder, queries


def kb_args(folder: Path, queries: Path) -> list[str]:
    return ["eval", "--kb", "--kb-dir", str(folder), "--data", str(queries), "--query-column", "question",
            "--article-column", "article"]


def test_eval_kb_prints_hit_at_1_and_3_mrr_and_n(kb: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(cli, [*kb_args(*kb), "--embeddings", "off", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"hit_at_1", "hit_at_3", "mrr", "n"} <= set(figures)
    assert figures["n"] == 4 and figures["hit_at_1"] == 0.75  # FTS5 cannot find "wipe my profile"
    shown = CliRunner().invoke(cli, [*kb_args(*kb), "--embeddings", "off"])
    assert shown.exit_code == 0 and "hit@1 0.750" in shown.output and "FTS5 only" in shown.output


def test_eval_kb_with_an_encoder_finds_the_paraphrase(kb: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retrieval_eval, "load_encoder_choice", lambda spec: ConceptEncoder())
    result = CliRunner().invoke(cli, [*kb_args(*kb), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["hit_at_1"] == 1.0


@pytest.mark.parametrize(("change", "expected"), [
    (["--kb-dir", "nowhere"], "is not a folder"),
    (["--query-column", "nope"], "has no column 'nope'"),
])
def test_eval_kb_bad_input_is_one_sentence_and_exit_2(kb: tuple[Path, Path], change: list[str], expected: str) -> None:
    args = kb_args(*kb)
    flag = change[0]
    args[args.index(flag) + 1] = change[1]
    result = CliRunner().invoke(cli, [*args, "--embeddings", "off"])
    assert result.exit_code == 2 and expected in result.output and "Traceback" not in result.output


def test_eval_kb_names_an_article_id_that_is_no_file(kb: tuple[Path, Path], tmp_path: Path) -> None:
    folder, _ = kb
    queries = write_csv(tmp_path / "bad.csv", ["question", "article"], [["refund", "refund-policy"]])
    result = CliRunner().invoke(cli, [*kb_args(folder, queries), "--embeddings", "off"])
    assert result.exit_code == 2 and "'refund-policy'" in result.output


def test_eval_kb_needs_its_columns() -> None:
    result = CliRunner().invoke(cli, ["eval", "--kb", "--data", "q.csv"])
    assert result.exit_code == 2 and "--kb needs --kb-dir" in result.output


@pytest.fixture
def tickets(tmp_path: Path) -> tuple[Path, Path]:
    data = write_csv(tmp_path / "t.csv", ["key", "title", "body", "opened"], [
        ["10", "Checkout crashes on payment", "card step fails with an error", "2026-12-01T09:00:00Z"],
        ["11", "Avatar upload", "picture too large", "2026-12-01T09:05:00Z"],
        ["12", "Payment broken at checkout", "error after the card", "2026-12-01T09:10:00Z"],
        ["13", "VAT missing on invoice", "march invoice", "2026-12-01T09:20:00Z"],
        ["14", "invoice VAT number wrong", "", "2026-12-01T09:30:00Z"],
        ["15", "avatar picture will not upload", "", "2026-12-01T08:00:00Z"],  # earlier than 11 by its time
    ])
    pairs = write_csv(tmp_path / "p.csv", ["Issue id", "Duplicate id"], [["12", "10"], ["14", "13"], ["11", "15"]])
    return data, pairs


def dup_args(data: Path, pairs: Path) -> list[str]:
    return ["eval", "--duplicates", "--data", str(data), "--id-column", "key", "--text-column", "title",
            "--text-column", "body", "--time-column", "opened", "--pairs", str(pairs)]


def test_eval_duplicates_replays_in_time_order_and_prints_recall_and_mrr(tickets: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(cli, [*dup_args(*tickets), "--embeddings", "off", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert {"recall_at_1", "recall_at_5", "recall_at_10", "mrr", "n"} <= set(figures)
    assert figures["n"] == 3  # 12 finds 10, 14 finds 13, 11 finds 15 (which came first by its time)
    assert figures["recall_at_1"] == 1.0 and figures["mrr"] == 1.0
    shown = CliRunner().invoke(cli, [*dup_args(*tickets), "--embeddings", "off"])
    assert shown.exit_code == 0 and "recall@10 1.000" in shown.output


def test_eval_duplicates_with_a_comma_separated_duplicate_column(tmp_path: Path,
                                                                 tickets: tuple[Path, Path]) -> None:
    data, _ = tickets
    pairs = write_csv(tmp_path / "p2.csv", ["Issue id", "Duplicate id"], [["12", "10,99"]])
    result = CliRunner().invoke(cli, [*dup_args(data, pairs), "--embeddings", "off", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 1


def test_eval_duplicates_without_times_takes_the_file_order(tickets: tuple[Path, Path]) -> None:
    args = dup_args(*tickets)
    del args[args.index("--time-column"):args.index("--time-column") + 2]
    result = CliRunner().invoke(cli, [*args, "--embeddings", "off", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 3  # now 15 comes after 11 and is the query


@pytest.mark.parametrize(("rows", "expected"), [
    ([["10", "x", "y", "yesterday-ish"]], "no readable time in column 'opened'"),
    ([["", "x", "y", "2026-12-01T09:00:00Z"]], "line 2 has no id"),
])
def test_eval_duplicates_bad_rows_are_one_sentence_and_exit_2(tmp_path: Path, tickets: tuple[Path, Path],
                                                              rows: list[list[str]], expected: str) -> None:
    _, pairs = tickets
    data = write_csv(tmp_path / "bad.csv", ["key", "title", "body", "opened"], rows)
    result = CliRunner().invoke(cli, [*dup_args(data, pairs), "--embeddings", "off"])
    assert result.exit_code == 2 and expected in result.output and "Traceback" not in result.output


def test_eval_duplicates_refuses_pairs_with_nothing_to_find(tmp_path: Path, tickets: tuple[Path, Path]) -> None:
    data, _ = tickets
    pairs = write_csv(tmp_path / "none.csv", ["a", "b"], [["98", "99"]])
    result = CliRunner().invoke(cli, [*dup_args(data, pairs), "--embeddings", "off"])
    assert result.exit_code == 2 and "nothing to find" in result.output


def test_eval_duplicates_needs_its_columns_and_not_the_model_options(tickets: tuple[Path, Path]) -> None:
    data, pairs = tickets
    missing = CliRunner().invoke(cli, ["eval", "--duplicates", "--data", str(data), "--pairs", str(pairs)])
    assert missing.exit_code == 2 and "--duplicates needs --id-column" in missing.output
    mixed = CliRunner().invoke(cli, [*dup_args(data, pairs), "--label-column", "x"])
    assert mixed.exit_code == 2 and "--label-column do not go with" in mixed.output


def test_plain_eval_still_needs_text_and_label_columns(tickets: tuple[Path, Path]) -> None:
    data, _ = tickets
    result = CliRunner().invoke(cli, ["eval", "--data", str(data)])
    assert result.exit_code == 2 and "--label-column" in result.output


@pytest.mark.skipif(not (SHARED_DATA / "gitbugs_seamonkey").exists(), reason=SHARED_MISSING)
def test_the_shared_data_through_the_contracts(tmp_path: Path) -> None:
    """FTS5/BM25-only figures on the shared train data (the encoder's are measured by bench/retrieval.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from retrieval import gitbugs, write_stackfaq

    folder, queries = write_stackfaq(SHARED_DATA, tmp_path)
    result = CliRunner().invoke(cli, ["eval", "--kb", "--kb-dir", str(folder), "--data", str(queries),
                                      "--query-column", "query", "--article-column", "article", "--embeddings",
                                      "off", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["n"] > 800 and figures["hit_at_1"] > 0.65
    _, bugs, pairs, time_column = gitbugs(SHARED_DATA)[1]  # SeaMonkey: the smaller set
    result = CliRunner().invoke(cli, ["eval", "--duplicates", "--data", str(bugs), "--id-column", "Issue id",
                                      "--text-column", "Summary", "--text-column", "Description", "--time-column",
                                      time_column, "--pairs", str(pairs), "--embeddings", "off", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["n"] > 30 and figures["recall_at_10"] > 0.5
