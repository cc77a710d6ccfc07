"""The collection report in a real browser: headless Chromium (Debian's package) via Selenium.

Checks what a person would see: no console errors, no network request, one table row per
bag, the failing bag visible, the filter and sorting work, nothing wider than the window
at 1280 and 390 px, an A4 print. Screenshots at both widths are kept as test artefacts in
``test-artifacts/report/`` (git-ignored; ``ARCHIVER_ARTIFACTS`` overrides the place). With
``ARCHIVER_UPDATE_DOCS=1`` the screenshot of the five statements' report is also written
to ``docs/report.png`` (the one the README shows).

``.ci/run`` installs ``chromium`` and ``chromium-driver``; where they cannot be installed
these tests are skipped, saying why.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_report_collect import EVIL_TITLE, NOW, make_collection

import archiver.cli as cli
from archiver.report.collect import collect
from archiver.report.render import render_page

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(os.environ.get("ARCHIVER_ARTIFACTS", ROOT / "test-artifacts")) / "report"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
if not (os.path.isfile(CHROMIUM) and os.path.isfile(CHROMEDRIVER)):
    pytest.skip(
        "headless Chromium is not installed here (Debian packages chromium and "
        "chromium-driver; .ci/run installs them)",
        allow_module_level=True,
    )

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.print_page_options import PrintOptions  # noqa: E402


def start_browser(profile: Path, *, script: bool = True) -> Any:
    """Headless Chromium with a fresh profile, logging the console and the network."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    if not script:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    return webdriver.Chrome(options=options, service=service)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    driver = start_browser(tmp_path / "chromium-profile")
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser_without_script(tmp_path: Path) -> Iterator[Any]:
    driver = start_browser(tmp_path / "chromium-profile-no-script", script=False)
    try:
        yield driver
    finally:
        driver.quit()


def set_width(driver: Any, width: int, height: int = 900) -> None:
    """Lay the page out as a window ``width`` CSS pixels wide (390: a phone)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def screenshot(driver: Any, path: Path, *, full: bool = True) -> None:
    """A PNG of the page (all of it with ``full``, else the window)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": full}
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def requests_made(driver: Any) -> list[str]:
    """Every URL the page asked for since the last call (from the DevTools log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def shown_rows(driver: Any) -> list[Any]:
    rows = driver.find_elements(By.CSS_SELECTOR, "#bag-table tbody tr")
    return [row for row in rows if row.is_displayed()]


def shown_ids(driver: Any) -> list[str]:
    """The ids of the table rows a person sees (one call, for long tables)."""
    ids: list[str] = driver.execute_script(
        "return Array.from(document.querySelectorAll('#bag-table tbody tr'))"
        ".filter(r => r.getClientRects().length > 0).map(r => r.id)"
    )
    return ids


def open_page(driver: Any, page: Path) -> None:
    """Load the page; the logs then hold only what it did."""
    driver.get("about:blank")
    driver.get_log("performance")
    driver.get_log("browser")
    driver.get(page.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"


@pytest.fixture
def five_statements(collection_copy: Path, tmp_path: Path) -> tuple[Path, Path, str]:
    """The seed collection audited, deposited, audited, one bag damaged, audited again:
    the report of it (path), the ledger and the damaged bag's name."""
    ledger = tmp_path / "ledger.sqlite"
    audit = ["audit", str(collection_copy), "--workers", "1", "--ledger", str(ledger)]
    bags = sorted(collection_copy.iterdir())
    assert cli.main(audit) == 0
    copies = tmp_path / "copies"
    copies.mkdir()
    deposit = ["deposit", *map(str, bags), "--to", copies.as_uri(), "--ledger", str(ledger)]
    assert cli.main(deposit) == 0
    assert cli.main(audit) == 0
    victim = bags[1]
    payload = sorted((victim / "data").iterdir())[0]
    data = bytearray(payload.read_bytes())
    data[100] ^= 0x01
    payload.write_bytes(bytes(data))
    assert cli.main(audit) == 1
    out = tmp_path / "report.html"
    assert cli.main(["report", "--ledger", str(ledger), "--out", str(out)]) == 1
    return out, ledger, victim.name


def test_the_five_statements_report_in_chromium(
    browser: Any, five_statements: tuple[Path, Path, str]
) -> None:
    page, _, victim = five_statements
    set_width(browser, 1280)
    open_page(browser, page)
    assert console_errors(browser) == []
    assert [url for url in requests_made(browser) if not url.startswith("data:")] == [page.as_uri()]

    rows = shown_rows(browser)
    assert len(rows) == 5
    first = rows[0]
    assert first.get_attribute("class") == "bad"
    assert first.find_element(By.TAG_NAME, "th").text == victim
    assert "checksum-mismatch" in first.text and first.is_displayed()
    assert "1 bag" in browser.find_element(By.CSS_SELECTOR, ".card.bad").text
    assert "passes" in browser.find_element(By.ID, "summary").text
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280
    screenshot(browser, ARTIFACTS / "five-statements-1280.png")
    if os.environ.get("ARCHIVER_UPDATE_DOCS") == "1":
        set_width(browser, 1280, 1500)
        screenshot(browser, ROOT / "docs" / "report.png", full=False)
        set_width(browser, 1280)

    # the problem links to the bag's row, the row to its history, the history to the run
    browser.find_element(By.CSS_SELECTOR, "ul.problems a").click()
    assert browser.execute_script("return location.hash") == "#b1"
    first.find_element(By.LINK_TEXT, "history").click()
    history = browser.find_element(By.ID, "h1")
    assert victim in history.text and "Not valid in 1 run" in history.text

    # the filter: by text, then by status
    search = browser.find_element(By.ID, "filter")
    search.send_keys(victim)
    assert [r.find_element(By.TAG_NAME, "th").text for r in shown_rows(browser)] == [victim]
    assert browser.find_element(By.ID, "count").text.startswith("Showing 1 of 1 matching")
    search.clear()
    search.send_keys("no such bag anywhere")
    assert shown_rows(browser) == []
    search.clear()
    search.send_keys(" ")  # an input event with an empty filter: every bag again
    assert len(shown_rows(browser)) == 5
    status = browser.find_element(By.ID, "status")
    status.find_element(By.CSS_SELECTOR, "option[value=valid]").click()
    assert len(shown_rows(browser)) == 4
    status.find_element(By.CSS_SELECTOR, "option[value=failing]").click()
    assert [r.find_element(By.TAG_NAME, "th").text for r in shown_rows(browser)] == [victim]
    status.find_element(By.CSS_SELECTOR, "option[value=all]").click()

    # sorting by the Bag column, both ways
    header = browser.find_element(By.CSS_SELECTOR, "#bag-table thead th button")
    header.click()
    names = [r.find_element(By.TAG_NAME, "th").text for r in shown_rows(browser)]
    assert names == sorted(names)
    header.click()
    names = [r.find_element(By.TAG_NAME, "th").text for r in shown_rows(browser)]
    assert names == sorted(names, reverse=True)
    th = browser.find_element(By.CSS_SELECTOR, "#bag-table thead th")
    assert th.get_attribute("aria-sort") == "descending"

    # a phone: nothing wider than the screen, the failing bag still first
    set_width(browser, 390, 844)
    open_page(browser, page)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    assert shown_rows(browser)[0].find_element(By.TAG_NAME, "th").text == victim
    screenshot(browser, ARTIFACTS / "five-statements-390.png")

    # A4: the print is a PDF of A4 pages
    options = PrintOptions()
    options.page_width = 21.0
    options.page_height = 29.7
    pdf = base64.b64decode(browser.print_page(options))
    assert pdf.startswith(b"%PDF")
    (ARTIFACTS / "five-statements-a4.pdf").write_bytes(pdf)
    assert b"/MediaBox [0 0 595" in pdf or b"/MediaBox[0 0 595" in pdf
    assert console_errors(browser) == []
    assert [u for u in requests_made(browser) if not u.startswith("data:")] == [page.as_uri()]


def test_without_script_the_page_is_a_plain_table(
    browser_without_script: Any, five_statements: tuple[Path, Path, str]
) -> None:
    browser = browser_without_script
    page, _, victim = five_statements
    set_width(browser, 1280)
    open_page(browser, page)
    rows = shown_rows(browser)
    assert len(rows) == 5 and rows[0].find_element(By.TAG_NAME, "th").text == victim
    assert not browser.find_element(By.CSS_SELECTOR, "form.controls").is_displayed()
    assert browser.find_element(By.ID, "h1").is_displayed()  # the histories are plain too
    assert browser.find_element(By.CSS_SELECTOR, "#chart-age svg").is_displayed()
    screenshot(browser, ARTIFACTS / "five-statements-no-script.png")


def test_a_script_in_a_title_shows_as_text_in_html_rows_and_script_rows(
    browser: Any, tmp_path: Path
) -> None:
    ledger, _ = make_collection(tmp_path / "c", titles={"a": EVIL_TITLE, "b": EVIL_TITLE})
    page = tmp_path / "evil.html"
    # one bag as an HTML row, the other two as data that the script turns into rows
    page.write_text(render_page(collect(ledger, now=NOW), plain_rows=1), encoding="utf-8")
    set_width(browser, 1280)
    open_page(browser, page)
    assert console_errors(browser) == []
    assert browser.execute_script("return document.scripts.length") == 2  # data + ours
    rows = shown_rows(browser)
    assert len(rows) == 3  # the script made the two data rows
    assert not browser.find_element(By.ID, "more").is_displayed()
    titles = [row.find_elements(By.TAG_NAME, "td")[0].text for row in rows]
    assert titles.count(EVIL_TITLE) == 2
    assert browser.execute_script("return document.scripts.length") == 2
    search = browser.find_element(By.ID, "filter")
    search.send_keys("<script>")
    assert len(shown_rows(browser)) == 2
    search.send_keys("no such thing")
    assert shown_rows(browser) == []
    # a link to a bag whose row is filtered out clears the filter and shows the row
    browser.execute_script("location.hash = '#b3'")
    assert browser.find_element(By.ID, "b3").is_displayed()
    assert search.get_attribute("value") == ""
    assert console_errors(browser) == []


def test_a_large_collection_pages_through_every_bag(browser: Any, tmp_path: Path) -> None:
    from bench.collection_report import make_corpus

    corpus = make_corpus(tmp_path / "corpus", 1_500, 3)
    page = tmp_path / "large.html"
    built = collect(corpus.ledger, now=NOW)
    failing = [row.identifier for row in built.failing_rows]
    page.write_text(render_page(built, plain_rows=100), encoding="utf-8")
    set_width(browser, 1280)
    open_page(browser, page)
    assert console_errors(browser) == []
    assert len(shown_ids(browser)) == 1_000
    assert browser.find_element(By.ID, "count").text.startswith("Showing 1,000 of 1,500")
    browser.find_element(By.ID, "more").click()
    assert shown_ids(browser) == [f"b{i}" for i in range(1, 1_501)]  # one row per bag
    assert not browser.find_element(By.ID, "more").is_displayed()
    heads = browser.execute_script(
        "return Array.from(document.querySelectorAll('#bag-table tbody th'))"
        f".slice(0, {len(failing)}).map(th => th.textContent)"
    )
    assert heads == failing
    search = browser.find_element(By.ID, "filter")
    search.send_keys("s001234")
    (row,) = shown_rows(browser)
    assert row.find_element(By.TAG_NAME, "th").text == "s001234"
    assert "Statement 1234 of" in row.text and "3 checks" in row.text
    search.clear()
    search.send_keys(" ")
    assert len(shown_ids(browser)) == 1_000
    # sorting by the last good check puts the failing bags' older checks first
    browser.find_elements(By.CSS_SELECTOR, "#bag-table thead th button")[2].click()
    first = browser.find_element(By.CSS_SELECTOR, "#bag-table tbody tr td:nth-of-type(2)")
    assert first.text.startswith("2026-01-01")
    assert console_errors(browser) == []
    assert [u for u in requests_made(browser) if not u.startswith("data:")] == [page.as_uri()]
