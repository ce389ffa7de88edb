"""Tables built for decisions: who, where, target → result, ballots and a short reason first; searched,
grouped and paged on the server (a province has 339,000 subjects: the browser only ever gets one page).

Rows meant for a table carry Vietnamese column headers as keys, and every cell is text written the
Vietnamese way (14.563; 60,0%).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from fractions import Fraction
from typing import Any

from model.case import KIND_LABELS, Kind, Tier
from model.levels import LEVELS_DESC, Level
from model.loader import LoadedCase
from solver.appcore.words import kind_label, move_words, num, percent, rule_clause, rule_title
from solver.explanations.explain import render_change
from solver.reports.tables import quota_table
from solver.result import SolveResult

#: What the committee reads first, in every table of subjects.
SUBJECT_COLUMNS = ("Tên", "Đơn vị", "Mục tiêu → Kết quả", "Phiếu", "Lý do", "Mã")
#: The words of a lock in a table (the case's own locks are the committee's decisions).
LOCKED = "do Ban Thường vụ khóa"
STATES = ("hạ mức", "nâng mức", "giữ nguyên", "không xếp loại", "đơn vị (dữ liệu đầu vào)", "chưa có kết quả")
PAGE_SIZE = 100


def _fold_table() -> dict[int, str]:
    """Each accented Latin letter mapped to its letter without marks (đ → d), combining marks to nothing."""
    table: dict[int, str] = {}
    for cp in range(0x80, 0x2000):
        ch = chr(cp)
        if unicodedata.combining(ch):
            table[cp] = ""
            continue
        bare = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        if bare != ch and bare:
            table[cp] = bare
    table[ord("đ")], table[ord("Đ")] = "d", "D"
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Case, spaces and diacritics folded away (đ → d): "khoi pho 1" finds «Khối phố 1». One table lookup per
    character (a province's 339,000 names are folded in a second)."""
    return " ".join(text.translate(_FOLD).casefold().split())


def xs_share(loaded: LoadedCase, sid: str) -> tuple[Fraction | None, str]:
    """(share of XS ballots, the share as the committee writes it, e.g. "9/15 (60,0%)") — None without votes."""
    s = loaded.hierarchy.subjects[sid]
    if s.votes is None:
        return None, "—"
    total = s.voters or s.votes.total
    if not total:
        return None, "—"
    share = Fraction(s.votes.XS, total)
    return share, f"{num(s.votes.XS)}/{num(total)} ({percent(100 * float(share))})"


# ---- where a subject belongs -----------------------------------------------------------------------------


class Places:
    """Where each subject belongs: its organization (a member's chi bộ, the unit a collective leads…), the
    chi bộ and the grassroots organization (TCCSĐ) above it — for the «Đơn vị» column, the search and the
    grouping of changes. Built once per case (a pass over the subjects)."""

    def __init__(self, loaded: LoadedCase):
        self.loaded = loaded
        h = loaded.hierarchy
        self._owner: dict[str, str] = {}
        for s in loaded.case.subjects:
            if s.kind is Kind.party_org:
                for u in s.same_level_units:
                    self._owner.setdefault(u, s.id)
        self._up: dict[str, tuple[str | None, str | None]] = {}
        self.h = h

    def home(self, sid: str) -> str | None:
        """The organization a subject belongs to (an organization: itself)."""
        subjects = self.h.subjects
        s = subjects[sid]
        for _ in range(4):
            if s.kind is Kind.party_org:
                return s.id
            if s.kind is Kind.member:
                return s.parent
            if s.kind is Kind.collective:
                ref = s.leads
            elif s.kind is Kind.leader:
                ref = s.heads
            else:
                ref = self._owner.get(s.id)
            if ref is None or ref not in subjects:
                return None
            s = subjects[ref]
        return None

    def unit_name(self, sid: str) -> str:
        """The «Đơn vị» cell: where a subject belongs (an organization: the one above it)."""
        s = self.h.subjects[sid]
        ref = s.parent if s.kind is Kind.party_org else self.home(sid)
        if s.kind is Kind.leader and s.heads in self.h.subjects:
            ref = self.home(sid) or s.heads
        return self.h.subjects[ref].name if ref is not None and ref in self.h.subjects else ""

    def branch_and_grassroots(self, org: str | None) -> tuple[str | None, str | None]:
        """(chi bộ, TCCSĐ) of an organization: the nearest branch-tier one at or above it below its
        grassroots organization, and that grassroots organization (or the top one when there is none)."""
        if org is None:
            return None, None
        found = self._up.get(org)
        if found is not None:
            return found
        subjects = self.h.subjects
        branch = grassroots = None
        top = org
        cur: str | None = org
        while cur is not None:
            s = subjects[cur]
            if s.tier is Tier.grassroots:
                grassroots = cur
                break
            if s.tier is Tier.branch and branch is None:
                branch = cur
            top = cur
            cur = s.parent
        out = (branch, grassroots or top)
        self._up[org] = out
        return out

    def where(self, sid: str) -> tuple[str | None, str | None]:
        """(chi bộ, TCCSĐ) of a subject."""
        return self.branch_and_grassroots(self.home(sid))


# ---- the subjects of a case and their result --------------------------------------------------------------


def short_reason(change) -> str:
    """A change's reason in a few words: the first rule's title and the clause it rests on."""
    if change is None or not change.reasons:
        return ""
    r = change.reasons[0]
    clause = r.citation.split(";")[0].strip() if r.citation else rule_clause(r.rule).split(";")[0]
    words = rule_title(r.rule)
    return f"{words} ({clause})" if clause else words


def subject_state(s, target: Level | None, final: Level | None) -> str:
    if s.kind is Kind.unit:
        return "đơn vị (dữ liệu đầu vào)"
    if not s.decided:
        return "không xếp loại"
    if final is None:
        return "chưa có kết quả"
    if final != target:
        return "hạ mức" if final < target else "nâng mức"
    return "giữ nguyên"


class ResultView:
    """One case and its result as the pages show them: subject rows built only for the page asked, a
    folded search text per subject (name, code, organization, chi bộ and TCCSĐ), changes grouped by
    TCCSĐ and chi bộ. Built once per solve and kept with it."""

    def __init__(self, loaded: LoadedCase, result: SolveResult):
        self.loaded, self.result = loaded, result
        self.places = Places(loaded)
        self.change_of = {c.id: c for c in result.changes}
        subjects = loaded.case.subjects
        self.ids = [s.id for s in subjects]
        levels = result.levels or {}
        names = {}
        self.search: list[str] = []
        self.kind: list[str] = []
        self.state: list[str] = []
        self.final: list[str] = []
        for s in subjects:
            target = result.targets.get(s.id)
            final = levels.get(s.id)
            home = self.places.home(s.id)
            branch, grassroots = self.places.branch_and_grassroots(home)
            parts = [s.id, s.name]
            for ref in dict.fromkeys((home, branch, grassroots, s.parent)):
                if ref is not None and ref != s.id:
                    if ref not in names:
                        names[ref] = loaded.hierarchy.subjects[ref].name
                    parts.append(names[ref])
            self.search.append(" | ".join(parts).translate(_FOLD).casefold())
            self.kind.append(s.kind.value)
            self.state.append(subject_state(s, target, final))
            self.final.append(final.code if final is not None else "")

    # -- subjects ----------------------------------------------------------------------------------------

    def row(self, sid: str) -> dict:
        """One subject as a table row, decision columns first."""
        h, result = self.loaded.hierarchy, self.result
        s = h.subjects[sid]
        target = result.targets.get(sid)
        final = (result.levels or {}).get(sid)
        if s.kind is Kind.unit:
            move, reason = (s.level.code if s.level is not None else "—"), "đơn vị: mức là dữ liệu đầu vào"
        elif not s.decided:
            move, reason = "—", "không xếp loại"
        else:
            move = move_words(target, final)
            change = self.change_of.get(sid)
            reason = short_reason(change)
            if s.lock is not None:
                reason = f"{LOCKED} ({s.lock.code})" + (f"; {reason}" if reason else "")
        return {"Tên": s.name, "Đơn vị": self.places.unit_name(sid), "Mục tiêu → Kết quả": move,
                "Phiếu": xs_share(self.loaded, sid)[1], "Lý do": reason, "Mã": sid}

    def rows(self, ids: list[str]) -> list[dict]:
        return [self.row(sid) for sid in ids]

    def find(self, query: str = "", kinds: list[str] | None = None, states: list[str] | None = None,
             finals: list[str] | None = None) -> list[int]:
        """Positions of the subjects matching a query (name, code, organization, chi bộ, TCCSĐ; accents
        optional), kinds (values), states and final levels (codes)."""
        q = fold(query)
        kinds_set, states_set, finals_set = set(kinds or ()), set(states or ()), set(finals or ())
        out = range(len(self.ids))
        if q:
            out = [i for i, text in enumerate(self.search) if q in text]
        if kinds_set:
            out = [i for i in out if self.kind[i] in kinds_set]
        if states_set:
            out = [i for i in out if self.state[i] in states_set]
        if finals_set:
            out = [i for i in out if self.final[i] in finals_set]
        return list(out)

    def page(self, found: list[int], page: int, per_page: int = PAGE_SIZE) -> list[dict]:
        """The rows of one page (1-based) of ``found``."""
        start = (max(page, 1) - 1) * per_page
        return self.rows([self.ids[i] for i in found[start:start + per_page]])

    # -- changes -----------------------------------------------------------------------------------------

    def change_groups(self) -> list[dict]:
        """The changes per TCCSĐ, then per chi bộ inside it: counts lowered and raised, largest first."""
        groups: dict[str | None, dict] = {}
        subjects = self.loaded.hierarchy.subjects
        for c in self.result.changes:
            branch, grassroots = self._where(c.id)
            g = groups.setdefault(grassroots, {"id": grassroots, "changes": 0, "down": 0, "up": 0, "branches": {}})
            g["changes"] += 1
            g["down" if c.after < c.before else "up"] += 1
            b = g["branches"].setdefault(branch, 0)
            g["branches"][branch] = b + 1
        out = []
        for gid, g in groups.items():
            name = subjects[gid].name if gid is not None else "Ngoài các tổ chức cơ sở đảng"
            branches = [{"id": b, "name": subjects[b].name if b is not None else "Trực tiếp thuộc " + name,
                         "changes": n} for b, n in g["branches"].items()]
            branches.sort(key=lambda b: (-b["changes"], b["name"]))
            out.append({"id": gid, "name": name, "changes": g["changes"], "down": g["down"], "up": g["up"],
                        "branches": branches})
        out.sort(key=lambda g: (-g["changes"], g["name"]))
        return out

    def change_ids(self, query: str = "", kinds: list[str] | None = None, rules: list[str] | None = None,
                   grassroots: str | None = None, branch: str | None = None) -> list[str]:
        """Changed subjects matching a query (as :meth:`find`), kinds, rule titles, and a TCCSĐ or chi bộ."""
        q = fold(query)
        index = self._index()
        rules_set = set(rules or ())
        out = []
        for c in self.result.changes:
            i = index[c.id]
            if q and q not in self.search[i]:
                continue
            if kinds and self.kind[i] not in kinds:
                continue
            if rules_set and not any(rule_title(r.rule) in rules_set for r in c.reasons):
                continue
            if grassroots is not None or branch is not None:
                b, g = self._where(c.id)
                if grassroots is not None and g != grassroots:
                    continue
                if branch is not None and b != branch:
                    continue
            out.append(c.id)
        return out

    def _where(self, sid: str) -> tuple[str | None, str | None]:
        if not hasattr(self, "_wheres"):
            self._wheres: dict[str, tuple[str | None, str | None]] = {}
        found = self._wheres.get(sid)
        if found is None:
            found = self._wheres[sid] = self.places.where(sid)
        return found

    def change_rule_titles(self) -> list[str]:
        return sorted({rule_title(r.rule) for c in self.result.changes for r in c.reasons})

    def _index(self) -> dict[str, int]:
        if not hasattr(self, "_pos"):
            self._pos = {sid: i for i, sid in enumerate(self.ids)}
        return self._pos


def change_item(loaded: LoadedCase, result: SolveResult, sid: str, change_of: dict | None = None) -> dict:
    """One change with its sentence (``render_change``) and its reasons as records."""
    change_of = change_of if change_of is not None else {c.id: c for c in result.changes}
    c = change_of[sid]
    s = loaded.hierarchy.subjects[sid]
    return {
        "id": c.id, "name": s.name, "kind": s.kind.value, "kind_label": KIND_LABELS[s.kind],
        "context": _context(loaded, sid),
        "before": c.before.code, "after": c.after.code, "before_name": c.before.official,
        "after_name": c.after.official, "rules": list(dict.fromkeys(r.rule for r in c.reasons)),
        "sentence": render_change(loaded, c, change_of),
        "reasons": [{"rule": r.rule, "title": rule_title(r.rule), "kind": REASON_KIND_LABELS.get(r.kind, r.kind),
                     "citation": r.citation, "text": r.text} for r in c.reasons],
        "locked": s.lock is not None,
    }


REASON_KIND_LABELS = {"forced": "bắt buộc theo dữ kiện", "structural": "quan hệ tổ chức", "quota": "tỷ lệ",
                      "objective": "phương án ít thay đổi nhất", "lock": "quyết định khóa"}


def _context(loaded: LoadedCase, sid: str) -> str:
    """What a subject belongs to: its organization, the unit it leads, or the collective it heads."""
    s = loaded.hierarchy.subjects[sid]
    ref = s.parent or s.leads or s.heads
    return loaded.hierarchy.subjects[ref].name if ref is not None else ""


context_name = _context


def change_items(loaded: LoadedCase, result: SolveResult, ids: list[str] | None = None) -> list[dict]:
    """The changes (all, or those of ``ids`` in that order) with their sentences and reasons."""
    change_of = {c.id: c for c in result.changes}
    return [change_item(loaded, result, sid, change_of) for sid in (ids if ids is not None else change_of)]


def filter_changes(items: list[dict], query: str = "", kinds: list[str] | None = None,
                   rules: list[str] | None = None) -> list[dict]:
    """The changes whose name, id or sentence holds ``query`` (accents optional), of the given kinds and rules."""
    q = fold(query)
    return [it for it in items
            if (not q or q in fold(it["sentence"]) or q in fold(it["id"]))
            and (not kinds or it["kind"] in kinds)
            and (not rules or any(r in rules or rule_title(r) in rules for r in it["rules"]))]




def level_counts(loaded: LoadedCase, result: SolveResult) -> list[dict]:
    """Per rated kind: how many subjects, how many at each level before (targets) and after (results), how
    many changed — one pass over the result (the report's ``level_counts`` takes four)."""
    subjects = loaded.hierarchy.subjects
    rated, before, after, changed, present = Counter(), Counter(), Counter(), Counter(), Counter()
    for s in loaded.case.subjects:
        present[s.kind] += 1
    levels = result.levels or {}
    for sid, target in result.targets.items():
        kind = subjects[sid].kind
        rated[kind] += 1
        before[kind, target] += 1
        if levels:
            after[kind, levels[sid]] += 1
    for c in result.changes:
        changed[subjects[c.id].kind] += 1
    out = []
    for kind in (Kind.party_org, Kind.member, Kind.collective, Kind.leader):
        if not present[kind]:
            continue
        out.append({"kind": kind, "rated": rated[kind], "unrated": present[kind] - rated[kind],
                    "before": {lv: before[kind, lv] for lv in LEVELS_DESC},
                    "after": {lv: after[kind, lv] for lv in LEVELS_DESC} if levels else None,
                    "changed": changed[kind]})
    return out


def level_count_rows(counts: list[dict]) -> list[dict]:
    """The counts per kind as table rows: before → after at each level, and how many changed."""
    rows = []
    for r in counts:
        row: dict[str, Any] = {"Loại đối tượng": KIND_LABELS[r["kind"]], "Được xếp loại": num(r["rated"])}
        for lv in LEVELS_DESC:
            after = r["after"][lv] if r["after"] is not None else None
            row[f"{lv.code} trước → sau"] = f"{num(r['before'][lv])} → {num(after)}"
        row["Thay đổi"] = num(r["changed"])
        rows.append(row)
    return rows


def level_count_data(counts: list[dict]) -> list[dict]:
    """The counts per kind for the before/after bars."""
    return [{"kind": KIND_LABELS[r["kind"]], "before": r["before"], "after": r["after"], "changed": r["changed"]}
            for r in counts]


def conflict_rows(result: SolveResult) -> list[dict]:
    """The conflicting decisions and rules as rows: what, which kind, the clause it rests on, the subject."""
    kinds = {"lock": "Quyết định khóa mức", "direction": "Chỉ hạ mức", "rule": "Quy định"}
    return [{"Nội dung": c.text, "Loại": kinds.get(c.kind, c.kind), "Căn cứ": c.citation or rule_title(c.rule),
             "Đối tượng": c.subject or ""} for c in result.conflicts]


# ---- quota groups -----------------------------------------------------------------------------------------


def quota_rows(loaded: LoadedCase, result: SolveResult, groups: set[str] | None = None) -> list[dict]:
    """One row per quota group: XS before and after, T, the cap, shares, over-cap flag (plain values)."""
    rows = []
    for r in quota_table(loaded, result, groups):
        rows.append({
            "group": r["group"], "name": r["name"], "kind": KIND_LABELS[r["kind"]], "size": r["size"],
            "before_xs": r["before_xs"], "before_t": r["before_t"], "before_cap": r["before_cap"],
            "over_before": r["over_before"], "after_xs": r["after_xs"], "after_t": r["after_t"],
            "after_cap": r["after_cap"], "rule": r["after_rule"] or r["before_rule"],
            "pct_t": r["pct_t"], "pct_all": r["pct_all"],
        })
    return rows


def quota_display(rows: list[dict], decided: set[str] | None = None) -> list[dict]:
    """Quota rows with Vietnamese headers, decision columns first (``decided``: groups with a matter for
    the committee)."""
    decided = decided or set()
    out = []
    for r in rows:
        after = "—" if r["after_xs"] is None else num(r["after_xs"])
        cap = r["after_cap"] if r["after_cap"] is not None else r["before_cap"]
        out.append({"Nhóm tỷ lệ": r["name"], "XS đề nghị → kết quả": f"{num(r['before_xs'])} → {after}",
                    "Tối đa XS": num(cap), "Cần quyết định": "có" if r["group"] in decided else "",
                    "Vượt trần trước khi giải": "vượt" if r["over_before"] else "",
                    "XS/T kết quả": percent(r["pct_t"]), "Số đối tượng": num(r["size"])})
    return out


def select_quota_rows(rows: list[dict], kinds: list[str] | None = None, only_over: bool = False,
                      only_with_xs: bool = False, limit: int = 40, decided: set[str] | None = None,
                      focus: bool = False) -> list[dict]:
    """The groups a chart shows: filtered (``focus``: only those the committee decides or over the cap),
    the committee's first, then over the cap, then the largest, at most ``limit``."""
    decided = decided or set()
    chosen = [r for r in rows if (not kinds or r["kind"] in kinds) and (not only_over or r["over_before"])
              and (not only_with_xs or r["before_xs"] or r["after_xs"])
              and (not focus or r["group"] in decided or r["over_before"])]
    chosen.sort(key=lambda r: (r["group"] not in decided, not r["over_before"], -r["size"], r["name"]))
    return chosen[:limit]


def unique_labels(names: list[str], width: int = 60) -> list[str]:
    """Chart labels: names cut to ``width`` characters, numbered where two would read the same."""
    out, seen = [], Counter()
    for name in names:
        label = name if len(name) <= width else name[: width - 1] + "…"
        seen[label] += 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def attached_ids(loaded: LoadedCase, org: str) -> list[str]:
    """An organization, then its collectives and their heads, then its members."""
    h = loaded.hierarchy
    ids = [org]
    for c in h.collectives_leading.get(org, []):
        ids.append(c)
        ids.extend(h.heads_of.get(c, []))
    ids.extend(h.members_of.get(org, []))
    return ids


def kind_choices(loaded: LoadedCase) -> list[str]:
    """The kinds present in a case (values), in the model's order."""
    present = {s.kind for s in loaded.case.subjects}
    return [k.value for k in Kind if k in present]


__all__ = [
    "LOCKED", "PAGE_SIZE", "Places", "REASON_KIND_LABELS", "ResultView", "STATES", "SUBJECT_COLUMNS", "attached_ids",
    "change_item", "change_items", "conflict_rows", "context_name", "filter_changes", "fold",
    "kind_choices", "kind_label", "level_count_data", "level_counts", "level_count_rows", "quota_display", "quota_rows",
    "select_quota_rows", "short_reason", "subject_state", "unique_labels", "xs_share",
]
