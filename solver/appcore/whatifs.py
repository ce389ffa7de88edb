"""What-ifs in the app: the delta the «Giả định» page edits (in the what-if file's layout), the committee's
reasons and authors of each lock, sample what-ifs shipped with a case, saved what-ifs compared side by
side, and the difference of one what-if from the base.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from model.case import KIND_LABELS, Kind, Votes, nfc_deep, validate_as
from model.catalogue import OptionOverrides, UnknownProfile, load_catalogue, resolve_options
from model.errors import CaseInvalid, InputProblem, pydantic_message
from model.levels import LEVELS_DESC, Level, parse_level
from model.loader import LoadedCase
from solver import audit
from solver.appcore.tables import conflict_rows, fold
from solver.appcore.words import nfc, num, option_value, rule_title
from solver.result import STATUS_LABELS, SolveResult

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
DELTA_KEYS = ("whatif", "base", "profile", "options", "lock", "unlock", "facts", "votes", "target", "score", "self_score",
              "rules", "exceptions")


# ---- the delta ---------------------------------------------------------------------------------------


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
            delta["votes"][sid] = validate_as(Votes, tally).as_dict()
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



def whatif_version(base_digest: str, delta: dict) -> str:
    """The audit log's version of a what-if case: the SHA-256 of its base's version and of the what-if
    file that states the delta (the what-if case itself is never written out as a whole)."""
    return audit.sha256_text(f"{base_digest}\n{whatif_text(delta)}")


def delta_warnings(loaded: LoadedCase, delta: dict) -> list[str]:
    """Edits that will have no effect (new votes for a subject whose target is written in the case)."""
    subjects = loaded.hierarchy.subjects
    out = []
    for sid in delta.get("votes") or {}:
        s = subjects.get(sid)
        target_removed = sid in (delta.get("target") or {}) and delta["target"][sid] is None
        if s is not None and s.target is not None and not target_removed:
            out.append(f"Phiếu mới của «{s.name}» ({sid}) không có tác dụng: đối tượng này có mức mục tiêu ghi sẵn "
                       f"({s.target.official}), mức mục tiêu được dùng thay cho phiếu.")
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
    """(key, label) of the slices the vote-and-fact editor shows: each upper or grassroots organization with
    everything below it, then collectives and leaders by kind (a chi bộ is found by the search)."""
    subjects = loaded.case.subjects
    top = [s for s in subjects if s.kind is Kind.party_org and s.tier is not None and s.tier.value in ("upper",
                                                                                                       "grassroots")]
    if not top:
        top = [s for s in subjects if s.kind is Kind.party_org]
    out = [(f"org:{s.id}", f"{s.name} (tổ chức đảng và đảng viên)") for s in top]
    for k in (Kind.collective, Kind.leader):
        if any(s.kind is k for s in subjects):
            out.append((f"kind:{k.value}", KIND_LABELS[k]))
    return out


def scope_ids(loaded: LoadedCase, scope: str, query: str = "", limit: int = 300) -> list[str]:
    """The decided subjects of one editor slice (or, with ``query``, of the whole case: name, code,
    organization; accents optional), at most ``limit``."""
    h = loaded.hierarchy
    q = fold(query)
    if q:
        ids = []
        for s in loaded.case.subjects:
            where = h.subjects[s.parent].name if s.parent in h.subjects else ""
            if q in fold(f"{s.id} {s.name} {where}"):
                ids.append(s.id)
                if len(ids) >= 4 * limit:
                    break
    elif scope.startswith("org:"):
        org = scope[4:]
        ids, stack = [], [org] if org in h.subjects else []
        while stack and len(ids) < 4 * limit:
            o = stack.pop(0)
            ids.append(o)
            ids.extend(h.members_of.get(o, []))
            stack.extend(h.sub_orgs_of.get(o, []))
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
    subjects = loaded.hierarchy.subjects
    for sid in ids:
        s = subjects[sid]
        cells = _base_cells(s)
        if sid in (delta.get("votes") or {}):
            cells.update({k: delta["votes"][sid].get(k, 0) for k in VOTE_KEYS})
        for k, v in (delta.get("facts") or {}).get(sid, {}).items():
            if k in cells:
                cells[k] = v if v is not None else (False if isinstance(cells[k], bool) else None)
        target = s.target_level()
        ref = s.parent or s.leads or s.heads
        rows.append({"name": s.name, "unit": subjects[ref].name if ref in subjects else "",
                     "target": target.code if target is not None else "", **cells,
                     "voters": num(s.voters) if s.voters is not None else "",
                     "kind": KIND_LABELS[s.kind], "id": sid})
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
        if all(k in row for k in VOTE_KEYS):  # an editor may show the votes, the facts, or both
            tally = {k: _plain(row.get(k)) for k in VOTE_KEYS}
            if all(_same(tally[k], base[k]) for k in VOTE_KEYS):
                votes.pop(sid, None)
            else:
                votes[sid] = {k: int(tally[k]) if not _blank(tally[k]) else 0 for k in VOTE_KEYS}
        if not any(k in row for k in EDITABLE_FACTS):
            continue
        changed = {}
        for k in EDITABLE_FACTS:
            if k not in row:  # a column the editor did not show keeps the delta's value
                if k in facts.get(sid, {}):
                    changed[k] = facts[sid][k]
                continue
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
    groups whose numbers differ, options changed (``solver.explanations.compare.compare``)."""
    from solver.explanations.compare import compare

    out: dict[str, Any] = {
        "base_status": STATUS_LABELS[base.status], "whatif_status": STATUS_LABELS[what.status],
        "whatif_proven": what.proven, "base_objective": base.objective, "whatif_objective": what.objective,
        "conflicts": conflict_rows(what), "moves": [], "quota": [], "options_changed": [],
    }
    comparable = bool(base.levels and what.levels)
    subjects = what_loaded.hierarchy.subjects
    cmp = compare(base_loaded, base, what_loaded, what)
    for m in cmp.moves:
        out["moves"].append(_move_row(subjects, m.id, m.name, m.base_final, m.whatif_final, m.reasons))

    def cell(r: dict | None) -> str:
        if r is None:
            return "—"
        if r["after_xs"] is None:
            return f"mục tiêu XS {num(r['before_xs'])}, tối đa {num(r['before_cap'])}"
        return f"XS {num(r['after_xs'])}, T {num(r['after_t'])}, tối đa {num(r['after_cap'])}"

    for q in cmp.quota:
        out["quota"].append({"Nhóm tỷ lệ": q.name, "Gốc": cell(q.base), "Giả định": cell(q.whatif)})
    cat = load_catalogue()
    for name, (a, b) in sorted(cmp.options_changed.items()):
        out["options_changed"].append({"Tùy chọn": cat.param(name).title,
                                       "Gốc": option_value(name, a, base.options),
                                       "Giả định": option_value(name, b, what.options)})
    out["comparable"] = comparable
    return out


def _move_row(subjects: dict, sid: str, name: str, a: Level | None, b: Level | None, reasons) -> dict:
    s = subjects.get(sid)
    ref = (s.parent or s.leads or s.heads) if s is not None else None
    why = "; ".join(dict.fromkeys(rule_title(r.rule) + (f" ({r.citation.split(';')[0]})" if r.citation else "")
                                  for r in reasons))
    if s is not None and s.lock is not None and not why:
        why = f"do Ban Thường vụ khóa ({s.lock.code})"
    return {"Tên": name, "Đơn vị": subjects[ref].name if ref in subjects else "",
            "Gốc → Giả định": f"{a.code if a else '—'} → {b.code if b else '—'}",
            "Lý do trong giả định": why or "giữ đúng mức mục tiêu", "Mã": sid}


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
    return fold(nfc(text))


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



# ---- editing a what-if: each step returns the new delta and notes (the page only keeps them) -------------


def with_lock(loaded: LoadedCase, delta: dict, notes: dict, sid: str, level: str | None, reason: Any, author: Any
              ) -> tuple[dict, dict]:
    """The what-if with ``sid`` locked at ``level`` (None: its lock in the case lifted), noted with the
    reason and the author; ``LockRefused`` (the page says it) without them."""
    note = lock_note(loaded, sid, level, reason, author)
    delta, notes = copy.deepcopy(delta), dict(notes)
    if level is None:
        delta["lock"].pop(sid, None)
        if sid not in delta["unlock"]:
            delta["unlock"].append(sid)
    else:
        delta["lock"][sid] = level
        if sid in delta["unlock"]:  # a new level replaces lifting the case's lock
            delta["unlock"].remove(sid)
    notes[sid] = note
    return delta, notes


def without_decision(delta: dict, notes: dict, sid: str) -> tuple[dict, dict]:
    """The what-if with its lock (or lift of a lock) of ``sid`` taken back."""
    delta, notes = copy.deepcopy(delta), dict(notes)
    delta["lock"].pop(sid, None)
    if sid in delta["unlock"]:
        delta["unlock"].remove(sid)
    notes.pop(sid, None)
    return delta, notes


def with_request(loaded: LoadedCase, delta: dict, notes: dict, levels: dict[str, str | None], reason: Any,
                 author: Any) -> tuple[dict, dict]:
    """The what-if with the locks a decision asked for (``levels``: id → level code, None to lift the case's
    lock), all with the same reason and author; nothing changes when one is refused (``LockRefused``)."""
    for sid, level in sorted(levels.items()):
        delta, notes = with_lock(loaded, delta, notes, sid, level, reason, author)
    return delta, notes


def whatif_from_data(loaded: LoadedCase, data: Any, name: str, base: str) -> tuple[dict, dict]:
    """A what-if file's content as (delta, notes) for this case: its reasons and authors read from its
    description; a lock without them is kept, to be noted before solving (:func:`missing_notes`).
    ``CaseInvalid`` naming every wrong field, or an id the case does not have."""
    delta = delta_from_file(data, name)
    check_delta_ids(loaded.hierarchy.subjects, delta, name)
    delta["base"] = base
    notes = {sid: note for sid, note in notes_from_description(data.get("description")).items()
             if (sid, note["level"]) in decisions(delta)}
    return delta, notes


# ---- sample what-ifs: the what-if files that stand on the open case ------------------------------------


MAX_CHAIN = 20


def compose(first: dict, then: dict) -> dict:
    """The delta of a what-if that stands on another what-if (a chain): ``then`` applied after ``first``."""
    out = copy.deepcopy(first)
    out["whatif"], out["base"] = then.get("whatif") or first.get("whatif"), first.get("base")
    if then.get("profile"):
        out["profile"] = then["profile"]
    out["options"] = {**(first.get("options") or {}), **(then.get("options") or {})}
    for sid in then.get("unlock") or []:
        if sid in out["lock"]:
            del out["lock"][sid]  # lifting a lock the first what-if made: back to the case as it was
        elif sid not in out["unlock"]:
            out["unlock"].append(sid)
    for sid, code in (then.get("lock") or {}).items():
        out["lock"][sid] = code
        if sid in out["unlock"]:
            out["unlock"].remove(sid)
    for sid, facts in (then.get("facts") or {}).items():
        out["facts"][sid] = {**out["facts"].get(sid, {}), **facts}
    out["votes"].update(then.get("votes") or {})
    out["target"].update(then.get("target") or {})
    return out


def _read_whatif(path: Path) -> dict | None:
    try:
        if path.stat().st_size > 1024 * 1024:
            return None
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "whatif" in data else None


def _chain(path: Path, case_path: Path, depth: int = 0) -> dict | None:
    """The composed delta of the what-if file at ``path`` when its chain of bases ends at ``case_path``;
    None when it stands on another case, or cannot be read."""
    data = _read_whatif(path)
    if data is None or depth > MAX_CHAIN or not isinstance(data.get("base"), str):
        return None
    base = (path.parent / data["base"]).resolve()
    delta = delta_from_file(data, path.name)
    if base == case_path.resolve():
        return delta
    if base.suffix.lower() == ".json" and _read_whatif(base) is not None:
        first = _chain(base, case_path, depth + 1)
        return None if first is None else compose(first, delta)
    return None


def sample_whatifs(case_path: str | Path, folders: list[str | Path] = ()) -> list[dict]:
    """The what-if files shipped with (or kept beside) a case — in ``whatif/`` next to it and in
    ``folders`` — whose chain of bases ends at it: file, question, delta (composed along the chain), the
    reasons and authors their description carries, and whether the app can solve it (``rerate``: no)."""
    case_path = Path(case_path)
    places = [case_path.parent / "whatif", case_path.parent, *map(Path, folders)]
    seen, out = set(), []
    for folder in places:
        try:
            files = sorted(folder.glob("*.json"))
        except OSError:
            continue
        for path in files:
            if path.resolve() in seen or path.resolve() == case_path.resolve():
                continue
            seen.add(path.resolve())
            data = _read_whatif(path)
            if data is None:
                continue
            entry = {"file": path.name, "path": str(path), "question": nfc(str(data.get("whatif") or path.stem)),
                     "rerate": bool(data.get("rerate")), "delta": None, "notes": {}, "problem": ""}
            try:
                rerate = entry["rerate"]
                if rerate:
                    data = {k: v for k, v in data.items() if k != "rerate"}
                delta = None if rerate else _chain(path, case_path)
            except CaseInvalid as exc:
                entry["problem"] = "; ".join(str(p) for p in exc.problems)
                out.append(entry)
                continue
            if not rerate and delta is None:
                continue
            entry["delta"] = delta
            entry["notes"] = notes_from_description(data.get("description"))
            out.append(entry)
    return out


# ---- several what-ifs, side by side ---------------------------------------------------------------------


def side_by_side(base_loaded: LoadedCase, base: SolveResult, answers: list[tuple[str, LoadedCase, SolveResult]],
                 limit: int = 500) -> dict:
    """Saved what-ifs compared with the base and with one another: a summary row per what-if (status,
    changes against the targets, subjects placed differently from the base), and one row per subject that
    any of them places differently (at most ``limit``), each what-if a column."""
    summary = [{"Giả định": "Phương án gốc", "Trạng thái": STATUS_LABELS[base.status],
                "Số đối tượng thay đổi so với mục tiêu": num(base.changed), "Xếp khác phương án gốc": "—"}]
    moved: dict[str, dict[str, Level | None]] = {}
    for title, _loaded, result in answers:
        differ = 0
        if base.levels and result.levels:
            for sid, a in base.levels.items():
                b = result.levels.get(sid)
                if b is not None and a != b:
                    differ += 1
                    moved.setdefault(sid, {})[title] = b
        summary.append({"Giả định": title, "Trạng thái": STATUS_LABELS[result.status],
                        "Số đối tượng thay đổi so với mục tiêu": num(result.changed),
                        "Xếp khác phương án gốc": num(differ) if base.levels and result.levels else "—"})
    subjects = base_loaded.hierarchy.subjects
    order = {sid: i for i, sid in enumerate(base.targets)}
    rows = []
    for sid in sorted(moved, key=lambda s: order.get(s, 0))[:limit]:
        s = subjects[sid]
        ref = s.parent or s.leads or s.heads
        row = {"Tên": s.name, "Đơn vị": subjects[ref].name if ref in subjects else "",
               "Gốc": base.levels[sid].code}
        for title, _loaded, result in answers:
            level = (result.levels or {}).get(sid)
            row[title] = level.code if level is not None else "—"
        row["Mã"] = sid
        rows.append(row)
    return {"summary": summary, "rows": rows, "total": len(moved)}


def short_titles(questions: list[str], width: int = 28) -> list[str]:
    """Column titles for saved what-ifs: numbered, cut to ``width`` characters, never two alike."""
    out = []
    for i, q in enumerate(questions, start=1):
        q = " ".join(q.split()) or "Giả định"
        out.append(f"{i}. " + (q if len(q) <= width else q[: width - 1] + "…"))
    return out


__all__ = [
    "AUTHOR_LABEL", "DELTA_KEYS", "EDITABLE_FACTS", "MAX_AUTHOR", "MAX_REASON", "REASON_LABEL", "VOTE_KEYS",
    "LockRefused", "_ascii_fold", "apply_delta", "case_text", "check_delta_ids", "compose", "decisions",
    "delta_changes_something", "delta_from_file", "delta_warnings", "difference_rows", "editor_rows",
    "editor_scopes", "empty_delta", "whatif_from_data", "with_lock", "with_request", "without_decision", "harvest_edits", "lock_note", "missing_notes", "notes_description",
    "notes_from_description", "option_values", "options_delta", "person_named_in", "sample_whatifs", "scope_ids",
    "short_titles", "side_by_side", "whatif_text", "whatif_version",
]
