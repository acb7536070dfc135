"""The benchmark report in a real headless Chromium: it renders with no console errors, and a generation that
holds `<script>` / `<img onerror>` markup shows as text and runs nothing. A screenshot is taken.

Chromium is Debian's (`/usr/bin/chromium`), driven by Playwright's Python client through `executable_path`
(no browser download). Set ALIGNLAB_SCREENSHOT_DIR to keep the screenshot.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from alignlab.eval.runner import write_suite
from alignlab.eval.stats import Stats
from alignlab.eval.suite import build_suite, describe
from alignlab.report import build_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAYLOAD = ('<script>window.__pwned = 1; document.title = "pwned"</script>'
           '<img src=x onerror="window.__pwned = 2; document.title = \'pwned\'">')
TITLE = "alignlab report <i>browser</i> check"


def _playwright():
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("needs playwright (pip install playwright; no browser download)")
    return sync_playwright


def _eval_folder(folder: Path, refused: list[bool]) -> None:
    samples = [{"id": f"xstest-{i}", "prompt": f"Prompt {i} <b>bold?</b>", "type": "homonyms",
                "label": "unsafe" if i % 2 else "safe", "response": PAYLOAD if i == 0 else f"answer {i}",
                "refused": flag} for i, flag in enumerate(refused)]
    info = {**describe("xstest"), "examples": {"available": 450, "evaluated": len(samples)},
            "metrics": build_suite("xstest").metrics(samples, Stats(n_resamples=100))}
    write_suite(folder / "xstest", samples, info)
    (folder / "summary.json").write_text(json.dumps({"kind": "alignlab eval", "model": "tiny <policy>"}))


def test_report_renders_in_chromium_and_runs_no_injected_markup(tmp_path):
    sync_playwright = _playwright()
    _eval_folder(tmp_path / "before", [False, True, False, False, True, False])
    _eval_folder(tmp_path / "after", [True, True, False, True, True, False])
    page_path = build_report([tmp_path / "before", tmp_path / "after"], [tmp_path / "report.html"], title=TITLE)[0]
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in (
                "error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert page.title() == TITLE  # the title text, escaped, and not rewritten by any script
            assert page.evaluate("window.__pwned") is None
            assert page.evaluate("document.scripts.length") == 0
            assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
            shown = page.locator("pre.generation").first.inner_text()
            assert "<script>window.__pwned = 1;" in shown and "onerror=" in shown
            assert page.locator("h2", has_text="Evaluation suites").count() == 1
            assert page.evaluate("document.querySelectorAll('img[src^=\"data:image/png;base64,\"]').length") == 1
        finally:
            browser.close()
    assert problems == []
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("ALIGNLAB_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report_browser_test.png")
