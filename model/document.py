"""The report's document block: who issues the Word report, its number, place, date, subject, addressees,
signer and copies, in the form of a Party document (Hướng dẫn 36-HD/VPTW).

Every field is optional: the report leaves what is missing as a visible blank to fill by hand ("Số …-BC/BTCTU",
"…, ngày … tháng … năm …"), as committees do with a draft. In a case file::

    "document": {"upper_body": "TỈNH ỦY ĐẮK LẮK", "issuer": "BAN TỔ CHỨC", "number": "15",
                 "symbol": "BC/BTCTU", "place": "Buôn Ma Thuột", "date": "2018-12-20",
                 "to": ["Ban Thường vụ Tỉnh ủy"], "sign_for": "T/M BAN TỔ CHỨC", "signer_title": "TRƯỞNG BAN",
                 "signer_name": "Nguyễn Văn A", "copies": ["Như trên", "Lưu Văn phòng"]}

``xeploai report`` has a flag for each field that overrides the case (``solver.commands.report``).
"""

from __future__ import annotations

import unicodedata
from datetime import date as Date
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from model.errors import NAME_PATTERN

#: ``report``: a Báo cáo (symbol BC); ``submission``: a Tờ trình (symbol TTr).
DocumentType = Literal["report", "submission"]
#: The names of the document types, for messages.
DOCUMENT_TYPES = {"report": "Báo cáo", "submission": "Tờ trình"}

#: One line of the form: as a name elsewhere (``model.errors.NAME_PATTERN``), no line break, control, zero-width,
#: bidirectional-override or other invisible character — each would land in the Word report as it is.
Line = Annotated[str, Field(min_length=1, max_length=300, pattern=NAME_PATTERN)]


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, (list, tuple)):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {_nfc(k): _nfc(v) for k, v in value.items()}
    return value


def parse_document_date(value: Any) -> Any:
    """A date written ``YYYY-MM-DD`` or ``DD/MM/YYYY`` (a ``date`` passes); a Vietnamese ValueError otherwise."""
    if value is None or isinstance(value, Date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
    raise ValueError(f"ngày không hợp lệ: {value!r} (viết theo dạng YYYY-MM-DD hoặc DD/MM/YYYY)")


class DocumentInfo(BaseModel):
    """The form fields of the Word report; each one None (or empty) when the case does not give it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Báo cáo or Tờ trình.
    type: DocumentType = "report"
    #: The upper committee, first line of the header at the left, e.g. "TỈNH ỦY ĐẮK LẮK".
    upper_body: Line | None = None
    #: The issuing body under it, in bold, e.g. "BAN TỔ CHỨC".
    issuer: Line | None = None
    #: The document's number, e.g. "15" (the report writes "Số 15-BC/BTCTU").
    number: str | None = Field(None, min_length=1, max_length=20, pattern=NAME_PATTERN)
    #: The symbol after the number, e.g. "BC/BTCTU" (default "BC/BTCTU", or "TTr/BTCTU" for a Tờ trình).
    symbol: str | None = Field(None, min_length=1, max_length=40, pattern=NAME_PATTERN)
    #: The place of the place-and-date line, e.g. "Buôn Ma Thuột".
    place: Line | None = None
    #: The date of the place-and-date line.
    date: Date | None = None
    #: The subject line under the title (trích yếu).
    subject: Annotated[str, Field(min_length=1, max_length=500, pattern=NAME_PATTERN)] | None = None
    #: "Kính gửi": one line per addressee.
    to: tuple[Line, ...] = ()
    #: The authority line of the signature, e.g. "T/M BAN TỔ CHỨC" or "K/T TRƯỞNG BAN".
    sign_for: Line | None = None
    #: The signer's title, e.g. "TRƯỞNG BAN" or "PHÓ TRƯỞNG BAN".
    signer_title: Line | None = None
    #: The signer's name.
    signer_name: Line | None = None
    #: "Nơi nhận": one line per recipient of a copy.
    copies: tuple[Line, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _normalize(cls, data: Any, info: ValidationInfo) -> Any:
        if info.context and info.context.get("nfc_done"):
            return data
        return _nfc(data)

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        return parse_document_date(value)

    @field_validator("number", "symbol")
    @classmethod
    def _no_outer_space(cls, value: str | None) -> str | None:
        if value is not None and value != value.strip():
            raise ValueError("không được có khoảng trắng ở đầu hoặc cuối")
        return value

    def merged(self, overrides: dict[str, Any]) -> "DocumentInfo":
        """A copy with the given fields replaced (the command line's flags over the case), validated again;
        a value of None in ``overrides`` is left out (the case's value stays)."""
        data = self.model_dump(exclude_defaults=True)
        data.update({k: v for k, v in overrides.items() if v is not None})
        return DocumentInfo.model_validate(data)


__all__ = ["DOCUMENT_TYPES", "DocumentInfo", "DocumentType", "parse_document_date"]
