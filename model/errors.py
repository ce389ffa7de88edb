"""Input problems: every error or warning names the file, sheet, row and field, in Vietnamese."""

from __future__ import annotations

import errno
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# ---- text rules: what an id or a name may hold ---------------------------------------------------

#: Characters that show as nothing though Unicode does not call them controls or spaces: the default-ignorable
#: code points (DerivedCoreProperties.txt: the soft hyphen, the combining grapheme joiner U+034F, zero-width
#: and bidirectional characters, variation selectors such as U+FE0F, the Hangul fillers U+115F, U+1160,
#: U+3164, U+FFA0, tags…) and the blank Braille pattern U+2800. An id or a name holding one looks like
#: another (or like nothing). Written as ranges once, used by the validation regex and by the messages.
INVISIBLE_RANGES = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F),
    (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x2800, 0x2800), (0x3164, 0x3164), (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
_INVISIBLE_CLASS = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in INVISIBLE_RANGES)

#: An id (subject, group, reference, category): printable characters only — no control character, line
#: break, tab, zero-width, bidirectional-override or other invisible character (``INVISIBLE_RANGES``), no
#: space but the ordinary one. Checked by pydantic's (Rust) regex engine: ``\p{C}`` is every "other" character
#: (control, format, private use, unassigned, surrogate), ``\p{Z}`` every separator.
ID_PATTERN = rf"^(?:[^\p{{C}}\p{{Z}}{_INVISIBLE_CLASS}]| )*$"
#: A name (of a subject, a group, a case, a what-if question, a line of the report's form): as an id, but any
#: kind of space is allowed.
NAME_PATTERN = rf"^[^\p{{C}}\p{{Zl}}\p{{Zp}}{_INVISIBLE_CLASS}]*$"

_CHAR_WORDS = {
    "\n": "dấu xuống dòng", "\r": "dấu về đầu dòng", "\t": "dấu tab", "\u00a0": "khoảng trắng không ngắt dòng",
    "\u00ad": "dấu gạch nối mềm không nhìn thấy", "\ufeff": "ký tự BOM không nhìn thấy",
    "\u200b": "khoảng trắng độ rộng 0 không nhìn thấy", "\u200c": "ký tự nối độ rộng 0 không nhìn thấy",
    "\u200d": "ký tự nối độ rộng 0 không nhìn thấy", "\u2060": "ký tự nối từ không nhìn thấy",
    "\u2028": "dấu ngắt dòng", "\u2029": "dấu ngắt đoạn",
    "\u034f": "ký tự nối tổ hợp không nhìn thấy", "\u2800": "ô chữ nổi trống không nhìn thấy",
    "\u115f": "ký tự lấp chỗ trống không nhìn thấy", "\u1160": "ký tự lấp chỗ trống không nhìn thấy",
    "\u3164": "ký tự lấp chỗ trống không nhìn thấy", "\uffa0": "ký tự lấp chỗ trống không nhìn thấy",
}


def is_invisible(ch: str) -> bool:
    """Whether a character shows as nothing (``INVISIBLE_RANGES``), though it may count as printable."""
    code = ord(ch)
    return any(low <= code <= high for low, high in INVISIBLE_RANGES)


def describe_char(ch: str) -> str:
    """A Vietnamese description of a character that cannot be shown, with its code point: «dấu tab (U+0009)»."""
    code = f"U+{ord(ch):04X}"
    word = _CHAR_WORDS.get(ch)
    if word is None:
        cat = unicodedata.category(ch)
        if "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069" or ch in "\u200e\u200f\u061c":
            word = "ký tự đổi chiều viết không nhìn thấy"
        elif "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef" or "\u180b" <= ch <= "\u180f":
            word = "ký tự chọn biến thể không nhìn thấy"
        elif cat == "Cf":
            word = "ký tự định dạng không nhìn thấy"
        elif cat == "Cc":
            word = "ký tự điều khiển"
        elif cat.startswith("Z"):
            word = "khoảng trắng đặc biệt"
        elif is_invisible(ch):
            word = "ký tự không nhìn thấy"
        else:
            word = "ký tự không in được"
    return f"{word} ({code})"


def _hidden(ch: str, spaces: bool) -> bool:
    return (not ch.isprintable() and not (spaces and unicodedata.category(ch) == "Zs")) or is_invisible(ch)


def first_hidden(text: str, *, spaces: bool = False) -> tuple[int, str] | None:
    """(1-based position, character) of the first character an id (or, with ``spaces``, a name) may not hold."""
    for i, ch in enumerate(text, start=1):
        if _hidden(ch, spaces):
            return i, ch
    return None


def visible(text: str) -> str:
    """``text`` with every character that cannot be seen written as ⟨U+XXXX⟩ (line breaks and the invisible
    characters of ``INVISIBLE_RANGES`` included)."""
    if text.isprintable() and (text.isascii() or not any(is_invisible(ch) for ch in text)):
        return text
    return "".join(f"⟨U+{ord(ch):04X}⟩" if not ch.isprintable() or is_invisible(ch) else ch for ch in text)


# ---- operating-system errors, in Vietnamese ------------------------------------------------------

_OS_ERRORS = {
    errno.ENOENT: "không có tệp hoặc thư mục này",
    errno.EACCES: "không có quyền truy cập",
    errno.EPERM: "không được phép",
    errno.EISDIR: "đây là một thư mục, không phải tệp",
    errno.ENOTDIR: "một phần của đường dẫn không phải thư mục",
    errno.ENOSPC: "đĩa đã đầy",
    errno.EROFS: "ổ đĩa chỉ cho đọc",
    errno.EEXIST: "tệp đã có",
    errno.ENAMETOOLONG: "tên tệp quá dài",
    errno.ELOOP: "đường dẫn có liên kết vòng",
    errno.EMFILE: "mở quá nhiều tệp cùng lúc",
    errno.EBUSY: "tệp đang bị chương trình khác dùng",
    errno.ETXTBSY: "tệp đang bị chương trình khác dùng",
    errno.EXDEV: "không chuyển được tệp sang ổ đĩa khác",
    errno.EIO: "lỗi đọc ghi đĩa",
    errno.EINVAL: "đường dẫn hoặc thao tác không hợp lệ",
    errno.EFBIG: "tệp quá lớn",
    errno.EDQUOT: "vượt hạn mức dung lượng đĩa",
}


def os_error_text(exc: BaseException) -> str:
    """What went wrong with a file, in Vietnamese (``strerror`` is English): «không có quyền truy cập».

    An error that carries its own Vietnamese text (``vietnamese``, e.g. ``solver.io.OutputRefused``) says it."""
    own = getattr(exc, "vietnamese", None)
    if isinstance(own, str) and own:
        return own
    if isinstance(exc, OSError) and exc.errno in _OS_ERRORS:
        return _OS_ERRORS[exc.errno]
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"lỗi hệ thống (mã {exc.errno})"
    return "lỗi hệ thống khi đọc hoặc ghi tệp"


# ---- SQLite errors (the audit log), in Vietnamese -------------------------------------------------

#: SQLite's primary result codes (``sqlite3.Error.sqlite_errorcode & 0xff``) → what to tell the user.
_SQLITE_ERRORS = {
    3: "không được phép truy cập tệp",  # SQLITE_PERM
    5: "tệp đang bị chương trình khác ghi (đợi quá lâu)",  # SQLITE_BUSY
    6: "tệp đang bị khóa",  # SQLITE_LOCKED
    7: "không đủ bộ nhớ",  # SQLITE_NOMEM
    8: "tệp chỉ cho đọc, không ghi được",  # SQLITE_READONLY
    10: "lỗi đọc ghi đĩa (tệp có phải một tệp thường trên ổ đĩa?)",  # SQLITE_IOERR
    11: "tệp cơ sở dữ liệu bị hỏng",  # SQLITE_CORRUPT
    13: "đĩa đã đầy",  # SQLITE_FULL
    14: "không mở được tệp (thư mục không có, tên tệp quá dài hoặc không có quyền)",  # SQLITE_CANTOPEN
    23: "không được phép truy cập tệp",  # SQLITE_AUTH
    26: "tệp này không phải cơ sở dữ liệu SQLite (không phải nhật ký kiểm tra của xeploai)",  # SQLITE_NOTADB
}
#: SQLite's English messages, for an error that carries no result code.
_SQLITE_MESSAGES = {
    "file is not a database": 26, "unable to open database file": 14, "disk I/O error": 10,
    "database is locked": 5, "attempt to write a readonly database": 8, "database disk image is malformed": 11,
    "database or disk is full": 13,
}


def sqlite_error_text(exc: BaseException) -> str:
    """What went wrong with an SQLite file (the audit log), in Vietnamese: SQLite's own messages are English.
    A message that is already Vietnamese (the log's triggers, its own checks) is kept."""
    text = str(exc).strip()
    if text and not text.isascii():  # xeploai's own words (the append-only triggers, the schema check)
        return text
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _SQLITE_ERRORS:
        return _SQLITE_ERRORS[code & 0xFF]
    for english, primary in _SQLITE_MESSAGES.items():
        if text.startswith(english):
            return _SQLITE_ERRORS[primary]
    if text.startswith("no such table") or text.startswith("no such column"):
        return "tệp không phải nhật ký kiểm tra của xeploai"
    return "lỗi cơ sở dữ liệu của nhật ký kiểm tra"


#: The lists of a JSON case that problems point into (``sheet`` = the list, ``row`` = the 1-based position in it):
#: shown as «đối tượng thứ 42 của danh sách subjects», not as a sheet and a row. The Excel importer moves them
#: to their real sheet and row (``model.excel.relocate``).
JSON_LISTS = {"subjects": "đối tượng", "groups": "nhóm", "exceptions": "quyết định"}


@dataclass(frozen=True)
class InputProblem:
    """One thing wrong (or worth a warning) in an input file."""

    file: str
    message: str
    sheet: str | None = None
    row: int | None = None
    field: str | None = None
    subject: str | None = None
    column: str | None = None
    warning: bool = False

    def __str__(self) -> str:
        where = [self.file]
        item = JSON_LISTS.get(self.sheet or "")
        if item is not None and self.row is not None:  # a position in a JSON list, not a sheet and a row
            where.append(f"{item} thứ {self.row} của danh sách {self.sheet}")
        else:
            if self.sheet:
                where.append(f"trang «{self.sheet}»")
            if self.row is not None:
                where.append(f"dòng {self.row}")
        if self.column:
            where.append(f"cột {self.column}")
        if self.field:
            where.append(f"trường «{self.field}»")
        if self.subject:
            where.append(f"đối tượng «{self.subject}»")
        head = "Cảnh báo" if self.warning else "Lỗi"
        # a hidden character (zero-width, bidirectional override, line break) is shown as ⟨U+XXXX⟩, and a
        # lone surrogate must not crash a print
        line = visible(unicodedata.normalize("NFC", f"{head} — {', '.join(where)}: {self.message}"))
        return line.encode("utf-8", "backslashreplace").decode("utf-8")


class CaseInvalid(Exception):
    """A case could not be read: carries every problem found, not just the first."""

    def __init__(self, problems: list[InputProblem]):
        self.problems = [p for p in problems if not p.warning]
        self.warnings = [p for p in problems if p.warning]
        super().__init__("\n".join(str(p) for p in self.problems))


def _fmt(v: Any, limit: int = 60) -> str:
    text = repr(v) if not isinstance(v, str) else f"«{v}»"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _typed(v: Any, hint: bool = False) -> str:
    """A JSON value named with its type, for a wrong-type message: «chữ «15»», «giá trị đúng/sai true»;
    ``hint``: the text is the right value in quotes, so say to drop them."""
    if isinstance(v, bool):
        return f"giá trị đúng/sai {'true' if v else 'false'}"
    if v is None:
        return "null"
    if isinstance(v, str):
        return "chữ " + _fmt(v) + (" (hãy bỏ dấu ngoặc kép)" if hint else "")
    if isinstance(v, (list, tuple)):
        return "một danh sách […]"
    if isinstance(v, dict):
        return "một đối tượng {…}"
    if isinstance(v, float) and v.is_integer():
        return f"số thập phân {v!r}"
    return _fmt(v)


def pydantic_message(err: dict[str, Any]) -> str:
    """Translate one pydantic error into Vietnamese."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind in ("missing", "missing_keyword_argument"):
        return "thiếu trường bắt buộc"
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):  # the second: a record type (its pydantic twin, model.case._twin)
        return "trường này không có trong định dạng (viết sai tên trường?)"
    numeric = isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"phải là số nguyên, nhận được {_typed(value, numeric)}"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"phải là số, nhận được {_typed(value, numeric)}"
    if kind in ("bool_type", "bool_parsing"):
        hint = isinstance(value, str) and value.strip().lower() in ("true", "false")
        return f"phải là true hoặc false, nhận được {_typed(value, hint)}"
    if kind in ("string_type", "str_type"):
        return f"phải là chữ, nhận được {_fmt(value)}"
    if kind == "string_too_short":
        return "không được để trống"
    if kind == "string_too_long":
        return f"quá dài (tối đa {ctx.get('max_length')} ký tự)"
    if kind == "greater_than_equal":
        return f"phải lớn hơn hoặc bằng {ctx.get('ge')}, nhận được {_fmt(value)}"
    if kind == "greater_than":
        return f"phải lớn hơn {ctx.get('gt')}, nhận được {_fmt(value)}"
    if kind == "less_than_equal":
        return f"phải nhỏ hơn hoặc bằng {ctx.get('le')}, nhận được {_fmt(value)}"
    if kind in ("enum", "literal_error"):
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        if allowed:
            return f"giá trị không hợp lệ {_fmt(value)}; cho phép: {_choices(allowed)}"
        return f"giá trị không hợp lệ {_fmt(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type", "dataclass_type", "dataclass_exact_type"):
        return "phải là một đối tượng JSON {…}"
    if kind in ("list_type", "tuple_type"):
        return "phải là một danh sách […]"
    if kind == "string_pattern_mismatch" and isinstance(value, str) and ctx.get("pattern") in (ID_PATTERN,
                                                                                               NAME_PATTERN):
        name = ctx.get("pattern") == NAME_PATTERN
        found = first_hidden(value, spaces=name)
        loc = err.get("loc") or ()
        field = str(loc[-1]) if loc else ""
        what = ("tên" if field in _NAME_FIELDS else "nội dung") if name else "mã"
        if found is not None:
            pos, ch = found
            return (f"{what} {_fmt(visible(value))} có {describe_char(ch)} ở ký tự thứ {pos}; hãy gõ lại "
                    + (f"{what} (không xuống dòng, không có ký tự ẩn)" if name
                       else "mã chỉ bằng chữ, số, dấu câu và khoảng trắng thường"))
        return f"{what} {_fmt(visible(value))} không hợp lệ"
    if kind == "string_pattern_mismatch":
        allowed = _PATTERN_CHOICES.fullmatch(str(ctx.get("pattern", "")))
        if allowed:
            return f"giá trị không hợp lệ {_fmt(value)}; cho phép: {_choices(allowed.group(1).split('|'))}"
        return f"giá trị {_fmt(value)} không đúng dạng cho phép"
    if kind == "value_error":
        error = ctx.get("error")
        return str(error) if error is not None else "giá trị không hợp lệ"
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return f"danh sách {'quá ngắn (ít nhất' if kind == 'too_short' else 'quá dài (tối đa'} {bound} phần tử)"
    if kind == "less_than":
        return f"phải nhỏ hơn {ctx.get('lt')}, nhận được {_fmt(value)}"
    if kind.startswith("date"):
        return f"ngày không hợp lệ {_fmt(value)} (viết theo dạng YYYY-MM-DD)"
    return f"giá trị không hợp lệ {_fmt(value)}"


#: Fields whose text is a name (a person, an organization, a group, a case): the others are «nội dung».
_NAME_FIELDS = frozenset({"name", "signer_name", "upper_body", "issuer", "author", "lock_author"})
#: A pattern that lists the values a field allows, as ``model.case`` writes them: ``^(a|b|c)$``.
_PATTERN_CHOICES = re.compile(r"\^\(([A-Za-z0-9_]+(?:\|[A-Za-z0-9_]+)*)\)\$")


def _value_words() -> dict[str, str]:
    """What each allowed code means, in Vietnamese (kinds, tiers, discipline forms, exclusions…)."""
    from model.case import DISCIPLINE_FORMS, EXCLUSIONS, KIND_LABELS, TIER_LABELS, VIOLATION_KINDS
    from model.document import DOCUMENT_TYPES

    return {**{k.value: v for k, v in KIND_LABELS.items()}, **{k.value: v for k, v in TIER_LABELS.items()},
            **DISCIPLINE_FORMS, **VIOLATION_KINDS, **EXCLUSIONS, **DOCUMENT_TYPES}


def _choices(values: list[str]) -> str:
    """«a» (nghĩa), «b» (nghĩa) hoặc «c» (nghĩa): the allowed values of a field, in Vietnamese."""
    words = _value_words()
    shown = [f"«{v}» ({words[v][:1].lower()}{words[v][1:]})" if v in words else f"«{v}»" for v in values]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " hoặc " + shown[-1]
