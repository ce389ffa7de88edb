"""The case folder and the optional password of a shared machine: solver/access.py, `xeploai password`, the gate."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from solver import access
from solver.commands.cli import main

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app_streamlit.py"
PASSWORD = "Chi bộ số 1 — mật khẩu"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A case folder of its own (not yet made), as the app and the CLI find it."""
    path = tmp_path / "ho_so"
    monkeypatch.setenv(access.CASE_DIR_ENV, str(path))
    return path


def quick(record_folder: Path) -> None:
    """No pause after a wrong password in this folder (the pause itself is tested with a fake sleep)."""
    access.throttle_for(record_folder).delay = 0.0


# ---- the case folder -------------------------------------------------------------------------------


def test_the_case_folder_comes_from_the_environment_or_defaults_to_ho_so(tmp_path, monkeypatch):
    monkeypatch.delenv(access.CASE_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert access.case_dir() == tmp_path / "ho_so"
    assert not (tmp_path / "ho_so").exists()  # only made when something is kept there
    monkeypatch.setenv(access.CASE_DIR_ENV, "  ")
    assert access.case_dir() == tmp_path / "ho_so"
    monkeypatch.setenv(access.CASE_DIR_ENV, "du_lieu/chi_bo")
    assert access.case_dir() == tmp_path / "du_lieu" / "chi_bo"
    assert access.case_dir(str(tmp_path / "khac")) == tmp_path / "khac"  # a CLI option wins


def test_the_case_folder_is_made_owner_only_and_a_file_in_its_place_is_refused(tmp_path):
    made = access.ensure_case_dir(tmp_path / "a" / "ho_so")
    assert made.is_dir() and stat.S_IMODE(made.stat().st_mode) == 0o700
    (tmp_path / "tep").write_text("x", encoding="utf-8")
    with pytest.raises(access.AccessError, match="tep"):
        access.ensure_case_dir(tmp_path / "tep")


# ---- the password file -----------------------------------------------------------------------------


def test_a_password_round_trips_and_a_wrong_one_is_refused(folder):
    assert access.read_password(folder) is None and access.check_password(folder, "bất kỳ")  # none set: open
    path = access.set_password(folder, PASSWORD)
    assert path == folder / access.PASSWORD_FILE
    assert access.check_password(folder, PASSWORD)
    for wrong in ("", "chi bộ số 1 — mật khẩu", PASSWORD + " ", PASSWORD[:-1], "x" * 5000):
        assert not access.check_password(folder, wrong), wrong
    # typed in decomposed form (some Vietnamese keyboards): the same password
    assert access.check_password(folder, unicodedata.normalize("NFD", PASSWORD))


def test_the_file_holds_a_salted_scrypt_hash_with_its_parameters_and_no_plaintext(folder):
    access.set_password(folder, PASSWORD)
    path = folder / access.PASSWORD_FILE
    raw = path.read_bytes()
    for form in ("NFC", "NFD"):
        text = unicodedata.normalize(form, PASSWORD)
        for encoded in (text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-8").hex().encode()):
            assert encoded not in raw
    assert b"Chi b" not in raw and "mật".encode() not in raw
    data = json.loads(raw)
    assert data["kdf"] == "scrypt" and {"n", "r", "p", "salt", "key"} <= set(data)
    assert data["n"] >= 1 << 14 and len(bytes.fromhex(data["salt"])) >= 16
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert [p.name for p in folder.iterdir()] == [access.PASSWORD_FILE]  # no temporary file left
    # salted: the same password again gives another salt and another hash, and still opens
    access.set_password(folder, PASSWORD)
    again = json.loads(path.read_bytes())
    assert again["salt"] != data["salt"] and again["key"] != data["key"]
    assert access.check_password(folder, PASSWORD)


def test_the_stored_parameters_are_the_ones_used(folder):
    record = access.hash_password(PASSWORD, n=1 << 12, r=4, p=2)
    access.ensure_case_dir(folder)
    (folder / access.PASSWORD_FILE).write_text(json.dumps(record.to_data()), encoding="utf-8")
    assert access.read_password(folder) == record
    assert access.check_password(folder, PASSWORD) and not access.check_password(folder, "khác hẳn rồi")


@pytest.mark.parametrize("password, fragment", [("", "trống"), ("   ", "trống"), ("ngắn", "quá ngắn"),
                                                ("có\nxuống dòng", "ký tự điều khiển"), ("x" * 1025, "quá dài")])
def test_an_unacceptable_new_password_is_refused_and_nothing_is_written(folder, password, fragment):
    with pytest.raises(access.AccessError, match=fragment):
        access.set_password(folder, password)
    assert not folder.exists()


@pytest.mark.parametrize("content, fragment", [
    (b"{khong phai json", "không phải tệp mật khẩu"),
    (b'{"format": "khac"}', "không phải tệp mật khẩu"),
    (json.dumps({"format": "xeploai-matkhau", "version": 1, "kdf": "scrypt", "n": 1 << 20, "r": 32, "p": 1,
                 "salt": "00" * 16, "key": "00" * 32}).encode(), "tham số scrypt"),  # 4 GiB of memory: refused
    (json.dumps({"format": "xeploai-matkhau", "version": 1, "kdf": "scrypt", "n": 1000, "r": 8, "p": 1,
                 "salt": "00" * 16, "key": "00" * 32}).encode(), "tham số scrypt"),
    (json.dumps({"format": "xeploai-matkhau", "version": 1, "kdf": "scrypt", "n": 16384, "r": 8, "p": 1,
                 "salt": "zz" * 16, "key": "00" * 32}).encode(), "muối"),
    (json.dumps({"format": "xeploai-matkhau", "version": 9, "kdf": "scrypt"}).encode(), "phiên bản"),
])
def test_a_damaged_password_file_never_opens_the_app(folder, content, fragment):
    access.ensure_case_dir(folder)
    (folder / access.PASSWORD_FILE).write_bytes(content)
    with pytest.raises(access.AccessError, match=fragment):
        access.read_password(folder)
    with pytest.raises(access.AccessError):
        access.session_open(folder, None)


def test_removing_the_password_opens_the_app_again(folder):
    assert access.remove_password(folder) is False
    access.set_password(folder, PASSWORD)
    assert not access.session_open(folder, None)
    assert access.remove_password(folder) is True
    assert access.session_open(folder, None) and not (folder / access.PASSWORD_FILE).exists()


def test_a_session_is_closed_when_the_password_changes(folder):
    access.set_password(folder, PASSWORD)
    quick(folder)
    fingerprint, problem = access.try_password(folder, PASSWORD)
    assert problem is None and access.session_open(folder, fingerprint)
    assert PASSWORD not in fingerprint and fingerprint != access.read_password(folder).key
    access.set_password(folder, "mật khẩu mới hoàn toàn")
    assert not access.session_open(folder, fingerprint)


# ---- slowing guesses down --------------------------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_throttle_lets_a_few_attempts_through_then_makes_each_wait_longer():
    clock = FakeClock()
    t = access.Throttle(free=3, pause=10.0, max_pause=35.0, clock=clock)
    for _ in range(3):
        assert t.wait_seconds() == 0.0
        t.failed()
    assert t.wait_seconds() == pytest.approx(10.0)  # the third failure: wait 10 s
    clock.now += 10.0
    assert t.wait_seconds() == 0.0
    t.failed()
    assert t.wait_seconds() == pytest.approx(20.0)  # doubled
    clock.now += 20.0
    t.failed()
    assert t.wait_seconds() == pytest.approx(35.0)  # capped
    t.succeeded()
    assert t.wait_seconds() == 0.0 and t.failures == 0


def test_a_wrong_password_is_answered_late_and_many_wrong_ones_lock_the_form(folder):
    access.set_password(folder, PASSWORD)
    throttle = access.throttle_for(folder)
    slept = []
    for i in range(throttle.free):
        fingerprint, problem = access.try_password(folder, "sai mật khẩu", sleep=slept.append)
        assert fingerprint is None and problem.startswith("Mật khẩu không đúng.")
    assert slept == [throttle.delay] * throttle.free and throttle.delay >= 0.5
    # now even the right password must wait, without being checked
    fingerprint, problem = access.try_password(folder, PASSWORD, sleep=slept.append)
    assert fingerprint is None and "hãy đợi" in problem and f"sai {throttle.free} lần" in problem
    assert access.throttle_for(folder) is throttle  # one per folder, for every session of the process


# ---- `xeploai password` ----------------------------------------------------------------------------


def run_cli(monkeypatch, capsys, args, stdin: str | None = None) -> tuple[int, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["password", *args])
    return code, capsys.readouterr().out


def test_the_cli_sets_changes_and_removes_the_password(folder, monkeypatch, capsys):
    code, out = run_cli(monkeypatch, capsys, ["--stdin"], f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0 and "Đã đặt mật khẩu" in out and str(folder) in out
    assert access.check_password(folder, PASSWORD) and PASSWORD not in out
    code, out = run_cli(monkeypatch, capsys, ["--stdin"], "mật khẩu thứ hai\nmật khẩu thứ hai\n")
    assert code == 0 and "Đã đổi mật khẩu" in out
    assert access.check_password(folder, "mật khẩu thứ hai") and not access.check_password(folder, PASSWORD)
    code, out = run_cli(monkeypatch, capsys, ["--remove"])
    assert code == 0 and "Đã bỏ mật khẩu" in out and access.read_password(folder) is None
    code, out = run_cli(monkeypatch, capsys, ["--remove"])
    assert code == 0 and "chưa đặt mật khẩu" in out


def test_the_cli_asks_twice_with_getpass(folder, monkeypatch, capsys):
    import getpass

    answers = iter([PASSWORD, PASSWORD])
    prompts = []
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": (prompts.append(prompt), next(answers))[1])
    monkeypatch.setattr("solver.commands.cli._has_terminal", lambda: True)  # as at a terminal (tests have none)
    code, out = run_cli(monkeypatch, capsys, [])
    assert code == 0 and prompts == ["Mật khẩu mới: ", "Nhập lại mật khẩu mới: "]
    assert access.check_password(folder, PASSWORD)


@pytest.mark.parametrize("stdin, fragment", [
    (f"{PASSWORD}\nkhác đi\n", "không khớp"),
    ("ngắn\nngắn\n", "quá ngắn"),
    (f"{PASSWORD}\n", "hai lần"),
    ("", "hai lần"),
])
def test_the_cli_refuses_a_bad_password_with_exit_2_and_changes_nothing(folder, monkeypatch, capsys, stdin, fragment):
    access.set_password(folder, PASSWORD)
    before = (folder / access.PASSWORD_FILE).read_bytes()
    code, out = run_cli(monkeypatch, capsys, ["--stdin"], stdin)
    assert code == 2 and fragment in out
    assert (folder / access.PASSWORD_FILE).read_bytes() == before


def test_the_cli_folder_option_and_a_real_process(tmp_path):
    target = tmp_path / "chung"
    env = {**os.environ, access.CASE_DIR_ENV: str(tmp_path / "khong_dung")}
    proc = subprocess.run([sys.executable, "-m", "solver", "password", "--stdin", "--folder", str(target)],
                          input=f"{PASSWORD}\n{PASSWORD}\n", capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and PASSWORD not in proc.stdout
    assert access.check_password(target, PASSWORD) and not (tmp_path / "khong_dung").exists()
    help_text = subprocess.run([sys.executable, "-m", "solver", "password", "--help"], capture_output=True,
                               text=True, cwd=ROOT, timeout=60).stdout
    assert "bỏ mật khẩu" in help_text and "--stdin" in help_text and "scrypt" in help_text


# ---- the app's gate (AppTest) ----------------------------------------------------------------------


def app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def blocked(at: AppTest) -> bool:
    """Only the password form: its title, no page, no sidebar, no case picker."""
    keys = {w.key for w in (*at.text_input, *at.button, *at.selectbox)}
    return (any("cần mật khẩu" in t.value for t in at.title) and keys == {"access_password", "access_submit"}
            and not at.sidebar.children and not [t for t in at.title if t.value == "Dữ liệu"])


def submit(at: AppTest, password: str) -> AppTest:
    at.text_input(key="access_password").input(password)
    at.button(key="access_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_without_a_password_file_the_app_opens_as_before(folder):
    at = app()
    assert [t.value for t in at.title] == ["Dữ liệu"]
    assert at.selectbox(key="data_scenario") is not None
    assert not any(w.key == "access_password" for w in at.text_input)
    assert any(str(folder).replace("_", "\\_") in c.value for c in at.sidebar.caption)


def test_with_a_password_the_app_shows_only_the_form_until_the_right_password(folder):
    access.set_password(folder, PASSWORD)
    quick(folder)
    at = app()
    assert blocked(at)
    for page in ("app_pages/ket_qua.py", "app_pages/nhat_ky.py"):  # no page behind the form either
        at.switch_page(page).run()
        assert blocked(at), page
    submit(at, "mật khẩu sai")
    assert blocked(at) and any("Mật khẩu không đúng" in e.value for e in at.error)
    submit(at, PASSWORD)
    assert not at.error and not blocked(at)
    assert at.title[0].value in ("Dữ liệu", "Nhật ký") and at.sidebar.children  # a page of the app, with its menu
    assert "access_password" not in at.session_state or not at.session_state["access_password"]
    # another session (a new browser tab) must give the password again
    assert blocked(app())
    # the password changed: this session is closed too
    access.set_password(folder, "mật khẩu mới hoàn toàn")
    at.run()
    assert blocked(at)


def test_the_lock_button_closes_the_session(folder):
    access.set_password(folder, PASSWORD)
    at = submit(app(), PASSWORD)
    assert not blocked(at)
    at.sidebar.button(key="access_lock").click().run()
    assert blocked(at)


def test_a_damaged_password_file_keeps_the_app_closed_with_a_vietnamese_message(folder):
    access.ensure_case_dir(folder)
    (folder / access.PASSWORD_FILE).write_text("hỏng", encoding="utf-8")
    at = app()
    assert any("tệp mật khẩu" in e.value and "bị hỏng" in e.value for e in at.error)
    assert not at.selectbox and not at.sidebar.children


# ---- issue 18: the throttle holds under parallel attempts, across processes and restarts ----------


def _cheap_password(folder: Path) -> None:
    """A password stored with small scrypt parameters, so that forty judgements stay quick."""
    access.ensure_case_dir(folder)
    record = access.hash_password(PASSWORD, n=1 << 10)
    (folder / access.PASSWORD_FILE).write_text(json.dumps(record.to_data()), encoding="utf-8")


def test_forty_parallel_wrong_guesses_are_not_all_judged(folder, monkeypatch):
    import threading

    _cheap_password(folder)
    judged = []
    real = access.PasswordRecord.matches

    def counting(self, password):
        judged.append(password)
        return real(self, password)

    monkeypatch.setattr(access.PasswordRecord, "matches", counting)
    throttle = access.throttle_for(folder)
    start = threading.Barrier(40)
    answers = []

    def guess(i: int) -> None:
        start.wait()
        answers.append(access.try_password(folder, f"đoán sai {i}", sleep=lambda s: None))

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 40 and all(fp is None for fp, _ in answers)
    assert len(judged) == throttle.free  # only the first five were evaluated; the others had to wait
    assert sum("hãy đợi" in msg for _, msg in answers) == 40 - throttle.free


def test_the_count_is_kept_in_the_folder_across_a_restart_and_other_processes(folder):
    _cheap_password(folder)
    for i in range(5):
        access.try_password(folder, f"sai {i}", sleep=lambda s: None)
    access._THROTTLES.clear()  # a restart of the app: nothing in memory
    fingerprint, problem = access.try_password(folder, PASSWORD, sleep=lambda s: None)
    assert fingerprint is None and "hãy đợi" in problem
    state = folder / access.THROTTLE_FILE
    assert json.loads(state.read_text(encoding="utf-8"))["failures"] == 5
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    code = ("import sys; from solver import access; "
            f"print(access.try_password({str(folder)!r}, {PASSWORD!r}, sleep=lambda s: None)[1])")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=60)
    assert "hãy đợi" in proc.stdout.decode("utf-8")  # another process sees the same lock-out


def test_a_damaged_count_file_locks_rather_than_opens(folder):
    _cheap_password(folder)
    (folder / access.THROTTLE_FILE).write_text("{hỏng", encoding="utf-8")
    access._THROTTLES.clear()
    fingerprint, problem = access.try_password(folder, PASSWORD, sleep=lambda s: None)
    assert fingerprint is None and "hãy đợi" in problem


def test_a_success_clears_the_kept_count(folder):
    _cheap_password(folder)
    access.try_password(folder, "sai", sleep=lambda s: None)
    fingerprint, _ = access.try_password(folder, PASSWORD, sleep=lambda s: None)
    assert fingerprint
    assert json.loads((folder / access.THROTTLE_FILE).read_text(encoding="utf-8"))["failures"] == 0


def test_an_existing_case_folder_open_to_others_is_made_owner_only(tmp_path):
    path = tmp_path / "ho_so"
    path.mkdir(mode=0o755)
    os.chmod(path, 0o755)
    access.ensure_case_dir(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o700


def test_a_shared_world_writable_folder_is_refused_as_the_case_folder(tmp_path):
    shared = tmp_path / "chung"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    with pytest.raises(access.AccessError) as info:
        access.ensure_case_dir(shared)
    assert "dùng chung" in str(info.value)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777  # left as it was


def test_an_upload_kept_in_an_existing_case_folder_is_owner_only(tmp_path):
    from solver.appcore import store_upload

    folder = tmp_path / "ho_so"
    folder.mkdir()
    os.chmod(folder, 0o755)
    access.ensure_case_dir(folder)  # what the app does with its case folder before it keeps anything there
    source, _, _ = store_upload(folder, "phuong.json", (ROOT / "scenarios" / "phuong_tan_loi_2018.json").read_bytes())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(Path(source.path).stat().st_mode) == 0o600
