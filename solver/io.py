"""Safe output: every file is written to a temporary name beside it, then renamed into place (onto the real
target of a symbolic link, never onto a device or a pipe); an output is never an input, an audit log nor another
output of the same command (``output_problem``)."""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path


class OutputRefused(OSError):
    """An output xeploai will not write: the path exists and is not a regular file (a device such as /dev/null,
    a pipe, a socket). ``vietnamese`` says so (``model.errors.os_error_text`` shows it)."""

    def __init__(self, path: str | Path, vietnamese: str):
        super().__init__(errno.EINVAL, vietnamese, str(path))
        self.vietnamese = vietnamese


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "một thư mục"
    if stat.S_ISFIFO(mode):
        return "một ống dẫn (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "một thiết bị"
    if stat.S_ISSOCK(mode):
        return "một socket"
    return "không phải một tệp thường"


def not_regular(path: str | Path) -> str | None:
    """What the existing file at ``path`` (its links followed) is when it is not a regular file («một ống dẫn
    (FIFO)», «một thiết bị»…), or None: a regular file, or nothing there yet."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return None if stat.S_ISREG(mode) else _kind_of(mode)


def real_output(path: str | Path) -> Path:
    """The file an output path really names: every symbolic link resolved (``/dev/stderr`` → the file it points
    to), so that writing replaces the target and never the link itself."""
    return Path(os.path.realpath(path))


def write_atomic(path: str | Path, write: Callable[[str], None], *, mode: int | None = None) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``: a crash leaves no half-written file.

    Symbolic links in ``path`` are resolved first: the real target is written, the link stays. An existing
    target that is not a regular file (a device, a pipe, a socket, a folder) is refused with ``OutputRefused``
    and nothing is written: renaming onto it would replace ``/dev/null`` or a FIFO by a regular file.

    The file gets the usual permissions (0666 less the umask), or ``mode``; in an owner-only folder (like the
    app's case folder, 0700) it is owner-only too (0600): a file kept in a private place stays private even
    if the folder is opened up later. The temporary file is 0600 from its first byte, so an owner-only
    ``mode`` is never wider on the way."""
    target = real_output(path)
    kind = not_regular(target)
    if kind is not None:
        raise OutputRefused(path, f"«{path}» là {kind}, không phải một tệp thường: xeploai chỉ ghi vào tệp thường")
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
        try:  # made while the file was written? (lstat: the target itself, resolved above)
            now = os.lstat(target).st_mode
        except FileNotFoundError:
            now = None
        if now is not None and not stat.S_ISREG(now):
            raise OutputRefused(path, f"«{path}» là {_kind_of(now)}, không phải một tệp thường: xeploai chỉ ghi "
                                      "vào tệp thường")
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


#: The first bytes of an SQLite database (an audit log): xeploai never writes one of its outputs over it.
SQLITE_MAGIC = b"SQLite format 3\x00"


def _is_database(path: str | Path) -> bool:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, "rb") as fh:
            return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except (OSError, ValueError):
        return False


#: How the files SQLite keeps beside a log end (``solver.audit.LOG_COMPANIONS``).
LOG_ENDS = ("-wal", "-shm", "-journal")


def _log_name(path: str | Path) -> bool:
    """Whether a file name is the default audit log's (or one of the files SQLite keeps beside it)."""
    from solver.audit import DEFAULT_NAME, LOG_COMPANIONS

    name = Path(path).name
    return name == DEFAULT_NAME or any(name == DEFAULT_NAME + end for end in LOG_COMPANIONS)


def output_problem(inputs: Iterable[str | Path | None], outputs: Iterable[tuple[str, str | Path | None]], *,
                   stdout_ok: bool = True, logs: Iterable[str | Path] = ()) -> str | None:
    """Why these outputs may not be written (a Vietnamese sentence), or None when they may.

    ``outputs`` are (what, path) pairs, e.g. ("kết quả JSON", "kq.json"). An output is refused when it is an
    input (the same file by its path, a link or its inode), another output, a folder, an existing file that is
    not a regular file (a device such as /dev/null, a FIFO, a socket: ``-`` is the way to standard output), an
    audit log (one of ``logs``, a file named like the default log, or any SQLite database), or standard output
    (``-``) when ``stdout_ok`` is false. Nothing is written here (an existing output's first bytes are read)."""
    ins = [p for p in inputs if p is not None and str(p) != STDOUT]
    log_files = [p for p in logs if p is not None]
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
        kind = not_regular(path)
        if kind is not None:
            to_screen = " (muốn in ra màn hình thì ghi «-»)" if stdout_ok else ""
            return (f"«{path}» là {kind}, không phải một tệp thường: xeploai chỉ ghi {what} vào một tệp thường"
                    f"{to_screen}; hãy chọn một tên tệp khác")
        for source in ins:
            if _same_file(path, source):
                return (f"tệp {what} «{path}» chính là tệp đầu vào «{source}»: xeploai không bao giờ ghi đè tệp "
                        "đầu vào; hãy chọn một tên tệp khác")
        log = next((str(f) for f in log_files if _same_file(path, f)), None)
        if log is not None or _log_name(real_output(path)):
            shown = log if log is not None else str(real_output(path))
            which = "tệp đi kèm nhật ký kiểm tra" if shown.endswith(LOG_ENDS) else "nhật ký kiểm tra"
            named = "" if real_output(shown) == real_output(path) else f" «{shown}»"
            return (f"tệp {what} «{path}» là {which}{named}: xeploai không bao giờ ghi đè nhật ký kiểm tra; "
                    "hãy chọn một tên tệp khác")
        if _is_database(path):
            return (f"tệp {what} «{path}» là một cơ sở dữ liệu SQLite (như nhật ký kiểm tra): xeploai không bao giờ "
                    "ghi đè nó; hãy chọn một tên tệp khác")
        for other_what, other in seen:
            if not is_stdout(other) and _same_file(path, other):
                return f"{other_what} và {what} cùng ghi vào một tệp «{path}»: hãy chọn hai tên tệp khác nhau"
        seen.append((what, path))
    return None


def write_text_output(path: str | Path, text: str) -> None:
    """Write an output text: to standard output for ``-`` (or ``/dev/stdout``), otherwise atomically into the
    real target of the path (``write_text_atomic``; a device or a pipe is refused with ``OutputRefused``)."""
    if is_stdout(path):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_text_atomic(path, text)
