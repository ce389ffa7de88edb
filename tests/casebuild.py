"""Tiny case builders for the solver tests: dicts in the case format, validated by the real loader."""

from __future__ import annotations

from model.loader import LoadedCase, parse_case


def org(id, target="T", tier="grassroots", parent=None, **kw):
    return {"id": id, "name": f"Tổ chức {id}", "kind": "party_org", "tier": tier, "parent": parent,
            **({"target": target} if target is not None else {}), **kw}


def member(id, parent, target="T", **kw):
    return {"id": id, "name": f"Đảng viên {id}", "kind": "member", "parent": parent,
            **({"target": target} if target is not None else {}), **kw}


def collective(id, leads, target="T", category="chi_uy", **kw):
    return {"id": id, "name": f"Tập thể {id}", "kind": "collective", "leads": leads, "category": category,
            **({"target": target} if target is not None else {}), **kw}


def leader(id, heads, target="T", category="bi_thu", **kw):
    return {"id": id, "name": f"Cán bộ {id}", "kind": "leader", "heads": heads, "category": category,
            **({"target": target} if target is not None else {}), **kw}


def unit(id, level="T", category="doan_the", **kw):
    return {"id": id, "name": f"Đơn vị {id}", "kind": "unit", "category": category, "level": level, **kw}


def votes(xs, t, tb=0, k=0):
    return {"XS": xs, "T": t, "TB": tb, "K": k}


def case(*subjects, **kw) -> LoadedCase:
    return parse_case({"name": kw.pop("name", "thử"), "subjects": list(subjects), **kw})
