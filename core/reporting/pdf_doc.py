"""The PDF report's page and type: A4, body text 9 pt or more in black, an embedded Unicode
font that covers every ID the data can hold, and a visible stand-in where none does.

Fonts, in order: Lato (the ``fontpkg-lato`` package, a dependency, so a fresh ``make setup``
has it: static Regular and Bold covering Latin, Greek and Cyrillic) with Noto Sans CJK
(``cvttf-notosanscjk-regular``) as the fallback for Chinese, Japanese, Korean and symbols;
DejaVu Sans where Lato is missing; Helvetica as the last resort. A character no embedded font
has is printed as ``[U+XXXX]`` — visible, never blank.
fpdf2 embeds only the glyphs used, so the CJK font adds kilobytes, not megabytes.
"""

from __future__ import annotations

import re
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from core.redact import redact
from core.reporting.natural_order import natural_key  # noqa: F401 - the report modules import it from here

BLACK = (0, 0, 0)
RULE = (120, 120, 120)
SHADE = (236, 236, 236)
MIN_PT = 9.0
"""No text in the report is smaller (tests/test_receipt_signing.py reads every font size back)."""
BODY_PT = 9.5
GRID_PADDING = 0.8
"""Millimetres of padding inside a table cell (a row is ``size * 0.47 + 2 * GRID_PADDING`` high a line)."""
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/Library/Fonts", "C:/Windows/Fonts")
_LATIN1 = {"—": "-", "–": "-", "→": "->", "≈": "~", "…": "...", "’": "'", "“": '"', "”": '"', "≤": "<=", "≥": ">="}
_LATIN1 |= {"−": "-", "×": "x", "Δ": "delta ", "·": "-", "✓": "v"}
_UNIT_GAP = re.compile(r"(\d) %")


def font_files() -> tuple[Path | None, Path | None, Path | None, str]:
    """(regular, bold, CJK fallback, the main font's name) found on this installation."""
    main, bold, cjk, name = None, None, None, "Helvetica"
    try:
        import fontpkg_lato

        found = fontpkg_lato.ROOT / "files"
        if (found / "Lato-Regular.ttf").is_file() and (found / "Lato-Bold.ttf").is_file():
            main, bold, name = found / "Lato-Regular.ttf", found / "Lato-Bold.ttf", "Lato"
    except ImportError:
        pass
    if main is None:
        for folder in FONT_DIRS:
            if (Path(folder) / "DejaVuSans.ttf").is_file() and (Path(folder) / "DejaVuSans-Bold.ttf").is_file():
                main, bold, name = Path(folder) / "DejaVuSans.ttf", Path(folder) / "DejaVuSans-Bold.ttf", "DejaVu Sans"
                break
    try:
        import cvttf_NotoSansCJK_Regular

        cjk = Path(cvttf_NotoSansCJK_Regular.get_TTF_path())
    except (ImportError, OSError):
        cjk = None
    return main, bold, cjk, name


class ReportDoc(FPDF):
    """An A4 document with the report's fonts and a few layout helpers."""

    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.title_text = title
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=16)
        self.family, self.cmaps = "Helvetica", []
        main, bold, cjk, self.font_name = font_files()
        if main is not None and bold is not None:
            self.add_font("Main", "", str(main))
            self.add_font("Main", "B", str(bold))
            self.family = "Main"
            self.cmaps.append(self.fonts["main"].cmap)
        if cjk is not None and main is not None:
            self.add_font("CJK", "", str(cjk))
            self.add_font("CJK", "B", str(cjk))
            self.set_fallback_fonts(["CJK"], exact_match=False)
            self.cmaps.append(self.fonts["cjk"].cmap)
        self.set_title(title)
        self.set_creator("CRAGRU Studio")

    # -- text ---------------------------------------------------------------------------------
    def text_of(self, value) -> str:
        """``value`` as text every character of which prints: ``[U+XXXX]`` where no font has it.
        Every string the PDF draws comes through here, so credentials are redacted here too: the PDF's
        text streams are compressed, so a redaction of the written file, as for text outputs, cannot."""
        text = redact(value)
        if not self.cmaps:
            for bad, good in _LATIN1.items():
                text = text.replace(bad, good)
            text = "".join(ch if ord(ch) < 256 else f"[U+{ord(ch):04X}]" for ch in text)
        else:
            text = "".join(
                ch if ch in "\n\t" or any(ord(ch) in cmap for cmap in self.cmaps) else f"[U+{ord(ch):04X}]"
                for ch in text
            )
        return _UNIT_GAP.sub("\\1\u00a0%", text)  # "95 %" never splits over two lines

    def font(self, size: float = BODY_PT, bold: bool = False, colour=BLACK) -> None:
        self.set_font(self.family, "B" if bold else "", max(size, MIN_PT))
        self.set_text_color(*colour)

    def footer(self) -> None:
        self.set_y(-12)
        self.font(MIN_PT)
        self.cell(0, 5, self.text_of(f"{self.title_text} — page {self.page_no()} of {{nb}}"), align="C")

    def heading(self, text: str, size: float = 13) -> None:
        self.ln(1.5)
        self.font(size, bold=True)
        self.multi_cell(0, size * 0.5, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def para(self, text: str, size: float = BODY_PT, bold: bool = False, indent: float = 0) -> None:
        size = max(size, MIN_PT)
        self.font(size, bold)
        self.set_x(self.l_margin + indent)
        self.multi_cell(0, size * 0.47, self.text_of(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.ln(0.8)

    def room(self) -> float:
        """Millimetres left on this page above the bottom margin."""
        return self.h - self.b_margin - self.get_y()

    def need(self, height: float) -> None:
        """A new page unless ``height`` mm still fit on this one (a chart stays with its caption)."""
        if self.room() < height:
            self.add_page()

    def grid(
        self,
        rows,
        widths=None,
        size: float = BODY_PT,
        marks=None,
        align: str = "LEFT",
        head=True,
        width=None,
        pad_y: float = GRID_PADDING,
    ) -> None:
        """A table, first row as headings (repeated on a new page) unless not ``head``, as wide as the
        page unless ``width`` (mm, from the left margin); ``marks[i][j]`` shades a body cell (grey and
        bold: still visible in grey-scale); ``pad_y`` the padding above and under a cell's text."""
        size = max(size, MIN_PT)
        self.font(size)
        self.set_fill_color(255, 255, 255)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        shade = FontFace(fill_color=SHADE, emphasis="BOLD")
        with self.table(
            col_widths=widths,
            text_align=align,
            line_height=size * 0.47,
            headings_style=FontFace(emphasis="BOLD", fill_color=SHADE),
            padding=(pad_y, GRID_PADDING),
            first_row_as_headings=head,
            width=width,
            align="LEFT",
        ) as table:
            for i, row in enumerate(rows):
                cells = table.row()
                for j, value in enumerate(row):
                    marked = marks is not None and i > 0 and marks[i - int(head)][j]
                    cells.cell(self.text_of(value), style=shade if marked else None)
        self.ln(1.5)
