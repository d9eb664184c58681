"""A real browser (Debian's headless Chromium, driven by Selenium) against ``heradecode serve``.

It logs in, runs a query in the builder, opens a product page with its plot, downloads the
packets CSV and checks its rows against the decode's packets.csv.  A screenshot of each page is
saved under the test's output folder (``<tmp_path>/screenshots``).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import heradecode
from tests.archive.helpers import free_port, require_services, wait_until
from tests.web.helpers import PASSWORDS, build_archive

CHROMIUM = os.environ.get("HERADECODE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HERADECODE_CHROMEDRIVER", "/usr/bin/chromedriver")
SRC = str(Path(heradecode.__file__).resolve().parents[1])


def _need_browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if missing:
        msg = f"browser test needs {', '.join(missing)} (Debian: apt-get install chromium chromium-driver)"
        if require_services():
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture
def server(tmp_path):
    arc = build_archive(tmp_path)
    port = free_port()
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "heradecode", "serve", "--archive", str(arc.folder),
                             "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=log)

    def up() -> bool:
        import urllib.request

        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).status == 200
        except OSError:
            return False

    try:
        assert wait_until(up, 60), (tmp_path / "serve.log").read_text()
        yield arc, f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def browser(tmp_path):
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1400", f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver, downloads
    finally:
        driver.quit()


@pytest.mark.slow
def test_browser_login_query_product_plot_csv(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    arc, base = server
    driver, downloads = browser
    shots = tmp_path / "screenshots"
    shots.mkdir()
    wait = WebDriverWait(driver, 30)

    def shot(name: str) -> None:
        assert driver.save_screenshot(str(shots / f"{name}.png"))

    driver.get(base + "/")
    assert "telemetry archive" in driver.find_element(By.TAG_NAME, "h1").text
    shot("1-landing")
    driver.find_element(By.ID, "login-link").click()
    wait.until(lambda d: d.find_elements(By.ID, "username"))
    driver.find_element(By.ID, "username").send_keys("tom")
    driver.find_element(By.ID, "password").send_keys(PASSWORDS["tom"])
    shot("2-login")
    driver.find_element(By.ID, "login-button").click()
    wait.until(lambda d: d.current_url.endswith("/dashboard"))
    assert driver.find_element(By.ID, "stats").text.count("\n") >= 3
    shot("3-dashboard")

    driver.get(base + "/products")
    Select(driver.find_element(By.ID, "field0")).select_by_visible_text("recording")
    Select(driver.find_element(By.ID, "op0")).select_by_visible_text("=")
    driver.find_element(By.ID, "value0").send_keys("embargoed_pass")
    Select(driver.find_element(By.ID, "join1")).select_by_visible_text("and")
    Select(driver.find_element(By.ID, "field1")).select_by_visible_text("apid")
    driver.find_element(By.ID, "value1").send_keys("260")
    driver.find_element(By.ID, "run-query").click()
    wait.until(lambda d: "value0=embargoed_pass" in d.current_url)
    assert driver.find_element(By.ID, "result-count").text.startswith("1 items")
    links = driver.find_elements(By.CLASS_NAME, "item-link")
    assert [a.text for a in links] == [str(arc.embargoed)]
    shot("4-products-query")

    links[0].click()
    wait.until(lambda d: d.current_url.endswith(f"/products/{arc.embargoed}"))
    img = driver.find_element(By.ID, "item-plot")
    wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 100)
    shot("5-product")

    driver.find_element(By.ID, "download-csv").click()
    target = downloads / "packets.csv"
    assert wait_until(lambda: target.exists() and not list(downloads.glob("*.crdownload")), 30)
    got = list(csv.DictReader(open(target)))
    want = list(csv.DictReader(open(arc.decode_dirs["embargoed"] / "packets.csv")))
    assert len(got) == len(want) > 0
    assert [(r["apid"], r["sequence_count"], r["data"]) for r in got] == \
        [(r["apid"], r["sequence_count"], r["data_hex"]) for r in want]
    assert {r["item"] for r in got} == {str(arc.embargoed)}

    driver.get(base + "/housekeeping?apid=260")
    img = driver.find_element(By.ID, "hk-plot")
    wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 100)
    shot("6-housekeeping")
    assert sorted(p.name for p in shots.iterdir()) == ["1-landing.png", "2-login.png", "3-dashboard.png",
                                                       "4-products-query.png", "5-product.png", "6-housekeeping.png"]
    out = os.environ.get("HERADECODE_TEST_OUTPUT")
    if out:  # keep the screenshots beyond pytest's temporary folders
        shutil.copytree(shots, Path(out) / "browser-screenshots", dirs_exist_ok=True)
