"""The page «Quy định»: the rule catalogue in words (titles and the documents' clauses, never rule codes),
the options in force and the rule profiles by their titles."""

from __future__ import annotations

from model.case import KIND_LABELS, Kind
from model.catalogue import load_catalogue
from solver.appcore.words import plain_text, profile_choices

FAMILY_LABELS = {"ballot": "Phiếu biểu quyết", "quota": "Tỷ lệ", "structural": "Quan hệ giữa các đối tượng",
                 "individual": "Trường hợp cá nhân", "order": "Thứ tự xếp loại"}


def rule_items() -> list[dict]:
    """The catalogue's rules in its order: title, family, who it applies to, summary, options, clauses, quotes."""
    kinds = {k.value: KIND_LABELS[k] for k in Kind}
    cat = load_catalogue()
    return [{"id": r.id, "title": r.title, "family": FAMILY_LABELS.get(r.family, r.family),
             "applies_to": ", ".join(kinds[k] for k in r.applies_to), "summary": plain_text(r.summary),
             "options": [cat.option(o).title for o in r.options],
             "effective_from": r.effective_from.strftime("%d/%m/%Y"),
             "cite": r.cite, "citations": [{"label": c.label, "quote": c.quote} for c in r.citations]}
            for r in cat.rules]


def profile_rows() -> list[dict]:
    """The rule profiles in words: title, period, whether it is the default, its own option values, description."""
    from solver.appcore.words import option_value

    cat = load_catalogue()
    out = []
    for row in profile_choices():
        p = cat.profile(row["id"])
        own = "; ".join(f"{cat.option(k).title}: {option_value(k, v, p.options)}" for k, v in p.options.items())
        out.append({"Bộ quy định": row["title"], "Hiệu lực": row["period"], "Mặc định": row["default"],
                    "Tùy chọn riêng": own or "không (mọi tùy chọn lấy giá trị mặc định)",
                    "Mô tả": row["description"]})
    return out


__all__ = ["FAMILY_LABELS", "profile_rows", "rule_items"]
