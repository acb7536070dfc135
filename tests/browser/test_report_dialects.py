"""The report's "Languages and dialects" section in a real headless Chromium: per-dialect bars whose drawn
widths are the accuracies, the gaps to MSA, the paired unsafe-rate gaps and the judge line; no console errors.
The Markdown report carries the same numbers. A screenshot is taken (kept with ALIGNLAB_SCREENSHOT_DIR)."""

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
from tests.browser.test_report_browser import CHROMIUM, FLAGS, _playwright

ACCURACY = {"msa": [1, 1, 1, 0], "egypt": [1, 0, 0, 0], "gulf": [1, 1, 0, 0], "levant": [1, 1, 1, 1]}


def _write(folder: Path, suite: str, samples: list[dict]) -> None:
    info = {**describe(suite), "examples": {"available": len(samples), "evaluated": len(samples)},
            "metrics": build_suite(suite).metrics(samples, Stats(n_resamples=100))}
    write_suite(folder / suite, samples, info)


def _eval_folder(folder: Path) -> None:
    dialect_samples = [{"id": f"{d}{n}:0shot", "example_id": f"{d}{n}", "shots": 0, "dialect": d,
                        "text": "تغريدة <b>x</b>", "correct": bool(c)}
                       for d, flags in ACCURACY.items() for n, c in enumerate(flags)]
    _write(folder, "arabic_dialects", dialect_samples)
    safety = [{"id": f"p{n}:{lang}", "pair_id": f"p{n}", "language": lang, "prompt": "طلب", "response": "رد",
               "unsafe": unsafe, "judge": "string_match"}
              for n in range(4) for lang, unsafe in (("en", n == 0), ("egy", n < 3))]
    _write(folder, "dialect_safety", safety)
    (folder / "summary.json").write_text(json.dumps({"kind": "alignlab eval", "model": "tiny"}))


def test_dialect_section_renders_bars_with_intervals(tmp_path):
    sync_playwright = _playwright()
    _eval_folder(tmp_path / "eval")
    html_path, md_path = build_report([tmp_path / "eval"], [tmp_path / "report.html", tmp_path / "report.md"])
    markdown = md_path.read_text(encoding="utf-8")
    assert "## Languages and dialects" in markdown and "| Egyptian | 0.25 |" in markdown
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in (
                "error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            section = page.locator("#languages-and-dialects")
            assert section.count() == 1
            section.scroll_into_view_if_needed()
            shot = tmp_path / "dialects.png"
            page.screenshot(path=str(shot), full_page=True)
            chart = page.locator("[role=figure]", has_text="Sentiment accuracy per dialect").first
            rows = chart.locator(".drow")
            assert rows.count() == 4
            for i in range(4):
                row = rows.nth(i)
                name = row.locator(".dname").inner_text()
                key = {"MSA": "msa", "Egyptian": "egypt", "Gulf": "gulf", "Levantine": "levant"}.get(name, name)
                axis = row.locator(".daxis").bounding_box()
                bar = row.locator(".dbar").bounding_box()
                expected = sum(ACCURACY[key]) / 4
                assert bar["width"] / axis["width"] == pytest.approx(expected, abs=0.01), name
                assert row.locator(".dci").count() == 1  # the Wilson interval is drawn
            gaps = page.locator("[role=figure]", has_text="Gap to MSA").first.locator(".drow")
            assert gaps.count() == 3
            assert page.locator("[role=figure]", has_text="Paired unsafe-rate gaps").count() == 1
            assert page.get_by_text("judge string_match", exact=False).count() >= 1
            assert page.evaluate("document.scripts.length") == 0
        finally:
            browser.close()
    assert problems == []
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("ALIGNLAB_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report_dialects_test.png")
