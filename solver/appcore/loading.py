"""Cases in and out of the app: the case folder, uploads, shipped scenarios, the workbook template, and the
process-wide shelves that keep a read case (and its solve) for every page and browser session.

A case is known by a small :class:`CaseSource` (where its file lies, its key in the audit log, the SHA-256
of its bytes, the rule profile chosen in the app): the session keeps only that, and the case itself is
read once — through the same path as ``xeploai check`` — and kept on a shelf, never as text in a session.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from model.case import KIND_LABELS, Kind, Tier, target_sources_text
from model.catalogue import load_catalogue, resolve_options
from model.errors import JSON_LISTS, CaseInvalid, InputProblem
from model.loader import MAX_BYTES, LoadedCase, no_gc, parse_case, parse_case_bytes, parse_json_text
from model.whatif import may_be_whatif
from solver import access, audit
from solver.appcore.words import nfc, num, profile_title, size
from solver.audit import DEFAULT_NAME as DEFAULT_AUDIT_NAME
from solver.audit import sha256_bytes

#: The shipped scenarios, beside the packages in the source tree.
SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
#: The files a case may be: a JSON case or a workbook.
CASE_SUFFIXES = (".json", ".xlsx", ".xlsm")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
#: Names in the case folder that belong to xeploai itself: an upload may never take them.
RESERVED_NAMES = frozenset(n.casefold() for n in (DEFAULT_AUDIT_NAME, access.PASSWORD_FILE))
MAX_NAME = 150

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


# ---- where a case comes from ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CaseSource:
    """Where the open case comes from: its file, its key in the audit log (shared by all its versions), the
    SHA-256 of the file's bytes, the name shown, and the rule profile chosen in the app (a workbook that
    names none); the session keeps this, the case itself lies on :data:`CASES`."""

    path: str
    key: str
    digest: str
    name: str
    profile: str | None = None

    @property
    def ident(self) -> str:
        """What the shelves know the case by: its bytes and the profile chosen for it."""
        return f"{self.digest}:{self.profile or ''}"

    @property
    def workbook(self) -> bool:
        return Path(self.path).suffix.lower() in WORKBOOK_SUFFIXES

    def state(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_state(cls, data: dict) -> CaseSource:
        return cls(**{f.name: data.get(f.name) for f in dataclasses.fields(cls)})


#: Kept for the callers of the earlier layout (a case kept in the case folder).
StoredCase = CaseSource


def case_folder() -> Path:
    """The app's case folder (``XEPLOAI_CASE_DIR``, default ``./ho_so``); not created until something is kept."""
    return access.case_dir()


def audit_log_path(folder: str | Path | None = None) -> Path | None:
    """The app's audit log: ``xeploai-audit.sqlite`` in the case folder unless ``XEPLOAI_AUDIT`` says otherwise
    (a path, or ``off``: None)."""
    return audit.audit_path_in(case_folder() if folder is None else folder)


# ---- reading a case: one pass, as ``xeploai check`` reads it --------------------------------------------


def _upload_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in CASE_SUFFIXES:
        raise CaseInvalid([InputProblem(name, "chỉ nhận tệp hồ sơ .json hoặc sổ tính .xlsx")])
    return suffix


def _whatif_given(name: str) -> CaseInvalid:
    return CaseInvalid([InputProblem(name, "đây là tệp giả định, không phải hồ sơ: hãy nạp hồ sơ gốc trước, "
                                           "rồi mở tệp giả định ở trang «Giả định»", field="whatif")])


def parse_text(text: str, name: str) -> LoadedCase:
    """A case from its JSON text; ``CaseInvalid`` (in Vietnamese, naming ``name``) when it is not valid."""
    with no_gc():
        data = parse_json_text(text, name)
        if isinstance(data, dict) and "whatif" in data:
            raise _whatif_given(name)
        try:
            return parse_case(data, name, nfc_done=True)
        except RecursionError:
            raise CaseInvalid([InputProblem(name, "dữ liệu lồng nhau quá sâu")]) from None


class _Head(msgspec.Struct):
    """What the app says before it reads a case: how many subjects, and whether it names its profile (the
    subjects as raw slices of the text, not parsed)."""

    subjects: list[msgspec.Raw] = []
    profile: Any = None


_HEAD = msgspec.json.Decoder(_Head)


def read_case(path: str | Path, name: str, say: Say = _quiet) -> tuple[LoadedCase, bool]:
    """(the case in the file at ``path``, whether it names its rule profile); errors name ``name``.

    A JSON file is read as ``xeploai check`` reads it (one parse, strings made NFC once, the garbage
    collector paused while the objects are built); a workbook through the Excel reader. ``say`` is told
    each step."""
    path = Path(path)
    suffix = _upload_suffix(name)
    try:
        length = path.stat().st_size
    except OSError as exc:
        raise CaseInvalid([InputProblem(name, f"không mở được tệp: {exc.strerror or exc}")]) from None
    if length > MAX_BYTES:
        raise CaseInvalid([InputProblem(name, f"tệp quá lớn ({size(length)}, tối đa {size(MAX_BYTES)})")])
    say(f"Đang đọc tệp «{name}» ({size(length)})…")
    if suffix in WORKBOOK_SUFFIXES:
        from model.excel import read_workbook_with_origins, validate_workbook_data

        with no_gc():
            data, origins = read_workbook_with_origins(path, name)
            named = bool(data.get("profile"))
            say(f"Đang kiểm tra {num(len(data.get('subjects') or []))} đối tượng…")
            return validate_workbook_data(data, origins, name), named
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaseInvalid([InputProblem(name, f"tệp không phải UTF-8 (byte lỗi ở vị trí {exc.start})")]) from None
    except OSError as exc:
        raise CaseInvalid([InputProblem(name, f"không đọc được tệp: {exc.strerror or exc}")]) from None
    if not may_be_whatif(raw):
        # a case: read as the command line reads it (``parse_case_bytes``: a valid case's subjects decoded
        # straight into the records, 2.1 s at 300,000 members instead of 4.0 through pydantic)
        del text
        with no_gc():
            try:
                head = _HEAD.decode(memoryview(raw)[3:] if raw.startswith(b"\xef\xbb\xbf") else raw)
                count, named = len(head.subjects), isinstance(head.profile, str) and bool(head.profile)
            except (msgspec.DecodeError, TypeError, RecursionError):  # not a case: the loader says what it is
                count, named = 0, False
            say(f"Đang kiểm tra {num(count)} đối tượng và dựng hệ thống tổ chức…")
            try:
                return parse_case_bytes(raw, name), named
            except RecursionError:
                raise CaseInvalid([InputProblem(name, "dữ liệu lồng nhau quá sâu")]) from None
    del raw
    with no_gc():
        data = parse_json_text(text, name)
        del text
        if isinstance(data, dict) and "whatif" in data:
            raise _whatif_given(name)
        named = isinstance(data, dict) and bool(data.get("profile"))
        count = len(data.get("subjects") or []) if isinstance(data, dict) and isinstance(data.get("subjects"),
                                                                                          list) else 0
        say(f"Đang kiểm tra {num(count)} đối tượng và dựng hệ thống tổ chức…")
        try:
            return parse_case(data, name, nfc_done=True), named
        except RecursionError:
            raise CaseInvalid([InputProblem(name, "dữ liệu lồng nhau quá sâu")]) from None


def with_profile(loaded: LoadedCase, profile: str | None) -> LoadedCase:
    """The same case under another rule profile (its options resolved again; nothing else is re-read).

    Glue of the app: a workbook that names no profile gets the one the user picks in words."""
    if profile is None or profile == loaded.case.profile:
        return loaded
    case = loaded.case.model_copy(update={"profile": profile})
    hierarchy = dataclasses.replace(loaded.hierarchy, case=case)
    out = LoadedCase(case, hierarchy, resolve_options(profile, case.options), list(loaded.warnings), loaded.source)
    out.__dict__["targets"] = loaded.targets
    return out


def load_source(source: CaseSource, say: Say = _quiet) -> LoadedCase:
    """The case a source names, read from its file (the profile chosen in the app applied)."""
    loaded, _ = read_case(source.path, source.name, say)
    return with_profile(loaded, source.profile)


def problem_rows(problems: list[InputProblem]) -> list[dict]:
    """Input problems as table rows: file, sheet, row, column, field, subject, message. A problem of a JSON
    file has no sheet and row but a place in one of its lists: «đối tượng thứ 42», not «subjects», 42."""
    rows = []
    for p in problems:
        item = JSON_LISTS.get(p.sheet or "")
        if item is not None and p.row is not None:
            sheet, row = "", f"{item} thứ {num(p.row)}"
        else:
            sheet, row = p.sheet or "", str(p.row) if p.row is not None else ""
        rows.append({"Tệp": p.file, "Trang": sheet, "Dòng": row, "Cột": p.column or "", "Trường": p.field or "",
                     "Đối tượng": p.subject or "", "Mức độ": "Cảnh báo" if p.warning else "Lỗi",
                     "Nội dung": p.message})
    return rows


# ---- shelves: what one app process keeps for every page and browser session -----------------------------


class _Recent:
    """The ``size`` most recently used entries of a mapping (callers hold their own lock)."""

    def __init__(self, size: int):
        self._size = size
        self._items: OrderedDict = OrderedDict()

    def get(self, key):
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key, value) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


class SessionShelf:
    """Things slow to make (a read case, a solved case), shared by reruns, pages and browser sessions: the
    ``size`` most recently used are kept. One asked for by two sessions at once is made once (the makers
    take turns: a second click on «Mở hồ sơ» waits for the first instead of reading the file again)."""

    def __init__(self, size: int = 2):
        self._items = _Recent(size)
        self._lock = threading.Lock()
        self._making = threading.Lock()

    def get(self, key):
        with self._lock:
            return self._items.get(key)

    def put(self, key, value) -> None:
        with self._lock:
            self._items.put(key, value)

    def busy(self) -> bool:
        """Whether something is being made now (by this or another session)."""
        return self._making.locked()

    def get_or_solve(self, key, make: Callable[[], Any], waiting: Callable[[], None] | None = None):
        """The item of ``key``, made by ``make()`` if it is not kept; ``waiting()`` is called first when
        another one is being made (this one waits for it: it may be the same)."""
        found = self.get(key)
        if found is not None:
            return found
        if not self._making.acquire(blocking=False):
            if waiting is not None:
                waiting()
            self._making.acquire()
        try:
            found = self.get(key)
            if found is None:
                found = make()
                self.put(key, found)
            return found
        finally:
            self._making.release()

    get_or_make = get_or_solve


#: The read cases of this app process (by ``CaseSource.ident``).
CASES = SessionShelf(size=2)


def open_case(source: CaseSource, say: Say | None = None, waiting: Callable[[], None] | None = None) -> LoadedCase:
    """The case of ``source``: from the shelf, or read from its file now (``say`` told the steps)."""
    return CASES.get_or_make(source.ident, lambda: load_source(source, say or _quiet), waiting)


# ---- the case folder ------------------------------------------------------------------------------------


def _plain_name(name: str, suffix: str) -> str:
    """An uploaded file's name made safe to keep in the case folder: no folders, no control characters, not
    hidden, not too long. ``CaseInvalid`` for a name that is one of xeploai's own files."""
    base = nfc(str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join("_" if unicodedata.category(c)[0] == "C" else c for c in base).strip()
    stem = base[: -len(suffix)] if base.lower().endswith(suffix) else Path(base).stem
    stem = stem.strip().lstrip(".").strip() or "ho_so"
    if len(stem) > MAX_NAME:
        stem = stem[:MAX_NAME].rstrip()
    plain = stem + suffix
    if plain.casefold() in RESERVED_NAMES:
        raise CaseInvalid([InputProblem(name, f"tên tệp «{plain}» trùng tên tệp riêng của xeploai trong thư mục "
                                              "hồ sơ: hãy đổi tên tệp rồi tải lên lại")])
    return plain


@contextlib.contextmanager
def _scratch(folder: str | Path, name: str):
    """A hidden working folder inside the case folder, removed on leaving (with the case folder itself
    when this call made it and it is empty again) — never the system's temporary folder."""
    folder = Path(folder)
    made = not folder.exists()
    try:
        access.ensure_case_dir(folder)
        tmp = Path(tempfile.mkdtemp(prefix=".tai-len-", dir=folder))
    except (access.AccessError, OSError) as exc:
        raise CaseInvalid([InputProblem(name, f"không ghi được vào thư mục hồ sơ «{folder}»: {exc}")]) from None
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if made:
            try:
                folder.rmdir()
            except OSError:
                pass


def store_upload(folder: str | Path, name: str, content: bytes, say: Say = _quiet
                 ) -> tuple[CaseSource, LoadedCase, bool]:
    """Check an uploaded case and keep it in the case folder under its own name (replacing an earlier file
    of that name: a new version of the same case keeps its history): (its source, the case, whether it
    names its profile). Nothing is kept when the case is not valid (``CaseInvalid``, naming ``name``); the
    file is read once, beside its place, and appears whole or not at all (renamed)."""
    folder = Path(folder)
    suffix = _upload_suffix(name)
    plain = _plain_name(name, suffix)
    target = folder / plain
    with _scratch(folder, name) as tmp:
        path = tmp / plain
        path.write_bytes(content)
        loaded, named = read_case(path, name, say)
        try:
            os.chmod(path, 0o600)  # party members' data: owner-only, whatever the folder was before
            os.replace(path, target)
        except OSError as exc:
            raise CaseInvalid([InputProblem(name, f"không lưu được tệp vào thư mục hồ sơ «{folder}»: {exc}")]) from None
    source = CaseSource(path=str(target), key=plain, digest=sha256_bytes(content), name=plain)
    return source, loaded, named


def load_upload(name: str, content: bytes, folder: str | Path | None = None) -> tuple[str, LoadedCase]:
    """An uploaded .json or .xlsx file read without keeping it: (the case's JSON text, the case); errors
    name ``name``. It goes through a hidden folder inside the case folder, removed at once."""
    suffix = _upload_suffix(name)
    with _scratch(case_folder() if folder is None else folder, name) as tmp:
        path = tmp / _plain_name(name, suffix)
        path.write_bytes(content)
        loaded, _ = read_case(path, name)
    return json.dumps(loaded.case.to_data(), ensure_ascii=False, indent=1), loaded


def folder_cases(folder: str | Path | None = None) -> list[dict]:
    """The case files kept in the case folder (xeploai's own files, what-if files and hidden ones left out)."""
    folder = case_folder() if folder is None else Path(folder)
    try:
        paths = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError:
        return []
    out = []
    for p in paths:
        if (p.suffix.lower() in CASE_SUFFIXES and not p.name.startswith(".")
                and p.name.casefold() not in RESERVED_NAMES and not _is_whatif_file(p)):
            stat = p.stat()
            out.append({"file": p.name, "path": str(p), "size": stat.st_size,
                        "modified": datetime.fromtimestamp(stat.st_mtime).strftime("%d/%m/%Y %H:%M")})
    return out


def _is_whatif_file(path: Path) -> bool:
    """A small JSON file with a ``whatif`` key (read only when small: a case is never read twice for this)."""
    if path.suffix.lower() != ".json":
        return False
    try:
        if path.stat().st_size > 256 * 1024:
            return False
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "whatif" in data


def folder_source(folder: str | Path, file: str) -> CaseSource:
    """The source of a case kept in the case folder (its bytes hashed, not yet read as a case)."""
    path = Path(folder) / file
    _upload_suffix(file)
    try:
        digest = audit.sha256_file(path)
    except OSError as exc:
        raise CaseInvalid([InputProblem(file, f"không đọc được tệp: {exc.strerror or exc}")]) from None
    return CaseSource(path=str(path), key=file, digest=digest, name=file)


def scenario_source(path: str | Path) -> CaseSource:
    """The source of a shipped case file (only read, never written), keyed ``scenarios/<file>``."""
    path = Path(path)
    return CaseSource(path=str(path), key=f"scenarios/{path.name}", digest=audit.sha256_file(path), name=path.name)


def needs_profile(source: CaseSource, loaded: LoadedCase) -> bool:
    """Whether the app must ask which rule profile applies: a workbook that names none (and none chosen)."""
    return source.workbook and source.profile is None and not loaded.case.profile


def open_folder_case(folder: str | Path, file: str, say: Say = _quiet) -> tuple[CaseSource, LoadedCase, bool]:
    """A case kept in the case folder, read where it lies: (source, case, whether it names its profile)."""
    source = folder_source(folder, file)
    loaded = open_case(source, say)
    return source, loaded, bool(loaded.case.profile)


def open_scenario(path: str | Path, say: Say = _quiet) -> tuple[CaseSource, LoadedCase]:
    """A shipped case file, only read (never written): its source and the case."""
    source = scenario_source(path)
    return source, open_case(source, say)


_SCENARIOS: dict[tuple, list[dict]] = {}


def list_scenarios(directory: Path = SCENARIO_DIR) -> list[dict]:
    """The case files shipped in ``scenarios/`` (what-if files left out): file name, path, case name, size.
    Read once per state of the folder (the data page is drawn often; the files are megabytes)."""
    try:
        state = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(directory.glob("*.json")))
    except OSError:
        state = ()
    key = (str(directory), state)
    if key not in _SCENARIOS:
        _SCENARIOS.clear()
        _SCENARIOS[key] = _read_scenarios(directory)
    return [dict(s) for s in _SCENARIOS[key]]


def _read_scenarios(directory: Path) -> list[dict]:
    out = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or "whatif" in data or not isinstance(data.get("subjects"), list):
            continue
        out.append({"file": path.name, "path": str(path), "name": nfc(str(data.get("name", path.stem))),
                    "subjects": len(data["subjects"])})
    return out


def read_text(path: str | Path) -> str:
    """A case file's text, NFC."""
    return nfc(Path(path).read_text(encoding="utf-8-sig"))


def read_case_file(path: str | Path) -> tuple[str, str]:
    """A shipped case file: (its text, NFC; the SHA-256 of its bytes). It is only read, never written."""
    content = Path(path).read_bytes()
    return nfc(content.decode("utf-8-sig")), sha256_bytes(content)


# ---- the workbook template -----------------------------------------------------------------------------


def template_bytes(loaded: LoadedCase | None = None) -> bytes:
    """The committee's workbook: the blank template (a few example rows, tinted, to delete), or the open
    case written into it (``model.excel_template``)."""
    from model.excel_template import template_bytes as make

    return make(None if loaded is None else loaded.case)


# ---- what a case holds ---------------------------------------------------------------------------------


def case_summary(loaded: LoadedCase) -> dict:
    """What a case holds: counts per kind and tier, quota groups, where targets come from, locks, S5 stages."""
    case, h = loaded.case, loaded.hierarchy
    counts = loaded.counts
    kinds, rated, tiers, sources = counts.kinds, counts.rated, counts.tiers, counts.sources
    groups = sorted(h.groups, key=lambda g: (-len(g.members), g.id))
    return {
        "name": case.name,
        "description": case.description or "",
        "profile": case.profile,
        "profile_title": profile_title(case.profile),
        "subjects": len(case.subjects),
        "kinds": [{"Loại đối tượng": KIND_LABELS[k], "Số lượng": num(kinds[k]),
                   "Được xếp loại": num(rated[k]) if k is not Kind.unit else "— (dữ liệu đầu vào)"}
                  for k in Kind if kinds[k]],
        "tiers": [{"Cấp tổ chức đảng": t.label, "Số lượng": num(tiers[t])} for t in Tier if tiers[t]],
        "groups": [{"Nhóm tỷ lệ": g.name, "Số đối tượng": num(len(g.members)),
                    "Khai báo trong hồ sơ": "có" if g.explicit else "tự lập"} for g in groups[:500]],
        "group_count": len(groups),
        "targets": {"votes": sources["votes"], "target": sources["target"], "proposed": sources["proposed"],
                    "score": sources["score"]},
        "targets_text": target_sources_text(sources),
        "locks": len(loaded.locks),
        "unrated": counts.unrated,
        "stages": h.rating_stage_count(loaded.options.rating_order),
        "warnings": [str(w) for w in loaded.warnings],
    }


_SUMMARIES = _Recent(4)
_SUMMARIES_LOCK = threading.Lock()


def summary_of(source: CaseSource, loaded: LoadedCase) -> dict:
    """:func:`case_summary` of an open case, made once (seconds for a province, on every visit otherwise)."""
    with _SUMMARIES_LOCK:
        found = _SUMMARIES.get(source.ident)
    if found is None:
        found = case_summary(loaded)
        with _SUMMARIES_LOCK:
            _SUMMARIES.put(source.ident, found)
    return found


def profile_in_force(loaded: LoadedCase) -> str:
    """The rule profile the case runs with, in words (the catalogue's default when the case names none)."""
    return profile_title(loaded.case.profile or load_catalogue().default_profile.id)



__all__ = [
    "CASES", "CASE_SUFFIXES", "CaseSource", "RESERVED_NAMES", "SCENARIO_DIR", "SessionShelf", "StoredCase",
    "WORKBOOK_SUFFIXES", "audit_log_path", "case_folder", "case_summary", "folder_cases", "list_scenarios",
    "folder_source", "load_source", "load_upload", "needs_profile", "open_case", "open_folder_case",
    "scenario_source", "open_scenario", "parse_text", "problem_rows",
    "profile_in_force", "read_case", "summary_of", "read_case_file", "read_text", "store_upload", "template_bytes",
    "with_profile",
]
