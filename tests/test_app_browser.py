"""End to end in a real browser: headless Chromium (Debian's) drives `streamlit run app_streamlit.py` on localhost.

Loads the ward scenario, solves it, and finds on the page a change with its reason; visits every page and
saves a screenshot of each into the system temp folder (``xeploai-screens/``). Without a browser the test
is skipped on a developer's machine and FAILS under CI (CI=true): `.ci/install-browser` installs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from model.levels import Level
from model.loader import load_case

ROOT = Path(__file__).resolve().parents[1]
WARD = ROOT / "scenarios" / "phuong_tan_loi_2018.json"
CHROMIUM = os.environ.get("XEPLOAI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENS = Path(tempfile.gettempdir()) / "xeploai-screens"
#: (sidebar title, heading, screenshot name) of the pages after «Kết quả».
PAGES = [("Nhóm tỷ lệ", "Nhóm tỷ lệ", "nhom_ty_le"), ("Sơ đồ", "Sơ đồ tổ chức", "so_do"),
         ("Giả định", "Giả định", "gia_dinh"), ("Giải trình", "Giải trình", "giai_trinh"),
         ("Báo cáo", "Báo cáo", "bao_cao"), ("Nhật ký", "Nhật ký", "nhat_ky"), ("Quy định", "Quy định", "quy_dinh")]
WAIT_MS = 60_000


def _browser_or_reason():
    """(sync_playwright, None) when Playwright and the system Chromium are there, else (None, why not)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None, "thiếu gói Python «playwright» (chạy .ci/install-browser)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return None, f"không có trình duyệt Chromium ở {CHROMIUM} (chạy .ci/install-browser)"
    return sync_playwright, None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sync_playwright():
    driver, why = _browser_or_reason()
    if driver is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Kiểm thử trên trình duyệt thật không chạy được: {why}.")
        pytest.skip(why)
    return driver


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app served on a free localhost port, with a case folder of its own; stopped (and waited for) at the end."""
    port = _free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
           "XEPLOAI_CASE_DIR": str(tmp_path_factory.mktemp("ho_so"))}
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app_streamlit.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--client.toolbarMode", "minimal"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail("Máy chủ Streamlit không khởi động được:\n" + log.read().decode("utf-8", "replace")[-3000:])
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


def _expected_change():
    """A subject the scenario's hand-checked ``expect`` block moves, with its target and expected level."""
    loaded = load_case(WARD)
    expect = json.loads(WARD.read_text(encoding="utf-8"))["expect"]["levels"]
    s = loaded.hierarchy.subjects["CB-TH"]  # the description: voted XS, a member capped at HTNV (E1, S3)
    return s.name, s.target_level(), Level[expect["CB-TH"]]


def _idle(page) -> None:
    """Wait until Streamlit has finished the current run."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=WAIT_MS)
    page.wait_for_timeout(300)


def _shot(page, name: str) -> None:
    """A screenshot of the whole page: the viewport is stretched to the height of Streamlit's scrolling main area."""
    height = page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                           " return m ? m.scrollHeight : 1000; }")
    page.set_viewport_size({"width": 1400, "height": max(1000, min(int(height) + 40, 8000))})
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENS / f"{name}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_load_solve_and_read_a_change_with_its_reason_in_a_real_browser(sync_playwright, server):
    SCREENS.mkdir(exist_ok=True)
    name, target, expected = _expected_change()
    assert target != expected  # the scenario moves this subject
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
            page.goto(server, wait_until="domcontentloaded")
            page.get_by_role("heading", name="Dữ liệu").wait_for(timeout=WAIT_MS)
            page.locator('[data-testid="stSelectbox"]').first.click()
            page.get_by_role("option", name=re.compile("phuong_tan_loi_2018")).click()
            page.get_by_role("button", name="Nạp hồ sơ mẫu").click()
            page.get_by_role("heading", name=re.compile("Hồ sơ đang dùng: Đảng bộ phường Tân Lợi")).wait_for(
                timeout=WAIT_MS)
            _idle(page)
            _shot(page, "0_du_lieu")

            page.get_by_role("button", name="Xếp loại và xem kết quả").click()
            page.get_by_role("heading", name="Các thay đổi và lý do").wait_for(timeout=WAIT_MS)
            block = page.locator('[data-testid="stMarkdown"]', has_text=f"{name} (CB-TH):").first
            block.wait_for(timeout=WAIT_MS)
            text = block.inner_text()
            assert f"{target.official} → {expected.official}" in text
            assert "S3" in text and "BMT II.B.1.3" in text  # the reason names its rule and citation
            assert "ĐÃ ĐƯỢC CHỨNG MINH" in page.locator("body").inner_text()
            _idle(page)
            _shot(page, "1_ket_qua")

            nav = page.locator('[data-testid="stSidebarNav"]')
            for i, (title, heading, slug) in enumerate(PAGES, start=2):
                nav.get_by_text(title, exact=True).click()
                page.get_by_role("heading", name=heading).first.wait_for(timeout=WAIT_MS)
                _idle(page)
                assert "Traceback" not in page.locator("body").inner_text()
                assert page.locator('[data-testid="stException"]').count() == 0, title
                _shot(page, f"{i}_{slug}")
        finally:
            browser.close()
