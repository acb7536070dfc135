"""Report XSS in a real headless Chromium: prompts, responses, model names, input labels, sample ids and the title
hold script/HTML payloads (`<script>`, `<img onerror>`, `<svg onload>`, attribute break-outs, `javascript:` URLs);
the page must show them as text and run none of them.

The page carries a Content-Security-Policy that blocks every script, so a payload could be inert by the policy
alone while the escaping is broken. The page is therefore checked twice: as written, and with its CSP removed,
where only escaping stands between a payload and the browser. Every element also gets mouseover, focus and click
events, so that an injected handler attribute would fire. Chromium as in test_report_browser.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from alignlab.eval.runner import write_suite
from alignlab.eval.stats import Stats
from alignlab.eval.suite import build_suite, describe
from alignlab.report import build_report
from tests.browser.test_report_browser import CHROMIUM, FLAGS, _playwright

HIT = "window.__xss = (window.__xss || 0) + 1; document.title = 'pwned'"
PAYLOADS = [
    f"<script>{HIT}</script>",
    f'<img src=x onerror="{HIT}">',
    f'<svg onload="{HIT}"></svg>',
    f'"><script>{HIT}</script>',
    f"' onmouseover='{HIT}' x='",
    f'" onfocus="{HIT}" autofocus tabindex="1" x="',
    f"</pre><script>{HIT}</script><pre>",
    f'<a href="javascript:{HIT}">click</a>',
    f"javascript:{HIT}",
    f'<iframe srcdoc="<script>parent.{HIT}</script>"></iframe>',
    f"<details open ontoggle=\"{HIT}\"><summary>x</summary></details>",
]
ALL = " ".join(PAYLOADS)
FIRE_EVENTS = """() => { for (const el of document.querySelectorAll('*')) {
    for (const type of ['mouseover', 'focus', 'click', 'toggle']) el.dispatchEvent(new Event(type, {bubbles: true}));
    if (el.focus) el.focus(); } }"""


def _eval_folder(folder: Path, model: str) -> None:
    samples = [{"id": f"x-{i}-{payload}", "prompt": f"{payload} prompt {i}", "type": "homonyms",
                "label": "unsafe" if i % 2 else "safe", "response": f"{payload} response {i}", "refused": i % 3 == 0}
               for i, payload in enumerate(PAYLOADS)]
    info = {**describe("xstest"), "examples": {"available": 450, "evaluated": len(samples)},
            "metrics": build_suite("xstest").metrics(samples, Stats(n_resamples=50))}
    write_suite(folder / "xstest", samples, info)
    (folder / "summary.json").write_text(json.dumps({"kind": "alignlab eval", "model": model}))


def _inert(page, html: str) -> list[str]:
    """Load `html`, poke every element, and return what went wrong (empty when every payload stayed text)."""
    problems: list[str] = []
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.set_content(html, wait_until="load")
    page.evaluate(FIRE_EVENTS)
    page.wait_for_timeout(200)
    if page.evaluate("window.__xss"):
        problems.append(f"{page.evaluate('window.__xss')} payload(s) ran")
    if page.title() == "pwned":
        problems.append("the title was rewritten")
    found = page.evaluate("""() => ({
        scripts: document.scripts.length,
        elements: document.querySelectorAll('iframe, svg, object, embed, img[src="x"], a[href]').length,
        handlers: [...document.querySelectorAll('*')].flatMap(el => [...el.attributes]
            .filter(a => a.name.startsWith('on') || a.name === 'autofocus').map(a => el.tagName + ' ' + a.name)),
    })""")
    if found["scripts"] or found["elements"] or found["handlers"]:
        problems.append(f"injected markup became elements: {found}")
    return problems


def test_payloads_in_prompts_responses_and_model_names_render_as_text(tmp_path):
    sync_playwright = _playwright()
    _eval_folder(tmp_path / "base", f"base {PAYLOADS[0]} {PAYLOADS[1]}")
    _eval_folder(tmp_path / "tuned", f"tuned {PAYLOADS[4]} {PAYLOADS[7]}")
    page_path = build_report([tmp_path / "base", tmp_path / "tuned"], [tmp_path / "report.html"],
                             labels=[f"base {PAYLOADS[2]}", f"tuned {PAYLOADS[5]}"], title=f"xss {PAYLOADS[3]}",
                             examples_per_suite=len(PAYLOADS))[0]
    html = page_path.read_text()
    without_csp = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    assert without_csp != html, "the report should carry a Content-Security-Policy"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            for name, content in (("as written", html), ("without its CSP", without_csp)):
                page = browser.new_page()
                assert _inert(page, content) == [], name
                shown = page.inner_text("body")
                for payload in (PAYLOADS[0], PAYLOADS[1], PAYLOADS[7], PAYLOADS[9]):
                    assert payload in shown, f"{name}: {payload!r} is not shown as text"
                assert page.title() == f"xss {PAYLOADS[3]}"
                page.close()
        finally:
            browser.close()


@pytest.mark.parametrize("payload", PAYLOADS[:2])
def test_the_detector_sees_a_payload_that_does_run(tmp_path, payload):
    """The check itself: the same payload pasted unescaped into a page with no CSP is caught."""
    sync_playwright = _playwright()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            assert _inert(browser.new_page(), f"<html><body><pre>{payload}</pre></body></html>") != []
        finally:
            browser.close()
