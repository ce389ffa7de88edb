"""Strict case loading: JSON (and, through ``model.excel``, workbooks) to a validated case and hierarchy."""

from __future__ import annotations

import gc
from datetime import date
import json
import math
import operator
import os
import re
import stat
import types
import typing
import unicodedata
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any

import msgspec
from pydantic import Field, TypeAdapter, ValidationError

from model.case import SCORE_BANDS, Case, CaseRecord, Kind, Subject, level_from_code, nfc_deep, records_pass_checks
from model.catalogue import RuleOptions, UnknownProfile, load_catalogue, resolve_options
from model.levels import Level
from model.errors import ID_PATTERN, CaseInvalid, InputProblem, os_error_text, pydantic_message
from model.hierarchy import Hierarchy, build, validate

MAX_BYTES = 512 * 1024 * 1024

#: The json module's messages, in Vietnamese.
JSON_MESSAGES = {
    "Expecting value": "thiếu giá trị (hoặc có ký tự lạ)",
    "Expecting property name enclosed in double quotes": "tên trường phải đặt trong dấu ngoặc kép \"…\"",
    "Expecting ',' delimiter": "thiếu dấu phẩy giữa hai phần tử",
    "Expecting ':' delimiter": "thiếu dấu hai chấm sau tên trường",
    "Unterminated string starting at": "chuỗi chưa đóng dấu ngoặc kép",
    "Extra data": "có dữ liệu thừa sau phần JSON chính",
    "Invalid control character at": "có ký tự điều khiển không hợp lệ trong chuỗi",
    "Invalid \\escape": "ký tự thoát (\\) không hợp lệ",
    "Illegal trailing comma before end of object": "dấu phẩy thừa trước dấu }",
    "Illegal trailing comma before end of array": "dấu phẩy thừa trước dấu ]",
}


@dataclass
class LoadedCase:
    """A case that passed every check, with its hierarchy, resolved options and warnings."""

    case: Case
    hierarchy: Hierarchy
    options: RuleOptions
    warnings: list[InputProblem]
    source: str

    @cached_property
    def targets(self) -> dict[str, Level]:
        """The target of every decided subject, in file order (computed once: V1 counting is not free)."""
        return {s.id: s.target_level() for s in self.case.subjects if s.decided}

    @cached_property
    def ranks_by(self) -> tuple[bool, bool]:
        """(any subject ranked by its score, any by its ballots): what the quota ranking compares in this case
        (``Subject.target_source``; a written target ranks by neither). One lean pass that stops once both are
        seen: a what-if makes a new case, and counting every source cost 0.5 s at 300,000 members."""
        scored = voted = False
        for s in self.case.subjects:
            if s.target is not None or not s.rated or s.excluded is not None:
                continue
            if s.score is not None:
                scored = True
            elif s.votes is not None:
                voted = True
            else:
                continue
            if scored and voted:
                break
        return scored, voted

    @cached_property
    def counts(self) -> "CaseCounts":
        """What ``check`` and the app's summary count (``CaseCounts``)."""
        subjects = self.case.subjects
        decided = list(map(self.hierarchy.subjects.__getitem__, self.targets))  # the targets' keys, in file order
        return CaseCounts(kinds=Counter(map(_KIND, subjects)), rated=Counter(map(_KIND, decided)),
                          tiers=Counter(s.tier for s in self.hierarchy.subjects.values() if s.kind is Kind.party_org),
                          sources=Counter(map(Subject.target_source, decided)),
                          unrated=Counter(map(_RATED, subjects))[False])

    @cached_property
    def locks(self) -> dict[str, Level]:
        """The level of every locked subject, in file order."""
        return {s.id: s.lock for s in self.case.subjects if s.lock is not None}

    @cached_property
    def given_levels(self) -> dict[str, Level]:
        """The level of every subject not decided that carries one (the units), in file order."""
        return {s.id: s.level for s in self.case.subjects if s.level is not None and not s.decided}


@dataclass(frozen=True)
class CaseCounts:
    """Subjects per kind (all, and decided), party organizations per tier, where the decided subjects' targets
    come from (``Subject.target_source``), and how many subjects are not rated. Counted with C-level maps: a
    Python pass over a province's 339,000 subjects took 0.3 s."""

    kinds: Counter
    rated: Counter
    tiers: Counter
    sources: Counter
    unrated: int


_KIND, _RATED = operator.attrgetter("kind"), operator.attrgetter("rated")


def _locate(loc: tuple, data: Any) -> tuple[str | None, int | None, str | None, str | None]:
    """(sheet, row, field, subject id) of a pydantic error location in the raw data."""
    if len(loc) >= 2 and loc[0] in ("subjects", "groups") and isinstance(loc[1], int):
        sid = None
        try:
            item = data[loc[0]][loc[1]]
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                sid = item["id"]
        except (KeyError, IndexError, TypeError):
            pass
        rest = ".".join(str(p) for p in loc[2:]) or None
        return loc[0], loc[1] + 1, rest, sid
    return None, None, ".".join(str(p) for p in loc) or None, None


def parse_case(data: Any, file: str = "<case>", *, nfc_done: bool = False) -> LoadedCase:
    """Validate raw JSON-like data as a case; raise ``CaseInvalid`` with every problem found.

    Strings are NFC-normalized on the way in (``nfc_done`` says the caller already did it).
    """
    if not isinstance(data, dict):
        raise CaseInvalid([InputProblem(file, "tệp phải chứa một đối tượng JSON {…} ở cấp cao nhất")])
    try:
        if not nfc_done:
            data = nfc_deep(data)
            hidden = BAD_CHARS.search(json.dumps(data, ensure_ascii=False, default=str))
            if hidden:
                raise CaseInvalid([InputProblem(file, "có ký tự điều khiển hoặc ký tự không hợp lệ "
                                                      f"U+{ord(hidden.group()):04X} trong dữ liệu")])
        case = Case.model_validate(data, context={"nfc_done": True})
    except RecursionError:
        raise CaseInvalid([InputProblem(file, "dữ liệu lồng nhau quá sâu")]) from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            sheet, row, fld, sid = _locate(tuple(err["loc"]), data)
            problems.append(InputProblem(file, pydantic_message(err), sheet=sheet, row=row, field=fld,
                                         subject=sid))
        raise CaseInvalid(problems) from None
    return _checked(case, file)


def _checked(case: Case, file: str) -> LoadedCase:
    """A case whose types are valid, checked as a whole (options, structure, the regulation's own checks)."""
    problems: list[InputProblem] = []
    options = None
    try:
        options = resolve_options(case.profile, case.options, case.rules, case.year)
    except UnknownProfile as exc:
        problems.append(InputProblem(file, str(exc), field="profile"))
    except KeyError as exc:
        problems.append(InputProblem(file, exc.args[0], field="rules"))
    except (ValueError, ValidationError) as exc:
        problems.append(InputProblem(file, f"tùy chọn quy tắc không hợp lệ: {exc}", field="options"))
    else:
        problems.extend(profile_warnings(case, file))
    targets: dict = {}
    locks: dict = {}
    given: dict = {}
    ids: dict = {}
    problems[:0] = validate(case, file, targets, bands_of(options), locks=locks, given_levels=given, index=ids)
    if options is not None:
        problems.extend(regulation_problems(case, options, file, targets, ids))
    if not any(s.decided for s in case.subjects):
        problems.append(InputProblem(file, "hồ sơ không có đối tượng nào để xếp loại", field="subjects"))
    if any(not p.warning for p in problems):
        raise CaseInvalid(problems)
    loaded = LoadedCase(case, build(case, ids), options, [p for p in problems if p.warning], file)
    # the cached properties, already gathered during validation's pass over the subjects
    loaded.__dict__.update(targets=targets, locks=locks, given_levels=given)
    return loaded


def bands_of(options: RuleOptions | None) -> tuple[int, int, int]:
    """The lowest scores of XS, T and HT a case's targets are read with (Q1); the defaults without options."""
    if options is None:
        return SCORE_BANDS
    return options.score_xs, options.score_t, options.score_ht


def regulation_problems(case: Case, options: RuleOptions, file: str, targets: dict | None = None,
                        by_id: dict | None = None) -> list[InputProblem]:
    """What the case's own regulation adds to the checks: score bands in order, the 25% decisions (C3)
    within the ratio allowed and on organizations of the case, facts written for the other regulation, and
    (QĐ 366 Điều 11 khoản 1) subjects proposed Hoàn thành xuất sắc nhiệm vụ whose task results are not given,
    so that its task conditions cannot be checked."""
    out: list[InputProblem] = []
    if options.on("Q2") and targets and by_id:
        unproven = [sid for sid, lv in targets.items() if lv is Level.XS and by_id[sid].facts.tasks is None
                    and by_id[sid].kind.value in ("member", "leader", "collective")]
        if unproven:
            shown = ", ".join(f"«{sid}»" for sid in unproven[:5]) + (f" và {len(unproven) - 5} đối tượng khác"
                                                                     if len(unproven) > 5 else "")
            out.append(InputProblem(file, f"{len(unproven)} đối tượng có mức mục tiêu Hoàn thành xuất sắc nhiệm vụ nhưng "
                                          f"không ghi kết quả thực hiện nhiệm vụ (facts.tasks): điều kiện về nhiệm vụ "
                                          f"của Quy định 366 Điều 11 khoản 1 không được kiểm tra ({shown})",
                                    field="facts.tasks", warning=True))
    if not options.score_xs > options.score_t > options.score_ht:
        out.append(InputProblem(file, f"khung điểm phải giảm dần: Hoàn thành xuất sắc nhiệm vụ từ {options.score_xs}, "
                                      f"Hoàn thành tốt nhiệm vụ từ {options.score_t}, Hoàn thành nhiệm vụ từ "
                                      f"{options.score_ht}", field="options"))
    ids: dict = {}
    if case.exceptions:  # the subjects by id: ``by_id`` unless an id is written twice (then the last subject of it)
        ids = by_id if by_id is not None and len(by_id) == len(case.subjects) else {s.id: s for s in case.subjects}
    for i, e in enumerate(case.exceptions):
        where = dict(sheet="exceptions", row=i + 1, subject=e.scope)
        target = ids.get(e.scope)
        if target is None or target.kind.value != "party_org":
            out.append(InputProblem(file, f"quyết định tỷ lệ {e.percent}% ghi cho «{e.scope}», không phải một tổ chức đảng "
                                          "trong hồ sơ", field="scope", **where))
        if not options.on("C3"):
            out.append(InputProblem(file, "bộ quy định của hồ sơ không có quy định ngoại lệ 25% (Quy định 366 Điều 11 "
                                          "khoản 1): quyết định này không được áp dụng", field="percent",
                                    warning=True, **where))
        elif e.percent > options.exception_max_percent:
            out.append(InputProblem(file, f"tỷ lệ {e.percent}% vượt quá mức tối đa {options.exception_max_percent}% "
                                          "cấp có thẩm quyền được quyết định", field="percent", **where))
    seen: dict[str, int] = {}
    for i, e in enumerate(case.exceptions):
        if e.scope in seen:
            out.append(InputProblem(file, f"«{e.scope}» có hai quyết định tỷ lệ (quyết định thứ {seen[e.scope]} và "
                                          f"thứ {i + 1})",
                                    sheet="exceptions", row=i + 1, field="scope", subject=e.scope))
        seen.setdefault(e.scope, i + 1)
    if options.on("Q1") and not case.groups and case.subjects:
        out.append(InputProblem(file, "Quy định 366 tính tỷ lệ theo nhóm đối tượng có vị trí, vai trò, chức năng, nhiệm "
                                      "vụ tương đồng do cấp có thẩm quyền quyết định; hồ sơ chưa khai báo nhóm nào, nên "
                                      "các nhóm theo cây tổ chức được dùng làm đề xuất", field="groups", warning=True))
    return out


def profile_warnings(case: Case, file: str) -> list[InputProblem]:
    """A warning when the rating year falls outside the period the case's profile was in force."""
    if case.year is None:
        return []
    catalogue = load_catalogue()
    profile = catalogue.default_profile if case.profile is None else catalogue.profile(case.profile)
    day = date(case.year, 12, 31)
    if profile.in_force(day):
        return []
    until = f" đến hết ngày {profile.effective_to:%d/%m/%Y}" if profile.effective_to else ""
    return [InputProblem(file, f"năm đánh giá {case.year} nằm ngoài thời gian áp dụng của bộ quy định «{profile.title}» "
                               f"(từ ngày {profile.effective_from:%d/%m/%Y}{until})", field="year", warning=True)]


#: The first bytes of an Excel 97–2003 workbook (an OLE2 compound file) and of a zip archive (.xlsx, .docx).
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
XLS_MESSAGE = "Excel 97–2003 (.xls) chưa được hỗ trợ, hãy lưu thành .xlsx"


def _size_text(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def read_input_bytes(path: str | Path, name: str | None = None, limit: int | None = None) -> bytes:
    """The bytes of an input file, or ``CaseInvalid`` in Vietnamese: a folder, a device or a pipe (``/dev/zero``,
    a FIFO) is refused before it is opened for reading, and the file is read through a bounded reader (the
    size ``stat`` gives may be 0 or grow while it is read), never more than ``limit`` bytes and one more."""
    name = str(path) if name is None else name
    limit = MAX_BYTES if limit is None else limit

    def fail(message: str) -> CaseInvalid:
        return CaseInvalid([InputProblem(name, message)])

    try:
        st = os.stat(path)
    except (OSError, ValueError) as exc:
        raise fail(f"không mở được tệp: {os_error_text(exc)}") from None
    if stat.S_ISDIR(st.st_mode):
        raise fail("đây là một thư mục, không phải tệp hồ sơ; hãy chọn một tệp .json hoặc .xlsx trong thư mục")
    if not stat.S_ISREG(st.st_mode):
        raise fail("đây không phải một tệp thường (là thiết bị, ống dẫn hay socket); hãy chọn một tệp .json hoặc "
                   ".xlsx")
    if st.st_size > limit:
        raise fail(f"tệp quá lớn ({_size_text(st.st_size)} byte, tối đa {_size_text(limit)})")
    try:
        with open(path, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # replaced between stat and open
                raise fail("đây không phải một tệp thường; hãy chọn một tệp .json hoặc .xlsx")
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise fail(f"không đọc được tệp: {os_error_text(exc)}") from None
    if len(raw) > limit:
        raise fail(f"tệp quá lớn (hơn {_size_text(limit)} byte)")
    return raw


def read_json(path: str | Path) -> Any:
    """Read a JSON file strictly (UTF-8, size-limited, bounded reader), with Vietnamese errors."""
    return parse_json_bytes(read_json_bytes(path), str(path))


def read_json_bytes(path: str | Path) -> bytes:
    """The bytes of a JSON file (``read_input_bytes``), refusing a workbook or a zip archive by its first bytes."""
    name = str(path)
    raw = read_input_bytes(path, name)
    if raw.startswith(OLE_MAGIC):
        raise CaseInvalid([InputProblem(name, f"tệp này là bảng tính Excel, không phải hồ sơ JSON: {XLS_MESSAGE}")])
    if raw.startswith(ZIP_MAGIC):
        raise CaseInvalid([InputProblem(name, "tệp này là tệp nén (như bảng tính .xlsx hay văn bản .docx), không phải "
                                              "hồ sơ JSON; nếu là bảng tính, hãy đặt đuôi tệp là .xlsx")])
    return raw


def parse_case_bytes(raw: bytes, file: str) -> LoadedCase:
    """``parse_case`` of a JSON case's bytes: a valid case is read by ``_case_typed`` without ever holding its
    subjects as raw data; anything else (a what-if, an escape, a syntax or type error, a duplicate key) is read
    by ``parse_json_bytes`` and ``parse_case``, whose answer (case or Vietnamese errors) is the one given."""
    case = _case_typed(raw)
    if case is not None:
        return _checked(case, file)
    return parse_case(parse_json_bytes(raw, file), file, nfc_done=True)


_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
#: The subjects decoded by msgspec straight into the records (``model.case.CaseRecord``).
_SUBJECTS = msgspec.json.Decoder(list[Subject], dec_hook=level_from_code)
#: Every character an id may hold (the pattern pydantic checks ids with).
_ID_CHARS = TypeAdapter(Annotated[str, Field(pattern=ID_PATTERN)])
_ASCII = bytes(range(128))


@lru_cache(maxsize=None)
def _keys_of(cls: type) -> type:
    """A Struct with the fields of the record type ``cls``, each the text of its value as written
    (``msgspec.Raw``; for a record, the keys of that record likewise), UNSET when not written. Written back, it
    holds each key of the text once and every value's text as it is: its colons are the text's unless a key was
    written twice (msgspec keeps the last). 0.35 s at 300,000 members; parsing the subjects into dictionaries
    to count their keys took 1.2 s (``benchmarks/bench_scale.py``)."""
    hints = typing.get_type_hints(cls)
    fields = []
    for f in msgspec.structs.fields(cls):
        tp = hints[f.name]
        options = typing.get_args(tp) if isinstance(tp, types.UnionType) else (tp,)
        inner = [_keys_of(t) for t in options if isinstance(t, type) and issubclass(t, CaseRecord)]
        if not inner:
            fields.append((f.name, msgspec.Raw | msgspec.UnsetType, msgspec.UNSET))
        elif type(None) in options:
            fields.append((f.name, inner[0] | None | msgspec.UnsetType, msgspec.UNSET))
        else:
            fields.append((f.name, inner[0] | msgspec.UnsetType, msgspec.UNSET))
    return msgspec.defstruct(f"{cls.__name__}Keys", fields, forbid_unknown_fields=True, gc=False)


_SUBJECT_KEYS = msgspec.json.Decoder(list[_keys_of(Subject)])
_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
#: Subjects whose keys ``_case_typed`` counts together.
KEYS_CHUNK = 20_000


def _written_keys_colons(items: bytes) -> int:
    """The colons of the compact writing of the subjects' keys as written (``_keys_of``), counted a chunk of
    subjects at a time: the keys of all at once are 150 MB at 300,000 members."""
    each = _RAW_LIST.decode(items)
    colons = 0
    for start in range(0, len(each), KEYS_CHUNK):
        keys = _SUBJECT_KEYS.decode(b"[" + b",".join(each[start:start + KEYS_CHUNK]) + b"]")
        colons += _ENCODER.encode(keys).count(b":")
    return colons


def _case_typed(raw: bytes) -> Case | None:
    """A valid case read from its bytes with its subjects decoded by msgspec into the records, or None when the
    exact path must read it.

    Parsed into dictionaries and validated by pydantic, the subjects of a province took 2.6 s and 300 MB that
    live only to be validated; decoded into the records they take 0.4 s (``benchmarks/bench_scale.py``).
    msgspec checks the types and ``Meta`` constraints of the records; what pydantic checks besides is checked
    here: the text passes the screening of ``_parse_fast`` (UTF-8, NFC, no escape, no refused character);
    every other character of the subjects is one an id may hold (which a name may hold too), checked by
    pydantic's own pattern on the set of them; ``records_pass_checks``. A key written twice is found by
    counting colons, as in ``_parse_fast``: the text's, against the compact writing of the records, which
    leaves out the defaults (0.15 s at 300,000 members). Only an equal count is proof: the compact writing
    never has more colons than the text (strings are written as they are, a default holds none), and has fewer
    when a key is dropped as written twice or left out as a default. When it has fewer, the keys as written
    decide (``_written_keys_colons``, 0.45 s). The exact path reads the file again and reports it as it always
    has: this path only ever accepts what that one accepts, and builds the same records
    (``tests/test_fast_input.py``)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if raw.startswith(b"\xef\xbb\xbf") or not unicodedata.is_normalized("NFC", text):
        return None
    del text
    if b"\\" in raw or b'"whatif"' in raw or any(p.search(raw) for p in _FAST_REFUSED):
        return None
    try:
        top = _TOP.decode(raw)
        items = top.get("subjects")
        if items is None:
            return None
        items = bytes(items)
        _ID_CHARS.validate_python("".join(sorted(set(items.translate(None, _ASCII).decode("utf-8")))))
        subjects = _SUBJECTS.decode(items)
        if not records_pass_checks(subjects):
            return None
        rest = {k: _DECODER.decode(v) for k, v in top.items() if k != "subjects"}
        colons = raw.count(b":") - len(top) - sum(_ENCODER.encode(v).count(b":") for v in rest.values())
        if _ENCODER.encode(subjects).count(b":") != colons and _written_keys_colons(items) != colons:
            return None  # a key written twice: the exact path names it
        del items
        case = Case.model_validate({**rest, "subjects": ()}, context={"nfc_done": True})
        return case.model_copy(update={"subjects": tuple(subjects)})
    except (msgspec.DecodeError, ValidationError, RecursionError, ValueError, TypeError):
        return None


#: Characters refused in any text: C0/C1 controls except tab, line feed and carriage return, lone surrogates,
#: and the noncharacters U+FFFE/U+FFFF. The Excel and Word writers cannot store them, and no name needs them.
BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _bad_char_problem(name: str, text: str, m: re.Match) -> InputProblem:
    line = text.count("\n", 0, m.start()) + 1
    col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
    return InputProblem(name, f"có ký tự điều khiển hoặc ký tự không hợp lệ U+{ord(m.group()):04X} ở dòng {line}, "
                              f"cột {col}", row=line)


#: What sends a text to the exact parser below rather than msgspec: the characters of ``BAD_CHARS`` that JSON
#: itself allows in a string (msgspec refuses the C0 controls, and a decoded text holds no lone surrogate).
_FAST_REFUSED = (re.compile(rb"\x7f"), re.compile(rb"\xc2[\x80-\x9f]"), re.compile(rb"\xef\xbf[\xbe\xbf]"))
_DECODER = msgspec.json.Decoder()
_ENCODER = msgspec.json.Encoder()


def _parse_fast(data: bytes) -> Any:
    """The value of a JSON text (UTF-8, NFC) parsed by msgspec, or ``None`` when the exact parser must read it.

    msgspec is what makes a province case load in time: the standard library with its duplicate-key hook
    took 1.5 s of a 300,000-member case (43 MB), msgspec 0.4 s (``benchmarks/bench_scale.py``); it reads
    numbers as the standard library does (integers of any size, floats correctly rounded). It keeps the
    last of two equal keys, so duplicates are found by counting colons: a colon of the text is either a
    key's or inside a string (no escape spells one, and a text with ``\\u`` escapes goes to the exact
    parser), and msgspec's compact writing of the parsed value holds the same strings, so the two counts
    are equal exactly when no key was dropped. Anything the fast path cannot vouch for — an escape, a
    refused character, a syntax error, a number out of the float range, nesting too deep, a duplicate —
    goes to the exact parser, whose answer (value or Vietnamese error) is the same as before."""
    if b"\\u" in data or any(p.search(data) for p in _FAST_REFUSED):
        return None
    try:
        value = _DECODER.decode(data)
    except (msgspec.DecodeError, RecursionError):  # msgspec.ValidationError is a DecodeError
        return None
    if data.count(b":") != _ENCODER.encode(value).count(b":"):
        return None  # a key written twice: the exact parser names it
    return value


class _NotFinite(ValueError):
    """``NaN``, ``Infinity`` or a number beyond the float range in a JSON text: no count, score or month is one."""

    def __init__(self, token: str):
        super().__init__(token)
        self.token = token


def _refuse_constant(token: str) -> Any:
    raise _NotFinite(token)  # the json module's extensions NaN, Infinity, -Infinity: not JSON


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):  # 1e999 would be read as infinity
        raise _NotFinite(token)
    return value


#: A JSON string, or a token outside strings that the json module may read as a non-finite number.
_NUMBER_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)')


def _not_finite_problem(name: str, text: str, token: str) -> InputProblem:
    """Where the first non-finite number of a JSON text is (line and column), in Vietnamese."""
    at, line = "", None
    for m in _NUMBER_TOKEN.finditer(text):
        if m.group(1) == token:
            line = text.count("\n", 0, m.start()) + 1
            at = f" ở dòng {line}, cột {m.start() - (text.rfind(chr(10), 0, m.start()) + 1) + 1}"
            break
    if token in ("NaN", "Infinity", "-Infinity"):
        why = (f"JSON có giá trị không phải số{at}: «{token}» (JSON không cho phép NaN hay Infinity); hãy ghi một "
               "số")
    else:
        shown = token if len(token) <= 30 else token[:29] + "…"
        why = f"JSON có số quá lớn{at}: «{shown}» vượt giới hạn số thực"
    return InputProblem(name, why, row=line)


def parse_json_bytes(raw: bytes, name: str) -> Any:
    """``parse_json_text`` of UTF-8 bytes (a BOM allowed), through msgspec when the text allows it."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaseInvalid([InputProblem(name, f"tệp không phải UTF-8 (byte lỗi ở vị trí {exc.start})")]) from None
    normal = unicodedata.normalize("NFC", text)  # real files mix NFC and NFD: one pass over the text
    data = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    value = _parse_fast(data if normal is text else normal.encode("utf-8"))
    if value is not None:
        return value
    return parse_json_text(normal, name)


def parse_json_text(text: str, name: str) -> Any:
    """Parse the text of a JSON case strictly, NFC-normalized, with Vietnamese errors (shared by every reader)."""
    text = unicodedata.normalize("NFC", text)  # real files mix NFC and NFD: one pass over the text
    bad = BAD_CHARS.search(text)
    if bad:
        raise CaseInvalid([_bad_char_problem(name, text, bad)])
    try:
        data = json.loads(text, object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant,
                          parse_float=_finite_float)
        if "\\u" in text:  # escapes may hide NFD or forbidden characters
            data = nfc_deep(data)
            hidden = BAD_CHARS.search(json.dumps(data, ensure_ascii=False))
            if hidden:
                raise CaseInvalid([InputProblem(name, f"có ký tự điều khiển hoặc ký tự không hợp lệ "
                                                      f"U+{ord(hidden.group()):04X} (viết dạng \\u trong JSON)")])
        return data
    except json.JSONDecodeError as exc:
        msg = JSON_MESSAGES.get(exc.msg, "cú pháp không hợp lệ")
        raise CaseInvalid([InputProblem(name, f"JSON sai cú pháp ở dòng {exc.lineno}, cột {exc.colno}: {msg}",
                                        row=exc.lineno)]) from None
    except _DuplicateKey as exc:
        raise CaseInvalid([InputProblem(name, f"trường «{exc.key}» được ghi hai lần trong cùng một đối tượng: "
                                              "không biết giữ giá trị nào", field=exc.key)]) from None
    except _NotFinite as exc:
        raise CaseInvalid([_not_finite_problem(name, text, exc.token)]) from None
    except RecursionError:
        raise CaseInvalid([InputProblem(name, "JSON lồng nhau quá sâu")]) from None
    except ValueError:  # e.g. an integer of more than 4300 digits
        raise CaseInvalid([InputProblem(name, "có số quá lớn (quá 4300 chữ số)")]) from None


@contextmanager
def no_gc():
    """Pause the cyclic garbage collector while a large case is built (it rescans every new object, which
    tripled the load time of a 300k-member case), then freeze what was built out of later collections."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


def load_case(path: str | Path) -> LoadedCase:
    """Load a case from a .json file, or from a workbook (.xlsx) through the Excel importer."""
    with no_gc():
        return _load_case(path)


#: File suffixes read by the Excel importer (a .xls is refused there with its own message).
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")


def _load_case(path: str | Path) -> LoadedCase:
    p = Path(path)
    if p.suffix.lower() in WORKBOOK_SUFFIXES:
        from model.excel import load_workbook_case  # imported lazily: openpyxl only when needed

        return load_workbook_case(p, str(path))
    return parse_case_bytes(read_json_bytes(p), str(path))
