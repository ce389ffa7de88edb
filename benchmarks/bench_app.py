"""The app at province scale, measured in a real browser (issue 17, item 7).

Usage: python benchmarks/bench_app.py [--members 300000] [--seed 1] [--workers 2] [--keep]

Generates a case (``xeploai generate``) into a fresh case folder, times ``xeploai check`` on it, starts
``streamlit run app_streamlit.py`` on localhost and drives headless Chromium (Debian's, as the
real-browser test does) through what a staff member does: open the case from the case folder, solve
(the decisions page first), then every page; on «Kết quả» a search and a page turn; on «Giải trình»
«Tính chi phí»; on «Báo cáo» the buttons and a Word report built on demand. Prints, with the targets of
the issue:

- open: seconds from the click on «Mở hồ sơ» to the case's summary, against ``xeploai check`` (≤ 1,5×);
  when the first progress line was on the screen (≤ 1 s) and whether the button was disabled meanwhile;
- each page: seconds until idle, and the longest task that blocked the browser (≤ 1 s);
- «Tính chi phí»: seconds until the answer (≤ 2 s); «Báo cáo»: seconds until the buttons show;
- «Kết quả»: bytes the browser received for a search and a page turn (the table is paged on the server);
- the app's peak memory (VmHWM of the server process; ≤ 2 GB).

Screenshots go to ``artefacts/bench/`` (git-ignored). No assertion: it measures and prints.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("XEPLOAI_CHROMIUM", "/usr/bin/chromium")
ARTEFACTS = ROOT / "artefacts" / "bench"
WAIT_MS = 900_000
#: Collects the longest task that blocked the page's main thread (Chromium's Long Tasks API). The actions
#: find their elements by CSS, not by role: Playwright's role queries are long tasks of their own.
LONG_TASKS = """
window.__longest = 0;
new PerformanceObserver(list => { for (const e of list.getEntries())
  window.__longest = Math.max(window.__longest, e.duration); }).observe({type: 'longtask', buffered: true});
"""


#: Records each change of Streamlit's script state (running, notRunning…) with its time in the page.
WATCH_RUNS = """
window.__runs = [];
(function watch() {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) { setTimeout(watch, 20); return; }
  window.__runs.push([performance.now(), app.dataset.testScriptState]);
  new MutationObserver(muts => { const t = performance.now();
    for (const m of muts) window.__runs.push([t, m.oldValue], [t, m.target.dataset.testScriptState]); })
    .observe(app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']});
})();
"""
#: The time the run started after ``t`` ended (null while one runs; ``t`` itself when none started within 4 s).
RUN_ENDED = """([t]) => {
  const runs = window.__runs || [], now = performance.now();
  const busy = s => s === 'running' || s === 'rerunRequested';
  const last = runs.length ? runs[runs.length - 1] : null;
  if (last && busy(last[1])) return null;
  const started = runs.some(([at, s]) => at >= t && busy(s));
  if (!started) return now - t > 4000 ? t : null;
  return last[0];
}"""


def idle(page, since: float | None = None) -> float:
    """Wait until the run an action started (at ``since``, the page's clock) has ended; when it ended."""
    since = page.evaluate("() => performance.now()") if since is None else since
    handle = page.wait_for_function(RUN_ENDED, arg=[since], timeout=WAIT_MS, polling=50)
    return handle.json_value()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_memory_mib(pid: int) -> float:
    """The peak resident memory of a process (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def seconds(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


class Browser:
    """One page of headless Chromium on the app, with timing helpers."""

    def __init__(self, page):
        self.page = page
        self.received = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        self.received += len(payload) if isinstance(payload, (bytes, str)) else 0

    def now(self) -> float:
        return self.page.evaluate("() => performance.now()")

    def idle(self, since: float | None = None) -> float:
        """Wait for the run started since ``since`` to end; seconds from ``since`` to its end."""
        since = self.now() if since is None else since
        return (idle(self.page, since) - since) / 1000

    def longest_task(self) -> float:
        """The longest blocking task since the last call, in seconds (then reset)."""
        ms = self.page.evaluate("() => { const v = window.__longest; window.__longest = 0; return v; }")
        return ms / 1000

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTEFACTS / f"{name}.png"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the generated case folder")
    args = ap.parse_args()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("Cần gói playwright và Chromium (.ci/install-browser).")
        return 2
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="xeploai-bench-app-"))
    case = folder / f"tinh_{args.members}.json"
    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"browser and server on the same machine")
    subprocess.run([sys.executable, "-m", "solver", "generate", "--members", str(args.members), "--seed",
                    str(args.seed), str(case)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    size_mb = case.stat().st_size / 1e6
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "solver", "check", str(case)], cwd=ROOT, stdout=subprocess.DEVNULL,
                   env={**os.environ, "XEPLOAI_AUDIT": "off"})
    check = time.perf_counter() - start
    print(f"# case: {args.members:,} members, {size_mb:.1f} MB; xeploai check: {seconds(check)} s")

    port = free_port()
    env = {**os.environ, "XEPLOAI_CASE_DIR": str(folder), "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    log = open(folder / "server.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app_streamlit.py", "--server.port",
                               str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    rows: list[tuple[str, str, str, str]] = []
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = chromium.new_page(viewport={"width": 1366, "height": 900}, locale="vi-VN", accept_downloads=True)
            page.add_init_script(LONG_TASKS)
            page.add_init_script(WATCH_RUNS)
            b = Browser(page)
            page.goto(url)
            page.get_by_role("heading", name="Dữ liệu").wait_for(timeout=WAIT_MS)
            b.idle()
            if args.workers != 2:
                page.get_by_text("Thiết lập bộ giải").click()
                page.get_by_label("Số luồng tính toán").fill(str(args.workers))
                page.keyboard.press("Enter")
                b.idle()

            # open the case from the case folder
            page.get_by_role("tab", name="Thư mục hồ sơ").click()
            button = page.locator('[data-testid="stButton"] button', has_text="Mở hồ sơ")
            button.wait_for(timeout=WAIT_MS)
            b.longest_task()
            since = b.now()
            start = time.perf_counter()
            button.click()
            page.get_by_text("Đang đọc tệp").first.wait_for(timeout=WAIT_MS)
            first_line = time.perf_counter() - start
            disabled = button.is_disabled()
            page.get_by_role("heading", name=re.compile("Hồ sơ đang dùng")).wait_for(timeout=WAIT_MS)
            opened = b.idle(since)
            b.shot("01_mo_ho_so")
            rows.append(("Mở hồ sơ (từ thư mục)", seconds(opened), seconds(b.longest_task()),
                         f"{opened / check:.2f}× check (mục tiêu ≤ 1,5×); dòng tiến độ đầu sau {seconds(first_line)} s "
                         f"(≤ 1 s); nút bị vô hiệu khi đang chạy: {'có' if disabled else 'KHÔNG'}"))

            # the first solve: the decisions page
            since = b.now()
            page.locator('[data-testid="stButton"] button', has_text="Xếp loại và xem việc cần quyết định").click()
            page.get_by_role("heading", name="Việc cần quyết định").wait_for(timeout=WAIT_MS)
            page.get_by_text(re.compile("Đã giải xong trong")).first.wait_for(timeout=WAIT_MS)
            rows.append(("Giải lần đầu + «Việc cần quyết định»", seconds(b.idle(since)), seconds(b.longest_task()),
                         "tiến độ từng bước trên màn hình"))
            b.shot("02_viec_can_quyet_dinh")

            nav = page.locator('[data-testid="stSidebarNav"]')

            def act(label: str, do, note: str = "") -> None:
                """Time an action from the click to the end of the run it started, and the longest block."""
                since = b.now()
                do()
                took = b.idle(since)
                rows.append((label, seconds(took), seconds(b.longest_task()), note))

            for title in ("Kết quả", "Nhóm tỷ lệ", "Sơ đồ", "Giả định", "Giải trình", "Báo cáo", "Nhật ký", "Quy định",
                          "Dữ liệu", "Việc cần quyết định"):
                act(f"Trang «{title}»", lambda: nav.get_by_text(title, exact=True).click(),
                    "nút tải hiện ngay; tệp lập khi bấm" if title == "Báo cáo" else "")
                b.shot(f"03_{title}")

                if title == "Kết quả":
                    box = page.locator('[data-testid="stTextInput"] input').last  # CSS: no role queries timed
                    before = b.received

                    def search() -> None:
                        box.fill("chi bo thon 1")
                        box.press("Enter")

                    act("«Kết quả»: tìm theo chi bộ", search)
                    rows[-1] = (*rows[-1][:3], f"trình duyệt nhận {(b.received - before) / 1e6:.2f} MB")
                    box.fill("")
                    box.press("Enter")
                    b.idle()
                    turn = page.locator('[data-testid="stNumberInput"] input').last
                    before = b.received

                    def page_three() -> None:
                        turn.fill("3")
                        turn.press("Enter")

                    act("«Kết quả»: sang trang 3 của bảng đối tượng", page_three)
                    rows[-1] = (*rows[-1][:3], f"trình duyệt nhận {(b.received - before) / 1e6:.2f} MB")
                    b.shot("03_Kết quả_trang_3")

                if title == "Sơ đồ":
                    act("«Sơ đồ»: chỉ hiện các thay đổi", lambda: page.get_by_test_id("stCheckbox").get_by_text("Chỉ hiện các thay đổi").click())
                    b.shot("03_Sơ đồ_thay_doi")

                if title == "Giải trình":
                    act("«Giải trình»: Tính chi phí",
                        lambda: page.locator('[data-testid="stButton"] button', has_text="Tính chi phí").click(),
                        "trên phiên giải từng phần (mục tiêu ≤ 2 s)")
                    page.get_by_text(re.compile("Nếu giữ .*: (CÓ THỂ|KHÔNG THỂ)")).first.wait_for(timeout=WAIT_MS)
                    b.shot("04_tinh_chi_phi")

                if title == "Báo cáo":
                    start = time.perf_counter()
                    with page.expect_download(timeout=WAIT_MS) as info:
                        page.locator('[data-testid="stDownloadButton"] button', has_text="Tải báo cáo Word").click()
                    target = ARTEFACTS / info.value.suggested_filename
                    info.value.save_as(str(target))
                    rows.append(("«Báo cáo»: lập và tải báo cáo Word", seconds(time.perf_counter() - start),
                                 seconds(b.longest_task()), f"{target.stat().st_size / 1e6:.1f} MB"))
            chromium.close()
        peak = peak_memory_mib(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print()
    print("| việc | thời gian (s) | trình duyệt bị chặn lâu nhất (s) | ghi chú |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(f"Bộ nhớ đỉnh của ứng dụng (VmHWM): {peak:,.0f} MiB (mục tiêu ≤ 2.048 MiB)".replace(",", "."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
