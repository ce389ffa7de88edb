"""Rating levels and ballot grades (RULES.md §1): codes, official Vietnamese names, parsing."""

from __future__ import annotations

import unicodedata
from enum import IntEnum


class Level(IntEnum):
    """The four rating levels, totally ordered: XS > T > HT > K."""

    K = 0
    HT = 1
    T = 2
    XS = 3

    @property
    def code(self) -> str:
        return self.name

    @property
    def official(self) -> str:
        """The official name, e.g. "Hoàn thành tốt nhiệm vụ"."""
        return OFFICIAL_NAMES[self]

    @property
    def abbreviation(self) -> str:
        return ABBREVIATIONS[self]

    @property
    def grade(self) -> str:
        """The ballot grade a voter ticks for this level (Xuất sắc, Tốt, Trung bình, Kém)."""
        return GRADE_NAMES[self]


OFFICIAL_NAMES = {
    Level.XS: "Hoàn thành xuất sắc nhiệm vụ",
    Level.T: "Hoàn thành tốt nhiệm vụ",
    Level.HT: "Hoàn thành nhiệm vụ",
    Level.K: "Không hoàn thành nhiệm vụ",
}
ABBREVIATIONS = {Level.XS: "HTXSNV", Level.T: "HTTNV", Level.HT: "HTNV", Level.K: "KHTNV"}
GRADE_NAMES = {Level.XS: "Xuất sắc", Level.T: "Tốt", Level.HT: "Trung bình", Level.K: "Kém"}

#: Ballot grade keys as written in a tally: XS, T, TB (trung bình), K.
GRADE_KEYS = ("XS", "T", "TB", "K")
GRADE_TO_LEVEL = {"XS": Level.XS, "T": Level.T, "TB": Level.HT, "K": Level.K}
LEVELS_DESC = (Level.XS, Level.T, Level.HT, Level.K)


def _fold(text: str) -> str:
    """Lower-case, NFC, single spaces: the form in which spellings are compared."""
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


_SPELLINGS: dict[str, Level] = {}
for _lvl in Level:
    for _s in (_lvl.code, _lvl.official, _lvl.abbreviation):
        _SPELLINGS[_fold(_s)] = _lvl
_SPELLINGS[_fold("Hoàn thành xuất sắc")] = Level.XS
_SPELLINGS[_fold("Hoàn thành tốt")] = Level.T
_SPELLINGS[_fold("Không hoàn thành")] = Level.K


def parse_level(text: object, *, lenient: bool = False) -> Level:
    """Read a level: the code (XS/T/HT/K); with ``lenient`` also official names and abbreviations, any case."""
    if isinstance(text, Level):
        return text
    if not isinstance(text, str):
        raise ValueError(f"mức xếp loại phải là chữ, không phải {text!r}")
    if not lenient:
        code = unicodedata.normalize("NFC", text).strip()
        if code in Level.__members__:
            return Level[code]
        raise ValueError(f"mức xếp loại không hợp lệ: {text!r} (dùng XS, T, HT hoặc K)")
    folded = _fold(text)
    if folded in _SPELLINGS:
        return _SPELLINGS[folded]
    raise ValueError(
        f"mức xếp loại không hợp lệ: {text!r} (dùng XS/T/HT/K, HTXSNV/HTTNV/HTNV/KHTNV "
        "hoặc tên đầy đủ như “Hoàn thành tốt nhiệm vụ”)"
    )
