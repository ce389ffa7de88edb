"""The Word reports of the shipped scenarios render the same everywhere: converted to PDF by LibreOffice (headless,
with a profile of its own), they keep a body of a few pages whatever the case size and appendices that grow with
it, no table column is narrower than its longest word (measured with the Liberation fonts, metric-compatible with
Times New Roman, and seen in the PDF: no word is broken), and their first pages are rendered to PNG into
``tests/artifacts/`` (git-ignored) for a person to look at.

LibreOffice, poppler-utils and the Liberation fonts come from ``.ci/install-libreoffice``. Without them the test is
skipped on a developer's machine and FAILS under CI (CI=true).
"""

from __future__ import annotations

import html
import math
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from model.loader import load_case
from solver.engine.solve import SolveOptions, solve
from solver.reports.word import build_docx

ROOT = Path(__file__).resolve().parents[1]
CASES = [*sorted((ROOT / "scenarios").glob("*.json")), ROOT / "tests" / "data" / "examples" / "05_conflicting_locks.json"]
ARTIFACTS = ROOT / "tests" / "artifacts"
TOOLS = ("soffice", "pdfinfo", "pdftotext", "pdftoppm")
FONT_DIRS = (Path("/usr/share/fonts/truetype/liberation2"), Path("/usr/share/fonts/truetype/liberation"))
#: The body (header to signature) in pages, whatever the case size.
BODY_PAGES = 4
#: Default left and right cell margins of a Word table: 0.19 cm (108 twips) each.
CELL_MARGINS_PT = 2 * 108 / 20


def _missing() -> str | None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"thiếu {', '.join(missing)} (chạy .ci/install-libreoffice)"
    if _font_file(False, False) is None:
        return "thiếu phông Liberation Serif (chạy .ci/install-libreoffice)"
    return None


def _font_file(bold: bool, italic: bool) -> Path | None:
    name = "LiberationSerif-" + {(False, False): "Regular", (True, False): "Bold", (False, True): "Italic",
                                 (True, True): "BoldItalic"}[bold, italic] + ".ttf"
    return next((d / name for d in FONT_DIRS if (d / name).exists()), None)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """{case stem: (loaded, result, docx path, pdf path, page texts)} for every case, converted in one run."""
    why = _missing()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Không kiểm tra được báo cáo Word bằng LibreOffice: {why}.")
        pytest.skip(why)
    out = tmp_path_factory.mktemp("bao_cao")
    made = {}
    for path in CASES:
        loaded = load_case(path)
        result = solve(loaded, SolveOptions(workers=2, time_limit=60))
        target = out / f"{path.stem}.docx"
        target.write_bytes(build_docx(loaded, result))
        made[path.stem] = (loaded, result, target)
    profile = tmp_path_factory.mktemp("lo_profile")
    proc = subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                           "--convert-to", "pdf", "--outdir", str(out), *[str(m[2]) for m in made.values()]],
                          capture_output=True, text=True, timeout=600)
    done = {}
    ARTIFACTS.mkdir(exist_ok=True)
    for stem, (loaded, result, target) in made.items():
        pdf = target.with_suffix(".pdf")
        assert pdf.exists(), f"LibreOffice không chuyển được {target.name}: {proc.stdout}\n{proc.stderr}"
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        pages = text.split("\f")
        if pages and not pages[-1].strip():
            pages.pop()
        for old in ARTIFACTS.glob(f"bao_cao_{stem}-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "4", str(pdf),
                        str(ARTIFACTS / f"bao_cao_{stem}")], check=True)
        done[stem] = (loaded, result, target, pdf, pages)
    return done


def _appendix_starts(pages: list[str]) -> dict[int, int]:
    """{appendix number: its first page (1-based)}, from the "PHỤ LỤC n" line heading it."""
    starts = {}
    for i, page in enumerate(pages, start=1):
        for line in page.splitlines():
            m = re.fullmatch(r"\s*PHỤ LỤC (\d+)\s*", unicodedata.normalize("NFC", line))
            if m:
                starts.setdefault(int(m.group(1)), i)
    return starts


@pytest.mark.parametrize("stem", [p.stem for p in CASES])
def test_the_body_stays_a_few_pages_and_appendices_grow_with_the_case(rendered, stem):
    loaded, result, _, pdf, pages = rendered[stem]
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert total == len(pages)
    starts = _appendix_starts(pages)
    assert sorted(starts) == list(range(1, len(starts) + 1)) and len(starts) >= 3, starts
    body = starts[1] - 1
    assert 1 <= body <= BODY_PAGES, f"phần thân {body} trang"
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in pages[0] and "BÁO CÁO" in pages[0]
    assert "Nơi nhận:" in pages[body - 1]  # the signature closes the body, before the appendices
    # each appendix within bounds that grow with what it lists
    ends = [*[starts[k + 1] for k in range(1, len(starts))], total + 1]
    spans = {k: ends[k - 1] - starts[k] for k in starts}
    titles = {k: pages[starts[k] - 1] for k in starts}
    for k, span in spans.items():
        title = titles[k]
        if "CÁC TRƯỜNG HỢP ĐIỀU CHỈNH" in title:
            n, low, high = len(result.changes), 12, 4
        elif "CÁC NHÓM TÍNH TỶ LỆ" in title:
            n, low, high = len(loaded.hierarchy.groups), 25, 6
        elif "CÁC VẤN ĐỀ CẦN XEM XÉT" in title:
            n, low, high = len(result.decisions), 12, 2
        elif "MÂU THUẪN NHAU" in title:
            n, low, high = len(result.conflicts), 30, 4
        else:  # the meeting order, the basis: a page or three whatever the size
            n, low, high = 0, 1, 1
        assert math.ceil(n / low) <= span <= math.ceil(n / high) + 3, (title.splitlines()[:3], n, span)


def _docx_tokens(document) -> set[str]:
    """Every whitespace-separated word of the document, NFKC."""
    texts = [p.text for p in document.paragraphs]
    stack = list(document.tables)
    while stack:
        t = stack.pop()
        for row in t.rows:
            for cell in row.cells:
                texts.extend(p.text for p in cell.paragraphs)
                stack.extend(cell.tables)
    return {unicodedata.normalize("NFKC", w) for text in texts for w in text.split()}


@pytest.mark.parametrize("stem", [p.stem for p in CASES])
def test_no_word_is_broken_in_the_pdf(rendered, stem):
    """A table column narrower than a word breaks the word over two lines (the group name one word per line, or
    "HTXSN" / "V"): every word of the PDF must be a word of the document."""
    _, _, target, pdf, pages = rendered[stem]
    known = _docx_tokens(docx.Document(str(target))) | {str(i) for i in range(1, len(pages) + 1)}
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    words = [unicodedata.normalize("NFKC", html.unescape(w)) for w in re.findall(r"<word [^>]*>([^<]*)</word>", boxes)]
    assert len(words) > 100
    broken = sorted({w for w in words if w not in known})
    assert not broken, f"những mảnh chữ không có trong văn bản (cột quá hẹp?): {broken[:20]}"


def _size_pt(run, paragraph) -> tuple[float, bool, bool]:
    """(size in points, bold, italic) of a run: its own, else its paragraph style's, else the document's."""
    style = paragraph.style
    size = run.font.size or (style.font.size if style is not None else None)
    while size is None and style is not None and style.base_style is not None:
        style = style.base_style
        size = style.font.size
    bold = run.bold if run.bold is not None else bool(paragraph.style is not None and paragraph.style.font.bold)
    italic = bool(run.italic)
    return (size.pt if size is not None else 14.0), bool(bold), italic


@pytest.mark.parametrize("stem", [p.stem for p in CASES])
def test_no_table_column_is_narrower_than_its_longest_word(rendered, stem):
    from PIL import ImageFont

    fonts: dict[tuple, ImageFont.FreeTypeFont] = {}

    def width(word: str, size: float, bold: bool, italic: bool) -> float:
        key = (size, bold, italic)
        if key not in fonts:
            fonts[key] = ImageFont.truetype(str(_font_file(bold, italic)), size=100)
        return fonts[key].getlength(word) * size / 100

    document = docx.Document(str(rendered[stem][2]))
    worst = []
    for t in document.tables:
        grid = [int(c.get(qn("w:w"))) / 20 for c in t._tbl.tblGrid.findall(qn("w:gridCol"))]
        seen: dict[tuple, float] = {}
        for row in t.rows:
            for col, cell in enumerate(row.cells):
                room = grid[col] - CELL_MARGINS_PT
                for p in cell.paragraphs:
                    for run in p.runs:
                        size, bold, italic = _size_pt(run, p)
                        for word in run.text.split():
                            key = (word, size, bold, italic, col)
                            if key not in seen:
                                seen[key] = width(word, size, bold, italic)
                            if seen[key] > room:
                                worst.append((t.rows[0].cells[col].text, word, round(seen[key], 1), round(room, 1)))
    assert not worst, f"cột hẹp hơn chữ dài nhất (cột, chữ, rộng chữ pt, chỗ pt): {sorted(set(worst))[:10]}"


def test_first_pages_are_rendered_for_a_person_to_look_at(rendered):
    for stem in rendered:
        pngs = sorted(ARTIFACTS.glob(f"bao_cao_{stem}-*.png"))
        assert len(pngs) >= 2 and all(p.stat().st_size > 2_000 for p in pngs), stem
