"""The Streamlit app's logic without Streamlit: loading, solving, tables as plain rows, the tree, what-if deltas.

Every function here is importable and testable on its own; the app's files wrap the slow ones in
Streamlit caches and only lay the results out on the screen. Rows meant for a table on the screen carry
Vietnamese column headers as their keys; everything else uses English keys.

The app works in a case folder (``solver.access``): an uploaded case is kept there and nowhere else, and
its audit log (``solver.audit``) records the app's solves, the committee's locks with their reason and
author, and every download, under a case key (the file's name in the folder) shared by all its versions.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Callable
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from model.case import KIND_LABELS, Kind, Tier, Votes, nfc_deep
from model.catalogue import OptionOverrides, UnknownProfile, load_catalogue, resolve_options
from model.errors import CaseInvalid, InputProblem, pydantic_message
from model.levels import LEVELS_DESC, Level, parse_level
from model.loader import LoadedCase, load_case, parse_case, parse_json_text
from solver import access, audit
from solver.audit import DEFAULT_NAME as DEFAULT_AUDIT_NAME
from solver.audit import sha256_bytes
from solver.explanations.explain import render_change, render_why_not
from solver.io import write_atomic
from solver.reports.tables import level_counts, quota_table
from solver.reports.word import option_words, percent_words, status_sentences
from solver.result import STATUS_LABELS, SolveResult
from solver.engine.solve import SolveOptions
from solver.explanations.whynot import hold

#: The shipped scenarios, beside the packages in the source tree.
SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"

#: One colour per final level (the tree, the legend); grey for a subject that is not rated.
LEVEL_COLORS = {Level.XS: "#1a7f37", Level.T: "#2f6fb5", Level.HT: "#b7791f", Level.K: "#c62828"}
UNRATED_COLOR = "#9e9e9e"

FAMILY_LABELS = {"ballot": "Phiếu biểu quyết", "quota": "Tỷ lệ", "structural": "Quan hệ giữa các đối tượng",
                 "individual": "Trường hợp cá nhân", "order": "Thứ tự xếp loại"}
REASON_KIND_LABELS = {"forced": "bắt buộc theo dữ kiện", "structural": "quan hệ tổ chức", "quota": "tỷ lệ",
                      "objective": "phương án ít thay đổi nhất", "lock": "quyết định khóa"}

#: The facts the what-if editor offers, with their column headers (every other fact stays as in the case).
EDITABLE_FACTS = {
    "disciplined": "Bị kỷ luật",
    "self_remedied": "Tự phát hiện, khắc phục",
    "degeneration": "Suy thoái",
    "targets_below_half": "Dưới 50% chỉ tiêu",
    "sick_leave_months": "Nghỉ ốm (tháng)",
    "civil_servant_level": "Xếp loại công chức",
}
VOTE_KEYS = ("XS", "T", "TB", "K")
#: The keys of a what-if delta, as the what-if file format writes them (``model.whatif``).
DELTA_KEYS = ("whatif", "base", "profile", "options", "lock", "unlock", "facts", "votes", "target")


# ---- loading ---------------------------------------------------------------------------------------


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def list_scenarios(directory: Path = SCENARIO_DIR) -> list[dict]:
    """The case files shipped in ``scenarios/`` (what-if files left out): file name, path, case name, size."""
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
    """A case file's text, NFC (the cache key of everything computed from it)."""
    return nfc(Path(path).read_text(encoding="utf-8-sig"))


def _whatif_given(name: str) -> CaseInvalid:
    return CaseInvalid([InputProblem(name, "đây là tệp giả định, không phải hồ sơ: hãy nạp hồ sơ gốc trước, "
                                           "rồi nạp tệp giả định ở trang «Giả định»", field="whatif")])


def parse_text(text: str, name: str) -> LoadedCase:
    """A case from its JSON text; ``CaseInvalid`` (in Vietnamese, naming ``name``) when it is not valid."""
    data = parse_json_text(text, name)
    if isinstance(data, dict) and "whatif" in data:
        raise _whatif_given(name)
    try:
        return parse_case(data, name)
    except RecursionError:
        raise CaseInvalid([InputProblem(name, "dữ liệu lồng nhau quá sâu")]) from None


def load_upload(name: str, content: bytes, folder: str | Path | None = None) -> tuple[str, LoadedCase]:
    """An uploaded .json or .xlsx file: (the case's JSON text, the loaded case). Errors name ``name``.

    Nothing is kept: a JSON file is read in memory; a workbook, which the reader opens from a file, goes
    through a hidden folder inside the case folder (``folder``, default the app's), removed at once —
    never through the system's temporary folder. :func:`store_upload` is what keeps an upload.
    """
    suffix = _upload_suffix(name)
    if suffix == ".json":
        return _json_upload(name, content)
    with _scratch(case_folder() if folder is None else folder, name) as tmp:
        return _workbook_upload(name, content, tmp / _plain_name(name, suffix))[:2]


def _upload_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in CASE_SUFFIXES:
        raise CaseInvalid([InputProblem(name, "chỉ nhận tệp hồ sơ .json hoặc sổ tính .xlsx")])
    return suffix


def _json_upload(name: str, content: bytes) -> tuple[str, LoadedCase]:
    try:
        text = nfc(content.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise CaseInvalid([InputProblem(name, f"tệp không phải UTF-8 (byte lỗi ở vị trí {exc.start})")]) from None
    return text, parse_text(text, name)


def _workbook_at(path: Path, name: str) -> tuple[str, LoadedCase]:
    """A workbook on disk, read as a case: (its JSON text, the loaded case); errors name ``name``."""
    try:
        loaded = load_case(path)
    except CaseInvalid as exc:
        raise CaseInvalid([dataclasses.replace(p, file=name) for p in (*exc.problems, *exc.warnings)]) from None
    text = json.dumps(loaded.case.to_data(), ensure_ascii=False, indent=1)
    return text, parse_text(text, name)


def _workbook_upload(name: str, content: bytes, path: Path) -> tuple[str, LoadedCase, Path]:
    path.write_bytes(content)
    text, loaded = _workbook_at(path, name)
    return text, loaded, path


@contextlib.contextmanager
def _scratch(folder: str | Path, name: str):
    """A hidden working folder inside the case folder, removed on leaving (with the case folder itself
    when this call made it and it is empty again)."""
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


# ---- the case folder -------------------------------------------------------------------------------

#: The files a case may be: a JSON case or a workbook.
CASE_SUFFIXES = (".json", ".xlsx", ".xlsm")
#: Names in the case folder that belong to xeploai itself: an upload may never take them.
RESERVED_NAMES = frozenset(n.casefold() for n in (DEFAULT_AUDIT_NAME, access.PASSWORD_FILE))
MAX_NAME = 150


@dataclasses.dataclass(frozen=True)
class StoredCase:
    """A case kept in the case folder: its file, its key in the audit log (the file name within the folder),
    the SHA-256 of its bytes, and its JSON text (the cache key of everything computed from it)."""

    path: Path
    key: str
    digest: str
    text: str


def case_folder() -> Path:
    """The app's case folder (``XEPLOAI_CASE_DIR``, default ``./ho_so``); not created until something is kept."""
    return access.case_dir()


def audit_log_path(folder: str | Path | None = None) -> Path | None:
    """The app's audit log: ``xeploai-audit.sqlite`` in the case folder unless ``XEPLOAI_AUDIT`` says otherwise
    (a path, or ``off``: None)."""
    return audit.audit_path_in(case_folder() if folder is None else folder)


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


def store_upload(folder: str | Path, name: str, content: bytes) -> StoredCase:
    """Check an uploaded case and keep it in the case folder under its own name (replacing an earlier file
    of that name: a new version of the same case keeps its history). Nothing is kept when the case is not
    valid (``CaseInvalid``, naming ``name``); the file appears whole or not at all (written beside, renamed)."""
    folder = Path(folder)
    suffix = _upload_suffix(name)
    plain = _plain_name(name, suffix)
    target = folder / plain
    if suffix == ".json":
        text, _ = _json_upload(name, content)
        try:
            access.ensure_case_dir(folder)
            write_atomic(target, lambda tmp: Path(tmp).write_bytes(content))
        except (access.AccessError, OSError) as exc:
            raise CaseInvalid([InputProblem(name, f"không lưu được tệp vào thư mục hồ sơ «{folder}»: {exc}")]) from None
    else:
        with _scratch(folder, name) as tmp:
            text, _, path = _workbook_upload(name, content, tmp / plain)
            try:
                os.replace(path, target)
            except OSError as exc:
                raise CaseInvalid([InputProblem(name, f"không lưu được tệp vào thư mục hồ sơ «{folder}»: "
                                                      f"{exc}")]) from None
    return StoredCase(path=target, key=plain, digest=sha256_bytes(content), text=text)


def folder_cases(folder: str | Path | None = None) -> list[dict]:
    """The case files kept in the case folder (xeploai's own files and hidden ones left out), by name."""
    folder = case_folder() if folder is None else Path(folder)
    try:
        paths = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError:
        return []
    out = []
    for p in paths:
        if (p.suffix.lower() in CASE_SUFFIXES and not p.name.startswith(".")
                and p.name.casefold() not in RESERVED_NAMES):
            stat = p.stat()
            out.append({"file": p.name, "path": str(p), "size": stat.st_size,
                        "modified": datetime.fromtimestamp(stat.st_mtime).strftime("%d/%m/%Y %H:%M")})
    return out


def open_folder_case(folder: str | Path, file: str) -> StoredCase:
    """A case kept in the case folder, read where it lies; ``CaseInvalid`` naming the file otherwise."""
    path = Path(folder) / file
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise CaseInvalid([InputProblem(file, f"không đọc được tệp: {exc.strerror or exc}")]) from None
    if _upload_suffix(file) == ".json":
        text, _ = _json_upload(file, content)
    else:
        text, _ = _workbook_at(path, file)
    return StoredCase(path=path, key=file, digest=sha256_bytes(content), text=text)


def read_case_file(path: str | Path) -> tuple[str, str]:
    """A shipped case file: (its text, NFC; the SHA-256 of its bytes). It is only read, never written."""
    content = Path(path).read_bytes()
    return nfc(content.decode("utf-8-sig")), sha256_bytes(content)


def problem_rows(problems: list[InputProblem]) -> list[dict]:
    """Input problems as table rows: file, sheet, row, column, field, subject, message."""
    return [{"Tệp": p.file, "Trang": p.sheet or "", "Dòng": str(p.row) if p.row is not None else "",
             "Cột": p.column or "", "Trường": p.field or "", "Đối tượng": p.subject or "",
             "Mức độ": "Cảnh báo" if p.warning else "Lỗi", "Nội dung": p.message} for p in problems]


def case_summary(loaded: LoadedCase) -> dict:
    """What a case holds: counts per kind and tier, quota groups, where targets come from, locks, S5 stages."""
    case, h = loaded.case, loaded.hierarchy
    kinds = Counter(s.kind for s in case.subjects)
    rated = Counter(s.kind for s in case.subjects if s.decided)
    tiers = Counter(s.tier for s in case.subjects if s.kind is Kind.party_org and s.tier is not None)
    sources = Counter(s.target_source() for s in case.subjects if s.decided)
    groups = sorted(h.groups, key=lambda g: (-len(g.members), g.id))
    return {
        "name": case.name,
        "description": case.description or "",
        "profile": case.profile or load_catalogue().default_profile.id,
        "subjects": len(case.subjects),
        "kinds": [{"Loại đối tượng": KIND_LABELS[k], "Số lượng": kinds[k],
                   "Được xếp loại": str(rated[k]) if k is not Kind.unit else "— (dữ liệu đầu vào)"}
                  for k in Kind if kinds[k]],
        "tiers": [{"Cấp tổ chức đảng": t.label, "Số lượng": tiers[t]} for t in Tier if tiers[t]],
        "groups": [{"Nhóm tỷ lệ": g.name, "Loại": KIND_LABELS[g.kind], "Số đối tượng": len(g.members),
                    "Khai báo trong hồ sơ": "có" if g.explicit else "tự lập"} for g in groups],
        "group_count": len(groups),
        "targets": {"votes": sources["votes"], "target": sources["target"], "proposed": sources["proposed"]},
        "locks": sum(1 for s in case.subjects if s.lock is not None),
        "unrated": sum(1 for s in case.subjects if not s.rated),
        "stages": len(h.rating_order()),
        "warnings": [str(w) for w in loaded.warnings],
    }


# ---- solving and the result ------------------------------------------------------------------------


def status_view(result: SolveResult) -> dict:
    """The status in words: a headline, whether it is proven least change, the sentences of the report."""
    tone = {"optimal": "success", "feasible": "warning"}.get(result.status, "error")
    if result.status == "optimal":
        headline = "Đã chứng minh tối ưu: đây là phương án thay đổi ít nhất."
    elif result.status == "feasible":
        headline = "Khả thi nhưng CHƯA chứng minh tối ưu (hết thời gian): có thể còn phương án thay đổi ít hơn."
    else:
        headline = STATUS_LABELS[result.status][:1].upper() + STATUS_LABELS[result.status][1:] + "."
    return {"tone": tone, "headline": headline, "proven": result.proven, "sentences": status_sentences(result)}


def level_count_rows(loaded: LoadedCase, result: SolveResult) -> list[dict]:
    """Per rated kind: how many at each level before (targets) and after (final levels), and how many changed."""
    rows = []
    for r in level_counts(loaded, result):
        row: dict[str, Any] = {"Loại đối tượng": KIND_LABELS[r["kind"]], "Được xếp loại": r["rated"]}
        for lv in LEVELS_DESC:
            after = r["after"][lv] if r["after"] is not None else None
            row[f"{lv.code} trước"] = r["before"][lv]
            row[f"{lv.code} sau"] = after
        row["Thay đổi"] = r["changed"]
        rows.append(row)
    return rows


def context_name(loaded: LoadedCase, sid: str) -> str:
    """What a subject belongs to: its organization, the unit it leads, or the collective it heads."""
    s = loaded.hierarchy.subjects[sid]
    ref = s.parent or s.leads or s.heads
    return loaded.hierarchy.subjects[ref].name if ref is not None else ""


def change_items(loaded: LoadedCase, result: SolveResult) -> list[dict]:
    """Every change with its sentence (``solver.explanations.explain.render_change``) and its reasons as records."""
    by_id = {c.id: c for c in result.changes}
    subjects = loaded.hierarchy.subjects
    out = []
    for c in result.changes:
        s = subjects[c.id]
        out.append({
            "id": c.id, "name": s.name, "kind": s.kind.value, "kind_label": KIND_LABELS[s.kind],
            "context": context_name(loaded, c.id), "before": c.before.code, "after": c.after.code,
            "before_name": c.before.official, "after_name": c.after.official,
            "rules": list(dict.fromkeys(r.rule for r in c.reasons)),
            "sentence": render_change(loaded, c, by_id),
            "reasons": [{"rule": r.rule, "kind": REASON_KIND_LABELS.get(r.kind, r.kind), "citation": r.citation,
                         "text": r.text} for r in c.reasons],
        })
    return out


def filter_changes(items: list[dict], query: str = "", kinds: list[str] | None = None,
                   rules: list[str] | None = None) -> list[dict]:
    """The changes whose name, id or sentence holds ``query`` (case-insensitive), of the given kinds and rules."""
    q = _fold(query)
    return [it for it in items
            if (not q or q in _fold(it["sentence"]) or q in _fold(it["id"]))
            and (not kinds or it["kind"] in kinds)
            and (not rules or any(r in rules for r in it["rules"]))]


def _fold(text: str) -> str:
    return " ".join(nfc(text).casefold().split())


def xs_share(loaded: LoadedCase, sid: str) -> tuple[Fraction | None, str]:
    """(share of XS ballots, the share as the committee writes it, e.g. "9/15 (60,0%)") — None without votes."""
    s = loaded.hierarchy.subjects[sid]
    if s.votes is None:
        return None, "—"
    total = s.voters or s.votes.total
    if not total:
        return None, "—"
    share = Fraction(s.votes.XS, total)
    return share, f"{s.votes.XS}/{total} ({percent_words(100 * float(share))})"


def subject_rows(loaded: LoadedCase, result: SolveResult, ids: list[str] | None = None) -> list[dict]:
    """Every subject of the case (or those of ``ids``, in that order): id, name, kind, where it belongs, target,
    final level, whether it changed, lock, XS ballots."""
    rows = []
    subjects = loaded.case.subjects if ids is None else [loaded.hierarchy.subjects[i] for i in ids]
    for s in subjects:
        target = result.targets.get(s.id)
        final = result.levels.get(s.id) if result.levels else None
        if s.kind is Kind.unit:
            state = "đơn vị (dữ liệu đầu vào)"
        elif not s.decided:
            state = "không xếp loại"
        elif final is None:
            state = "chưa có kết quả"
        elif final != target:
            state = "hạ mức" if final < target else "nâng mức"
        else:
            state = "giữ nguyên"
        rows.append({
            "Mã": s.id, "Tên": s.name, "Loại": KIND_LABELS[s.kind], "Thuộc": context_name(loaded, s.id),
            "Mức mục tiêu": target.code if target is not None else (s.level.code if s.level is not None else ""),
            "Kết quả": final.code if final is not None else "",
            "Thay đổi": state, "Khóa": s.lock.code if s.lock is not None else "",
            "Phiếu XS": xs_share(loaded, s.id)[1],
        })
    return rows


def filter_subjects(rows: list[dict], query: str = "", kinds: list[str] | None = None,
                    states: list[str] | None = None, finals: list[str] | None = None) -> list[dict]:
    """The subject rows matching a free-text query (id, name, belongs to), kinds (labels), states and levels."""
    q = _fold(query)
    return [r for r in rows
            if (not q or q in _fold(f"{r['Mã']} {r['Tên']} {r['Thuộc']}"))
            and (not kinds or r["Loại"] in kinds)
            and (not states or r["Thay đổi"] in states)
            and (not finals or r["Kết quả"] in finals)]


def tie_rows(loaded: LoadedCase, result: SolveResult) -> list[dict]:
    """The ties left to the committee: group, subject, target, level the fixed key chose, XS ballots."""
    h = loaded.hierarchy
    group_ids = {g.id for g in h.groups}
    rows = []
    for i, tie in enumerate(result.ties, start=1):
        chosen = dict(tie.chosen)
        for sid in tie.subjects:
            t = result.targets.get(sid)
            rows.append({"Thế hòa": i, "Nhóm": h.group(tie.group).name if tie.group in group_ids else "",
                         "Mã": sid, "Tên": h.subjects[sid].name, "Mức mục tiêu": t.code if t else "",
                         "Phương án chọn": chosen[sid].code if sid in chosen else "",
                         "Phiếu XS": xs_share(loaded, sid)[1]})
    return rows


def conflict_rows(result: SolveResult) -> list[dict]:
    kinds = {"lock": "Quyết định khóa mức", "direction": "Chiều thay đổi (chỉ hạ mức)", "rule": "Quy định"}
    return [{"Loại": kinds.get(c.kind, c.kind), "Quy tắc": c.rule, "Đối tượng": c.subject or "",
             "Nội dung": c.text, "Trích dẫn": c.citation} for c in result.conflicts]


# ---- quota groups ----------------------------------------------------------------------------------


def quota_rows(loaded: LoadedCase, result: SolveResult) -> list[dict]:
    """One row per quota group: XS before and after, T, the cap, XS as % of T and of the group, over-cap flag."""
    rows = []
    for r in quota_table(loaded, result):
        rows.append({
            "group": r["group"], "name": r["name"], "kind": KIND_LABELS[r["kind"]], "size": r["size"],
            "before_xs": r["before_xs"], "before_t": r["before_t"], "before_cap": r["before_cap"],
            "over_before": r["over_before"], "after_xs": r["after_xs"], "after_t": r["after_t"],
            "after_cap": r["after_cap"], "rule": r["after_rule"] or r["before_rule"],
            "pct_t": r["pct_t"], "pct_all": r["pct_all"],
        })
    return rows


def quota_display(rows: list[dict]) -> list[dict]:
    """Quota rows with Vietnamese headers, for the table under the chart."""
    def n(v: Any) -> str:
        return "—" if v is None else str(v)

    return [{"Nhóm tỷ lệ": r["name"], "Loại": r["kind"], "Số đối tượng": r["size"],
             "XS đề nghị": r["before_xs"], "T đề nghị": r["before_t"], "Tối đa trước": r["before_cap"],
             "Vượt trần trước khi giải": "VƯỢT" if r["over_before"] else "",
             "XS kết quả": n(r["after_xs"]), "T kết quả": n(r["after_t"]), "Tối đa XS": n(r["after_cap"]),
             "Quy tắc": r["rule"], "XS/T": percent_words(r["pct_t"]), "XS/cả nhóm": percent_words(r["pct_all"])}
            for r in rows]


def select_quota_rows(rows: list[dict], kinds: list[str] | None = None, only_over: bool = False,
                      only_with_xs: bool = False, limit: int = 40) -> list[dict]:
    """The groups a chart shows: filtered, over-cap first, then the largest, at most ``limit``."""
    chosen = [r for r in rows if (not kinds or r["kind"] in kinds) and (not only_over or r["over_before"])
              and (not only_with_xs or r["before_xs"] or r["after_xs"])]
    chosen.sort(key=lambda r: (not r["over_before"], -r["size"], r["name"]))
    return chosen[:limit]


def unique_labels(names: list[str], width: int = 60) -> list[str]:
    """Chart labels: names cut to ``width`` characters, numbered where two would read the same."""
    out, seen = [], Counter()
    for name in names:
        label = name if len(name) <= width else name[: width - 1] + "…"
        seen[label] += 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


# ---- the hierarchy tree ----------------------------------------------------------------------------


def tree_roots(loaded: LoadedCase) -> list[str]:
    """Organizations a user can open as the tree's root: upper and grassroots organizations, in file order."""
    subjects = loaded.case.subjects
    roots = [s.id for s in subjects if s.kind is Kind.party_org and s.tier in (Tier.upper, Tier.grassroots)]
    if not roots:
        roots = [s.id for s in subjects if s.kind is Kind.party_org and s.parent is None]
    return roots


def _tree_members(loaded: LoadedCase, root: str) -> list[tuple[str, str]]:
    """(subject, parent node) pairs of the subtree under ``root``: organizations, their members, the units
    beside them, the collectives leading them and the heads of those collectives — each subject once."""
    h = loaded.hierarchy
    out: list[tuple[str, str]] = []
    seen = {root}

    def add(sid: str, parent: str) -> bool:
        if sid in seen:
            return False
        seen.add(sid)
        out.append((sid, parent))
        return True

    def leadership(target: str) -> None:
        for c in h.collectives_leading.get(target, []):
            if add(c, target):
                for head in h.heads_of.get(c, []):
                    add(head, c)

    def visit(org: str) -> None:
        leadership(org)
        for u in h.subjects[org].same_level_units:
            if add(u, org):
                leadership(u)
        for sub in h.sub_orgs_of.get(org, []):
            if add(sub, org):
                visit(sub)
        for m in h.members_of.get(org, []):
            add(m, org)

    visit(root)
    return out


def tree_data(loaded: LoadedCase, result: SolveResult, root: str, max_nodes: int = 2500) -> dict:
    """The subtree under ``root`` as treemap columns (ids, labels, parents, colours, hover texts).

    Colours follow the final level (the given level for a unit, grey when not rated); a changed subject's
    label carries ▼ (lowered) or ▲ (raised). When the subtree has more than ``max_nodes`` subjects, members
    are left out and each organization's label says how many it has (``members_hidden``).
    """
    h = loaded.hierarchy
    pairs = _tree_members(loaded, root)
    hidden = len(pairs) + 1 > max_nodes
    if hidden:
        pairs = [(sid, p) for sid, p in pairs if h.subjects[sid].kind is not Kind.member]
    levels = result.levels or {}
    first_reason = {c.id: (c.reasons[0].text if c.reasons else "") for c in result.changes}
    cols: dict[str, list] = {"ids": [], "labels": [], "parents": [], "colors": [], "hover": [], "changed": []}
    for sid, parent in [(root, ""), *pairs]:
        s = h.subjects[sid]
        target = result.targets.get(sid)
        final = levels.get(sid) if s.decided else s.level
        mark = ""
        if s.decided and final is not None and target is not None and final != target:
            mark = " ▼" if final < target else " ▲"
        code = final.code if final is not None else "—"
        label = f"{s.name} · {code}{mark}"
        if hidden and s.kind is Kind.party_org and h.members_of.get(sid):
            label += f" ({len(h.members_of[sid])} đảng viên)"
        hover = [f"{s.name} ({sid})", KIND_LABELS[s.kind]]
        if s.kind is Kind.unit:
            hover.append(f"Mức đã có: {code}")
        elif not s.decided:
            hover.append("Không xếp loại")
        else:
            hover.append(f"Mục tiêu {target.code if target else '—'} → kết quả {code}")
            if sid in first_reason:
                hover.append(first_reason[sid])
        cols["ids"].append(sid)
        cols["labels"].append(label)
        cols["parents"].append(parent)
        cols["colors"].append(LEVEL_COLORS.get(final, UNRATED_COLOR) if final is not None else UNRATED_COLOR)
        cols["hover"].append("<br>".join(_wrap(x) for x in hover))
        cols["changed"].append(bool(mark))
    cols["members_hidden"] = hidden
    cols["size"] = len(cols["ids"])
    return cols


def _wrap(text: str, width: int = 90) -> str:
    """Break a long hover line on spaces (plotly hover boxes do not wrap)."""
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    return "<br>".join(lines)


def branches_of(loaded: LoadedCase, root: str) -> list[str]:
    """The root and every organization below it (chi bộ, đảng bộ bộ phận), in tree order."""
    return [root] + [sid for sid, _ in _tree_members(loaded, root)
                     if loaded.hierarchy.subjects[sid].kind is Kind.party_org]


def attached_rows(loaded: LoadedCase, result: SolveResult, org: str) -> list[dict]:
    """An organization's own row, then its collectives and their heads, then its members."""
    h = loaded.hierarchy
    ids = [org]
    for c in h.collectives_leading.get(org, []):
        ids.append(c)
        ids.extend(h.heads_of.get(c, []))
    ids.extend(h.members_of.get(org, []))
    return subject_rows(loaded, result, ids)


# ---- explanations: why, why not, what keeping it costs ---------------------------------------------


def subject_choices(loaded: LoadedCase, result: SolveResult | None = None, query: str = "",
                    limit: int = 500) -> list[str]:
    """Decided subjects matching ``query`` (id or name), changed ones first, at most ``limit``."""
    q = _fold(query)
    changed = {c.id for c in result.changes} if result is not None else set()
    ids = [s.id for s in loaded.case.subjects if s.decided and (not q or q in _fold(f"{s.id} {s.name}"))]
    ids.sort(key=lambda sid: sid not in changed)  # stable: file order inside each part
    return ids[:limit]


def locked_choices(loaded: LoadedCase, query: str = "", exclude: list[str] | tuple[str, ...] = (),
                   limit: int = 500) -> list[str]:
    """Subjects whose level the case locks, matching ``query`` (id or name), those of ``exclude`` left out."""
    q, skip = _fold(query), set(exclude)
    return [s.id for s in loaded.case.subjects
            if s.lock is not None and s.id not in skip and (not q or q in _fold(f"{s.id} {s.name}"))][:limit]


def subject_label(loaded: LoadedCase, result: SolveResult | None, sid: str) -> str:
    s = loaded.hierarchy.subjects[sid]
    if result is not None and result.levels and sid in result.levels:
        t, f = result.targets[sid], result.levels[sid]
        move = f"{t.code} → {f.code}" if t != f else f"giữ {f.code}"
        return f"{s.name} ({sid}) — {move}"
    return f"{s.name} ({sid})"


def why_moved(loaded: LoadedCase, result: SolveResult, sid: str) -> dict:
    """Why a subject ends where it does: its change sentence and reasons, or that it kept its target."""
    s = loaded.hierarchy.subjects[sid]
    target = result.targets.get(sid)
    final = result.levels.get(sid) if result.levels else None
    by_id = {c.id: c for c in result.changes}
    change = by_id.get(sid)
    return {
        "id": sid, "name": s.name, "kind": KIND_LABELS[s.kind], "context": context_name(loaded, sid),
        "target": target, "final": final, "moved": change is not None,
        "sentence": render_change(loaded, change, by_id) if change is not None else "",
        "reasons": [{"rule": r.rule, "kind": REASON_KIND_LABELS.get(r.kind, r.kind), "citation": r.citation,
                     "text": r.text} for r in (change.reasons if change else ())],
        "source": {"votes": "theo phiếu biểu quyết (V1)", "target": "ghi sẵn trong hồ sơ",
                   "proposed": "theo mức đề xuất"}.get(s.target_source(), ""),
        "votes": s.votes.as_dict() if s.votes is not None else None, "voters": s.voters,
        "lock": s.lock,
    }


def quota_ranking(loaded: LoadedCase, result: SolveResult, sid: str) -> dict | None:
    """The quota group of ``sid``: its numbers, and everyone proposed XS ranked by XS ballots (the order in
    which the least-change objective moves them), with who kept XS. None when ``sid`` has no quota group."""
    h = loaded.hierarchy
    gid = h.group_of.get(sid)
    if gid is None:
        return None
    group = h.group(gid)
    table = {r["group"]: r for r in quota_rows(loaded, result)}.get(gid)
    order = {s: i for i, s in enumerate(result.targets)}
    levels = result.levels or {}
    candidates = [m for m in group.members if result.targets.get(m) is Level.XS or levels.get(m) is Level.XS]

    def key(m: str) -> tuple:
        share = xs_share(loaded, m)[0]
        s = h.subjects[m]
        strength = share if share is not None and s.target is None else Fraction(1)
        return (-strength, order.get(m, 0))

    candidates.sort(key=key)
    rows = []
    for rank, m in enumerate(candidates, start=1):
        s = h.subjects[m]
        final = levels.get(m)
        rows.append({"Thứ tự": rank, "Mã": m, "Tên": s.name, "Phiếu XS": xs_share(loaded, m)[1],
                     "Mức mục tiêu": result.targets[m].code, "Kết quả": final.code if final else "",
                     "Giữ XS": "có" if final is Level.XS else "không", "Khóa": s.lock.code if s.lock else "",
                     "Đang xem": "◀" if m == sid else ""})
    return {"group": gid, "name": group.name, "size": len(group.members), "numbers": table, "rows": rows,
            "is_candidate": sid in candidates}


def keep_cost(loaded: LoadedCase, base: SolveResult, sid: str, keep: Level | None = None,
              time_limit: float = 60.0, workers: int = 2) -> dict:
    """What keeping ``sid`` at ``keep`` (default: its target) costs: re-solve with that lock and compare.

    Returns ``possible``, the report's lines (``solver.explanations.explain.render_why_not``), the objective before and
    after, the other subjects that would move, and the conflicting decisions when it cannot be.
    """
    w = hold(loaded, sid, keep, base=base, opts=SolveOptions(time_limit=float(time_limit), workers=int(workers)))
    subjects = loaded.hierarchy.subjects
    return {
        "id": sid, "keep": w.keep.code, "possible": w.possible, "status": w.held.status,
        "proven": w.held.proven, "extra_changes": w.extra_changes,
        "base_objective": base.objective, "held_objective": w.held.objective,
        "lines": render_why_not(loaded, w),
        "moved": [{"Mã": i, "Tên": subjects[i].name, "Phương án đã chọn": a.code, "Nếu giữ": b.code}
                  for i, a, b in w.moved if i != sid],
        "conflicts": [{"Quy tắc": c.rule, "Đối tượng": c.subject or "", "Nội dung": c.text,
                       "Trích dẫn": c.citation} for c in w.held.conflicts],
    }


# ---- what-if ---------------------------------------------------------------------------------------


def empty_delta(question: str = "", base: str = "") -> dict:
    """A what-if delta that changes nothing, in the what-if file's layout."""
    return {"whatif": question, "base": base, "profile": None, "options": {}, "lock": {}, "unlock": [],
            "facts": {}, "votes": {}, "target": {}}


def delta_changes_something(delta: dict) -> bool:
    return bool(delta.get("profile") or any(delta.get(k) for k in ("options", "lock", "unlock", "facts",
                                                                    "votes", "target")))


def delta_from_file(data: Any, name: str = "<giả định>") -> dict:
    """A what-if file's content as an editable delta; ``CaseInvalid`` naming each wrong field otherwise."""
    if not isinstance(data, dict) or "whatif" not in data:
        raise CaseInvalid([InputProblem(name, "tệp này không phải tệp giả định (thiếu trường «whatif»)",
                                        field="whatif")])
    data = nfc_deep(data)
    problems: list[InputProblem] = []

    def err(fld: str, msg: str) -> None:
        problems.append(InputProblem(name, msg, field=fld))

    for key in sorted(k for k in data if k not in (*DELTA_KEYS, "description", "rerate", "expect")):
        err(key, "trường này không có trong định dạng tệp giả định")
    if data.get("rerate"):
        err("rerate", "giả định xếp loại lại (rerate) chỉ dùng được bằng dòng lệnh `xeploai compare`")
    delta = empty_delta(str(data.get("whatif") or ""), str(data.get("base") or ""))
    for key in ("options", "lock", "facts", "votes", "target"):
        value = data.get(key) or {}
        if isinstance(value, dict):
            delta[key] = copy.deepcopy(value)
        else:
            err(key, "phải là một đối tượng JSON {…}")
    unlock = data.get("unlock") or []
    if isinstance(unlock, list) and all(isinstance(x, str) for x in unlock):
        delta["unlock"] = list(unlock)
    else:
        err("unlock", "phải là một danh sách mã đối tượng […]")
    if data.get("profile") is not None:
        try:
            delta["profile"] = load_catalogue().profile(str(data["profile"])).id
        except UnknownProfile as exc:
            err("profile", str(exc))
    try:
        OptionOverrides.model_validate(delta["options"])
    except ValidationError as exc:
        for e in exc.errors():
            err("options." + ".".join(str(x) for x in e["loc"]), pydantic_message(e))
    for key, allow_none in (("lock", False), ("target", True)):
        for sid, code in delta[key].items():
            if code is None and allow_none:
                continue
            try:
                delta[key][sid] = parse_level(code).code
            except ValueError as exc:
                err(f"{key}.{sid}", str(exc))
    for sid, tally in delta["votes"].items():
        try:
            delta["votes"][sid] = Votes.model_validate(tally).as_dict()
        except ValidationError as exc:
            err(f"votes.{sid}", "; ".join(pydantic_message(e) for e in exc.errors()))
    for sid, facts in delta["facts"].items():
        if not isinstance(facts, dict):
            err(f"facts.{sid}", "phải là một đối tượng JSON {…}")
    if problems:
        raise CaseInvalid(problems)
    return delta


def check_delta_ids(known, delta: dict, file: str = "<giả định>") -> None:
    """``CaseInvalid`` naming every id of ``delta`` that is not in ``known`` (the case's subject ids)."""
    problems = [InputProblem(file, f"không có đối tượng mang mã «{sid}» trong hồ sơ", field=f"{key}.{sid}")
                for key in ("lock", "facts", "votes", "target") for sid in (delta.get(key) or {})
                if sid not in known]
    problems += [InputProblem(file, f"không có đối tượng mang mã «{sid}» trong hồ sơ", field=f"unlock.{sid}")
                 for sid in delta.get("unlock") or [] if sid not in known]
    if problems:
        raise CaseInvalid(problems)


def apply_delta(base_data: dict, delta: dict, file: str = "<giả định>") -> dict:
    """The raw data of the what-if case: ``delta`` applied to a deep copy of ``base_data`` (never changed).

    The delta has the what-if file's layout: ``profile``, ``options`` (merged over the case's), ``lock``
    (id → level code), ``unlock`` (ids), ``facts`` (id → facts merged over the subject's own; None removes
    one), ``votes`` (id → tally) and ``target`` (id → level code, None removes it). Unknown ids raise
    ``CaseInvalid``; everything else is checked by ``parse_case`` on the result.
    """
    data = copy.deepcopy(base_data)
    by_id = {s.get("id"): s for s in data.get("subjects", []) if isinstance(s, dict)}
    check_delta_ids(by_id, delta, file)
    if delta.get("profile"):
        data["profile"] = delta["profile"]
    if delta.get("options"):
        data["options"] = {**(data.get("options") or {}), **delta["options"]}
    for sid in delta.get("unlock") or []:
        by_id[sid].pop("lock", None)
    for sid, code in (delta.get("lock") or {}).items():
        by_id[sid]["lock"] = code
    for sid, changes in (delta.get("facts") or {}).items():
        merged = {**(by_id[sid].get("facts") or {}), **changes}
        merged = {k: v for k, v in merged.items() if v is not None}
        if merged:
            by_id[sid]["facts"] = merged
        else:
            by_id[sid].pop("facts", None)
    for sid, code in (delta.get("target") or {}).items():
        if code is None:
            by_id[sid].pop("target", None)
        else:
            by_id[sid]["target"] = code
    for sid, tally in (delta.get("votes") or {}).items():
        by_id[sid]["votes"] = dict(tally)
    question = delta.get("whatif") or "giả định"
    data["name"] = f"{data.get('name', '')} — giả định: {question}"
    data.pop("expect", None)
    return data


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


class WhatIfSession:
    """The what-ifs of one base case, each re-solved only where it differs (``solver.engine.incremental.Session``:
    a lock, fact, vote or target change of a few subjects takes a fraction of a second even for a
    province; options, profile or re-rating are solved in full). Its answers are the full solve's
    (tests/test_incremental.py, tests/test_app.py). One app process may share it between browser
    sessions: a lock keeps their what-ifs apart. The last ``ANSWERS`` what-ifs are kept (a rerun of the
    page asks again)."""

    WHATIF_FILE = "<giả định>"
    ANSWERS = 8

    def __init__(self, loaded: LoadedCase, raw: dict | None, time_limit: float = 60.0, workers: int = 2,
                 progress: Callable[[str], None] | None = None):
        """Solve the base case; ``progress`` is told each step of that solve, in Vietnamese."""
        from solver.engine.incremental import Session

        self._opts = SolveOptions(time_limit=float(time_limit), workers=int(workers))
        self._session = Session(loaded, dataclasses.replace(self._opts, progress=progress), raw=raw)
        self._session.opts = self._opts
        self._lock = threading.Lock()
        self._answers = _Recent(self.ANSWERS)  # what-if text -> (case, solve, mode)

    @property
    def result(self) -> SolveResult:
        """The base case's own solve."""
        return self._session.result

    def answer(self, delta: dict) -> tuple[LoadedCase, SolveResult, str] | None:
        """The answer of a what-if already solved, or None."""
        with self._lock:
            return self._answers.get(whatif_text(delta))

    def solve(self, delta: dict, base_name: str = "", progress: Callable[[str], None] | None = None
              ) -> tuple[LoadedCase, SolveResult, str]:
        """(what-if case, its solve, "incremental" or "full") of an app delta; ``CaseInvalid`` naming the
        wrong field when the delta names an unknown subject or makes the case invalid. ``progress`` is told
        the steps of a full solve."""
        from model.whatif import parse_whatif

        text = whatif_text(delta)
        with self._lock:
            found = self._answers.get(text)
            if found is not None:
                return found
            self._session.opts = dataclasses.replace(self._opts, progress=progress)
            try:
                loaded, result = self._session.apply(parse_whatif(json.loads(text), self.WHATIF_FILE),
                                                     self.WHATIF_FILE, base_name or None)
            finally:
                self._session.opts = self._opts
            outcome = (loaded, result, self._session.last_mode)
            self._answers.put(text, outcome)
            return outcome


class SessionShelf:
    """The solved base cases (``WhatIfSession``) of one app process, shared by reruns, pages and browser
    sessions: the ``size`` most recently used are kept. A case asked for by two sessions at once is solved
    once (solves take turns)."""

    def __init__(self, size: int = 2):
        self._items = _Recent(size)
        self._lock = threading.Lock()
        self._solving = threading.Lock()

    def get(self, key) -> WhatIfSession | None:
        with self._lock:
            return self._items.get(key)

    def get_or_solve(self, key, solve: Callable[[], WhatIfSession],
                     waiting: Callable[[], None] | None = None) -> WhatIfSession:
        """The session of ``key``, solved by ``solve()`` if it is not kept; ``waiting()`` is called first
        when another solve is running (this one waits for it: it may be the same case)."""
        found = self.get(key)
        if found is not None:
            return found
        if not self._solving.acquire(blocking=False):
            if waiting is not None:
                waiting()
            self._solving.acquire()
        try:
            found = self.get(key)
            if found is None:
                found = solve()
                with self._lock:
                    self._items.put(key, found)
            return found
        finally:
            self._solving.release()


def whatif_mode_words(mode: str, result: SolveResult) -> str:
    """How a what-if was solved, in words (the answer is the same either way)."""
    seconds = f"{result.wall_time:.2f}".replace(".", ",")
    if mode == "incremental":
        return (f"Chỉ giải lại phần hồ sơ mà giả định chạm tới ({seconds} giây); kết quả giống hệt giải lại "
                "toàn bộ hồ sơ.")
    return f"Đã giải lại toàn bộ hồ sơ với giả định ({seconds} giây)."


def whatif_version(base_digest: str, delta: dict) -> str:
    """The audit log's version of a what-if case: the SHA-256 of its base's version and of the what-if
    file that states the delta (the what-if case itself is never written out as a whole)."""
    return audit.sha256_text(f"{base_digest}\n{whatif_text(delta)}")


def delta_warnings(base_data: dict, delta: dict) -> list[str]:
    """Edits that will have no effect (new votes for a subject whose target is written in the case)."""
    by_id = {s.get("id"): s for s in base_data.get("subjects", []) if isinstance(s, dict)}
    out = []
    for sid in delta.get("votes") or {}:
        s = by_id.get(sid)
        target_removed = sid in (delta.get("target") or {}) and delta["target"][sid] is None
        if s is not None and s.get("target") is not None and not target_removed:
            out.append(f"Phiếu mới của «{s.get('name', sid)}» ({sid}) không có tác dụng: đối tượng này có mức mục "
                       f"tiêu ghi sẵn ({s['target']}), mức mục tiêu được dùng thay cho phiếu.")
    return out


def whatif_text(delta: dict, notes: dict | None = None) -> str:
    """The delta as a what-if file (``model.whatif`` format): only what differs, deterministic JSON. With
    ``notes`` (id → reason and author of a lock or lift), its ``description`` lists the committee decisions
    (:func:`notes_description`)."""
    out: dict[str, Any] = {"whatif": delta.get("whatif") or "Giả định", "base": delta.get("base") or ""}
    description = notes_description(delta, notes or {})
    if description:
        out["description"] = description
    if delta.get("profile"):
        out["profile"] = delta["profile"]
    for key in ("options", "lock", "facts", "votes", "target"):
        if delta.get(key):
            out[key] = delta[key]
    if delta.get("unlock"):
        out["unlock"] = sorted(delta["unlock"])
    return json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def case_text(data: dict) -> str:
    """Raw case data as JSON text."""
    return json.dumps(data, ensure_ascii=False, indent=1)


def option_values(loaded: LoadedCase, delta: dict) -> dict:
    """The option values a what-if runs with: the case's, with the delta's profile and options on top."""
    profile = delta.get("profile") or loaded.case.profile
    given = {**loaded.case.options.given(), **(delta.get("options") or {})}
    return resolve_options(profile, OptionOverrides.model_validate(given)).model_dump()


def options_delta(loaded: LoadedCase, profile: str | None, values: dict) -> dict:
    """The options to write in a delta: those of ``values`` that differ from what the case (under ``profile``)
    already resolves to."""
    base = resolve_options(profile or loaded.case.profile, loaded.case.options).model_dump()
    return {k: v for k, v in values.items() if k in base and base[k] != v}


def editor_scopes(loaded: LoadedCase) -> list[tuple[str, str]]:
    """(key, label) of the slices the vote-and-fact editor shows: each organization with its members, then
    collectives and leaders by kind."""
    subjects = loaded.case.subjects
    out = [(f"org:{s.id}", f"{s.name} (tổ chức, tổ chức trực thuộc và đảng viên trực tiếp)") for s in subjects
           if s.kind is Kind.party_org]
    for k in (Kind.collective, Kind.leader):
        if any(s.kind is k for s in subjects):
            out.append((f"kind:{k.value}", KIND_LABELS[k]))
    return out


def scope_ids(loaded: LoadedCase, scope: str, query: str = "", limit: int = 300) -> list[str]:
    """The decided subjects of one editor slice (or, with ``query``, of the whole case), at most ``limit``."""
    h = loaded.hierarchy
    q = _fold(query)
    if q:
        ids = [s.id for s in loaded.case.subjects if q in _fold(f"{s.id} {s.name}")]
    elif scope.startswith("org:"):
        org = scope[4:]
        ids = [org, *h.sub_orgs_of.get(org, []), *h.members_of.get(org, [])] if org in h.subjects else []
    elif scope.startswith("kind:"):
        ids = [s.id for s in loaded.case.subjects if s.kind.value == scope[5:]]
    else:
        ids = []
    return [i for i in ids if h.subjects[i].decided][:limit]


def _base_cells(s) -> dict:
    v = s.votes.as_dict() if s.votes is not None else {k: None for k in VOTE_KEYS}
    f = s.facts
    return {**{k: v[k] for k in VOTE_KEYS},
            "disciplined": f.disciplined, "self_remedied": f.self_remedied, "degeneration": f.degeneration,
            "targets_below_half": f.targets_below_half, "sick_leave_months": f.sick_leave_months,
            "civil_servant_level": f.civil_servant_level.code if f.civil_servant_level is not None else None}


def editor_rows(loaded: LoadedCase, ids: list[str], delta: dict) -> list[dict]:
    """Rows for the vote-and-fact editor: the case's values with the delta's edits on top."""
    rows = []
    for sid in ids:
        s = loaded.hierarchy.subjects[sid]
        cells = _base_cells(s)
        if sid in (delta.get("votes") or {}):
            cells.update({k: delta["votes"][sid].get(k, 0) for k in VOTE_KEYS})
        for k, v in (delta.get("facts") or {}).get(sid, {}).items():
            if k in cells:
                cells[k] = v if v is not None else (False if isinstance(cells[k], bool) else None)
        target = s.target_level()
        rows.append({"id": sid, "name": s.name, "kind": KIND_LABELS[s.kind],
                     "target": target.code if target is not None else "", "voters": s.voters, **cells})
    return rows


def _plain(v: Any) -> Any:
    """A numpy scalar (what a data editor hands back) as the Python value it holds."""
    return v.item() if hasattr(v, "item") and not isinstance(v, (str, bytes)) else v


def _blank(v: Any) -> bool:
    return v is None or v == "" or (isinstance(v, float) and v != v)


def _same(a: Any, b: Any) -> bool:
    """Whether an editor cell holds the case's value (blank, NaN and None alike; False equals a blank box)."""
    a, b = _plain(a), _plain(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return (False if _blank(a) else bool(a)) == (False if _blank(b) else bool(b))
    if _blank(a) or _blank(b):
        return _blank(a) and _blank(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


def harvest_edits(loaded: LoadedCase, edited: list[dict], delta: dict) -> dict:
    """A new delta with the editor's rows folded in: per subject, votes and facts that differ from the case
    are recorded; those set back to the case's values are dropped. Returns a new dict."""
    out = copy.deepcopy(delta)
    votes, facts = out.setdefault("votes", {}), out.setdefault("facts", {})
    for row in edited:
        sid = row.get("id")
        if sid not in loaded.hierarchy.subjects:
            continue
        base = _base_cells(loaded.hierarchy.subjects[sid])
        tally = {k: _plain(row.get(k)) for k in VOTE_KEYS}
        if all(_same(tally[k], base[k]) for k in VOTE_KEYS):
            votes.pop(sid, None)
        else:
            votes[sid] = {k: int(tally[k]) if not _blank(tally[k]) else 0 for k in VOTE_KEYS}
        changed = {}
        for k in EDITABLE_FACTS:
            value = _plain(row.get(k))
            if not _same(value, base[k]):
                if isinstance(base[k], bool):
                    value = bool(value)
                elif k == "sick_leave_months":
                    value = None if _blank(value) else float(value)
                elif _blank(value):
                    value = None
                changed[k] = value
        if changed:
            facts[sid] = changed
        else:
            facts.pop(sid, None)
    return out


def difference_rows(base_loaded: LoadedCase, base: SolveResult, what_loaded: LoadedCase,
                    what: SolveResult) -> dict:
    """The what-if against the base: status, objective before and after, who ends differently and why, quota
    groups whose numbers differ (``solver.explanations.compare.compare`` when it is installed)."""
    try:
        from solver.explanations.compare import compare
    except ImportError:  # the comparison module is optional: who moved differently is enough
        compare = None
    out: dict[str, Any] = {
        "base_status": STATUS_LABELS[base.status], "whatif_status": STATUS_LABELS[what.status],
        "whatif_proven": what.proven, "base_objective": base.objective, "whatif_objective": what.objective,
        "conflicts": conflict_rows(what), "moves": [], "quota": [], "options_changed": [],
    }
    comparable = base.levels and what.levels
    subjects = what_loaded.hierarchy.subjects
    if compare is not None:
        cmp = compare(base_loaded, base, what_loaded, what)
        for m in cmp.moves:
            out["moves"].append(_move_row(m.id, m.name, m.base_final, m.whatif_final, m.reasons))
        for q in cmp.quota:
            def cell(r: dict | None) -> str:
                if r is None:
                    return "—"
                if r["after_xs"] is None:
                    return f"mục tiêu XS {r['before_xs']}, tối đa {r['before_cap']}"
                return f"XS {r['after_xs']}, T {r['after_t']}, tối đa {r['after_cap']}"
            out["quota"].append({"Nhóm tỷ lệ": q.name, "Gốc": cell(q.base), "Giả định": cell(q.whatif)})
        cat = load_catalogue()
        for name, (a, b) in sorted(cmp.options_changed.items()):
            out["options_changed"].append({"Tùy chọn": cat.option(name).title,
                                           "Gốc": option_words(name, a, base.options),
                                           "Giả định": option_words(name, b, what.options)})
    elif comparable:
        why = {c.id: c.reasons for c in what.changes}
        for sid, a in base.levels.items():
            b = what.levels.get(sid)
            if b is not None and a != b:
                out["moves"].append(_move_row(sid, subjects[sid].name, a, b, why.get(sid, ())))
    out["comparable"] = bool(comparable)
    return out


def _move_row(sid: str, name: str, a: Level | None, b: Level | None, reasons) -> dict:
    why = " | ".join(r.text + (f" [{r.rule}, {r.citation}]" if r.citation else "") for r in reasons)
    return {"Mã": sid, "Tên": name, "Phương án gốc": a.code if a else "—", "Giả định": b.code if b else "—",
            "Lý do trong giả định": why or "giữ đúng mức mục tiêu"}


# ---- committee decisions: the reason and the author of a lock ---------------------------------------

#: Words of the lock form, shared by the page and its messages.
REASON_LABEL = "Lý do"
AUTHOR_LABEL = "Người quyết định"
MAX_REASON, MAX_AUTHOR = 500, 80
#: The lines a saved what-if file carries in its ``description`` for each lock and lift of a lock.
NOTES_HEAD = "Quyết định khóa mức của cấp có thẩm quyền (xeploai ghi; mỗi dòng một quyết định):"
_NOTE_LOCK = "- Khóa «{sid}» ở mức {level} | Lý do: {reason} | Người quyết định: {author}"
_NOTE_UNLOCK = "- Bỏ khóa «{sid}» | Lý do: {reason} | Người quyết định: {author}"


class LockRefused(ValueError):
    """A lock (or a lift of a lock) the app does not take: its Vietnamese message says what to add."""


def _ascii_fold(text: str) -> str:
    """Case, spaces and diacritics folded away (đ → d): a name typed without its accents still matches."""
    decomposed = unicodedata.normalize("NFD", nfc(text).replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def person_named_in(loaded: LoadedCase, text: str) -> tuple[str, str] | None:
    """(id, name) of the first party member or leader whose full name appears in ``text``, or None: the
    audit log keeps ids, never the names of people."""
    folded = f" {_ascii_fold(text)} "
    if not folded.strip():
        return None
    for s in loaded.case.subjects:
        if s.kind in (Kind.member, Kind.leader):
            name = _ascii_fold(s.name)
            if " " in name and f" {name} " in folded:
                return s.id, s.name
    return None


def lock_note(loaded: LoadedCase, sid: str, level: str | None, reason: Any, author: Any) -> dict:
    """The note of a committee lock (``level`` a code) or lift of a lock (``level`` None): its stated reason
    and who decided (a role or an account, not a person's name). ``LockRefused`` says what is missing."""
    reason = " ".join(nfc(str(reason or "")).split())
    author = " ".join(nfc(str(author or "")).split())
    verb = "Chưa khóa" if level is not None else "Chưa bỏ khóa"
    missing = [w for w, v in ((REASON_LABEL.lower(), reason), (AUTHOR_LABEL.lower(), author)) if not v]
    if missing:
        raise LockRefused(f"{verb}: mỗi quyết định khóa hay bỏ khóa mức phải ghi {' và '.join(missing)} "
                          f"(ô «{REASON_LABEL}» và «{AUTHOR_LABEL}»).")
    if len(reason) > MAX_REASON:
        raise LockRefused(f"{verb}: lý do quá dài (tối đa {MAX_REASON} ký tự).")
    if len(author) > MAX_AUTHOR:
        raise LockRefused(f"{verb}: người quyết định quá dài (tối đa {MAX_AUTHOR} ký tự): ghi chức danh hoặc "
                          "mã tài khoản.")
    for what, text in ((REASON_LABEL.lower(), reason), (AUTHOR_LABEL.lower(), author)):
        found = person_named_in(loaded, text)
        if found is not None:
            raise LockRefused(f"{verb}: {what} có họ tên «{found[1]}». Nhật ký kiểm tra chỉ lưu mã, không lưu họ "
                              f"tên: hãy ghi mã {found[0]} hoặc chức danh thay cho họ tên.")
    if level is not None and level not in {lv.code for lv in LEVELS_DESC}:
        raise LockRefused(f"{verb}: mức «{level}» không có trong danh mục (XS, T, HT, K).")
    return {"level": level, "reason": reason, "author": author}


def decisions(delta: dict) -> list[tuple[str, str | None]]:
    """The committee decisions of a what-if: (id, level code) for each lock, (id, None) for each lift of a
    base lock, by id."""
    out = [(sid, code) for sid, code in (delta.get("lock") or {}).items()]
    out += [(sid, None) for sid in delta.get("unlock") or [] if sid not in (delta.get("lock") or {})]
    return sorted(out)


def missing_notes(delta: dict, notes: dict) -> list[tuple[str, str | None]]:
    """The decisions of a what-if that have no reason and author yet (a what-if file written without them)."""
    return [(sid, level) for sid, level in decisions(delta)
            if (notes.get(sid) or {}).get("level", "?") != level]


def notes_description(delta: dict, notes: dict) -> str | None:
    """The decisions' reasons and authors as the ``description`` of a what-if file (the what-if format has
    no field of its own for them; its ``description`` is free text, so older files and readers are unchanged)."""
    lines = []
    for sid, level in decisions(delta):
        note = notes.get(sid)
        if not note or note.get("level", "?") != level:
            continue
        pattern = _NOTE_LOCK if level is not None else _NOTE_UNLOCK
        lines.append(pattern.format(sid=sid, level=level, reason=note["reason"], author=note["author"]))
    return "\n".join([NOTES_HEAD, *lines]) if lines else None


_NOTE_RE = re.compile(r"^- (?:Khóa «(?P<lsid>.+?)» ở mức (?P<level>XS|T|HT|K)|Bỏ khóa «(?P<usid>.+?)») \| "
                      r"Lý do: (?P<reason>.+) \| Người quyết định: (?P<author>.+)$")


def notes_from_description(description: Any) -> dict:
    """The reasons and authors a what-if file's ``description`` carries (:func:`notes_description`); lines
    written by hand in another shape are ignored."""
    out: dict[str, dict] = {}
    if not isinstance(description, str):
        return out
    for line in nfc(description).splitlines():
        m = _NOTE_RE.match(line.strip())
        if m:
            sid = m.group("lsid") or m.group("usid")
            out[sid] = {"level": m.group("level"), "reason": m.group("reason").strip(),
                        "author": m.group("author").strip()}
    return out


# ---- the audit log of the app ----------------------------------------------------------------------


def _app_log(folder: str | Path | None) -> tuple[Path | None, str | None]:
    """(the app's log, None), or (None, a warning) when its folder cannot be made; (None, None) when off."""
    folder = case_folder() if folder is None else Path(folder)
    path = audit_log_path(folder)
    if path is not None and path.parent == folder:
        try:
            access.ensure_case_dir(folder)
        except access.AccessError as exc:
            return None, f"Cảnh báo: không ghi được nhật ký kiểm tra: {exc}"
    return path, None


def log_app_solve(key: str, digest: str, result: SolveResult | None, time_limit: float, workers: int,
                  folder: str | Path | None = None, case_name: str | None = None) -> str | None:
    """Record a solve made in the app in the case folder's log (``result`` None: the solver failed on the
    case ``case_name``); None, or a warning to show."""
    path, warning = _app_log(folder)
    return warning or audit.log_solve_at(path, case_key=key, case_hash=digest, result=result,
                                         opts=SolveOptions(time_limit=float(time_limit), workers=int(workers)),
                                         case_name=case_name)


def log_app_export(key: str, digest: str, kind: str, file_name: str, data: bytes | str,
                   folder: str | Path | None = None) -> str | None:
    """Record a download made in the app (``file_name`` and the SHA-256 of its bytes); None, or a warning."""
    path, warning = _app_log(folder)
    content = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return warning or audit.log_export_at(path, case_key=key, case_hash=digest, kind=kind, path=file_name,
                                          sha256=sha256_bytes(content))


def log_app_locks(key: str, digest: str, delta: dict, notes: dict,
                  folder: str | Path | None = None) -> tuple[int, str | None]:
    """Record the committee decisions of a what-if on a case (each distinct one once); (count, warning)."""
    path, warning = _app_log(folder)
    if warning:
        return 0, warning
    locks = [(sid, level, notes[sid]["reason"], notes[sid]["author"]) for sid, level in decisions(delta)
             if (notes.get(sid) or {}).get("level", "?") == level]
    return audit.log_locks_at(path, case_key=key, case_hash=digest, locks=locks)


AUDIT_STATUS_WORDS = {"optimal": "tối ưu, đã chứng minh", "feasible": "khả thi, chưa chứng minh tối ưu",
                      "conflict": "mâu thuẫn", "invalid": "dữ liệu không hợp lệ",
                      "unknown": "hết thời gian, chưa có phương án", "error": "lỗi bộ giải"}
EXPORT_WORDS = {"json": "kết quả JSON", "docx": "báo cáo Word", "xlsx": "kết quả Excel", "whatif": "tệp giả định"}


def local_time(at: str) -> str:
    """A log time (UTC, ISO) as this machine's local time, the Vietnamese way: 15/12/2018 14:05:09."""
    try:
        moment = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return str(at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone().strftime("%d/%m/%Y %H:%M:%S")


def history_rows(events: list[dict]) -> list[dict]:
    """Audit events as table rows with Vietnamese headers, newest first (every cell text, blank when it
    does not apply)."""
    rows = []
    for e in sorted(events, key=lambda e: e["seq"], reverse=True):
        row = {"Số": e["seq"], "Thời gian": local_time(e["at"]), "Việc": "", "Bộ quy định": "", "Trạng thái": "",
               "Số thay đổi": "", "Mã kết quả": "", "Đối tượng": "", "Mức khóa": "", "Lý do": "",
               "Người quyết định": "", "Tệp": "", "Phiên bản hồ sơ": e["case_hash"][:12]}
        if e["kind"] == "solve":
            row["Việc"] = "Giải giả định" if "— giả định:" in (e["case_name"] or "") else "Xếp loại"
            row["Bộ quy định"] = e["profile"]
            row["Trạng thái"] = AUDIT_STATUS_WORDS.get(e["status"], e["status"])
            row["Số thay đổi"] = "—" if e["changed"] is None else str(e["changed"])
            row["Mã kết quả"] = (e["result_hash"] or "")[:12] or "—"
        elif e["kind"] == "lock":
            row["Việc"] = "Khóa mức" if e["level"] is not None else "Bỏ khóa"
            row["Đối tượng"] = e["subject_id"]
            row["Mức khóa"] = e["level"] or "bỏ khóa"
            row["Lý do"], row["Người quyết định"] = e["reason"], e["author"]
        else:
            row["Việc"] = "Xuất tệp: " + EXPORT_WORDS.get(e["export_kind"], e["export_kind"])
            row["Tệp"] = e["path"]
            row["Mã kết quả"] = e["sha256"][:12]
        rows.append(row)
    return rows


def verify_words(problems: list[str], count: int) -> tuple[bool, str]:
    """(intact, the verdict of ``AuditLog.verify`` in a sentence)."""
    if not problems:
        return True, (f"Nhật ký nguyên vẹn: {count} bản ghi, chuỗi mã băm không đứt, không bản ghi nào bị sửa hay "
                      "xóa.")
    return False, (f"Nhật ký có dấu hiệu bị can thiệp ({len(problems)} vấn đề): " + "; ".join(problems) + ".")


def case_history(key: str, digests: tuple[str, ...] | list[str] = (), folder: str | Path | None = None) -> dict:
    """The history of one case in the app's log, for the page «Nhật ký»: ``state`` (off, empty, ok or error),
    the log's path, the table rows (newest first), and the verdict of the whole log's check."""
    path = audit_log_path(case_folder() if folder is None else folder)
    out: dict[str, Any] = {"state": "off", "path": str(path) if path else "", "rows": [], "intact": True,
                           "verdict": "", "count": 0, "error": ""}
    if path is None:
        return out
    if not path.exists():  # looking must not create the log
        out["state"] = "empty"
        return out
    try:
        with audit.AuditLog(path) as log:
            events = log.case_history(key, digests)
            problems = log.verify()
            count = len(log)
    except (audit.AuditError, ValueError) as exc:
        out.update(state="error", error=str(exc))
        return out
    out["intact"], out["verdict"] = verify_words(problems, count)
    out.update(state="ok", rows=history_rows(events), count=count)
    return out


# ---- the rules -------------------------------------------------------------------------------------


def rule_items() -> list[dict]:
    """The catalogue's rules in RULES.md order: id, title, family, who it applies to, summary, citations."""
    kinds = {k.value: KIND_LABELS[k] for k in Kind}
    cat = load_catalogue()
    return [{"id": r.id, "title": r.title, "family": FAMILY_LABELS.get(r.family, r.family),
             "applies_to": ", ".join(kinds[k] for k in r.applies_to), "summary": r.summary,
             "options": [cat.option(o).title for o in r.options],
             "effective_from": r.effective_from.strftime("%d/%m/%Y"),
             "cite": r.cite, "citations": [{"label": c.label, "quote": c.quote} for c in r.citations]}
            for r in cat.rules]


def options_in_force(options: dict) -> list[dict]:
    """Every rule option with its value in words and whether it is the default (``options``: a plain dict)."""
    rows = []
    for spec in load_catalogue().options:
        if spec.name not in options:
            continue
        value = options[spec.name]
        rows.append({"Tùy chọn": spec.title, "Giá trị": option_words(spec.name, value, options),
                     "Mặc định": "mặc định" if value == spec.default else
                     f"khác mặc định ({option_words(spec.name, spec.default, {**options, spec.name: spec.default})})",
                     "Quy tắc": ", ".join(spec.rules), "Giải thích": spec.help})
    return rows


def profile_title(profile_id: str | None) -> str:
    """A profile's title with its code (None: the default profile)."""
    cat = load_catalogue()
    p = cat.default_profile if profile_id is None else cat.profile(profile_id)
    return f"{p.title} (mã {p.id}{', mặc định' if p.default else ''})"


def profile_rows() -> list[dict]:
    cat = load_catalogue()
    return [{"Mã": p.id, "Bộ quy định": p.title, "Hiệu lực từ": p.effective_from.strftime("%d/%m/%Y"),
             "Đến": p.effective_to.strftime("%d/%m/%Y") if p.effective_to else "nay",
             "Mặc định": "có" if p.default else "",
             "Tùy chọn riêng": ", ".join(f"{k} = {v}" for k, v in p.options.items()) or "không",
             "Mô tả": p.description} for p in cat.profiles]


__all__ = [
    "AUDIT_STATUS_WORDS", "AUTHOR_LABEL", "CASE_SUFFIXES", "EXPORT_WORDS", "LockRefused", "REASON_LABEL",
    "RESERVED_NAMES", "StoredCase", "audit_log_path", "case_folder", "case_history", "decisions", "folder_cases",
    "history_rows", "local_time", "lock_note", "locked_choices", "log_app_export", "log_app_locks", "log_app_solve",
    "missing_notes", "notes_description", "notes_from_description", "open_folder_case", "person_named_in",
    "read_case_file", "store_upload", "verify_words",
    "DELTA_KEYS", "EDITABLE_FACTS", "LEVEL_COLORS", "SCENARIO_DIR", "UNRATED_COLOR", "VOTE_KEYS", "apply_delta",
    "check_delta_ids", "attached_rows", "branches_of", "case_summary", "case_text", "change_items", "conflict_rows", "context_name",
    "delta_changes_something", "delta_from_file", "delta_warnings", "difference_rows", "editor_rows", "editor_scopes",
    "empty_delta", "filter_changes", "filter_subjects", "harvest_edits", "keep_cost", "level_count_rows",
    "list_scenarios", "load_upload", "nfc", "option_values", "options_delta", "options_in_force", "parse_text",
    "problem_rows", "profile_rows", "profile_title", "quota_display", "quota_ranking", "quota_rows", "read_text",
    "rule_items", "scope_ids", "select_quota_rows", "status_view", "subject_choices", "subject_label",
    "subject_rows", "tie_rows", "tree_data", "tree_roots", "unique_labels", "whatif_text", "why_moved", "xs_share",
    "SessionShelf", "WhatIfSession", "whatif_mode_words", "whatif_version",
]
