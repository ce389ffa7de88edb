"""One call run on the machine's second core, in a forked child process, while this process goes on.

``xeploai solve`` verifies its answer with the independent verifier (``solver.verify``) and explains it; the two
read the same solved case and neither needs the other, so on a system with ``fork`` the verification runs in a
child (which sees this process's memory as it was, page by page, without copying the case) while this process
explains. At 300,000 members that takes the verifier's second off the time a user waits
(``benchmarks/bench_scale.py``). The child's answer comes back pickled through a pipe; the caller waits for it
before anything is written, so a rejected answer is never written.

Used by the command line only (``SolveOptions.second_core``): the app's server runs several threads, where a
fork is not safe. Without ``fork`` (Windows), or when the child cannot be started or fails, the call runs here,
in this process: the same answer, only later. Nothing is ever taken on trust from a child that did not finish.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Forked"]


class Forked:
    """``fn(*args)`` run in a forked child when ``fork`` is allowed, else here; ``result()`` gives its value."""

    def __init__(self, fn: Callable[..., Any], *args: Any, fork: bool = True):
        self._fn, self._args = fn, args
        self._pid: int | None = None
        self._done = False
        self._value: Any = None
        #: The child's CPU seconds and the memory it did not share with this process (MiB; None where the
        #: system does not say), once ``result`` has waited for it: what ``benchmarks/bench_scale.py`` prints.
        self.child_cpu: float | None = None
        self.child_private_mib: float | None = None
        if fork and hasattr(os, "fork"):
            pid = None
            try:
                read, write = os.pipe()
            except OSError:  # no descriptor left: run it here
                read = write = None
            if read is not None:
                try:
                    pid = os.fork()
                except OSError:  # no process left: run it here
                    os.close(read)
                    os.close(write)
            if pid == 0:  # the child: compute, send, and leave without running this process's exit handlers
                code = 1
                try:
                    os.close(read)
                    value = fn(*args)
                    data = pickle.dumps((value, _private_mib()), protocol=pickle.HIGHEST_PROTOCOL)
                    with os.fdopen(write, "wb") as out:
                        out.write(data)
                    code = 0
                finally:
                    os._exit(code)
            if pid is not None:
                os.close(write)
                self._pid, self._read = pid, read
        if self._pid is None:
            self._value, self._done = fn(*args), True

    @property
    def forked(self) -> bool:
        """True when the call runs (or ran) in a child process."""
        return self._pid is not None

    def result(self, timeout: float | None = None) -> Any:
        """The call's value: the child's when it finished and sent it whole, else computed here. A child still
        not done ``timeout`` seconds after this is called (stuck, or on a machine far too busy) is stopped and
        the call computed here: waiting longer never changes the answer, only when it comes."""
        if self._done:
            return self._value
        chunks: list[bytes] = []
        deadline = None if timeout is None else time.monotonic() + timeout
        with os.fdopen(self._read, "rb", buffering=0) as inp:
            while True:
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                ready, _, _ = select.select([inp], [], [], wait)
                if not ready:  # the time is up: the child is not trusted, and is stopped
                    os.kill(self._pid, signal.SIGKILL)
                    chunks = []
                    break
                chunk = inp.read(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        data = b"".join(chunks)
        _, status, usage = os.wait4(self._pid, 0)
        self.child_cpu = usage.ru_utime + usage.ru_stime
        value, ok = None, False
        if os.waitstatus_to_exitcode(status) == 0 and data:
            try:
                value, self.child_private_mib = pickle.loads(data)
                ok = True
            except Exception:  # a truncated answer is no answer
                ok = False
        if not ok:  # the child failed or was killed: never trust its silence, compute it here
            value = self._fn(*self._args)
        self._value, self._done = value, True
        return value


def _private_mib() -> float | None:
    """The memory of this (child) process not shared with its parent: the pages it wrote to, MiB."""
    try:
        with open("/proc/self/smaps_rollup") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line and not line.startswith(" "))
        return (int(fields["Private_Dirty"].split()[0]) + int(fields["Private_Clean"].split()[0])) / 1024
    except (OSError, KeyError, ValueError):
        return None
