"""Safe output: every file is written to a temporary name beside it, then renamed into place; an output is never
an input nor another output of the same command (``output_problem``)."""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path


def write_atomic(path: str | Path, write: Callable[[str], None], *, mode: int | None = None) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``: a crash leaves no half-written file.

    The file gets the usual permissions (0666 less the umask), or ``mode``; in an owner-only folder (like the
    app's case folder, 0700) it is owner-only too (0600): a file kept in a private place stays private even
    if the folder is opened up later. The temporary file is 0600 from its first byte, so an owner-only
    ``mode`` is never wider on the way."""
    target = Path(path)
    for folder in (target.parent, *target.parent.parents):  # a file where a folder should be: say so
        if folder.exists():
            if not folder.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
            break
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        if mode is None and _owner_only(target.parent):
            mode = 0o600
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # mkstemp makes 0600; give the file the usual permissions
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _owner_only(folder: Path) -> bool:
    try:
        return os.stat(folder).st_mode & 0o077 == 0
    except OSError:
        return False


def write_text_atomic(path: str | Path, text: str) -> None:
    def _w(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)

    write_atomic(path, _w)


# ---- where outputs may go ------------------------------------------------------------------------

#: The output path that means standard output (``--json -``).
STDOUT = "-"
#: Paths that name this process's standard output.
_STDOUT_PATHS = ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")


def is_stdout(path: str | Path | None) -> bool:
    """Whether an output path means standard output: ``-``, ``/dev/stdout``, or any path to the same open file."""
    if path is None:
        return False
    text = str(path)
    if text == STDOUT or text in _STDOUT_PATHS:
        return True
    try:
        st, out = os.stat(text), os.fstat(1)
    except (OSError, ValueError):
        return False
    return (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino) and not stat.S_ISREG(st.st_mode)


def _same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: the same inode (a hard link, a symbolic link) or, when one does not
    exist yet, the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        pass
    try:
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))
    except (OSError, ValueError):
        return False


def output_problem(inputs: Iterable[str | Path | None], outputs: Iterable[tuple[str, str | Path | None]], *,
                   stdout_ok: bool = True) -> str | None:
    """Why these outputs may not be written (a Vietnamese sentence), or None when they may.

    ``outputs`` are (what, path) pairs, e.g. ("kết quả JSON", "kq.json"). An output is refused when it is an
    input (the same file by its path, a link or its inode), another output, a folder, or standard output
    (``-``) when ``stdout_ok`` is false. Nothing is read or written here."""
    ins = [p for p in inputs if p is not None and str(p) != STDOUT]
    outs = [(what, p) for what, p in outputs if p is not None]
    seen: list[tuple[str, str | Path]] = []
    for what, path in outs:
        if is_stdout(path):
            if not stdout_ok:
                return f"không ghi được {what} ra màn hình (đầu ra chuẩn «{path}»): hãy ghi tên một tệp"
            if any(is_stdout(p) for _, p in seen):
                return f"{seen[0][0]} và {what} cùng ghi ra đầu ra chuẩn: hãy ghi một trong hai vào tệp"
            seen.append((what, path))
            continue
        if not str(path).strip():
            return f"tên tệp {what} đang để trống"
        if os.path.isdir(path):
            return f"«{path}» là một thư mục: hãy ghi tên tệp {what} (ví dụ «{Path(path) / 'ket_qua'}…»)"
        for source in ins:
            if _same_file(path, source):
                return (f"tệp {what} «{path}» chính là tệp đầu vào «{source}»: xeploai không bao giờ ghi đè tệp "
                        "đầu vào; hãy chọn một tên tệp khác")
        for other_what, other in seen:
            if not is_stdout(other) and _same_file(path, other):
                return f"{other_what} và {what} cùng ghi vào một tệp «{path}»: hãy chọn hai tên tệp khác nhau"
        seen.append((what, path))
    return None


def write_text_output(path: str | Path, text: str) -> None:
    """Write an output text: to standard output for ``-`` (or ``/dev/stdout``), straight into a device or a pipe
    (``/dev/null``, a FIFO: there is nothing to rename), otherwise atomically (``write_text_atomic``)."""
    if is_stdout(path):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        mode = None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        return
    write_text_atomic(path, text)
