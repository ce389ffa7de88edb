"""Pictures that show the changes: the organization tree coloured by change (never more boxes than a
browser draws at once), the quota chart, the before/after bars per kind, and the cause chains of a change
and of a conflict (member K → chi bộ ≤ HT → đảng bộ ≤ T) as Graphviz text.
"""

from __future__ import annotations

import html
from collections import Counter

import plotly.graph_objects as go

from model.case import KIND_LABELS, Kind, Tier
from model.levels import Level
from model.loader import LoadedCase
from solver.appcore.tables import Places, unique_labels
from solver.appcore.words import CHANGE_COLORS, LEVEL_COLORS, LEVEL_ORDER, UNRATED_COLOR, num, rule_title
from solver.result import SolveResult

#: The most boxes the tree draws: a treemap of tens of thousands of boxes freezes the browser for seconds.
MAX_BOXES = 1000


# ---- the organization tree -----------------------------------------------------------------------------


def tree_roots(loaded: LoadedCase) -> list[str]:
    """Organizations a user can open as the tree's root: upper and grassroots organizations, in file order."""
    subjects = loaded.case.subjects
    roots = [s.id for s in subjects if s.kind is Kind.party_org and s.tier in (Tier.upper, Tier.grassroots)]
    if not roots:
        roots = [s.id for s in subjects if s.kind is Kind.party_org and s.parent is None]
    return roots


def tree_members(loaded: LoadedCase, root: str, orgs_only: bool = False) -> list[tuple[str, str]]:
    """(subject, parent node) pairs of the subtree under ``root``: organizations, their members, the units
    beside them, the collectives leading them and the heads of those collectives — each subject once
    (``orgs_only``: organizations alone)."""
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

    stack = [root]
    while stack:
        org = stack.pop()
        if not orgs_only:
            leadership(org)
            for u in h.subjects[org].same_level_units:
                if add(u, org):
                    leadership(u)
        subs = [sub for sub in h.sub_orgs_of.get(org, []) if add(sub, org)]
        stack.extend(reversed(subs))
        if not orgs_only:
            for m in h.members_of.get(org, []):
                add(m, org)
    return out


def branches_of(loaded: LoadedCase, root: str) -> list[str]:
    """The root and the organizations directly below it (chi bộ, đảng bộ bộ phận), in file order."""
    return [root, *loaded.hierarchy.sub_orgs_of.get(root, [])]


def _change_mark(s, target: Level | None, final: Level | None) -> str:
    if s.decided and final is not None and target is not None and final != target:
        return "down" if final < target else "up"
    return ""


def tree_data(loaded: LoadedCase, result: SolveResult, root: str, max_nodes: int = MAX_BOXES,
              color: str = "change", only_changes: bool = False) -> dict:
    """The subtree under ``root`` as treemap columns (ids, labels, parents, colours, hover texts), never more
    than ``max_nodes`` boxes.

    ``color`` "change": lowered red, raised green, unchanged grey (the default: a change is unmistakable);
    "level": the final level. A changed subject's label also carries ▼ or ▲ with target → result. When the
    subtree is too large, members go first, then collectives, leaders and units, then the deepest
    organizations; each organization's label says how many members and changes it holds. ``only_changes``
    keeps the changed subjects and the organizations on the way to them."""
    h = loaded.hierarchy
    levels = result.levels or {}
    change_of = {c.id: c for c in result.changes}
    places = Places(loaded)
    inside: Counter = Counter()  # changes at or below each organization
    for sid in change_of:
        org = places.home(sid)
        while org is not None:
            inside[org] += 1
            org = h.subjects[org].parent
    pairs = tree_members(loaded, root)
    if only_changes:
        keep = {sid for sid in change_of}
        for sid in list(keep):
            org = places.home(sid)
            while org is not None and org not in keep:
                keep.add(org)
                org = h.subjects[org].parent
        # a changed leader or collective hangs under the collective or unit it belongs to
        parents = {sid: p for sid, p in pairs}
        for sid in list(keep):
            p = parents.get(sid)
            while p is not None and p not in keep and p != root:
                keep.add(p)
                p = parents.get(p)
        pairs = [(sid, p) for sid, p in pairs if sid in keep]
    mode = "all"
    if len(pairs) + 1 > max_nodes:
        pairs = [(sid, p) for sid, p in pairs if h.subjects[sid].kind is not Kind.member]
        mode = "no_members"
    if len(pairs) + 1 > max_nodes:
        pairs = [(sid, p) for sid, p in pairs if h.subjects[sid].kind is Kind.party_org]
        mode = "orgs"
    if len(pairs) + 1 > max_nodes:
        depth = {root: 0}
        for sid, p in pairs:
            depth[sid] = depth[p] + 1
        by_depth = Counter(depth[sid] for sid, _ in pairs)
        allowed, total = 0, 1
        for d in sorted(by_depth):
            if total + by_depth[d] > max_nodes:
                break
            total += by_depth[d]
            allowed = d
        pairs = [(sid, p) for sid, p in pairs if depth[sid] <= allowed]
        mode = f"depth:{allowed}"
    cols: dict[str, list] = {"ids": [], "labels": [], "parents": [], "colors": [], "hover": [], "changed": []}
    for sid, parent in [(root, ""), *pairs]:
        s = h.subjects[sid]
        target = result.targets.get(sid)
        final = levels.get(sid) if s.decided else s.level
        mark = _change_mark(s, target, final)
        code = final.code if final is not None else "—"
        label = f"{s.name} · {code}"
        if mark:
            label = f"{'▼' if mark == 'down' else '▲'} {s.name} · {target.code} → {code}"
        extra = []
        if mode != "all" and s.kind is Kind.party_org and h.members_of.get(sid):
            extra.append(f"{num(len(h.members_of[sid]))} đảng viên")
        if s.kind is Kind.party_org and inside[sid] and mode != "all":
            extra.append(f"{num(inside[sid])} thay đổi")
        if extra:
            label += f" ({', '.join(extra)})"
        hover = [f"{s.name} ({sid})", KIND_LABELS[s.kind]]
        if s.kind is Kind.unit:
            hover.append(f"Mức đã có: {code}")
        elif not s.decided:
            hover.append("Không xếp loại")
        else:
            hover.append(f"Mục tiêu {target.code if target else '—'} → kết quả {code}")
            change = change_of.get(sid)
            if change is not None and change.reasons:
                hover.append(change.reasons[0].text)
        if s.lock is not None:
            hover.append(f"do Ban Thường vụ khóa ở mức {s.lock.code}")
        if inside[sid] and s.kind is Kind.party_org:
            hover.append(f"{num(inside[sid])} thay đổi trong tổ chức này")
        if color == "level":
            fill = LEVEL_COLORS.get(final, UNRATED_COLOR) if final is not None else UNRATED_COLOR
        else:
            fill = CHANGE_COLORS[mark] if mark else (CHANGE_COLORS["same"] if s.decided else CHANGE_COLORS["unrated"])
        cols["ids"].append(sid)
        cols["labels"].append(label)
        cols["parents"].append(parent)
        cols["colors"].append(fill)
        cols["hover"].append("<br>".join(_wrap(html.escape(x)) for x in hover))
        cols["changed"].append(bool(mark))
    cols["members_hidden"] = mode != "all"
    cols["mode"] = mode
    cols["size"] = len(cols["ids"])
    cols["changes_inside"] = inside[root]
    return cols


def tree_figure(tree: dict, color: str = "change") -> go.Figure:
    text_color = "#ffffff" if color == "level" else "#1b1b1b"
    fig = go.Figure(go.Treemap(
        ids=tree["ids"], labels=tree["labels"], parents=tree["parents"],
        marker={"colors": tree["colors"], "line": {"width": 1, "color": "#ffffff"}},
        hovertext=tree["hover"], hoverinfo="text", maxdepth=3, pathbar={"visible": True},
        textfont={"color": text_color}, tiling={"packing": "squarify"},
    ))
    fig.update_layout(height=620, margin={"l": 4, "r": 4, "t": 30, "b": 4})
    return fig


def _word_lines(text: str, width: int) -> list[str]:
    """The words of ``text`` in lines of at most ``width`` characters (a longer word stands alone)."""
    lines, cur = [], ""
    for w in text.split():
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    return lines


def _wrap(text: str, width: int = 90) -> str:
    """Break a long hover line on spaces (plotly hover boxes do not wrap)."""
    return "<br>".join(_word_lines(text, width))


# ---- the quota chart -------------------------------------------------------------------------------------


OVER_COLOR = "#c62828"
BEFORE_COLOR = "#9e9e9e"
DECIDE_COLOR = "#6a1b9a"


def quota_figure(shown: list[dict], has_levels: bool, decided: set[str] | None = None) -> go.Figure:
    """XS proposed (red when over the cap, purple when the committee decides), XS kept, and the cap."""
    decided = decided or set()
    labels = unique_labels([("◆ " if r["group"] in decided else "") + r["name"] for r in shown])
    fig = go.Figure()
    series = (("decide", DECIDE_COLOR, "XS đề nghị, nhóm cần quyết định"), ("over", OVER_COLOR, "XS đề nghị, vượt trần"),
              ("plain", BEFORE_COLOR, "XS đề nghị"))

    def kind(r: dict) -> str:
        return "decide" if r["group"] in decided else ("over" if r["over_before"] else "plain")

    for name, color, legend in series:
        if any(kind(r) == name for r in shown):
            fig.add_bar(y=labels, x=[r["before_xs"] if kind(r) == name else None for r in shown], orientation="h",
                        name=legend, marker_color=color, offsetgroup="before",
                        hovertemplate="%{y}<br>XS đề nghị: %{x:,d}<extra></extra>")
    if has_levels:
        fig.add_bar(y=labels, x=[r["after_xs"] for r in shown], orientation="h", name="XS kết quả",
                    offsetgroup="after", marker_color=LEVEL_COLORS[Level.XS],
                    hovertemplate="%{y}<br>XS kết quả: %{x:,d}<extra></extra>")
        caps = [r["after_cap"] for r in shown]
    else:
        caps = [r["before_cap"] for r in shown]
    fig.add_scatter(y=labels, x=caps, mode="markers", name="Tối đa XS được phép",
                    marker={"symbol": "line-ns", "size": 22, "line": {"width": 3, "color": "#111111"}},
                    hovertemplate="%{y}<br>Tối đa XS: %{x:,d}<extra></extra>")
    fig.update_layout(barmode="group", height=max(320, 34 * len(shown) + 120), separators=",.",
                      yaxis={"autorange": "reversed", "automargin": True},
                      xaxis={"title": "Số đối tượng xếp loại Hoàn thành xuất sắc nhiệm vụ", "rangemode": "tozero",
                             "tickformat": ",d"},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
                      margin={"l": 10, "r": 10, "t": 40, "b": 40})
    return fig


# ---- before and after, per kind ----------------------------------------------------------------------


def before_after_figure(data: list[dict]) -> go.Figure:
    """One pair of stacked bars per kind: how many at each level before (targets) and after (results)."""
    rows = []
    for d in data:
        rows.append((f"{d['kind']} — trước", d["before"]))
        if d["after"] is not None:
            rows.append((f"{d['kind']} — sau", d["after"]))
    labels = [r[0] for r in rows]
    fig = go.Figure()
    for lv in LEVEL_ORDER:
        values = [r[1][lv] for r in rows]
        fig.add_bar(y=labels, x=values, orientation="h", name=f"{lv.code} — {lv.official}",
                    marker_color=LEVEL_COLORS[lv], text=[num(v) if v else "" for v in values],
                    textposition="inside", insidetextanchor="middle",
                    hovertemplate="%{y}<br>" + lv.official + ": %{text}<extra></extra>")
    fig.update_layout(barmode="stack", height=60 + 34 * len(rows), separators=",.",
                      yaxis={"autorange": "reversed", "automargin": True},
                      xaxis={"title": "Số đối tượng", "rangemode": "tozero", "tickformat": ",d"},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
                      margin={"l": 10, "r": 10, "t": 40, "b": 40})
    return fig


# ---- cause chains ----------------------------------------------------------------------------------------


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lines(text: str, width: int = 34) -> str:
    """Wrap a label for a Graphviz box."""
    return "\n".join(_word_lines(text, width))


def _dot(nodes: dict[str, tuple[str, str]], edges: list[tuple[str, str, str]]) -> str:
    """Graphviz text: left to right, causes first; ``nodes`` id → (label, fill colour)."""
    out = ["digraph {", 'rankdir="LR";', 'node [shape=box, style="rounded,filled", fontname="Helvetica", '
           'fontsize=11, color="#607d8b"];', 'edge [fontname="Helvetica", fontsize=9, color="#546e7a"];']
    for nid, (label, fill) in nodes.items():
        out.append(f"{_q(nid)} [label={_q(label)}, fillcolor={_q(fill)}];")
    for a, b, label in edges:
        out.append(f"{_q(a)} -> {_q(b)}" + (f" [label={_q(label)}]" if label else "") + ";")
    out.append("}")
    return "\n".join(out)


def change_chain(loaded: LoadedCase, result: SolveResult, sid: str, depth: int = 5, width: int = 4) -> dict:
    """The causes of a change, back to the facts: the subjects whose result bounds it (their own causes,
    recursively), its quota group's numbers, the facts of a person. ``dot`` is the diagram, ``nodes`` the
    number of boxes; empty when ``sid`` did not change."""
    h = loaded.hierarchy
    change_of = {c.id: c for c in result.changes}
    levels = result.levels or {}
    if sid not in change_of:
        return {"dot": "", "nodes": 0}
    nodes: dict[str, tuple[str, str]] = {}
    edges: list[tuple[str, str, str]] = []

    def subject_node(x: str) -> str:
        s = h.subjects[x]
        target, final = result.targets.get(x), levels.get(x) if s.decided else s.level
        if x in change_of:
            label, fill = f"{s.name}\n{target.code} → {final.code}", "#ffcdd2" if final < target else "#c8e6c9"
        else:
            label, fill = f"{s.name}\n{final.code if final is not None else '—'}", "#eceff1"
        if s.lock is not None:
            label += f"\n(do Ban Thường vụ khóa {s.lock.code})"
        nodes.setdefault(x, (_lines(label.split("\n")[0]) + "\n" + "\n".join(label.split("\n")[1:]), fill))
        return x

    def visit(x: str, level: int) -> None:
        subject_node(x)
        change = change_of.get(x)
        if change is None or level >= depth:
            return
        for i, r in enumerate(change.reasons):
            clause = r.citation.split(";")[0].strip() if r.citation else ""
            if r.kind == "quota":
                nums = dict(r.numbers)
                gid = f"nhóm:{x}:{i}"
                label = (f"Nhóm tỷ lệ: {num(nums.get('proposed_xs'))} đề nghị XS, tối đa {num(nums.get('cap'))}"
                         + (f"; xếp thứ {num(nums['rank'])}" if "rank" in nums else ""))
                nodes[gid] = (_lines(label), "#e1bee7")
                edges.append((gid, x, clause))
            elif r.others:
                shown = list(r.others)[:width]
                for o in shown:
                    if o not in h.subjects:
                        continue
                    edges.append((o, x, clause))
                    if o not in nodes:
                        visit(o, level + 1)
                if len(r.others) > width:
                    more = f"thêm:{x}:{i}"
                    nodes[more] = (f"… và {num(len(r.others) - width)} đối tượng khác", "#eceff1")
                    edges.append((more, x, clause))
            else:
                fid = f"dữ kiện:{x}:{i}"
                text = r.text.split("→")[0].strip() or rule_title(r.rule)
                nodes[fid] = (_lines(text), "#fff9c4")
                edges.append((fid, x, clause))

    visit(sid, 0)
    return {"dot": _dot(nodes, list(dict.fromkeys(edges))), "nodes": len(nodes)}


def conflict_chain(loaded: LoadedCase, result: SolveResult) -> dict:
    """The conflicting decisions and rules as a chain of causes: facts and the rules between the subjects
    (with the highest level each may reach, computed from those rules alone), and each lock against the
    level it cannot have. Empty when the result has no conflict."""
    from solver.engine.bounds import record_bound
    from solver.engine.rules import AtMost, Cap, CountTrigger, Needs, records_of

    if not result.conflicts:
        return {"dot": "", "nodes": 0}
    h = loaded.hierarchy
    subjects = h.subjects
    items = [c for c in result.conflicts if c.subject and c.subject in subjects]
    ids = list(dict.fromkeys(c.subject for c in items))
    rule_pairs = {(c.subject, c.rule) for c in items if c.kind == "rule"}
    decided = set(loaded.targets)
    by_sid = records_of(h, loaded.options, [s for s in ids if s in decided], decided)
    recs = [r for sid, rs in by_sid.items() for r in rs if (sid, r.rule) in rule_pairs]

    def start(o: str) -> int:
        if o in loaded.targets:
            return int(loaded.targets[o])
        s = subjects[o]
        return int(s.level) if s.level is not None else 3

    u = {sid: start(sid) for sid in ids}

    def level(o: str) -> int:
        return u[o] if o in u else start(o)

    for r in recs:
        if isinstance(r, Cap):
            u[r.sid] = min(u[r.sid], int(r.level))
    for _ in range(len(recs) + 1):
        moved = False
        for r in recs:
            if isinstance(r, Cap):
                continue
            sid = r.a if isinstance(r, AtMost) else r.sid
            b = record_bound(r, level)
            if b < u[sid]:
                u[sid], moved = b, True
        if not moved:
            break
    nodes: dict[str, tuple[str, str]] = {}
    edges: list[tuple[str, str, str]] = []
    for sid in ids:
        s = subjects[sid]
        bound = Level(u[sid])
        words = f"≤ {bound.code}" if bound != Level.XS else "có thể XS"
        if bound == Level.K:
            words = "K"
        nodes[sid] = (_lines(s.name) + f"\n{words}", "#ffe0b2")
    for r in recs:
        clause = ""
        if isinstance(r, Cap):
            fid = f"dữ kiện:{r.sid}:{r.rule}"
            item = next((c for c in items if c.subject == r.sid and c.rule == r.rule), None)
            text = item.text.split(":", 1)[-1].split("→")[0].strip() if item else rule_title(r.rule)
            nodes[fid] = (_lines(text), "#fff9c4")
            edges.append((fid, r.sid, clause))
        elif isinstance(r, AtMost):
            if r.b in nodes:
                edges.append((r.b, r.a, clause))
        elif isinstance(r, (Needs, CountTrigger)):
            for o in r.others:
                if o in nodes:
                    edges.append((o, r.sid, clause))
    for c in items:
        if c.kind == "lock":
            lock = subjects[c.subject].lock
            lid = f"khóa:{c.subject}"
            words = f"Khóa ở mức {lock.code}" if lock is not None else "Quyết định khóa mức"
            nodes[lid] = (words + "\n(mâu thuẫn)", "#ef9a9a")
            edges.append((c.subject, lid, "không thể"))
        elif c.kind == "direction":
            did = f"chiều:{c.subject}"
            nodes[did] = ("Chỉ hạ mức, không nâng", "#ef9a9a")
            edges.append((c.subject, did, "không thể"))
    return {"dot": _dot(nodes, list(dict.fromkeys(edges))), "nodes": len(nodes)}


__all__ = [
    "MAX_BOXES", "before_after_figure", "branches_of", "change_chain", "conflict_chain", "quota_figure",
    "tree_data", "tree_figure", "tree_members", "tree_roots",
]
