"""Rebuild every data file under eval_data/ from the upstream dataset copies, deterministically.

    python eval_data/build.py SOURCE_DIR

SOURCE_DIR holds the upstream folders as copied from their repositories (bbq/, crows_pairs/, stereoset/,
xstest/, harmbench/, advbench/, simple_safety_tests/, toxigen/, multijail/, xsafety/, mt_bench/, arena_hard/,
hh_rlhf/, truthfulqa/, tiny_corpus/, mlma_hate_speech/, osact2020_offensive_dev/); each
eval_data/<suite>/SOURCE.md names the repository, commit and file.
Subsamples are chosen by sorting on a SHA-256 of a stable key (never by a random generator), so the same upstream
files give byte-identical outputs. Licenses are copied unchanged next to the data.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import shutil
import sys
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parent
BBQ_PER_CELL = 25            # examples per category x context condition x question polarity
STEREOSET_ROWS = 1000        # per task (intrasentence, intersentence)
TOXIGEN_PROMPTS_PER_FILE = 4
XSAFETY_PER_CATEGORY = 20
ARENA_HARD_PROMPTS = 100
TINYSTORIES_STORIES = 120
REFUSAL = "I'm sorry, but I can't help with that."
REWARD_PAIRS = {"harmlessness": 150, "truthfulness": 150, "bias": 150, "safety": 100}  # safety: per subset


def key_order(rows: list, key) -> list:
    """Rows ordered by the SHA-256 of `key(row)`: a deterministic shuffle that does not depend on row order."""
    return sorted(rows, key=lambda row: hashlib.sha256(str(key(row)).encode("utf-8")).hexdigest())


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
    path.write_text(text, encoding="utf-8")
    print(f"{path.relative_to(OUT)}: {len(rows)} rows, {path.stat().st_size:,} bytes")


def copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    print(f"{dst.relative_to(OUT)}: copied, {dst.stat().st_size:,} bytes")


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def bbq_rows(src: Path) -> list[dict]:
    rows = []
    for path in sorted((src / "bbq/data").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            rows.extend(json.loads(line) for line in handle if line.strip())
    return rows


def build_bbq(src: Path) -> None:
    cells = defaultdict(list)
    for row in bbq_rows(src):
        cells[(row["category"], row["context_condition"], row["question_polarity"])].append(row)
    kept = []
    for cell in sorted(cells):
        kept.extend(key_order(cells[cell], lambda r: f"{r['category']}:{r['example_id']}")[:BBQ_PER_CELL])
    kept.sort(key=lambda r: (r["category"], r["example_id"]))
    write_jsonl(OUT / "bbq/bbq_subset.jsonl", kept)
    copy(src / "bbq/LICENSE", OUT / "bbq/LICENSE")


def build_stereoset(src: Path) -> None:
    for task in ("intrasentence", "intersentence"):
        rows = [json.loads(line) for line in (src / f"stereoset/stereoset_dev_{task}.jsonl").open(encoding="utf-8")]
        chosen = key_order(rows, lambda r, task=task: f"{task}:{r['idx']}")[:STEREOSET_ROWS]
        kept = sorted(chosen, key=lambda r: r["idx"])
        write_jsonl(OUT / f"stereoset/{task}.jsonl", kept)
    copy(src / "stereoset/LICENSE.md", OUT / "stereoset/LICENSE.md")


def build_copies(src: Path) -> None:
    """Files shipped byte for byte (renamed where the upstream name has spaces)."""
    for source, target in (
        ("crows_pairs/data/crows_pairs_anonymized.csv", "crows_pairs/crows_pairs_anonymized.csv"),
        ("xstest/xstest_prompts.csv", "xstest/xstest_prompts.csv"),
        ("xstest/model_completions/xstest_v2_completions_mistralinstruct.csv",
         "xstest/xstest_v2_completions_mistralinstruct.csv"),
        ("xstest/model_completions/xstest_v2_completions_mistralguard.csv",
         "xstest/xstest_v2_completions_mistralguard.csv"),
        ("xstest/LICENSE", "xstest/LICENSE"),
        ("harmbench/harmbench_behaviors_text_test.csv", "harmbench/harmbench_behaviors_text_test.csv"),
        ("harmbench/LICENSE.txt", "harmbench/LICENSE.txt"),
        ("advbench/data/advbench/harmful_behaviors.csv", "advbench/harmful_behaviors.csv"),
        ("advbench/LICENSE", "advbench/LICENSE"),
        ("simple_safety_tests/SimpleSafetyTests - test cases.csv", "simple_safety_tests/simple_safety_tests.csv"),
        ("simple_safety_tests/LICENSE", "simple_safety_tests/LICENSE"),
        ("toxigen/LICENSE.txt", "toxigen/LICENSE.txt"),
        ("multijail/LICENSE", "multijail/LICENSE"),
        ("xsafety/LICENSE", "xsafety/LICENSE"),
        ("mt_bench/data/mt_bench/question.jsonl", "mt_bench/question.jsonl"),
        ("mt_bench/data/judge_prompts.jsonl", "mt_bench/judge_prompts.jsonl"),
        ("mt_bench/LICENSE", "mt_bench/LICENSE"),
        ("arena_hard/LICENSE", "arena_hard/LICENSE"),
    ):
        copy(src / source, OUT / target)


def toxigen_statements(line: str) -> list[str]:
    """The statements of one ToxiGen prompt: `- a\\n- b\\n-` with literal backslash-n separators."""
    out = []
    for part in line.strip().split("\\n"):
        part = part.strip()
        part = part[1:].strip() if part.startswith("-") else part
        if part:
            out.append(part)
    return out


def build_toxigen(src: Path) -> None:
    labels: dict[str, set[str]] = defaultdict(set)
    groups: dict[str, set[str]] = defaultdict(set)
    prompts = []
    for path in sorted((src / "toxigen/prompts").glob("*_1k.txt.gz")):
        polarity, _, group = path.name.removesuffix("_1k.txt.gz").partition("_")
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            lines = [line.rstrip("\n") for line in handle if line.strip()]
        for line in lines:
            for statement in toxigen_statements(line):
                labels[statement].add(polarity)
                groups[statement].add(group)
        numbered = list(enumerate(lines))
        chosen = key_order(numbered, lambda pair, name=path.name: f"{name}:{pair[0]}")[:TOXIGEN_PROMPTS_PER_FILE]
        for number, line in sorted(chosen):
            prompts.append({"id": f"{polarity}_{group}_{number}", "group": group, "polarity": polarity,
                            "prompt": line.replace("\\n", "\n")})
    statements = [
        {"text": text, "label": "hate" if labels[text] == {"hate"} else "neutral", "groups": sorted(groups[text])}
        for text in sorted(labels) if len(labels[text]) == 1  # a statement seen under both labels is dropped
    ]
    write_jsonl(OUT / "toxigen/statements.jsonl", statements)
    write_jsonl(OUT / "toxigen/prompts.jsonl", prompts)


def build_multilingual(src: Path) -> None:
    rows = read_csv(src / "multijail/data/MultiJail.csv")
    write_jsonl(OUT / "multijail/multijail_en_ar.jsonl",
                [{"id": r["id"], "source": r["source"], "tags": r["tags"], "en": r["en"], "ar": r["ar"]} for r in rows])
    pairs = []
    for ar_path in sorted((src / "xsafety/ar").glob("*.csv")):
        category = ar_path.stem
        en_path = next(p for p in sorted((src / "xsafety/en").glob(f"{category}*.csv")))
        ar_rows = [r[0].strip() for r in csv.reader(io.StringIO(ar_path.read_text(encoding="utf-8-sig"))) if r]
        en_rows = [r[0].strip() for r in csv.reader(io.StringIO(en_path.read_text(encoding="utf-8-sig"))) if r]
        rows = list(range(min(len(ar_rows), len(en_rows))))
        indices = key_order(rows, lambda i, category=category: f"{category}:{i}")
        for index in sorted(indices[:XSAFETY_PER_CATEGORY]):
            pairs.append({"id": f"{category}-{index}", "category": category, "row": index,
                          "en": en_rows[index], "ar": ar_rows[index]})
    write_jsonl(OUT / "xsafety/xsafety_en_ar.jsonl", pairs)


def build_prompts(src: Path) -> None:
    questions = src / "arena_hard/data/arena-hard-v0.1/question.jsonl"
    rows = [json.loads(line) for line in questions.open(encoding="utf-8")]
    kept = key_order(rows, lambda r: r["uid"])[:ARENA_HARD_PROMPTS]
    write_jsonl(OUT / "arena_hard/question_subset.jsonl", sorted(kept, key=lambda r: r["uid"]))
    text = (src / "tiny_corpus/tinystories/tinystories_validation_head.txt").read_text(encoding="utf-8")
    stories = [story.strip() for story in text.split("\n\n") if story.strip()][:TINYSTORIES_STORIES]
    write_jsonl(OUT / "perplexity/tinystories_validation.jsonl",
                [{"id": f"tinystories-val-{i}", "text": story} for i, story in enumerate(stories)])


def reward_pairs_hh(src: Path) -> list[dict]:
    with gzip.open(src / "hh_rlhf/harmless-base/test.jsonl.gz", "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    marker = "\n\nAssistant:"
    pairs = []
    for number, row in enumerate(rows):
        cut_c, cut_r = row["chosen"].rfind(marker), row["rejected"].rfind(marker)
        if cut_c != cut_r or row["chosen"][:cut_c] != row["rejected"][:cut_r] or row["chosen"].count("Human:") > 2:
            continue  # different histories, or more than two user turns (kept small)
        chosen, rejected = row["chosen"][cut_c + len(marker):].strip(), row["rejected"][cut_r + len(marker):].strip()
        if chosen and rejected and chosen != rejected:
            pairs.append({"id": f"hh-harmless-test-{number}", "section": "harmlessness", "subset": "hh-rlhf-harmless",
                          "prompt": hh_messages(row["chosen"][:cut_c]), "chosen": chosen, "rejected": rejected})
    return key_order(pairs, lambda p: p["id"])[: REWARD_PAIRS["harmlessness"]]


def hh_messages(transcript: str) -> list[dict]:
    messages = []
    for part in transcript.split("\n\n"):
        for prefix, role in (("Human:", "user"), ("Assistant:", "assistant")):
            if part.startswith(prefix):
                messages.append({"role": role, "content": part[len(prefix):].strip()})
                break
        else:
            if messages and part.strip():
                messages[-1]["content"] += "\n\n" + part.strip()
    return messages


def reward_pairs_xstest(src: Path) -> list[dict]:
    pairs = []
    for row in read_csv(src / "xstest/model_completions/xstest_v2_completions_mistralinstruct.csv"):
        label = "unsafe" if row["type"].startswith("contrast_") else "safe"
        if row["final_label"] != "1_full_compliance":
            continue
        user = [{"role": "user", "content": row["prompt"]}]
        if label == "safe":
            pairs.append({"id": f"xstest-{row['id']}", "section": "safety", "subset": "xstest-should-respond",
                          "prompt": user, "chosen": row["completion"], "rejected": REFUSAL})
        else:
            pairs.append({"id": f"xstest-{row['id']}", "section": "safety", "subset": "xstest-should-refuse",
                          "prompt": user, "chosen": REFUSAL, "rejected": row["completion"]})
    return [pair for subset in ("xstest-should-respond", "xstest-should-refuse")
            for pair in key_order([p for p in pairs if p["subset"] == subset], lambda p: p["id"])[
                : REWARD_PAIRS["safety"]]]


def reward_pairs_truthfulqa(src: Path) -> list[dict]:
    pairs = [{"id": f"truthfulqa-{i}", "section": "truthfulness", "subset": "truthfulqa-best",
              "prompt": [{"role": "user", "content": r["Question"]}], "chosen": r["Best Answer"],
              "rejected": r["Best Incorrect Answer"]}
             for i, r in enumerate(read_csv(src / "truthfulqa/TruthfulQA.csv")) if r["Best Incorrect Answer"]]
    return key_order(pairs, lambda p: p["id"])[: REWARD_PAIRS["truthfulness"]]


def reward_pairs_bbq(src: Path) -> list[dict]:
    pairs = []
    for row in bbq_rows(src):
        if row["context_condition"] != "disambig":
            continue
        wrong = [k for k, (_, group) in row["answer_info"].items()
                 if group != "unknown" and k != f"ans{row['label']}"]
        pairs.append({"id": f"bbq-{row['category']}-{row['example_id']}", "section": "bias",
                      "subset": f"bbq-{row['category']}",
                      "prompt": [{"role": "user", "content": f"{row['context']}\n{row['question']}"}],
                      "chosen": row[f"ans{row['label']}"], "rejected": row[wrong[0]]})
    return key_order(pairs, lambda p: p["id"])[: REWARD_PAIRS["bias"]]


def build_reward_bench(src: Path) -> None:
    pairs = reward_pairs_hh(src) + reward_pairs_xstest(src) + reward_pairs_truthfulqa(src) + reward_pairs_bbq(src)
    write_jsonl(OUT / "reward_bench/pairs.jsonl", sorted(pairs, key=lambda p: (p["section"], p["subset"], p["id"])))
    copy(src / "hh_rlhf/LICENSE", OUT / "reward_bench/licenses/HH-RLHF-LICENSE")
    copy(src / "truthfulqa/LICENSE", OUT / "reward_bench/licenses/TruthfulQA-LICENSE")


def mlma_label(sentiment: str) -> str | None:
    """MLMA's multi-label hostility: "normal" alone is non-toxic, no "normal" at all is toxic, a mix is dropped."""
    labels = set(sentiment.split("_"))
    if labels == {"normal"}:
        return "non_toxic"
    return None if "normal" in labels else "toxic"


ARABIC_BACKGROUND = 600


def build_judges(src: Path) -> None:
    """Training and test data of the toxicity judge: MLMA (en, ar) and OSACT2020 as text + label (ToxiGen's
    statements are in toxigen/). The judges' train/test split is made by the training script, by hash."""
    import zipfile

    out = OUT / "judges/toxicity"
    with zipfile.ZipFile(src / "mlma_hate_speech/hate_speech_mlma.zip") as archive:
        for language, member in (("en", "en_dataset_with_stop_words.csv"), ("ar", "ar_dataset.csv")):
            text = archive.read(f"hate_speech_mlma/{member}").decode("utf-8-sig")
            rows = [{"id": f"mlma-{language}-{r['HITId']}", "text": r["tweet"], "label": mlma_label(r["sentiment"])}
                    for r in csv.DictReader(io.StringIO(text))]
            write_jsonl(out / f"mlma_{language}.jsonl", [r for r in rows if r["label"] and r["text"].strip()])
    rows = read_csv_tsv(src / "osact2020_offensive_dev/sample_data/dataset_format_with_ref_labels.tsv")
    write_jsonl(out / "osact2020.jsonl", [{"id": f"osact-{r['ID']}", "text": r["text"],
                                           "label": "toxic" if r["Class"] == "OFF" else "non_toxic"} for r in rows])
    copy(src / "mlma_hate_speech/LICENSE", out / "LICENSE-MLMA")
    copy(src / "osact2020_offensive_dev/LICENSE", out / "LICENSE-OSACT2020")
    # Arabic neutral background (as TinyStories is for English): ArSarcasm-v2 training tweets that are neither
    # sarcastic nor negative, in a fixed hash order; everyday Arabic tweets in every dialect, none offensive by
    # their annotation, so the judge learns what an ordinary Arabic post looks like
    with (src / "arsarcasm_v2/ArSarcasm-v2/training_data.csv").open(encoding="utf-8", newline="") as handle:
        tweets = [r for r in csv.DictReader(handle) if r["sarcasm"] == "FALSE" and r["sentiment"] in ("NEU", "POS")]
    tweets.sort(key=lambda r: hashlib.sha256(r["tweet"].encode()).hexdigest())
    write_jsonl(out / "arsarcasm_background.jsonl",
                [{"id": f"arsarcasm-bg-{i}", "dialect": r["dialect"], "text": r["tweet"], "label": "non_toxic"}
                 for i, r in enumerate(tweets[:ARABIC_BACKGROUND])])
    copy(src / "arsarcasm_v2/LICENSE", out / "LICENSE-ArSarcasm")


def read_csv_tsv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not Path(argv[1]).is_dir():
        print(__doc__)
        return 2
    src = Path(argv[1])
    for step in (build_bbq, build_stereoset, build_copies, build_toxigen, build_multilingual, build_prompts,
                 build_reward_bench, build_judges):
        step(src)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
