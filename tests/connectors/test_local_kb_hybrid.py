"""KB search with a sentence encoder: FTS5 candidates plus every article's cosine, vectors kept in the index."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from frontline.connectors.local.kb import LocalKnowledgeBase
from tests.fakes.encoder import ConceptEncoder
from tests.helpers import make_settings


def write(folder: Path, name: str, title: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    write(kb, "delete-account.md", "Deleting your account", "Go to settings, then privacy, then delete account.")
    write(kb, "refunds.md", "Refunds", "Refunds are paid back to the original card within five days.")
    write(kb, "avatar.md", "Changing your avatar", "Upload a picture in your settings.")
    return kb


def search(kb: LocalKnowledgeBase, query: str) -> list[str]:
    return [a.title for a in asyncio.run(kb.search(query, 3))]


def test_a_paraphrase_sharing_no_word_with_its_article_finds_it(tmp_path: Path, folder: Path) -> None:
    plain = LocalKnowledgeBase(tmp_path / "plain.db")
    plain.index(folder)
    assert search(plain, "wipe my profile") == []  # FTS5 alone: no shared word, nothing found
    kb = LocalKnowledgeBase(tmp_path / "kb.db", encoder=ConceptEncoder())
    kb.index(folder)
    assert search(kb, "wipe my profile")[0] == "Deleting your account"
    assert search(kb, "refund to my card")[0] == "Refunds"
    assert kb.rank_paths("wipe my profile", 1) == ["delete-account.md"]


def test_article_vectors_are_encoded_once_per_article_version(tmp_path: Path, folder: Path) -> None:
    encoder = ConceptEncoder()
    kb = LocalKnowledgeBase(tmp_path / "kb.db", encoder=encoder)
    kb.index(folder)
    assert (encoder.calls, encoder.texts) == (1, 3 * 2)  # at index time: title and title + body, one batch
    search(kb, "wipe my profile")
    assert encoder.texts == 3 * 2 + 1  # and the query
    search(kb, "refund")
    assert encoder.texts == 3 * 2 + 2  # the articles' vectors are held
    kb.close()
    again_encoder = ConceptEncoder()
    again = LocalKnowledgeBase(tmp_path / "kb.db", encoder=again_encoder)  # another process: read from the index
    search(again, "refund")
    assert again_encoder.texts == 1
    path = write(folder, "refunds.md", "Refunds", "Money goes back to the card within ten days.")
    os.utime(path, (time.time() + 5, time.time() + 5))
    again.index(folder)
    assert again_encoder.texts == 1 + 2  # only the edited article is encoded again, when it is indexed
    search(again, "refund")
    assert again_encoder.texts == 1 + 2 + 1


def test_a_deleted_article_leaves_the_results_and_its_vectors_go(tmp_path: Path, folder: Path) -> None:
    kb = LocalKnowledgeBase(tmp_path / "kb.db", encoder=ConceptEncoder())
    kb.index(folder)
    assert search(kb, "wipe my profile")[0] == "Deleting your account"
    (folder / "delete-account.md").unlink()
    kb.index(folder)
    assert "Deleting your account" not in search(kb, "wipe my profile")
    assert kb._db.execute("SELECT COUNT(*) FROM article_vectors").fetchone()[0] == 2


def test_doctor_says_whether_search_is_hybrid(tmp_path: Path, folder: Path) -> None:
    hybrid = LocalKnowledgeBase(tmp_path / "a.db", encoder=ConceptEncoder())
    hybrid.index(folder)
    assert "hybrid search" in asyncio.run(hybrid.diagnose())[0].detail
    plain = LocalKnowledgeBase(tmp_path / "b.db")
    plain.index(folder)
    assert "FTS5 search only" in asyncio.run(plain.diagnose())[0].detail


def test_the_settings_choose_the_encoder(tmp_path: Path, folder: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    kb = LocalKnowledgeBase.from_settings(make_settings(workspace))
    assert kb.encoder() is None  # the tests' settings say off
    asyncio.run(kb.aclose())
    settings = make_settings(workspace)
    settings = settings.model_copy(update={"local": settings.local.model_copy(update={"kb_embeddings": "auto"})})
    chosen = LocalKnowledgeBase.from_settings(settings)
    assert chosen._encoder_spec == "auto"  # loaded at the first search, not when the connector opens
    asyncio.run(chosen.aclose())
