"""Test-wide settings: no audit log is written beside the cases the tests read (tests of the log set it)."""

import os

os.environ.setdefault("XEPLOAI_AUDIT", "off")
