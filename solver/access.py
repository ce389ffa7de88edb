"""The case folder and who may open the app: where the app keeps what it is given, and an optional password.

The app works in one **case folder** (``XEPLOAI_CASE_DIR``, default ``./ho_so`` under the working
directory, made on first use with owner-only permissions): an uploaded case is saved there and nowhere
else, and the audit log lives there unless ``XEPLOAI_AUDIT`` says otherwise.

A **password** for a shared machine is optional. ``xeploai password`` stores a salted scrypt hash of it
(``hashlib.scrypt``, parameters beside it) in ``xeploai-matkhau.json`` in the case folder, owner-only
(0600); never the password. Without that file the app opens as before. The password keeps the app's
screens closed; it does not encrypt or protect the files on disk. No Streamlit here: the app's gate is a
thin form over :func:`check_password` and :class:`Throttle`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.errors import os_error_text
from solver.io import write_atomic

CASE_DIR_ENV = "XEPLOAI_CASE_DIR"
DEFAULT_CASE_DIR = "ho_so"
PASSWORD_FILE = "xeploai-matkhau.json"
FORMAT = "xeploai-matkhau"
FORMAT_VERSION = 1
#: scrypt cost: 2^15 × 8 × 128 bytes = 32 MiB of memory and about 0.1 s per try on a small machine.
SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES, SALT_BYTES = 1 << 15, 8, 1, 32, 16
#: Bounds on what a (possibly edited) password file may ask of the machine: memory 128·n·r bytes.
MAX_N, MAX_R, MAX_P, MAX_MEMORY = 1 << 20, 32, 4, 256 << 20
MIN_LENGTH = 8
MAX_LENGTH = 1024


class AccessError(Exception):
    """The password file cannot be used (unreadable, damaged) or a password is not acceptable; Vietnamese."""


# ---- the case folder ------------------------------------------------------------------------------


def case_dir(setting: str | None = None) -> Path:
    """The case folder: ``setting`` (a CLI option), else ``XEPLOAI_CASE_DIR``, else ``./ho_so`` under the
    working directory; an absolute path. It is not created here (see :func:`ensure_case_dir`)."""
    value = setting if setting is not None else os.environ.get(CASE_DIR_ENV)
    value = (value or "").strip()
    if not value:
        return (Path.cwd() / DEFAULT_CASE_DIR).absolute()
    try:
        path = Path(value).expanduser()
    except RuntimeError:  # "~someone" with no such account, or no home directory: the path as written
        path = Path(value)
    return path.absolute()


def ensure_case_dir(folder: str | Path) -> Path:
    """Make the case folder when it is missing, owner-only (0700); when it already exists with wider
    permissions, make it owner-only too. ``AccessError`` when it cannot be made or closed, or when it is a
    folder every account shares (like /tmp, world-writable): uploads must not be kept there."""
    path = Path(folder)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise AccessError(f"không tạo được thư mục hồ sơ «{path}»: {os_error_text(exc)}") from None
    if not path.is_dir():
        raise AccessError(f"«{path}» không phải là thư mục: hãy đặt biến môi trường {CASE_DIR_ENV} thành một "
                          "thư mục")
    try:
        st = path.stat()
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            if mode & 0o002 or mode & stat.S_ISVTX:
                raise AccessError(f"thư mục hồ sơ «{path}» là thư mục dùng chung cho mọi tài khoản (như /tmp): "
                                  f"hãy đặt biến môi trường {CASE_DIR_ENV} thành một thư mục riêng")
            os.chmod(path, 0o700)  # it existed, readable by others: owner-only from now on
    except OSError as exc:
        raise AccessError(f"không đặt được quyền chỉ chủ tài khoản cho thư mục hồ sơ «{path}»: "
                          f"{os_error_text(exc)}") from None
    return path


# ---- the password file ----------------------------------------------------------------------------


def password_path(folder: str | Path) -> Path:
    return Path(folder) / PASSWORD_FILE


def _normalize(password: str) -> bytes:
    """The bytes hashed for a password: NFC (a Vietnamese keyboard may send either form), UTF-8."""
    return unicodedata.normalize("NFC", password).encode("utf-8")


def check_new_password(password: str) -> None:
    """``AccessError`` (Vietnamese) when a new password is not acceptable."""
    if not isinstance(password, str) or not password.strip():
        raise AccessError("mật khẩu không được để trống")
    text = unicodedata.normalize("NFC", password)
    if len(text) < MIN_LENGTH:
        raise AccessError(f"mật khẩu quá ngắn: cần ít nhất {MIN_LENGTH} ký tự")
    if len(text) > MAX_LENGTH:
        raise AccessError(f"mật khẩu quá dài: tối đa {MAX_LENGTH} ký tự")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise AccessError("mật khẩu không được chứa ký tự điều khiển (xuống dòng, tab…)")
    if any(unicodedata.category(c) == "Cs" for c in text):  # bytes that were not UTF-8, smuggled as surrogates
        raise AccessError("mật khẩu có byte không phải chữ UTF-8: hãy gõ lại bằng bàn phím hoặc lưu tệp ở dạng UTF-8")


@dataclass(frozen=True)
class PasswordRecord:
    """What the password file holds: the scrypt parameters, the salt and the derived key (hex)."""

    n: int
    r: int
    p: int
    salt: str
    key: str

    def derive(self, password: str) -> bytes:
        return hashlib.scrypt(_normalize(password), salt=bytes.fromhex(self.salt), n=self.n, r=self.r, p=self.p,
                              dklen=len(self.key) // 2, maxmem=256 * self.n * self.r + (1 << 20))

    def matches(self, password: str) -> bool:
        if not isinstance(password, str) or len(password) > MAX_LENGTH * 4:
            return False
        try:
            derived = self.derive(password)
        except UnicodeEncodeError:  # a lone surrogate: no password set through check_new_password has one
            return False
        return hmac.compare_digest(derived, bytes.fromhex(self.key))

    @property
    def fingerprint(self) -> str:
        """Names this password (not the password itself): a session opened with it is closed when it changes."""
        return hashlib.sha256(f"{self.salt}:{self.key}".encode("ascii")).hexdigest()

    def to_data(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": FORMAT_VERSION, "kdf": "scrypt", "n": self.n, "r": self.r,
                "p": self.p, "salt": self.salt, "key": self.key}


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> PasswordRecord:
    """A new record for ``password`` with a fresh random salt (``AccessError`` when it is not acceptable)."""
    check_new_password(password)
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(_normalize(password), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES,
                         maxmem=256 * n * r + (1 << 20))
    return PasswordRecord(n=n, r=r, p=p, salt=salt.hex(), key=key.hex())


def _is_hex(value: Any, low: int, high: int) -> bool:
    return (isinstance(value, str) and low <= len(value) <= high and len(value) % 2 == 0
            and all(c in "0123456789abcdef" for c in value))


def _parse_record(data: Any, path: Path) -> PasswordRecord:
    def bad(why: str) -> AccessError:
        return AccessError(f"tệp mật khẩu «{path}» bị hỏng ({why}): hãy đặt lại bằng `xeploai password`, hoặc "
                           "xóa tệp để bỏ mật khẩu")

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad("không phải tệp mật khẩu của xeploai")
    if data.get("version") != FORMAT_VERSION or data.get("kdf") != "scrypt":
        raise bad(f"phiên bản {data.get('version')!r} hoặc thuật toán {data.get('kdf')!r} không được hỗ trợ")
    n, r, p = data.get("n"), data.get("r"), data.get("p")
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (n, r, p))
    if not ints or not (2 <= n <= MAX_N and n & (n - 1) == 0 and 1 <= r <= MAX_R and 1 <= p <= MAX_P
                        and 128 * n * r <= MAX_MEMORY):
        raise bad("tham số scrypt không hợp lệ")
    if not _is_hex(data.get("salt"), 16, 256) or not _is_hex(data.get("key"), 32, 256):
        raise bad("muối hoặc mã băm không hợp lệ")
    return PasswordRecord(n=n, r=r, p=p, salt=data["salt"], key=data["key"])


def read_password(folder: str | Path) -> PasswordRecord | None:
    """The password record of a case folder; None when no password is set; ``AccessError`` when the file
    is there but cannot be used (the app then stays closed: a damaged file never opens it)."""
    path = password_path(folder)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AccessError(f"không đọc được tệp mật khẩu «{path}»: {os_error_text(exc)}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    return _parse_record(data, path)


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (``solver.io.write_atomic``), owner-only (0600) from the
    first byte, and flushed to disk before the rename."""
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    write_atomic(path, write, mode=0o600)


def set_password(folder: str | Path, password: str) -> Path:
    """Set or change the password of a case folder (made when missing); returns the file written."""
    record = hash_password(password)
    ensure_case_dir(folder)
    path = password_path(folder)
    try:
        _write_private(path, json.dumps(record.to_data(), indent=1, sort_keys=True) + "\n")
    except OSError as exc:
        raise AccessError(f"không ghi được tệp mật khẩu «{path}»: {os_error_text(exc)}") from None
    return path


def remove_password(folder: str | Path) -> bool:
    """Remove the password (the app opens without one again); False when none was set."""
    path = password_path(folder)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise AccessError(f"không xóa được tệp mật khẩu «{path}»: {os_error_text(exc)}") from None
    return True


def check_password(folder: str | Path, password: str) -> bool:
    """Whether ``password`` opens the case folder's app (True when no password is set)."""
    record = read_password(folder)
    return True if record is None else record.matches(password)


# ---- slowing down guesses -------------------------------------------------------------------------


#: Failed attempts of a case folder, kept beside the password file: a hidden name, which an upload can never take
#: (uploads are never hidden files), owner-only like the folder.
THROTTLE_FILE = ".xeploai-matkhau-sai.json"

try:  # POSIX: a lock every process and thread of this machine honours
    import fcntl
except ImportError:  # pragma: no cover - Windows: only the threads of one process are kept in step
    fcntl = None  # type: ignore[assignment]


class Throttle:
    """Failed password attempts of one case folder: the lock-out is per folder, not per call or per session.

    After each failure the form answers only after ``delay`` seconds; from the ``free``-th failure on, the
    next attempt must also wait ``pause`` seconds, doubling with each further failure up to ``max_pause``. A
    success clears the count.

    With a ``path`` the count and the time of the last failure are kept in that file, and every attempt is
    checked, judged and counted while holding a lock on it (``fcntl.flock``, plus a thread lock): forty
    attempts sent together are judged one after the other, and only the first ``free`` are evaluated before
    the others must wait; another app process on the same folder, or a restart, sees the same count. The
    ``clock`` is then wall time (seconds since the epoch), comparable between processes.
    """

    def __init__(self, *, free: int = 5, delay: float = 1.0, pause: float = 30.0, max_pause: float = 900.0,
                 clock: Callable[[], float] | None = None, path: str | Path | None = None):
        self.free, self.delay, self.pause, self.max_pause = free, delay, pause, max_pause
        self.path = Path(path) if path is not None else None
        self._clock = clock or (time.time if self.path is not None else time.monotonic)
        self._lock = threading.RLock()
        self._fd: int | None = None
        self.failures = 0
        self._last = 0.0

    # -- the lock and the kept state -------------------------------------------------------------

    @contextlib.contextmanager
    def held(self):
        """Hold the folder's lock (re-entrant within a thread): the kept count is read on entry, written on exit."""
        with self._lock:
            if self.path is None or self._fd is not None:
                yield self
                return
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                self._fd = fd
                self._read(fd)
                before = (self.failures, self._last)
                try:
                    yield self
                finally:
                    if (self.failures, self._last) != before:
                        self._write(fd)
            finally:
                self._fd = None
                os.close(fd)  # closing releases the flock

    def _read(self, fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 4096)
        if not raw.strip():
            self.failures, self._last = 0, 0.0
            return
        try:
            data = json.loads(raw.decode("utf-8"))
            failures, last = data["failures"], data["last"]
            if not (isinstance(failures, int) and not isinstance(failures, bool) and failures >= 0
                    and isinstance(last, (int, float)) and not isinstance(last, bool)):
                raise ValueError(data)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            # damaged (a crash while it was written, a hand edit): locked as after ``free`` failures
            failures, last = self.free, os.fstat(fd).st_mtime
        self.failures, self._last = failures, float(last)

    def _write(self, fd: int) -> None:
        text = json.dumps({"failures": self.failures, "last": self._last}).encode("ascii")
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, text)
        os.fsync(fd)

    # -- the rules -----------------------------------------------------------------------------------

    def wait_seconds(self) -> float:
        """How long before the next attempt is allowed (0: now)."""
        with self.held():
            if self.failures < self.free:
                return 0.0
            pause = min(self.pause * 2 ** min(self.failures - self.free, 64), self.max_pause)
            return max(0.0, min(pause, self._last + pause - self._clock()))  # a clock set back waits no longer

    def failed(self) -> None:
        with self.held():
            self.failures += 1
            self._last = self._clock()

    def succeeded(self) -> None:
        with self.held():
            self.failures = 0


_THROTTLES: dict[str, Throttle] = {}
_THROTTLES_LOCK = threading.Lock()


def throttle_for(folder: str | Path) -> Throttle:
    """The :class:`Throttle` of a case folder, its count kept in the folder (``THROTTLE_FILE``): one per folder
    in this process, and every process on the folder shares the count through the file."""
    key = str(Path(folder).absolute())
    with _THROTTLES_LOCK:
        return _THROTTLES.setdefault(key, Throttle(path=Path(key) / THROTTLE_FILE))


def try_password(folder: str | Path, password: str, *, sleep: Callable[[float], None] = time.sleep
                 ) -> tuple[str | None, str | None]:
    """One attempt at the app's password form: (the fingerprint to keep in the session, None) when it is
    right, (None, a Vietnamese message) when it is not or when attempts must wait.

    The check of the wait, the judgement of the password and the count of a failure happen under the folder's
    lock, so attempts sent in parallel cannot all be judged before the first failures are counted; the answer
    to a wrong password is then delayed outside the lock."""
    record = read_password(folder)
    if record is None:
        return "", None
    throttle = throttle_for(folder)
    try:
        with throttle.held():
            wait = throttle.wait_seconds()
            if wait > 0:
                return None, (f"Đã nhập sai {throttle.failures} lần: hãy đợi {int(wait) + 1} giây rồi thử lại.")
            if record.matches(password or ""):
                throttle.succeeded()
                return record.fingerprint, None
            throttle.failed()
            failures = throttle.failures
    except OSError as exc:  # the count of failures cannot be kept (a read-only folder…): never open unchecked
        return None, (f"Không kiểm tra được mật khẩu: không ghi được số lần nhập sai vào «{throttle.path}» "
                      f"({os_error_text(exc)}).")
    sleep(throttle.delay)
    left = throttle.free - failures
    more = f" Còn {left} lần thử trước khi phải đợi." if left > 0 else ""
    return None, "Mật khẩu không đúng." + more


def session_open(folder: str | Path, fingerprint: str | None) -> bool:
    """Whether a session that opened the app with ``fingerprint`` may go on (True without a password;
    False once the password was changed). ``AccessError`` when the password file is damaged."""
    record = read_password(folder)
    if record is None:
        return True
    return fingerprint is not None and hmac.compare_digest(fingerprint, record.fingerprint)


__all__ = [
    "AccessError", "CASE_DIR_ENV", "DEFAULT_CASE_DIR", "MIN_LENGTH", "PASSWORD_FILE", "PasswordRecord", "THROTTLE_FILE",
    "Throttle",
    "case_dir", "check_new_password", "check_password", "ensure_case_dir", "hash_password", "password_path",
    "read_password", "remove_password", "session_open", "set_password", "throttle_for", "try_password",
]
