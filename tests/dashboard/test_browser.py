"""The served page in a real headless Chromium: run a comparison, see the KPI table, no exception.

Starts `run.py dashboard` on a free loopback port, drives Debian's chromium through
chromedriver (selenium), opens a link asking for two replications and a light certificate
day, presses Run, waits for the key figures, saves a screenshot (copied to $MYNA_SCREENSHOT
when set, e.g. docs/dashboard.png), downloads the council report and stops the server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import ROOT, require
from tests.dashboard.page import LIGHT_CERTIFICATES, REPS, SCALE

pytestmark = pytest.mark.browser
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1440,1900", "--hide-scrollbars")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    """`run.py dashboard` on a free port; its URL. Stopped (by its pid) after the test."""
    port = free_port()
    log = open(tmp_path / "dashboard.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "dashboard", "--port", str(port)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _healthy(url):
            assert proc.poll() is None, (tmp_path / "dashboard.log").read_text()
            assert time.monotonic() < deadline, "the dashboard did not answer within 60 s"
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/_stcore/health", timeout=2).text == "ok"
    except httpx.HTTPError:
        return False


@pytest.fixture
def browser(tmp_path):
    """Debian's headless chromium through chromedriver, with a fresh profile."""
    require(CHROMIUM.exists() and CHROMEDRIVER.exists(), "Debian's chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def test_chromium_runs_a_comparison_sees_the_kpi_table_and_downloads_the_report(
        served, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    link = urlencode({"reps": REPS, "scale": SCALE, "set.certificates": LIGHT_CERTIFICATES})
    browser.get(f"{served}/?{link}")
    run = WebDriverWait(browser, 90).until(ec.element_to_be_clickable(
        (By.XPATH, "//button[contains(., 'Run the scenarios')]")))
    run.click()
    WebDriverWait(browser, 150).until(ec.visibility_of_element_located(
        (By.XPATH, "//*[contains(text(), 'replications ready in')]")))
    table = WebDriverWait(browser, 60).until(ec.visibility_of_element_located(
        (By.XPATH, "//h3[contains(., 'Key figures')]/following::*[@data-testid='stDataFrame'][1]")))
    assert table.size["height"] > 100
    WebDriverWait(browser, 30).until(lambda d: "shelter check-in wait" in table.get_attribute(
        "textContent"))  # the grid's accessible cells carry the key figures
    assert browser.find_elements(By.CSS_SELECTOR, "[data-testid='stException']") == []
    time.sleep(1.0)  # let the grid's canvas paint before the picture
    shot = tmp_path / "dashboard.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 20_000
    if os.environ.get("MYNA_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["MYNA_SCREENSHOT"])
    report = download_report(browser, tmp_path / "downloads")
    assert "## Key figures" in report.read("report.md").decode()
    assert {"costs.png", "map.png", "designs/baseline.toml"} <= set(report.namelist())


def download_report(browser, folder: Path) -> zipfile.ZipFile:
    """Open the Report tab, press the zip download and read the file Chromium saves."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    folder.mkdir()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(folder)})
    browser.find_element(By.XPATH, "//*[@role='tab'][contains(., 'Report')]").click()
    WebDriverWait(browser, 30).until(ec.element_to_be_clickable(
        (By.XPATH, "//button[contains(., 'Download report (.zip')]"))).click()
    target = folder / "report.zip"
    WebDriverWait(browser, 90).until(lambda _: target.exists() and target.stat().st_size > 0)
    return zipfile.ZipFile(target)
