"""Deterministic generator of realistic rating cases of any size and depth, and the real-shaped scenarios.

Everything is drawn from ``random.Random(seed)``: the same arguments give byte-identical JSON. A case is
built in two passes. The first builds a tree of party organizations (upper-level đảng bộ → grassroots
TCCSĐ → branch chi bộ, any depth) with their member counts, same-level units (chính quyền, MTTQ, đoàn
thể), the agencies they sit in, and the names and quota categories of their collectives and leaders.
The second walks the tree top-down and draws levels: each subject's intended level depends on the level
of the organization above it (an XS chi bộ has no HT member, a K member sits in an HT chi bộ …), with a
little noise so that some votes break a rule, and facts at realistic rates (civil-servant ratings,
discipline, sick leave, new members not rated, committee members). Each intended level becomes a ballot
tally whose V1 voted level is exactly that level (RULES.md §1), with 5–40 voters, so the members' voted
levels follow the published distribution (about 15–20% XS, 70–75% T, 8–10% HT, ≤ 1% K) and ties in
support are common inside one meeting but not universal.

Person names are synthetic (a family name, a middle name and a given name drawn from lists); place and
organization names in the scenarios are the real ones the guides use. Pure Python: no ortools.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

K, HT, T, XS = 0, 1, 2, 3
CODES = ("K", "HT", "T", "XS")

# ---------------------------------------------------------------------------------------------
# Distributions (weights for K, HT, T, XS)
# ---------------------------------------------------------------------------------------------

#: Level of the top organization of a case (rated by the committee above it).
TOP_LEVEL = (0.0, 0.04, 0.74, 0.22)
#: Level of an organization given the level of the organization above it.
ORG_GIVEN_PARENT = {
    XS: (0.0, 0.0, 0.67, 0.33),
    T: (0.0, 0.075, 0.70, 0.225),
    HT: (0.06, 0.22, 0.62, 0.10),
    K: (0.25, 0.25, 0.45, 0.05),
}
#: Level of a party member given the level of his chi bộ: about 17.5% XS, 72% T, 9.5% HT, 0.9% K overall.
MEMBER_GIVEN_ORG = {
    XS: (0.0, 0.0, 0.75, 0.25),
    T: (0.0, 0.11, 0.72, 0.17),
    HT: (0.06, 0.20, 0.64, 0.10),
    K: (0.25, 0.25, 0.45, 0.05),
}
MEMBER_BASE = (0.009, 0.095, 0.72, 0.176)
#: Level of a same-level unit or agency given the level of the party organization.
UNIT_GIVEN_ORG = {
    XS: (0.0, 0.0, 0.70, 0.30),
    T: (0.0, 0.05, 0.80, 0.15),
    HT: (0.04, 0.25, 0.61, 0.10),
    K: (0.20, 0.40, 0.40, 0.0),
}

#: Per-subject probability that a level is drawn from the unconditional distribution instead.
NOISE = 0.008
#: A collective keeps the level of the organization or unit it leads with this probability, else one lower.
COLLECTIVE_SAME = 0.80
#: A head keeps the level of his collective with this probability, else one lower.
HEAD_SAME = 0.86
#: Probability that a collective or head is voted one level above what S1/S2 allow.
ABOVE_NOISE = 0.015


@dataclass(frozen=True)
class Rates:
    """Rates of the facts on party members (per member unless stated)."""

    new_member: float = 0.01          # admitted less than 6 months ago: listed, not rated
    disciplined_if_k: float = 0.45    # share of K-voted members disciplined in the year
    disciplined_if_ht: float = 0.01   # share of HT-voted members disciplined (E2 then forces K)
    disciplined_noise: float = 0.0006 # any member: disciplined although voted higher (E2 forces K)
    self_remedied: float = 0.90       # of the disciplined: the chi bộ found and dealt with it itself
    degeneration_if_k: float = 0.03
    sick_if_ht: float = 0.05          # share of HT-voted members on sick leave ≥ 3 months
    sick_noise: float = 0.0008        # any member: ≥ 3 months of sick leave although voted T or XS (E5)
    short_sick: float = 0.003         # 1–2 months of sick leave: no cap
    maternity: float = 0.006          # of the women
    civil_lower: float = 0.03         # civil-servant rating one level below the vote (E1 binds)
    civil_higher: float = 0.10
    women: float = 0.34


RATES = Rates()

# ---------------------------------------------------------------------------------------------
# Names (synthetic persons)
# ---------------------------------------------------------------------------------------------

FAMILY = (
    ("Nguyễn", 380), ("Trần", 110), ("Lê", 95), ("Phạm", 70), ("Hoàng", 30), ("Huỳnh", 20), ("Phan", 45),
    ("Vũ", 20), ("Võ", 19), ("Đặng", 21), ("Bùi", 20), ("Đỗ", 14), ("Hồ", 13), ("Ngô", 13), ("Dương", 10),
    ("Lý", 5), ("Đinh", 8), ("Đào", 6), ("Mai", 5), ("Trương", 6), ("Lương", 4), ("Lâm", 4), ("Cao", 4),
    ("Tạ", 3), ("Hà", 4), ("Chu", 2), ("Kiều", 2), ("Thái", 3), ("Châu", 2), ("Trịnh", 4), ("Tôn", 1),
    ("Văn", 2), ("Quách", 1), ("Lưu", 3), ("Nông", 2), ("Y", 0),
)
MIDDLE_MALE = ("Văn", "Văn", "Văn", "Văn", "Đức", "Minh", "Quốc", "Hữu", "Công", "Thanh", "Xuân", "Ngọc",
               "Trọng", "Đình", "Quang", "Anh", "Tiến", "Việt", "Duy", "Bá", "Hồng", "Mạnh", "Thế", "Trung")
MIDDLE_FEMALE = ("Thị", "Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Hồng", "Kim", "Bích", "Mỹ",
                 "Thùy", "Minh", "Phương", "Diệu", "Hải", "Quỳnh")
GIVEN_MALE = ("An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hùng", "Huy", "Khánh", "Long", "Minh",
              "Nam", "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thành", "Thắng", "Toàn", "Trung", "Tuấn",
              "Việt", "Vinh", "Hoàng", "Lâm", "Nghĩa", "Tâm", "Thịnh", "Hưng", "Lộc", "Kiên", "Tùng",
              "Đông", "Hòa", "Khoa", "Luân", "Nhân", "Quang", "Sang", "Thái", "Thuận", "Trí", "Vũ", "Bảo",
              "Chiến", "Định", "Giang", "Hậu", "Kha", "Linh", "Mạnh", "Ninh", "Phát", "Quý", "Tân", "Thông")
GIVEN_FEMALE = ("Lan", "Hương", "Hoa", "Mai", "Hà", "Linh", "Trang", "Thảo", "Nga", "Hằng", "Hạnh", "Nhung",
                "Phương", "Thủy", "Yến", "Loan", "Liên", "Oanh", "Dung", "Huyền", "Trinh", "Vân", "Xuân",
                "Hiền", "Tâm", "Nhàn", "Thúy", "Ngân", "Giang", "Ly", "Anh", "Châu", "Diệp", "Hồng", "Khánh",
                "Lệ", "My", "Nguyệt", "Quyên", "Sương", "Tuyết", "Uyên", "Vy", "Yên", "Bích", "Cúc", "Đào")

#: Syllables of synthetic place names for generated cases (scenarios use real place names).
PLACE_A = ("An", "Bình", "Phú", "Tân", "Hòa", "Thạnh", "Long", "Phước", "Hưng", "Thuận", "Đông", "Tây",
           "Nam", "Bắc", "Trung", "Xuân", "Thịnh", "Mỹ", "Quang", "Vĩnh", "Đức", "Hiệp", "Thành", "Lộc",
           "Nghĩa", "Minh", "Thới", "Phong", "Hội", "Cẩm", "Kim", "Ngọc", "Thống", "Hải", "Sơn", "Lạc")
PLACE_B = ("An", "Bình", "Hòa", "Lợi", "Phú", "Thịnh", "Hưng", "Thuận", "Phước", "Lộc", "Tiến", "Thành",
           "Xuân", "Trung", "Sơn", "Hải", "Đông", "Tây", "Nam", "Bắc", "Mỹ", "Long", "Quang", "Khánh",
           "Lập", "Nhất", "Điền", "Hiệp", "Định", "Tân", "Yên", "Phong", "Thạnh", "Vinh", "Hà", "Lạc")


def _cumulative(weights: tuple[float, ...]) -> tuple[float, ...]:
    total = sum(weights)
    acc, out = 0.0, []
    for w in weights:
        acc += w / total
        out.append(acc)
    out[-1] = 1.0
    return tuple(out)


_FAMILY_NAMES = tuple(n for n, w in FAMILY if w > 0)
_FAMILY_CUM = _cumulative(tuple(w for _, w in FAMILY if w > 0))
_ORG_CUM = {k: _cumulative(v) for k, v in ORG_GIVEN_PARENT.items()}
_MEMBER_CUM = {k: _cumulative(v) for k, v in MEMBER_GIVEN_ORG.items()}
_UNIT_CUM = {k: _cumulative(v) for k, v in UNIT_GIVEN_ORG.items()}
_MEMBER_BASE_CUM = _cumulative(MEMBER_BASE)
_TOP_CUM = _cumulative(TOP_LEVEL)


def _pick(rng: random.Random, cum: tuple[float, ...]) -> int:
    r = rng.random()
    for i, c in enumerate(cum):
        if r < c:
            return i
    return len(cum) - 1


def person_name(rng: random.Random, female: bool) -> str:
    """A synthetic Vietnamese full name: family, middle and given name drawn independently."""
    fam = _FAMILY_NAMES[_pick(rng, _FAMILY_CUM)]
    if female:
        return f"{fam} {rng.choice(MIDDLE_FEMALE)} {rng.choice(GIVEN_FEMALE)}"
    return f"{fam} {rng.choice(MIDDLE_MALE)} {rng.choice(GIVEN_MALE)}"


# ---------------------------------------------------------------------------------------------
# Ballots
# ---------------------------------------------------------------------------------------------

def tally(rng: random.Random, level: int, n: int) -> dict[str, int]:
    """A tally of ``n`` ballots whose V1 voted level is exactly ``level`` (zero counts left out)."""
    half = n // 2
    maj = half + 1  # a strict majority of n
    x = t = tb = k = 0
    if level == XS:
        x = n if rng.random() < 0.35 else rng.randint(maj, n)
        rest = n - x
        if rest and rng.random() < 0.2:
            tb = rng.randint(1, max(1, min(rest, n // 8)))
        t = rest - tb
    elif level == T:
        r = rng.random()
        x = 0 if r < 0.4 else (rng.randint(0, max(0, half // 2)) if r < 0.85 else rng.randint(0, half))
        room = n - maj  # ballots below T that still leave T a majority
        below = 0 if (room <= 0 or rng.random() < 0.7) else rng.randint(1, max(1, min(room, n // 6)))
        k = 1 if below >= 2 and rng.random() < 0.2 else 0
        tb = below - k
        t = n - x - below
    elif level == HT:
        good = rng.randint(0, half)  # XS + T: not a majority
        x = rng.randint(0, good // 3)
        t = good - x
        room = n - maj
        k = 0 if (room <= 0 or rng.random() < 0.75) else rng.randint(1, max(1, min(room, n // 8)))
        tb = n - good - k
    else:
        upper = rng.randint(0, half)  # XS + T + TB: not a majority
        tb = rng.randint(0, upper)
        t = upper - tb
        k = n - upper
    out = {}
    for key, v in (("XS", x), ("T", t), ("TB", tb), ("K", k)):
        if v:
            out[key] = v
    return out


# ---------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    """How deep a generated case is: its depth counts the party-organization levels from the top to the
    chi bộ that holds members (province → district → grassroots → chi bộ = 4)."""

    upper_levels: int = 2      # cấp trên cơ sở levels (tỉnh, huyện, …); 0: the top is a grassroots org
    branch_levels: int = 1     # levels below a grassroots đảng bộ (2: đảng bộ bộ phận → chi bộ)
    district_members: tuple[int, int, int] = (2_500, 16_000, 6_000)  # triangular (low, high, mode)
    regions_per_parent: tuple[int, int] = (2, 5)  # fan-out of the upper levels above the districts

    def __post_init__(self) -> None:
        if self.upper_levels < 0 or self.branch_levels < 0:
            raise ValueError("số cấp phải không âm")

    @property
    def depth(self) -> int:
        return self.upper_levels + 1 + self.branch_levels


SHAPES: dict[str, Shape] = {
    "province": Shape(2, 1),   # tỉnh → huyện → TCCSĐ → chi bộ
    "district": Shape(1, 1),   # huyện → TCCSĐ → chi bộ
    "commune": Shape(0, 1),    # đảng bộ xã (TCCSĐ) → chi bộ
}


def shape_for_depth(depth: int) -> Shape:
    """A shape of exactly ``depth`` party-organization levels (1 = one chi bộ cơ sở with its members)."""
    if depth < 1:
        raise ValueError("độ sâu phải từ 1 trở lên")
    if depth == 1:
        return Shape(0, 0)
    if depth == 2:
        return Shape(0, 1)
    if depth == 3:
        return Shape(1, 1)
    return Shape(2 + (depth - 4) // 2, 1 + (depth - 3) // 2)


# ---------------------------------------------------------------------------------------------
# Pass 1: the tree
# ---------------------------------------------------------------------------------------------

@dataclass
class UnitSpec:
    """A unit (input level) with, optionally, the collective leading it and that collective's head."""

    name: str
    collective: tuple[str, str] | None = None   # (name, category)
    head: tuple[str, str] | None = None         # (title, category)
    same_level: bool = True                     # one of the org's "chính quyền, MTTQ, đoàn thể cùng cấp"
    category: str = "chinh_quyen"               # S3: chinh_quyen | mat_tran | doan_the


@dataclass
class Node:
    """A party organization of the tree, before levels are drawn."""

    name: str
    tier: str
    members: int = 0
    children: list[Node] = field(default_factory=list)
    units: list[UnitSpec] = field(default_factory=list)
    collective: tuple[str, str] | None = None   # (name, category) of its cấp ủy
    leader: tuple[str, str] | None = None       # (title, category) of its secretary
    civil_share: float = 0.3
    committee: tuple[int, int] = (9, 15)        # size range of its cấp ủy (the voters on its sub-orgs)
    key: str | None = None                      # fixed id (the interplay pattern)
    fixed: dict[str, Any] = field(default_factory=dict)
    block: str | None = None                    # explicit quota group of this org (scenarios)
    rated: bool = True


def _chunks(rng: random.Random, total: int, lo: int, hi: int) -> list[int]:
    """Split ``total`` into parts drawn in [lo, hi]; the remainder is merged so that no part is tiny."""
    if total <= hi:
        return [total]
    parts: list[int] = []
    left = total
    while left > 0:
        p = rng.randint(lo, hi)
        if left - p < lo:  # never leave a tiny remainder
            p = left if left <= hi else min(hi, left - lo)
        parts.append(p)
        left -= p
    return parts


class _Names:
    """Unique synthetic place names."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def place(self) -> str:
        for _ in range(50):
            name = f"{self.rng.choice(PLACE_A)} {self.rng.choice(PLACE_B)}"
            if name not in self.used and name.split()[0] != name.split()[1]:
                self.used.add(name)
                return name
        n = len(self.used) + 1
        name = f"{self.rng.choice(PLACE_A)} {self.rng.choice(PLACE_B)} {n}"
        self.used.add(name)
        return name


# Branch (chi bộ) names by the kind of grassroots organization.
AGENCY_BRANCHES = {
    "chinh_quyen": ("Văn phòng HĐND và UBND", "Phòng Nội vụ", "Phòng Tài chính - Kế hoạch", "Phòng Tư pháp",
                    "Phòng Giáo dục và Đào tạo", "Phòng Y tế", "Phòng Tài nguyên và Môi trường", "Phòng Kinh tế",
                    "Phòng Quản lý đô thị", "Phòng Văn hóa và Thông tin", "Phòng Lao động - Thương binh và Xã hội",
                    "Thanh tra", "Phòng Dân tộc", "Ban Quản lý dự án đầu tư xây dựng"),
    "dang_doan_the": ("Văn phòng cấp ủy", "Ban Tổ chức", "Ban Tuyên giáo", "Ủy ban Kiểm tra", "Ban Dân vận",
                      "Ủy ban MTTQ Việt Nam", "Đoàn Thanh niên", "Hội Liên hiệp Phụ nữ", "Hội Nông dân",
                      "Hội Cựu chiến binh", "Liên đoàn Lao động"),
    "cong_an": ("Đội Tham mưu", "Đội Cảnh sát hình sự", "Đội Cảnh sát giao thông - Trật tự", "Đội An ninh",
                "Đội Cảnh sát điều tra tội phạm về kinh tế", "Đội Cảnh sát điều tra tội phạm về ma túy",
                "Đội Cảnh sát quản lý hành chính về trật tự xã hội", "Nhà tạm giữ",
                "Đội Cảnh sát thi hành án hình sự và hỗ trợ tư pháp", "Đội Cảnh sát phòng cháy chữa cháy"),
    "quan_su": ("Cơ quan Quân sự", "Tham mưu", "Chính trị - Hậu cần", "Trung đội Dân quân cơ động",
                "Kho vũ khí"),
    "truong": ("Tổ Toán - Tin", "Tổ Ngữ văn", "Tổ Khoa học tự nhiên", "Tổ Khoa học xã hội", "Tổ Ngoại ngữ",
               "Hành chính - Văn phòng"),
    "y_te": ("Khoa Nội", "Khoa Ngoại", "Khoa Sản", "Khoa Nhi", "Khoa Cận lâm sàng", "Khoa Khám bệnh",
             "Hành chính - Tổ chức"),
    "doanh_nghiep": ("Văn phòng công ty", "Xí nghiệp 1", "Xí nghiệp 2", "Xí nghiệp 3", "Đội sản xuất",
                     "Phòng Kỹ thuật", "Phòng Kinh doanh"),
    "thue": ("Văn phòng", "Đội Kiểm tra thuế", "Đội Quản lý thuế", "Đội Tuyên truyền - Hỗ trợ người nộp thuế",
             "Đội Quản lý nợ và Cưỡng chế nợ thuế"),
}


@dataclass(frozen=True)
class GrassrootsType:
    """A kind of grassroots organization: its size, its branches, its units and its agency."""

    key: str
    weight: float
    size: tuple[int, int, int]          # triangular (low, high, mode) of members
    branch: tuple[int, int]             # chi bộ size range
    dang_bo_from: int                   # from this many members it is a đảng bộ with chi bộ
    civil_share: float
    territorial: str | None = None      # "xa" | "phuong" | "thi_tran": same-level units
    agency: tuple[str, str, str] | None = None  # (agency name pattern, collective prefix, head title)
    singleton: bool = False             # at most one per district
    title: str | None = None            # name pattern of a cơ quan without an agency unit of its own


GENERIC_TYPES: tuple[GrassrootsType, ...] = (
    GrassrootsType("xa", 30, (120, 700, 300), (12, 60), 30, 0.35, territorial="xa"),
    GrassrootsType("phuong", 14, (150, 900, 420), (15, 70), 30, 0.40, territorial="phuong"),
    GrassrootsType("thi_tran", 3, (150, 600, 320), (15, 60), 30, 0.40, territorial="thi_tran"),
    GrassrootsType("truong", 9, (10, 70, 28), (9, 22), 50, 1.0,
                   agency=("Trường THPT {p}", "Ban Giám hiệu", "Hiệu trưởng")),
    GrassrootsType("doanh_nghiep", 6, (9, 220, 35), (9, 35), 60, 0.10,
                   agency=("Công ty Cổ phần {p}", "Ban Giám đốc", "Giám đốc")),
    GrassrootsType("chinh_quyen", 2, (80, 300, 160), (8, 25), 30, 0.95, singleton=True,
                   title="Cơ quan Chính quyền {d}"),  # led by the UBND already listed at the district
    GrassrootsType("dang_doan_the", 2, (40, 120, 70), (8, 20), 30, 0.95, singleton=True,
                   title="Cơ quan Đảng - Đoàn thể {d}"),
    GrassrootsType("cong_an", 2, (80, 600, 220), (10, 40), 30, 0.90, singleton=True,
                   agency=("Công an {d}", "Ban Chỉ huy", "Trưởng Công an")),
    GrassrootsType("quan_su", 2, (30, 200, 70), (8, 25), 30, 0.90, singleton=True,
                   agency=("Ban Chỉ huy quân sự {d}", "Ban Chỉ huy", "Chỉ huy trưởng")),
    GrassrootsType("y_te", 2, (30, 200, 80), (9, 25), 40, 0.95, singleton=True,
                   agency=("Trung tâm Y tế {d}", "Ban Giám đốc", "Giám đốc")),
    GrassrootsType("thue", 1.5, (15, 90, 35), (8, 20), 40, 1.0, singleton=True,
                   agency=("Chi cục Thuế {d}", "Tập thể lãnh đạo", "Chi cục trưởng")),
    GrassrootsType("kho_bac", 1, (9, 30, 15), (9, 30), 99, 1.0, singleton=True,
                   agency=("Kho bạc Nhà nước {d}", "Tập thể lãnh đạo", "Giám đốc")),
    GrassrootsType("bhxh", 1, (9, 35, 18), (9, 35), 99, 1.0, singleton=True,
                   agency=("Bảo hiểm xã hội {d}", "Tập thể lãnh đạo", "Giám đốc")),
    GrassrootsType("vks", 1, (9, 25, 14), (9, 25), 99, 1.0, singleton=True,
                   agency=("Viện Kiểm sát nhân dân {d}", "Tập thể lãnh đạo", "Viện trưởng")),
    GrassrootsType("toa_an", 1, (9, 25, 14), (9, 25), 99, 1.0, singleton=True,
                   agency=("Tòa án nhân dân {d}", "Tập thể lãnh đạo", "Chánh án")),
    GrassrootsType("tha", 1, (9, 22, 12), (9, 22), 99, 1.0, singleton=True,
                   agency=("Chi cục Thi hành án dân sự {d}", "Tập thể lãnh đạo", "Chi cục trưởng")),
)
_TYPE_BY_KEY = {t.key: t for t in GENERIC_TYPES}

UNIT_SETS = {
    "xa": ("HĐND", "UBND", "MTTQ", "ĐTN", "PN", "ND", "CCB"),
    "phuong": ("HĐND", "UBND", "MTTQ", "ĐTN", "PN", "CCB"),
    "thi_tran": ("HĐND", "UBND", "MTTQ", "ĐTN", "PN", "ND", "CCB"),
    "huyen": ("HĐND", "UBND", "MTTQ", "ĐTN", "PN", "ND", "CCB"),
    "xa_2025": ("HĐND", "UBND", "MTTQ"),
}
UNIT_NAMES = {
    "HĐND": "Hội đồng nhân dân", "UBND": "Ủy ban nhân dân", "MTTQ": "Ủy ban MTTQ Việt Nam",
    "ĐTN": "Đoàn Thanh niên Cộng sản Hồ Chí Minh", "PN": "Hội Liên hiệp Phụ nữ", "ND": "Hội Nông dân",
    "CCB": "Hội Cựu chiến binh",
}
#: The S3 type of each same-level unit: the government, the Fatherland Front, or a mass organization.
UNIT_TYPES = {"HĐND": "chinh_quyen", "UBND": "chinh_quyen", "MTTQ": "mat_tran"}
#: The collective leading a unit and its head: (collective prefix, head title, category stem).
UNIT_LEADERSHIP = {
    "HĐND": ("Thường trực Hội đồng nhân dân", "Chủ tịch Hội đồng nhân dân", "Thường trực HĐND"),
    "UBND": ("Thường trực Ủy ban nhân dân", "Chủ tịch Ủy ban nhân dân", "Thường trực UBND"),
    "MTTQ": ("Ban Thường trực Ủy ban MTTQ Việt Nam", "Chủ tịch Ủy ban MTTQ Việt Nam", "Ban Thường trực UBMTTQ"),
}
LEVEL_WORDS = {"xa": "xã", "phuong": "phường", "thi_tran": "thị trấn", "huyen": "huyện", "xa_2025": "xã"}


def territorial_units(kind: str, place: str, scope: str, *, leadership: tuple[str, ...] = ("HĐND", "UBND", "MTTQ"),
                      ) -> list[UnitSpec]:
    """The chính quyền, MTTQ and đoàn thể of a commune, ward or district, with their leading collectives.

    ``place`` is e.g. "phường Tân Lợi"; ``scope`` ends the quota categories, e.g. "xã, phường — Thành
    ủy Buôn Ma Thuột quyết định" (collectives of one type under one deciding committee).
    """
    out = []
    for code in UNIT_SETS[kind]:
        spec = UnitSpec(f"{UNIT_NAMES[code]} {place}", category=UNIT_TYPES.get(code, "doan_the"))
        if code in UNIT_LEADERSHIP and code in leadership:
            coll, head, stem = UNIT_LEADERSHIP[code]
            spec.collective = (f"{coll} {place}", f"{stem} {scope}")
            spec.head = (f"{head} {place}", f"{head} {scope}")
        out.append(spec)
    return out


def _branch_names(kind: str, count: int, territorial: str | None) -> list[str]:
    if territorial is not None:
        fixed = ["Chi bộ Cơ quan", "Chi bộ Quân sự"] + ([] if territorial == "phuong" else ["Chi bộ Trường học"])
        residential = "Chi bộ Tổ dân phố" if territorial in ("phuong", "thi_tran") else "Chi bộ Thôn"
        return _numbered(fixed, residential, count)
    base = AGENCY_BRANCHES.get(kind, AGENCY_BRANCHES["doanh_nghiep"])
    out = []
    for i in range(count):
        stem = base[i % len(base)]
        out.append(f"Chi bộ {stem}" + (f" {i // len(base) + 1}" if i >= len(base) else ""))
    return out


def _nest_branches(rng: random.Random, node: Node, levels: int) -> None:
    """Put ``levels - 1`` levels of đảng bộ bộ phận between a grassroots đảng bộ and its chi bộ."""
    for depth in range(levels - 1):
        kids = node.children
        if len(kids) < 2:
            return
        groups: list[list[Node]] = []
        i = 0
        while i < len(kids):
            size = rng.randint(2, 5)
            groups.append(kids[i:i + size])
            i += size
        if len(groups) == 1 and depth == 0:
            groups = [kids[: len(kids) // 2], kids[len(kids) // 2:]]
        new = []
        for j, g in enumerate(groups, start=1):
            label = f"bộ phận {j}" if depth == 0 else f"bộ phận cấp {depth + 1} số {j}"
            short = _short(node.name)
            sub = Node(f"Đảng bộ {label}, {short}", "branch", children=g, civil_share=node.civil_share,
                       committee=(5, 9))
            sub.collective = (f"Đảng ủy {label}, {short}", f"Đảng ủy bộ phận trực thuộc {node.name}")
            sub.leader = (f"Bí thư Đảng ủy {label}, {short}", f"Bí thư đảng ủy bộ phận trực thuộc {node.name}")
            new.append(sub)
        for g, sub in zip(groups, new):
            for kid in g:  # the chi bộ now answer to the đảng bộ bộ phận
                _recategorize(kid, sub.name)
        node.children = new


def _recategorize(kid: Node, parent_name: str) -> None:
    """Point the quota categories of ``kid``'s collective and secretary at a new deciding committee."""
    for attr in ("collective", "leader"):
        spec = getattr(kid, attr)
        if spec is not None and " trực thuộc " in spec[1]:
            setattr(kid, attr, (spec[0], spec[1].rsplit(" trực thuộc ", 1)[0] + f" trực thuộc {parent_name}"))


def _as_chi_bo(node: Node) -> None:
    """Rename a would-be đảng bộ that holds its members directly into a chi bộ cơ sở."""
    if node.children or not node.name.startswith("Đảng bộ "):
        return
    node.name = "Chi bộ " + node.name[len("Đảng bộ "):]
    if node.collective is not None:
        node.collective = (f"Chi ủy {node.name}", node.collective[1])
    if node.leader is not None:
        node.leader = (f"Bí thư {node.name}", node.leader[1])


def branch_node(name: str, members: int, decider: str, civil_share: float) -> Node:
    """A chi bộ holding members; with 9 members or more it elects a chi ủy (collective + secretary)."""
    node = Node(name, "branch", members=members, civil_share=civil_share, committee=(3, 5))
    if members >= 9:
        node.collective = (f"Chi ủy {name}", f"Chi ủy chi bộ trực thuộc {decider}")
        node.leader = (f"Bí thư {name}", f"Bí thư chi bộ trực thuộc {decider}")
    return node


def _short(name: str) -> str:
    """An organization's name without its "Đảng bộ" / "Chi bộ" prefix, e.g. "xã Hòa Thuận"."""
    for prefix in ("Đảng bộ ", "Chi bộ "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def grassroots_node(rng: random.Random, *, name: str, cap_uy: str, members: int, branch: tuple[int, int],
                    civil_share: float, category: str, leader_category: str, kind: str,
                    territorial: str | None = None, branch_levels: int = 1, force_dang_bo: bool | None = None,
                    dang_bo_from: int = 30, fixed_branches: list[str] | None = None,
                    residential: str | None = None) -> Node:
    """A TCCSĐ: a đảng bộ with chi bộ (nested ``branch_levels`` deep) or a chi bộ cơ sở with members.

    Chi bộ are named from ``fixed_branches`` then ``residential 1, 2 …`` (or by ``kind``), each followed
    by the organization's short name ("Chi bộ Thôn 3, xã Hòa Thuận").
    """
    dang_bo = force_dang_bo if force_dang_bo is not None else (branch_levels > 0 and members >= dang_bo_from)
    if not dang_bo:
        node = Node(name, "grassroots", members=members, civil_share=civil_share, committee=(3, 5))
        if members >= 9:
            node.collective = (f"Chi ủy {name}", category)
            node.leader = (f"Bí thư {name}", leader_category)
        return node
    node = Node(name, "grassroots", civil_share=civil_share, committee=(9, 15))
    node.collective = (cap_uy, category)
    node.leader = (f"Bí thư {cap_uy}", leader_category)
    sizes = _chunks(rng, members, branch[0], branch[1])
    if len(sizes) == 1 and members >= 2 * branch[0]:
        sizes = [members // 2, members - members // 2]
    if residential is not None:
        names = _numbered(list(fixed_branches or ()), residential, len(sizes))
    elif fixed_branches:
        names = list(fixed_branches)
    else:
        names = _branch_names(kind, len(sizes), territorial)
    names += [f"Chi bộ số {i}" for i in range(len(names) + 1, len(sizes) + 1)]
    short = _short(name)
    for size, bname in zip(sizes, names):
        node.children.append(branch_node(f"{bname}, {short}", size, name, civil_share))
    if branch_levels > 1:
        _nest_branches(rng, node, branch_levels)
    return node


def _numbered(fixed: list[str], stem: str, count: int) -> list[str]:
    """Chi bộ names: the fixed institutional ones first (leaving room for one more), then ``stem 1, 2 …``."""
    names = fixed[: max(0, min(len(fixed), count - 1))]
    return names + [f"{stem} {i}" for i in range(1, count - len(names) + 1)]


def _triangular(rng: random.Random, spec: tuple[int, int, int]) -> int:
    lo, hi, mode = spec
    return int(round(rng.triangular(lo, hi, mode)))


def _generic_grassroots(rng: random.Random, names: _Names, gtype: GrassrootsType, size: int, district: str,
                        upper_name: str, shape: Shape) -> Node:
    if gtype.territorial is not None:
        place = f"{LEVEL_WORDS[gtype.territorial]} {names.place()}"
        name = f"Đảng bộ {place}"
        cap_uy = f"Đảng ủy {place}"
    elif gtype.agency is not None:
        agency = gtype.agency[0].format(p=names.place(), d=district)
        place = agency
        name = f"Đảng bộ {agency}"
        cap_uy = f"Đảng ủy {agency}"
    else:  # the cơ quan of the district's government or of its Party and mass organizations
        place = (gtype.title or "Cơ quan {d}").format(d=district)
        name = f"Đảng bộ {place}"
        cap_uy = f"Đảng ủy {place}"
    node = grassroots_node(
        rng, name=name, cap_uy=cap_uy, members=size, branch=gtype.branch, civil_share=gtype.civil_share,
        category=f"Cấp ủy cơ sở trực thuộc {upper_name}", leader_category=f"Bí thư cấp ủy cơ sở trực thuộc {upper_name}",
        kind=gtype.key, territorial=gtype.territorial, branch_levels=shape.branch_levels,
        dang_bo_from=gtype.dang_bo_from,
    )
    _as_chi_bo(node)
    if gtype.territorial is not None:
        node.units = territorial_units(gtype.territorial, place, f"cấp xã trực thuộc {upper_name}")
    elif gtype.agency is not None:
        _, coll, head = gtype.agency
        node.units = [UnitSpec(place, (f"{coll} {place}", f"Tập thể lãnh đạo cơ quan, đơn vị trực thuộc {upper_name}"),
                               (f"{head} {place}", f"Người đứng đầu cơ quan, đơn vị trực thuộc {upper_name}"),
                               same_level=False)]
    return node


def _district(rng: random.Random, names: _Names, budget: int, shape: Shape) -> Node:
    place = names.place()
    district = f"huyện {place}"
    name = f"Đảng bộ {district}"
    node = Node(name, "upper", civil_share=0.3, committee=(11, 17))
    node.collective = (f"Ban Thường vụ Huyện ủy {place}", "Ban Thường vụ huyện ủy")
    node.leader = (f"Bí thư Huyện ủy {place}", "Bí thư huyện ủy")
    node.units = territorial_units("huyen", district, "cấp huyện")
    left = budget
    seen: set[str] = set()
    keys = [t for t in GENERIC_TYPES]
    weights = [t.weight for t in keys]
    while left > 0:
        gtype = rng.choices(keys, weights)[0]
        if gtype.singleton and gtype.key in seen:
            gtype = _TYPE_BY_KEY[rng.choice(("xa", "xa", "phuong", "truong", "doanh_nghiep"))]
        seen.add(gtype.key)
        size = _triangular(rng, gtype.size)
        if size > left or left - size < 9:
            size = left
        node.children.append(_generic_grassroots(rng, names, gtype, size, district, name, shape))
        left -= size
    return node


def _tree(rng: random.Random, members: int, shape: Shape) -> Node:
    names = _Names(rng)
    if shape.upper_levels == 0:
        place = f"xã {names.place()}"
        top = grassroots_node(
            rng, name=f"Đảng bộ {place}", cap_uy=f"Đảng ủy {place}", members=members, branch=(12, 60),
            civil_share=0.35, category="Cấp ủy cơ sở", leader_category="Bí thư cấp ủy cơ sở", kind="xa",
            territorial="xa", branch_levels=shape.branch_levels, force_dang_bo=shape.branch_levels > 0,
        )
        _as_chi_bo(top)
        top.units = territorial_units("xa", place, "cấp xã")
        return top
    if shape.upper_levels == 1:
        return _district(rng, names, members, shape)
    # two or more upper levels: districts, grouped into regions, under one province
    province = names.place()
    top_name = f"Đảng bộ tỉnh {province}"
    districts: list[Node] = []
    left = members
    while left > 0:
        size = _triangular(rng, shape.district_members)
        if size > left or left - size < shape.district_members[0] // 2:
            size = left
        districts.append(_district(rng, names, size, shape))
        left -= size
    level_nodes = districts
    for depth in range(shape.upper_levels - 2):  # intermediate levels (khu vực)
        grouped: list[Node] = []
        i = 0
        while i < len(level_nodes) or not grouped:
            take = rng.randint(*shape.regions_per_parent)
            kids = level_nodes[i:i + take]
            i += take
            place = names.place()
            region = Node(f"Đảng bộ khu vực {place}", "upper", children=kids, committee=(11, 17))
            region.collective = (f"Ban Thường vụ Đảng ủy khu vực {place}", "Ban Thường vụ đảng ủy khu vực")
            region.leader = (f"Bí thư Đảng ủy khu vực {place}", "Bí thư đảng ủy khu vực")
            region.units = []
            grouped.append(region)
        level_nodes = grouped
    top = Node(top_name, "upper", children=level_nodes, committee=(13, 17))
    top.collective = (f"Ban Thường vụ Tỉnh ủy {province}", "Ban Thường vụ tỉnh ủy")
    top.leader = (f"Bí thư Tỉnh ủy {province}", "Bí thư tỉnh ủy")
    top.units = territorial_units("huyen", f"tỉnh {province}", "cấp tỉnh")
    _fix_upper_categories(top)
    return top


def _fix_upper_categories(node: Node) -> None:
    """Collectives and heads of upper organizations (and of their units) share a group per parent committee."""
    for kid in node.children:
        if kid.tier != "upper":
            continue
        specs = [kid] + [u for u in kid.units]
        for spec in specs:
            for attr in ("collective", "leader", "head"):
                value = getattr(spec, attr, None)
                if value is not None:
                    setattr(spec, attr, (value[0], f"{value[1]} trực thuộc {node.name}"))
        _fix_upper_categories(kid)


# ---------------------------------------------------------------------------------------------
# The interplay pattern (issue 9)
# ---------------------------------------------------------------------------------------------

INTERPLAY_IDS = ("IX", "IP", "IQ", "IR")


def interplay_node(decider_name: str, *, tier: str = "grassroots") -> Node:
    """Two chi bộ voted XS competing for one XS place among three: P (the weaker vote, 8/15) has an XS
    chi ủy and an XS secretary; Q (the stronger vote, 12/15) has a chi ủy already at T. Demoting P drags
    its chi ủy and secretary down (S1, S2: three changes), demoting Q costs one: the least change keeps P."""
    name = "Đảng bộ Công ty Cổ phần Cà phê Thắng Lợi"
    x = Node(name, tier, key="IX", civil_share=0.2, committee=(9, 11),
             fixed={"level": T, "votes": {"XS": 2, "T": 9}, "collective": (T, {"XS": 1, "T": 10}),
                    "leader": (T, {"XS": 1, "T": 10})})
    x.collective = (f"Đảng ủy {name}", f"Cấp ủy cơ sở trực thuộc {decider_name}" if tier == "grassroots"
                    else f"Đảng ủy bộ phận trực thuộc {decider_name}")
    x.leader = (f"Bí thư Đảng ủy {name}", f"Bí thư cấp ủy cơ sở trực thuộc {decider_name}" if tier == "grassroots"
                else f"Bí thư đảng ủy bộ phận trực thuộc {decider_name}")
    plan = (
        ("IP", "Chi bộ Đội sản xuất 1", {"XS": 8, "T": 7}, (XS, {"XS": 9, "T": 6}), (XS, {"XS": 9, "T": 6})),
        ("IQ", "Chi bộ Đội sản xuất 2", {"XS": 12, "T": 3}, (T, {"XS": 4, "T": 11}), (T, {"XS": 4, "T": 11})),
        ("IR", "Chi bộ Đội sản xuất 3", {"XS": 3, "T": 12}, (T, {"XS": 2, "T": 13}), (T, {"XS": 2, "T": 13})),
    )
    for key, bname, votes, coll, lead in plan:
        full = f"{bname}, {_short(name)}"
        b = branch_node(full, 10, name, 0.2)
        b.key = key
        b.fixed = {"level": XS if votes["XS"] * 2 > 15 else T, "votes": votes, "collective": coll,
                   "leader": lead, "members_good": True}
        x.children.append(b)
    return x


def _add_interplay(top: Node, shape: Shape) -> None:
    if shape.upper_levels == 0:
        if shape.branch_levels == 0:
            raise ValueError("tình huống suất XS cần hồ sơ có từ 2 cấp tổ chức đảng trở lên")
        top.children.append(interplay_node(top.name, tier="branch"))
        return
    node = top
    while node.children and node.children[0].tier == "upper":
        node = node.children[0]
    node.children.append(interplay_node(node.name))


# ---------------------------------------------------------------------------------------------
# Pass 2: levels, ballots, facts
# ---------------------------------------------------------------------------------------------

class _Emitter:
    """Walks the tree top-down and writes subjects in the JSON case format."""

    def __init__(self, rng: random.Random, rates: Rates = RATES):
        self.rng = rng
        self.rates = rates
        self.subjects: list[dict | None] = []
        self.count = {"O": 0, "M": 0, "C": 0, "L": 0, "U": 0}
        self.expect: dict[str, str] = {}
        self.blocks: dict[str, list[str]] = {}

    def new_id(self, prefix: str) -> str:
        self.count[prefix] += 1
        return f"{prefix}{self.count[prefix]}"

    def _below(self, level: int, same: float) -> int:
        """A level at most ``level`` (S1/S2 kept), except for a little noise one above."""
        r = self.rng.random()
        if r < ABOVE_NOISE and level < XS:
            return level + 1
        if r < same or level == K:
            return level
        return level - 1

    # -- units, collectives, heads ---------------------------------------------------------------
    def unit(self, spec: UnitSpec, org_level: int) -> str:
        rng = self.rng
        uid = self.new_id("U")
        cum = _UNIT_CUM[T] if rng.random() < NOISE else _UNIT_CUM[org_level]
        lvl = _pick(rng, cum)
        self.subjects.append({"id": uid, "kind": "unit", "name": spec.name, "category": spec.category,
                              "level": CODES[lvl]})
        if spec.collective is not None:
            cdict, clvl = self.collective(spec.collective, uid, lvl)
            self.subjects.append(cdict)
            if spec.head is not None:
                person = person_name(rng, rng.random() < 0.2)
                self.subjects.append(self.head(spec.head, cdict["id"], clvl, person))
        return uid

    def collective(self, spec: tuple[str, str], leads: str, led_level: int, *, fixed=None,
                   forced_k: bool = False, key: str | None = None) -> tuple[dict, int]:
        cid = key or self.new_id("C")
        if fixed is not None:
            lvl, votes = fixed
        else:
            lvl = K if forced_k and self.rng.random() < 0.7 else self._below(led_level, COLLECTIVE_SAME)
            votes = tally(self.rng, lvl, self.rng.randint(7, 25))
        d = {"id": cid, "kind": "collective", "name": spec[0], "leads": leads}
        if spec[1]:
            d["category"] = spec[1]
        d["votes"] = votes
        return d, lvl

    def head(self, spec: tuple[str, str], heads: str, coll_level: int, person: str, *, fixed=None,
             key: str | None = None, person_id: str | None = None) -> dict:
        lid = key or self.new_id("L")
        if fixed is not None:
            lvl, votes = fixed
        else:
            lvl = self._below(coll_level, HEAD_SAME)
            votes = tally(self.rng, lvl, self.rng.randint(9, 35))
        d = {"id": lid, "kind": "leader", "name": f"{person}, {spec[0]}", "heads": heads}
        if spec[1]:
            d["category"] = spec[1]
        if person_id is not None:
            d["person"] = person_id  # P1: the secretary is also a member of the chi bộ
        d["votes"] = votes
        return d

    # -- organizations ---------------------------------------------------------------------------
    def org(self, node: Node, parent: str | None, parent_level: int | None, voters: int) -> None:
        """Write an organization, its units, its cấp ủy and secretary, then its members or sub-orgs."""
        rng = self.rng
        oid = node.key or self.new_id("O")
        if node.block is not None:
            self.blocks.setdefault(node.block, []).append(oid)
        if "level" in node.fixed:
            lvl = node.fixed["level"]
        elif parent_level is None:
            lvl = _pick(rng, _TOP_CUM)
        else:
            lvl = _pick(rng, _ORG_CUM[T] if rng.random() < NOISE else _ORG_CUM[parent_level])
        slot = len(self.subjects)
        self.subjects.append(None)
        same_level = [self.unit(u, lvl) for u in node.units if u.same_level]
        for u in node.units:
            if not u.same_level:
                self.unit(u, lvl)
        has_collective = node.collective is not None and node.rated
        coll_slot = len(self.subjects)
        cid = lid = None
        if has_collective:  # ids and places reserved now, so that ids follow the file order
            cid = f"{node.key}-C" if node.key else self.new_id("C")
            self.subjects.append(None)
            if node.leader is not None:
                lid = f"{node.key}-L" if node.key else self.new_id("L")
                self.subjects.append(None)
        committee = rng.randint(*node.committee)
        conduct_k = False
        secretary = secretary_id = None
        if node.members:
            lvl, conduct_k, secretary, secretary_id = self.members(node, oid, lvl)
        for kid in node.children:
            self.org(kid, oid, lvl, committee)
        d: dict[str, Any] = {"id": oid, "kind": "party_org", "name": node.name, "tier": node.tier}
        if parent is not None:
            d["parent"] = parent
        if same_level:
            d["same_level_units"] = same_level
        if not node.rated:
            d["rated"] = False
        else:
            d["votes"] = node.fixed.get("votes") or tally(rng, lvl, voters)
        self.subjects[slot] = d
        if has_collective:
            cdict, clvl = self.collective(node.collective, oid, lvl, fixed=node.fixed.get("collective"),
                                          forced_k=conduct_k, key=cid)
            self.subjects[coll_slot] = cdict
            if conduct_k:
                self.expect[cdict["id"]] = "K"  # S4: a committee member disciplined or degenerate
            if node.leader is not None:
                person = secretary or person_name(rng, rng.random() < 0.2)
                self.subjects[coll_slot + 1] = self.head(node.leader, cid, clvl, person,
                                                         fixed=node.fixed.get("leader"), key=lid,
                                                         person_id=secretary_id if secretary else None)

    def members(self, node: Node, oid: str, lvl: int) -> tuple[int, bool, str | None, str | None]:
        """Write the members of a chi bộ; returns its (possibly revised) level, whether its chi ủy is
        bound to K by a committee member's conduct (S4), and the secretary's name and person id."""
        rng, rates = self.rng, self.rates
        rnd = rng.random
        count = node.members
        n = min(count, 40)
        n = max(n - rng.randint(0, n // 12), min(count, 5))  # voters present at the meeting
        good = bool(node.fixed.get("members_good", False))
        cum = _MEMBER_CUM[XS] if good else _MEMBER_CUM[lvl]
        committee_size = 0 if count < 9 else (3 if count < 30 else 5)
        committee_slots = set(rng.sample(range(count), committee_size)) if committee_size else set()
        secretary_slot = min(committee_slots) if committee_slots else None
        secretary = secretary_id = None
        conduct_k = False
        e7b = False
        rows = []
        for i in range(count):
            mid = self.new_id("M")
            female = rnd() < rates.women
            name = person_name(rng, female)
            d: dict[str, Any] = {"id": mid, "kind": "member", "name": name, "parent": oid}
            is_committee = i in committee_slots
            if not good and not is_committee and rnd() < rates.new_member:
                d["rated"] = False  # admitted less than 6 months ago
                rows.append(d)
                continue
            m = _pick(rng, _MEMBER_BASE_CUM if (not good and rnd() < NOISE) else cum)
            facts: dict[str, Any] = {}
            cap = XS
            if not good:
                if i != secretary_slot and ((m == K and rnd() < rates.disciplined_if_k)
                                            or (m == HT and rnd() < rates.disciplined_if_ht)
                                            or rnd() < rates.disciplined_noise):
                    facts["disciplined"] = True
                    cap = K
                    if rnd() < rates.self_remedied:
                        facts["self_remedied"] = True
                    else:
                        e7b = True
                        conduct_k = conduct_k or is_committee
                elif m == K and i != secretary_slot and rnd() < rates.degeneration_if_k:
                    facts["degeneration"] = True
                    cap = K
                    conduct_k = conduct_k or is_committee
                if (m == HT and rnd() < rates.sick_if_ht) or (m >= T and rnd() < rates.sick_noise):
                    facts["sick_leave_months"] = rng.randint(3, 9)
                    cap = min(cap, HT)
                elif rnd() < rates.short_sick:
                    facts["sick_leave_months"] = rng.randint(1, 2)
                if female and rnd() < rates.maternity:
                    facts["maternity_leave"] = True
                if rnd() < node.civil_share:
                    r = rnd()
                    if m == K:
                        c = K if r < 0.5 else HT
                    elif r < rates.civil_lower:
                        c = m - 1
                    elif r < rates.civil_lower + rates.civil_higher and m < XS:
                        c = m + 1
                    else:
                        c = m
                    facts["civil_servant_level"] = CODES[c]
                    cap = min(cap, c)
            if is_committee:
                facts["committee_member"] = True
                if i == secretary_slot:
                    secretary = name
                    secretary_id = d["person"] = f"NG-{mid}"
            d["votes"] = tally(rng, m, n)
            if facts:
                d["facts"] = facts
            if cap < m or "disciplined" in facts:
                self.expect[mid] = CODES[min(m, cap)]  # E1/E2/E3/E5: a member only moves to his cap
            rows.append(d)
        self.subjects.extend(rows)
        if e7b:
            self.expect[oid] = "K"  # E7b: a member disciplined and not self-remedied
            if "level" not in node.fixed and rnd() < 0.5:
                lvl = K  # the committee already knew: the chi bộ was voted K
        return lvl, conduct_k, secretary, secretary_id


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------

def _case(name: str, description: str, subjects: list[dict], *, profile: str | None = None,
          groups: list[dict] | None = None, expect: dict | None = None) -> dict:
    data: dict[str, Any] = {"name": name, "description": description}
    if profile is not None:
        data["profile"] = profile
    if groups:
        data["groups"] = groups
    if expect is not None:
        data["expect"] = expect
    data["subjects"] = subjects
    return data


SYNTHETIC_NOTE = ("Dữ liệu mô phỏng: mọi tên người là tên giả ghép ngẫu nhiên từ họ, tên đệm và tên phổ biến, "
                  "không phải người thật; phiếu biểu quyết và dữ kiện được sinh theo tỷ lệ công bố.")


def generate_case(members: int, seed: int, *, shape: Shape | str | int = "province", interplay: bool = False,
                  profile: str | None = None, rates: Rates = RATES) -> dict:
    """A realistic case with exactly ``members`` party members, as raw data in the JSON case format.

    ``shape`` is a :class:`Shape`, a name of :data:`SHAPES` or a depth (see :func:`shape_for_depth`).
    ``interplay`` adds the issue-9 pattern (:func:`interplay_node`) with ids ``IX``, ``IP``, ``IQ``, ``IR``.
    """
    if isinstance(members, bool) or not isinstance(members, int) or members < 1:
        raise ValueError("số đảng viên phải là số nguyên dương")
    if isinstance(shape, str):
        if shape not in SHAPES:
            raise ValueError(f"không có dạng «{shape}» (dùng: {', '.join(SHAPES)})")
        shape = SHAPES[shape]
    elif isinstance(shape, int) and not isinstance(shape, bool):
        shape = shape_for_depth(shape)
    elif not isinstance(shape, Shape):
        raise ValueError(f"dạng hồ sơ không hợp lệ: {shape!r}")
    rng = random.Random(seed)
    interplay_members = 30 if interplay else 0
    if interplay and members < interplay_members + 9:
        raise ValueError(f"tình huống suất XS cần ít nhất {interplay_members + 9} đảng viên")
    top = _tree(rng, members - interplay_members, shape)
    if interplay:
        _add_interplay(top, shape)
    em = _Emitter(rng, rates)
    em.org(top, None, None, rng.randint(13, 17))
    if profile == "qd366-2025":
        to_qd366(random.Random(seed + 366), em.subjects)  # scores, tasks, disciplines by form and kind
    words = {0: "một tổ chức cơ sở đảng", 1: "một đảng bộ cấp huyện", 2: "một đảng bộ cấp tỉnh"}
    scope = words.get(shape.upper_levels, f"một đảng bộ {shape.upper_levels} cấp trên cơ sở")
    name = f"Hồ sơ mô phỏng {members:,} đảng viên".replace(",", ".") + f" (hạt giống {seed})"
    description = (f"Sinh tự động: {scope}, độ sâu {shape.depth} cấp tổ chức đảng"
                   + (", có tình huống hai chi bộ tranh một suất XS (IP, IQ)" if interplay else "")
                   + ". " + SYNTHETIC_NOTE)
    return _case(name, description, em.subjects, profile=profile)


# ---------------------------------------------------------------------------------------------
# Real-shaped scenarios
# ---------------------------------------------------------------------------------------------

def _scenario_grassroots(rng: random.Random, *, name: str, members: int, kind: str, block: str | None,
                         category: str, leader_category: str, branch: tuple[int, int], civil: float,
                         fixed_branches: list[str] | None = None, residential: str | None = None,
                         agency: tuple[str, str, str, str] | None = None, units: list[UnitSpec] | None = None,
                         ) -> Node:
    """A named TCCSĐ of a scenario; ``agency`` = (unit name, collective name, head title, categories' stem)."""
    node = grassroots_node(rng, name=name, cap_uy=name.replace("Đảng bộ", "Đảng ủy", 1), members=members,
                           branch=branch, civil_share=civil, category=category, leader_category=leader_category,
                           kind=kind, force_dang_bo=name.startswith("Đảng bộ"), fixed_branches=fixed_branches,
                           residential=residential)
    node.block = block
    node.units = list(units or ())
    if agency is not None:
        unit, coll, head, stem = agency
        node.units.append(UnitSpec(unit, (coll, f"Tập thể lãnh đạo cơ quan, đơn vị {stem}"),
                                   (head, f"Người đứng đầu cơ quan, đơn vị {stem}"), same_level=False))
    return node


BMT_WARDS = (("Tân Lợi", 720), ("Tân An", 690), ("Tân Hòa", 520), ("Tân Lập", 760), ("Tân Thành", 900),
             ("Tân Tiến", 640), ("Thành Công", 560), ("Thành Nhất", 480), ("Thắng Lợi", 610), ("Thống Nhất", 580),
             ("Tự An", 700), ("Ea Tam", 650), ("Khánh Xuân", 520))
BMT_COMMUNES = (("Hòa Thuận", 260), ("Cư Êbur", 290), ("Ea Tu", 280), ("Hòa Thắng", 330), ("Hòa Xuân", 240),
                ("Hòa Khánh", 300), ("Hòa Phú", 270), ("Ea Kao", 310))
#: BMT II.B.1.4b, the guide's abbreviations written out (ĐB = Đảng bộ, CB = Chi bộ cơ sở):
#: (name, members, kind, agency unit, agency collective, head title).
BMT_ADMIN = (
    ("Đảng bộ Cơ quan Thành ủy", 85, "dang_doan_the", None),
    ("Đảng bộ Cơ quan Chính quyền Thành phố", 260, "chinh_quyen", None),
    ("Đảng bộ Cơ quan Đoàn thể Thành phố", 70, "dang_doan_the", None),
    ("Đảng bộ Chi cục Thuế thành phố", 75, "thue", ("Chi cục Thuế thành phố Buôn Ma Thuột", "Tập thể lãnh đạo", "Chi cục trưởng")),
    ("Đảng bộ Công ty TNHH MTV Đô thị và Môi trường Đắk Lắk", 110, "doanh_nghiep",
     ("Công ty TNHH MTV Đô thị và Môi trường Đắk Lắk", "Ban Giám đốc", "Giám đốc")),
    ("Đảng bộ Bệnh viện Đa khoa thành phố", 130, "y_te", ("Bệnh viện Đa khoa thành phố Buôn Ma Thuột", "Ban Giám đốc", "Giám đốc")),
    ("Chi bộ Bảo hiểm xã hội thành phố", 28, "bhxh", ("Bảo hiểm xã hội thành phố Buôn Ma Thuột", "Tập thể lãnh đạo", "Giám đốc")),
    ("Chi bộ Kho bạc Nhà nước thành phố", 22, "kho_bac", ("Kho bạc Nhà nước thành phố Buôn Ma Thuột", "Tập thể lãnh đạo", "Giám đốc")),
)
BMT_INTERNAL = (
    ("Đảng bộ Công an thành phố", 950, "cong_an", ("Công an thành phố Buôn Ma Thuột", "Ban Chỉ huy", "Trưởng Công an")),
    ("Đảng bộ Quân sự thành phố", 260, "quan_su", ("Ban Chỉ huy Quân sự thành phố Buôn Ma Thuột", "Ban Chỉ huy", "Chỉ huy trưởng")),
    ("Chi bộ Viện Kiểm sát nhân dân thành phố", 24, "vks", ("Viện Kiểm sát nhân dân thành phố Buôn Ma Thuột", "Tập thể lãnh đạo", "Viện trưởng")),
    ("Chi bộ Tòa án nhân dân thành phố", 22, "toa_an", ("Tòa án nhân dân thành phố Buôn Ma Thuột", "Tập thể lãnh đạo", "Chánh án")),
    ("Chi bộ Hạt Kiểm lâm thành phố", 16, "kiem_lam", ("Hạt Kiểm lâm thành phố Buôn Ma Thuột", "Tập thể lãnh đạo", "Hạt trưởng")),
    ("Chi bộ Chi cục Thi hành án dân sự thành phố", 19, "tha", ("Chi cục Thi hành án dân sự thành phố Buôn Ma Thuột", "Tập thể lãnh đạo", "Chi cục trưởng")),
)
BMT_PUBLIC = (
    ("Đảng bộ Trường THPT Hồng Đức", 58), ("Đảng bộ Trường THPT Chu Văn An", 52), ("Đảng bộ Trường THPT Lê Quý Đôn", 48),
    ("Chi bộ Trường THPT Buôn Ma Thuột", 31), ("Chi bộ Trường THPT Cao Bá Quát", 27), ("Chi bộ Trường THPT Lê Duẩn", 29),
    ("Chi bộ Trường THPT Trần Phú", 26), ("Chi bộ Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên", 21),
    ("Chi bộ Trường Phổ thông Dân tộc nội trú", 24),
)
BMT_BLOCKS = (("KHOI_XA", "xã", "8 xã"), ("KHOI_PHUONG", "phường", "13 phường"),
              ("KHOI_HANH_CHINH", "khối cơ quan hành chính", "8 đơn vị khối cơ quan hành chính"),
              ("KHOI_NOI_CHINH", "khối nội chính", "6 đơn vị khối nội chính"),
              ("KHOI_SU_NGHIEP", "khối sự nghiệp", "9 đơn vị khối sự nghiệp"))
POLICE_BRANCHES = [f"Chi bộ {n}" for n in AGENCY_BRANCHES["cong_an"]]
ARMY_BRANCHES = ["Chi bộ Tham mưu", "Chi bộ Chính trị", "Chi bộ Hậu cần - Kỹ thuật", "Chi bộ Trung đội Dân quân cơ động",
                 "Chi bộ Đại đội Dự bị động viên 1", "Chi bộ Đại đội Dự bị động viên 2", "Chi bộ Kho",
                 "Chi bộ Quân sự khu vực 1", "Chi bộ Quân sự khu vực 2", "Chi bộ Quân sự khu vực 3"]


def _expect(em: _Emitter) -> dict:
    return {"status": "optimal", "levels": dict(sorted(em.expect.items(), key=lambda kv: _id_key(kv[0])))}


def _id_key(sid: str) -> tuple:
    digits = sid.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ-")
    return (sid[: len(sid) - len(digits)], int(digits) if digits.isdigit() else 0, sid)


def buon_ma_thuot_2018() -> dict:
    """Đảng bộ thành phố Buôn Ma Thuột: 44 TCCSĐ in the five blocks of BMT II.B.1.4b, about 13,000 members."""
    rng = random.Random(2018)
    city = "Thành ủy Buôn Ma Thuột"
    top = Node("Đảng bộ thành phố Buôn Ma Thuột", "upper", committee=(13, 15), civil_share=0.3)
    top.collective = ("Ban Thường vụ Thành ủy Buôn Ma Thuột", "Ban Thường vụ cấp ủy cấp huyện (Tỉnh ủy Đắk Lắk quyết định)")
    top.leader = ("Bí thư Thành ủy Buôn Ma Thuột", "Bí thư cấp ủy cấp huyện (Tỉnh ủy Đắk Lắk quyết định)")
    top.units = territorial_units("huyen", "thành phố Buôn Ma Thuột", "cấp huyện (Tỉnh ủy Đắk Lắk quyết định)")
    scope = f"xã, phường ({city} quyết định)"

    def cats(block_word: str) -> dict[str, str]:
        return {"category": f"Cấp ủy cơ sở {block_word}", "leader_category": f"Bí thư cấp ủy cơ sở {block_word}"}

    for place, size in BMT_COMMUNES:
        top.children.append(_scenario_grassroots(
            rng, name=f"Đảng bộ xã {place}", members=size, kind="xa", block="KHOI_XA", branch=(15, 45), civil=0.3,
            fixed_branches=["Chi bộ Cơ quan", "Chi bộ Quân sự", "Chi bộ Trường học"], residential="Chi bộ Thôn",
            units=territorial_units("xa", f"xã {place}", scope), **cats("khối xã")))
    for place, size in BMT_WARDS:
        top.children.append(_scenario_grassroots(
            rng, name=f"Đảng bộ phường {place}", members=size, kind="phuong", block="KHOI_PHUONG", branch=(20, 60),
            civil=0.35, fixed_branches=["Chi bộ Cơ quan", "Chi bộ Quân sự", "Chi bộ Công an"],
            residential="Chi bộ Tổ dân phố", units=territorial_units("phuong", f"phường {place}", scope),
            **cats("khối phường")))
    for name, size, kind, agency in BMT_ADMIN:
        ag = None if agency is None else (*agency[:1], f"{agency[1]} {agency[0]}", f"{agency[2]} {agency[0]}",
                                          "khối cơ quan hành chính")
        top.children.append(_scenario_grassroots(
            rng, name=name, members=size, kind=kind, block="KHOI_HANH_CHINH", branch=(8, 30), civil=0.9, agency=ag,
            **cats("khối cơ quan hành chính")))
    for name, size, kind, agency in BMT_INTERNAL:
        ag = (agency[0], f"{agency[1]} {agency[0]}", f"{agency[2]} {agency[0]}", "khối nội chính")
        fixed = None
        if kind == "cong_an":
            fixed = POLICE_BRANCHES + [f"Chi bộ Công an xã {p}" for p, _ in BMT_COMMUNES]
        elif kind == "quan_su":
            fixed = ARMY_BRANCHES
        top.children.append(_scenario_grassroots(
            rng, name=name, members=size, kind=kind, block="KHOI_NOI_CHINH", branch=(25, 60), civil=0.9,
            fixed_branches=fixed, agency=ag, **cats("khối nội chính")))
    for name, size in BMT_PUBLIC:
        school = name.split(" ", 2)[2]
        is_centre = school.startswith("Trung tâm")
        ag = (f"{school} (thành phố Buôn Ma Thuột)", f"{'Ban Giám đốc' if is_centre else 'Ban Giám hiệu'} {school}",
              f"{'Giám đốc' if is_centre else 'Hiệu trưởng'} {school}", "khối sự nghiệp")
        top.children.append(_scenario_grassroots(
            rng, name=name, members=size, kind="truong", block="KHOI_SU_NGHIEP", branch=(12, 22), civil=1.0,
            agency=ag, **cats("khối sự nghiệp")))
    em = _Emitter(rng)
    em.org(top, None, None, 15)
    groups = [{"id": gid, "name": f"Tổ chức cơ sở đảng {label} (BMT II.B.1.4b)", "members": em.blocks[gid]}
              for gid, _, label in BMT_BLOCKS]
    description = (
        "Hồ sơ theo hình dạng thật của Đảng bộ thành phố Buôn Ma Thuột năm 2018: 44 tổ chức cơ sở đảng chia "
        "thành năm khối tương đồng theo Hướng dẫn của Ban Thường vụ Thành ủy (mục II.B.1.4b: 8 xã, 13 phường, "
        "8 đơn vị khối cơ quan hành chính, 6 đơn vị khối nội chính, 9 đơn vị khối sự nghiệp; tỷ lệ 20% tính "
        "riêng từng khối), các chi bộ trực thuộc, khoảng 13.000 đảng viên, cấp ủy, bí thư, chính quyền, MTTQ, "
        "đoàn thể và cơ quan, đơn vị cùng tập thể lãnh đạo và người đứng đầu. Tên xã, phường và tên tổ chức "
        "theo hướng dẫn; số đảng viên, phiếu biểu quyết và dữ kiện là mô phỏng. Bộ quy định: hướng dẫn Buôn Ma "
        "Thuột đọc đúng chữ — không có quy định «nơi có dưới 05 được chọn 01» (của hướng dẫn Bù Đăng), nên một "
        "nhóm có dưới 05 Hoàn thành tốt nhiệm vụ không giữ được Hoàn thành xuất sắc nhiệm vụ nào; mọi trích dẫn "
        "là của hướng dẫn Buôn Ma Thuột. Chính quyền, Mặt trận, đoàn thể cùng cấp ghi rõ loại: chỉ Mặt trận và "
        "đoàn thể được tính vào số «từ 02 tổ chức không hoàn thành nhiệm vụ». Bí thư chi bộ vừa là đảng viên của "
        "chi bộ: khi mức ở hai nơi khác nhau, kết quả nêu để cấp có thẩm quyền quyết định. " + SYNTHETIC_NOTE)
    return _case("Đảng bộ thành phố Buôn Ma Thuột — xếp loại chất lượng năm 2018", description, em.subjects,
                 profile="bmt-2018", groups=groups, expect=_expect(em))


BD_COMMUNES = (("thị trấn Đức Phong", 420), ("xã Bom Bo", 230), ("xã Bình Minh", 180), ("xã Đak Nhau", 170),
               ("xã Đăng Hà", 150), ("xã Đoàn Kết", 190), ("xã Đồng Nai", 160), ("xã Đức Liễu", 220),
               ("xã Đường 10", 140), ("xã Minh Hưng", 260), ("xã Nghĩa Bình", 170), ("xã Nghĩa Trung", 210),
               ("xã Phú Sơn", 170), ("xã Phước Sơn", 160), ("xã Thọ Sơn", 180), ("xã Thống Nhất", 200))
BD_AGENCIES = (
    ("Đảng bộ Cơ quan Chính quyền huyện", 180, "chinh_quyen", None),
    ("Đảng bộ Cơ quan Đảng - Đoàn thể huyện", 70, "dang_doan_the", None),
    ("Đảng bộ Quân sự huyện", 120, "quan_su", ("Ban Chỉ huy Quân sự huyện Bù Đăng", "Ban Chỉ huy", "Chỉ huy trưởng")),
    ("Đảng bộ Công an huyện", 230, "cong_an", ("Công an huyện Bù Đăng", "Ban Chỉ huy", "Trưởng Công an")),
    ("Đảng bộ Trung tâm Y tế huyện", 110, "y_te", ("Trung tâm Y tế huyện Bù Đăng", "Ban Giám đốc", "Giám đốc")),
    ("Chi bộ Viện Kiểm sát nhân dân huyện", 15, "vks", ("Viện Kiểm sát nhân dân huyện Bù Đăng", "Tập thể lãnh đạo", "Viện trưởng")),
    ("Chi bộ Tòa án nhân dân huyện", 14, "toa_an", ("Tòa án nhân dân huyện Bù Đăng", "Tập thể lãnh đạo", "Chánh án")),
    ("Chi bộ Chi cục Thi hành án dân sự huyện", 12, "tha",
     ("Chi cục Thi hành án dân sự huyện Bù Đăng", "Tập thể lãnh đạo", "Chi cục trưởng")),
    ("Chi bộ Chi cục Thuế huyện", 30, "thue", ("Chi cục Thuế huyện Bù Đăng", "Tập thể lãnh đạo", "Chi cục trưởng")),
    ("Chi bộ Kho bạc Nhà nước huyện", 12, "kho_bac", ("Kho bạc Nhà nước huyện Bù Đăng", "Tập thể lãnh đạo", "Giám đốc")),
    ("Chi bộ Bảo hiểm xã hội huyện", 16, "bhxh", ("Bảo hiểm xã hội huyện Bù Đăng", "Tập thể lãnh đạo", "Giám đốc")),
    ("Chi bộ Hạt Kiểm lâm huyện", 14, "kiem_lam", ("Hạt Kiểm lâm huyện Bù Đăng", "Tập thể lãnh đạo", "Hạt trưởng")),
    ("Chi bộ Ban Quản lý rừng phòng hộ Bù Đăng", 18, "doanh_nghiep",
     ("Ban Quản lý rừng phòng hộ Bù Đăng", "Ban Giám đốc", "Giám đốc")),
    ("Chi bộ Trường THPT Bù Đăng", 35, "truong", ("Trường THPT Bù Đăng", "Ban Giám hiệu", "Hiệu trưởng")),
    ("Chi bộ Trường THPT Thống Nhất", 28, "truong", ("Trường THPT Thống Nhất", "Ban Giám hiệu", "Hiệu trưởng")),
    ("Chi bộ Trường THPT Lê Quý Đôn", 25, "truong", ("Trường THPT Lê Quý Đôn", "Ban Giám hiệu", "Hiệu trưởng")),
    ("Chi bộ Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên huyện", 15, "truong",
     ("Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên huyện Bù Đăng", "Ban Giám đốc", "Giám đốc")),
    ("Chi bộ Điện lực Bù Đăng", 20, "doanh_nghiep", ("Điện lực Bù Đăng", "Ban Giám đốc", "Giám đốc")),
    ("Chi bộ Ngân hàng Nông nghiệp và Phát triển nông thôn chi nhánh Bù Đăng", 18, "doanh_nghiep",
     ("Ngân hàng Nông nghiệp và Phát triển nông thôn chi nhánh Bù Đăng", "Ban Giám đốc", "Giám đốc")),
    ("Chi bộ Ngân hàng Chính sách xã hội huyện", 12, "doanh_nghiep",
     ("Phòng giao dịch Ngân hàng Chính sách xã hội huyện Bù Đăng", "Ban Giám đốc", "Giám đốc")),
)


def bu_dang_2020() -> dict:
    """A district shaped like Bù Đăng (BĐ 2020 guide): 16 communes and 20 agencies, about 4,200 members."""
    rng = random.Random(2020)
    huyen = "Huyện ủy Bù Đăng"
    top = Node("Đảng bộ huyện Bù Đăng", "upper", committee=(13, 15), civil_share=0.3)
    top.collective = ("Ban Thường vụ Huyện ủy Bù Đăng", "Ban Thường vụ cấp ủy cấp huyện (Tỉnh ủy Bình Phước quyết định)")
    top.leader = ("Bí thư Huyện ủy Bù Đăng", "Bí thư cấp ủy cấp huyện (Tỉnh ủy Bình Phước quyết định)")
    top.units = territorial_units("huyen", "huyện Bù Đăng", "cấp huyện (Tỉnh ủy Bình Phước quyết định)")
    cats = {"category": f"Cấp ủy cơ sở trực thuộc {huyen}", "leader_category": f"Bí thư cấp ủy cơ sở trực thuộc {huyen}"}
    for place, size in BD_COMMUNES:
        town = place.startswith("thị trấn")
        top.children.append(_scenario_grassroots(
            rng, name=f"Đảng bộ {place}", members=size, kind="xa", block=None, branch=(12, 40), civil=0.3,
            fixed_branches=["Chi bộ Cơ quan", "Chi bộ Quân sự", "Chi bộ Công an", "Chi bộ Trường học"],
            residential="Chi bộ Khu phố" if town else "Chi bộ Thôn",
            units=territorial_units("thi_tran" if town else "xa", place, f"xã, thị trấn (trực thuộc {huyen})"),
            **cats))
    for name, size, kind, agency in BD_AGENCIES:
        ag = None if agency is None else (agency[0], f"{agency[1]} {agency[0]}", f"{agency[2]} {agency[0]}",
                                          f"trực thuộc {huyen}")
        top.children.append(_scenario_grassroots(
            rng, name=name, members=size, kind=kind, block=None, branch=(8, 30), civil=0.9, agency=ag, **cats))
    em = _Emitter(rng)
    em.org(top, None, None, 15)
    description = (
        "Hồ sơ một huyện theo hình dạng Bù Đăng (Hướng dẫn 01-HD/BTCHU ngày 17/11/2020): Đảng bộ huyện với "
        "16 đảng bộ xã, thị trấn và 20 tổ chức cơ sở đảng khối cơ quan, lực lượng vũ trang, sự nghiệp, doanh "
        "nghiệp, khoảng 4.200 đảng viên, cấp ủy, bí thư, Thường trực HĐND, UBND, Ban Thường trực UBMTTQ và "
        "người đứng đầu; nhóm tỷ lệ theo mặc định (các tổ chức cơ sở đảng cùng cấp trực thuộc Huyện ủy). Tên "
        "xã, thị trấn là địa danh thật; tên cơ quan, số đảng viên, phiếu và dữ kiện là mô phỏng. Bộ quy định: hai "
        "hướng dẫn đọc chung (mặc định) — Hướng dẫn 01-HD/BTCHU không nhắc lại tiêu chuẩn từng mức của Quy định "
        "132-QĐ/TW, nên các tiêu chuẩn đó đọc theo hướng dẫn Buôn Ma Thuột, cùng các điểm riêng của Bù Đăng "
        "(dưới 05 được chọn 01, người đứng đầu mới chuyển đến, kỷ luật sau khi chuyển sinh hoạt). Bí thư chi bộ "
        "vừa là đảng viên của chi bộ: mức khác nhau ở hai nơi được nêu để cấp có thẩm quyền quyết định. "
        + SYNTHETIC_NOTE)
    return _case("Đảng bộ huyện Bù Đăng — xếp loại chất lượng năm 2020 (mô phỏng)", description, em.subjects,
                 profile="bmt-bd-2020", expect=_expect(em))


XA_2025_INSTITUTIONS = (
    ("Chi bộ Cơ quan Đảng", 25, 1.0), ("Chi bộ Cơ quan HĐND - UBND", 45, 1.0),
    ("Chi bộ Cơ quan MTTQ và các đoàn thể", 22, 1.0), ("Chi bộ Công an xã", 38, 0.95), ("Chi bộ Quân sự xã", 21, 0.9),
    ("Chi bộ Trung tâm Phục vụ hành chính công", 20, 1.0), ("Chi bộ Trạm Y tế", 20, 1.0),
    ("Chi bộ Trường THCS số 1", 32, 1.0), ("Chi bộ Trường THCS số 2", 28, 1.0), ("Chi bộ Trường Tiểu học số 1", 24, 1.0),
    ("Chi bộ Trường Tiểu học số 2", 22, 1.0), ("Chi bộ Trường Mầm non", 20, 1.0),
)


#: The scores of each level's band (QĐ 366 Điều 11), in tenths: XS 90–99,5; T 70–89,5; HT 50–69,5; K 30–49,5.
_SCORE_TENTHS = {XS: (900, 995), T: (700, 895), HT: (500, 695), K: (300, 495)}
#: Violations by kind, with the form of discipline, as a 2025 case records them.
_VIOLATIONS = (("duty", "khien_trach"), ("duty", "canh_cao"), ("forbidden", "khien_trach"), ("example", "khien_trach"),
               ("other", "khien_trach"))


def score_for(rng: random.Random, level: int) -> float:
    """A score in the band of ``level``, one decimal."""
    lo, hi = _SCORE_TENTHS[level]
    return rng.randint(lo // 5, hi // 5) * 5 / 10


def _tasks(rng: random.Random, level: int, leading: bool) -> dict:
    """Tasks consistent with a level (QĐ 366 Điều 11): XS all on time with 30% exceeded, T all on time, HT all
    done with a few late, K too few done."""
    n = rng.randint(6, 20)
    if level == XS:
        return {"assigned": n, "done": n, "on_time": n, "exceeded": rng.randint(-(-3 * n // 10), n)}
    if level == T:
        return {"assigned": n, "done": n, "on_time": n, "exceeded": rng.randint(0, (3 * n - 1) // 10)}
    if level == HT:
        return {"assigned": n, "done": n, "on_time": n - rng.randint(1, max(1, n // 5)), "exceeded": 0}
    done = rng.randint(0, (7 * n - 1) // 10 if leading else (n - 1) // 2)
    return {"assigned": n, "done": done, "on_time": done, "exceeded": 0}


def to_qd366(rng: random.Random, subjects: list[dict], *, short_xs: float = 0.08) -> dict[str, str]:
    """Turn an emitted case into a 2025 one, in place: each voted subject gets the score of its voted level
    (ballots dropped) and tasks consistent with it — a few XS with too few tasks exceeded (Q2 caps them at T);
    a discipline gets a form and a kind (a self-remedied one becomes self-reported, left to the competent level);
    returns the levels the facts fix by themselves (K), for the expect block."""
    from model.ballots import voted_from_counts

    by_id = {s["id"]: s for s in subjects}
    expect: dict[str, str] = {}
    forced_k: set[str] = set()
    for s in subjects:
        if s["kind"] == "unit" or not s.get("rated", True) or "votes" not in s:
            continue
        v = s.pop("votes")
        voters = s.pop("voters", None)
        level = int(voted_from_counts(v.get("XS", 0), v.get("T", 0), v.get("TB", 0), v.get("K", 0), voters))
        s["score"] = score_for(rng, level)
        facts = s.setdefault("facts", {})
        if s["kind"] in ("member", "leader", "collective"):
            tasks = _tasks(rng, level, s["kind"] != "member")
            if level == XS and rng.random() < short_xs:
                tasks["exceeded"] = tasks["assigned"] * 2 // 10  # 20% < 30%: Q2 allows T at most
            facts["tasks"] = tasks
            if level == K and s["kind"] == "member":
                forced_k.add(s["id"])  # more than half of the tasks not done
        if facts.pop("disciplined", False):
            remedied = facts.pop("self_remedied", False)
            kind, form = rng.choice(_VIOLATIONS)
            facts["discipline"] = {"form": form, "kind": "duty" if remedied else kind,
                                   **({"self_reported": True} if remedied else {})}
            if not remedied and (kind in ("duty", "forbidden", "example") if s["kind"] == "member" else kind == "duty"):
                forced_k.add(s["id"])
        if facts.get("degeneration") and s["kind"] in ("member", "leader"):
            forced_k.add(s["id"])
        if not facts:
            s.pop("facts")
    heads: dict[str, list[str]] = {}
    for s in subjects:
        if s["kind"] == "leader" and s.get("heads"):
            heads.setdefault(s["heads"], []).append(s["id"])
    members_of: dict[str, list[str]] = {}
    for s in subjects:
        if s["kind"] == "member" and s.get("parent"):
            members_of.setdefault(s["parent"], []).append(s["id"])
    for s in subjects:  # Q6: a collective with a member disciplined for a duty-related violation, or degenerate
        if s["kind"] != "collective" or not s.get("rated", True):
            continue
        mates = heads.get(s["id"], []) + [m for m in members_of.get(s.get("leads"), ())
                                          if (by_id[m].get("facts") or {}).get("committee_member")]
        for m in mates:
            f = by_id[m].get("facts") or {}
            d = f.get("discipline") or {}
            if f.get("degeneration") or (d.get("kind") == "duty" and not d.get("self_reported")):
                forced_k.add(s["id"])
    for sid in forced_k:
        expect[sid] = "K"
    return expect


def xa_2025() -> dict:
    """After the 2025 reorganisation: a ward đảng bộ (cấp xã, the upper level of its grassroots organizations)
    with residential chi bộ cơ sở and đảng bộ cơ sở beneath it, and a grassroots đảng bộ directly under the
    provincial committee; scored under QĐ 366 and HD 43."""
    rng = random.Random(2025)
    province = Node("Đảng bộ tỉnh Đắk Lắk", "upper", rated=False)
    ward_name = "Đảng bộ phường Tân An"
    ward = Node(ward_name, "upper", committee=(13, 15), civil_share=0.3)
    ward.collective = ("Ban Thường vụ Đảng ủy phường Tân An", "Ban Thường vụ đảng ủy xã, phường trực thuộc Tỉnh ủy Đắk Lắk")
    ward.leader = ("Bí thư Đảng ủy phường Tân An", "Bí thư đảng ủy xã, phường trực thuộc Tỉnh ủy Đắk Lắk")
    ward.units = territorial_units("xa_2025", "phường Tân An", "cấp xã (Tỉnh ủy Đắk Lắk quyết định)")
    province.children.append(ward)
    decided = "trực thuộc Đảng ủy phường Tân An"
    for i in range(1, 21):  # residential chi bộ cơ sở, each a grassroots organization of the ward
        size = _triangular(rng, (12, 45, 24))
        ward.children.append(grassroots_node(
            rng, name=f"Chi bộ Khu phố {i}, phường Tân An", cap_uy="", members=size, branch=(10, 30),
            civil_share=0.2, category=f"Chi ủy chi bộ cơ sở {decided}",
            leader_category=f"Bí thư chi bộ cơ sở {decided}", kind="phuong", force_dang_bo=False))
    for name, size in (("Đảng bộ Công an phường Tân An", 64), ("Đảng bộ Trường THPT Buôn Ma Thuột", 52),
                       ("Đảng bộ Cơ quan Đảng - đoàn thể phường Tân An", 48)):
        node = grassroots_node(
            rng, name=name, cap_uy=f"Đảng ủy {name[len('Đảng bộ '):]}", members=size, branch=(12, 24), civil_share=1.0,
            category=f"Đảng ủy cơ sở {decided}", leader_category=f"Bí thư đảng ủy cơ sở {decided}", kind="co_quan",
            force_dang_bo=True)
        ward.children.append(node)
    hospital = grassroots_node(
        rng, name="Đảng bộ Bệnh viện Đa khoa vùng Tây Nguyên", cap_uy="Đảng ủy Bệnh viện Đa khoa vùng Tây Nguyên",
        members=140, branch=(15, 30), civil_share=1.0, category="Đảng ủy cơ sở trực thuộc Tỉnh ủy Đắk Lắk",
        leader_category="Bí thư đảng ủy cơ sở trực thuộc Tỉnh ủy Đắk Lắk", kind="co_quan", force_dang_bo=True)
    province.children.append(hospital)
    em = _Emitter(rng)
    em.org(province, None, None, 15)
    expect = to_qd366(random.Random(366), em.subjects)
    subjects = em.subjects
    by_name = {s["name"]: s for s in subjects}
    ids_of = {s["id"]: s for s in subjects}
    # functional groups (QĐ 366 Điều 11 khoản 1): the members of the residential chi bộ cơ sở share one ratio
    residential = [s["id"] for s in subjects if s["kind"] == "party_org" and s["name"].startswith("Chi bộ Khu phố")]
    members = [s["id"] for s in subjects if s["kind"] == "member" and s.get("parent") in residential
               and s.get("rated", True)]
    secretaries = [s["id"] for s in subjects if s["kind"] == "leader"
                   and ids_of[s["heads"]]["leads"] in residential]
    groups = [{"id": "DV-KP", "name": "Đảng viên các chi bộ khu phố phường Tân An", "members": members},
              {"id": "BT-KP", "name": "Bí thư các chi bộ khu phố phường Tân An", "members": secretaries}]
    police = by_name["Đảng bộ Công an phường Tân An"]["id"]
    exceptions = [{"scope": police, "percent": 25, "author": "Ban Thường vụ Đảng ủy phường Tân An",
                   "reason": "Đảng bộ Công an phường có thành tích xuất sắc, nổi trội trong bảo đảm an ninh, trật tự năm "
                             "2025, hoàn thành vượt kế hoạch các nhiệm vụ được giao"}]
    # a violation self-reported and remedied: the committee decides, the product does not rate it
    candidate = next(s for s in subjects if s["kind"] == "member" and s.get("parent") == residential[0]
                     and s.get("rated", True) and s["id"] not in expect)
    candidate.setdefault("facts", {})["discipline"] = {"form": "khien_trach", "kind": "duty", "self_reported": True}
    description = (
        "Hồ sơ sau sắp xếp năm 2025 (chính quyền địa phương hai cấp, không còn cấp huyện), xếp loại theo Quy định "
        "366-QĐ/TW và Hướng dẫn 43-HD/BTCTW: Đảng bộ phường Tân An là cấp trên trực tiếp của các tổ chức cơ sở đảng "
        "(20 chi bộ cơ sở khu phố và 3 đảng bộ cơ sở: Công an phường, Trường THPT, Cơ quan Đảng - đoàn thể); Đảng bộ "
        "Bệnh viện Đa khoa vùng Tây Nguyên là tổ chức cơ sở đảng trực thuộc thẳng Tỉnh ủy. Mức mục tiêu đọc từ điểm "
        "thẩm định (thang 100); kết quả thực hiện nhiệm vụ (số nhiệm vụ được giao, hoàn thành, đúng hạn, vượt mức) là "
        "điều kiện của từng mức; kỷ luật ghi hình thức và loại vi phạm; nghỉ ốm không còn bị giới hạn mức (Hướng dẫn "
        "43 mục 7.5). Cấp có thẩm quyền khai báo hai nhóm tỷ lệ theo chức năng (đảng viên các chi bộ khu phố, bí thư "
        "các chi bộ khu phố), quyết định tỷ lệ 25% cho Đảng bộ Công an phường, và còn phải quyết định một vi phạm tự "
        "giác nhận lỗi, đã khắc phục. Đảng bộ tỉnh chỉ được liệt kê. " + SYNTHETIC_NOTE)
    data = _case("Đảng bộ phường Tân An (sau sắp xếp 2025) — xếp loại chất lượng năm 2025 (mô phỏng)", description,
                 subjects, profile="qd366-2025", groups=groups,
                 expect={"status": "optimal", "levels": dict(sorted(expect.items(), key=lambda kv: _id_key(kv[0])))})
    data["year"] = 2025
    data["exceptions"] = exceptions
    return data


#: Scenario file stem → builder.
SCENARIOS = {"buon_ma_thuot_2018": buon_ma_thuot_2018, "bu_dang_2020": bu_dang_2020, "xa_2025": xa_2025}


def write_scenarios(directory: str) -> list[str]:
    """(Re)write the real-shaped scenario files, one subject per line; returns the paths written."""
    from pathlib import Path

    out = []
    Path(directory).mkdir(parents=True, exist_ok=True)
    for stem, build in SCENARIOS.items():
        path = Path(directory) / f"{stem}.json"
        path.write_text(dumps_case(build(), lines=True), encoding="utf-8", newline="\n")
        out.append(str(path))
    return out


def dumps_case(data: dict, *, lines: bool = False) -> str:
    """JSON text of a case: compact (``ensure_ascii=False``, no spaces), or with one subject per line."""
    if not lines:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    compact = {"ensure_ascii": False, "separators": (",", ":")}
    parts = []
    for key, value in data.items():
        if key == "subjects":
            body = ",\n".join("  " + json.dumps(s, **compact) for s in value)
            parts.append(f' "subjects": [\n{body}\n ]')
        elif key == "groups":
            body = ",\n".join("  " + json.dumps(g, **compact) for g in value)
            parts.append(f' "groups": [\n{body}\n ]')
        else:
            parts.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


if __name__ == "__main__":  # python -m model.generate scenarios/
    import sys

    for written in write_scenarios(sys.argv[1] if len(sys.argv) > 1 else "scenarios"):
        print(written)


__all__ = [
    "GENERIC_TYPES", "SCENARIOS", "buon_ma_thuot_2018", "bu_dang_2020", "write_scenarios", "xa_2025", "Node", "RATES", "Rates", "SHAPES", "Shape", "UnitSpec", "dumps_case", "generate_case",
    "interplay_node", "person_name", "shape_for_depth", "tally",
]
