"""Would pretrained word meaning help the refusal judge across models? The one pretrained encoder reachable offline.

    pip install wordllama                        # its wheel carries the weights (MIT); nothing is downloaded
    python benchmarks/judge_static_embeddings.py # ~6 min on two cores

No model hub is reachable from this project's machines, but one pretrained text encoder travels inside a package:
WordLlama's wheel ships `l2_supercat_256` (token embeddings cut from large language models' input layers and
trained for sentence similarity; 32,000 Llama-2 tokens x 256) and its tokenizer. This script reads those two
files directly (its own loader would ask the hub first), embeds a text as the L2-normalised mean of its tokens'
vectors (the package's own pooling), and measures, on the same cross-model test as `benchmarks/judges.py`:

1. a prompt-harm model on the embeddings (logistic regression, the prompts of `judge_prompt_harm.py`: other
   suites', never XSTest's), by its AUROC on XSTest's safe/unsafe prompt labels, next to the n-gram model's;
2. the judge with the response's embedding added to its features (the response only, so no feature reads the
   prompt alone), at two scales, and with the first sentence's embedding too.

Writes `benchmarks/results/judge_static_embeddings.json` and prints a table; deterministic.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

RESULTS = ROOT / "benchmarks" / "results" / "judge_static_embeddings.json"
WEIGHTS, TOKENIZER = "weights/l2_supercat_256.safetensors", "tokenizers/l2_supercat_tokenizer_config.json"
FORMS = {"none": (0.0, False), "response x0.5": (0.5, False), "response x1": (1.0, False),
         "response + first sentence x0.5": (0.5, True)}


class StaticEmbedder:
    """Mean of the tokens' pretrained vectors, L2-normalised; the first `max_tokens` tokens of a text."""

    def __init__(self, package: Path, max_tokens: int = 256) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        with safe_open(str(package / WEIGHTS), framework="np") as weights:
            self.vectors = weights.get_tensor("embedding.weight")
        self.tokenizer = Tokenizer.from_file(str(package / TOKENIZER))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.max_tokens = max_tokens

    def __call__(self, texts: list[str]) -> Any:
        import numpy as np

        out = np.zeros((len(texts), self.vectors.shape[1]), dtype=np.float32)
        for i, encoded in enumerate(self.tokenizer.encode_batch([t or " " for t in texts], add_special_tokens=False)):
            ids = np.clip(np.asarray(encoded.ids[: self.max_tokens] or [0]), 0, self.vectors.shape[0] - 1)
            mean = self.vectors[ids].mean(0)
            out[i] = mean / (np.linalg.norm(mean) + 1e-9)
        return out


def package_dir() -> Path | None:
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    return folder if (folder / WEIGHTS).is_file() and (folder / TOKENIZER).is_file() else None


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?؟])\s|\n", text.strip(), maxsplit=1)[0]


def main() -> int:
    import numpy as np
    from judge_prompt_harm import cross_model, harm_prompts, print_table
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from alignlab.eval.data import read_csv, suite_file
    from alignlab.eval.judges.training import refusal_rows

    package = package_dir()
    if package is None:
        print("error: this benchmark reads WordLlama's shipped weights; install them with `pip install wordllama`",
              file=sys.stderr)
        return 2
    start = time.perf_counter()
    embed = StaticEmbedder(package)
    harmful, harmless = harm_prompts()
    xstest = read_csv(suite_file("xstest", "xstest_prompts.csv"), required=("prompt", "label"))
    harm = LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000)
    harm.fit(embed(harmful + harmless), np.r_[np.ones(len(harmful)), np.zeros(len(harmless))])
    auroc = roc_auc_score([r["label"] == "unsafe" for r in xstest],
                          harm.predict_proba(embed([r["prompt"] for r in xstest]))[:, 1])
    rows = refusal_rows()
    responses = embed([r["response"] for r in rows])
    firsts = embed([first_sentence(r["response"]) for r in rows])

    def augment(index: list[int], x: Any, form: str) -> Any:
        scale, with_first = FORMS[form]
        if not scale:
            return x
        extra = np.hstack([responses[index], firsts[index]]) if with_first else responses[index]
        return hstack([x, csr_matrix(scale * extra)]).tocsr()

    out: dict[str, Any] = {"encoder": "WordLlama l2_supercat_256 (mean of token vectors, L2-normalised)",
                           "harm_model_auroc_on_xstest_prompt_labels": float(auroc),
                           "cross_model": cross_model(rows, list(FORMS), augment),
                           "command": "python benchmarks/judge_static_embeddings.py"}
    out["seconds"] = round(time.perf_counter() - start, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"prompt-harm model on the embeddings: AUROC on XSTest's safe/unsafe prompt labels {auroc:.3f}\n")
    print_table(out, "embedding feature")
    return 0


if __name__ == "__main__":
    sys.exit(main())
