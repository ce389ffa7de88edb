"""The Streamlit app's logic without Streamlit, importable and testable on its own; the pages only lay out
what these functions return.

- ``words``: the app's Vietnamese (numbers, sizes, levels, profiles and options in words, status sentences);
- ``loading``: the case folder, uploads, scenarios, the workbook template, the shelf of read cases;
- ``solving``: the base solve kept in an incremental session; what-ifs and "what would keeping it cost";
- ``tables``: tables built for decisions, searched, grouped and paged on the server;
- ``pictures``: the tree, the quota chart, before/after bars, cause chains;
- ``why``: one subject's explanation and its quota ranking;
- ``whatifs``: the what-if delta, the committee's notes, sample what-ifs, side-by-side comparison;
- ``committee``: the page «Việc cần quyết định»;
- ``history``: the audit log as the app writes and shows it;
- ``report``: the Word report's form fields (number, date, addressees, signer);
- ``rules``: the rule catalogue in words.

The app works in a case folder (``solver.access``): an uploaded case is kept there and nowhere else, and
its audit log (``solver.audit``) records the app's solves (once per case version), the committee's locks
with their reason and author, and every download, under a case key (the file's name in the folder)
shared by all its versions.
"""

from solver.appcore.committee import *  # noqa: F403
from solver.appcore.history import *  # noqa: F403
from solver.appcore.loading import *  # noqa: F403
from solver.appcore.pictures import *  # noqa: F403
from solver.appcore.report import *  # noqa: F403
from solver.appcore.rules import *  # noqa: F403
from solver.appcore.solving import *  # noqa: F403
from solver.appcore.tables import *  # noqa: F403
from solver.appcore.whatifs import *  # noqa: F403
from solver.appcore.whatifs import _ascii_fold  # noqa: F401
from solver.appcore.why import *  # noqa: F403
from solver.appcore.words import *  # noqa: F403
