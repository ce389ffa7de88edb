"""Workbooks written wholly in memory.

openpyxl's ``Workbook.save`` serializes every sheet into a file in the system's temporary folder before
zipping it, and removes those files only when the process exits normally: a killed or crashed process
would leave members' names there. ``workbook_bytes`` writes the same parts through the same serializer,
in memory (tests/test_reports.py checks that no temporary file is made).
"""

from __future__ import annotations

import io
import zipfile

from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter


class MemoryExcelWriter(ExcelWriter):
    """openpyxl's ExcelWriter with each sheet serialized into memory (a ``sheet_writer`` may add to what
    its ``read()`` returns)."""

    sheet_writer = WorksheetWriter

    def write_worksheet(self, ws):  # ExcelWriter.write_worksheet for a workbook that is not write-only
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = self.sheet_writer(ws, out=io.BytesIO())
        writer.write()
        ws._rels = writer._rels
        self._archive.writestr(ws.path[1:], writer.read())
        self.manifest.append(ws)


def workbook_bytes(wb, writer_class: type[MemoryExcelWriter] = MemoryExcelWriter) -> bytes:
    """The workbook as .xlsx bytes (entries stored uncompressed, with the current time: callers that want
    identical bytes for identical input rewrite the archive with fixed times, compressing it then)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        writer_class(wb, archive).save()  # not Workbook.save: it writes through temporary files
    return buf.getvalue()


__all__ = ["MemoryExcelWriter", "workbook_bytes"]
