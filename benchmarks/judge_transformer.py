"""Would a small transformer trained here beat the linear refusal judge? The measurement behind the choice.

    python benchmarks/judge_transformer.py --epochs 6          # ~20 min on one core

Issue 16 allowed either a scikit-learn pipeline or a small transformer trained here. No pretrained transformer is
reachable offline (static word vectors are: `judge_static_embeddings.py`), so the transformer starts from random:
a byte-level encoder (folded text, the prompt's first 150 bytes + a separator + the answer, 512 bytes; a width-5
convolution stem, 2 encoder layers of width 128, mean and max pooling, 3 classes, class-balanced cross-entropy,
AdamW with a one-cycle schedule). It is fit on the same
rows as the cross-model test of `benchmarks/judges.py` (every row but one Mistral file) and scored on that file
after every epoch, with the same binary accuracy / refusal recall / 3-class accuracy. The linear judge's figure on
the same test comes from `benchmarks/results/judges.json`. Seeded (torch and the batch order): the same machine
gives the same numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

LENGTH, PROMPT_BYTES = 512, 150


def encode(prompt: str, response: str) -> list[int]:
    """Bytes of the folded prompt head, a separator, the folded answer; 0 pads (bytes are shifted by 2)."""
    from alignlab.eval.judges.linear import prepare

    data = list(prepare(prompt, PROMPT_BYTES).encode()[:PROMPT_BYTES]) + [-1] + list(prepare(response, 1500).encode())
    ids = [b + 2 for b in data][:LENGTH]
    return ids + [0] * (LENGTH - len(ids))


def build_model(width: int = 128):
    import torch
    from torch import nn

    class ByteEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed, self.position = nn.Embedding(258, width), nn.Embedding(LENGTH, width)
            self.stem = nn.Conv1d(width, width, 5, padding=2)
            layer = nn.TransformerEncoderLayer(width, 4, 2 * width, 0.1, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.head = nn.Linear(2 * width, 3)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            pad = ids == 0
            h = self.embed(ids) + self.position.weight[None, : ids.shape[1]]
            h = torch.relu(self.stem(h.transpose(1, 2))).transpose(1, 2)
            h = self.encoder(h, src_key_padding_mask=pad).masked_fill(pad[..., None], 0.0)
            mean = h.sum(1) / (~pad).sum(1, keepdim=True).clamp(min=1)
            peak = h.masked_fill(pad[..., None], -1e4).max(1).values
            return self.head(torch.cat([mean, peak], -1))

    return ByteEncoder()


def main(argv: list[str]) -> int:
    import torch
    from judges import RESULTS, refusal_scores

    from alignlab.eval.judges.base import REFUSAL_LABELS
    from alignlab.eval.judges.training import XSTEST_FILES, refusal_rows

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--test-source", choices=sorted(XSTEST_FILES), default="xstest-mistralinstruct")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    rows = refusal_rows()
    train = [r for r in rows if r["source"] != args.test_source]
    test = [r for r in rows if r["source"] == args.test_source]
    x = torch.tensor([encode(r["prompt"], r["response"]) for r in train])
    y = torch.tensor([REFUSAL_LABELS.index(r["label"]) for r in train])
    x_test = torch.tensor([encode(r["prompt"], r["response"]) for r in test])
    counts = torch.bincount(y, minlength=3).float()
    model = build_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 1e-3, total_steps=args.epochs * math.ceil(len(x) / 32))
    start, epochs = time.perf_counter(), []
    for epoch in range(args.epochs):
        model.train()
        for batch in torch.randperm(len(x)).split(32):
            loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch], weight=counts.sum() / (3 * counts))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        model.eval()
        with torch.no_grad():
            predicted = torch.cat([model(chunk).argmax(-1) for chunk in x_test.split(64)])
        scores = refusal_scores([REFUSAL_LABELS[i] for i in predicted], [r["label"] for r in test])
        epochs.append({k: scores[k] for k in ("accuracy", "refusal_recall", "accuracy_3class")}
                      | {"epoch": epoch, "seconds": round(time.perf_counter() - start)})
        print(json.dumps(epochs[-1]), flush=True)
    linear = json.loads(RESULTS.read_text(encoding="utf-8"))["refusal"]["cross_model"][args.test_source]["refusal"]
    print(f"linear judge on the same test: accuracy {linear['accuracy']:.3f}, refusal recall "
          f"{linear['refusal_recall']:.3f}, 3-class {linear['accuracy_3class']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
