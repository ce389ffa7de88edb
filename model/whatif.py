"""What-if files: a named minimal delta on a base case, applied to an untouched copy of its raw data.

A what-if file states only what differs from its base (OpenFisca's reforms, STYLE.md principle 4)::

    {"whatif": "Nếu …?", "base": "../phuong_tan_loi_2018.json", "options": {"cap_base": "good_and_above"},
     "lock": {"BT-DU": "XS"}, "unlock": ["X"], "facts": {"DV-1": {"disciplined": true, "sick_leave_months": null}},
     "votes": {"CB-1": {"XS": 9, "T": 6, "TB": 0, "K": 0}}, "target": {"DV-2": "T", "DV-3": null},
     "rerate": false, "expect": {"status": "optimal", "changed_vs_base": 4}}

``base`` is a path relative to the what-if file; it may itself be a what-if (a chain). ``rerate`` (BĐ 5.7)
makes every decided subject's target the level published by the base solve: solving is the solver's
job, so the loader takes it as a callback (``published``) and this module never imports ortools.
"""

from __future__ import annotations

import copy
import os
import re
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, StrictBool, StrictInt, ValidationError

from model.case import FACT_NAMES, Expect, Facts, FACTS_BY_KIND, Kind, Name, QuotaException, Ref, Score, Strict, Votes, nfc_deep, validate_as
from model.catalogue import OptionOverrides
from model.errors import CaseInvalid, InputProblem, os_error_text, pydantic_message
from model.levels import Level, parse_level
from model.loader import (WORKBOOK_SUFFIXES, LoadedCase, no_gc, parse_case, parse_case_bytes, parse_json_bytes,
                          read_input_bytes, read_json, read_json_bytes)

#: The key that tells a what-if file from a case file.
WHATIF_KEY = "whatif"
#: How many what-if files may stand on one another before the chain is refused.
MAX_CHAIN = 20


def _code(value: Any) -> Any:
    return value if isinstance(value, Level) else parse_level(value)


def _code_or_none(value: Any) -> Any:
    return None if value is None else _code(value)


#: A level written as its code (XS, T, HT, K); the error names the dictionary key that holds it.
LevelCode = Annotated[Level, BeforeValidator(_code),
                      PlainSerializer(lambda v: v.name, return_type=str, when_used="json")]
OptionalLevelCode = Annotated[Level | None, BeforeValidator(_code_or_none),
                              PlainSerializer(lambda v: None if v is None else v.name, when_used="json")]


class ObjectiveDelta(Strict):
    """How the least-change objective moves from the base solve to the what-if solve (may be negative)."""

    changed: StrictInt
    steps: StrictInt


class WhatIfExpect(Expect):
    """The case ``expect`` block, plus what only a comparison with the base can check."""

    #: How many decided subjects end at a different final level than in the base solve.
    changed_vs_base: StrictInt | None = Field(None, ge=0)
    #: The what-if's objective minus the base's: what the question costs, whatever the base's own numbers.
    objective_vs_base: ObjectiveDelta | None = None
    #: Subjects that the minimal conflicting set must name (for a what-if expected to be a conflict).
    conflict_subjects: tuple[Ref, ...] = ()


class WhatIf(Strict):
    """A what-if delta, exactly as written in its file (validated, not yet applied)."""

    whatif: Annotated[Name, Field(max_length=500)]
    base: str = Field(min_length=1, max_length=1000)
    description: str | None = None
    profile: str | None = None
    options: OptionOverrides = OptionOverrides()
    lock: dict[Ref, LevelCode] = {}
    unlock: tuple[Ref, ...] = ()
    facts: dict[Ref, dict[str, Any]] = {}
    votes: dict[Ref, Votes] = {}
    target: dict[Ref, OptionalLevelCode] = {}
    #: Q1: a new appraised score (or null to remove it), and a new self-assessed one.
    score: dict[Ref, Score | None] = {}
    self_score: dict[Ref, Score | None] = {}
    #: Rules switched on or off against the base (rule ID → on).
    rules: dict[str, StrictBool] = {}
    #: C3: 25% decisions added to the base's (QĐ 366 Điều 11 khoản 1).
    exceptions: tuple[QuotaException, ...] = ()
    rerate: StrictBool = False
    expect: WhatIfExpect | None = None

    def mentioned(self) -> set[str]:
        """Every subject id the delta touches."""
        return {*self.lock, *self.unlock, *self.facts, *self.votes, *self.target, *self.score, *self.self_score}


def is_whatif_data(data: Any) -> bool:
    """True when raw JSON data is a what-if file rather than a case."""
    return isinstance(data, dict) and WHATIF_KEY in data


def parse_whatif(data: Any, file: str = "<what-if>") -> WhatIf:
    """Validate raw JSON-like data as a what-if; raise ``CaseInvalid`` naming the file and each field."""
    if not isinstance(data, dict):
        raise CaseInvalid([InputProblem(file, "tệp giả định phải chứa một đối tượng JSON {…} ở cấp cao nhất")])
    data = nfc_deep(data)
    try:
        return WhatIf.model_validate(data, context={"nfc_done": True})
    except ValidationError as exc:
        problems = [InputProblem(file, pydantic_message(err), field=".".join(str(p) for p in err["loc"]) or None)
                    for err in exc.errors()]
        raise CaseInvalid(problems) from None


def _check_facts(file: str, sid: str, kind: Kind, merged: dict[str, Any], given: dict[str, Any],
                 problems: list[InputProblem]) -> None:
    """The merged facts of one subject must be valid facts that its kind may carry."""
    for name in given:
        if name not in FACT_NAMES:
            problems.append(InputProblem(file, "dữ kiện này không có trong định dạng (viết sai tên?)",
                                         field=f"facts.{sid}.{name}"))
        elif given[name] not in (None, False) and name not in FACTS_BY_KIND[kind]:
            problems.append(InputProblem(file, f"dữ kiện này không áp dụng cho {kind.label.lower()}",
                                         field=f"facts.{sid}.{name}"))
    if any(p.field and p.field.startswith(f"facts.{sid}.") for p in problems):
        return
    try:
        validate_as(Facts, merged)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            problems.append(InputProblem(file, pydantic_message(err), field=f"facts.{sid}.{where}"))


def apply_whatif(base_data: dict, delta: WhatIf | dict, published: Mapping[str, Level | str] | None = None, *,
                 file: str = "<what-if>", base_file: str = "<case>") -> dict:
    """The raw data of the what-if case: ``delta`` applied to a deep copy of ``base_data`` (never mutated).

    ``published`` (the base solve's final levels) is required when the delta re-rates (``rerate``): every
    decided subject then targets its published level before the other changes apply. Every problem (an
    unknown id, a fact the subject's kind may not carry, a lock on an unrated subject…) is collected and
    raised together as ``CaseInvalid``, naming the what-if file and the field.
    """
    if not isinstance(delta, WhatIf):
        delta = parse_whatif(delta, file)
    problems: list[InputProblem] = []

    def err(fld: str, msg: str) -> None:
        problems.append(InputProblem(file, msg, field=fld))

    if not (delta.rerate or delta.profile is not None or delta.options.given() or delta.mentioned() or delta.rules
            or delta.exceptions):
        raise CaseInvalid([InputProblem(file, "tệp giả định không nêu thay đổi nào so với hồ sơ gốc", field="whatif")])
    data = copy.deepcopy(base_data)
    subjects = data.get("subjects")
    if not isinstance(subjects, list):
        raise CaseInvalid([InputProblem(file, f"hồ sơ gốc «{base_file}» không có danh sách đối tượng (subjects)",
                                        field="base")])
    by_id: dict[str, dict] = {}
    for s in subjects:
        if isinstance(s, dict) and isinstance(s.get("id"), str):
            by_id.setdefault(s["id"], s)

    def kind_of(s: dict) -> Kind | None:
        try:
            return Kind(s.get("kind"))
        except ValueError:
            return None

    def decided(s: dict) -> bool:
        return s.get("rated", True) is not False and kind_of(s) not in (Kind.unit, None)

    def known(fld: str, sid: str, *, must_be_decided: bool = True) -> dict | None:
        s = by_id.get(sid)
        if s is None:
            err(f"{fld}.{sid}", f"không có đối tượng mang mã «{sid}» trong hồ sơ gốc «{base_file}»")
            return None
        if must_be_decided and not decided(s):
            why = "là đơn vị (dữ liệu đầu vào)" if kind_of(s) is Kind.unit else "không được xếp loại (rated = false)"
            err(f"{fld}.{sid}", f"đối tượng «{sid}» {why}: không thể dùng trong trường này")
            return None
        return s

    # 1. re-rating: the published levels become the targets (BĐ 5.7)
    if delta.rerate:
        if published is None:
            err("rerate", "xếp loại lại cần kết quả đã công bố của hồ sơ gốc (hãy giải hồ sơ gốc trước)")
        else:
            for s in subjects:
                if isinstance(s, dict) and decided(s) and s.get("id") in published:
                    lv = published[s["id"]]
                    s["target"] = lv.name if isinstance(lv, Level) else str(lv)
    # 2. options and profile
    if delta.profile is not None:
        data["profile"] = delta.profile
    given = delta.options.given()
    if given:
        base_options = data.get("options") or {}
        if not isinstance(base_options, dict):
            base_options = {}
        data["options"] = {**base_options, **given}
    # 3. locks
    for sid in sorted(set(delta.lock) & set(delta.unlock)):
        err(f"unlock.{sid}", f"«{sid}» vừa được khóa (lock) vừa được bỏ khóa (unlock) trong cùng một giả định")
    for sid in delta.unlock:
        s = known("unlock", sid)
        if s is not None:
            if s.get("lock") is None:
                err(f"unlock.{sid}", f"«{sid}» không bị khóa mức trong hồ sơ gốc: không có gì để bỏ khóa")
            else:
                s.pop("lock", None)
    for sid, lv in delta.lock.items():
        s = known("lock", sid)
        if s is not None:
            s["lock"] = lv.name
    # 4. facts, merged over the subject's own (null removes a fact)
    for sid, changes in delta.facts.items():
        s = known("facts", sid, must_be_decided=False)
        if s is None:
            continue
        kind = kind_of(s)
        if not changes:
            err(f"facts.{sid}", "không có dữ kiện nào được thay đổi")
            continue
        old = s.get("facts") or {}
        merged = {**(old if isinstance(old, dict) else {}), **changes}
        merged = {k: v for k, v in merged.items() if v is not None}
        if kind is not None:
            _check_facts(file, sid, kind, merged, changes, problems)
        if merged:
            s["facts"] = merged
        else:
            s.pop("facts", None)
    # 5. targets (null removes a target: the votes, or the proposal, count again)
    for sid, lv in delta.target.items():
        s = known("target", sid)
        if s is None:
            continue
        if lv is None:
            if s.get("target") is None:
                err(f"target.{sid}", f"«{sid}» không có mức mục tiêu (target) để bỏ")
            s.pop("target", None)
        else:
            s["target"] = lv.name
    # 6. votes
    for sid, tally in delta.votes.items():
        s = known("votes", sid)
        if s is None:
            continue
        voters = s.get("voters")
        if isinstance(voters, int) and tally.total > voters:
            err(f"votes.{sid}", f"tổng số phiếu mới ({tally.total}) lớn hơn số người tham gia biểu quyết ({voters})")
        if s.get("target") is not None:
            why = ", do xếp loại lại" if delta.rerate else ""
            err(f"votes.{sid}", f"phiếu mới không có tác dụng vì «{sid}» có mức mục tiêu (target{why}); ghi "
                f"\"target\": {{\"{sid}\": null}} để tính theo phiếu")
        s["votes"] = tally.as_dict()
    # 7. scores (null removes a score: the votes, or the proposal, count again)
    for fld, changes in (("score", delta.score), ("self_score", delta.self_score)):
        for sid, value in changes.items():
            s = known(fld, sid)
            if s is None:
                continue
            if value is None:
                if s.get(fld) is None:
                    err(f"{fld}.{sid}", f"«{sid}» không có điểm để bỏ")
                s.pop(fld, None)
            else:
                s[fld] = value
    if delta.rules:
        data["rules"] = {**(data.get("rules") if isinstance(data.get("rules"), dict) else {}), **delta.rules}
    if delta.exceptions:
        old_ex = data.get("exceptions") if isinstance(data.get("exceptions"), list) else []
        data["exceptions"] = [*old_ex, *(e.model_dump() for e in delta.exceptions)]
    # 8. expected levels name subjects of the case
    if delta.expect is not None:
        for sid in delta.expect.levels:
            known("expect.levels", sid)
        for sid in delta.expect.conflict_subjects:
            known("expect.conflict_subjects", sid, must_be_decided=False)
    if problems:
        raise CaseInvalid(problems)

    question = delta.whatif
    base_name = data.get("name") if isinstance(data.get("name"), str) else Path(base_file).stem
    data["name"] = f"{base_name} — giả định: {question}"
    if delta.description is not None:
        data["description"] = delta.description
    data.pop("expect", None)
    if delta.expect is not None:
        only_whatif = {"changed_vs_base", "objective_vs_base", "conflict_subjects"}
        expect = delta.expect.model_dump(mode="json", exclude=only_whatif, exclude_defaults=True)
        if expect:
            data["expect"] = expect
    return data


#: The solver's answer to "what was published for this base?": final levels of a solve of ``LoadedCase``.
Published = Callable[[LoadedCase], Mapping[str, Level]]


class _Workbook:
    """A workbook's raw case data and where each part came from: validated by the Excel importer, so that its
    problems and warnings (hidden rows, merged group ids…) point into the workbook."""

    def __init__(self, data: dict, origins: Any):
        self.data, self.origins = data, origins


def _read_raw(path: Path) -> Any:
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        from model.excel import read_workbook_with_origins  # imported lazily: openpyxl only when needed

        data, origins = read_workbook_with_origins(path)
        return _Workbook(nfc_deep(data), origins)
    return read_json(path)


def _resolve_base(file: str, path: Path, delta: WhatIf) -> Path:
    base = Path(delta.base)
    resolved = Path(os.path.normpath(base if base.is_absolute() else path.parent / base))

    def fail(what: str) -> CaseInvalid:
        return CaseInvalid([InputProblem(file, f"{what} (tính từ thư mục của tệp giả định: {resolved})",
                                         field="base")])

    try:
        mode = os.stat(resolved).st_mode
    except FileNotFoundError:
        raise fail(f"không tìm thấy tệp hồ sơ gốc «{delta.base}»") from None
    except (OSError, ValueError) as exc:
        raise fail(f"không mở được tệp hồ sơ gốc «{delta.base}»: {os_error_text(exc)}") from None
    if stat.S_ISDIR(mode):
        raise fail(f"hồ sơ gốc «{delta.base}» là một thư mục, không phải tệp hồ sơ; hãy ghi tên tệp .json hoặc "
                   ".xlsx trong thư mục đó")
    if not stat.S_ISREG(mode):
        raise fail(f"hồ sơ gốc «{delta.base}» không phải một tệp thường (là thiết bị, ống dẫn hay socket); hãy ghi "
                   "tên một tệp .json hoặc .xlsx")
    return resolved


def _load(path: Path, data: Any, published: Published | None, chain: tuple[Path, ...]
          ) -> tuple[LoadedCase, dict, LoadedCase | None, WhatIf | None]:
    """(loaded, raw data, loaded base or None, delta or None) of a case or what-if file.

    ``published`` may raise ``ValueError`` with a Vietnamese message when the base has no published result."""
    file = str(path)
    if isinstance(data, _Workbook):
        from model.excel import validate_workbook_data

        return validate_workbook_data(data.data, data.origins, file), data.data, None, None
    if not is_whatif_data(data):
        return parse_case(data, file, nfc_done=True), data, None, None
    delta = parse_whatif(data, file)
    base_loaded, base_data, base_path = _load_base(path, delta, published, chain)
    levels = None
    if delta.rerate and published is not None:
        try:
            levels = published(base_loaded)
        except ValueError as exc:  # the base has no published result (a conflict, the time ran out)
            raise CaseInvalid([InputProblem(file, str(exc), field="rerate")]) from None
    applied = apply_whatif(base_data, delta, levels, file=file, base_file=str(base_path))
    loaded = parse_case(applied, f"{file} (áp dụng lên {base_path})", nfc_done=True)
    loaded.source = file
    return loaded, applied, base_loaded, delta


def _load_base(path: Path, delta: WhatIf, published: Published | None, chain: tuple[Path, ...]
               ) -> tuple[LoadedCase, dict, Path]:
    """(loaded, raw data, path) of the base a what-if file stands on (itself maybe a what-if)."""
    file = str(path)
    base_path = _resolve_base(file, path, delta)
    key = base_path.resolve()
    if key in chain:
        raise CaseInvalid([InputProblem(file, "các tệp giả định lấy nhau làm gốc thành vòng: "
                                              + " → ".join(str(p) for p in (*chain, key)), field="base")])
    if len(chain) >= MAX_CHAIN:
        raise CaseInvalid([InputProblem(file, f"chuỗi giả định quá dài (tối đa {MAX_CHAIN} tệp)", field="base")])
    try:
        base_raw = _read_raw(base_path)
        base_loaded, base_data, _, _ = _load(base_path, base_raw, published, (*chain, key))
    except CaseInvalid as exc:
        head = InputProblem(file, f"hồ sơ gốc «{delta.base}» không đọc được", field="base")
        raise CaseInvalid([head, *exc.problems, *exc.warnings]) from None
    return base_loaded, base_data, base_path


def load_whatif_base(path: str | Path, published: Published | None = None
                     ) -> tuple[LoadedCase, dict, Path, WhatIf]:
    """A what-if file's base (loaded, its raw data, its path) and the delta, not yet applied: for a caller
    that re-solves the delta on a solved base (``solver.engine.incremental.Session``)."""
    p = Path(path)
    with no_gc():
        delta = parse_whatif(_read_whatif(p), str(p))
        base_loaded, base_data, base_path = _load_base(p, delta, published, (p.resolve(),))
    return base_loaded, base_data, base_path, delta


def _read_whatif(p: Path) -> dict:
    """A what-if file's data; ``CaseInvalid`` when the file is a case, not a what-if."""
    data = read_json(p)
    if not is_whatif_data(data):
        raise CaseInvalid([InputProblem(str(p), "tệp này là hồ sơ, không phải tệp giả định (thiếu trường «whatif»)",
                                        field=WHATIF_KEY)])
    return data


def load_whatif(path: str | Path, published: Published | None = None) -> tuple[LoadedCase, LoadedCase, WhatIf]:
    """Load a what-if file: (its base, loaded; the what-if case, loaded; the delta).

    A re-rating delta needs ``published``: a function giving the final levels of a solve of the base
    (``solver.explanations.compare`` provides it). The base may itself be a what-if; chains must not loop.
    """
    p = Path(path)
    with no_gc():
        loaded, _, base, delta = _load(p, _read_whatif(p), published, (p.resolve(),))
    return base, loaded, delta


def load_case_or_whatif(path: str | Path, published: Published | None = None) -> LoadedCase:
    """A case file as ``model.loader.load_case`` reads it, or the case a what-if file describes."""
    p = Path(path)
    with no_gc():
        if p.suffix.lower() not in WORKBOOK_SUFFIXES:
            raw = read_json_bytes(p)
            if not may_be_whatif(raw):  # a case: read without keeping its raw data (``parse_case_bytes``)
                return parse_case_bytes(raw, str(p))
            data = parse_json_bytes(raw, str(p))
        else:
            data = _read_raw(p)
        return _load(p, data, published, (p.resolve(),))[0]


#: Every way a JSON text can spell the string "whatif": each letter as itself or as its ``\\u00XX`` escape (the
#: four hex digits of these letters are all decimal digits, so no upper/lower-case variant exists, and JSON has no
#: other escape for a letter). A text this does not match holds no key "whatif", whatever its escapes.
_WHATIF_SPELLED = re.compile(rb'"(?:w|\\u0077)(?:h|\\u0068)(?:a|\\u0061)(?:t|\\u0074)(?:i|\\u0069)(?:f|\\u0066)"')


def may_be_whatif(raw: bytes) -> bool:
    """False only when the JSON bytes surely hold no key "whatif" (so a large case need not be parsed to know it
    is not a what-if); True when they may, the parsed keys then decide. Exact: an escaped key
    (``{"\\u0077hatif": …}``) is a what-if for the loader, so it is one here too."""
    if b'"whatif"' in raw:
        return True
    return b"\\u" in raw and _WHATIF_SPELLED.search(raw) is not None


def input_files(path: str | Path) -> list[Path]:
    """Every file that reading ``path`` reads: the file itself and, for a what-if, its base, the base's base…
    (best effort, for checks such as "an output must not overwrite an input": an unreadable file ends the chain,
    its error is the loader's to report)."""
    return [f for f, _ in _input_chain(path)]


def _input_chain(path: str | Path) -> list[tuple[Path, bytes | None]]:
    """``input_files``, each with the bytes read to find the next (None for a file not read)."""
    files, raws = [Path(path)], [None]
    current = files[0]
    for _ in range(MAX_CHAIN):
        if current.suffix.lower() in WORKBOOK_SUFFIXES:
            break
        try:
            raws[-1] = raw = read_input_bytes(current)
            if not may_be_whatif(raw):  # a case, not a what-if: no need to parse a large file
                break
            data = parse_json_bytes(raw, str(current))
        except (CaseInvalid, UnicodeDecodeError):
            break
        if not is_whatif_data(data) or not isinstance(data.get("base"), str) or not data["base"]:
            break
        base = Path(data["base"])
        nxt = Path(os.path.normpath(base if base.is_absolute() else current.parent / base))
        if any(nxt == p for p in files):
            break
        files.append(nxt)
        raws.append(None)
        current = nxt
    return list(zip(files, raws))


def input_digest(path: str | Path) -> str:
    """The SHA-256 that names an input in the audit log: of the file's bytes for a case; for a what-if, of the
    what-if's bytes AND of every base it stands on, so that one what-if over two different bases never shares
    a hash. Each file is read once (the bytes read to follow the chain are the ones hashed). ``OSError`` when a
    file cannot be read."""
    import hashlib

    digests = []
    for f, raw in _input_chain(path):
        h = hashlib.sha256()
        if raw is not None:
            h.update(raw)
        else:
            with open(f, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        digests.append(h.hexdigest())
    if len(digests) == 1:
        return digests[0]
    return hashlib.sha256(("xeploai-whatif-chain\n" + "\n".join(digests)).encode("ascii")).hexdigest()


__all__ = [
    "LevelCode", "MAX_CHAIN", "input_digest", "input_files", "ObjectiveDelta", "Published", "WHATIF_KEY", "WhatIf", "WhatIfExpect", "apply_whatif",
    "is_whatif_data", "load_case_or_whatif", "load_whatif", "load_whatif_base", "parse_whatif",
]
