"""Arabic pairwise preference: the pairwise task with guidelines, titles and answers in Arabic, shown right to left.

Everything an annotator reads is Arabic: the field titles (الطلب، الرد أ، الرد ب), the question and its three
answers, and the guidelines (which also ask annotators to judge dialect answers on their own terms: an
Egyptian or Levantine answer to a dialect question is not worse for not being MSA). The stored answer values
stay `a` / `b` / `tie`, so votes, agreement and the pull are exactly the pairwise template's.

Direction: Argilla renders Markdown fields left to right. Each text holding Arabic script is wrapped in a
`<div dir="rtl" lang="ar">` block (Markdown still applies inside it), so it is laid out right to left and a
mixed line (an English term inside Arabic) keeps the Unicode bidi order; text without Arabic is left as is.
The original texts travel in the hidden metadata, so the pull writes them back unwrapped.
"""

from __future__ import annotations

import json
from typing import Any

from alignlab.annotation.templates.base import HIDDEN_KEY, Item, label_question, text_field, text_question
from alignlab.annotation.templates.pairwise import PairwiseTemplate
from alignlab.data.arabic import has_arabic

CHOICES_AR = {"a": "الرد (أ) أفضل", "b": "الرد (ب) أفضل", "tie": "متساويان (كلاهما جيد أو كلاهما سيئ)"}
GUIDELINES_AR = """\
<div dir="rtl" lang="ar">

اقرأ الطلب أولًا، ثم الردين كليهما. اختر الرد **الأكثر فائدة وصدقًا وأمانًا**.

- اختر «متساويان» فقط عندما لا يكون أيٌّ من الردين أفضل من الآخر.
- لا تتأثر بترتيب الردين ولا بطولهما في حد ذاته.
- إذا كُتب الطلب بلهجة (مصرية أو شامية أو خليجية…)، فالرد باللهجة نفسها ليس أسوأ لأنه ليس بالفصحى؛ احكم على
  المعنى والفائدة.
- أضف تعليلًا قصيرًا عندما لا يكون الاختيار واضحًا.

</div>"""


def rtl(text: str) -> str:
    """Text with Arabic script wrapped in a right-to-left block (blank lines keep Markdown working inside)."""
    return f'<div dir="rtl" lang="ar">\n\n{text}\n\n</div>' if has_arabic(text) else text


class ArabicPairwiseTemplate(PairwiseTemplate):
    name = "arabic_pairwise"

    def settings(self, dataset, items: list[Item]) -> dict[str, Any]:
        settings = super().settings(dataset, items)
        questions = [label_question("preference", "أيّ الردين أفضل؟", CHOICES_AR)]
        if dataset.rationale:
            questions.append(text_question("rationale", "لماذا؟ (اختياري)"))
        return settings | {
            "fields": [text_field("prompt", "الطلب"), text_field("response_a", "الرد (أ)"),
                       text_field("response_b", "الرد (ب)")],
            "questions": questions,
            "guidelines": dataset.guidelines or GUIDELINES_AR,
        }

    def records(self, item: Item, dataset, seed: int) -> list[dict[str, Any]]:
        payloads = super().records(item, dataset, seed)
        for payload in payloads:
            info = json.loads(payload["metadata"][HIDDEN_KEY])
            info.setdefault("prompt", item.prompt)
            info.setdefault("responses", list(item.responses))
            payload["metadata"][HIDDEN_KEY] = json.dumps(info, ensure_ascii=False, separators=(",", ":"))
            payload["fields"] = {name: rtl(text) for name, text in payload["fields"].items()}
        return payloads
