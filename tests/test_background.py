"""``solver.background.Forked``: a call run in a forked child, whose answer is trusted only when it came back whole,
and the command line's verification of a large answer there (``SolveOptions.second_core``)."""

from __future__ import annotations

import os
import signal

import pytest

from solver.background import Forked

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is what is tested here")


def test_the_child_computes_and_sends_its_answer():
    parent = os.getpid()
    job = Forked(lambda a, b: (os.getpid() != parent, a + b, ["ví dụ"] * 3), 2, 3)
    assert job.forked
    assert job.result() == (True, 5, ["ví dụ"] * 3)  # computed in another process
    assert job.result() == (True, 5, ["ví dụ"] * 3)  # asked twice: the same answer, no second child
    assert job.child_cpu is not None and job.child_cpu >= 0  # what the benchmark prints of the child
    if os.path.exists("/proc/self/smaps_rollup"):
        assert job.child_private_mib is not None and job.child_private_mib > 0


def test_a_child_that_fails_is_not_trusted_the_call_runs_here():
    parent = os.getpid()

    def only_here():
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return "computed here"

    job = Forked(only_here)
    assert job.forked and job.result() == "computed here"


def test_a_child_killed_before_it_answers_is_not_trusted():
    parent = os.getpid()

    def slow():
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return "computed here"

    job = Forked(slow)
    assert job.result() == "computed here"


def test_a_child_past_its_time_is_stopped_and_the_call_runs_here():
    import time

    parent = os.getpid()

    def stuck():
        if os.getpid() != parent:
            time.sleep(60)
        return "computed here"

    job = Forked(stuck)
    start = time.monotonic()
    assert job.result(timeout=0.5) == "computed here"
    assert time.monotonic() - start < 30  # the child was stopped, not waited for


def test_without_fork_the_call_runs_here_at_once():
    calls = []
    job = Forked(lambda: calls.append(os.getpid()) or 7, fork=False)
    assert not job.forked and calls == [os.getpid()] and job.result() == 7


def test_a_large_answer_verified_in_a_child_is_the_same_as_in_process(monkeypatch):
    """With the threshold at 0 every solve of the command line verifies in a child: same JSON, byte for byte."""
    from model.loader import load_case
    from solver.engine import solve as solving
    from test_faults import TAN_LOI

    loaded = load_case(TAN_LOI)
    here = solving.solve(loaded, solving.SolveOptions(workers=1)).dumps()
    monkeypatch.setattr(solving, "FORK_FROM", 0)
    calls = _spy_forks(monkeypatch)
    there = solving.solve(loaded, solving.SolveOptions(workers=1, second_core=True)).dumps()
    assert calls == [("verify", True)] and there == here


def _spy_forks(monkeypatch) -> list[tuple[str, bool]]:
    """The calls given to ``Forked`` from now on (function name, whether it ran in a child), in order."""
    calls = []
    real = Forked.__init__

    def spy(self, fn, *args, fork=True):
        real(self, fn, *args, fork=fork)
        calls.append((fn.__name__, self.forked))

    monkeypatch.setattr(Forked, "__init__", spy)
    return calls


def test_a_violation_found_in_the_child_is_an_error_and_nothing_is_written(monkeypatch, tmp_path, capsys):
    from solver.engine import solve as solving
    from solver.verify import Violation
    from test_faults import assert_solve_rejected

    monkeypatch.setattr(solving, "FORK_FROM", 0)
    parent = os.getpid()
    # the child reports a violation; the parent, if it had to verify, would find none: the error proves the
    # child's answer was used
    monkeypatch.setattr("solver.verify.verify", lambda loaded, levels: [Violation("C1", "DV1", "giả lập")]
                        if os.getpid() != parent else [])
    assert_solve_rejected(tmp_path, capsys)


def _cases_for_components():
    from pathlib import Path

    from model.generate import generate_case
    from model.loader import load_case, parse_case

    root = Path(__file__).resolve().parents[1]
    yield "generated", parse_case(generate_case(members=3000, seed=5, interplay=True))
    yield "xa_2025", load_case(root / "scenarios" / "xa_2025.json")
    yield "conflict", load_case(root / "tests" / "data" / "examples" / "05_conflicting_locks.json")


@pytest.mark.parametrize("name", ["generated", "xa_2025", "conflict"])
def test_components_solved_half_in_a_child_give_the_same_bytes(monkeypatch, name):
    """With the threshold at 1 candidate, half of the components are solved in a child: the same JSON, byte for
    byte, as one process solving them all; a conflict is the same conflict."""
    from solver.engine import reduced
    from solver.engine import solve as solving

    loaded = dict(_cases_for_components())[name]
    here = solving.solve(loaded, solving.SolveOptions(workers=1)).dumps()
    monkeypatch.setattr(reduced, "PARALLEL_FROM", 1)
    calls = _spy_forks(monkeypatch)
    there = solving.solve(loaded, solving.SolveOptions(workers=1, second_core=True)).dumps()
    assert ("_solve_some", True) in calls and there == here


def test_a_component_child_that_fails_is_solved_here(monkeypatch):
    """A child that fails (here: it raises) is not trusted: this process solves its half, same bytes."""
    from solver.engine import reduced
    from solver.engine import solve as solving

    loaded = dict(_cases_for_components())["generated"]
    here = solving.solve(loaded, solving.SolveOptions(workers=1)).dumps()
    monkeypatch.setattr(reduced, "PARALLEL_FROM", 1)
    parent, real = os.getpid(), reduced._solve_some

    def fails_in_child(*args):
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return real(*args)

    monkeypatch.setattr(reduced, "_solve_some", fails_in_child)
    assert solving.solve(loaded, solving.SolveOptions(workers=1, second_core=True)).dumps() == here
