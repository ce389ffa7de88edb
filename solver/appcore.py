"""The Streamlit app's logic without Streamlit: loading, solving, tables as plain rows, the tree, what-if deltas.

Every function here is importable and testable on its own; the app's files wrap the slow ones in
Streamlit caches and only lay the results out on the screen. Rows meant for a table on the screen carry
Vietnamese column headers as their keys; everything else uses English keys.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import tempfile
import unicodedata
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from model.case import KIND_LABELS, Kind, Tier, Votes, nfc_deep
from model.catalogue import OptionOverrides, UnknownProfile, load_catalogue, resolve_options
from model.errors import CaseInvalid, InputProblem, pydantic_message
from model.levels import LEVELS_DESC, Level, parse_level
from model.loader import LoadedCase, load_case, parse_case, parse_json_text
from solver.explain import render_change, render_why_not
from solver.quota_table import level_counts, quota_table
from solver.report_docx import option_words, percent_words, status_sentences
from solver.result import STATUS_LABELS, SolveResult
from solver.solve import SolveOptions, solve
from solver.whynot import hold

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


def load_upload(name: str, content: bytes) -> tuple[str, LoadedCase]:
    """An uploaded .json or .xlsx file: (the case's JSON text, the loaded case). Errors name ``name``."""
    suffix = Path(name).suffix.lower()
    if suffix == ".json":
        try:
            text = nfc(content.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise CaseInvalid([InputProblem(name, f"tệp không phải UTF-8 (byte lỗi ở vị trí {exc.start})")]) from None
        return text, parse_text(text, name)
    if suffix not in (".xlsx", ".xlsm"):
        raise CaseInvalid([InputProblem(name, "chỉ nhận tệp hồ sơ .json hoặc sổ tính .xlsx")])
    with tempfile.TemporaryDirectory(prefix="xeploai-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(content)
        try:
            loaded = load_case(path)
        except CaseInvalid as exc:
            raise CaseInvalid([dataclasses.replace(p, file=name) for p in (*exc.problems, *exc.warnings)]) from None
    text = json.dumps(loaded.case.to_data(), ensure_ascii=False, indent=1)
    return text, parse_text(text, name)


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


def solve_case(loaded: LoadedCase, time_limit: float = 60.0, workers: int = 2) -> SolveResult:
    """The least-change solve of a loaded case (``solver.solve``), with the app's time limit and workers."""
    return solve(loaded, SolveOptions(time_limit=float(time_limit), workers=int(workers)))


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
    """Every change with its sentence (``solver.explain.render_change``) and its reasons as records."""
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

    Returns ``possible``, the report's lines (``solver.explain.render_why_not``), the objective before and
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


def apply_delta(base_data: dict, delta: dict, file: str = "<giả định>") -> dict:
    """The raw data of the what-if case: ``delta`` applied to a deep copy of ``base_data`` (never changed).

    The delta has the what-if file's layout: ``profile``, ``options`` (merged over the case's), ``lock``
    (id → level code), ``unlock`` (ids), ``facts`` (id → facts merged over the subject's own; None removes
    one), ``votes`` (id → tally) and ``target`` (id → level code, None removes it). Unknown ids raise
    ``CaseInvalid``; everything else is checked by ``parse_case`` on the result.
    """
    data = copy.deepcopy(base_data)
    by_id = {s.get("id"): s for s in data.get("subjects", []) if isinstance(s, dict)}
    problems = [InputProblem(file, f"không có đối tượng mang mã «{sid}» trong hồ sơ", field=f"{key}.{sid}")
                for key in ("lock", "facts", "votes", "target") for sid in (delta.get(key) or {})
                if sid not in by_id]
    problems += [InputProblem(file, f"không có đối tượng mang mã «{sid}» trong hồ sơ", field=f"unlock.{sid}")
                 for sid in delta.get("unlock") or [] if sid not in by_id]
    if problems:
        raise CaseInvalid(problems)
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


def whatif_text(delta: dict) -> str:
    """The delta as a what-if file (``model.whatif`` format): only what differs, deterministic JSON."""
    out: dict[str, Any] = {"whatif": delta.get("whatif") or "Giả định", "base": delta.get("base") or ""}
    if delta.get("profile"):
        out["profile"] = delta["profile"]
    for key in ("options", "lock", "facts", "votes", "target"):
        if delta.get(key):
            out[key] = delta[key]
    if delta.get("unlock"):
        out["unlock"] = sorted(delta["unlock"])
    return json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def case_text(data: dict) -> str:
    """Raw case data as JSON text (the cache key of a what-if solve)."""
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
    groups whose numbers differ (``solver.compare.compare`` when it is installed)."""
    try:
        from solver.compare import compare
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
    "DELTA_KEYS", "EDITABLE_FACTS", "LEVEL_COLORS", "SCENARIO_DIR", "UNRATED_COLOR", "VOTE_KEYS", "apply_delta",
    "attached_rows", "branches_of", "case_summary", "case_text", "change_items", "conflict_rows", "context_name",
    "delta_changes_something", "delta_from_file", "delta_warnings", "difference_rows", "editor_rows", "editor_scopes",
    "empty_delta", "filter_changes", "filter_subjects", "harvest_edits", "keep_cost", "level_count_rows",
    "list_scenarios", "load_upload", "nfc", "option_values", "options_delta", "options_in_force", "parse_text",
    "problem_rows", "profile_rows", "profile_title", "quota_display", "quota_ranking", "quota_rows", "read_text",
    "rule_items", "scope_ids", "select_quota_rows", "solve_case", "status_view", "subject_choices", "subject_label",
    "subject_rows", "tie_rows", "tree_data", "tree_roots", "unique_labels", "whatif_text", "why_moved", "xs_share",
]
