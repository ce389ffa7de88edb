"""The ``xeploai generate`` verb: write a deterministic, realistic synthetic case of any size."""

from __future__ import annotations

import argparse
import sys

from model.catalogue import UnknownProfile, resolve_options
from model.generate import SHAPES, dumps_case, generate_case

from solver.commands.console import EXIT_ERROR, EXIT_INVALID, EXIT_OK, file_error, refuse_outputs

#: The most members ``generate`` makes: about 500 MB of JSON, the size the loader still reads (MAX_BYTES).
MAX_MEMBERS = 3_000_000
#: The deepest hierarchy ``--depth`` may ask for.
MAX_DEPTH = 50


def _positive(text: str, high: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"phải là số nguyên, không phải «{text}»") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"phải là số nguyên dương, không phải {value}")
    if high is not None and value > high:
        raise argparse.ArgumentTypeError(f"tối đa {high:,}, không phải {value:,}".replace(",", "."))
    return value


def _members(text: str) -> int:
    return _positive(text, MAX_MEMBERS)


def _depth(text: str) -> int:
    return _positive(text, MAX_DEPTH)


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"hạt giống phải là số nguyên, không phải «{text}»") from None


def configure_generate(p: argparse.ArgumentParser) -> None:
    """Arguments of ``xeploai generate``."""
    p.add_argument("out", metavar="OUT.json", help="tệp hồ sơ JSON sẽ ghi ra")
    p.add_argument("--members", type=_members, required=True,
                   help=f"số đảng viên của hồ sơ (tối đa {MAX_MEMBERS:,})".replace(",", "."))
    p.add_argument("--seed", type=_seed, default=0, help="hạt giống ngẫu nhiên (mặc định 0); cùng hạt giống "
                   "cho cùng một tệp, từng byte")
    p.add_argument("--shape", choices=sorted(SHAPES), default="province",
                   help="hình dạng: province (tỉnh → huyện → cơ sở → chi bộ, mặc định), district, commune")
    p.add_argument("--depth", type=_depth, default=None,
                   help="số cấp tổ chức đảng từ trên xuống chi bộ (thay cho --shape), ví dụ 5")
    p.add_argument("--interplay", action="store_true",
                   help="thêm tình huống hai chi bộ XS tranh một suất, một chi bộ kéo theo chi ủy và bí thư XS")
    p.add_argument("--profile", default=None,
                   help="bộ quy định ghi vào hồ sơ, ví dụ qd366-2025 (có điểm và kết quả thực hiện nhiệm vụ); "
                   "mặc định: không ghi, tức bộ quy định mặc định của danh mục")


def cmd_generate(args: argparse.Namespace) -> int:
    """Generate the case and write it atomically; prints a one-line Vietnamese summary."""
    from solver.io import write_text_atomic

    shape = args.depth if args.depth is not None else args.shape
    if refuse_outputs([], [("hồ sơ JSON", args.out)], stdout_ok=False):
        return EXIT_INVALID
    if args.profile is not None:
        try:
            resolve_options(args.profile)
        except UnknownProfile as exc:
            sys.stdout.write(f"Không tạo được hồ sơ: {exc}\n")
            return EXIT_INVALID
    try:
        data = generate_case(args.members, args.seed, shape=shape, interplay=args.interplay, profile=args.profile)
    except ValueError as exc:
        sys.stdout.write(f"Không tạo được hồ sơ: {exc}\n")
        return EXIT_INVALID
    text = dumps_case(data)
    try:
        write_text_atomic(args.out, text)
    except OSError as exc:
        sys.stdout.write(f"Không ghi được tệp {args.out}: {file_error(exc)}. Không ghi tệp nào.\n")
        return EXIT_ERROR
    kinds: dict[str, int] = {}
    for s in data["subjects"]:
        kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
    sys.stdout.write(
        f"Đã ghi {args.out}: {len(data['subjects'])} đối tượng ({kinds.get('member', 0)} đảng viên, "
        f"{kinds.get('party_org', 0)} tổ chức đảng, {kinds.get('collective', 0)} tập thể, "
        f"{kinds.get('leader', 0)} cán bộ, {kinds.get('unit', 0)} đơn vị), hạt giống {args.seed}.\n"
    )
    return EXIT_OK


__all__ = ["cmd_generate", "configure_generate"]
