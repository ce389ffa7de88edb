"""Explanations: a ``Reason`` record per change, and every Vietnamese sentence generated in one place.

The CLI, the app and the reports all call ``describe_record`` / ``explain_changes`` / ``render_change``,
so they say the same words.
"""

from __future__ import annotations

from model.ballots import ballots_at_or_above, denominator
from model.catalogue import load_catalogue
from model.levels import Level
from model.loader import LoadedCase
from solver.result import Change, Reason
from solver.engine.rules import AtMost, Cap, CountTrigger, Needs, Quota, Record, SmallGroup, max_xs

WHAT = {"members": "đảng viên", "sub_orgs": "tổ chức đảng trực thuộc", "units": "chính quyền, MTTQ, đoàn thể cùng cấp",
        "sub_committees": "tập thể cấp ủy trực thuộc"}


#: Where the BMT guide states a rule for each kind (II.B.1 organizations, II.B.2 members, II.B.3 collectives,
#: II.B.4 leaders): a reason cites the section of the subject's own kind when the rule has one.
KIND_SECTIONS = {"party_org": "II.B.1", "member": "II.B.2", "collective": "II.B.3", "leader": "II.B.4"}


def cite(rule: str, kind: str | None = None) -> str:
    """The citation labels of a rule; with ``kind``, the BMT sections of that kind (and every BĐ one)."""
    r = load_catalogue().rule(rule)
    if kind is None:
        return r.cite
    prefix = KIND_SECTIONS.get(kind, "")
    own = [c.label for c in r.citations if c.source != "BMT" or c.section.startswith(prefix)]
    if not any(c.source == "BMT" and c.section.startswith(prefix) for c in r.citations):
        return r.cite
    return "; ".join(dict.fromkeys(own))


def _final(loaded: LoadedCase, levels: dict[str, Level] | None, sid: str) -> Level | None:
    """The final level of a decided subject, or the given level of a unit."""
    if levels is not None and sid in levels:
        return levels[sid]
    return loaded.hierarchy.subjects[sid].level


def _name(loaded: LoadedCase, sid: str) -> str:
    return loaded.hierarchy.subjects[sid].name


def fact_sentence(loaded: LoadedCase, r: Cap) -> str:
    """The sentence for a fact that caps a subject."""
    d = r.detail
    lv = r.level
    member = _name(loaded, d["member"]) if "member" in d else ""
    texts = {
        "civil_servant_level": lambda: f"công chức, viên chức xếp loại {lv.official} → không cao hơn {lv.abbreviation}",
        "disciplined": lambda: "bị thi hành kỷ luật trong năm → Không hoàn thành nhiệm vụ",
        "degeneration": lambda: "cấp có thẩm quyền kết luận có biểu hiện suy thoái, “tự diễn biến”, “tự chuyển hóa” "
                                "→ Không hoàn thành nhiệm vụ",
        "targets_below_half": lambda: "chỉ hoàn thành dưới 50% chỉ tiêu, nhiệm vụ được giao → Không hoàn thành nhiệm vụ",
        "sick_leave_months": lambda: f"nghỉ ốm {d.get('months', 0):g} tháng trong năm (từ 3 tháng trở lên) "
                                     f"→ không cao hơn {Level.HT.abbreviation}",
        "criteria": lambda: f"các tiêu chí tự đánh giá (nhiệm vụ: {', '.join(d.get('task', ())) or '—'}; còn lại: "
                            f"{', '.join(d.get('other', ())) or '—'}) chỉ đạt mức {lv.official}",
        "committee_member_disciplined": lambda: (
            f"có cấp ủy viên{' ' + member if member else ''} bị xử lý kỷ luật"
            + (" (đã tự phát hiện, khắc phục)" if lv == Level.T else "") + f" → không cao hơn {lv.abbreviation}"
            if r.rule == "E7" else "có cấp ủy viên của đảng bộ hoặc tập thể cấp ủy trực thuộc bị xử lý kỷ luật "
                                   "→ không đạt mức Hoàn thành nhiệm vụ, xếp Không hoàn thành nhiệm vụ"),
        "member_disciplined": lambda: (
            f"đảng viên {member} bị xử lý kỷ luật (không phải tự phát hiện, khắc phục) → chi bộ không đạt mức "
            "Hoàn thành nhiệm vụ, xếp Không hoàn thành nhiệm vụ" if r.rule == "E7b" else
            f"thành viên {member} bị kỷ luật" + (" (đã tự phát hiện, khắc phục)" if d.get("self_remedied") else "")
            + f" → tập thể không cao hơn {lv.abbreviation}"),
        "standing_committee_disciplined": lambda: "ban thường vụ cấp ủy bị xử lý kỷ luật → Không hoàn thành nhiệm vụ",
        "leading_collective_disciplined": lambda: f"{_name(loaded, d['collective'])} bị xử lý kỷ luật "
                                                  "→ Không hoàn thành nhiệm vụ",
        "collective_disciplined": lambda: "tập thể bị xử lý kỷ luật trong năm → Không hoàn thành nhiệm vụ",
        "disunity": lambda: "cấp có thẩm quyền kết luận mất đoàn kết nội bộ → Không hoàn thành nhiệm vụ",
        "member_degeneration": lambda: (f"thành viên {member}" if member else "có thành viên")
        + " suy thoái, “tự diễn biến”, “tự chuyển hóa” → Không hoàn thành nhiệm vụ",
        "unit_targets_below_half": lambda: f"{_name(loaded, d['unit'])} do tập thể trực tiếp lãnh đạo hoàn thành dưới "
                                           "50% chỉ tiêu → Không hoàn thành nhiệm vụ",
    }
    return texts[r.fact]()


def describe_record(loaded: LoadedCase, r: Record, levels: dict[str, Level] | None = None) -> str:
    """One Vietnamese sentence stating a rule instance (used for conflicts and reasons)."""
    def lv_of(sid: str) -> str:
        x = _final(loaded, levels, sid)
        return f" xếp loại {x.official}" if x is not None else ""

    if isinstance(r, Cap):
        return f"{_name(loaded, r.sid)}: {fact_sentence(loaded, r)}"
    if isinstance(r, AtMost):
        if r.rule == "S1":
            return f"tập thể {_name(loaded, r.a)} không cao hơn tổ chức, đơn vị mình lãnh đạo: {_name(loaded, r.b)}{lv_of(r.b)}"
        return f"người đứng đầu {_name(loaded, r.a)} không cao hơn tập thể, tổ chức mình đứng đầu: {_name(loaded, r.b)}{lv_of(r.b)}"
    if isinstance(r, Needs):
        base = (f"{_name(loaded, r.sid)} chỉ được {r.level.official} khi 100% {WHAT[r.what]} đạt "
                f"{r.minimum.official} trở lên")
        if levels:
            below = [o for o in r.others if _final(loaded, levels, o) < r.minimum]
            if below:
                shown = ", ".join(f"{_name(loaded, o)}{lv_of(o)}" for o in below[:3])
                more = f" và {len(below) - 3} khác" if len(below) > 3 else ""
                base += f"; nhưng {shown}{more}"
        return base
    if isinstance(r, CountTrigger):
        if r.at_least is not None:
            base = f"{_name(loaded, r.sid)} xếp Không hoàn thành nhiệm vụ nếu có từ {r.at_least} {WHAT[r.what]} KHTNV"
        else:
            base = (f"{_name(loaded, r.sid)} xếp Không hoàn thành nhiệm vụ nếu trên {r.percent}% {WHAT[r.what]} "
                    "xếp loại KHTNV")
        if levels:
            k = sum(1 for o in r.others if _final(loaded, levels, o) == Level.K)
            base += f" (hiện có {k}/{len(r.others)})"
        return base
    if isinstance(r, Quota):
        g = loaded.hierarchy.group(r.group)
        reading = "số HTTNV" if r.base == "good_only" else "số HTTNV trở lên"
        return f"nhóm «{g.name}»: số XS không vượt quá {r.percent}% {reading}"
    if isinstance(r, SmallGroup):
        g = loaded.hierarchy.group(r.group)
        return (f"nhóm «{g.name}»: dưới {r.threshold:02d} HTTNV thì được {r.allowance} XS")
    raise TypeError(r)


def quota_numbers(loaded: LoadedCase, q: Quota, small: SmallGroup | None, levels: dict[str, Level],
                  targets: dict[str, Level]) -> dict:
    proposed = [m for m in q.members if targets[m] == Level.XS]
    xs = sum(1 for m in q.members if levels[m] == Level.XS)
    t = sum(1 for m in q.members if levels[m] == Level.T)
    base = t + xs if q.base == "good_and_above" else t
    cap = max_xs(q, small, xs + t)
    return {"proposed_xs": len(proposed), "final_xs": xs, "final_t": t, "base": base, "cap": cap}


def ballot_share(loaded: LoadedCase, sid: str, level: Level) -> str | None:
    """The raw share of ballots at ``level`` or above, as the committee counts it (e.g. "9/15")."""
    s = loaded.hierarchy.subjects[sid]
    if s.votes is None or s.target is not None:
        return None
    tally = s.votes.as_dict()
    return f"{ballots_at_or_above(tally, level)}/{denominator(tally, s.voters)}"


class _Explainer:
    """Finds the binding records of each change; caches each quota group's ranking once."""

    def __init__(self, loaded, records, levels, targets, weights, *, by_sid=None, quota_of=None, order=None):
        """Index ``records``; or, with ``by_sid``/``quota_of``/``order`` given, use those indexes (a what-if
        re-explains a few subjects of a province without re-reading its records)."""
        self.loaded, self.levels, self.targets = loaded, levels, targets
        self.order = order if order is not None else {sid: i for i, sid in enumerate(targets)}
        self.weights = weights
        self._ranking: dict[str, tuple[list[str], dict[str, int], dict]] = {}
        if by_sid is not None:
            self.by_sid, self.quota_of = by_sid, quota_of
            return
        self.by_sid: dict[str, list[Record]] = {}
        smalls = {r.group: r for r in records if isinstance(r, SmallGroup)}
        self.quota_of: dict[str, tuple[Quota, SmallGroup | None]] = {}
        for r in records:
            if isinstance(r, Cap):
                self.by_sid.setdefault(r.sid, []).append(r)
            elif isinstance(r, AtMost):
                self.by_sid.setdefault(r.a, []).append(r)
            elif isinstance(r, (Needs, CountTrigger)):
                self.by_sid.setdefault(r.sid, []).append(r)
            elif isinstance(r, Quota):
                for m in r.members:
                    self.quota_of[m] = (r, smalls.get(r.group))

    def ranking(self, q: Quota, small: SmallGroup | None):
        """XS candidates of a group by the solver's support weight (then file order), and the group's numbers."""
        if q.group not in self._ranking:
            cands = sorted((m for m in q.members if self.targets[m] == Level.XS),
                           key=lambda m: (-self.weights[m], self.order[m]))
            nums = quota_numbers(self.loaded, q, small, self.levels, self.targets)
            self._ranking[q.group] = (cands, {m: i for i, m in enumerate(cands)}, nums)
        return self._ranking[q.group]

    def reasons(self, sid: str) -> list[Reason]:
        """The reasons that explain why ``sid`` ends at its final level rather than its target."""
        loaded, levels = self.loaded, self.levels
        s = loaded.hierarchy.subjects[sid]
        f, t = levels[sid], self.targets[sid]
        out: list[Reason] = []
        if s.lock is not None:
            return [Reason("lock", "lock", "", f"cấp có thẩm quyền đã quyết định (khóa) mức {s.lock.official}")]
        if f > t:
            return [Reason("allow_up", "objective", "", "được phép nâng mức theo phương án")]
        for r in self.by_sid.get(sid, []):
            if isinstance(r, Cap) and r.level == f:
                out.append(Reason(r.rule, "forced", cite(r.rule, s.kind.value), fact_sentence(loaded, r),
                                  tuple(v for k, v in r.detail.items() if k in ("member", "unit", "collective")),
                                  tuple(sorted((k, str(v)) for k, v in r.detail.items()))))
            elif isinstance(r, AtMost) and r.a == sid:
                other = _final(loaded, levels, r.b)
                if other == f:
                    out.append(Reason(r.rule, "structural", cite(r.rule), describe_record(loaded, r, levels), (r.b,),
                                      (("other_level", other.code),)))
            elif isinstance(r, Needs) and r.sid == sid and int(r.level) == int(f) + 1:
                failing = tuple(o for o in r.others if _final(loaded, levels, o) < r.minimum)
                if failing:
                    out.append(Reason(r.rule, "structural", cite(r.rule), describe_record(loaded, r, levels),
                                      failing, (("failing", len(failing)), ("total", len(r.others)))))
            elif isinstance(r, CountTrigger) and r.sid == sid and f == Level.K:
                failing = tuple(o for o in r.others if _final(loaded, levels, o) == Level.K)
                k = len(failing)
                active = k >= r.at_least if r.at_least is not None else 100 * k > r.percent * len(r.others)
                if active:
                    out.append(Reason(r.rule, "structural", cite(r.rule), describe_record(loaded, r, levels),
                                      failing, (("k", k), ("total", len(r.others)))))
        if not out and t == Level.XS and f == Level.T and sid in self.quota_of:
            out.append(self.quota_reason(sid))
        if not out:
            out.append(Reason("objective", "objective", "", "được chọn để tổng thay đổi là ít nhất"))
        return out

    def quota_reason(self, sid: str) -> Reason:
        loaded, levels = self.loaded, self.levels
        q, small = self.quota_of[sid]
        cands, index, nums = self.ranking(q, small)
        rank = index[sid] + 1
        g = loaded.hierarchy.group(q.group)
        text = (f"nhóm: {g.name} — {nums['proposed_xs']} đề nghị XS, {nums['final_t']} xếp loại T, tối đa "
                f"{nums['cap']} XS; xếp thứ {rank}/{len(cands)}")
        share = ballot_share(loaded, sid, Level.XS)
        if share is not None:
            text += f" theo tỷ lệ phiếu XS {share}"
        weaker_kept = next((m for m in cands[rank:] if levels[m] == Level.XS), None)
        if weaker_kept is not None:
            why = ("do cấp có thẩm quyền đã quyết định (khóa)" if loaded.hierarchy.subjects[weaker_kept].lock is not None
                   else "vì hạ người đó kéo theo nhiều thay đổi hơn")
            text += f"; {_name(loaded, weaker_kept)} có phiếu thấp hơn nhưng giữ XS {why}"
        rule = "C2" if small is not None and nums["base"] < small.threshold else "C1"
        kept = tuple(m for m in cands if levels[m] == Level.XS)
        return Reason(rule, "quota", cite(rule, loaded.hierarchy.subjects[sid].kind.value), text, kept,
                      tuple(sorted({**nums, "rank": rank, "candidates": len(cands)}.items())))


def explain_changes(loaded: LoadedCase, records: list[Record], levels: dict[str, Level],
                    targets: dict[str, Level], reasons: bool = True,
                    weights: dict[str, int] | None = None) -> list[Change]:
    """A ``Change`` for every subject whose final level differs from its target, in file order."""
    from solver.engine.staging import support_weight

    if weights is None:
        weights = {sid: support_weight(loaded, sid, targets[sid]) for sid in targets}
    ex = _Explainer(loaded, records, levels, targets, weights)
    return [Change(sid, targets[sid], levels[sid], tuple(ex.reasons(sid)) if reasons else ())
            for sid in targets if levels[sid] != targets[sid]]


def render_change(loaded: LoadedCase, change: Change, by_id: dict[str, Change] | None = None, depth: int = 0) -> str:
    """A change as one paragraph: who, from and to, each reason with its rule and citation, and the chain."""
    s = loaded.hierarchy.subjects[change.id]
    head = f"{s.name} ({change.id}): {change.before.official} → {change.after.official}"
    parts = []
    for r in change.reasons:
        ref = f" [{r.rule}, {r.citation}]" if r.citation else ""
        line = f"{r.text}{ref}"
        if by_id and depth < 3 and r.kind == "structural":
            chained = [by_id[o] for o in r.others if o in by_id and o != change.id]
            for c in chained[:2]:
                inner = "; ".join(x.text for x in c.reasons)
                line += f" (chính {loaded.hierarchy.subjects[c.id].name} bị hạ vì: {inner})"
        parts.append(line)
    return head + (" — " + " | ".join(parts) if parts else "")


def render_why_not(loaded: LoadedCase, w) -> list[str]:
    """The answer of ``xeploai explain … --keep`` (a ``solver.explanations.whynot.WhyNot``), as Vietnamese lines."""
    subjects = loaded.hierarchy.subjects
    name = subjects[w.sid].name
    head = f"Nếu giữ {name} ({w.sid}) ở mức {w.keep.official}:"
    if not w.possible:
        lines = [head + " KHÔNG THỂ — các quyết định và quy định sau mâu thuẫn nhau:"]
        for c in w.held.conflicts:
            ref = f" [{c.rule}, {c.citation}]" if c.citation else ""
            lines.append(f"  - {c.text}{ref}")
        return lines
    extra = w.extra_changes
    cost = "không phải thay đổi thêm ai" if extra == 0 and len(w.moved) <= 1 else (
        f"thêm {extra} thay đổi so với phương án đã chọn" if extra else "cùng số thay đổi nhưng đổi người")
    lines = [f"{head} CÓ THỂ, với chi phí: {cost} "
             f"({w.base.changed} → {w.held.changed} đối tượng thay đổi, {w.base.steps} → {w.held.steps} bậc)."]
    if w.held.status != "optimal":
        lines.append("  (phương án này chưa được chứng minh tối ưu: hết thời gian)")
    others = [(i, a, b) for i, a, b in w.moved if i != w.sid]
    if others:
        lines.append("  Những người khác phải xếp khác đi:")
        by_id = {c.id: c for c in w.held.changes}
        for i, a, b in others[:50]:
            why = "; ".join(r.text for r in by_id[i].reasons) if i in by_id else ""
            lines.append(f"  - {subjects[i].name} ({i}): {a.official} → {b.official}" + (f" — {why}" if why else ""))
        if len(others) > 50:
            lines.append(f"  … và {len(others) - 50} người khác")
    return lines
