"""Labelled CSV files for training and evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontline.datasets import load_labelled_csv
from frontline.errors import DataFileError


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_text_columns_are_joined_and_bad_rows_skipped_by_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'title,body,label\nLogin fails,"Cannot log in\nsince today",bug\n,,bug\nIdea,,\n'
                           "Crash,<p>App <b>crashes</b></p>,bug\n")
    data = load_labelled_csv(path, ["title", "body"], "label")
    assert data.texts == ["Login fails\nCannot log in\nsince today", "Crash\nApp crashes"]
    assert data.labels == ["bug", "bug"]
    assert data.skipped == ((4, "no text"), (5, "no label"))


def test_a_missing_column_names_the_columns_that_exist(tmp_path: Path) -> None:
    path = write(tmp_path, "text,category\nhello,a\n")
    with pytest.raises(DataFileError, match=r"no column 'label'.*text, category"):
        load_labelled_csv(path, ["text"], "label")


def test_windows_1252_is_decoded(tmp_path: Path) -> None:
    path = write(tmp_path, "text,category\nCafé invoice – wrong,billing\n", encoding="cp1252")
    assert load_labelled_csv(path, ["text"], "category").texts == ["Café invoice – wrong"]


def test_missing_and_empty_files_are_explained(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="does not exist"):
        load_labelled_csv(tmp_path / "nope.csv", ["text"], "label")
    with pytest.raises(DataFileError, match="empty"):
        load_labelled_csv(write(tmp_path, ""), ["text"], "label")
