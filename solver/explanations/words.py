"""Every Vietnamese sentence xeploai says about a rule, a change, a conflict or a decision: records in,
strings out. The CLI, the app and the reports all call these functions, so they say the same words; the
rules' titles, summaries and citations come from the catalogue (``model.catalogue``), filtered to the
sources of the case's own profile.
"""

from __future__ import annotations

import functools

from model.case import DISCIPLINE_FORMS, TARGET_SOURCE_PHRASES, TARGET_SOURCES, UNIT_CATEGORIES, VIOLATION_KINDS
from model.case import target_sources_text
from model.catalogue import load_catalogue
from model.levels import Level
from model.loader import LoadedCase
from solver.engine.records import AtMost, Cap, CountTrigger, Needs, Quota, Record, SmallGroup
from solver.result import Change

#: What an S3 (or Q4) record counts, in words.
WHAT = {"places": "địa phương, cơ quan, đơn vị mình phụ trách","members": "đảng viên", "sub_orgs": "tổ chức đảng trực thuộc",
        "units": "chính quyền, Mặt trận Tổ quốc, đoàn thể chính trị - xã hội cùng cấp",
        "front_units": "tổ chức Mặt trận Tổ quốc, đoàn thể chính trị - xã hội cùng cấp",
        "sub_committees": "tập thể cấp ủy trực thuộc"}


def number(n: int | float) -> str:
    """A number as Vietnamese writes it: 14.563; 0,6."""
    if isinstance(n, float) and not n.is_integer():
        whole, _, frac = f"{n:.2f}".rstrip("0").partition(".")
        return f"{number(int(whole))},{frac}"
    return f"{int(n):,}".replace(",", ".")


#: The citation of a rule the case's profile keeps although its texts do not state it.
UNSOURCED = "chưa có văn bản"


#: Q2 (``solver.engine.rules.task_cap``): which level's conditions failed, by the clause that decided the cap.
_FAILED_LEVEL = {"t": "XS", "ht": "T", "gap": "HT", "k": "K"}


def cite(loaded: LoadedCase | None, rule: str, kind: str | None = None, detail: dict | None = None,
         level: Level | None = None) -> str:
    """The citation labels of a rule for a case: only its profile's sources, the clauses of the subject's
    kind when the rule has any, the clause of the level whose condition failed when the rule cites one
    clause per level (``level``, or the ``clause`` a record's detail names: QĐ 366 Điều 11 khoản 1–4; BMT
    II.B.1.3a–d, II.B.2.3a–d), and BĐ 5.12 (E9) when the discipline counted is a transferred member's."""
    failed = _FAILED_LEVEL.get(detail.get("clause")) if detail else None
    level = failed or (level.code if level is not None else None)
    if loaded is None:
        return _cite_text(rule, None, None, kind, level) or ""
    text = _cite_text(rule, loaded.options.sources, loaded.options.profile, kind, level)
    if text is None:
        return ""
    if detail and _transferred(loaded, detail) and loaded.options.on("E9"):
        extra = _cite_text("E9", loaded.options.sources, None, None, None)
        text = "; ".join(x for x in (text, extra) if x)
    return text


@functools.lru_cache(maxsize=4096)
def _cite_text(rule: str, sources: tuple[str, ...] | None, profile: str | None, kind: str | None,
               level: str | None) -> str | None:
    """``cite``'s text from the (read-once) catalogue, computed once per argument set: a province's 20,000
    changes ask for a few dozen distinct citations, and each took 16 microseconds to assemble. None for a rule
    the catalogue does not hold."""
    catalogue = load_catalogue()
    if rule not in catalogue.rule_ids:
        return None
    text = catalogue.rule(rule).cite_in(sources, kind, level)
    if not text and profile is not None and rule in catalogue.profile(profile).unsourced:
        text = UNSOURCED  # the profile keeps a rule its texts do not state: say so, never cite another text
    return text


def _transferred(loaded: LoadedCase, detail: dict) -> bool:
    m = detail.get("member")
    return bool(m) and loaded.hierarchy.subjects[m].facts.violation_org is not None


def _name(loaded: LoadedCase, sid: str) -> str:
    return loaded.hierarchy.subjects[sid].name


def final_level(loaded: LoadedCase, levels: dict[str, Level] | None, sid: str) -> Level | None:
    """The final level of a decided subject, or the given level of a unit."""
    if levels is not None and sid in levels:
        return levels[sid]
    return loaded.hierarchy.subjects[sid].level


def fact_sentence(loaded: LoadedCase, r: Cap) -> str:
    """The sentence for a fact that caps a subject."""
    d = r.detail
    lv = r.level
    member = _name(loaded, d["member"]) if "member" in d else ""
    moved = (" (vi phạm khi còn sinh hoạt ở đây, bị kỷ luật sau khi chuyển đi)"
             if member and _transferred(loaded, d) else "")
    collective = _name(loaded, d["collective"]) if "collective" in d else ""
    texts = {
        "civil_servant_level": lambda: f"công chức, viên chức xếp loại {lv.official} → không cao hơn mức {lv.official}",
        "disciplined": lambda: "bị thi hành kỷ luật trong năm → Không hoàn thành nhiệm vụ",
        "degeneration": lambda: "cấp có thẩm quyền kết luận có biểu hiện suy thoái, “tự diễn biến”, “tự chuyển hóa” "
                                "→ Không hoàn thành nhiệm vụ",
        "targets_below_half": lambda: "chỉ hoàn thành dưới 50% chỉ tiêu, nhiệm vụ được giao → Không hoàn thành nhiệm vụ",
        "sick_leave_months": lambda: f"nghỉ ốm {number(d.get('months', 0))} tháng trong năm (từ "
                                     f"{number(d.get('limit', 3))} tháng trở lên) → không cao hơn mức {Level.HT.official}",
        "criteria": lambda: f"các tiêu chí tự đánh giá (nhiệm vụ: {', '.join(d.get('task', ())) or '—'}; còn lại: "
                            f"{', '.join(d.get('other', ())) or '—'}) chỉ đạt mức {lv.official}",
        "committee_member_disciplined": lambda: (
            f"có cấp ủy viên{' ' + member if member else ''} bị xử lý kỷ luật{moved}"
            + (" (đã tự phát hiện, khắc phục)" if lv == Level.T else "") + f" → không cao hơn mức {lv.official}"
            if r.rule == "E7" else "có cấp ủy viên của đảng bộ bị xử lý kỷ luật (không phải tự phát hiện, khắc "
                                   "phục) → không đạt mức Hoàn thành nhiệm vụ, xếp Không hoàn thành nhiệm vụ"),
        "subordinate_committee_disciplined": lambda: (
            f"tập thể cấp ủy trực thuộc {collective or '(ngoài hồ sơ)'} bị xử lý kỷ luật (không phải tự phát hiện, "
            "khắc phục) → không đạt mức Hoàn thành nhiệm vụ, xếp Không hoàn thành nhiệm vụ"),
        "violations_handled": lambda: (
            f"tập thể cấp ủy trực thuộc {collective} để xảy ra vụ, việc tham ô, tham nhũng hoặc vi phạm khác bị xử lý "
            "→ Không hoàn thành nhiệm vụ"),
        "member_disciplined": lambda: (
            f"đảng viên {member} bị xử lý kỷ luật{moved} (không phải tự phát hiện, khắc phục) → tổ chức đảng không đạt "
            "mức Hoàn thành nhiệm vụ, xếp Không hoàn thành nhiệm vụ" if r.rule == "E7b" else
            (f"thành viên {member} bị kỷ luật{moved}" if member else
             f"có cấp ủy viên của {_name(loaded, d['org'])} bị kỷ luật")
            + (" (đã tự phát hiện, khắc phục)" if d.get("self_remedied") else "")
            + f" → tập thể không cao hơn mức {lv.official}"),
        "standing_committee_disciplined": lambda: "ban thường vụ cấp ủy bị xử lý kỷ luật → Không hoàn thành nhiệm vụ",
        "leading_collective_disciplined": lambda: f"{collective} bị xử lý kỷ luật → Không hoàn thành nhiệm vụ",
        "collective_disciplined": lambda: "tập thể bị xử lý kỷ luật trong năm → Không hoàn thành nhiệm vụ",
        "disunity": lambda: "cấp có thẩm quyền kết luận mất đoàn kết nội bộ → Không hoàn thành nhiệm vụ",
        "member_degeneration": lambda: (f"thành viên {member}" if member else "có thành viên")
        + " suy thoái, “tự diễn biến”, “tự chuyển hóa” → Không hoàn thành nhiệm vụ",
        "unit_targets_below_half": lambda: f"{_name(loaded, d['unit'])} do tập thể trực tiếp lãnh đạo hoàn thành dưới "
                                           "50% chỉ tiêu → Không hoàn thành nhiệm vụ",
        "indicators_missed": lambda: "nơi mình trực tiếp lãnh đạo, quản lý không hoàn thành 5 chỉ tiêu kinh tế - xã hội "
                                     "cơ bản → Không hoàn thành nhiệm vụ",
        "tasks": lambda: task_sentence(loaded, r),
        "shortcomings_not_remedied": lambda: "chưa khắc phục hết các hạn chế, khuyết điểm được chỉ ra ở kỳ kiểm điểm "
                                             f"trước → không cao hơn {lv.official}",
        "low_confidence": lambda: "có trên 50% số phiếu tín nhiệm thấp trong năm → Không hoàn thành nhiệm vụ",
        "corruption_in_scope": lambda: "có tổ chức, cá nhân trong phạm vi quản lý trực tiếp xảy ra tham nhũng, lãng "
                                       "phí, tiêu cực bị xử lý kỷ luật → Không hoàn thành nhiệm vụ",
        "discipline": lambda: (f"bị kỷ luật {DISCIPLINE_FORMS[d['form']]} vì "
                               f"{VIOLATION_KINDS[d['violation']]} → Không hoàn thành nhiệm vụ"),
        "personnel_errors": lambda: "cấp có thẩm quyền kết luận có sai phạm trong công tác cán bộ, bè phái, chạy chức, "
                                    "chạy quyền → Không hoàn thành nhiệm vụ",
    }
    if r.rule == "Q6" and r.fact == "collective_disciplined":
        return f"tập thể bị kỷ luật trong năm → không cao hơn {lv.official}"
    if r.rule == "Q6" and r.fact == "member_disciplined":
        what = ("vi phạm liên quan đến chức trách, nhiệm vụ" if d.get("duty") or d.get("self_reported") else "vi phạm")
        if d.get("self_reported"):
            what += ", đã chủ động phát hiện và khắc phục kịp thời"
        return f"thành viên {member} bị kỷ luật ({what}){moved} → tập thể không cao hơn {lv.official}"
    if r.rule == "Q6" and r.fact == "subordinate_disciplined":
        return f"đơn vị trực thuộc có {collective} bị kỷ luật → tập thể không cao hơn {lv.official}"
    if r.rule == "Q6" and r.fact == "disunity":
        return "cấp có thẩm quyền kết luận mất đoàn kết nội bộ → Không hoàn thành nhiệm vụ"
    return texts[r.fact]()


def task_sentence(loaded: LoadedCase, r: Cap) -> str:
    """Q2: the tasks of a subject and what they allow, with the numbers."""
    d = r.detail
    where = "nơi mình trực tiếp lãnh đạo, quản lý " if d.get("leading") else ""
    facts = (f"{where}hoàn thành {number(d['done'])}/{number(d['assigned'])} nhiệm vụ, {number(d['on_time'])} đúng "
             f"hạn, {number(d['exceeded'])} vượt mức yêu cầu")
    o = loaded.options
    clause = d.get("clause")
    if clause == "k":
        limit = (f"dưới {o.k_leader_done_percent}% nhiệm vụ" if d.get("leading")
                 else f"trên {o.k_not_done_percent}% nhiệm vụ không hoàn thành")
        return f"{facts}: {limit} → Không hoàn thành nhiệm vụ"
    if clause == "gap":
        return (f"{facts}: không đạt điều kiện của mức Hoàn thành nhiệm vụ (100% nhiệm vụ, chưa bảo đảm tiến độ không "
                f"quá {o.ht_late_percent}%) nhưng cũng không thuộc trường hợp Không hoàn thành nhiệm vụ → không cao hơn "
                "Hoàn thành nhiệm vụ; cấp có thẩm quyền quyết định")
    need = {"t": f"chưa đủ {o.xs_exceeded_percent}% nhiệm vụ vượt mức yêu cầu",
            "ht": "chưa hoàn thành 100% nhiệm vụ đúng hạn"}[clause]
    return f"{facts}: {need} → không cao hơn {r.level.official}"


def describe_record(loaded: LoadedCase, r: Record, levels: dict[str, Level] | None = None) -> str:
    """One Vietnamese sentence stating a rule instance (used for conflicts and reasons)."""
    def lv_of(sid: str) -> str:
        x = final_level(loaded, levels, sid)
        return f" xếp loại {x.official}" if x is not None else ""

    if isinstance(r, Cap):
        return f"{_name(loaded, r.sid)}: {fact_sentence(loaded, r)}"
    if isinstance(r, AtMost):
        if r.rule == "S1":
            return (f"tập thể {_name(loaded, r.a)} không cao hơn tổ chức, đơn vị mình lãnh đạo: "
                    f"{_name(loaded, r.b)}{lv_of(r.b)}")
        if r.rule == "P1":
            return (f"{_name(loaded, r.a)} và {_name(loaded, r.b)} là cùng một người: các nơi lấy mức ở chức vụ "
                    f"đảm nhiệm chính và cao nhất{lv_of(r.b)}")
        return (f"người đứng đầu {_name(loaded, r.a)} không cao hơn tập thể, tổ chức mình đứng đầu: "
                f"{_name(loaded, r.b)}{lv_of(r.b)}")
    if isinstance(r, Needs):
        base = (f"{_name(loaded, r.sid)} chỉ được {r.level.official} khi {'từ ' if r.percent < 100 else ''}"
                f"{r.percent}% {WHAT[r.what]} đạt {r.minimum.official} trở lên")
        if levels:
            below = [o for o in r.others if final_level(loaded, levels, o) < r.minimum]
            if below:
                shown = joined([f"{_name(loaded, o)}{lv_of(o)}" for o in below[:3]])
                more = f" và {len(below) - 3} khác" if len(below) > 3 else ""
                base += f"; nhưng {shown}{more}"
        return base
    if isinstance(r, CountTrigger):
        if r.at_least is not None:
            base = (f"{_name(loaded, r.sid)} xếp Không hoàn thành nhiệm vụ nếu có từ {r.at_least:02d} "
                    f"{WHAT[r.what]} Không hoàn thành nhiệm vụ")
        else:
            base = (f"{_name(loaded, r.sid)} xếp Không hoàn thành nhiệm vụ nếu trên {r.percent}% {WHAT[r.what]} "
                    "xếp loại Không hoàn thành nhiệm vụ")
        if levels:
            k = sum(1 for o in r.others if final_level(loaded, levels, o) == Level.K)
            base += f" (hiện có {k}/{len(r.others)})"
        return base
    if isinstance(r, Quota):
        g = loaded.hierarchy.group(r.group)
        reading = "số Hoàn thành tốt nhiệm vụ" if r.base == "good_only" else "số Hoàn thành tốt nhiệm vụ trở lên"
        return f"nhóm «{g.name}»: số Hoàn thành xuất sắc nhiệm vụ không vượt quá {r.percent}% {reading}"
    if isinstance(r, SmallGroup):
        g = loaded.hierarchy.group(r.group)
        return (f"nhóm «{g.name}»: dưới {r.threshold:02d} Hoàn thành tốt nhiệm vụ thì được {r.allowance:02d} "
                "Hoàn thành xuất sắc nhiệm vụ")
    raise TypeError(r)


def score_text(score: float) -> str:
    """An appraised score as the committee writes it: «92,5 điểm», «90 điểm»."""
    whole, tenth = divmod(round(score * 10), 10)
    return f"{number(whole)}{',' + str(tenth) if tenth else ''} điểm"


def share_of(loaded: LoadedCase, sid: str, level: Level = Level.XS) -> str:
    """A subject's support for a level as the committee counts it and as the ranking weighs it
    (``solver.engine.staging.support_weight``): its score («92,5 điểm»), its ballots («9/13»), «mức ghi sẵn»
    or «không có phiếu»."""
    from model.ballots import ballots_at_or_above, denominator

    s = loaded.hierarchy.subjects[sid]
    if s.target is not None:
        return "mức ghi sẵn"
    if s.score is not None:
        return score_text(s.score)
    if s.votes is None:
        return "không có phiếu"
    tally = s.votes.as_dict()
    return f"{ballots_at_or_above(tally, level)}/{denominator(tally, s.voters)}"


def measure(loaded: LoadedCase) -> str:
    """What the ranking of a case compares: «điểm» (QĐ 366 scores), «tỷ lệ phiếu», or both."""
    scored, voted = loaded.ranks_by
    if scored and not voted:
        return "điểm"
    if scored:
        return "điểm hoặc tỷ lệ phiếu"
    return "tỷ lệ phiếu"


def support_sum(millionths: int, scored: bool = False) -> str:
    """A sum of supports (millionths, ``support_weight``) in Vietnamese: ballot shares with two decimals (1,38),
    or scores in points with one (185,5: a score weighs its tenths of a point in thousandths)."""
    if scored:
        whole, tenth = divmod(round(millionths / 1_000), 10)
        return f"{number(whole)},{tenth}" if tenth else number(whole)
    whole, frac = divmod(round(millionths / 10_000), 100)
    return f"{number(whole)},{frac:02d}"


def _listed(loaded: LoadedCase, ids, with_share: bool = True, limit: int = 4) -> str:
    shown = [f"{_name(loaded, i)} ({share_of(loaded, i)})" if with_share else _name(loaded, i) for i in ids[:limit]]
    more = f" và {len(ids) - limit} đối tượng khác" if len(ids) > limit else ""
    return joined(shown) + more


def joined(names: list[str]) -> str:
    """Names in a sentence: by commas, or by semicolons when a name has its own comma (a leader's name is
    often written with the post, «Đinh Hải Yên, Bí thư Chi bộ Khu phố 18»: commas alone would make one
    person read as two)."""
    return ("; " if any("," in n for n in names) else ", ").join(names)


def claim_sentence(loaded: LoadedCase, c) -> str:
    """What keeping a subject moved against the ranking by score or ballots would cost (a
    ``solver.result.Claim``), in words."""
    name = _name(loaded, c.sid)
    weaker = _listed(loaded, list(c.weaker_kept))
    subjects = loaded.hierarchy.subjects
    scored = all(subjects[i].score is not None and subjects[i].target is None
                 for i in (c.sid, *c.weaker_kept, *c.alt_moved, *c.base_moved))
    what = "điểm" if scored else measure(loaded)
    head = f"{weaker} có {what} thấp hơn nhưng giữ mức {Level.XS.official}"
    if c.verdict == "impossible":
        return f"{head}: không thể giữ {name} ở mức này — các quyết định khóa và quy định khác không cho phép"
    keep = f"giữ {name} ở mức {Level.XS.official} thì"
    if c.verdict == "more_changes":
        return (f"{head}: {keep} phải thay đổi thêm {number(c.extra_changes)} đối tượng (phải hạ "
                f"{_listed(loaded, list(c.alt_moved), False)} thay vì {_listed(loaded, list(c.base_moved), False)}, "
                f"{number(len(c.alt_moved))} thay vì {number(len(c.base_moved))} thay đổi)")
    if c.verdict == "more_steps":
        return f"{head}: {keep} cùng số đối tượng thay đổi nhưng thêm {number(c.extra_steps)} bậc"
    if c.verdict == "support":
        total = "tổng điểm" if scored else f"tổng {what}"
        return (f"{head}: {keep} cùng số thay đổi và số bậc, nhưng phải hạ {_listed(loaded, list(c.alt_moved))} "
                f"({total} {support_sum(c.alt_support, scored)}) thay vì {_listed(loaded, list(c.base_moved))} "
                f"(tổng {support_sum(c.base_support, scored)}); chọn theo tiêu chí 3: hạ những đối tượng có "
                f"{total} thấp hơn")
    return f"{head}: {keep} cũng tốt như phương án đã chọn (ngang nhau) — cấp có thẩm quyền quyết định"


def lock_text(loaded: LoadedCase, sid: str) -> str:
    s = loaded.hierarchy.subjects[sid]
    return f"{s.name}: cấp có thẩm quyền khóa ở mức {s.lock.official}"


def direction_text(loaded: LoadedCase, sid: str, target: Level) -> str:
    s = loaded.hierarchy.subjects[sid]
    return f"{s.name}: không được xếp cao hơn mức mục tiêu {target.official} (chỉ được hạ, không nâng)"


def quota_sentence(loaded: LoadedCase | None, options: dict, *, with_citation: bool = False) -> str:
    """The quota rules as this case applies them, in one sentence without rule codes: C1 with its percent and
    base, C2 only where the case's rules have it, the 25% decisions (C3) the case records; ``with_citation``
    adds C1's citation in the case's own sources."""
    rules = options.get("rules")
    on = (lambda rid: rid in rules) if rules is not None else (lambda rid: True)
    above = " trở lên" if options.get("cap_base") == "good_and_above" else ""
    text = (f"Trong mỗi nhóm tính tỷ lệ, số được xếp loại {Level.XS.official} không vượt quá "
            f"{options.get('cap_percent', 20)}% số được xếp loại {Level.T.official}{above}, tính trên kết quả "
            "xếp loại sau rà soát")
    if on("C2") and options.get("small_group_allowance", 0) > 0:
        text += (f"; nhóm có dưới {options.get('small_group_threshold', 5):02d} đối tượng được xếp loại "
                 f"{Level.T.official}{above} thì vẫn được xếp loại {options['small_group_allowance']:02d} "
                 f"{Level.XS.official}")
    if loaded is not None and on("C3") and loaded.case.exceptions:
        subjects = loaded.hierarchy.subjects
        text += "; " + "; ".join(
            f"tập thể, cá nhân thuộc phạm vi quản lý của {subjects[e.scope].name}: {e.percent}% theo quyết định "
            f"của {e.author}" for e in loaded.case.exceptions if e.scope in subjects)
    if with_citation and loaded is not None:
        clause = cite(loaded, "C1")
        if clause:
            text += f" ({clause})"
    return text + "."


#: Why a tie is broken one way: a convention for having one answer, not a rule.
TIE_BREAK_SENTENCE = ("Có phương án ngang nhau: kết quả trình bày phương án chọn theo thứ tự trong hồ sơ (giữ mức "
                      "cao hơn cho đối tượng đứng trước); đây là quy ước để có một phương án, không phải quy định; "
                      "cấp có thẩm quyền có thể chọn khác.")


def status_sentences(result, *, conflicts_at: str = "mục «Mâu thuẫn»") -> list[str]:
    """The status of a result in sentences, saying plainly whether it is proven least change, from the result's
    own figures (numbers the Vietnamese way); ``conflicts_at`` names where the conflicting decisions are shown.
    One text for the app, the Word report and the Excel summary."""
    out = []
    if result.status == "optimal" and result.changed == 0:
        out.append("Kết quả ĐÃ ĐƯỢC CHỨNG MINH: mọi mức mục tiêu đã thỏa các quy định, không phải thay đổi đối tượng "
                   "nào.")
    elif result.status == "optimal":
        out.append(f"Kết quả ĐÃ ĐƯỢC CHỨNG MINH là phương án thay đổi ít nhất: không có phương án nào thỏa mọi "
                   f"quy định mà phải thay đổi ít hơn {number(result.changed)} đối tượng.")
    elif result.status == "feasible":
        bound = (f" Cận dưới hiện biết của số đối tượng phải thay đổi: {number(result.bound_changed)}."
                 if result.bound_changed is not None else "")
        out.append("Kết quả CHƯA ĐƯỢC CHỨNG MINH là phương án thay đổi ít nhất (việc tìm kiếm dừng vì hết thời "
                   "gian): phương án thỏa mọi quy định, nhưng có thể còn phương án thay đổi ít hơn." + bound)
    elif result.status == "conflict":
        out.append("Không có phương án nào thỏa đồng thời mọi quyết định khóa mức và mọi quy định; chưa có kết quả "
                   f"xếp loại. {conflicts_at[:1].upper()}{conflicts_at[1:]} nêu các quyết định và quy định mâu "
                   "thuẫn nhau để cấp có thẩm quyền xem xét.")
    elif result.status == "unknown":
        out.append("Hết thời gian mà chưa tìm được phương án nào; chưa có kết quả xếp loại.")
    if result.changed is not None:
        out.append(f"Số đối tượng phải thay đổi so với mức mục tiêu: {number(result.changed)}; tổng số bậc thay "
                   f"đổi: {number(result.steps)}.")
    if result.tie_break_used:
        out.append(TIE_BREAK_SENTENCE)
    out.extend(result.notes)
    return out


def unit_category_label(code: str | None) -> str:
    return UNIT_CATEGORIES.get(code or "", "chưa ghi loại")


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
    figures = (f"{number(w.base.changed)} → {number(w.held.changed)} đối tượng thay đổi, {number(w.base.steps)} → "
               f"{number(w.held.steps)} bậc")
    same = extra == 0 and w.base.steps == w.held.steps and len(w.moved) > 1
    if same and w.base.support_cost is not None and w.held.support_cost is not None:
        scored = measure(loaded) == "điểm"
        what = "điểm" if scored else measure(loaded)
        figures += (f", tổng {what} của những người phải hạ {support_sum(w.base.support_cost, scored)} → "
                    f"{support_sum(w.held.support_cost, scored)}")
        if w.held.support_cost > w.base.support_cost:
            cost += f"; phương án đã chọn hạ những người có tổng {what} thấp hơn (tiêu chí 3)"
        elif w.held.support_cost == w.base.support_cost:
            cost += " — ngang nhau với phương án đã chọn, cấp có thẩm quyền quyết định"
    lines = [f"{head} CÓ THỂ, với chi phí: {cost} ({figures})."]
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


__all__ = ["WHAT", "cite", "describe_record", "direction_text", "fact_sentence", "final_level", "lock_text",
           "claim_sentence", "measure", "quota_sentence", "status_sentences", "TIE_BREAK_SENTENCE", "number", "render_change", "score_text", "share_of", "support_sum", "render_why_not", "unit_category_label"]
