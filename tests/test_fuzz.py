"""Bad input never crashes: fuzzed JSON and workbooks, and the broken-file corpus, all end in a clear Vietnamese
``CaseInvalid`` and, through ``python -m solver check``, in exit code 2 without a traceback.

Known bugs are pinned by ``xfail(strict=True)`` tests that name the fix; the fuzzers leave out exactly what those
tests cover (lone surrogates and control characters in text, the NFC check of workbook messages), so that they stay
green until the fix lands, and then the marker must go (strict: a fixed bug fails its xfail test).
Set ``XEPLOAI_FUZZ_EXAMPLES=2000`` for a long random run; by default the examples are derandomized for CI.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import tomllib
import unicodedata
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.case import Case
from model.errors import CaseInvalid
from model.loader import LoadedCase, load_case, parse_case

ROOT = Path(__file__).resolve().parents[1]
BROKEN = ROOT / "tests" / "data" / "broken"
EXAMPLES = ROOT / "tests" / "data" / "examples"
EXIT_INVALID = 2

_VIETNAMESE_LETTER = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.IGNORECASE)
#: What Python or pydantic would print if an error escaped untranslated.
_ENGLISH = ("Input should", "Field required", "validation error", "Extra inputs", "Traceback", "Value error,")

_DEEP = int(os.environ.get("XEPLOAI_FUZZ_EXAMPLES", "0"))


def fuzz(examples: int):
    """Hypothesis settings: derandomized for CI; ``XEPLOAI_FUZZ_EXAMPLES`` turns on a long random run."""
    return settings(max_examples=_DEEP or examples, derandomize=not _DEEP, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def assert_clear(exc: CaseInvalid, file: str, *, nfc: bool = True) -> None:
    """A ``CaseInvalid`` a person can act on: at least one problem, each naming the file, in Vietnamese,
    printable as UTF-8 and (unless ``nfc`` is off) in NFC."""
    assert exc.problems, "CaseInvalid must carry at least one problem"
    text = str(exc)
    text.encode("utf-8")  # printable: no lone surrogate
    if nfc:
        assert unicodedata.is_normalized("NFC", text)
    for p in exc.problems:
        assert p.file == file
        assert _VIETNAMESE_LETTER.search(p.message), f"message is not Vietnamese: {p.message!r}"
        assert not any(e in p.message for e in _ENGLISH), p.message


def load_or_refuse(path: Path, *, nfc: bool = True) -> LoadedCase | None:
    """``load_case`` must either load or raise a clear ``CaseInvalid``; nothing else."""
    try:
        return load_case(path)
    except CaseInvalid as exc:
        assert_clear(exc, str(path), nfc=nfc)
        return None


# ---------------------------------------------------------------------------------------------
# The broken-file corpus (tests/data/broken): file → a fragment the message must contain
# ---------------------------------------------------------------------------------------------

CORPUS: dict[str, str] = {
    "binary_junk.json": "không phải UTF-8",
    "bom_only.json": "JSON sai cú pháp",
    "comments.json": "JSON sai cú pháp",
    "control_characters.json": "ký tự điều khiển",
    "csv_cp1258_renamed.xlsx": "không phải bảng tính .xlsx",
    "csv_renamed.json": "JSON sai cú pháp",
    "csv_renamed.xlsx": "không phải bảng tính .xlsx",
    "damaged_sheet_xml.xlsx": "nội dung XML bên trong tệp bị hỏng",
    "deep_nesting.json": "lồng nhau quá sâu",
    "deep_nesting_in_field.json": "lồng nhau quá sâu",
    "duplicate_keys.json": "hai lần",
    "empty.json": "JSON sai cú pháp",
    "empty.xlsx": "rỗng",
    "excel_97_2003.xls": "Excel 97–2003 (.xls) chưa được hỗ trợ, hãy lưu thành .xlsx",
    "huge_int_digits.json": "quá lớn",
    "huge_numbers.json": "phải nhỏ hơn hoặc bằng",
    "json_renamed.xlsx": "không phải bảng tính .xlsx",
    "lone_surrogate.json": "không hợp lệ",
    "merged_vote_cells.xlsx": "ô gộp (merge) D2:D3 trải trên dòng 2–3",
    "nan_infinity.json": "JSON không cho phép NaN hay Infinity",  # refused at parse (red-team item 12)
    "negative_counts.json": "phải lớn hơn hoặc bằng 0",
    "nfd_duplicate_ids.json": "bị trùng",
    "not_utf8_cp1258.csv": "không phải UTF-8",
    "not_utf8_cp1258.json": "không phải UTF-8",
    "raw_nul_bytes.json": "ký tự điều khiển",
    "single_quotes.json": "JSON sai cú pháp",
    "subjects_not_a_list.json": "phải là một danh sách",
    "top_level_list.json": "đối tượng JSON {…} ở cấp cao nhất",
    "top_level_null.json": "đối tượng JSON {…} ở cấp cao nhất",
    "top_level_number.json": "vượt giới hạn số thực",  # 1e999 would be read as infinity
    "top_level_string.json": "đối tượng JSON {…} ở cấp cao nhất",
    "trailing_comma.json": "JSON sai cú pháp",
    "truncated.json": "JSON sai cú pháp ở dòng 24",
    "two_documents.json": "dữ liệu thừa",
    "unicode_junk.json": "mức xếp loại không hợp lệ",
    "utf16.json": "không phải UTF-8",
    "very_hidden_sheet.xlsx": "bị ẩn hoàn toàn",
    "whitespace_only.json": "JSON sai cú pháp",
    "wrong_types.json": "phải là chữ, nhận được 2018",
    "xls_header.xlsx": ".xls",
    "zip_not_xlsx.xlsx": "không phải bảng tính",
    "zip_with_content_types_only.xlsx": "không đọc được bảng tính",
}

#: Known bugs, each with the exact fix (see the report of issue 8); the tests turn green when it lands.
BUGS: dict[str, str] = {}  # every bug this corpus found is fixed; a new one goes here with its fix


def xfail_bug(name: str):
    return pytest.mark.xfail(strict=True, reason=BUGS[name])


def corpus_params(names):
    return [pytest.param(n, marks=xfail_bug(n)) if n in BUGS else n for n in names]


def test_every_corpus_file_has_an_expectation_and_vice_versa():
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(CORPUS)
    assert all(p.stat().st_size <= 64 * 1024 for p in BROKEN.iterdir()), "the corpus holds small files only"


@pytest.mark.parametrize("name", corpus_params(sorted(CORPUS)))
def test_each_corpus_file_is_refused_with_a_clear_vietnamese_error(name):
    path = BROKEN / name
    with pytest.raises(CaseInvalid) as info:
        load_case(path)
    assert_clear(info.value, str(path))
    assert CORPUS[name] in str(info.value)


#: The app's upload path (solver/appcore.py) parses JSON text itself: the same bugs, its own places to fix.
APP_BUGS: dict[str, str] = {}
APP_FRAGMENT = {"not_utf8_cp1258.csv": "chỉ nhận tệp hồ sơ .json hoặc sổ tính .xlsx",
                "excel_97_2003.xls": "chỉ nhận tệp hồ sơ .json hoặc sổ tính .xlsx"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=APP_BUGS[n]))
                                  if n in APP_BUGS else n for n in sorted(CORPUS)])
def test_each_corpus_file_uploaded_to_the_app_is_refused_with_a_clear_vietnamese_error(name):
    from solver.appcore import load_upload

    with pytest.raises(CaseInvalid) as info:
        load_upload(name, (BROKEN / name).read_bytes())
    assert_clear(info.value, name)
    assert APP_FRAGMENT.get(name, CORPUS[name]) in str(info.value)


# ---------------------------------------------------------------------------------------------
# Generated workbooks (openpyxl, or edited archive parts): name → builder
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def base_xlsx() -> bytes:
    """A valid workbook: example 01 written with the template (one chi bộ, 13 members)."""
    from model.excel_template import template_bytes

    data = json.loads((EXAMPLES / "01_cap_20_percent.json").read_text(encoding="utf-8"))
    return template_bytes(Case.model_validate(data))


def member_sheet_name() -> str:
    from model.case import Kind
    from model.excel import KIND_SHEETS

    return KIND_SHEETS[Kind.member]


def edited(edit):
    def build(path: Path) -> None:
        wb = openpyxl.load_workbook(io.BytesIO(base_xlsx()))
        edit(wb)
        wb.save(path)
    return build


def rezip(path: Path, edit_parts=None, extra: dict[str, bytes] | None = None) -> None:
    """Rewrite the base workbook's archive, editing parts (name → bytes → bytes) and adding others."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base_xlsx())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if edit_parts:
                data = edit_parts(info.filename, data)
            dst.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    path.write_bytes(out.getvalue())


@functools.lru_cache(maxsize=1)
def member_sheet_part() -> str:
    """The archive part of the member sheet, found through xl/workbook.xml and its relationships."""
    with zipfile.ZipFile(io.BytesIO(base_xlsx())) as z:
        book = z.read("xl/workbook.xml").decode("utf-8")
        rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    sheets = re.finditer(r'<sheet [^>]*name="([^"]*)"[^>]*r:id="([^"]*)"', book)
    rid = {unescape_xml(m.group(1)): m.group(2) for m in sheets}[member_sheet_name()]
    target = re.search(rf'<Relationship [^>]*Target="([^"]*)"[^>]*Id="{rid}"', rels).group(1)
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def unescape_xml(text: str) -> str:
    from xml.sax.saxutils import unescape

    return re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))), unescape(text))


def on_member_sheet(change):
    """An archive edit applied to the sheet holding the member rows."""
    part = member_sheet_part()

    def edit(name: str, data: bytes) -> bytes:
        return change(data) if name == part else data
    return edit


def _clear_all(wb) -> None:
    for ws in wb.worksheets:
        ws.delete_rows(1, ws.max_row + 1)


def _only_default_sheet(wb) -> None:
    for ws in list(wb.worksheets):
        wb.remove(ws)
    wb.create_sheet("Sheet1")


def _formulas(wb) -> None:
    ws = wb[member_sheet_name()]
    ws["D2"] = "=1+1"            # openpyxl writes formulas without a cached value
    ws["E3"] = "=SUM(D2:D5)"
    ws["B4"] = '=CONCAT("Đảng viên ", "4")'


def _merged(wb) -> None:
    ws = wb[member_sheet_name()]
    ws.merge_cells("A1:C1")
    ws.merge_cells("D2:G4")
    ws.merge_cells("A8:A12")


def _huge_numbers(wb) -> None:
    ws = wb[member_sheet_name()]
    ws["D2"], ws["E2"], ws["F2"], ws["H2"] = 10**30, 1e308, -1e308, 10**18


def _wrong_types(wb) -> None:
    ws = wb[member_sheet_name()]
    ws["D2"] = datetime(2020, 1, 1)
    ws["B3"] = True
    ws["A4"] = 3.5
    ws["C5"] = time(1, 2)
    ws["D6"] = "mười"
    ws["E7"] = timedelta(days=2)


def _negative_counts(wb) -> None:
    ws = wb[member_sheet_name()]
    ws["D2"], ws["E3"] = -5, -1e9


def _long_text(wb) -> None:
    wb[member_sheet_name()]["B2"] = "Đảng viên " * 4000


def _truncated(path: Path) -> None:
    data = base_xlsx()
    path.write_bytes(data[: len(data) // 2])


def _truncated_central_directory(path: Path) -> None:
    data = base_xlsx()
    path.write_bytes(data[:-30])


def _docx_renamed(path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.add_paragraph("Báo cáo, không phải bảng tính")
    doc.save(path)


def _cell_value(raw: bytes):
    """Put a raw ``<v>`` into the first vote cell of the member sheet (``<c r="D13" t="n"><v>2</v></c>``)."""
    def change(data: bytes) -> bytes:
        new, n = re.subn(rb'(<c r="D13"[^>]*>)<v>[^<]*</v>', rb"\g<1><v>" + raw + rb"</v>", data)
        assert n == 1
        return new
    return lambda path: rezip(path, on_member_sheet(change))


def _damaged_sheet_xml(path: Path) -> None:
    rezip(path, on_member_sheet(lambda data: data[: len(data) // 2]))


def _external_link(path: Path) -> None:
    """A workbook linked to another file (Excel's [1]Sheet1!A1), as Excel writes it."""
    rel_ns = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"

    def edit(name: str, data: bytes) -> bytes:
        if name == "xl/workbook.xml":
            return data.replace(b"</workbook>", b'<externalReferences><externalReference xmlns:r="' + rel_ns
                                + b'" r:id="rIdX1"/></externalReferences></workbook>')
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(b"</Relationships>", b'<Relationship Type="' + rel_ns + b'/externalLink" '
                                b'Target="externalLinks/externalLink1.xml" Id="rIdX1"/></Relationships>')
        if name == "[Content_Types].xml":
            return data.replace(b"</Types>", b'<Override PartName="/xl/externalLinks/externalLink1.xml" '
                                b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
                                b'externalLink+xml"/></Types>')
        return on_member_sheet(lambda d: re.sub(rb'<c r="D13"[^>]*><v>[^<]*</v></c>',
                                                rb'<c r="D13"><f>[1]Sheet1!A1</f><v>2</v></c>', d))(name, data)

    link = (b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="' + rel_ns
            + b'"><externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames><sheetDataSet>'
            b'<sheetData sheetId="0"><row r="1"><cell r="A1"><v>2</v></cell></row></sheetData></sheetDataSet>'
            b'</externalBook></externalLink>')
    link_rels = (b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
                 b'Id="rId1" Type="' + rel_ns + b'/externalLinkPath" Target="file:///C:/phieu/phieu_bau.xlsx" '
                 b'TargetMode="External"/></Relationships>')
    rezip(path, edit, {"xl/externalLinks/externalLink1.xml": link,
                       "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels})


def _zip_bomb(path: Path) -> None:
    """The member sheet padded with 40 MB of spaces: a 40 kB file that unpacks 1000 times larger."""
    rezip(path, on_member_sheet(lambda d: d.replace(b"<sheetData>", b"<sheetData>" + b" " * (40 * 1024 * 1024), 1)))


GENERATED = {
    "empty_sheets.xlsx": (edited(_clear_all), None),
    "only_default_sheet.xlsx": (edited(_only_default_sheet), "thiếu trang"),
    "formulas_without_values.xlsx": (edited(_formulas), "công thức nhưng chưa có giá trị"),
    "merged_cells.xlsx": (edited(_merged), "thiếu cột «Họ và tên»"),
    "huge_numbers.xlsx": (edited(_huge_numbers), "phải nhỏ hơn hoặc bằng 1000000"),
    "wrong_types.xlsx": (edited(_wrong_types), "nhận được ngày giờ"),
    "negative_counts.xlsx": (edited(_negative_counts), "không được âm"),
    "long_text.xlsx": (edited(_long_text), "quá dài"),
    "truncated.xlsx": (_truncated, "không phải bảng tính .xlsx"),
    "truncated_central_directory.xlsx": (_truncated_central_directory, "không phải bảng tính .xlsx"),
    "docx_renamed.xlsx": (_docx_renamed, "không đọc được bảng tính"),
    "cell_number_5000_digits.xlsx": (_cell_value(b"9" * 5000), "không đọc được"),
    "cell_number_not_a_number.xlsx": (_cell_value("mười hai".encode()), "không đọc được"),
    "cell_number_infinite.xlsx": (_cell_value(b"1e999"), "inf"),
    "cell_number_nan.xlsx": (_cell_value(b"NaN"), "nan"),
    "damaged_sheet_xml.xlsx": (_damaged_sheet_xml, "không đọc được"),
    "external_link.xlsx": (_external_link, "liên kết"),
    "zip_bomb.xlsx": (_zip_bomb, None),
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("workbooks")
    out = {}
    for name, (build, _) in GENERATED.items():
        out[name] = folder / name
        build(out[name])
    return out


@pytest.mark.parametrize("name", corpus_params(sorted(GENERATED)))
def test_each_broken_workbook_is_refused_with_a_clear_vietnamese_error(generated, name):
    path = generated[name]
    with pytest.raises(CaseInvalid) as info:
        load_case(path)
    assert_clear(info.value, str(path))
    fragment = GENERATED[name][1]
    if fragment:
        assert fragment in str(info.value)


def test_the_base_workbook_of_the_generated_ones_is_valid(tmp_path):
    path = tmp_path / "goc.xlsx"
    path.write_bytes(base_xlsx())
    assert len(load_case(path).case.subjects) == 13  # so each refusal above is caused by its own damage


# ---------------------------------------------------------------------------------------------
# Through the CLI: exit code 2, no traceback (all files at once, a few processes in parallel)
# ---------------------------------------------------------------------------------------------

def run_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "solver", "check", str(path)], cwd=ROOT, capture_output=True,
                          timeout=180, env={**os.environ, "PYTHONIOENCODING": "utf-8", "XEPLOAI_AUDIT": "off"})


@pytest.fixture(scope="module")
def cli_runs(generated) -> dict[str, subprocess.CompletedProcess]:
    paths = {name: BROKEN / name for name in CORPUS} | generated
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = dict(zip(paths, pool.map(run_check, paths.values())))
    return runs


@pytest.mark.parametrize("name", corpus_params(sorted(CORPUS) + sorted(GENERATED)))
def test_check_exits_2_without_a_traceback(cli_runs, name):
    proc = cli_runs[name]
    out, err = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in out + err, out + err
    assert proc.returncode == EXIT_INVALID, out + err
    assert err == ""
    assert out.startswith("Hồ sơ không hợp lệ: ")


# ---------------------------------------------------------------------------------------------
# 10 MB of junk, generated here (never committed)
# ---------------------------------------------------------------------------------------------

TEN_MB = 10 * 1024 * 1024


def _junk_files(folder: Path) -> dict[str, Path]:
    rng = random.Random(10)
    files = {
        "junk_10mb.json": rng.randbytes(TEN_MB),
        "junk_10mb.xlsx": rng.randbytes(TEN_MB),
        "text_10mb.json": ("Đảng viên Nguyễn Văn A, phiếu XS 10, T 5; " * (TEN_MB // 45)).encode("utf-8"),
        "zip_junk_10mb.xlsx": b"PK\x03\x04" + rng.randbytes(TEN_MB),
    }
    out = {}
    for name, data in files.items():
        out[name] = folder / name
        out[name].write_bytes(data)
    return out


def test_ten_megabytes_of_junk_are_refused_quickly_and_cleanly(tmp_path):
    files = _junk_files(tmp_path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(files, pool.map(run_check, files.values())))
    for name, proc in runs.items():
        out = proc.stdout.decode("utf-8", "replace")
        assert proc.returncode == EXIT_INVALID and "Traceback" not in out + proc.stderr.decode("utf-8", "replace"), name
        assert len(out) < 4000, f"{name}: {len(out)} characters of output"


def test_a_ten_megabyte_value_gives_a_short_message(tmp_path):
    case = json.loads((EXAMPLES / "01_cap_20_percent.json").read_text(encoding="utf-8"))
    case["subjects"][1]["votes"]["XS"] = "Đ" * (TEN_MB // 2)
    path = tmp_path / "gia_tri_10mb.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CaseInvalid) as info:
        load_case(path)
    assert len(str(info.value)) < 2000


# ---------------------------------------------------------------------------------------------
# Hypothesis: random JSON-like values, and mutations of valid cases
# ---------------------------------------------------------------------------------------------

FIELDS = ["name", "subjects", "groups", "options", "profile", "expect", "description", "id", "kind", "parent",
          "tier", "leads", "heads", "category", "votes", "voters", "proposed", "target", "level", "lock", "rated",
          "may_rise", "facts", "members", "XS", "T", "TB", "K", "cap_percent", "cap_base", "allow_up",
          "sick_leave_months", "criteria", "task", "disciplined", "same_level_units", "levels", "objective"]
WORDS = ["XS", "T", "HT", "K", "TB", "xs", "Tốt", "party_org", "member", "collective", "leader", "unit",
         "grassroots", "branch", "upper", "CB", "DV1", "DV2", "DB", "bmt-2018", "bd-2020", "qd366-2025",
         "good_only", "good_and_above", "chi_uy", "",
         " ", "Đảng viên", unicodedata.normalize("NFD", "Đảng viên Hòa"), "\u0301", "T\u0301", "\u200bCB", "CB ",
         "\ufeff", "👩‍👩‍👧", "\u202eK", "ǅ", "ﬁ", "Ⅻ", "١٢", "１２"]
NUMBERS = st.one_of(
    st.integers(min_value=-10**30, max_value=10**30),
    st.sampled_from([0, -1, 1, 5, 15, 100, 10**6, 10**6 + 1, 2**31, 2**63, 2**64, 10**30, -10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, 1e308, -1e308, 1e-308, -0.0, 15.0]),
)
# text without lone surrogates nor control characters: those are pinned by their xfail tests above
TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=12)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT, st.sampled_from(WORDS))
KEYS = st.one_of(st.sampled_from(FIELDS), TEXT)
JSONISH = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
                       max_leaves=30)


@fuzz(300)
@given(JSONISH)
def test_random_json_values_never_crash_the_loader(value):
    try:
        parse_case(value, "ngau_nhien.json")
    except CaseInvalid as exc:
        assert_clear(exc, "ngau_nhien.json")


@fuzz(120)
@given(st.fixed_dictionaries({"name": SCALARS, "subjects": st.lists(
    st.dictionaries(st.sampled_from(FIELDS), JSONISH, max_size=8), max_size=6)}, optional={
    "groups": JSONISH, "options": st.dictionaries(st.sampled_from(FIELDS), SCALARS, max_size=3), "profile": SCALARS}))
def test_case_shaped_random_values_never_crash_the_loader(value):
    try:
        parse_case(value, "gan_dung.json")
    except CaseInvalid as exc:
        assert_clear(exc, "gan_dung.json")


@functools.lru_cache(maxsize=None)
def _valid(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


BASES = ["01_cap_20_percent.json", "03_quota_vs_head_collective.json", "04_branch_bounded_by_member.json",
         "05_conflicting_locks.json", "06_rerating_discipline.json"]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _parent(data, path):
    for step in path[:-1]:
        data = data[step]
    return data


@st.composite
def mutated_cases(draw) -> dict:
    """A valid example with one to four edits: a value replaced (wrong type, huge or negative number, junk
    text), a key deleted or added, a string turned NFD, a subject duplicated, the whole nested deeper."""
    data = copy.deepcopy(_valid(draw(st.sampled_from(BASES))))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "replace", "delete", "add", "nfd", "duplicate", "number"]))
        parent = _parent(data, path)
        if op == "replace":
            parent[path[-1]] = draw(JSONISH)
        elif op == "number":
            parent[path[-1]] = draw(NUMBERS)
        elif op == "delete":
            del parent[path[-1]]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(KEYS)] = draw(JSONISH)
        elif op == "nfd" and isinstance(parent[path[-1]], str):
            parent[path[-1]] = unicodedata.normalize("NFD", parent[path[-1]])
        elif op == "duplicate" and isinstance(data.get("subjects"), list) and data["subjects"]:
            data["subjects"].append(copy.deepcopy(draw(st.sampled_from(data["subjects"]))))
    return data


@fuzz(350)
@given(mutated_cases())
def test_mutations_of_valid_cases_never_crash_the_loader(data):
    try:
        parse_case(data, "bien_doi.json")
    except CaseInvalid as exc:
        assert_clear(exc, "bien_doi.json")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@fuzz(150)
@given(mutated_cases(), st.sampled_from(["none", "truncate", "insert", "replace", "delete"]),
       st.floats(0, 1), st.binary(min_size=1, max_size=4))
def test_damaged_json_files_never_crash_the_loader(scratch, data, damage, where, junk):
    text = json.dumps(data, ensure_ascii=bool(junk[0] % 2), indent=None if junk[0] % 3 else 1).encode("utf-8")
    at = int(where * len(text))
    if damage == "truncate":
        text = text[:at]
    elif damage == "insert":
        text = text[:at] + junk + text[at:]
    elif damage == "replace":
        text = text[:at] + junk + text[at + len(junk):]
    elif damage == "delete":
        text = text[:at] + text[at + len(junk):]
    path = scratch / "hong.json"
    path.write_bytes(text)
    load_or_refuse(path)


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_nfd_input_loads_to_the_same_case_as_nfc(tmp_path, form):
    raw = (EXAMPLES / "03_quota_vs_head_collective.json").read_text(encoding="utf-8")
    path = tmp_path / f"{form}.json"
    path.write_text(unicodedata.normalize(form, raw), encoding="utf-8")
    escaped = tmp_path / f"{form}_escaped.json"
    escaped.write_text(json.dumps(json.loads(unicodedata.normalize(form, raw)), ensure_ascii=True), encoding="utf-8")
    reference = load_case(EXAMPLES / "03_quota_vs_head_collective.json").case
    assert load_case(path).case == reference
    assert load_case(escaped).case == reference


@pytest.mark.parametrize("depth", [600, 5000])
def test_deeply_nested_data_is_refused_by_parse_case(depth):
    nested: object = 1
    for _ in range(depth):
        nested = {"a": nested}
    with pytest.raises(CaseInvalid) as info:
        parse_case({"name": "Lồng sâu", "subjects": [], "description": nested}, "long_sau.json")
    assert_clear(info.value, "long_sau.json")


# ---------------------------------------------------------------------------------------------
# Hypothesis: workbooks edited with openpyxl
# ---------------------------------------------------------------------------------------------

EXCEL_VALUES = st.one_of(
    st.none(), st.booleans(), st.sampled_from(["", " ", "\u00a0"]),
    st.sampled_from([10**30, -10**30, 10**18, 1e308, -1e308, 1e-308, 0.5, -1, 0, 1_000_001, 15.0]),
    st.integers(-10**6, 10**6),
    st.sampled_from([datetime(2020, 1, 1, 8, 30), date(1900, 1, 1), time(12, 0), timedelta(days=-3)]),
    st.sampled_from(["=1/0", "=A1", "=SUM(D2:D20)", '=VLOOKUP("x";A:B;2;FALSE)', "=[1]Sheet1!A1",
                     "#REF!", "#N/A", "#DIV/0!", "#VALUE!"]),
    st.sampled_from(["Hoàn thành xuất sắc nhiệm vụ", "hoàn thành tốt", "HTXSNV", "xs", "Có", "Không", "x", "DV1",
                     "CB", "CB, DV1", "Tổ chức cơ sở đảng", unicodedata.normalize("NFD", "Đảng viên Hòa"),
                     "Đảng viên " * 60, "1e3", "١٢", "15,0", " 15 ", "+7", "--3"]),
    st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=10),
)


@st.composite
def workbook_edits(draw) -> list[tuple]:
    edits = []
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["set", "set", "set", "merge", "clear", "remove", "rename", "insert_row",
                                   "insert_col", "add_sheet"]))
        sheet = draw(st.integers(0, 9))
        if op == "set":
            edits.append((op, sheet, draw(st.integers(1, 16)), draw(st.integers(1, 26)), draw(EXCEL_VALUES)))
        elif op == "merge":
            r, c = draw(st.integers(1, 14)), draw(st.integers(1, 20))
            edits.append((op, sheet, r, c, r + draw(st.integers(0, 3)), c + draw(st.integers(0, 3))))
        elif op in ("rename", "add_sheet"):
            edits.append((op, sheet, draw(st.sampled_from(["Sheet1", "Đảng viên", "dang vien", "Tùy chọn", "Nhóm",
                                                             "Kết quả mong đợi", "Đơn vị 2", "x" * 31]))))
        else:
            edits.append((op, sheet, draw(st.integers(1, 14))))
    return edits


def apply_edits(wb, edits) -> None:
    """Apply the edits openpyxl accepts (it refuses some itself, e.g. a value in a merged cell)."""
    for op, sheet, *args in edits:
        if not wb.worksheets:
            wb.create_sheet("Sheet1")
        ws = wb.worksheets[sheet % len(wb.worksheets)]
        try:
            if op == "set":
                r, c, value = args
                ws.cell(row=r, column=c, value=value)
            elif op == "merge":
                ws.merge_cells(start_row=args[0], start_column=args[1], end_row=args[2], end_column=args[3])
            elif op == "clear":
                ws.delete_rows(1, ws.max_row + 1)
            elif op == "remove":
                wb.remove(ws)
            elif op == "rename":
                if args[0] not in wb.sheetnames:
                    ws.title = args[0]
            elif op == "insert_row":
                ws.insert_rows(args[0])
            elif op == "insert_col":
                ws.insert_cols(args[0])
            elif op == "add_sheet":
                if args[0] not in wb.sheetnames:
                    wb.create_sheet(args[0]).append(["Mã", "Tên", 1, None, "=A1"])
        except (AttributeError, ValueError):  # openpyxl's own refusal, not the loader's business
            continue


@fuzz(40)
@given(workbook_edits())
def test_edited_workbooks_never_crash_the_loader(scratch, edits):
    wb = openpyxl.load_workbook(io.BytesIO(base_xlsx()))
    apply_edits(wb, edits)
    path = scratch / "sua.xlsx"
    wb.save(path)
    load_or_refuse(path, nfc=False)  # NFD quoted back: pinned by test_workbook_messages_quote_cells_in_nfc


def test_workbook_messages_quote_cells_in_nfc(tmp_path):
    wb = openpyxl.load_workbook(io.BytesIO(base_xlsx()))
    wb[member_sheet_name()].cell(row=2, column=30, value=unicodedata.normalize("NFD", "Đảng viên Hòa"))
    wb.create_sheet(unicodedata.normalize("NFD", "Danh sách bổ sung")).append(["dữ liệu"])
    path = tmp_path / "nfd.xlsx"
    wb.save(path)
    with pytest.raises(CaseInvalid) as info:
        load_case(path)
    assert len(info.value.problems) == 2
    assert_clear(info.value, str(path))


# ---------------------------------------------------------------------------------------------
# XML safety and oversized content
# ---------------------------------------------------------------------------------------------

def test_an_external_entity_in_a_sheet_never_reads_the_local_file(tmp_path):
    secret = tmp_path / "bi_mat.txt"
    secret.write_text("BI-MAT-0987", encoding="utf-8")
    dtd = f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'.encode()
    path = tmp_path / "xxe.xlsx"
    rezip(path, on_member_sheet(lambda d: dtd + d.replace(b"<t>DV12</t>", b"<t>&xxe;</t>")))
    try:
        loaded = load_case(path)
    except CaseInvalid as exc:
        assert_clear(exc, str(path))
        assert "BI-MAT" not in str(exc)
    else:
        assert "BI-MAT" not in json.dumps(loaded.case.to_data(), ensure_ascii=False)


def test_an_external_entity_in_the_workbook_part_never_reads_the_local_file(tmp_path):
    secret = tmp_path / "bi_mat.txt"
    secret.write_text("BI-MAT-0987", encoding="utf-8")
    dtd = f'<?xml version="1.0"?><!DOCTYPE workbook [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'.encode()
    sheet = member_sheet_name().encode()

    def edit(name: str, data: bytes) -> bytes:
        if name == "xl/workbook.xml":
            return dtd + data.replace(b'name="' + sheet + b'"', b'name="&xxe;"')
        return data

    path = tmp_path / "xxe_wb.xlsx"
    rezip(path, edit)
    with pytest.raises(CaseInvalid) as info:
        load_case(path)
    assert "BI-MAT" not in str(info.value)


def test_a_billion_laughs_sheet_is_refused_quickly(tmp_path):
    entities = '<!ENTITY l0 "ha">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    dtd = f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>'.encode()
    path = tmp_path / "laughs.xlsx"
    rezip(path, on_member_sheet(lambda d: dtd + d.replace(b"<t>DV12</t>", b"<t>&l9;</t>")))
    refusal = load_within(path, 10)
    assert refusal is not None
    assert_clear(refusal, str(path))


class _TimeUp(BaseException):
    """Raised by the alarm: a BaseException, so that no ``except Exception`` in the loader swallows it."""


class within:
    """Stop the block when it runs longer than ``seconds`` (SIGALRM, main thread); ``timed_out`` tells.

    The interruption is swallowed here (its traceback, cut at an arbitrary C call, is of no use)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.timed_out = False

    def __enter__(self) -> "within":
        def ring(signum, frame):
            raise _TimeUp()

        self.old = signal.signal(signal.SIGALRM, ring)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, kind, value, tb) -> bool:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.old)
        if kind is _TimeUp:
            self.timed_out = True
            return True
        return False


def load_within(path: Path, seconds: float) -> CaseInvalid | None:
    """The ``CaseInvalid`` of loading ``path`` (None if it loads); fails the test past ``seconds``."""
    refusal = None
    with within(seconds) as clock:
        try:
            load_case(path)
        except CaseInvalid as exc:
            refusal = exc
    if clock.timed_out:
        pytest.fail(f"loading took longer than {seconds} s", pytrace=False)
    return refusal


def test_a_sheet_declaring_a_billion_cells_is_refused_quickly(tmp_path):
    def change(data: bytes) -> bytes:
        data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', data)
        return data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is>'
                                              b"</c></row></sheetData>")

    path = tmp_path / "ty_o.xlsx"
    rezip(path, on_member_sheet(change))
    assert path.stat().st_size < 200_000
    refusal = load_within(path, 3)
    assert refusal is not None
    assert member_sheet_name() in str(refusal)


def _declared(dependency: str) -> bool:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    return any(re.match(rf"{dependency}\b", d) for d in deps)


def test_defusedxml_is_a_declared_dependency():
    assert _declared("defusedxml")


def test_openpyxl_parses_with_defusedxml():
    import openpyxl as opx

    assert opx.DEFUSEDXML is True
