"""Solving in the app: the base case solved once into an incremental session, every what-if (and every
"what would keeping this level cost?") answered on it.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from typing import Any

from model.levels import Level
from model.loader import LoadedCase
from solver.appcore.loading import SessionShelf, _Recent
from solver.engine.solve import SolveOptions
from solver.explanations.explain import render_why_not
from solver.explanations.whynot import WhyNot
from solver.result import SolveResult


class WhatIfSession:
    """The what-ifs of one base case, each re-solved only where it differs (``solver.engine.incremental.Session``:
    a lock, fact, vote or target change of a few subjects takes a fraction of a second even for a
    province; options, profile or re-rating are solved in full). Its answers are the full solve's
    (tests/test_incremental.py, tests/test_app.py). One app process may share it between browser
    sessions: a lock keeps their what-ifs apart. The last ``ANSWERS`` what-ifs are kept (a rerun of the
    page asks again), and ``memo`` keeps what the pages derive from the base result (indexes, tables)."""

    WHATIF_FILE = "<giả định>"
    ANSWERS = 8

    def __init__(self, loaded: LoadedCase, raw: dict | None = None, time_limit: float = 60.0, workers: int = 2,
                 progress: Callable[[str], None] | None = None):
        """Solve the base case; ``progress`` is told each step of that solve, in Vietnamese. ``raw`` (the
        case's raw data) is optional: without it the what-if is applied to the subjects written back."""
        from solver.engine.incremental import Session

        self.loaded = loaded
        self._opts = SolveOptions(time_limit=float(time_limit), workers=int(workers))
        self._session = Session(loaded, dataclasses.replace(self._opts, progress=progress), raw=raw)
        self._session.opts = self._opts
        if progress is not None:
            progress("Đang chuẩn bị kết quả để trình bày và ghi nhật ký…")
        self._session.result.seal()  # final: its JSON (and the audit log's hash of it) is made once
        self._lock = threading.Lock()
        self._answers = _Recent(self.ANSWERS)  # what-if text -> (case, solve, mode)
        self.memo: dict[str, Any] = {}
        self._memo_lock = threading.Lock()

    @property
    def result(self) -> SolveResult:
        """The base case's own solve."""
        return self._session.result

    def derived(self, name: str, make: Callable[[], Any]) -> Any:
        """What a page derives from the base result, made once (``name`` says what it is)."""
        with self._memo_lock:
            if name not in self.memo:
                self.memo[name] = make()
            return self.memo[name]

    def answer(self, delta: dict) -> tuple[LoadedCase, SolveResult, str] | None:
        """The answer of a what-if already solved, or None."""
        from solver.appcore.whatifs import whatif_text

        with self._lock:
            return self._answers.get(whatif_text(delta))

    def solve(self, delta: dict, base_name: str = "", progress: Callable[[str], None] | None = None
              ) -> tuple[LoadedCase, SolveResult, str]:
        """(what-if case, its solve, "incremental" or "full") of an app delta; ``CaseInvalid`` naming the
        wrong field when the delta names an unknown subject or makes the case invalid. ``progress`` is told
        the steps of a full solve."""
        from model.whatif import parse_whatif
        from solver.appcore.whatifs import whatif_text

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


#: The solved cases of this app process (by case, time limit and workers).
SESSIONS = SessionShelf(size=2)


def keep_cost(session: WhatIfSession, sid: str, keep: Level | None = None, base_name: str = "") -> dict:
    """What keeping ``sid`` at ``keep`` (default: its target) costs, answered on the incremental session (a
    lock what-if: a fraction of a second at 300,000 members, the same answer as a full re-solve).

    Returns ``possible``, the lines of ``xeploai explain --keep`` (``render_why_not``), the objective
    before and after, the other subjects that would move, the conflicting decisions when it cannot be,
    and how it was solved (``mode``)."""
    from solver.appcore.whatifs import empty_delta

    loaded, base = session.loaded, session.result
    subject = loaded.hierarchy.subjects.get(sid)
    if subject is None or not subject.decided:
        raise KeyError(f"không có đối tượng được xếp loại mang mã «{sid}»")
    keep = keep if keep is not None else subject.target_level()
    delta = {**empty_delta(f"Nếu giữ {sid} ở mức {keep.code}?", base_name), "lock": {sid: keep.code}}
    held_loaded, held, mode = session.solve(delta, base_name)
    w = WhyNot(sid, keep, base, held)
    if w.possible and base.levels:
        w.moved = [(i, base.levels[i], held.levels[i]) for i in held.levels if held.levels[i] != base.levels[i]]
    subjects = loaded.hierarchy.subjects
    return {
        "id": sid, "keep": w.keep.code, "possible": w.possible, "status": held.status, "proven": held.proven,
        "extra_changes": w.extra_changes, "base_objective": base.objective, "held_objective": held.objective,
        "lines": render_why_not(loaded, w), "mode": mode, "seconds": held.wall_time,
        "moved": [{"Tên": subjects[i].name, "Phương án đã chọn": a.code, "Nếu giữ": b.code, "Mã": i}
                  for i, a, b in w.moved if i != sid],
        "conflicts": [{"Nội dung": c.text, "Căn cứ": c.citation, "Đối tượng": c.subject or ""}
                      for c in held.conflicts],
        "held": held, "held_loaded": held_loaded,
    }


__all__ = ["SESSIONS", "WhatIfSession", "keep_cost"]
