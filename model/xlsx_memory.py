"""Workbooks written wholly in memory, with identical bytes for identical content.

openpyxl's ``Workbook.save`` serializes every sheet into a file in the system's temporary folder before
zipping it, and removes those files only when the process exits normally: a killed or crashed process
would leave members' names there. ``workbook_bytes`` writes the same parts through the same serializer,
in memory (tests/test_reports.py checks that no temporary file is made), straight into a ``StableZip``.
"""

from __future__ import annotations

import io
import re
import zipfile

from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter


class StableZip(zipfile.ZipFile):
    """A zip being written whose entries all get one fixed time, deflate and mode, and whose Office core
    properties one fixed creation and modification time: identical parts give identical bytes."""

    def __init__(self, file, date_time: tuple = (2000, 1, 1, 0, 0, 0), core_stamp: str = "2000-01-01T00:00:00Z",
                 compresslevel: int | None = None):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=compresslevel)
        self._date_time, self._core_stamp = date_time, core_stamp.encode()

    def _entry(self, name: str | zipfile.ZipInfo) -> zipfile.ZipInfo:
        entry = zipfile.ZipInfo(name.filename if isinstance(name, zipfile.ZipInfo) else name, date_time=self._date_time)
        entry.compress_type = zipfile.ZIP_DEFLATED
        entry._compresslevel = self.compresslevel  # (zipfile's own name: ZipInfo has no public one)
        entry.external_attr = 0o644 << 16
        return entry

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        entry = self._entry(zinfo_or_arcname)
        if entry.filename == "docProps/core.xml":
            data = re.sub(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)",
                          rb"\g<1>" + self._core_stamp + rb"\g<3>", data.encode() if isinstance(data, str) else data)
        super().writestr(entry, data)

    def open(self, name, mode="r", pwd=None, *, force_zip64=False):
        if mode == "w" and not isinstance(name, zipfile.ZipInfo):  # (writestr passes its own entry)
            name = self._entry(name)
        return super().open(name, mode, pwd, force_zip64=force_zip64)


class MemoryExcelWriter(ExcelWriter):
    """openpyxl's ExcelWriter with each sheet serialized into memory; a ``sheet_writer`` with a
    ``pieces()`` method gives its sheet in pieces, streamed into the archive (a province's member sheet is
    never one text in memory)."""

    sheet_writer = WorksheetWriter

    def write_worksheet(self, ws):  # ExcelWriter.write_worksheet for a workbook that is not write-only
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = self.sheet_writer(ws, out=io.BytesIO())
        writer.write()
        ws._rels = writer._rels
        if hasattr(writer, "pieces"):
            with self._archive.open(ws.path[1:], "w") as fh:
                for piece in writer.pieces():
                    fh.write(piece)
        else:
            self._archive.writestr(ws.path[1:], writer.read())
        self.manifest.append(ws)


def workbook_write(wb, file, writer_class: type[MemoryExcelWriter] = MemoryExcelWriter, *,
                   date_time: tuple = (2000, 1, 1, 0, 0, 0), compresslevel: int | None = None) -> None:
    """Write the workbook as .xlsx into ``file`` (a path or a binary file object), identical for identical
    content: every entry dated ``date_time``, the core properties' times 2000-01-01; ``compresslevel`` as
    zlib's (None: its default, 6). Straight into the file: a province's workbook is tens of MB, and holding it
    in memory as well cost that much more at the report's peak."""
    with StableZip(file, date_time, compresslevel=compresslevel) as archive:
        writer_class(wb, archive).save()  # not Workbook.save: it writes through temporary files


def workbook_bytes(wb, writer_class: type[MemoryExcelWriter] = MemoryExcelWriter, *,
                   date_time: tuple = (2000, 1, 1, 0, 0, 0), compresslevel: int | None = None) -> bytes:
    """The workbook as .xlsx bytes (``workbook_write`` into memory)."""
    buf = io.BytesIO()
    workbook_write(wb, buf, writer_class, date_time=date_time, compresslevel=compresslevel)
    return buf.getvalue()


__all__ = ["MemoryExcelWriter", "StableZip", "workbook_bytes", "workbook_write"]
