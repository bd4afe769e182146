"""The page in a real headless browser (Debian's chromium driven by selenium + chromium-driver)
against uvicorn on 127.0.0.1: type a query, and the DOM holds result cards whose <video> plays
the moment from /media/...#t=start,end; the query lands in the URL and a shared URL reruns it."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or not Path(DRIVER).exists(),
    reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium; tools/setup.sh installs them as root)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(served: Path) -> Iterator[str]:
    import uvicorn

    from vidseek.serve.app import create_app

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(served), host="127.0.0.1", port=port,
                                        log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    for _ in range(400):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    th.join(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    pytest.importorskip("selenium", reason="selenium (vidseek[dev]) drives the browser")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_typing_a_query_shows_playable_cards(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/")
    box = browser.find_element(By.ID, "q")
    box.send_keys("a dog on a skateboard", Keys.ENTER)
    wait = WebDriverWait(browser, 60)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#results .card video")))
    cards = browser.find_elements(By.CSS_SELECTOR, "#results .card")
    assert cards and cards[0].get_attribute("data-video") == "dog"
    src = cards[0].find_element(By.TAG_NAME, "video").get_attribute("src")
    assert src == f"{server}/media/dog#t=4.00,8.00"
    assert "0:04.0" in cards[0].text and "0:08.0" in cards[0].text  # start / end visible
    assert cards[0].find_elements(By.CSS_SELECTOR, "svg.timeline text.tick")
    assert "q=a+dog+on+a+skateboard" in browser.current_url  # the search can be shared
    # the shared URL reruns the search on a fresh load
    browser.get(server + "/?q=download+the+dataset&top=3")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#results .card")))
    first = browser.find_elements(By.CSS_SELECTOR, "#results .card")[0]
    assert first.get_attribute("data-video") == "talk"
    assert browser.find_element(By.ID, "q").get_attribute("value") == "download the dataset"
