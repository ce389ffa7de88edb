"""Input problems: every error or warning names the file, sheet, row and field, in Vietnamese."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any


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
        line = unicodedata.normalize("NFC", f"{head} — {', '.join(where)}: {self.message}")
        return line.encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate must not crash a print


class CaseInvalid(Exception):
    """A case could not be read: carries every problem found, not just the first."""

    def __init__(self, problems: list[InputProblem]):
        self.problems = [p for p in problems if not p.warning]
        self.warnings = [p for p in problems if p.warning]
        super().__init__("\n".join(str(p) for p in self.problems))


def _fmt(v: Any, limit: int = 60) -> str:
    text = repr(v) if not isinstance(v, str) else f"«{v}»"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pydantic_message(err: dict[str, Any]) -> str:
    """Translate one pydantic error into Vietnamese."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return "thiếu trường bắt buộc"
    if kind == "extra_forbidden":
        return "trường này không có trong định dạng (viết sai tên trường?)"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"phải là số nguyên, nhận được {_fmt(value)}"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"phải là số, nhận được {_fmt(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"phải là true hoặc false, nhận được {_fmt(value)}"
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
        return f"giá trị không hợp lệ {_fmt(value)}; cho phép: {ctx.get('expected')}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "phải là một đối tượng JSON {…}"
    if kind in ("list_type", "tuple_type"):
        return "phải là một danh sách […]"
    if kind == "value_error":
        error = ctx.get("error")
        return str(error) if error is not None else err.get("msg", "giá trị không hợp lệ")
    return f"giá trị không hợp lệ {_fmt(value)} ({kind})"
