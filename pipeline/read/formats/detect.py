"""What an input is, from its bytes, whatever its name says.

:func:`sniff` looks at the first bytes: a ZIP archive, an OLE2 compound file (old Office),
a PDF, RTF, HTML or XML, a vCard, JSON, or else text for the CSV reader. A ZIP or an OLE2
file is then told apart by its entries (:func:`zip_kind`, :func:`ole_kind`): the
workbooks we read get their kind (``xlsx``, ``xlsm``, ``xlsb``, ``ods``, ``xls``), and
everything else an :class:`~pipeline.errors.InputError` naming what it is and what to do.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from typing import Final

from pipeline.errors import InputError

ZIP: Final = "zip"
OLE2: Final = "ole2"
JSON: Final = "json"
TEXT: Final = "text"

#: what to do with a workbook or a document we do not read
_SAVE_AS = "save it as .xlsx or as CSV (File > Save As) and pass that file"

_OPENDOCUMENT = "application/vnd.oasis.opendocument."
_ODS_MIMETYPE = _OPENDOCUMENT + "spreadsheet"

#: first bytes of the formats people hand over instead of a contact list: what they are
_REFUSED_MAGIC: Final = (
    (b"%PDF", "a PDF document"),
    (b"{\\rtf", "an RTF document"),
)
_MARKUP = re.compile(rb"\A\s*<(?:\?xml|!doctype|html|table)\b", re.IGNORECASE)
_VCARD = re.compile(rb"\A\s*BEGIN:VCARD", re.IGNORECASE)
#: a JSON object, or an array of anything but bare words (``[ID],[Name]`` is a CSV header)
_JSON_START = re.compile(rb'\A\s*(?:\{|\[\s*(?:[{\["\]\d-]|\Z))')


def sniff(head: bytes, name: str) -> str:
    """``ZIP``, ``OLE2``, ``JSON`` or ``TEXT`` for the first bytes of input ``name`` (a
    few KiB); raises :class:`InputError` for a document we do not read."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return ZIP
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE2
    body = _without_bom(head)
    for magic, what in _REFUSED_MAGIC:
        if body.lstrip().startswith(magic):
            raise refused(name, what, "export the contacts from it as CSV or as an Excel workbook")
    if _VCARD.match(body):
        raise refused(
            name,
            "a vCard (.vcf) file",
            "export the contacts as CSV instead (Google Contacts, Outlook and Apple "
            "Contacts all can)",
        )
    if _MARKUP.match(body):
        raise refused(
            name,
            "an HTML or XML document (a web page or report saved under a spreadsheet name?)",
            "open it in Excel and " + _SAVE_AS,
        )
    if _JSON_START.match(body):
        return JSON
    return TEXT


def _without_bom(head: bytes) -> bytes:
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le")):
        if head.startswith(bom):
            if codec == "utf-8":
                return head[len(bom) :]
            return head[len(bom) :].decode(codec, "ignore").encode("utf-8")
    if head.startswith(codecs.BOM_UTF16_BE):
        return head[2:].decode("utf-16-be", "ignore").encode("utf-8")
    return head


def refused(name: str, what: str, todo: str) -> InputError:
    """The error for input ``name``, which is ``what``, and what to do instead."""
    return InputError(f"{name}: is {what}, which contact-sync does not read; {todo}")


def zip_kind(raw: bytes, name: str) -> str:
    """``xlsx``, ``xlsm``, ``xlsb`` or ``ods`` for a ZIP archive holding that workbook."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise InputError(
            f"{name}: is a ZIP archive (an .xlsx workbook?) that cannot be opened ({exc}): "
            "it is corrupt or cut short; if it is a workbook, open it in Excel and save it "
            "again, or export the sheet as CSV"
        ) from exc
    if "xl/workbook.xml" in names:
        return "xlsm" if "xl/vbaProject.bin" in names else "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if mimetype.startswith(_ODS_MIMETYPE.encode()):
        return "ods"
    raise _other_zip(name, names, mimetype.decode("ascii", "replace"))


def _other_zip(name: str, names: set[str], mimetype: str) -> InputError:
    if any(n.startswith("Index/") for n in names):
        return refused(
            name,
            "an Apple Numbers spreadsheet (or another iWork document)",
            "in Numbers, File > Export To > Excel (or CSV), and pass the exported file",
        )
    if mimetype.startswith(_OPENDOCUMENT):
        kind = mimetype[len(_OPENDOCUMENT) :]
        return refused(name, f"an OpenDocument {kind} document", "export the contacts as CSV")
    if "word/document.xml" in names:
        return refused(name, "a Word document", "export the contacts as CSV")
    if any(n.startswith("ppt/") for n in names):
        return refused(name, "a PowerPoint presentation", "export the contacts as CSV")
    listed = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
    return refused(
        name,
        f"a ZIP archive ({len(names)} file(s): {listed})",
        "unzip it and pass the CSV or workbook inside",
    )


#: names of OLE2 directory entries (UTF-16LE): how Office's old formats are told apart
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_WORD = "WordDocument".encode("utf-16-le")
_POWERPOINT = "PowerPoint Document".encode("utf-16-le")


def ole_kind(raw: bytes, name: str) -> str:
    """``xls`` for an OLE2 file that may be an Excel 97-2003 workbook; an encrypted
    (password-protected) workbook, a Word or PowerPoint file is refused."""
    if _ENCRYPTED in raw:
        raise encrypted(name)
    if _WORD in raw:
        raise refused(name, "a Word 97-2003 document (.doc)", "export the contacts as CSV")
    if _POWERPOINT in raw:
        raise refused(
            name, "a PowerPoint 97-2003 presentation (.ppt)", "export the contacts as CSV"
        )
    return "xls"


def encrypted(name: str) -> InputError:
    return InputError(
        f"{name}: is a password-protected (encrypted) workbook, which contact-sync cannot open; "
        "open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt "
        f"with Password: clear it) and save, or {_SAVE_AS}"
    )
