"""Issue 18, re-checked from outside (red-team report of 2026-12-06): an escaped "whatif" key, device and pipe
outputs, the audit log as an output, tracebacks of long file names and non-UTF-8 passwords, English reaching
the user, hidden characters in the document block and look-alike ids, and JSON locations. Each test failed
before its fix."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from solver.commands.cli import main
from solver.commands.console import EXIT_ERROR, EXIT_INVALID, EXIT_OK

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "data" / "examples" / "01_cap_20_percent.json"


@pytest.fixture(autouse=True)
def _no_audit_log(monkeypatch):
    monkeypatch.setenv("XEPLOAI_AUDIT", "off")


@pytest.fixture
def case(tmp_path) -> Path:
    path = tmp_path / "ho_so.json"
    shutil.copy(EXAMPLE, path)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(capsys, *args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def refused(capsys, files: list[Path], *args) -> str:
    """A verb that must refuse its outputs: exit 2, a Vietnamese message, every file as it was, nothing new."""
    before = {f: digest(f) for f in files if f.is_file()}
    listing = sorted(p.name for p in files[0].parent.iterdir())
    code, text = run(capsys, *args)
    assert code == EXIT_INVALID, text
    assert "Không thực hiện" in text and "Traceback" not in text
    assert {f: digest(f) for f in before} == before
    assert sorted(p.name for p in files[0].parent.iterdir()) == listing
    return text


# ---- item 3: an escaped "whatif" key is a what-if for every check ----------------------------------------


@pytest.fixture
def escaped_whatif(case) -> Path:
    path = case.parent / "gia_dinh.json"
    path.write_text('{"\\u0077hatif": "Nếu giữ?", "base": "%s", "lock": {"DV1": "T"}}' % case.name, encoding="utf-8")
    return path


@pytest.mark.parametrize("verb,flag", [("solve", "--json"), ("compare", "--json"), ("report", "--xlsx")])
def test_an_escaped_whatif_key_cannot_overwrite_its_base(capsys, case, escaped_whatif, verb, flag):
    text = refused(capsys, [case, escaped_whatif], verb, escaped_whatif, flag, case)
    assert "chính là tệp đầu vào" in text


def test_the_audit_hash_of_an_escaped_whatif_covers_its_base(case, escaped_whatif):
    from model.whatif import input_digest, input_files

    assert [p.name for p in input_files(escaped_whatif)] == [escaped_whatif.name, case.name]
    before = input_digest(escaped_whatif)
    data = json.loads(case.read_text(encoding="utf-8"))
    data["name"] = data["name"] + " (bản khác)"
    case.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert input_digest(escaped_whatif) != before


def test_the_whatif_prefilter_is_exact():
    from model.whatif import may_be_whatif

    assert may_be_whatif(b'{"whatif": "x"}')
    assert may_be_whatif(b'{"wh\\u0061t\\u0069f": "x"}')
    assert may_be_whatif(b'{"name": "whatif", "subjects": []}')  # may be: the parsed keys decide (they say no)
    assert not may_be_whatif(b'{"\\u0057hatif": "x"}')  # "Whatif" is not the key
    assert not may_be_whatif(b'{"name": "\\u0041", "subjects": []}')
