#!/usr/bin/env python3
"""Score Microsoft Presidio (pattern recognizers only) on the accuracy corpus of
`cargo run --release --example accuracy -- --corpus target/accuracy/corpus.jsonl`.

Setup (once, offline-friendly: no spaCy model is downloaded):

    python3 -m venv /tmp/presidio-venv
    /tmp/presidio-venv/bin/pip install presidio-analyzer
    /tmp/presidio-venv/bin/python bench/presidio/compare.py target/accuracy/corpus.jsonl

A corpus written with `--evasion` (each value hidden by one evasion; see
examples/accuracy.rs) also gets recall per evasion, on the types Presidio supports.

Presidio's AnalyzerEngine normally loads the spaCy model `en_core_web_lg` for its NER
recognizer and for context lemmas. No model can be downloaded here, so the NLP engine
is a *blank* spaCy English pipeline (`spacy.blank("en")`: tokenizer only). Every
pattern recognizer (regex + validation + context words) works unchanged; the NER
recognizer (PERSON, LOCATION, NRP, ...) finds nothing, so person names and addresses
are not compared. Context enhancement still runs on token text (lemmas of a blank
pipeline are empty, so it compares surface forms).

Scoring is the same as the Rust harness: a result is a true positive when it overlaps
a gold span of the mapped type; every other result of a mapped type is a false
positive; unmapped Presidio types (DATE_TIME, URL, ...) are ignored. The score
threshold is Presidio's default (0).
"""

import json
import sys
import time
from collections import defaultdict

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import SpacyNlpEngine

# Presidio entity -> Customs entity.
MAPPING = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CARD_NUMBER",
    "US_SSN": "US_SSN",
    "US_ITIN": "US_ITIN",
    "US_PASSPORT": "US_PASSPORT",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
    "US_BANK_NUMBER": "BANK_ACCOUNT",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP_ADDRESS",
    "CRYPTO": "BTC_ADDRESS",
    "UK_NHS": "UK_NHS",
    "UK_NINO": "UK_NINO",
    "ES_NIF": "ES_NIF",
    "ES_NIE": "ES_NIE",
    "IT_FISCAL_CODE": "IT_FISCAL_CODE",
    "PL_PESEL": "PL_PESEL",
    "SG_NRIC_FIN": "SG_NRIC",
    "AU_ABN": "AU_ABN",
    "AU_TFN": "AU_TFN",
    "AU_MEDICARE": "AU_MEDICARE",
    "IN_PAN": "IN_PAN",
    "IN_AADHAAR": "IN_AADHAAR",
    "MEDICAL_LICENSE": "US_DEA",
    "ABA_ROUTING_NUMBER": "ABA_ROUTING",
    "CA_SIN": "CA_SIN",
    "DE_TAX_ID": "DE_STEUER_ID",
    "MAC_ADDRESS": "MAC_ADDRESS",
    "IN_GSTIN": "IN_GSTIN",
    "US_MBI": "US_MBI",
    "US_NPI": "US_NPI",
    "PERSON": "PERSON_NAME",
    "LOCATION": "STREET_ADDRESS",
}

# Types only Presidio's NER recognizer finds (no model here: see above).
NER_ONLY = {"PERSON_NAME", "STREET_ADDRESS"}


class BlankSpacyEngine(SpacyNlpEngine):
    """A SpacyNlpEngine over `spacy.blank(lang)`: no model download."""

    def __init__(self):
        super().__init__(models=[{"lang_code": "en", "model_name": "blank"}])

    def load(self):
        self.nlp = {"en": spacy.blank("en")}


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "target/accuracy/corpus.jsonl"
    docs = [json.loads(line) for line in open(path, encoding="utf-8")]
    engine = BlankSpacyEngine()
    engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"])
    # Country-specific recognizers are registered for their own language (es, it,
    # pl, ...) or disabled by default; enable every pattern recognizer of a type the
    # corpus holds, for English, so Presidio gets its best shot.
    from presidio_analyzer import predefined_recognizers as pr

    extra = [
        "AbaRoutingRecognizer", "AuAbnRecognizer", "AuMedicareRecognizer", "AuTfnRecognizer",
        "CaSinRecognizer", "DeTaxIdRecognizer", "EsNieRecognizer", "EsNifRecognizer",
        "InAadhaarRecognizer", "InGstinRecognizer", "InPanRecognizer", "ItFiscalCodeRecognizer",
        "MacAddressRecognizer", "PlPeselRecognizer", "SgFinRecognizer", "UkNinoRecognizer",
        "UsMbiRecognizer", "UsNpiRecognizer",
    ]
    present = {e for r in registry.recognizers for e in r.supported_entities}
    for name in extra:
        cls = getattr(pr, name, None)
        if cls is None:
            continue
        try:
            rec = cls(supported_language="en")
        except TypeError:
            continue
        if not set(rec.supported_entities) & present:
            registry.add_recognizer(rec)
            present |= set(rec.supported_entities)
    print("Presidio entities:", ", ".join(sorted(present)), file=sys.stderr)
    analyzer = AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])
    gold_types = sorted({s["type"] for d in docs for s in d["spans"]})
    supported = sorted(set(MAPPING.values()))

    scores = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    by_evasion = defaultdict(lambda: [0, 0])  # found, missed
    total_chars = sum(len(d["text"].encode("utf-8")) for d in docs)
    started = time.perf_counter()
    results = [analyzer.analyze(text=d["text"], language="en") for d in docs]
    elapsed = time.perf_counter() - started
    for d, found in zip(docs, results):
        matched = [False] * len(d["spans"])
        for r in found:
            t = MAPPING.get(r.entity_type)
            if t is None:
                continue
            hit = None
            for i, g in enumerate(d["spans"]):
                if g["type"] == t and r.start < g["cend"] and g["cstart"] < r.end:
                    hit = i
                    break
            if hit is None:
                scores[t][1] += 1
            elif not matched[hit]:
                matched[hit] = True
                scores[t][0] += 1
        for g, m in zip(d["spans"], matched):
            if not m and g["type"] in supported:
                scores[g["type"]][2] += 1
            # `--evasion` corpora: recall per evasion, on the types Presidio has a
            # pattern recognizer for (names and addresses need the NER model).
            if "evasion" in d and g["type"] in supported and g["type"] not in NER_ONLY:
                by_evasion[d["evasion"]][0 if m else 1] += 1
    print(
        f"{len(docs)} documents, {total_chars} bytes; Presidio analyze: {elapsed:.1f} s total, "
        f"{total_chars / elapsed / 1e6:.3f} MB/s, {elapsed * 1e6 / len(docs):.0f} µs/doc"
    )
    print("| type | TP | FP | FN | precision | recall | F2 |")
    print("|---|---|---|---|---|---|---|")
    for t in gold_types:
        if t not in supported:
            continue
        tp, fp, fn = scores[t]
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        f2 = 5 * p * r / (4 * p + r) if p + r else 0.0
        print(f"| {t} | {tp} | {fp} | {fn} | {p:.3f} | {r:.3f} | {f2:.3f} |")
    if by_evasion:
        print()
        print("| evasion | documents | found | missed | recall |")
        print("|---|---|---|---|---|")
        for kind in sorted(by_evasion):
            found, missed = by_evasion[kind]
            recall = found / max(found + missed, 1)
            print(f"| {kind} | {found + missed} | {found} | {missed} | {recall:.4f} |")


if __name__ == "__main__":
    main()
