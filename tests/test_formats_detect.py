"""What is not a contact list we read is named, whatever the file is called: exit 2 with
the format and what to do, never a CSV parse of its bytes, never a traceback."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.sandbox import RunningSandbox
from tests.conftest import Cli

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def zipped(path: Path, entries: dict[str, bytes], mimetype: bytes | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        if mimetype is not None:
            archive.writestr("mimetype", mimetype)
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def numbers_file(path: Path) -> Path:
    """The entries of an Apple Numbers file (a ZIP since Numbers 3; IWA streams in Index/)."""
    entries = {
        "Index/Document.iwa": b"\x00\x12\x34",
        "Index/Metadata.iwa": b"\x00",
        "Metadata/Properties.plist": b"bplist00",
        "preview.jpg": b"\xff\xd8\xff",
    }
    return zipped(path, entries)


def pdf(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    return path


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


CASES = {
    "numbers": (
        lambda d: numbers_file(d / "contacts.numbers"),
        "is an Apple Numbers spreadsheet",
        "File > Export To > Excel (or CSV)",
    ),
    "pdf renamed csv": (
        lambda d: pdf(d / "contacts.csv"),
        "is a PDF document",
        "export the contacts from it as CSV",
    ),
    "zip of csv": (
        lambda d: zipped(d / "contacts.zip", {"contacts.csv": b"phone\n1\n"}),
        "is a ZIP archive (1 file(s): contacts.csv)",
        "unzip it",
    ),
    "word docx": (
        lambda d: zipped(d / "list.docx", {"word/document.xml": b"<w/>"}),
        "is a Word document",
        "export the contacts as CSV",
    ),
    "odt": (
        lambda d: zipped(
            d / "a.ods", {"content.xml": b"<x/>"}, b"application/vnd.oasis.opendocument.text"
        ),
        "is an OpenDocument text document",
        "export the contacts as CSV",
    ),
    "word doc": (
        lambda d: write(d / "a.xls", OLE2 + bytes(504) + "WordDocument".encode("utf-16-le")),
        "is a Word 97-2003 document",
        "export the contacts as CSV",
    ),
    "vcard": (
        lambda d: write(
            d / "c.csv", b"BEGIN:VCARD\r\nVERSION:3.0\r\nTEL:+14155552671\r\nEND:VCARD\r\n"
        ),
        "is a vCard (.vcf) file",
        "export the contacts as CSV",
    ),
    "html as xls": (
        lambda d: write(d / "report.xls", b"<html><table><tr><td>Phone</td></tr></table></html>"),
        "is an HTML or XML document",
        "save it as .xlsx or as CSV",
    ),
    "rtf": (
        lambda d: write(d / "c.csv", b"{\\rtf1\\ansi Phone, Name\\par}"),
        "is an RTF document",
        "export the contacts from it",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_format_we_do_not_read_is_named(cli: Cli, tmp_path: Path, case: str) -> None:
    make, what, todo = CASES[case]
    path = make(tmp_path)
    for args, stdin in (((path,), None), (("-",), path.read_bytes())):
        result = cli("validate", *args, "--report", tmp_path / "r.csv", stdin=stdin)
        assert result.exit_code == 2, result.stderr
        assert what in result.stderr and todo in result.stderr
        assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
        assert not (tmp_path / "r.csv").exists()  # nothing was read as records


def test_sync_of_a_pdf_sends_nothing(
    cli: Cli, tmp_path: Path, sandbox_factory: Callable[..., RunningSandbox]
) -> None:
    arnis = sandbox_factory("arnis")
    source = pdf(tmp_path / "contacts.csv")
    result = cli("sync", source, "--target", "arnis", "--base-url", arnis.url)
    assert result.exit_code == 2
    assert "is a PDF document" in result.stderr
    assert arnis.store.writes() == 0
