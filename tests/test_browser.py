"""The search page in a real browser: headless Chromium via Selenium types, submits, reads.

Needs Debian's `chromium` and `chromium-driver` (installed by `.ci/run`) and the `selenium`
package; skips with the reason where any is missing. Set QA_SCREENSHOT_DIR to keep screenshots
(`QA_SCREENSHOT_DIR=docs` remakes docs/search-page.png and docs/search-page-phone.png).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from qa.cli.render import where_text
from qa.interfaces.server import ServerSettings, create_app, running

QUESTION = "what did Peskov say about tanks"
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p), None)
DRIVER = shutil.which("chromedriver")


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    if CHROMIUM is None:
        return "no Chromium browser (apt-get install chromium)"
    if DRIVER is None:
        return "no chromedriver (apt-get install chromium-driver)"
    return None


# an end-to-end check (browser start-up included): the slow suite; tests/test_server.py covers
# the page and its API in the fast one
pytestmark = [pytest.mark.slow, pytest.mark.skipif(_missing() is not None, reason=str(_missing()))]


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-extensions", "--no-first-run", "--hide-scrollbars"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def base_url(real_seed_index_dir):
    with running(create_app(ServerSettings(real_seed_index_dir))) as base:
        yield base


def _shot(driver, name: str) -> None:
    folder = os.environ.get("QA_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))


@pytest.mark.parametrize("width,height,name", [(1000, 820, "search-page"), (390, 844, "search-page-phone")])
def test_type_a_question_and_read_the_first_source(browser, base_url, searcher, width, height, name):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(width, height)
    browser.get(base_url + "/")
    box = browser.find_element(By.NAME, "q")
    box.send_keys(QUESTION)
    box.submit()
    WebDriverWait(browser, 60).until(ec.presence_of_element_located((By.CSS_SELECTOR, "ol.results li")))
    _shot(browser, name)

    first = searcher.ask(QUESTION, k=5).hits[0]
    meta = first.source.meta
    source = browser.find_element(By.CSS_SELECTOR, "ol.results li .source").text
    for part in (meta.outlet, meta.date, meta.title):
        assert part in source
    where = browser.find_element(By.CSS_SELECTOR, "ol.results li .where").text
    assert where == where_text(first)
    assert browser.find_element(By.CSS_SELECTOR, "ol.results li mark").text == first.answer
    assert parse_qs(urlsplit(browser.current_url).query)["q"] == [QUESTION]  # bookmarkable

    # Nothing overflows sideways on a phone: the page fits its window.
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0

    browser.find_element(By.CSS_SELECTOR, "ol.results li .source a").click()
    WebDriverWait(browser, 60).until(ec.presence_of_element_located((By.TAG_NAME, "article")))
    assert browser.find_element(By.TAG_NAME, "h1").text == meta.title
    target = browser.find_element(By.ID, f"p{first.source.paragraph}")
    assert first.text in target.text


def test_page_loads_nothing_from_elsewhere(browser, base_url):
    browser.get(base_url + "/?q=" + QUESTION.replace(" ", "+"))
    urls = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert urls and all(u.startswith(base_url) for u in urls), urls
