"""The page «Báo cáo»: the Word report's form fields (issuing body, number, place and date, addressees, signer,
copies) as the app asks for them, prefilled from the case's ``document`` block, and read back into a
``model.document.DocumentInfo`` — the same fields ``xeploai report`` takes as flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date

from pydantic import ValidationError

from model.document import DocumentInfo
from model.errors import pydantic_message
from model.loader import LoadedCase


@dataclass(frozen=True)
class FormField:
    """One field of the form: the ``DocumentInfo`` field, its label, an example, several lines or one."""

    name: str
    label: str
    example: str
    lines: bool = False


#: The fields in the order they stand on the document: header, number and date, title, addressees, signature.
FORM_FIELDS = (
    FormField("upper_body", "Cấp ủy cấp trên (dòng đầu bên trái)", "VD: TỈNH ỦY ĐẮK LẮK"),
    FormField("issuer", "Cơ quan ban hành", "VD: BAN TỔ CHỨC"),
    FormField("number", "Số văn bản", "VD: 15 — để trống thì ghi «Số …» để điền tay"),
    FormField("symbol", "Ký hiệu", "VD: BC/BTCTU"),
    FormField("place", "Địa danh", "VD: Buôn Ma Thuột"),
    FormField("date", "Ngày ký (để trống thì để chỗ trống điền tay)", "VD: 20/12/2025"),
    FormField("subject", "Trích yếu", "VD: Kết quả rà soát đánh giá, xếp loại chất lượng năm 2025"),
    FormField("to", "Kính gửi (mỗi dòng một nơi)", "VD: Ban Thường vụ Tỉnh ủy", lines=True),
    FormField("sign_for", "Thẩm quyền ký", "VD: T/M BAN TỔ CHỨC hoặc K/T TRƯỞNG BAN"),
    FormField("signer_title", "Chức vụ người ký", "VD: TRƯỞNG BAN"),
    FormField("signer_name", "Họ và tên người ký", "VD: Nguyễn Văn A"),
    FormField("copies", "Nơi nhận (mỗi dòng một nơi)", "VD: Như trên\nLưu Văn phòng", lines=True),
)
#: Báo cáo or Tờ trình, as the form offers them.
DOCUMENT_TYPES = {"report": "Báo cáo", "submission": "Tờ trình"}


def form_defaults(loaded: LoadedCase) -> dict[str, str]:
    """The form's starting text per field: the case's ``document`` block (dates as DD/MM/YYYY, lists one per
    line), empty where the case says nothing; and the document type."""
    info = loaded.case.document or DocumentInfo()
    out: dict[str, str] = {}
    for f in FORM_FIELDS:
        value = getattr(info, f.name)
        if isinstance(value, Date):
            out[f.name] = f"{value:%d/%m/%Y}"
        elif isinstance(value, tuple):
            out[f.name] = "\n".join(value)
        else:
            out[f.name] = value or ""
    out["type"] = info.type
    return out


def document_from_form(values: dict[str, str]) -> tuple[DocumentInfo | None, list[str]]:
    """The form's text read into the report's fields (blank = not given; lists one per line), or None and
    the problems in Vietnamese, each naming its field."""
    labels = {f.name: f.label for f in FORM_FIELDS}
    data: dict[str, object] = {}
    for f in FORM_FIELDS:
        text = (values.get(f.name) or "").strip()
        if not text:
            continue
        data[f.name] = tuple(x.strip() for x in text.splitlines() if x.strip()) if f.lines else text
    if values.get("type"):
        data["type"] = values["type"]
    try:
        return DocumentInfo.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            problems.append(f"«{labels.get(field, 'Loại văn bản')}»: {pydantic_message(err)}")
        return None, problems


__all__ = ["DOCUMENT_TYPES", "FORM_FIELDS", "FormField", "document_from_form", "form_defaults"]
