"""The page «Quy định»: the rule catalogue in words (titles and the documents' clauses, never rule codes),
the options in force and the rule profiles by their titles."""

from __future__ import annotations

from model.case import KIND_LABELS, Kind
from model.catalogue import load_catalogue
from solver.appcore.words import plain_text, profile_choices

FAMILY_LABELS = {"ballot": "Phiếu biểu quyết, điểm đánh giá", "quota": "Tỷ lệ", "structural": "Quan hệ giữa các đối tượng",
                 "individual": "Trường hợp cá nhân", "order": "Thứ tự, đối tượng xếp loại",
                 "person": "Một người nhiều chức vụ"}


def source_rows() -> list[dict]:
    """The texts the catalogue cites: short name, number, date, issuer, and a note when its text is not stored."""
    return [{"label": s.label, "short": s.short, "document": s.document, "number": s.number,
             "date": s.date.strftime("%d/%m/%Y"), "issuer": s.issuer, "note": s.note}
            for s in load_catalogue().sources]


def rule_items(options=None) -> list[dict]:
    """The catalogue's rules in its order: title, family, who it applies to, summary, parameters, clauses,
    quotes. With a case's ``options``: whether each rule is in force for it, only the citations of its
    profile's sources, and «chưa có văn bản» with the profile's reason where it keeps a rule no source states."""
    kinds = {k.value: KIND_LABELS[k] for k in Kind}
    cat = load_catalogue()
    profile = cat.profile(options.profile) if options is not None else None
    out = []
    for r in cat.rules:
        citations = r.citations_in(options.sources) if options is not None else list(r.citations)
        unsourced = profile.unsourced.get(r.id) if profile is not None and not citations else None
        out.append({"id": r.id, "title": r.title, "family": FAMILY_LABELS.get(r.family, r.family),
                    "applies_to": ", ".join(kinds[k] for k in r.binds), "summary": plain_text(r.summary_in(options.sources if options is not None else None)),
                    "options": [cat.param(o).title for o in r.params],
                    "effective_from": r.effective_from.strftime("%d/%m/%Y"),
                    "in_force": None if options is None else options.on(r.id),
                    "cite": "; ".join(dict.fromkeys(c.label for c in citations)) or ("chưa có văn bản" if unsourced
                                                                                        else ""),
                    "unsourced": unsourced,
                    "citations": [{"label": c.label, "quote": c.quote} for c in citations]})
    return out


def profile_rows() -> list[dict]:
    """The rule profiles in words: title, period, whether it is the default, its own option values, description."""
    from solver.appcore.words import option_value

    cat = load_catalogue()
    out = []
    for row in profile_choices():
        p = cat.profile(row["id"])
        own = "; ".join(f"{cat.param(k).title}: {option_value(k, v, p.params)}" for k, v in p.params.items())
        out.append({"Bộ quy định": row["title"], "Hiệu lực": row["period"], "Mặc định": row["default"],
                    "Tùy chọn riêng": own or "không (mọi tùy chọn lấy giá trị mặc định)",
                    "Mô tả": row["description"]})
    return out


__all__ = ["FAMILY_LABELS", "profile_rows", "rule_items", "source_rows"]
