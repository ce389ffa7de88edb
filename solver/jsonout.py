"""Indented JSON as ``json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True)`` writes it, from msgspec.

The standard library falls back to its pure-Python encoder whenever ``indent`` is set (two seconds for a
300,000-member result), and a hand-written writer with the C string encoder still took two. msgspec writes the
compact text with sorted keys and re-indents it, both in C: a fifth of a second for the same result
(``benchmarks/bench_scale.py``). The text is the standard library's, byte for byte, for every value made of
strings, integers, booleans, None, lists, tuples and dicts with string keys — what results hold
(``tests/test_jsonout.py``). Floats are written as msgspec writes them (the shortest digits that read back the
same; Python spells some with an exponent, ``1e-05``, where msgspec writes ``0.00001``): a result holds none
but the optional ``wall_time_s``. Anything msgspec refuses (a key that is not a string, a lone surrogate) is
written by the standard library.
"""

from __future__ import annotations

import json

import msgspec

__all__ = ["dumps_indented"]

_ENCODER = msgspec.json.Encoder(order="sorted")


def dumps_indented(obj) -> str:
    """``json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True)``, from msgspec."""
    try:
        compact = _ENCODER.encode(obj)
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        return json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True)
    return msgspec.json.format(compact, indent=1).decode("utf-8")
