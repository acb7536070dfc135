"""An annotator uses the real Argilla web UI in headless Chromium; the pull then contains the judgement.

Chromium is Debian's (`chromium` package, /usr/bin/chromium) driven by Playwright's Python client with
`executable_path` (no browser download); Selenium with `chromedriver` is used where Playwright is missing.
As root, with no network, Chromium needs the flags below and a fresh profile folder or it stalls.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time

import pytest

from alignlab.annotation import testing
from alignlab.annotation.pull import pull
from alignlab.annotation.push import push
from alignlab.annotation.state import Credentials, Paths
from alignlab.config.annotate import AnnotateConfig

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]
TIMEOUT_MS = 90_000


@pytest.fixture(scope="session")
def argilla(tmp_path_factory):
    server = testing.shared_server(tmp_path_factory.getbasetemp())
    yield server
    testing.stop_shared_server()


def _require_browser() -> str:
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium (apt-get install -y chromium chromium-driver)")
    try:
        import playwright.sync_api  # noqa: F401

        return "playwright"
    except ImportError:
        pass
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("needs playwright or selenium (pip install playwright; no browser download)")
    if not shutil.which("chromedriver"):
        pytest.skip("selenium needs Debian's chromium-driver")
    return "selenium"


def _wait(condition, timeout_s: float = TIMEOUT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the web UI's answer never reached the server")
        time.sleep(0.25)


def _annotate_with_playwright(url, username, password, dataset_id, shots, saved):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as runner:
        context = runner.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="alignlab-chromium-"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS)
        try:
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{url}/sign-in")
            page.fill("input[type=text]", username)
            page.fill("input[type=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/")
            page.goto(f"{url}/dataset/{dataset_id}/annotation-mode")
            page.get_by_text("A is better").click()
            page.screenshot(path=str(shots / "before-submit.png"))
            page.get_by_role("button", name="Submit").click()
            _wait(saved)  # keep the browser open until the server has the answer
        finally:
            context.close()


def _annotate_with_selenium(url, username, password, dataset_id, shots, saved):
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tempfile.mkdtemp(prefix='alignlab-chromium-')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which("chromedriver")))
    wait = WebDriverWait(driver, TIMEOUT_MS / 1000)
    try:
        driver.get(f"{url}/sign-in")
        wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "input[type=text]"))).send_keys(username)
        driver.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(password)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(ready.url_to_be(f"{url}/"))
        driver.get(f"{url}/dataset/{dataset_id}/annotation-mode")
        wait.until(ready.element_to_be_clickable((By.XPATH, "//*[contains(text(), 'A is better')]"))).click()
        driver.save_screenshot(str(shots / "before-submit.png"))
        wait.until(ready.element_to_be_clickable((By.XPATH, "//button[.//*[text()='Submit'] or text()='Submit']"))
                   ).click()
        _wait(saved)
    finally:
        driver.quit()


def test_annotator_submits_in_the_web_ui_and_the_pull_contains_it(argilla, tmp_path):
    driver = _require_browser()
    rows = [{"id": "ui-1", "prompt": "Which colour is the sky?", "chosen": "Blue.", "rejected": "Green."}]
    path = tmp_path / "ui.jsonl"
    path.write_text(json.dumps(rows[0]) + "\n")
    config = AnnotateConfig.model_validate(argilla.config(
        dataset={"name": "browser-test", "template": "pairwise"}, annotators=["uiuser"],
        push={"path": str(path)}, pull={"output_dir": str(tmp_path / "out")}))
    summary = push(config)
    password, _ = Credentials(argilla.server, Paths.of(argilla.server)).annotator_password("uiuser")
    owner = argilla.owner()

    def saved() -> bool:
        return bool(testing.records_by_external_id(owner, summary.dataset_id)["ui-1"].get("responses"))

    annotate = _annotate_with_playwright if driver == "playwright" else _annotate_with_selenium
    annotate(argilla.url, "uiuser", password, summary.dataset_id, tmp_path, saved)
    record_in_argilla = testing.records_by_external_id(owner, summary.dataset_id)["ui-1"]
    (response,) = record_in_argilla["responses"]
    assert response["status"] == "submitted" and response["values"] == {"preference": {"value": "a"}}
    order = json.loads(record_in_argilla["metadata"]["alignlab"])["order"]
    result = pull(config)
    assert (result.pulled, result.written) == (1, 1)
    (record,) = [json.loads(line) for line in (tmp_path / "out" / "records.jsonl").read_text().splitlines()]
    assert record["annotators"] == ["uiuser"]
    assert record["chosen"] == ["Blue.", "Green."][order[0]]  # "A is better": whatever was shown as A
    assert record["metadata"]["chosen_position"] == "a"
