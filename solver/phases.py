"""Where the time of one command goes, for ``benchmarks/bench_scale.py``: nothing is recorded unless the
environment variable ``XEPLOAI_PHASES`` names a file, where the command writes the seconds (wall and CPU) of
each phase, and the resident and peak memory (MiB) at its end, as JSON when it ends. Never shown to users; never part of a result."""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager

ENV = "XEPLOAI_PHASES"

_target = os.environ.get(ENV) or None
_wall: dict[str, float] = {}
_cpu: dict[str, float] = {}
_rss: dict[str, float] = {}
_peak: dict[str, float] = {}
_other: dict[str, dict] = {}


def _memory() -> tuple[float, float]:
    """(resident MiB now, peak resident MiB so far) of this process."""
    import resource

    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def phase(name: str):
    """Add the time spent inside the block to phase ``name`` (a no-op unless ``XEPLOAI_PHASES`` is set)."""
    if _target is None:
        yield
        return
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        _wall[name] = _wall.get(name, 0.0) + time.perf_counter() - wall
        _cpu[name] = _cpu.get(name, 0.0) + time.process_time() - cpu
        try:
            _rss[name], _peak[name] = _memory()
        except OSError:  # no /proc: memory is not recorded
            pass


def note(name: str, **values) -> None:
    """Record other figures under ``name`` (e.g. a child process's CPU seconds and memory)."""
    if _target is not None:
        _other[name] = values


def write() -> None:
    """Write the phases recorded so far to the file ``XEPLOAI_PHASES`` names (nothing when it is unset)."""
    if _target is None:
        return
    with open(_target, "w", encoding="utf-8") as fh:
        json.dump({"wall": _wall, "cpu": _cpu, "rss": _rss, "peak": _peak, "other": _other}, fh)
