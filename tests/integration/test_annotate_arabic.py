"""The Arabic pairwise template on the real Argilla server: Arabic guidelines, question and answers; Arabic text
laid out right to left in the real web UI (headless Chromium: computed `direction`, a screenshot kept with
ALIGNLAB_SCREENSHOT_DIR); an answer given in the UI round-trips through the pull with the original (unwrapped)
texts."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from alignlab.annotation import testing
from alignlab.annotation.pull import pull
from alignlab.annotation.push import push
from alignlab.annotation.state import Credentials, Paths
from alignlab.annotation.templates.arabic_pairwise import CHOICES_AR
from alignlab.config.annotate import AnnotateConfig
from tests.integration.test_annotate_browser import CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS, _require_browser, _wait

pytestmark = pytest.mark.slow

PROMPT = "ازاي أعمل كشري في البيت؟"
CHOSEN = "اسلق العدس والمكرونة، واطبخ الرز مع العدس، وحمّر البصل لحد ما يبقى دهبي (golden)."
REJECTED = "مش عارف."


@pytest.fixture(scope="session")
def argilla(tmp_path_factory):
    server = testing.shared_server(tmp_path_factory.getbasetemp())
    yield server
    testing.stop_shared_server()


def _config(argilla, tmp_path, name: str) -> AnnotateConfig:
    path = tmp_path / "ar.jsonl"
    path.write_text(json.dumps({"id": "ar-1", "prompt": PROMPT, "chosen": CHOSEN, "rejected": REJECTED},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    return AnnotateConfig.model_validate(argilla.config(
        dataset={"name": name, "template": "arabic_pairwise"}, annotators=["aruser"],
        push={"path": str(path)}, pull={"output_dir": str(tmp_path / "out")}))


def test_arabic_settings_reach_the_server(argilla, tmp_path):
    summary = push(_config(argilla, tmp_path, "arabic-settings"))
    owner = argilla.owner()
    dataset = owner.get(f"/api/v1/datasets/{summary.dataset_id}")
    assert 'dir="rtl"' in dataset["guidelines"] and "اختر الرد" in dataset["guidelines"]
    questions = owner.get(f"/api/v1/datasets/{summary.dataset_id}/questions")["items"]
    preference = next(q for q in questions if q["name"] == "preference")
    assert preference["title"] == "أيّ الردين أفضل؟"
    assert [o["text"] for o in preference["settings"]["options"]] == list(CHOICES_AR.values())
    record = testing.records_by_external_id(owner, summary.dataset_id)["ar-1"]
    assert record["fields"]["prompt"].startswith('<div dir="rtl" lang="ar">') and PROMPT in record["fields"]["prompt"]


def test_arabic_renders_right_to_left_in_the_web_ui_and_round_trips(argilla, tmp_path):
    if _require_browser() != "playwright":
        pytest.skip("the direction check reads computed styles through Playwright")
    from playwright.sync_api import sync_playwright

    config = _config(argilla, tmp_path, "arabic-browser")
    summary = push(config)
    password, _ = Credentials(argilla.server, Paths.of(argilla.server)).annotator_password("aruser")
    owner = argilla.owner()

    def saved() -> bool:
        return bool(testing.records_by_external_id(owner, summary.dataset_id)["ar-1"].get("responses"))

    with sync_playwright() as runner:
        context = runner.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="alignlab-chromium-"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS)
        try:
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{argilla.url}/sign-in")
            page.fill("input[type=text]", "aruser")
            page.fill("input[type=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url(f"{argilla.url}/")
            page.goto(f"{argilla.url}/dataset/{summary.dataset_id}/annotation-mode")
            prompt = page.get_by_text(PROMPT, exact=True)
            prompt.wait_for()
            direction = prompt.evaluate("node => getComputedStyle(node).direction")
            page.screenshot(path=str(tmp_path / "arabic-annotation.png"), full_page=True)
            assert direction == "rtl", "the Arabic prompt is not laid out right to left"
            assert page.get_by_text("أيّ الردين أفضل؟").count() >= 1  # the question, in Arabic
            page.get_by_text(CHOICES_AR["a"]).click()
            page.get_by_role("button", name="Submit").click()
            _wait(saved)
        finally:
            context.close()
    shot = tmp_path / "arabic-annotation.png"
    assert shot.stat().st_size > 10_000  # a real page, not a blank frame
    keep = os.environ.get("ALIGNLAB_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "annotate_arabic_test.png")
    result = pull(config)
    assert (result.pulled, result.written) == (1, 1)
    (record,) = [json.loads(line) for line in (tmp_path / "out" / "records.jsonl").read_text().splitlines()]
    order = json.loads(testing.records_by_external_id(owner, summary.dataset_id)["ar-1"]["metadata"]["alignlab"])
    assert record["prompt"] == PROMPT  # the original text, without the right-to-left wrapper
    assert record["chosen"] == [CHOSEN, REJECTED][order["order"][0]]  # "A is better": whatever was shown as A
    assert record["metadata"]["chosen_position"] == "a"
