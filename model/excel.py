"""Reading the committee's workbook (.xlsx) into the case format, with every error at its sheet, row and column.

The workbook has one sheet per kind of subject (Tổ chức đảng, Đảng viên, Tập thể lãnh đạo, Cán bộ
lãnh đạo, Đơn vị), a sheet of explicit quota groups (Nhóm tỷ lệ), a sheet of settings (Tùy chọn) and,
optionally, the expected results of a test case (Kết quả mong đợi). Columns are found by their
Vietnamese header, in any order; cells accept what people really type (level names, abbreviations or
codes in any case, numbers stored as text or as 15.0, Có/Không/x, NFD text, stray spaces). The sheet
and column layout defined here is shared with the writer, ``model.excel_template``.

Reading gives the raw case data (the dict shape of the JSON case format, validated afterwards by
``model.loader.parse_case``) and the *origins* of each subject and group: the sheet, the Excel row and
the columns it came from, so that validation problems can be moved from "subjects, row n" to the real
place in the workbook (:func:`relocate`).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from model.case import (DISCIPLINE_FORMS, EXCLUSIONS, FACTS_BY_KIND, KIND_LABELS, TIER_LABELS, UNIT_CATEGORIES,
                        VIOLATION_KINDS, FACT_NAMES, Kind, Tier)
from model.catalogue import ParamSpec, load_catalogue
from model.errors import CaseInvalid, InputProblem
from model.levels import LEVELS_DESC, Level, parse_level

MAX_BYTES = 512 * 1024 * 1024

# ---------------------------------------------------------------------------------------------
# Text folding: the forms in which headers, sheet names and typed values are compared
# ---------------------------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)


def clean_text(value: str) -> str:
    """NFC, invisible characters removed, surrounding spaces (including non-breaking) stripped."""
    return unicodedata.normalize("NFC", value).translate(_INVISIBLE).strip()


def loose_key(text: str) -> str:
    """Lower case, no diacritics (đ → d), letters and digits only: "Phiếu  Tốt" and "phieu tot" meet."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


# ---------------------------------------------------------------------------------------------
# The workbook layout (shared with model.excel_template)
# ---------------------------------------------------------------------------------------------

SHEET_GUIDE = "Hướng dẫn"
SHEET_GROUPS = "Nhóm tỷ lệ"
SHEET_SETTINGS = "Tùy chọn"
SHEET_EXPECT = "Kết quả mong đợi"
SHEET_EXCEPTIONS = "Quyết định tỷ lệ 25%"

#: The sheet of each kind of subject, in the order of the workbook.
KIND_SHEETS: dict[Kind, str] = {
    Kind.party_org: "Tổ chức đảng",
    Kind.member: "Đảng viên",
    Kind.collective: "Tập thể lãnh đạo",
    Kind.leader: "Cán bộ lãnh đạo",
    Kind.unit: "Đơn vị",
}

#: Every sheet of the template, in order (the expected-results sheet is written only for test cases).
SHEET_ORDER = (SHEET_GUIDE, *KIND_SHEETS.values(), SHEET_GROUPS, SHEET_SETTINGS, SHEET_EXCEPTIONS, SHEET_EXPECT)
#: Sheets an imported workbook must have (the guide and the expected results are optional).
REQUIRED_SHEETS = (*KIND_SHEETS.values(), SHEET_GROUPS, SHEET_SETTINGS)

#: Other names accepted for the sheets (compared loosely).
_SHEET_ALIASES: dict[str, tuple[str, ...]] = {
    **{sheet: (KIND_LABELS[k], k.value) for k, sheet in KIND_SHEETS.items()},
    SHEET_GROUPS: ("Nhóm", "groups"),
    SHEET_SETTINGS: ("Tùy chỉnh", "Thiết lập", "options"),
    SHEET_EXPECT: ("expect",),
    SHEET_EXCEPTIONS: ("Ngoại lệ 25%", "exceptions"),
    SHEET_GUIDE: ("Hướng dẫn sử dụng",),
}

#: Other spellings of the unit types accepted in a workbook.
UNIT_CATEGORY_SPELLINGS = {
    "chinh_quyen": ("Chính quyền", "HĐND", "UBND", "Hội đồng nhân dân", "Ủy ban nhân dân", "Cơ quan, đơn vị"),
    "mat_tran": ("MTTQ", "Mặt trận", "Ủy ban Mặt trận Tổ quốc"),
    "doan_the": ("Đoàn thể", "Tổ chức chính trị - xã hội"),
}

#: Facts whose "Không" means something (False is not the same as blank).
TRISTATE_FACTS = ("shortcomings_remedied",)

YES = "Có"
NO = "Không"

#: Headers of columns that people keep for themselves; they are read past, never imported.
IGNORED_HEADERS = ("STT", "TT", "Số thứ tự", "Ghi chú")


@dataclass(frozen=True)
class Column:
    """One column of a subject sheet: the case field it fills, its header, how its cells are read."""

    field: str
    header: str
    type: str  # id name text ref refs count voters order months level tier bool unrated grades kind raw
    help: str
    aliases: tuple[str, ...] = ()
    width: float = 14
    #: Written in every template; the others only when the case written uses them.
    standard: bool = True
    #: For a "choice" column: (code, label) pairs; the label is written, both are read.
    choices: tuple[tuple[str, str], ...] = ()


def _votes_columns() -> list[Column]:
    return [
        Column("votes.XS", "Phiếu XS", "count", "Số phiếu xếp loại Xuất sắc (Hoàn thành xuất sắc nhiệm vụ).",
               ("Phiếu Xuất sắc", "Phiếu HTXSNV"), 10),
        Column("votes.T", "Phiếu Tốt", "count", "Số phiếu xếp loại Tốt (Hoàn thành tốt nhiệm vụ).",
               ("Phiếu T", "Phiếu HTTNV"), 10),
        Column("votes.TB", "Phiếu Trung bình", "count", "Số phiếu xếp loại Trung bình (Hoàn thành nhiệm vụ).",
               ("Phiếu TB", "Phiếu HTNV"), 10),
        Column("votes.K", "Phiếu Kém", "count", "Số phiếu xếp loại Kém (Không hoàn thành nhiệm vụ).",
               ("Phiếu K", "Phiếu KHTNV"), 10),
        Column("voters", "Số người biểu quyết", "voters",
               "Số người tham gia biểu quyết; để trống thì lấy tổng số phiếu.",
               ("Số người tham gia biểu quyết", "Số người tham gia"), 12),
    ]


def _rating_columns() -> list[Column]:
    return [
        Column("proposed", "Mức đề xuất", "level",
               "Mức do cá nhân, tập thể tự nhận hoặc đề xuất; dùng khi không có phiếu.", (), 28),
        Column("target", "Mức mục tiêu", "level",
               "Mức đã công bố (khi xếp loại lại) hoặc do cấp có thẩm quyền đề nghị; nếu có thì dùng thay "
               "cho mức theo phiếu.", (), 28),
        Column("lock", "Khóa mức", "level",
               "Mức cấp có thẩm quyền đã quyết định: bộ giải không được thay đổi.", ("Mức đã khóa",), 28),
        Column("rated", "Không xếp loại", "unrated",
               f"«{YES}»: có tên trong danh sách nhưng không xếp loại (mới dưới 6 tháng, được miễn sinh hoạt…).",
               (), 12),
        Column("may_rise", "Được nâng mức", "bool",
               f"«{YES}»: cho phép nâng cao hơn mức mục tiêu (mặc định chỉ được hạ).", (), 12),
    ]


_FACT_COLUMNS: dict[str, list[Column]] = {
    "civil_servant_level": [Column(
        "facts.civil_servant_level", "Xếp loại công chức", "level",
        "Mức xếp loại công chức, viên chức trong năm (E1); để trống nếu không phải công chức, viên chức.",
        ("Xếp loại công chức, viên chức",), 28)],
    "disciplined": [Column("facts.disciplined", "Bị kỷ luật", "bool",
                           f"«{YES}»: bị kỷ luật trong năm (E2; với tập thể: tập thể hoặc thành viên, S4).",
                           (), 11)],
    "self_remedied": [Column("facts.self_remedied", "Tự phát hiện, khắc phục", "bool",
                             f"«{YES}»: vi phạm đã được tự phát hiện, khắc phục (E7, S4).", (), 13)],
    "committee_member": [Column("facts.committee_member", "Là cấp ủy viên", "bool",
                                f"«{YES}»: là cấp ủy viên của tổ chức đảng mình sinh hoạt (E7).", (), 11)],
    "degeneration": [Column("facts.degeneration", "Suy thoái", "bool",
                            f"«{YES}»: cấp có thẩm quyền kết luận có biểu hiện suy thoái, “tự diễn biến”, "
                            "“tự chuyển hóa” (E3).", ("Suy thoái, tự diễn biến, tự chuyển hóa",), 10)],
    "targets_below_half": [Column("facts.targets_below_half", "Dưới 50% chỉ tiêu", "bool",
                                  f"«{YES}»: hoàn thành dưới 50% chỉ tiêu, nhiệm vụ (E4).",
                                  ("Hoàn thành dưới 50% chỉ tiêu",), 11)],
    "sick_leave_months": [Column("facts.sick_leave_months", "Số tháng nghỉ ốm", "months",
                                 "Số tháng nghỉ ốm trong năm; từ 3 tháng trở lên thì tối đa Hoàn thành nhiệm vụ (E5).",
                                 ("Nghỉ ốm (tháng)",), 10)],
    "transferred_in_exempt": [Column("facts.transferred_in_exempt", "Mới chuyển đến", "bool",
                                     f"«{YES}»: mới chuyển đến, không liên quan đến kết quả của đơn vị: không bị "
                                     "giới hạn bởi mức của tập thể, đơn vị (BĐ 5.11).", (), 11)],
    "maternity_leave": [Column("facts.maternity_leave", "Nghỉ thai sản", "bool",
                               f"«{YES}»: nghỉ thai sản; xếp loại theo thời gian thực tế làm việc (E8, chỉ ghi nhận).",
                               (), 10)],
    "criteria": [
        Column("facts.criteria.task", "Tiêu chí nhiệm vụ (tự đánh giá)", "grades",
               "Mức tự đánh giá từng tiêu chí về thực hiện nhiệm vụ, cách nhau bằng dấu phẩy: XS, T, TB hoặc K (E6).",
               ("Tiêu chí nhiệm vụ",), 16),
        Column("facts.criteria.other", "Tiêu chí khác (tự đánh giá)", "grades",
               "Mức tự đánh giá các tiêu chí còn lại, cách nhau bằng dấu phẩy: XS, T, TB hoặc K (E6).",
               ("Tiêu chí khác",), 16),
    ],
    "committee_member_disciplined": [Column(
        "facts.committee_member_disciplined", "Cấp ủy viên bị kỷ luật", "bool",
        f"«{YES}»: có cấp ủy viên của chính tổ chức này bị kỷ luật trong năm (E7, E7b).", (), 12)],
    "subordinate_committee_disciplined": [Column(
        "facts.subordinate_committee_disciplined", "Cấp ủy viên cấp dưới bị kỷ luật", "bool",
        f"«{YES}»: có cấp ủy viên của cấp ủy trực thuộc bị kỷ luật trong năm (E7b).", (), 13)],
    "standing_committee_disciplined": [Column(
        "facts.standing_committee_disciplined", "Ban Thường vụ bị kỷ luật", "bool",
        f"«{YES}»: Ban Thường vụ bị kỷ luật trong năm: tổ chức đảng Không hoàn thành nhiệm vụ (S3).", (), 12)],
    "violations_handled": [Column(
        "facts.violations_handled", "Để xảy ra vi phạm bị xử lý", "bool",
        f"«{YES}»: tập thể cấp ủy trực thuộc để xảy ra vụ, việc tham ô, tham nhũng hoặc vi phạm khác bị xử lý; đảng bộ "
        "cấp trên không hoàn thành nhiệm vụ (E7c).", (), 12)],
    "violation_org": [Column(
        "facts.violation_org", "Nơi xảy ra vi phạm (mã tổ chức đảng)", "ref",
        "Đảng viên bị kỷ luật sau khi chuyển sinh hoạt, vì vi phạm ở tổ chức đảng cũ: mã tổ chức đảng cũ; kỷ luật "
        "tính cho tổ chức đảng đó, không tính cho chi bộ mới (BĐ 5.12).", ("Nơi vi phạm (mã)",), 16, standard=False)],
    "tasks": [
        Column("facts.tasks.assigned", "Số nhiệm vụ được giao", "count",
               "Quy định 366: số nhiệm vụ được giao trong năm (cán bộ lãnh đạo: của nơi mình trực tiếp lãnh đạo).",
               ("Nhiệm vụ được giao",), 12, standard=False),
        Column("facts.tasks.done", "Số nhiệm vụ hoàn thành", "count", "Số nhiệm vụ đã hoàn thành.",
               ("Nhiệm vụ hoàn thành",), 12, standard=False),
        Column("facts.tasks.on_time", "Số hoàn thành đúng hạn", "count", "Số nhiệm vụ hoàn thành đúng hạn.",
               ("Nhiệm vụ đúng hạn",), 12, standard=False),
        Column("facts.tasks.exceeded", "Số vượt mức yêu cầu", "count", "Số nhiệm vụ hoàn thành vượt mức yêu cầu.",
               ("Nhiệm vụ vượt mức",), 12, standard=False),
    ],
    "shortcomings_remedied": [Column(
        "facts.shortcomings_remedied", "Đã khắc phục hạn chế kỳ trước", "tristate",
        f"«{YES}»: đã khắc phục 100% hạn chế, khuyết điểm được chỉ ra ở kỳ trước; «{NO}»: chưa (không được Hoàn thành "
        "xuất sắc nhiệm vụ); để trống: kỳ trước không chỉ ra hạn chế nào.", (), 14, standard=False)],
    "discipline": [
        Column("facts.discipline.form", "Hình thức kỷ luật", "choice",
               "Quy định 366: hình thức kỷ luật trong năm.", ("Hình thức kỷ luật (2025)",), 14, standard=False,
               choices=tuple(DISCIPLINE_FORMS.items())),
        Column("facts.discipline.kind", "Loại vi phạm", "choice",
               "Vi phạm liên quan đến chức trách, nhiệm vụ; những điều đảng viên không được làm; trách nhiệm nêu "
               "gương; hay vi phạm khác.", (), 30, standard=False, choices=tuple(VIOLATION_KINDS.items())),
        Column("facts.discipline.self_reported", "Tự giác nhận lỗi, đã khắc phục", "bool",
               f"«{YES}»: tự giác nhận lỗi, tự phát hiện và khắc phục xong hậu quả — cấp có thẩm quyền quyết định mức.",
               (), 14, standard=False),
    ],
    "low_confidence": [Column("facts.low_confidence", "Trên 50% phiếu tín nhiệm thấp", "bool",
                              f"«{YES}»: có trên 50% số phiếu tín nhiệm thấp trong năm (Quy định 366).", (), 12,
                              standard=False)],
    "indicators_missed": [Column("facts.indicators_missed", "Không hoàn thành 5 chỉ tiêu", "bool",
                                 f"«{YES}»: nơi mình lãnh đạo không hoàn thành 5 chỉ tiêu kinh tế - xã hội cơ bản.",
                                 (), 12, standard=False)],
    "corruption_in_scope": [Column("facts.corruption_in_scope", "Tham nhũng trong phạm vi quản lý", "bool",
                                   f"«{YES}»: có tổ chức, cá nhân trong phạm vi quản lý trực tiếp xảy ra tham nhũng, "
                                   "lãng phí, tiêu cực bị kỷ luật.", (), 14, standard=False)],
    "personnel_errors": [Column("facts.personnel_errors", "Sai phạm công tác cán bộ", "bool",
                                f"«{YES}»: cấp có thẩm quyền kết luận có sai phạm trong công tác cán bộ, bè phái, chạy "
                                "chức, chạy quyền.", (), 12, standard=False)],
    "disunity": [Column("facts.disunity", "Mất đoàn kết", "bool",
                        f"«{YES}»: cấp có thẩm quyền kết luận nội bộ mất đoàn kết (S4).", (), 10)],
}

_ORDER = Column("order", "Thứ tự trong hồ sơ", "order",
                "Không bắt buộc. Vị trí của đối tượng trong hồ sơ (1, 2, 3…, không trùng nhau, tính chung mọi "
                "trang): khi các phương án ngang nhau, đối tượng đứng trước được giữ mức cao hơn. Để trống thì "
                "theo thứ tự các trang rồi thứ tự dòng.", (), 12, standard=False)


def _category(standard: bool) -> Column:
    return Column("category", "Nhóm", "text",
                  "Nhóm chức danh để tính tỷ lệ: các tập thể (cán bộ) cùng nhóm tính chung giới hạn "
                  "Hoàn thành xuất sắc nhiệm vụ (ví dụ: chi_uy, bi_thu_chi_bo).",
                  ("Nhóm chức danh", "Nhóm tính tỷ lệ"), 16, standard)


def _scores() -> list[Column]:
    """Q1 (Quy định 366): the appraised score the target is read from, and the self-assessed one."""
    return [
        Column("score", "Điểm thẩm định", "score",
               "Tổng điểm đánh giá được thẩm định (thang 100, một chữ số thập phân): mức mục tiêu đọc theo khung điểm "
               "(từ 90 Hoàn thành xuất sắc, 70 Hoàn thành tốt, 50 Hoàn thành nhiệm vụ); có điểm thì không dùng phiếu.",
               ("Tổng điểm", "Điểm"), 10, standard=False),
        Column("self_score", "Điểm tự chấm", "score", "Điểm tự đánh giá (chỉ để tham khảo).", (), 10,
               standard=False),
    ]


def _extra() -> list[Column]:
    """Who is not rated and why, a functional quota group, and the reason of a lock."""
    return [
        Column("excluded", "Lý do không xếp loại", "choice",
               "Đảng viên được miễn công tác và sinh hoạt đảng, bị đình chỉ sinh hoạt đảng, mới kết nạp chưa đủ 06 tháng; "
               "tổ chức, tập thể mới thành lập chưa đủ 06 tháng.", (), 24, standard=False,
               choices=tuple(EXCLUSIONS.items())),
        Column("quota_group", "Nhóm tỷ lệ (mã)", "ref",
               "Không bắt buộc: mã nhóm đối tượng có vị trí, vai trò, chức năng, nhiệm vụ tương đồng mà cấp có thẩm "
               "quyền quyết định tính chung tỷ lệ (cũng có thể khai ở trang «Nhóm tỷ lệ»).", ("Nhóm tỷ lệ",), 14,
               standard=False),
        Column("lock_reason", "Lý do khóa mức", "text", "Lý do cấp có thẩm quyền quyết định mức khóa.", (), 24,
               standard=False),
        Column("lock_author", "Người quyết định khóa", "text",
               "Chức danh (không ghi họ tên) của người, tập thể quyết định mức khóa.", (), 18, standard=False),
    ]


def _person() -> list[Column]:
    """P1: the columns that link one person's records (a member record and leader records)."""
    return [
        Column("person", "Mã người (nhiều chức vụ)", "ref",
               "Cùng một người giữ nhiều chức vụ: ghi cùng một mã người ở dòng đảng viên và các dòng cán bộ lãnh đạo "
               "của người đó, để xeploai chỉ ra khi mức ở các nơi khác nhau.", ("Mã người",), 14, standard=False),
        Column("main_post", "Chức vụ chính", "bool",
               f"«{YES}»: chức vụ đảm nhiệm chính và cao nhất của người này (chỉ ghi một dòng).", (), 10,
               standard=False),
    ]


def _fact_columns(kind: Kind) -> list[Column]:
    return [c for name in FACT_NAMES if name in FACTS_BY_KIND[kind] for c in _FACT_COLUMNS[name]]


def _id(kind: Kind) -> Column:
    return Column("id", "Mã", "id", "Mã duy nhất trong cả hồ sơ (mọi trang), dùng để tham chiếu giữa các trang.",
                  ("Mã số", "Mã đối tượng", "ID"), 12)


def _name(person: bool) -> Column:
    if person:
        return Column("name", "Họ và tên", "name", "Họ và tên.", ("Họ tên", "Tên"), 26)
    return Column("name", "Tên", "name", "Tên đầy đủ.",
                  ("Tên tổ chức", "Tên tập thể", "Tên đơn vị", "Tên gọi"), 32)


def _parent(help_text: str) -> Column:
    return Column("parent", "Thuộc (mã tổ chức đảng)", "ref", help_text,
                  ("Thuộc", "Mã tổ chức đảng cấp trên", "Cấp trên (mã)"), 16)


def _subject_columns(kind: Kind) -> tuple[Column, ...]:
    """Every column a sheet of ``kind`` may have, in the order the template writes them."""
    votes, rating, facts = _votes_columns(), _rating_columns(), _fact_columns(kind)
    if kind is Kind.party_org:
        cols = [
            _id(kind), _name(False),
            _parent("Mã của đảng bộ cấp trên trực tiếp; để trống nếu là cấp cao nhất trong hồ sơ."),
            Column("tier", "Cấp", "tier",
                   "Cấp trên cơ sở, Tổ chức cơ sở đảng (TCCSĐ) hoặc Chi bộ trực thuộc / đảng bộ bộ phận.",
                   ("Cấp tổ chức",), 30),
            *votes, *_scores(), *rating,
            Column("same_level_units", "Chính quyền, đoàn thể cùng cấp (mã)", "refs",
                   "Mã các đơn vị (trang «Đơn vị»): chính quyền, MTTQ, đoàn thể cùng cấp, cách nhau bằng dấu "
                   "phẩy (S3).", ("Đơn vị cùng cấp (mã)",), 20),
            *facts, _category(False), *_extra(),
        ]
    elif kind is Kind.member:
        cols = [
            _id(kind), _name(True),
            _parent("Mã của chi bộ (tổ chức đảng) nơi đảng viên sinh hoạt."),
            *votes, *_scores(), *rating, *facts, _category(False), *_person(), *_extra(),
        ]
    elif kind is Kind.collective:
        cols = [
            _id(kind), _name(False),
            Column("leads", "Lãnh đạo (mã)", "ref",
                   "Mã tổ chức đảng hoặc đơn vị mà tập thể lãnh đạo, quản lý (S1).",
                   ("Lãnh đạo (mã tổ chức, đơn vị)", "Tổ chức, đơn vị lãnh đạo (mã)"), 14),
            _category(True), *votes, *_scores(), *rating, *facts, *_extra(),
            Column("decided_by", "Cấp ủy xem xét, quyết định (mã)", "ref",
                   "Không bắt buộc: mã tổ chức đảng mà cấp ủy xem xét, quyết định xếp loại tập thể này; các tập thể "
                   "cùng nhóm và cùng cấp ủy quyết định tính chung tỷ lệ. Để trống: cấp ủy cấp trên của tổ chức "
                   "tập thể lãnh đạo.", ("Cấp ủy quyết định (mã)",), 16, standard=False),
        ]
    elif kind is Kind.leader:
        cols = [
            _id(kind), _name(True),
            Column("heads", "Đứng đầu (mã tập thể)", "ref",
                   "Mã tập thể lãnh đạo mà cán bộ đứng đầu (S2).", ("Đứng đầu",), 14),
            _category(True), *votes, *_scores(), *rating, *facts, *_person(), *_extra(),
            Column("in_charge_of", "Nơi phụ trách (mã)", "refs",
                   "Quy định 366: mã các địa phương, cơ quan, đơn vị cán bộ phụ trách (ngoài nơi tập thể của mình lãnh "
                   "đạo), cách nhau bằng dấu phẩy; trên 50% số nơi này Không hoàn thành nhiệm vụ thì cán bộ Không hoàn "
                   "thành nhiệm vụ.", ("Phụ trách (mã)",), 18, standard=False),
        ]
    else:
        cols = [
            _id(kind), _name(False),
            Column("level", "Xếp loại", "level",
                   "Mức xếp loại đã có của cơ quan, đơn vị (chính quyền, MTTQ, đoàn thể): dữ liệu đầu vào.",
                   ("Mức xếp loại", "Mức"), 28),
            Column("category", "Loại đơn vị", "unit_category",
                   "Chính quyền, Mặt trận Tổ quốc, hoặc Đoàn thể chính trị - xã hội: bắt buộc với đơn vị cùng cấp "
                   "của tổ chức đảng (chỉ Mặt trận, đoàn thể được tính vào số «từ 02 tổ chức không hoàn thành "
                   "nhiệm vụ», S3).", ("Loại",), 26),
            *facts,
            replace(_rating_columns()[3], standard=False),
        ]
    return (*cols, _ORDER)


SUBJECT_COLUMNS: dict[Kind, tuple[Column, ...]] = {k: _subject_columns(k) for k in Kind}

GROUP_COLUMNS: tuple[Column, ...] = (
    Column("id", "Mã nhóm", "id", "Mã của nhóm tỷ lệ; nhiều dòng cùng mã là các thành viên của cùng một nhóm.",
           ("Mã",), 14),
    Column("name", "Tên nhóm", "name", "Tên của nhóm (ghi ở dòng đầu của nhóm là đủ).", ("Tên",), 36),
    Column("kind", "Loại đối tượng", "kind",
           "Không bắt buộc: loại của các thành viên (tên trang), để kiểm tra.", ("Loại",), 20),
    Column("members", "Thành viên (mã)", "refs",
           "Mã đối tượng thuộc nhóm: mỗi dòng một mã, hoặc nhiều mã cách nhau bằng dấu phẩy.",
           ("Thành viên", "Mã thành viên"), 20),
)

SETTING_COLUMNS: tuple[Column, ...] = (
    Column("key", "Mục", "text", "Tên mục thiết lập (không sửa).", (), 44),
    Column("value", "Giá trị", "raw", "Giá trị; để trống là theo mặc định.", (), 26),
    Column("help", "Giải thích", "raw", "Giải thích (không được đọc khi nhập).", (), 90),
)

EXCEPTION_COLUMNS: tuple[Column, ...] = (
    Column("scope", "Tổ chức đảng (mã)", "ref",
           "Mã tổ chức đảng có thành tích xuất sắc, nổi trội: tỷ lệ áp dụng cho các tập thể, cá nhân thuộc phạm vi quản "
           "lý của tổ chức này (Quy định 366 Điều 11 khoản 1).", ("Mã tổ chức",), 16),
    Column("percent", "Tỷ lệ (%)", "count", "Tỷ lệ Hoàn thành xuất sắc nhiệm vụ cấp có thẩm quyền quyết định, "
           "không quá 25%.", ("Tỷ lệ",), 10),
    Column("reason", "Lý do", "text", "Thành tích xuất sắc, nổi trội làm căn cứ quyết định.", (), 40),
    Column("author", "Người quyết định", "text", "Cấp có thẩm quyền quyết định (chức danh, không ghi họ tên).", (),
           20),
)

EXPECT_COLUMNS: tuple[Column, ...] = (
    Column("id", "Mã", "id", "Mã đối tượng.", (), 14),
    Column("level", "Mức mong đợi", "level", "Mức mà lời giải phải cho.", (), 30),
)


@dataclass(frozen=True)
class Setting:
    """One row of the settings sheet: the case field it fills, its label, how its value is read."""

    field: str
    label: str
    type: str  # text, name, profile, int, bool, enum, count
    help: str
    aliases: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    #: Written only when the case has an ``expect`` block.
    expect: bool = False
    #: The words a committee reads for each of ``choices`` (written in the cell; the codes are accepted too).
    labels: tuple[str, ...] = ()

    def label_of(self, value: Any) -> Any:
        """A choice as written in the workbook: its label when it has one."""
        if value in self.choices and self.labels:
            return self.labels[self.choices.index(value)]
        return value


def _option_setting(spec: ParamSpec) -> Setting:
    default = {True: YES, False: NO}.get(spec.default, spec.default) if spec.type == "bool" else spec.label_of(
        spec.default)
    help_text = f"{spec.help} Để trống: theo bộ quy định (mặc định: {default})."
    return Setting(f"options.{spec.name}", spec.title, spec.type, help_text, (spec.name,), spec.minimum,
                   spec.maximum, tuple(spec.choices), labels=tuple(spec.labels))


def _rule_setting(rule) -> Setting:
    return Setting(f"rules.{rule.id}", f"Áp dụng quy định «{rule.title}»", "bool",
                   f"«{YES}» để áp dụng, «{NO}» để không áp dụng quy định này với hồ sơ; để trống: theo bộ quy định.",
                   (f"rules.{rule.id}",))


def settings() -> tuple[Setting, ...]:
    """The rows of the settings sheet, in order: the case's name, profile, description, rule options, expectations."""
    catalogue = load_catalogue()
    return (
        Setting("name", "Tên hồ sơ", "name", "Tên của đợt xếp loại; để trống thì lấy tên tệp.", ("Tên",)),
        Setting("profile", "Bộ quy định", "profile",
                f"Bộ quy định áp dụng, chọn trong danh sách. Để trống: {catalogue.default_profile.short}.",
                ("profile",), choices=catalogue.profile_ids, labels=tuple(p.short for p in catalogue.profiles)),
        Setting("year", "Năm đánh giá", "int",
                "Năm của kỳ đánh giá, xếp loại (không bắt buộc): quy định có hiệu lực sau năm này thì không áp dụng.",
                ("year",), 2000, 2100),
        Setting("description", "Mô tả", "text", "Ghi chú về hồ sơ (không bắt buộc).", ("description",)),
        *(_option_setting(spec) for spec in catalogue.params),
        *(_rule_setting(r) for r in catalogue.rules if r.id not in ("V1", "S5")),
        Setting("expect.status", "Trạng thái mong đợi", "text",
                "Dùng cho hồ sơ kiểm thử: trạng thái lời giải phải có (optimal, conflict…).", ("status",),
                expect=True),
        Setting("expect.objective.changed", "Số đối tượng thay đổi mong đợi", "count",
                "Dùng cho hồ sơ kiểm thử: số đối tượng phải thay đổi mức.", (), 0, expect=True),
        Setting("expect.objective.steps", "Số bậc thay đổi mong đợi", "count",
                "Dùng cho hồ sơ kiểm thử: tổng số bậc thay đổi.", (), 0, expect=True),
    )


TIER_SPELLINGS: dict[Tier, tuple[str, ...]] = {
    Tier.upper: ("upper", "cấp trên cơ sở", "trên cơ sở", "đảng bộ cấp trên cơ sở"),
    Tier.grassroots: ("grassroots", "TCCSĐ", "cơ sở", "cấp cơ sở", "tổ chức cơ sở đảng", "đảng bộ cơ sở",
                      "chi bộ cơ sở"),
    Tier.branch: ("branch", "chi bộ trực thuộc", "đảng bộ bộ phận", "trực thuộc", "chi bộ trực thuộc / đảng bộ bộ phận",
                  "chi bộ trực thuộc đảng ủy cơ sở"),
}
_TIERS = {loose_key(s): t for t, spellings in TIER_SPELLINGS.items() for s in (*spellings, TIER_LABELS[t])}

_KINDS = {loose_key(s): k for k in Kind for s in (KIND_SHEETS[k], KIND_LABELS[k], k.value)}

_TRUE = {loose_key(s) for s in (YES, "x", "true", "đúng", "yes", "y", "1", "v", "✓", "✔")} | {"✓", "✔"}
_FALSE = {loose_key(s) for s in (NO, "false", "sai", "no", "n", "0", "-")} | {"", "-"}

_GRADES = {
    **{loose_key(s): "XS" for s in ("XS", "Xuất sắc", "HTXSNV")},
    **{loose_key(s): "T" for s in ("T", "Tốt", "HTTNV")},
    **{loose_key(s): "TB" for s in ("TB", "Trung bình", "HTNV")},
    **{loose_key(s): "K" for s in ("K", "Kém", "KHTNV")},
}
_LEVELS_LOOSE = {loose_key(s): lv for lv in Level for s in (lv.code, lv.official, lv.abbreviation)}

EXCEL_ERRORS = frozenset({"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
                          "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!"})

# ---------------------------------------------------------------------------------------------
# Origins: where each subject and group of the raw data came from
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """The sheet and Excel row a subject, a group or a setting came from, and its columns (field → label)."""

    sheet: str
    row: int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    #: For a quota group: the row of each member id.
    member_rows: dict[str, int] = field(default_factory=dict)


@dataclass
class Origins:
    """Where the raw data of a workbook came from, index by index."""

    subjects: list[Origin] = field(default_factory=list)
    groups: list[Origin] = field(default_factory=list)
    settings: dict[str, Origin] = field(default_factory=dict)
    by_id: dict[str, Origin] = field(default_factory=dict)
    #: What reading the workbook itself found worth a warning (hidden rows and sheets, merged group ids).
    warnings: list[InputProblem] = field(default_factory=list)


def column_label(index: int, header: str) -> str:
    """How a column is named in messages: its letter and its header, e.g. "F (Phiếu Tốt)"."""
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(index)} ({header})" if header else get_column_letter(index)


def _field_column(fld: str | None, columns: dict[str, str]) -> str | None:
    """The column label of a case field path (the longest known prefix), or the span of a field's columns."""
    if not fld:
        return None
    parts = fld.split(".")
    for n in range(len(parts), 0, -1):
        label = columns.get(".".join(parts[:n]))
        if label is not None:
            return label
    inside = [label for f, label in columns.items() if f.startswith(fld + ".")]
    if inside:
        first, last = inside[0].split(" ")[0], inside[-1].split(" ")[0]
        return first if first == last else f"{first}–{last}"
    return None


_QUOTED = re.compile(r"«([^»]+)»")


def relocate(problems: list[InputProblem], origins: Origins) -> list[InputProblem]:
    """Move validation problems ("subjects"/"groups" row n, or a top-level field) to their sheet, row and column."""
    out = []
    for p in problems:
        origin: Origin | None = None
        if p.sheet == "subjects":
            if p.row is not None and 1 <= p.row <= len(origins.subjects):
                origin = origins.subjects[p.row - 1]
            elif p.subject is not None:
                origin = origins.by_id.get(p.subject)
        elif p.sheet == "groups":
            if p.row is not None and 1 <= p.row <= len(origins.groups):
                origin = origins.groups[p.row - 1]
        elif p.sheet is None and p.field:
            top = p.field.split(".")[0]
            origin = origins.settings.get(p.field) or origins.settings.get(top)
            if origin is None and top in ("options", "expect"):
                origin = Origin(SHEET_SETTINGS)
        if origin is None:
            out.append(p)
            continue
        row = origin.row
        if p.sheet == "groups" and p.field == "members":
            for quoted in _QUOTED.findall(p.message):
                if quoted in origin.member_rows:
                    row = origin.member_rows[quoted]
                    break
        column = _field_column(p.field, origin.columns) or p.column
        out.append(replace(p, sheet=origin.sheet, row=row, column=column))
    return out


# ---------------------------------------------------------------------------------------------
# Opening the file
# ---------------------------------------------------------------------------------------------


@dataclass
class _Sheet:
    """One sheet's cells: values (cached results for formulas), where a formula has no cached value, and what
    a person does not see on screen: the sheet's state (visible, hidden, veryHidden), hidden rows and columns,
    and merged ranges (ref, first row, last row, first column, last column)."""

    title: str
    rows: list[tuple[Any, ...]]
    uncached: set[tuple[int, int]]
    state: str = "visible"
    hidden_rows: set[int] = field(default_factory=set)
    hidden_columns: set[int] = field(default_factory=set)
    merged: list[tuple[str, int, int, int, int]] = field(default_factory=list)
    #: The cells of a refused merged range other than its first: blank by Excel's rule, already reported.
    covered: dict[int, set[int]] = field(default_factory=dict)
    #: Cells whose number format may show something else than the value stored (``;;;``, ``"0"``, 0%…):
    #: (row, column) → the format code.
    formats: dict[tuple[int, int], str] = field(default_factory=dict)


#: Refused above these: the unpacked size of the archive, and the cells a sheet declares.
MAX_UNPACKED = 1 << 30
MAX_CELLS = 50_000_000


def _open(path: Path, file: str) -> list[_Sheet]:
    """Every sheet of the workbook, or ``CaseInvalid`` naming why the file is not a readable .xlsx."""

    def fail(message: str) -> CaseInvalid:
        return CaseInvalid([InputProblem(file, message)])

    from model.loader import OLE_MAGIC, XLS_MESSAGE, read_input_bytes

    # the whole file, read once through the loader's bounded reader (a folder, a device or a FIFO is refused
    # before it is opened); the zip and openpyxl readers then work on these bytes, not on the path
    data = read_input_bytes(path, file, MAX_BYTES)
    if not data:
        raise fail("tệp rỗng (0 byte), không phải bảng tính .xlsx")
    if data.startswith(OLE_MAGIC):
        raise fail(f"{XLS_MESSAGE} (trong Excel: Tệp → Lưu thành → «Excel Workbook (.xlsx)»); nếu tệp đã là .xlsx "
                   "thì có thể nó bị đặt mật khẩu: hãy lưu lại không đặt mật khẩu")
    if path.suffix.lower() == ".xls":
        raise fail(f"{XLS_MESSAGE}; tệp có đuôi .xls nhưng không phải bảng tính Excel 97–2003")
    path = io.BytesIO(data)  # type: ignore[assignment]
    if not zipfile.is_zipfile(path):
        raise fail("tệp không phải bảng tính .xlsx (không đúng định dạng zip của Excel); có thể tệp bị hỏng "
                   "hoặc chỉ được đổi đuôi thành .xlsx")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, OSError, ValueError):
        raise fail("tệp nén (zip) của bảng tính bị hỏng, không đọc được; hãy mở bằng Excel rồi lưu lại, hoặc lấy "
                   "lại tệp gốc") from None
    if "xl/workbook.xml" not in names and "[Content_Types].xml" not in names:
        raise fail("tệp là tệp zip nhưng không phải bảng tính .xlsx (không có xl/workbook.xml)")
    if any(n.startswith("xl/externalLinks/") for n in names):
        raise fail("bảng tính có liên kết tới tệp khác (external links): số liệu của nó lấy từ nơi khác; hãy "
                   "sao chép giá trị (Paste Values) rồi xóa liên kết (Data → Edit Links → Break Link)")
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_UNPACKED or any(i.file_size > 10 * 2**20 and i.file_size > 100 * max(1, i.compress_size)
                                      for i in infos):
        raise fail("bảng tính có nội dung giải nén quá lớn hoặc nén bất thường (có thể là tệp độc hại); "
                   "không đọc")

    import openpyxl

    try:
        values_book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        formula_book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds of errors on a damaged file
        raise fail(f"không đọc được bảng tính: {_damage(exc)}") from None
    sheets = []
    title = None
    try:
        for ws in values_book.worksheets:
            title = ws.title
            if (ws.max_row or 0) * (ws.max_column or 0) > MAX_CELLS:
                raise CaseInvalid([InputProblem(file, f"trang khai báo quá nhiều ô ({ws.max_row} dòng × "
                                                      f"{ws.max_column} cột); hãy xóa các dòng, cột trống thừa",
                                                sheet=ws.title)])
            rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
            sheet = _Sheet(ws.title, rows, set(), state=getattr(ws, "sheet_state", "visible") or "visible")
            _scan_layout(formula_book[ws.title], sheet)
            sheets.append(sheet)
    except CaseInvalid:
        raise
    except Exception as exc:  # a damaged sheet inside a readable archive
        raise CaseInvalid([InputProblem(file, f"không đọc được nội dung bảng tính: {_damage(exc)}",
                                        sheet=title)]) from None
    finally:
        values_book.close()
        formula_book.close()
    return sheets


def _damage(exc: Exception) -> str:
    """Why openpyxl could not read a workbook, in Vietnamese (its own messages are English)."""
    kind = type(exc).__name__
    module = type(exc).__module__ or ""
    if module.startswith("defusedxml"):
        return ("bảng tính có khai báo thực thể XML (DTD, entity) mà Excel không bao giờ ghi; xeploai không đọc "
                "tệp như vậy vì lý do an toàn")
    if kind in ("ParseError", "XMLSyntaxError", "ExpatError") or "xml" in module.lower():
        where = ""
        position = getattr(exc, "position", None)
        if isinstance(position, tuple) and len(position) == 2:
            where = f" (dòng {position[0]}, cột {position[1]} của một phần XML)"
        return (f"nội dung XML bên trong tệp bị hỏng{where}: tệp có thể đã hỏng khi chép, tải về hay bị sửa bằng "
                "chương trình khác; hãy mở bằng Excel rồi lưu lại, hoặc lấy lại tệp gốc")
    if isinstance(exc, KeyError):
        return "tệp thiếu một phần bên trong của bảng tính .xlsx (tệp hỏng hoặc không do Excel ghi)"
    return "tệp bị hỏng hoặc không phải bảng tính .xlsx; hãy mở bằng Excel rồi lưu lại dưới dạng .xlsx"


def _is_true(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true")


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None


#: A row lower than this (points) or a column narrower than this (characters) shows nothing: read as hidden.
MIN_ROW_HEIGHT = 3.0
MIN_COLUMN_WIDTH = 1.0

_PLAIN_NUMBER = re.compile(r"[#,]*0(?:\.[0#]+)?")
_FORMAT_NOISE = re.compile(r"\[(?:[A-Za-z]+\d*|\$[^\]]*)\]|_.|\*.|\\(?=.)| ")


def _format_sections(code: str) -> list[str] | None:
    """The sections of a number format with colours, locale tags, padding, fill, escapes and spaces taken out
    (what is left of a plain format is digit placeholders); None for more than four sections."""
    sections = _FORMAT_NOISE.sub("", code).split(";")
    return sections if len(sections) <= 4 else None


def format_misleads(code: str, value: Any) -> bool:
    """Whether a cell formatted with ``code`` may show something other than ``value`` on screen.

    The rule, kept simple so that it can be stated: a number is shown as itself when the section of the format
    that applies to it (the first for a positive number, the second for a negative one, the third for zero,
    when they exist) is General or plain digit placeholders (0, #,##0, 0.0, #,##0.00; brackets or a minus
    for a negative number, a dash for zero as accounting formats do) with at least as many decimals as the
    value has; colours, padding and fill are allowed. Any other format (``;;;``, a literal such as ``"0"``,
    percent, fraction, scientific, a condition) may hide or misstate it. A text is hidden only by a fourth
    (text) section without @.
    """
    if code.strip().lower() in ("general", "@", ""):
        return False
    sections = _format_sections(code)
    if isinstance(value, str):
        return sections is None or (len(sections) == 4 and "@" not in sections[3])
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if sections is None:
        return True
    if value < 0 and len(sections) > 1:
        section = re.sub(r"^-?\((.*)\)$|^-(.*)$", lambda m: m.group(1) or m.group(2) or "", sections[1])
    elif value == 0 and len(sections) > 2:
        section = "0" if sections[2] in ("-", '"-"') else sections[2]
    else:
        section = sections[0]
    if section.lower() == "general":
        return False
    if not _PLAIN_NUMBER.fullmatch(section):
        return True
    if isinstance(value, float) and not value.is_integer():
        decimals = len(section.split(".")[1]) if "." in section else 0
        return float(f"{abs(value):.{decimals}f}") != abs(value)
    return False


def _format_of(book: Any, style_id: int, cache: dict[int, str]) -> str:
    """The number format code of a cell style (openpyxl's read-only cells do the same lookup)."""
    code = cache.get(style_id)
    if code is None:
        from openpyxl.styles.numbers import BUILTIN_FORMATS

        code = "General"
        try:
            fmt_id = book._cell_styles[style_id].numFmtId
            code = BUILTIN_FORMATS.get(fmt_id, "General") if fmt_id < 164 else book._number_formats[fmt_id - 164]
        except (IndexError, KeyError, AttributeError, TypeError):
            pass
        cache[style_id] = code
    return code


def _scan_layout(fws: Any, sheet: _Sheet) -> None:
    """One pass over a sheet's XML with openpyxl's own sheet parser (what ``iter_rows`` runs in read-only mode,
    which keeps only the cells): the formula cells without a cached value, the hidden rows and columns (hidden,
    or of height or width 0, or rows hidden by default), the merged ranges, which read-only worksheets do not
    expose, and the cells whose number format may show another value than the one stored."""
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.worksheet._reader import WorkSheetParser

    book = fws.parent
    rows = sheet.rows
    styles: dict[int, str] = {}
    with fws._get_source() as src:
        parser = WorkSheetParser(src, fws._shared_strings, data_only=False, epoch=book.epoch,
                                 date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
        for r, cells in parser.parse():
            for cell in cells:
                c = cell["column"]
                value = rows[r - 1][c - 1] if r <= len(rows) and c <= len(rows[r - 1]) else None
                if cell.get("data_type") == "f" and value is None:
                    sheet.uncached.add((r, c))
                style = cell.get("style_id") or 0
                if style and value is not None:
                    code = _format_of(book, style, styles)
                    if format_misleads(code, value):
                        sheet.formats[(r, c)] = code
    fmt = getattr(parser, "sheet_format", None)
    hidden_by_default = fmt is not None and (_is_true(fmt.zeroHeight) or (
        _float(fmt.defaultRowHeight) is not None and _float(fmt.defaultRowHeight) < MIN_ROW_HEIGHT))
    shown: set[int] = set()
    for r, attrs in parser.row_dimensions.items():
        number = int(float(r))
        height = _float(attrs.get("ht"))
        if height is None and _is_true(attrs.get("customHeight")):
            height = 0.0  # a custom height never written is no height: the row shows nothing (as openpyxl saves 0)
        if _is_true(attrs.get("hidden")) or (height is not None and height < MIN_ROW_HEIGHT):
            sheet.hidden_rows.add(number)
        elif height is not None:
            shown.add(number)
    if hidden_by_default:  # every row without a height of its own is hidden: only the rows read are listed
        sheet.hidden_rows.update(r for r in range(1, len(rows) + 1) if r not in shown)
    widths: set[int] = set()
    for attrs in parser.column_dimensions.values():
        low = int(attrs.get("min", 0) or 0)
        high = min(int(attrs.get("max", low) or low), low + 16_384)
        width = _float(attrs.get("width"))
        if _is_true(attrs.get("hidden")) or (width is not None and width < MIN_COLUMN_WIDTH):
            sheet.hidden_columns.update(range(low, high + 1))
        elif width is not None:
            widths.update(range(low, high + 1))
    default_width = _float(getattr(fmt, "defaultColWidth", None)) if fmt is not None else None
    if default_width is not None and default_width < MIN_COLUMN_WIDTH:
        extent = max((len(r) for r in rows), default=0)
        sheet.hidden_columns.update(c for c in range(1, extent + 1) if c not in widths)
    if parser.merged_cells is not None:
        for merged in parser.merged_cells.mergeCell:
            try:
                min_col, min_row, max_col, max_row = range_boundaries(merged.ref)
            except (TypeError, ValueError):
                continue
            if (min_row, min_col) != (max_row, max_col):
                sheet.merged.append((merged.ref, min_row, max_row, min_col, max_col))


# ---------------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------------


class _Bad(ValueError):
    """A cell that cannot be read; the message is Vietnamese and shown as is."""


def _shown(value: Any) -> str:
    """A value quoted for a message (long text cut short)."""
    if isinstance(value, str):
        return f"«{value}»" if len(value) <= 60 else f"«{value[:57]}…»"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not clean_text(value))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        raise _Bad(f"phải là chữ, nhận được giá trị đúng/sai {value}")
    if isinstance(value, (datetime, date, time, timedelta)):
        raise _Bad(f"phải là chữ, nhận được ngày giờ {value}; hãy định dạng ô là Văn bản (Text)")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return clean_text(value)
    raise _Bad(f"giá trị không đọc được: {value!r}")


#: An integer typed as text: plain digits, or an integer-valued decimal with one or two zero fraction digits
#: ("15.0", "15,0", "15.00"); three zeros ("1.000") is a thousands separator in Vietnamese and is refused.
_INTEGER_TEXT = re.compile(r"([+-]?\d+)(?:[.,]0{1,2})?")
#: Digits broken by separators or spaces ("1.000", "15,000", "1 5", "1.500"): refused with its own message.
_GROUPED_DIGITS = re.compile(r"[+-]?\d+(?:[.,\s\u00a0\u202f']+\d+)+")
#: A plain decimal that is not an integer ("15.5", "2,25"): refused as "not an integer".
_DECIMAL_TEXT = re.compile(r"[+-]?\d+[.,](?!\d{3}$)\d*[1-9]\d*")


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise _Bad(f"phải là số nguyên, nhận được giá trị đúng/sai {value}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise _Bad(f"phải là số nguyên, nhận được {_shown(value)}")
    if isinstance(value, str):
        text = clean_text(value)
        m = _INTEGER_TEXT.fullmatch(text)
        if m:
            return int(m.group(1))
        if _GROUPED_DIGITS.fullmatch(text) and not _DECIMAL_TEXT.fullmatch(text):
            raise _Bad(f"số ghi dạng chữ {_shown(text)} có dấu chấm, dấu phẩy hoặc khoảng trắng giữa các chữ số nên "
                       "không rõ là bao nhiêu (1.000 là một nghìn hay một?); hãy gõ số không có dấu phân cách hàng "
                       "nghìn, ví dụ 1000 (chỉ nhận thêm «,0» hay «.00» ở cuối, như 15,0)")
        raise _Bad(f"phải là số nguyên, nhận được {_shown(text)}")
    if isinstance(value, (datetime, date, time, timedelta)):
        raise _Bad(f"phải là số nguyên, nhận được ngày giờ {value}")
    raise _Bad(f"phải là số nguyên, nhận được {value!r}")


def _number(value: Any) -> float:
    if isinstance(value, bool) or isinstance(value, (datetime, date, time, timedelta)):
        raise _Bad(f"phải là số, nhận được {value}")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise _Bad("phải là số hữu hạn")
        return value
    if isinstance(value, str):
        text = clean_text(value).replace(",", ".")  # inner spaces are refused: "1 5" is not 15
        if re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
            number = float(text)
            return int(number) if number.is_integer() else number
        raise _Bad(f"phải là số, nhận được {_shown(clean_text(value))}")
    raise _Bad(f"phải là số, nhận được {value!r}")


def read_level(value: Any) -> Level:
    """A level as people type it: code, abbreviation or official name, any case, with or without diacritics."""
    text = _text(value)
    try:
        return parse_level(text, lenient=True)
    except ValueError:
        pass
    level = _LEVELS_LOOSE.get(loose_key(text))
    if level is None:
        names = "; ".join(lv.official for lv in LEVELS_DESC)
        raise _Bad(f"mức xếp loại không hợp lệ {_shown(text)}; dùng tên đầy đủ ({names}), "
                   "viết tắt (HTXSNV, HTTNV, HTNV, KHTNV) hoặc mã (XS, T, HT, K)")
    return level


def read_bool(value: Any) -> bool:
    """Có/Không, x, true/false, 1/0 and Excel's own TRUE/FALSE; blank is False."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = clean_text(value)
        key = loose_key(text) or text
        if key in _TRUE or text in _TRUE:
            return True
        if key in _FALSE or text in _FALSE:
            return False
        raise _Bad(f"phải là «{YES}» hoặc «{NO}» (hoặc x, để trống), nhận được {_shown(text)}")
    raise _Bad(f"phải là «{YES}» hoặc «{NO}», nhận được {_shown(value)}")


def read_tier(value: Any) -> Tier:
    text = _text(value)
    tier = _TIERS.get(loose_key(text))
    if tier is None:
        names = ", ".join(f"«{TIER_LABELS[t]}»" for t in Tier)
        raise _Bad(f"cấp không hợp lệ {_shown(text)}; dùng {names} (hoặc TCCSĐ, cơ sở, chi bộ trực thuộc)")
    return tier


_UNIT_CATEGORIES = {loose_key(s): code for code, label in UNIT_CATEGORIES.items()
                    for s in (code, label, *UNIT_CATEGORY_SPELLINGS.get(code, ()))}


def read_choice(value: Any, choices: tuple[tuple[str, str], ...]) -> str:
    """A value chosen from a list: its label (or its code), read loosely; the code is returned."""
    text = _text(value)
    for code, label in choices:
        if loose_key(text) in (loose_key(code), loose_key(label)):
            return code
    names = ", ".join(f"«{label}»" for _, label in choices)
    raise _Bad(f"giá trị không hợp lệ {_shown(text)}; chọn một trong: {names}")


def read_unit_category(value: Any) -> str:
    text = _text(value)
    code = _UNIT_CATEGORIES.get(loose_key(text))
    if code is None:
        names = ", ".join(f"«{label}»" for label in UNIT_CATEGORIES.values())
        raise _Bad(f"loại đơn vị không hợp lệ {_shown(text)}; dùng {names}")
    return code


def read_kind(value: Any) -> Kind:
    text = _text(value)
    kind = _KINDS.get(loose_key(text))
    if kind is None:
        names = ", ".join(f"«{s}»" for s in KIND_SHEETS.values())
        raise _Bad(f"loại đối tượng không hợp lệ {_shown(text)}; dùng {names}")
    return kind


def split_ids(value: Any) -> list[str]:
    """Ids in one cell: one per line, or separated by commas or semicolons."""
    text = _text(value)
    parts = text.split("\n") if "\n" in text else re.split(r"[,;]", text)
    return [clean_text(p) for p in parts if clean_text(p)]


def read_grades(value: Any) -> list[str]:
    text = _text(value)
    out = []
    for part in re.split(r"[,;\n]", text):
        part = clean_text(part)
        if not part:
            continue
        grade = _GRADES.get(loose_key(part))
        if grade is None and " " in part:
            words = [_GRADES.get(loose_key(w)) for w in part.split()]
            if all(words):
                out.extend(words)
                continue
        if grade is None:
            raise _Bad(f"cấp độ tiêu chí không hợp lệ {_shown(part)}; dùng XS, T, TB hoặc K, cách nhau bằng dấu phẩy")
        out.append(grade)
    return out


def _ranged(n: int, low: int | None, high: int | None, what: str = "") -> int:
    if low is not None and n < low:
        if low == 0:
            raise _Bad(f"{what}không được âm, nhận được {n}")
        raise _Bad(f"{what}phải lớn hơn hoặc bằng {low}, nhận được {n}")
    if high is not None and n > high:
        raise _Bad(f"{what}phải nhỏ hơn hoặc bằng {high}, nhận được {n}")
    return n


_LINE_BREAKS = re.compile(r"[ \t]*[\r\n\t\u2028\u2029]+[ \t]*")


def read_cell(col: Column, value: Any) -> Any:
    """The case value of a non-blank cell of ``col`` (raises ``_Bad`` with a Vietnamese message)."""
    t = col.type
    if t in ("id", "ref"):
        text = _text(value)
        if len(text) > 200:
            raise _Bad(f"mã quá dài ({len(text)} ký tự, tối đa 200)")
        return text
    if t in ("name", "text"):
        text = _LINE_BREAKS.sub(" ", _text(value))  # a line break typed in the cell (Alt+Enter) is a space
        if len(text) > 500:
            raise _Bad(f"quá dài ({len(text)} ký tự, tối đa 500)")
        return text
    if t == "refs":
        return split_ids(value)
    if t == "count":
        return _ranged(_integer(value), 0, 1_000_000, "số phiếu ")
    if t == "voters":
        return _ranged(_integer(value), 1, 1_000_000, "số người biểu quyết ")
    if t == "order":
        return _ranged(_integer(value), 1, None, "thứ tự ")
    if t == "months":
        months = _number(value)
        if not 0 <= months <= 12:
            raise _Bad(f"số tháng phải từ 0 đến 12, nhận được {_shown(months)}")
        return months
    if t == "level":
        return read_level(value).code
    if t == "tier":
        return read_tier(value).value
    if t == "unit_category":
        return read_unit_category(value)
    if t == "choice":
        return read_choice(value, col.choices)
    if t == "score":
        score = _number(value)
        if not 0 <= score <= 100 or abs(score * 10 - round(score * 10)) > 1e-9:
            raise _Bad(f"điểm phải từ 0 đến 100, một chữ số thập phân, nhận được {_shown(score)}")
        return float(score)
    if t == "tristate":
        return read_bool(value)
    if t in ("bool", "unrated"):
        return read_bool(value)
    if t == "grades":
        return read_grades(value)
    if t == "kind":
        return read_kind(value).value
    if t == "raw":
        return clean_text(value) if isinstance(value, str) else value
    raise _Bad(f"kiểu cột không rõ: {t}")  # pragma: no cover - the layout above names every type


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


@dataclass
class _Row:
    """One data row of a sheet: its Excel row number and the readable cells by field."""

    number: int
    cells: dict[str, Any]
    bad: set[str]


#: Merged ranges listed one by one in a sheet's data rows; beyond, one message says how many more there are.
MAX_MERGE_ERRORS = 50


def _extent(sheet: _Sheet) -> tuple[int, int]:
    """The last row and the last column of a sheet that hold a value or a formula (1-based; 0 when empty)."""
    last_row = last_col = 0
    for i, row in enumerate(sheet.rows, start=1):
        for c in range(len(row), 0, -1):
            if row[c - 1] is not None:
                last_row = i
                last_col = max(last_col, c)
                break
    for r, c in sheet.uncached:
        last_row, last_col = max(last_row, r), max(last_col, c)
    return last_row, last_col


def _fill_down(sheet: _Sheet, col: int, row0: int, row1: int) -> None:
    """A merge down one column read as its first cell's value on every row it covers (rows within the data)."""
    if row0 > len(sheet.rows):
        return
    top = sheet.rows[row0 - 1]
    value = top[col - 1] if col <= len(top) else None
    for r in range(row0 + 1, min(row1, len(sheet.rows)) + 1):
        cells = list(sheet.rows[r - 1])
        cells.extend([None] * (col - len(cells)))
        cells[col - 1] = value
        sheet.rows[r - 1] = tuple(cells)


class _Reader:
    """Collects every problem of a workbook while turning its sheets into raw case data."""

    def __init__(self, file: str):
        self.file = file
        #: Functional quota groups written in the subject sheets' «Nhóm tỷ lệ (mã)» column: group id → ids.
        self.column_groups: dict[str, list[str]] = {}
        self.problems: list[InputProblem] = []
        self.structure_ok = True  # no missing sheet or header problem: the data is complete
        #: Ids written twice, already reported at the second place with the first named: validation's own
        #: duplicate message (at a list position) is not repeated.
        self.duplicate_ids: set[str] = set()

    def error(self, message: str, sheet: str | None = None, row: int | None = None, column: str | None = None,
              fld: str | None = None, subject: str | None = None, warning: bool = False) -> None:
        self.problems.append(InputProblem(self.file, message, sheet=sheet, row=row, column=column, field=fld,
                                          subject=subject, warning=warning))

    def warn(self, message: str, sheet: str | None = None, row: int | None = None, column: str | None = None) -> None:
        self.error(message, sheet=sheet, row=row, column=column, warning=True)

    # -- sheets ------------------------------------------------------------------------------

    def match_sheets(self, sheets: list[_Sheet]) -> dict[str, _Sheet]:
        known = {}
        for name in SHEET_ORDER:
            for spelling in (name, *_SHEET_ALIASES.get(name, ())):
                known.setdefault(loose_key(spelling), name)
        found: dict[str, _Sheet] = {}
        refused: set[str | None] = set()
        for sheet in sheets:
            name = known.get(loose_key(sheet.title))
            blank = all(is_blank(v) for row in sheet.rows for v in row)
            if name is None and blank:
                continue  # an empty extra sheet (Excel's "Sheet1") holds nothing to import
            if not blank and sheet.state == "veryHidden":
                self.error(f"trang «{sheet.title}» bị ẩn hoàn toàn (very hidden): Excel không cho hiện trang này ra "
                           "nên không ai kiểm tra được dữ liệu trong đó, và xeploai không đọc dữ liệu người dùng "
                           "không thấy; hãy cho hiện trang (trong Excel: Developer → Visual Basic, đặt Visible = "
                           "xlSheetVisible; hoặc mở bằng LibreOffice: Trang tính → Hiện trang tính) hoặc chép dữ "
                           "liệu sang một bảng tính mới", sheet=sheet.title)
                self.structure_ok = False
                refused.add(name)
                continue
            if not blank and sheet.state == "hidden" and name not in (None, SHEET_GUIDE):
                self.warn(f"trang «{sheet.title}» đang bị ẩn (hidden) nhưng vẫn được đọc như mọi trang khác; nếu "
                          "không muốn dùng dữ liệu của trang này, hãy cho hiện trang (chuột phải vào tên trang → "
                          "Unhide) rồi sửa hoặc xóa dữ liệu", sheet=sheet.title)
            if name is None:
                names = ", ".join(f"«{n}»" for n in SHEET_ORDER)
                self.error(f"trang «{sheet.title}» không thuộc mẫu của xeploai; các trang được nhận: {names}. "
                           "Hãy đổi lại đúng tên trang hoặc xóa trang này.", sheet=sheet.title)
            elif name in found:
                self.error(f"trang «{sheet.title}» trùng với trang «{found[name].title}» (cùng là trang «{name}»)",
                           sheet=sheet.title)
                self.structure_ok = False
            else:
                found[name] = sheet
        for name in REQUIRED_SHEETS:
            if name not in found and name not in refused:
                self.error(f"thiếu trang «{name}» (trang phải có, kể cả khi để trống)", sheet=name)
                self.structure_ok = False
        return found

    # -- headers and rows --------------------------------------------------------------------

    def header(self, sheet: _Sheet, columns: tuple[Column, ...],
               required: tuple[str, ...]) -> tuple[int, dict[int, Column]] | None:
        """(header row index, column index → Column), or None for an empty sheet.

        The header is the first non-blank row, or a later one among the first ten that names the
        first column (so that a title above the table is read past).
        """
        rows = sheet.rows
        marks = {loose_key(s) for s in (columns[0].header, *columns[0].aliases)}
        start = None
        for i, row in enumerate(rows[:10]):
            if any(not is_blank(v) for v in row):
                if start is None:
                    start = i
                if any(isinstance(v, str) and loose_key(v) in marks for v in row):
                    start = i
                    break
        if start is None:
            return None
        spellings: dict[str, Column] = {}
        for col in columns:
            for s in (col.header, *col.aliases):
                spellings.setdefault(loose_key(s), col)
        ignored = {loose_key(s) for s in IGNORED_HEADERS}
        mapping: dict[int, Column] = {}
        seen: dict[str, int] = {}
        for c, value in enumerate(rows[start], start=1):
            if is_blank(value):
                continue
            text = clean_text(value) if isinstance(value, str) else str(value)
            key = loose_key(text)
            if key in ignored:
                continue
            col = spellings.get(key)
            if col is None:
                known = ", ".join(f"«{k.header}»" for k in columns)
                self.error(f"tiêu đề cột {_shown(text)} không có trong mẫu của trang này; các cột được nhận: {known} "
                           f"(các cột {', '.join(IGNORED_HEADERS)} được bỏ qua)",
                           sheet=sheet.title, row=start + 1, column=column_label(c, text))
                self.structure_ok = False
            elif col.field in seen:
                self.error(f"cột «{col.header}» có hai lần (đã có ở cột {column_label(seen[col.field], col.header)})",
                           sheet=sheet.title, row=start + 1, column=column_label(c, text))
                self.structure_ok = False
            else:
                seen[col.field] = c
                mapping[c] = col
        for col in columns:
            if col.field in required and col.field not in seen:
                self.error(f"thiếu cột «{col.header}»", sheet=sheet.title, row=start + 1)
                self.structure_ok = False
        return start, mapping

    def layout(self, sheet: _Sheet, start: int, mapping: dict[int, Column], continued: frozenset[str]) -> None:
        """What the eye does not see in the data rows (below the header at index ``start``): a merged range is
        an error (only its first cell has a value, every other row reads blank — a member's ballots would
        vanish) except a merge down one column of ``continued`` fields, which is read as the same value on
        every row and reported; data in hidden columns is reported.

        A merge is clamped to the cells the sheet really has (the last row and column with a value) before it
        is looked at, so that a range such as A2:XFD1048576 costs what the data costs, not 17 billion cells."""
        header_number = start + 1
        last_row, last_col = _extent(sheet)
        reported = 0
        for ref, row0, row1, col0, col1 in sorted(sheet.merged, key=lambda m: (m[1], m[3])):
            if row1 <= header_number or row0 > last_row or col0 > last_col:
                continue  # a title or the header row, or nothing but empty cells: no data there
            cols = [mapping.get(c) for c in range(col0, min(col1, last_col) + 1)]
            names = ", ".join(f"«{c.header}»" for c in cols if c is not None) or "không có tiêu đề"
            rows_text = f"dòng {row0}–{row1}" if row1 > row0 else f"dòng {row0}"
            if col0 == col1 and cols[0] is not None and cols[0].field in continued and row0 > header_number:
                self.warn(f"ô gộp {ref} (cột {names}, {rows_text}): các dòng này được đọc là cùng một "
                          f"{cols[0].header.lower()} ghi ở dòng {row0}", sheet=sheet.title, row=row0,
                          column=column_label(col0, cols[0].header))
                _fill_down(sheet, col0, row0, min(row1, last_row))
                continue
            reported += 1
            if reported > MAX_MERGE_ERRORS:
                continue
            self.error(f"ô gộp (merge) {ref} trải trên {rows_text}, cột {names}: chỉ ô đầu tiên có giá trị, các ô "
                       "còn lại được đọc là để trống (ví dụ phiếu của một người sẽ bị mất); hãy bỏ gộp ô (Home → "
                       "Merge & Center → Unmerge Cells) rồi ghi giá trị vào từng dòng, từng cột",
                       sheet=sheet.title, row=max(row0, header_number + 1),
                       column=column_label(col0, cols[0].header if cols[0] is not None else ""))
            for r in range(max(row0, header_number + 1), min(row1, last_row) + 1):
                sheet.covered.setdefault(r, set()).update(
                    c for c in range(col0, min(col1, last_col) + 1) if (r, c) != (row0, col0))
        if reported > MAX_MERGE_ERRORS:
            self.error(f"còn {reported - MAX_MERGE_ERRORS} ô gộp khác trong các dòng dữ liệu của trang này; hãy bỏ "
                       "gộp mọi ô (chọn cả trang, Home → Merge & Center → Unmerge Cells) rồi kiểm tra lại",
                       sheet=sheet.title)
            self.structure_ok = False  # the cells of the merges not listed are not known: no follow-up errors
        hidden = sorted(c for c in sheet.hidden_columns if c in mapping and any(
            c <= len(r) and not is_blank(r[c - 1]) for r in sheet.rows[start + 1:]))
        if hidden:
            names = ", ".join(column_label(c, mapping[c].header) for c in hidden)
            self.warn(f"cột {names} đang bị ẩn nhưng dữ liệu trong đó vẫn được đọc (ẩn cột hoặc độ rộng cột bằng "
                      "0); hãy cho hiện cột (chuột phải → Unhide) để kiểm tra", sheet=sheet.title, row=header_number,
                      column=column_label(hidden[0], mapping[hidden[0]].header))

    def rows(self, sheet: _Sheet, start: int, mapping: dict[int, Column],
             continued: frozenset[str] = frozenset()) -> list[_Row]:
        from model.errors import visible
        from model.loader import BAD_CHARS

        self.layout(sheet, start, mapping, continued)
        out = []
        hidden: list[int] = []
        disguised: dict[tuple[int, str], list[tuple[int, Any]]] = {}  # (column, format) → (row, value stored)
        for i in range(start + 1, len(sheet.rows)):
            number = i + 1
            raw = sheet.rows[i]
            uncached = [c for c in mapping if (number, c) in sheet.uncached]
            if all(is_blank(v) for v in raw) and not uncached:
                continue
            if number in sheet.hidden_rows:
                hidden.append(number)
            cells: dict[str, Any] = {}
            bad: set[str] = {mapping[c].field for c in sheet.covered.get(number, ()) if c in mapping}
            for c, value in enumerate(raw, start=1):
                col = mapping.get(c)
                if col is not None and (number, c) in sheet.uncached:
                    self.error("ô có công thức nhưng chưa có giá trị đã tính; hãy mở tệp bằng Excel (hoặc "
                               "LibreOffice) để tính lại rồi lưu, hoặc nhập giá trị thay cho công thức",
                               sheet=sheet.title, row=number, column=column_label(c, col.header), fld=col.field)
                    bad.add(col.field)
                    continue
                if is_blank(value):
                    continue
                if col is None:
                    header_cell = sheet.rows[start][c - 1] if c <= len(sheet.rows[start]) else None
                    if is_blank(header_cell):
                        self.error(f"ô có dữ liệu ({_shown(value)}) ở cột không có tiêu đề; hãy thêm tiêu đề hoặc "
                                   "xóa dữ liệu", sheet=sheet.title, row=number, column=column_label(c, ""))
                    continue
                if (number, c) in sheet.formats:
                    disguised.setdefault((c, sheet.formats[number, c]), []).append((number, value))
                if isinstance(value, str) and BAD_CHARS.search(value):
                    char = BAD_CHARS.search(value).group()
                    self.error(f"ô có ký tự điều khiển hoặc ký tự không hợp lệ U+{ord(char):04X} (không nhìn thấy "
                               f"được): «{visible(value[:60])}»; hãy gõ lại nội dung ô", sheet=sheet.title,
                               row=number, column=column_label(c, col.header), fld=col.field)
                    bad.add(col.field)
                    continue
                if isinstance(value, str) and clean_text(value) in EXCEL_ERRORS:
                    self.error(f"ô chứa lỗi công thức {clean_text(value)}", sheet=sheet.title, row=number,
                               column=column_label(c, col.header), fld=col.field)
                    bad.add(col.field)
                    continue
                try:
                    cells[col.field] = read_cell(col, value)
                except _Bad as exc:
                    self.error(str(exc), sheet=sheet.title, row=number, column=column_label(c, col.header),
                               fld=col.field)
                    bad.add(col.field)
            if cells or bad:
                out.append(_Row(number, cells, bad))
        if hidden:
            self.warn(f"{len(hidden)} dòng có dữ liệu đang bị ẩn (dòng {_spans(hidden)}; ẩn dòng hoặc chiều cao dòng bằng "
                      "0) nhưng vẫn được đọc như mọi dòng khác; nếu các dòng này không thuộc hồ sơ, hãy cho hiện dòng "
                      "(chọn cả trang, chuột phải → Unhide) rồi xóa chúng", sheet=sheet.title, row=hidden[0])
        for (c, code), cells in sorted(disguised.items(), key=lambda item: (item[0][0], item[1][0][0])):
            first_row, first_value = cells[0]
            self.warn(f"định dạng ô «{code}» làm Excel hiện khác giá trị lưu trong ô, hoặc không hiện gì "
                      f"({len(cells)} ô: dòng {_spans([r for r, _ in cells])}); xeploai đọc giá trị lưu trong ô, ví dụ "
                      f"{_shown(first_value)} ở dòng {first_row}; hãy đổi định dạng ô về General (Home → Number Format "
                      "→ General) để thấy đúng giá trị rồi kiểm tra lại", sheet=sheet.title, row=first_row,
                      column=column_label(c, mapping[c].header))
        return out

    # -- subjects ----------------------------------------------------------------------------

    def subjects(self, found: dict[str, _Sheet]) -> tuple[list[dict], list[Origin], dict[int, set[str]]]:
        entries = []  # (order or None, sheet index, row number, subject dict, origin, bad fields)
        orders: dict[int, tuple[str, int]] = {}
        first_at: dict[str, tuple[str, int]] = {}  # id (NFC, cleaned) → where it is first written
        for sheet_index, (kind, name) in enumerate(KIND_SHEETS.items()):
            sheet = found.get(name)
            if sheet is None:
                continue
            head = self.header(sheet, SUBJECT_COLUMNS[kind], ("id", "name"))
            if head is None:
                continue
            start, mapping = head
            labels = {col.field: column_label(c, col.header) for c, col in mapping.items()}
            for row in self.rows(sheet, start, mapping):
                subject = self.subject(kind, sheet.title, row, labels)
                if subject is None:
                    continue
                sid = subject["id"]
                if sid in first_at:  # located here, at its own sheet and row, with the first one named
                    where_sheet, where_row = first_at[sid]
                    self.error(f"mã «{sid}» trùng với mã ở trang «{where_sheet}» dòng {where_row} (chữ tiếng Việt "
                               "dựng sẵn hay tổ hợp, chữ có hay không có ký tự ẩn đều được coi là một); mỗi mã chỉ "
                               "dùng cho một đối tượng", sheet=sheet.title, row=row.number, column=labels.get("id"),
                               fld="id", subject=sid)
                    row.bad.add("id")
                    self.duplicate_ids.add(sid)
                else:
                    first_at[sid] = (sheet.title, row.number)
                order = row.cells.get("order")
                if order is not None:
                    if order in orders:
                        where_sheet, where_row = orders[order]
                        self.error(f"thứ tự {order} trùng với trang «{where_sheet}» dòng {where_row}",
                                   sheet=sheet.title, row=row.number, column=labels.get("order"), fld="order",
                                   subject=subject["id"])
                        row.bad.add("order")
                        order = None
                    else:
                        orders[order] = (sheet.title, row.number)
                origin = Origin(sheet.title, row.number, labels)
                entries.append((order, sheet_index, row.number, subject, origin, row.bad))
        entries.sort(key=lambda e: (e[0] is None, e[0] or 0, e[1], e[2]))
        subjects = [e[3] for e in entries]
        origins = [e[4] for e in entries]
        bad = {i: e[5] for i, e in enumerate(entries) if e[5]}
        return subjects, origins, bad

    def subject(self, kind: Kind, sheet: str, row: _Row, labels: dict[str, str]) -> dict | None:
        cells = row.cells
        sid = cells.get("id")
        if sid is None:
            if "id" not in row.bad:
                self.error("thiếu mã: mỗi dòng có dữ liệu phải có mã", sheet=sheet, row=row.number,
                           column=labels.get("id"), fld="id")
            return None
        out: dict[str, Any] = {"id": sid}
        name = cells.get("name")
        if name is None:
            if "name" not in row.bad:
                self.error("thiếu tên", sheet=sheet, row=row.number, column=labels.get("name"), fld="name",
                           subject=sid)
            row.bad.add("name")
            name = sid
        out["name"] = name
        out["kind"] = kind.value
        for key in ("parent", "tier", "leads", "heads", "category", "person", "decided_by", "score", "self_score",
                    "excluded", "lock_reason", "lock_author"):
            if key in cells:
                out[key] = cells[key]
        if cells.get("in_charge_of"):
            out["in_charge_of"] = cells["in_charge_of"]
        if cells.get("quota_group"):
            self.column_groups.setdefault(cells["quota_group"], []).append(sid)
        if cells.get("main_post") is True:
            out["main_post"] = True
        if cells.get("same_level_units"):
            out["same_level_units"] = cells["same_level_units"]
        votes = {k.split(".")[1]: v for k, v in cells.items() if k.startswith("votes.")}
        if votes:
            out["votes"] = {k: votes[k] for k in ("XS", "T", "TB", "K") if k in votes}
        if "voters" in cells:
            total = sum(votes.values())
            if votes and total > cells["voters"]:
                self.error(f"tổng số phiếu ({total}) lớn hơn số người biểu quyết ({cells['voters']})",
                           sheet=sheet, row=row.number, column=labels.get("voters"), fld="voters", subject=sid)
                row.bad.add("voters")
            else:
                out["voters"] = cells["voters"]
        for key in ("proposed", "target", "level", "lock"):
            if key in cells:
                out[key] = cells[key]
        if cells.get("rated") is True:
            out["rated"] = False
        if cells.get("may_rise") is True:
            out["may_rise"] = True
        facts: dict[str, Any] = {}
        for key, value in cells.items():
            if not key.startswith("facts."):
                continue
            name_ = key.split(".", 1)[1]
            if "." in name_:  # a part of a fact with fields: criteria, tasks, discipline
                top, part = name_.split(".", 1)
                if value is not None and value is not False and value != [] and value != ():
                    facts.setdefault(top, {})[part] = value
            elif value is not False or name_ in TRISTATE_FACTS:
                facts[name_] = value
        if facts:
            out["facts"] = facts
        return out

    # -- groups, settings, expectations ------------------------------------------------------

    def groups(self, sheet: _Sheet | None, kinds: dict[str, str]) -> tuple[list[dict], list[Origin]]:
        if sheet is None:
            return [], []
        head = self.header(sheet, GROUP_COLUMNS, ("id", "members"))
        if head is None:
            return [], []
        start, mapping = head
        labels = {col.field: column_label(c, col.header) for c, col in mapping.items()}
        groups: dict[str, dict] = {}
        rows_of: dict[str, int] = {}
        member_rows: dict[str, dict[str, int]] = {}
        named_at: dict[str, int] = {}
        kind_of: dict[str, tuple[str, int]] = {}
        for row in self.rows(sheet, start, mapping, frozenset({"id", "name", "kind"})):
            gid = row.cells.get("id")
            if gid is None:  # a blank id never joins the group above: a merge down the column was filled in
                if "id" not in row.bad:
                    self.error("thiếu mã nhóm: mỗi dòng phải ghi mã nhóm của thành viên ghi ở dòng đó (nhiều dòng "
                               "cùng mã là cùng một nhóm)", sheet=sheet.title, row=row.number,
                               column=labels.get("id"), fld="id")
                continue
            group = groups.get(gid)
            if group is None:
                group = groups[gid] = {"id": gid, "name": None, "members": []}
                rows_of[gid] = row.number
                member_rows[gid] = {}
            name = row.cells.get("name")
            if name is not None:
                if group["name"] is None:
                    group["name"] = name
                    named_at[gid] = row.number
                elif name != group["name"]:
                    self.error(f"tên nhóm «{name}» khác tên đã ghi ở dòng {named_at[gid]} («{group['name']}»)",
                               sheet=sheet.title, row=row.number, column=labels.get("name"), fld="name", subject=gid)
            kind = row.cells.get("kind")
            if kind is not None:
                if gid in kind_of and kind_of[gid][0] != kind:
                    self.error(f"loại đối tượng khác loại đã ghi ở dòng {kind_of[gid][1]}", sheet=sheet.title,
                               row=row.number, column=labels.get("kind"), fld="kind", subject=gid)
                else:
                    kind_of.setdefault(gid, (kind, row.number))
            elif gid in kind_of:
                kind = kind_of[gid][0]  # stated once for the group, checked on every member row
            for m in row.cells.get("members", []):
                group["members"].append(m)
                member_rows[gid].setdefault(m, row.number)
                actual = kinds.get(m)
                if kind is not None and actual is not None and actual != kind:
                    self.error(f"«{m}» là {Kind(actual).label.lower()}, không phải «{KIND_SHEETS[Kind(kind)]}» như "
                               "cột loại đối tượng ghi", sheet=sheet.title, row=row.number,
                               column=labels.get("members"), fld="members", subject=gid)
        out, origins = [], []
        for gid, group in groups.items():
            if group["name"] is None:
                self.error("thiếu tên nhóm", sheet=sheet.title, row=rows_of[gid], column=labels.get("name"),
                           fld="name", subject=gid)
                group["name"] = gid
            out.append(group)
            origins.append(Origin(sheet.title, rows_of[gid], labels, member_rows[gid]))
        return out, origins

    def settings(self, sheet: _Sheet | None, data: dict[str, Any], origins: dict[str, Origin]) -> bool:
        """Fill name, profile, description, options and expectations; True if an expectation was given."""
        if sheet is None:
            return False
        head = self.header(sheet, SETTING_COLUMNS, ("key", "value"))
        if head is None:
            return False
        start, mapping = head
        labels = {col.field: column_label(c, col.header) for c, col in mapping.items()}
        if "value" not in labels or "key" not in labels:
            return False
        known: dict[str, Setting] = {}
        for s in settings():
            for spelling in (s.label, *s.aliases):
                known.setdefault(loose_key(spelling), s)
        seen: dict[str, int] = {}
        expect = False
        for row in self.rows(sheet, start, mapping):
            key = row.cells.get("key")
            if key is None:
                if "value" in row.cells:
                    self.error("có giá trị nhưng thiếu tên mục", sheet=sheet.title, row=row.number,
                               column=labels.get("key"))
                continue
            setting = known.get(loose_key(key))
            if setting is None:
                names = ", ".join(f"«{s.label}»" for s in settings())
                self.error(f"mục {_shown(key)} không có trong mẫu; các mục được nhận: {names}", sheet=sheet.title,
                           row=row.number, column=labels.get("key"))
                continue
            if setting.field in seen:
                self.error(f"mục «{setting.label}» ghi hai lần (đã có ở dòng {seen[setting.field]})",
                           sheet=sheet.title, row=row.number, column=labels.get("key"), fld=setting.field)
                continue
            seen[setting.field] = row.number
            origins[setting.field] = Origin(sheet.title, row.number, {setting.field: labels["value"]})
            if "value" not in row.cells:
                continue
            raw = row.cells["value"]
            try:
                value = _setting_value(setting, raw)
            except _Bad as exc:
                self.error(str(exc), sheet=sheet.title, row=row.number, column=labels["value"], fld=setting.field)
                continue
            if value is None:
                continue
            expect = expect or setting.expect
            _put(data, setting.field, value)
        return expect

    def exceptions(self, sheet: _Sheet | None) -> list[dict]:
        """C3: the competent level's 25% decisions, one per row."""
        if sheet is None:
            return []
        head = self.header(sheet, EXCEPTION_COLUMNS, ("scope", "percent", "reason", "author"))
        if head is None:
            return []
        start, mapping = head
        labels = {col.field: column_label(c, col.header) for c, col in mapping.items()}
        out = []
        for row in self.rows(sheet, start, mapping):
            missing = [f for f in ("scope", "percent", "reason", "author") if f not in row.cells and f not in row.bad]
            for f in missing:
                self.error("thiếu giá trị", sheet=sheet.title, row=row.number, column=labels.get(f), fld=f)
            if missing or row.bad:
                continue
            out.append({k: row.cells[k] for k in ("scope", "percent", "reason", "author")})
        return out

    def expectations(self, sheet: _Sheet | None) -> dict[str, str]:
        if sheet is None:
            return {}
        head = self.header(sheet, EXPECT_COLUMNS, ("id", "level"))
        if head is None:
            return {}
        start, mapping = head
        labels = {col.field: column_label(c, col.header) for c, col in mapping.items()}
        out: dict[str, str] = {}
        where: dict[str, int] = {}
        for row in self.rows(sheet, start, mapping):
            sid, level = row.cells.get("id"), row.cells.get("level")
            if sid is None:
                if "id" not in row.bad:
                    self.error("thiếu mã", sheet=sheet.title, row=row.number, column=labels.get("id"), fld="id")
                continue
            if sid in where:
                self.error(f"mã «{sid}» ghi hai lần (đã có ở dòng {where[sid]})", sheet=sheet.title,
                           row=row.number, column=labels.get("id"), fld="id")
                continue
            where[sid] = row.number
            if level is None:
                if "level" not in row.bad:
                    self.error("thiếu mức mong đợi", sheet=sheet.title, row=row.number, column=labels.get("level"),
                               fld="level")
                continue
            out[sid] = level
        return out


def _spans(numbers: list[int], limit: int = 12) -> str:
    """Sorted row numbers as ranges: "5, 7–9, 12" (cut after ``limit`` ranges)."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    text = ", ".join(f"{a}–{b}" if b > a else str(a) for a, b in spans[:limit])
    return text + (f" và {len(spans) - limit} đoạn khác" if len(spans) > limit else "")


def _setting_value(setting: Setting, raw: Any) -> Any:
    """The case value of a settings cell (its text was already read); None leaves the default."""
    t = setting.type
    if t == "profile" or (t == "enum" and setting.labels):
        text = _text(raw)
        for choice, label in zip(setting.choices, setting.labels, strict=True):
            if loose_key(text) in (loose_key(choice), loose_key(label)):
                return choice
        allowed = "; ".join(f"«{label}»" for label in setting.labels)
        raise _Bad(f"giá trị không hợp lệ {_shown(raw)}; chọn một trong: {allowed}")
    if t in ("name", "text"):
        text = _text(raw)
        if len(text) > 10_000:
            raise _Bad(f"quá dài ({len(text)} ký tự)")
        return text
    if t in ("int", "count"):
        n = _integer(raw)
        return _ranged(n, setting.minimum if setting.minimum is not None else (0 if t == "count" else None),
                       setting.maximum)
    if t == "bool":
        return read_bool(raw)
    if t == "enum":
        for choice in setting.choices:
            if loose_key(choice) == loose_key(_text(raw)):
                return choice
        raise _Bad(f"giá trị không hợp lệ {_shown(raw)}; cho phép: {', '.join(setting.choices)}")
    raise _Bad(f"kiểu mục không rõ: {t}")  # pragma: no cover


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for p in parts[:-1]:
        data = data.setdefault(p, {})
    data[parts[-1]] = value


_TARGET_FAMILY = {"votes", "voters", "proposed", "target"}


def _family(fld: str | None) -> str:
    if not fld:
        return ""
    top = fld.split(".")[0]
    if top in _TARGET_FAMILY:
        return "target"
    if top == "facts":
        return ".".join(fld.split(".")[:2])
    return top


def read_workbook_with_origins(path: str | Path, file: str | None = None) -> tuple[dict[str, Any], Origins]:
    """The raw case data of a workbook and where each part came from; ``CaseInvalid`` lists every problem.

    When a cell is wrong, the rest of the workbook is still validated (with that cell left out), so
    that one import lists every error: duplicated ids, unknown references and the like included.
    """
    p = Path(path)
    file = str(path) if file is None else file
    reader = _Reader(file)
    sheets = _open(p, file)
    found = reader.match_sheets(sheets)
    subjects, subject_origins, bad_rows = reader.subjects(found)
    kinds = {s["id"]: s["kind"] for s in subjects}
    groups, group_origins = reader.groups(found.get(SHEET_GROUPS), kinds)
    by_id = {g["id"]: g for g in groups}
    origin_of = {s["id"]: o for s, o in zip(subjects, subject_origins)}
    for gid, members in reader.column_groups.items():  # the «Nhóm tỷ lệ (mã)» column adds to the sheet's groups
        if gid in by_id:
            by_id[gid]["members"] = [*by_id[gid]["members"], *members]
        else:
            by_id[gid] = {"id": gid, "name": gid, "members": list(members)}
            groups.append(by_id[gid])
            group_origins.append(origin_of[members[0]])  # errors of the group point at its first member's row
    exceptions = reader.exceptions(found.get(SHEET_EXCEPTIONS))
    data: dict[str, Any] = {}
    origins = Origins(subject_origins, group_origins)
    has_expect = reader.settings(found.get(SHEET_SETTINGS), data, origins.settings)
    expected_levels = reader.expectations(found.get(SHEET_EXPECT))
    for origin, s in zip(subject_origins, subjects):
        origins.by_id.setdefault(s["id"], origin)

    from model.loader import BAD_CHARS

    # the file's own name stands in for a case name not written; a control character in it is no cell's fault
    case: dict[str, Any] = {"name": data.get("name") or (clean_text(BAD_CHARS.sub("", p.stem)) or "Hồ sơ")}
    if "profile" in data:
        case["profile"] = data["profile"]
    if "year" in data:
        case["year"] = data["year"]
    if data.get("rules"):
        case["rules"] = data["rules"]
    if "description" in data:
        case["description"] = data["description"]
    if data.get("options"):
        case["options"] = data["options"]
    case["subjects"] = subjects
    if groups:
        case["groups"] = groups
    if exceptions:
        case["exceptions"] = exceptions
    expect = data.get("expect", {})
    objective = expect.get("objective")
    if objective is not None and len(objective) == 1:
        missing = "expect.objective.steps" if "changed" in objective else "expect.objective.changed"
        label = next(s.label for s in settings() if s.field == missing)
        present = next(iter(objective))
        where = origins.settings.get(f"expect.objective.{present}")
        reader.error(f"ghi mục này thì phải ghi cả mục «{label}»", sheet=SHEET_SETTINGS,
                     row=where.row if where else None, fld=f"expect.objective.{present}")
        expect.pop("objective")
    if has_expect or expected_levels:
        case["expect"] = {**expect, "levels": expected_levels}

    if any(not p.warning for p in reader.problems):
        problems = list(reader.problems)
        if reader.structure_ok:
            problems.extend(_follow_up(case, file, origins, bad_rows, reader.duplicate_ids))
        raise CaseInvalid(sort_problems(problems))
    origins.warnings = list(reader.problems)
    return case, origins


def _column_index(column: str | None) -> int:
    from openpyxl.utils import column_index_from_string

    m = re.match(r"([A-Z]{1,3})\b", column or "")
    return column_index_from_string(m.group(1)) if m else 0


def sort_problems(problems: list[InputProblem]) -> list[InputProblem]:
    """Problems in reading order: the file itself, then sheet by sheet (template order), row, column."""
    order = {loose_key(name): i for i, name in enumerate(SHEET_ORDER)}

    def key(p: InputProblem) -> tuple:
        if p.sheet is None:
            return (0, 0, 0, 0)
        return (1, order.get(loose_key(p.sheet), -1), p.row or 0, _column_index(p.column))

    return sorted(problems, key=key)


def _follow_up(case: dict[str, Any], file: str, origins: Origins, bad_rows: dict[int, set[str]],
               duplicate_ids: set[str] = frozenset()) -> list[InputProblem]:  # type: ignore[assignment]
    """Validation problems of the readable rest of a workbook, minus those caused by a cell already reported
    (a duplicated id included: the reader names both its places)."""
    from model.loader import parse_case  # the loader imports this module lazily

    try:
        parse_case(case, file)
    except CaseInvalid as exc:
        found = exc.problems + exc.warnings
    else:
        return []
    kept = []
    for p in found:
        if p.field == "id" and p.subject in duplicate_ids:
            continue
        if p.sheet == "subjects" and p.row is not None and (p.row - 1) in bad_rows:
            families = {_family(f) for f in bad_rows[p.row - 1]}
            if _family(p.field) in families or p.field is None:
                continue
        kept.append(p)
    return relocate(kept, origins)


def read_workbook(path: str | Path) -> dict[str, Any]:
    """The raw case data of a workbook (the JSON case format), for ``model.loader.parse_case``."""
    return read_workbook_with_origins(path)[0]


def validate_workbook_data(data: dict[str, Any], origins: Origins, file: str):
    """``parse_case`` of a workbook's data, its problems and warnings moved to their sheet, row and column."""
    from model.loader import parse_case

    try:
        loaded = parse_case(data, file)
    except CaseInvalid as exc:
        raise CaseInvalid(sort_problems(origins.warnings + relocate(exc.problems + exc.warnings, origins))) from None
    loaded.warnings = sort_problems(origins.warnings + relocate(loaded.warnings, origins))
    return loaded


def load_workbook_case(path: str | Path, file: str | None = None):
    """Read and validate a workbook: a ``LoadedCase`` whose problems and warnings point into the workbook."""
    file = str(path) if file is None else file
    data, origins = read_workbook_with_origins(path, file)
    return validate_workbook_data(data, origins, file)


__all__ = [
    "Column", "EXPECT_COLUMNS", "GROUP_COLUMNS", "IGNORED_HEADERS", "KIND_SHEETS", "Origin", "Origins",
    "REQUIRED_SHEETS", "SETTING_COLUMNS", "SHEET_EXPECT", "SHEET_GROUPS", "SHEET_GUIDE", "SHEET_ORDER",
    "SHEET_SETTINGS", "SUBJECT_COLUMNS", "Setting", "TIER_SPELLINGS", "YES", "NO", "clean_text", "column_label",
    "load_workbook_case", "loose_key", "read_bool", "read_level", "read_workbook", "read_workbook_with_origins",
    "relocate", "settings", "sort_problems", "validate_workbook_data",
]
