"""The Arabic pairwise template: Arabic settings, right-to-left wrapping of Arabic text only, originals kept in
the hidden metadata, and a pull that writes the unwrapped texts (votes are the pairwise template's)."""

from __future__ import annotations

import json

from alignlab.annotation.templates import TEMPLATES
from alignlab.annotation.templates.arabic_pairwise import GUIDELINES_AR, rtl
from alignlab.annotation.templates.base import HIDDEN_KEY, Item, display_order
from alignlab.data.arabic import has_arabic
from tests.unit.annotation.helpers import judged, section


def test_settings_are_in_arabic_with_the_pairwise_answer_values():
    settings = TEMPLATES.get("arabic_pairwise")().settings(section(template="arabic_pairwise"), [])
    (preference, rationale) = settings["questions"]
    options = preference["settings"]["options"]
    assert [o["value"] for o in options] == ["a", "b", "tie"]  # what votes, agreement and pull read
    assert all(has_arabic(o["text"]) for o in options) and has_arabic(preference["title"])
    assert has_arabic(rationale["title"]) and all(has_arabic(f["title"]) for f in settings["fields"])
    assert settings["guidelines"] == GUIDELINES_AR and 'dir="rtl"' in GUIDELINES_AR


def test_only_arabic_text_is_wrapped_right_to_left():
    assert rtl("مرحبا **بك**") == '<div dir="rtl" lang="ar">\n\nمرحبا **بك**\n\n</div>'
    assert rtl("plain English") == "plain English"


def test_records_wrap_the_fields_and_keep_the_originals_for_the_pull():
    template = TEMPLATES.get("arabic_pairwise")()
    item = Item("ar1", "ازيك؟", ["كويس الحمد لله", "fine"], [None, None], [None, None])
    (payload,) = template.records(item, section(template="arabic_pairwise"), seed=0)
    order = display_order("ar1", 2, 0)
    shown = [item.responses[i] for i in order]
    assert payload["fields"]["prompt"] == rtl("ازيك؟")
    assert [payload["fields"]["response_a"], payload["fields"]["response_b"]] == [rtl(t) for t in shown]
    info = json.loads(payload["metadata"][HIDDEN_KEY])
    assert info["prompt"] == "ازيك؟" and info["responses"] == ["كويس الحمد لله", "fine"]
    record = judged("ar1", {"u1": {"preference": "a"}}, order=order, fields=payload["fields"],
                    info={k: v for k, v in info.items() if k != "id"})
    out = template.output(record, section(template="arabic_pairwise"))
    assert out["prompt"] == "ازيك؟" and out["chosen"] == shown[0] and "<div" not in out["rejected"]
