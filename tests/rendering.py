"""Exports opened as users meet them: LibreOffice converts them to PDF, poppler and PDFium
read it back (pages, text, the font of each character) and write the first page as PNG.

The files go to artifacts/exports/ (``make render-exports`` copies the pictures to
docs/screenshots/). Tests that use these are skipped without Debian's libreoffice
(``soffice``) and poppler-utils.
"""

import ctypes
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from opinions.importers import normalize_extracted_text
from tests.conftest import ROOT

ARTIFACTS = ROOT / "artifacts" / "exports"

needs_libreoffice = pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
    reason="needs Debian's libreoffice (soffice) and poppler-utils (pdftoppm)",
)


def artifact(name: str, data: bytes) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(data)
    return path


def to_pdf(path: Path) -> Path:
    """``path`` converted by LibreOffice to PDF beside it (a profile of its own, so that
    parallel runs do not share one)."""
    profile = Path(os.environ.get("TMPDIR", "/tmp")) / f"lo-profile-{os.getpid()}"
    subprocess.run(
        [
            shutil.which("soffice"),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(path.parent),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return path.with_suffix(".pdf")


def to_png(pdf: Path, *, page: int = 1, resolution: int = 80) -> Path:
    """A page of ``pdf`` (the first unless told) as a PNG beside it."""
    stem = pdf.with_suffix("")
    number = str(page)
    command = ["pdftoppm", "-png", "-r", str(resolution), "-f", number, "-l", number, "-singlefile"]
    subprocess.run([*command, str(pdf), str(stem)], check=True, timeout=60)
    png = stem.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return png


def pdf_info(pdf: Path) -> str:
    return subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout


def page_count(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", pdf_info(pdf), re.M)[1])


def page_text(pdf: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def page_words(pdf: Path, page: int) -> str:
    """A page's text as the importer reads a PDF (radicals → kanji), without any blank."""
    return re.sub(r"\s+", "", normalize_extracted_text(page_text(pdf, page)))


def embedded_fonts(pdf: Path) -> str:
    """What ``pdffonts`` lists: the fonts the PDF embeds."""
    return subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout


def fonts_of(pdf: Path, phrase: str, *, page: int = 0) -> set[str]:
    """The fonts the characters of ``phrase`` are set in where it first appears on ``page``
    (PDFium's font of each character; the text compared as the importer reads it)."""
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    document = pypdfium2.PdfDocument(str(pdf))
    text_page = document[page].get_textpage()
    characters, fonts = [], []
    buffer, flags = ctypes.create_string_buffer(256), ctypes.c_int()
    for index in range(text_page.count_chars()):
        character = normalize_extracted_text(chr(pdfium_c.FPDFText_GetUnicode(text_page, index)))
        pdfium_c.FPDFText_GetFontInfo(text_page, index, buffer, 256, ctypes.byref(flags))
        for part in character:
            characters.append(part)
            fonts.append(buffer.value.decode())
    start = "".join(characters).find(phrase)
    assert start >= 0, f"{phrase!r} is not on page {page + 1}"
    return set(fonts[start : start + len(phrase)])
