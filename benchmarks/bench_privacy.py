"""Sensitive-data detection: recall and false positives per kind on the labelled set, and speed,
side by side with Microsoft Presidio's pattern recognizers.

The evaluation set is ``tests/data/privacy_eval.jsonl`` (valid identifiers of every kind in text,
and look-alikes: order, invoice, tracking and phone numbers, checksum failures, never-issued SSN
shapes, dates that are not birthdays, secret words with no value stated). Speed is measured on
``--megabytes`` of ordinary text (the repository's own Markdown with order, invoice, date and phone
numbers mixed in), scanned as one text and line by line, on one core; and in messages per CPU
second over ``--messages`` Segment messages of a small shop's traffic (``benchmarks.workload``):
``scan_mapping`` message by message, and ``scan_messages`` over batches of 100, as intake runs the
firewall on every message. Presidio has no counterpart to the message scan.

The peer is ``presidio-analyzer`` (the ``bench`` extra), with no language model downloaded: its
predefined pattern recognizers for the same kinds (CreditCard, Iban, UsBank, AbaRouting, UsSsn,
UsItin, UkNino, CaSin and Date), each built directly. Two ways of running them are measured:

- *recognizers*: each recognizer's ``analyze(text, entities, nlp_artifacts=None)``, no NLP at all;
  the pattern matching and checksums alone, the fastest Presidio can go.
- *engine*: an ``AnalyzerEngine`` holding only those recognizers, whose NLP engine is spaCy's
  rule-based English tokenizer (``spacy.blank("en")``, part of spaCy, no model) with lower-cased
  words as lemmas, so that context words ("SSN", "routing") raise scores as they do with a model.

A Presidio finding counts at any score (the engine's default threshold is 0) and, as a second
column, only at score >= 0.4: the score a weak pattern reaches with a context word, so weak
matches without one (nine bare digits, any 8-17 digit run as a US bank number) drop out.
Presidio has no notion of a birthday: its DATE_TIME finds any date, and is reported under
birth_date for what it is (recall on birthdays, false positives on dates that are not).
Nor has it a recognizer of a password or PIN stated in text: ``secret`` is cornerstore's alone,
and Presidio's recall on it is 0.
Without presidio-analyzer installed the run still measures cornerstore and says the peer was
not measured.

    python -m benchmarks.bench_privacy
    python -m benchmarks.bench_privacy --megabytes 50
    python -m benchmarks.bench_privacy --no-presidio
"""

from __future__ import annotations

import argparse
import importlib.metadata
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from benchmarks.common import machine, print_table, write_result
from cornerstore.privacy.detect import (
    BANK_ACCOUNT,
    BIRTH_DATE,
    IBAN,
    NATIONAL_ID,
    PAYMENT_CARD,
    SECRET,
    find,
    scan_mapping,
)
from cornerstore.privacy.message_scan import scan_messages

ROOT = Path(__file__).parents[1]
EVAL = ROOT / "tests" / "data" / "privacy_eval.jsonl"
SPEED_TARGET_MB_S = 20.0
KINDS = (PAYMENT_CARD, IBAN, BANK_ACCOUNT, NATIONAL_ID, BIRTH_DATE, SECRET)

# Presidio entity -> cornerstore kind; the recognizers below are the ones that emit them.
PRESIDIO_KINDS = {
    "CREDIT_CARD": PAYMENT_CARD,
    "IBAN_CODE": IBAN,
    "US_BANK_NUMBER": BANK_ACCOUNT,
    "ABA_ROUTING_NUMBER": BANK_ACCOUNT,
    "US_SSN": NATIONAL_ID,
    "US_ITIN": NATIONAL_ID,
    "UK_NINO": NATIONAL_ID,
    "CA_SIN": NATIONAL_ID,
    "DATE_TIME": BIRTH_DATE,  # any date: Presidio has no birthday
}
PRESIDIO_RECOGNIZERS = (
    "CreditCardRecognizer",
    "IbanRecognizer",
    "UsBankRecognizer",
    "AbaRoutingRecognizer",
    "UsSsnRecognizer",
    "UsItinRecognizer",
    "UkNinoRecognizer",
    "CaSinRecognizer",
    "DateRecognizer",
)
# LemmaContextAwareEnhancer lifts a match with a context word to at least this score.
CONTEXT_SCORE = 0.4
ANY, WITH_CONTEXT = "any score", f"score >= {CONTEXT_SCORE}"
NOT_MEASURED = "not measured"


class Presidio:
    """Presidio's pattern recognizers for cornerstore's kinds, run without a language model."""

    def __init__(self) -> None:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, predefined_recognizers

        self.version = importlib.metadata.version("presidio-analyzer")
        self.entities = sorted(PRESIDIO_KINDS)
        self.recognizers = [getattr(predefined_recognizers, n)() for n in PRESIDIO_RECOGNIZERS]
        # Given a registry and an NLP engine, AnalyzerEngine neither loads its default
        # recognizers nor creates the spaCy engine that would download en_core_web_lg.
        self.engine = AnalyzerEngine(
            registry=RecognizerRegistry(recognizers=self.recognizers, supported_languages=["en"]),
            nlp_engine=_tokenizer_only_nlp_engine(),
            supported_languages=["en"],
        )

    def scored_kinds(self, text: str) -> list[tuple[str, float]]:
        """(cornerstore kind, Presidio score) of each of the engine's findings in ``text``."""
        results = self.engine.analyze(text, language="en", entities=self.entities)
        return [(PRESIDIO_KINDS[r.entity_type], r.score) for r in results]

    def recognize(self, text: str) -> int:
        """Findings of the recognizers alone, no NLP: what the pattern matching costs."""
        return sum(len(r.analyze(text, self.entities, None)) for r in self.recognizers)

    def analyze(self, text: str) -> int:
        return len(self.engine.analyze(text, language="en", entities=self.entities))

    def about(self) -> dict[str, Any]:
        import spacy.util

        return {
            "presidio_analyzer": self.version,
            "spacy": importlib.metadata.version("spacy"),
            "recognizers": list(PRESIDIO_RECOGNIZERS),
            "entity_to_kind": PRESIDIO_KINDS,
            "nlp_engine": 'spacy.blank("en") tokenizer, lower-cased words as lemmas, no model',
            "spacy_models_installed": sorted(spacy.util.get_installed_models()),
        }


def _tokenizer_only_nlp_engine() -> Any:
    """A Presidio NLP engine that tokenizes with spaCy's rules and loads no model.

    Presidio's NoOpNlpEngine produces no tokens, so context words in the text would never count;
    spaCy's blank English pipeline tokenizes (and knows stop words and punctuation) but has no
    lemmatizer, so each word's lower-case form stands in for its lemma.
    """
    import spacy
    from presidio_analyzer.nlp_engine import NlpArtifacts, NoOpNlpEngine

    class TokenizerOnlyNlpEngine(NoOpNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

        def process_text(self, text: str, language: str) -> NlpArtifacts:
            doc = self.nlp[language](text)
            return NlpArtifacts(
                entities=[],
                tokens=doc,
                tokens_indices=[t.idx for t in doc],
                lemmas=[t.norm_ for t in doc],
                nlp_engine=self,
                language=language,
                scores=[],
            )

        def is_stopword(self, word: str, language: str) -> bool:
            return bool(self.nlp[language].vocab[word].is_stop)

        def is_punct(self, word: str, language: str) -> bool:
            return bool(self.nlp[language].vocab[word].is_punct)

    return TokenizerOnlyNlpEngine(models=[{"lang_code": "en", "model_name": "blank"}])


def load_presidio() -> tuple[Presidio | None, str | None]:
    """The peer, or None and why it could not be built."""
    try:
        return Presidio(), None
    except ImportError as e:
        return None, f"presidio-analyzer is not importable ({e}); pip install -e '.[bench]'"


def load_items() -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in EVAL.read_text().splitlines() if line.strip()]


def evaluate(items: list[dict[str, Any]], found: list[set[str]]) -> dict[str, Any]:
    """Per kind: positives found / labelled, and look-alikes reported as that kind / look-alikes.

    ``found[i]`` is the set of kinds a detector reported on ``items[i]``.
    """
    labelled: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    lookalikes = false_positives = 0
    for item, kinds in zip(items, found, strict=True):
        if not item["kinds"]:
            lookalikes += 1
            false_positives += bool(kinds)
            wrong.update(kinds)
        for kind in item["kinds"]:
            labelled[kind] += 1
            hits[kind] += kind in kinds
    return {
        "items": len(items),
        "recall": {k: hits[k] / labelled[k] for k in sorted(labelled)},
        "positives": dict(sorted(labelled.items())),
        "lookalikes": lookalikes,
        "false_positives": false_positives,
        "false_positive_rate": false_positives / lookalikes if lookalikes else 0.0,
        "false_positives_by_kind": {k: wrong[k] for k in KINDS},
        "false_positive_rate_by_kind": {
            k: wrong[k] / lookalikes if lookalikes else 0.0 for k in KINDS
        },
    }


def peer_right_where_we_are_wrong(
    items: list[dict[str, Any]], ours: list[set[str]], theirs: list[set[str]]
) -> list[dict[str, Any]]:
    """Items the peer gets right and cornerstore does not: a labelled kind only the peer
    finds, or a look-alike only cornerstore reports."""
    out = []
    for item, mine, peer in zip(items, ours, theirs, strict=True):
        labelled = set(item["kinds"])
        if (labelled & peer) - mine or (not labelled and mine and not peer):
            out.append(
                {
                    "text": item["text"],
                    "labelled": sorted(labelled),
                    "cornerstore": sorted(mine),
                    "presidio": sorted(peer),
                }
            )
    return out


def ordinary_text(megabytes: float) -> str:
    base = (ROOT / "README.md").read_text()
    base += "".join(p.read_text() for p in sorted((ROOT / "docs").glob("*.md")))
    base += "\nOrder 10023 shipped 2024-03-12, invoice INV-2024-0042, call 555-123-4567.\n"
    size = int(megabytes * 1_000_000)
    return (base * (size // len(base) + 1))[:size]


def _mb_s(scan: Callable[[str], int], texts: list[str], size: float) -> tuple[float, int]:
    """MB/s of ``scan`` over ``texts`` in CPU time: one core, whatever else the machine runs."""
    started = time.process_time()
    findings = sum(scan(t) for t in texts)
    return round(size / (time.process_time() - started), 2), findings


# (row, cornerstore figure, Presidio figure) of the speed table.
SPEED_ROWS = (
    ("whole text; Presidio recognizers, no NLP", "whole_text_mb_s", "recognizers_whole_text_mb_s"),
    ("line by line; Presidio recognizers, no NLP", "line_by_line_mb_s", "recognizers_line_mb_s"),
    ("line by line; Presidio engine + tokenizer", "line_by_line_mb_s", "engine_line_mb_s"),
)


def messages_per_second(count: int, batch: int = 100) -> dict[str, Any]:
    """``scan_mapping`` message by message, and ``scan_messages`` over batches of ``batch`` (as
    intake runs the firewall), over ``count`` messages of a small shop's traffic: CPU time."""
    from benchmarks.workload import batches, people, traffic

    messages = traffic(count, people(200), run="privacy-")
    started = time.process_time()
    findings = sum(len(scan_mapping(m)[1]) for m in messages)
    seconds = time.process_time() - started
    started = time.process_time()
    batch_findings = sum(len(s.found) for b in batches(messages, batch) for s in scan_messages(b))
    batch_seconds = time.process_time() - started
    return {
        "messages": count,
        "messages_per_s": round(count / seconds),
        "findings": findings,
        "batch": batch,
        "batch_messages_per_s": round(count / batch_seconds),
        "batch_findings": batch_findings,
    }


def speed(megabytes: float, presidio: Presidio | None) -> dict[str, Any]:
    text = ordinary_text(megabytes)
    size = len(text.encode()) / 1e6
    lines = text.splitlines(keepends=True)
    whole_mb_s, whole = _mb_s(lambda t: len(find(t)), [text], size)
    lines_mb_s, by_line = _mb_s(lambda t: len(find(t)), lines, size)
    result: dict[str, Any] = {
        "megabytes": round(size, 1),
        "lines": len(lines),
        "whole_text_mb_s": round(whole_mb_s, 1),
        "line_by_line_mb_s": round(lines_mb_s, 1),
        "findings": whole,
        "findings_by_line": by_line,
        "presidio": None,
    }
    if presidio is None:
        return result
    # The engine tokenizes with spaCy, which refuses a text over 1,000,000 characters, so the
    # whole text goes through the recognizers alone.
    peer: dict[str, Any] = {}
    peer["recognizers_whole_text_mb_s"], peer["findings"] = _mb_s(presidio.recognize, [text], size)
    peer["recognizers_line_mb_s"], peer["findings_by_line"] = _mb_s(presidio.recognize, lines, size)
    peer["engine_line_mb_s"], peer["engine_findings_by_line"] = _mb_s(presidio.analyze, lines, size)
    peer["cornerstore_over_presidio"] = {
        theirs: round(result[ours] / peer[theirs], 1) for _, ours, theirs in SPEED_ROWS
    }
    result["presidio"] = peer
    return result


def report(
    quality: dict[str, Any], peer: dict[str, Any], fast: dict[str, Any], messages: dict[str, Any]
) -> None:
    """Print the recall, false-positive and speed tables, cornerstore next to Presidio."""

    def compare(key: str, kind: str | None = None) -> list[Any]:
        """cornerstore's figure, then Presidio's at any score and at the context score."""
        runs = [quality] + ([peer[ANY], peer[WITH_CONTEXT]] if peer["measured"] else [])
        values = [run[key] if kind is None else run[key][kind] for run in runs]
        values = [v if key == "recall" else round(v, 3) for v in values]
        return values + [NOT_MEASURED] * (3 - len(values))

    def name(kind: str, birthday_note: str) -> str:
        return f"{kind} {birthday_note}" if kind == BIRTH_DATE else kind

    columns = ["cornerstore", f"Presidio, {ANY}", f"Presidio, {WITH_CONTEXT}"]
    print_table(
        f"Recall on {quality['items']} labelled items (found / labelled)",
        ["kind", "labelled", *columns],
        [
            [name(k, "(Presidio: DATE_TIME, any date)"), n, *compare("recall", k)]
            for k, n in quality["positives"].items()
        ],
    )
    print_table(
        f"False positives: share of the {quality['lookalikes']} look-alikes reported as the kind",
        ["kind", *columns],
        [
            [name(k, "(Presidio: any date)"), *compare("false_positive_rate_by_kind", k)]
            for k in KINDS
        ]
        + [["any kind", *compare("false_positive_rate")]],
    )
    if peer["measured"]:
        for label in (ANY, WITH_CONTEXT):
            texts = [r["text"] for r in peer[label]["right_where_cornerstore_is_wrong"]]
            print(f"Presidio ({label}) right where cornerstore is wrong: {texts or 'none'}")
    else:
        print(f"Presidio not measured: {peer['why_not']}")
    other = fast["presidio"]
    print_table(
        f"Speed on {fast['megabytes']} MB of ordinary text ({fast['lines']:,} lines), one core",
        ["scan", "cornerstore MB/s", "Presidio MB/s", "cornerstore / Presidio"],
        [
            [row, fast[ours], other[key], other["cornerstore_over_presidio"][key]]
            if other
            else [row, fast[ours], NOT_MEASURED, NOT_MEASURED]
            for row, ours, key in SPEED_ROWS
        ],
    )
    print_table(
        f"The firewall on {messages['messages']:,} Segment messages of a shop's traffic, one core",
        ["way", "messages/CPU-s", "findings"],
        [
            ["scan_mapping, message by message", messages["messages_per_s"], messages["findings"]],
            [
                f"scan_messages, batches of {messages['batch']}",
                messages["batch_messages_per_s"],
                messages["batch_findings"],
            ],
        ],
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_privacy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--megabytes", type=float, default=20.0, help="text scanned for speed (20)")
    p.add_argument("--messages", type=int, default=50_000, help="messages scanned (50,000)")
    p.add_argument("--no-presidio", action="store_true", help="measure cornerstore only")
    args = p.parse_args(argv)
    started = machine()  # before the run: the load average is then other work's alone
    presidio, why_not = (None, "--no-presidio given") if args.no_presidio else load_presidio()

    items = load_items()
    ours = [{f.kind for f in find(item["text"])} for item in items]
    quality = evaluate(items, ours)
    peer: dict[str, Any] = {"measured": presidio is not None, "why_not": why_not}
    if presidio is not None:
        peer["about"] = presidio.about()
        scored = [presidio.scored_kinds(item["text"]) for item in items]
        for label, threshold in ((ANY, 0.0), (WITH_CONTEXT, CONTEXT_SCORE)):
            found = [{kind for kind, score in s if score >= threshold} for s in scored]
            peer[label] = evaluate(items, found)
            peer[label]["right_where_cornerstore_is_wrong"] = peer_right_where_we_are_wrong(
                items, ours, found
            )
    fast = speed(args.megabytes, presidio)
    messages = messages_per_second(args.messages)
    report(quality, peer, fast, messages)

    worst = min(quality["recall"].values())
    targets = [
        {
            "name": "privacy recall (worst kind)",
            "target": 1.0,
            "measured": worst,
            "ratio": worst,
            "pass": worst >= 1.0,
        },
        {
            "name": "privacy false positives on look-alikes",
            "target": 0.01,
            "measured": round(quality["false_positive_rate"], 4),
            "ratio": round(min(0.01 / max(quality["false_positive_rate"], 1e-9), 100.0), 2),
            "pass": quality["false_positive_rate"] <= 0.01,
        },
        {
            "name": "privacy scan MB/s (whole text)",
            "target": SPEED_TARGET_MB_S,
            "measured": fast["whole_text_mb_s"],
            "ratio": round(fast["whole_text_mb_s"] / SPEED_TARGET_MB_S, 3),
            "pass": fast["whole_text_mb_s"] >= SPEED_TARGET_MB_S,
        },
    ]
    result = {
        "machine": started,
        "quality": quality,
        "presidio": peer,
        "speed": fast,
        "messages": messages,
        "targets": targets,
    }
    write_result("privacy", result)
    return result


if __name__ == "__main__":
    main()
