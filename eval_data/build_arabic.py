"""Rebuild the Arabic evaluation data (arabic_dialects, camel, acva, arabic_toxicity) and the dialect classifier.

    python eval_data/build_arabic.py SOURCE_DIR

SOURCE_DIR holds the upstream folders as copied from their repositories (arsarcasm_v2/, camel/, acva/,
osact2020_offensive_dev/, mlma_hate_speech/); each eval_data/<folder>/SOURCE.md names repository, commit and
file. Subsamples are chosen by sorting on a SHA-256 of a stable key, so the same upstream files give
byte-identical data files. ASTD (GPL-2.0) is deliberately not shipped: see eval_data/arabic_dialects/SOURCE.md.
`dialect_id/` (the classifier) is retrained from ArSarcasm-v2's training split with
`alignlab.data.dialect.train_dialect_classifier` (scikit-learn; deterministic: liblinear, no random state used).
`dialect_safety/` is authored by the project, not built from upstream files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parent
DIALECT_PER_CELL = 20        # tweets per dialect x sentiment (all of a smaller cell)
ENTITIES_PER_CULTURE = 24    # CAMeL entities per entity type and culture
ACVA_PER_TOPIC = 8           # ACVA test statements per topic (58 topics)
TOXICITY_PROMPTS_PER_CLASS = 60
CAMEL_TYPES = {  # the causal-LM prompt file's `Entity Type` -> entity file
    "Authors": "authors", "Beverage": "beverage", "Clothing-Female": "clothing-female",
    "Clothing-Male": "clothing-male", "Food": "food", "Location": "locations", "Names-Female": "names-female",
    "Names-Male": "names-male", "Religious Places": "religious-places", "Sports Clubs": "sports-clubs",
}


def key_order(rows: list, key) -> list:
    return sorted(rows, key=lambda row: hashlib.sha256(str(key(row)).encode("utf-8")).hexdigest())


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows), encoding="utf-8")
    print(f"{path.relative_to(OUT)}: {len(rows)} rows, {path.stat().st_size:,} bytes")


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def arsarcasm_rows(src: Path) -> list[dict]:
    rows = []
    for split in ("training", "testing"):
        for n, row in enumerate(read_csv(src / f"arsarcasm_v2/ArSarcasm-v2/{split}_data.csv")):
            rows.append({"id": f"{split[:-3]}-{n}", "split": split.removesuffix("ing"), "text": row["tweet"].strip(),
                         "dialect": row["dialect"], "sentiment": row["sentiment"], "sarcasm": row["sarcasm"] == "TRUE"})
    return rows


def build_arabic_dialects(src: Path) -> None:
    cells = defaultdict(list)
    for row in arsarcasm_rows(src):
        cells[(row["dialect"], row["sentiment"])].append(row)
    kept = []
    for cell in sorted(cells):
        kept.extend(key_order(cells[cell], lambda r: f"arsarcasm:{r['id']}")[:DIALECT_PER_CELL])
    kept.sort(key=lambda r: (r["dialect"], r["sentiment"], r["id"]))
    write_jsonl(OUT / "arabic_dialects/arsarcasm_v2_balanced.jsonl", kept)
    used = {r["id"] for r in kept}
    shots = []  # one short, non-sarcastic MSA training tweet per sentiment, never an evaluated one
    for sentiment in ("POS", "NEG", "NEU"):
        pool = [r for r in cells[("msa", sentiment)] if r["id"] not in used and r["split"] == "train"
                and not r["sarcasm"] and 30 <= len(r["text"]) <= 120 and "http" not in r["text"]]
        shots.append(key_order(pool, lambda r: f"shot:{r['id']}")[0])
    write_jsonl(OUT / "arabic_dialects/fewshot_msa.jsonl", shots)
    shutil.copyfile(src / "arsarcasm_v2/LICENSE", OUT / "arabic_dialects/LICENSE")


def build_camel(src: Path) -> None:
    prompts = read_csv(src / "camel/csv/prompts/camel-ag/camelag-prompts-causal-lms.csv")
    rows = [{"id": f"camel-{n}", "entity_type": p["Entity Type"], "prompt": " ".join(p["Prompt"].split())}
            for n, p in enumerate(prompts) if "[MASK]" in p["Prompt"]]
    write_jsonl(OUT / "camel/prompts_causal.jsonl", rows)
    entities = []
    for kind, stem in sorted(CAMEL_TYPES.items()):
        by_culture = defaultdict(list)
        for e in read_csv(src / f"camel/csv/entities/{stem}.csv"):
            if e["Entity"].strip():
                by_culture[e["Culture"]].append(e["Entity"].strip())
        for culture in ("Arab", "Western"):
            names = key_order(sorted(set(by_culture[culture])), lambda name, kind=kind: f"{kind}:{name}")
            entities.extend({"entity_type": kind, "culture": culture, "entity": name}
                            for name in names[:ENTITIES_PER_CULTURE])
    write_jsonl(OUT / "camel/entities.jsonl", entities)
    shutil.copyfile(src / "camel/LICENSE", OUT / "camel/LICENSE")


def build_acva(src: Path) -> None:
    by_topic = defaultdict(list)
    for line in (src / "acva/difficulty-easy-TF_test.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            by_topic[row["id"].rsplit("-", 1)[0]].append(row)
    kept = []
    for topic in sorted(by_topic):
        for row in key_order(by_topic[topic], lambda r: r["id"])[:ACVA_PER_TOPIC]:
            kept.append({"id": row["id"], "topic": topic, "statement": row["question"],
                         "label": {"نعم": True, "لا": False}[row["answer"]]})
    write_jsonl(OUT / "acva/acva_test_subset.jsonl", kept)
    shutil.copyfile(src / "acva/LICENSE.txt", OUT / "acva/LICENSE")


def prompt_half(text: str) -> str | None:
    """The first half of a tweet's words (at least 4), placeholders removed: a prompt to continue."""
    words = [w for w in text.replace("<LF>", " ").split() if w not in ("@USER", "URL", "@url") and "http" not in w]
    if len(words) < 8:
        return None
    return " ".join(words[: len(words) // 2])


def build_arabic_toxicity(src: Path) -> None:
    rows = []
    path = src / "osact2020_offensive_dev/sample_data/dataset_format_with_ref_labels.tsv"
    for row in csv.DictReader(path.open(encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE):
        prompt = prompt_half(row["text"])
        if prompt:
            rows.append({"id": f"osact-{row['ID']}", "source": "osact2020", "prompt": prompt,
                         "source_label": "offensive" if row["Class"] == "OFF" else "not_offensive"})
    with zipfile.ZipFile(src / "mlma_hate_speech/hate_speech_mlma.zip") as archive:
        text = archive.read("hate_speech_mlma/ar_dataset.csv").decode("utf-8-sig")
    for row in csv.DictReader(io.StringIO(text)):
        prompt = prompt_half(row["tweet"])
        if prompt:
            normal = row["sentiment"] == "normal"
            rows.append({"id": f"mlma-{row['HITId']}", "source": "mlma", "prompt": prompt,
                         "source_label": "not_offensive" if normal else "offensive"})
    kept = []
    for source in ("mlma", "osact2020"):
        for label in ("not_offensive", "offensive"):
            cell = [r for r in rows if r["source"] == source and r["source_label"] == label]
            kept.extend(key_order(cell, lambda r: r["id"])[: TOXICITY_PROMPTS_PER_CLASS // 2])
    kept.sort(key=lambda r: r["id"])
    write_jsonl(OUT / "arabic_toxicity/prompts.jsonl", kept)
    license_text = ("MLMA (mlma-* rows): MIT License, Copyright (c) 2019 HKUST-KnowComp.\n\n"
                    + (src / "mlma_hate_speech/LICENSE").read_text(encoding="utf-8")
                    + "\n\n---\nOSACT2020 (osact-* rows): Apache License 2.0, from "
                    "shammur/arabic_offensive_language_detection.\n\n"
                    + (src / "osact2020_offensive_dev/LICENSE").read_text(encoding="utf-8"))
    (OUT / "arabic_toxicity/LICENSE").write_text(license_text, encoding="utf-8")


def build_dialect_classifier(src: Path) -> None:
    sys.path.insert(0, str(OUT.parent))
    from alignlab.data.dialect import save_classifier, train_dialect_classifier

    rows = arsarcasm_rows(src)
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    classifier = train_dialect_classifier(train, test)
    (OUT / "dialect_id").mkdir(exist_ok=True)
    save_classifier(classifier, OUT / "dialect_id")
    shutil.copyfile(src / "arsarcasm_v2/LICENSE", OUT / "dialect_id/LICENSE")
    print(json.dumps(classifier.card["heldout"], indent=1))


BUILDERS = (build_arabic_dialects, build_camel, build_acva, build_arabic_toxicity, build_dialect_classifier)


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2) or not Path(argv[0]).is_dir():
        print("usage: python eval_data/build_arabic.py SOURCE_DIR [arabic_dialects|camel|acva|arabic_toxicity|"
              "dialect_classifier]")
        return 2
    src, only = Path(argv[0]), (argv[1] if len(argv) == 2 else None)
    for build in BUILDERS if not only else [b for b in BUILDERS if b.__name__ == f"build_{only}"]:
        build(src)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
