"""``--html-report``: the page of real CLI runs, read back with an HTML parser, and the same
kind of page rendered by a real headless Chromium (screenshot, DOM, console).

Chromium is required, never skipped: ``make test`` installs it (tools/ensure-browser: Debian package ``chromium``)
before ``make test``. Set ``CHROMIUM`` to use another binary.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.html_report import style as html_style
from pipeline.sandbox import RunningSandbox
from tests.conftest import Cli

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"

# ---------------------------------------------------------------- a small DOM

_VOID = {"meta", "br", "img", "link", "input", "hr", "wbr", "source", "area", "base", "col"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        return [
            n
            for n in self.walk()
            if (tag is None or n.tag == tag)
            and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def find(self, tag: str | None = None, **attrs: str) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}> in the page"
        return found[0]

    def table(self) -> list[list[str]]:
        """The body rows of the first table under this node, as cell texts."""
        body = self.find("tbody")
        return [[td.text() for td in tr.find_all("td")] for tr in body.find_all("tr")]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(page: str) -> Node:
    builder = _Builder()
    builder.feed(page)
    builder.close()
    return builder.root


def with_class(doc: Node, name: str) -> list[Node]:
    return [n for n in doc.walk() if name in n.attrs.get("class", "").split()]


def counts_shown(doc: Node) -> dict[str, int]:
    """The chart's figures: status -> count, as the page shows them."""
    chart = doc.find("table", id="counts")
    return {
        td.attrs["data-status"]: int(td.text().replace(",", ""))
        for td in chart.find_all("td")
        if "data-status" in td.attrs
    }


def error_rows(doc: Node, code: str) -> list[list[str]]:
    return doc.find("details", data_code=code).table()


# ---------------------------------------------------------------- the input

HEADER = ["Name", "Phone", "Email", "Time Zone", "Language", "Notes"]
ROWS = [
    ["Ann Lee", "(415) 555-2671", "ann@example.com", "America/Los_Angeles", "en-US", ""],
    ["<script>alert(1)</script>", "<b>555</b>", "", "", "", ""],
    ['<a href="https://evil.example/x">click</a>', "", "c@example.com", "", "", ""],
    ["Dee", "+1 415 555 2673", '"><script>alert(3)</script>@x', "", "", ""],
    ["Eve <img src=x onerror=alert(4)>", "+1 415 555 2674", "", "Mars/Olympus", "", ""],
    ["Fay", "+1 415 555 2675", "", "", "<i>xx</i>", ""],
    ["Gus & Co </td></tr></table>", "415.555.2671", "", "", "", ""],
    ["Hal", "+1 415 555 2676", "hal@example.com", "", "", "<style>body{display:none}</style>"],
]
#: row -> (error code, phone as read, a piece of the message)
EXPECTED_ERRORS = {
    2: ("invalid_phone", "<b>555</b>", "<b>555</b>"),
    3: ("missing_phone", "", ""),
    4: ("invalid_email", "+1 415 555 2673", "<script>alert(3)</script>"),
    5: ("invalid_timezone", "+1 415 555 2674", "Mars/Olympus"),
    6: ("invalid_language", "+1 415 555 2675", "<i>xx</i>"),
    7: ("duplicate_in_file", "415.555.2671", "row 1"),
}
HOSTILE_NAMES = {
    2: "<script>alert(1)</script>",
    3: '<a href="https://evil.example/x">click</a>',
    5: "Eve <img src=x onerror=alert(4)>",
    7: "Gus & Co </td></tr></table>",
}
#: the only elements the page is made of: anything else came from the data
PAGE_TAGS = {
    "#document", "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3",
    "p", "span", "b", "small", "strong", "br", "div", "a", "code", "ul", "li", "table",
    "thead", "tbody", "tr", "th", "td", "details", "summary", "footer",
}  # fmt: skip


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def validate_page(cli: Cli, tmp_path: Path, rows: list[list[str]] = ROWS) -> tuple[str, dict]:
    source = write_csv(tmp_path / "in.csv", rows)
    page, summary = tmp_path / "out" / "report.html", tmp_path / "s.json"
    result = cli("validate", source, "--html-report", page, "--summary-json", summary, "--quiet")
    assert result.exit_code == 1, result.stderr
    return page.read_text(encoding="utf-8"), json.loads(summary.read_text(encoding="utf-8"))


def assert_self_contained(page: str, doc: Node) -> None:
    """Nothing in the page can make the browser load anything."""
    head = doc.find("head")
    csp = head.find("meta", http_equiv="Content-Security-Policy").attrs["content"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    for node in doc.walk():
        assert node.tag in PAGE_TAGS, f"<{node.tag}> in the page"
        for name, value in node.attrs.items():
            assert not name.startswith("on"), (node.tag, name)
            if name in ("src", "srcset", "action", "formaction", "poster", "data", "background"):
                raise AssertionError(f"<{node.tag} {name}={value!r}>")
            if name == "href":
                assert value.startswith("#"), f"<{node.tag} href={value!r}>"
    styles = " ".join(n.text() for n in doc.find_all("style"))
    styles += " ".join(n.attrs.get("style", "") for n in doc.walk())
    assert "url(" not in styles and "@import" not in styles and "@font-face" not in styles
    assert len(doc.find_all("style")) == 1
    assert "<script" not in page.lower()


# ---------------------------------------------------------------- validate


def test_validate_page_shows_counts_and_every_error_code_with_its_rows(
    cli: Cli, tmp_path: Path
) -> None:
    page, summary = validate_page(cli, tmp_path)
    doc = parse(page)
    assert summary["counts"] == {"valid": 2, "invalid": 5, "duplicate": 1}
    assert counts_shown(doc) == summary["counts"]
    tiles = [t.text() for t in with_class(doc, "tile")]
    assert tiles[:3] == ["8records in the file", "2fine (25%)", "6need attention (75%)"]
    verdict = doc.find("div", id="verdict").text()
    assert "6 of 8 records need attention" in verdict

    codes = [d.attrs["data-code"] for d in doc.find_all("details") if "data-code" in d.attrs]
    assert sorted(codes) == sorted(summary["error_codes"])
    for row, (code, phone, message) in EXPECTED_ERRORS.items():
        section = doc.find("details", data_code=code)
        assert f"{summary['error_codes'][code]} record" in section.find("summary").text()
        listed = {int(r[0]): r for r in error_rows(doc, code)}
        assert row in listed, (code, listed)
        assert listed[row][1] == phone
        assert message in listed[row][3]
    assert "Fay" in error_rows(doc, "invalid_language")[0][2]
    assert doc.find("a", href="#err-invalid_phone")  # the index links to each code


def test_hostile_cells_render_as_text(cli: Cli, tmp_path: Path) -> None:
    page, _ = validate_page(cli, tmp_path)
    doc = parse(page)
    assert_self_contained(page, doc)
    shown_names = {
        int(r[0]): r[2] for code, *_ in EXPECTED_ERRORS.values() for r in error_rows(doc, code)
    }
    for row, name in HOSTILE_NAMES.items():
        assert shown_names[row] == name  # the exact text, neither lost nor run
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;" in page
    # the hostile link is text only: the page links nowhere but to itself
    assert {a.attrs["href"][:1] for a in doc.find_all("a")} == {"#"}


def test_long_error_lists_are_capped_with_and_n_more(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(html_style, "MAX_ROWS_SHOWN", 3)
    monkeypatch.setattr(html_style, "MAX_CELL_CHARS", 40)
    rows = [["N", f"bad {i}", "", "", "", ""] for i in range(10)]
    rows.append(["Long " + "x" * 500, "+1 415 555 2699", "oops", "", "", ""])
    page, summary = validate_page(cli, tmp_path, rows)
    doc = parse(page)
    assert summary["error_codes"]["invalid_phone"] == 10
    section = doc.find("details", data_code="invalid_phone")
    assert [r[0] for r in section.table()] == ["1", "2", "3"]
    assert "… and 7 more with this code" in section.text()
    assert "more" not in doc.find("details", data_code="invalid_email").text()
    long_name = error_rows(doc, "invalid_email")[0][2]
    assert long_name.endswith("…") and len(long_name) == 41


def test_messy_sample_page_is_self_contained(cli: Cli, tmp_path: Path) -> None:
    page_path = tmp_path / "messy.html"
    result = cli("validate", SAMPLES / "messy.csv", "--html-report", page_path, "--quiet")
    assert result.exit_code == 1
    page = page_path.read_text(encoding="utf-8")
    assert_self_contained(page, parse(page))
    assert "http://" not in page and "https://" not in page


# ---------------------------------------------------------------- plan and sync

FIRST = [
    ["Ann Lee", "(415) 555-2671", "ann@example.com", "", "", ""],
    ["Bob Ray", "+44 20 7946 0958", "bob@example.com", "", "", ""],
    ["Gone Soon", "+1 415 555 2675", "gone@example.com", "", "", ""],
    ["Keep Me", "+1 415 555 2674", "keep@example.com", "", "", ""],
]
SECOND = [
    ["Ann Lee", "(415) 555-2671", "ann.lee@example.com", "", "", ""],  # email changed
    ["Bob Ray", "+44 20 7946 0958", "bob@example.com", "", "", ""],  # unchanged
    ["Keep Me", "+1 415 555 2674", "keep@example.com", "", "", ""],  # unchanged
    ["<script>alert(1)</script>", "+1 415 555 2673", "new@example.com", "", "", ""],  # new
    ["Bad Phone", "n/a", "", "", "", ""],
]
GONE = "+14155552675"


def test_plan_and_mirror_sync_pages_show_the_plan_and_the_numbers_deleted(
    cli: Cli, sandbox_factory: Callable[..., RunningSandbox], tmp_path: Path
) -> None:
    arnis = sandbox_factory("arnis")
    target = ["--target", "arnis", "--base-url", arnis.url, "--state-dir", tmp_path / "state"]
    first = write_csv(tmp_path / "first.csv", FIRST)
    assert cli("sync", first, *target, "--quiet").exit_code == 0
    gone = arnis.store.find_e164(GONE)
    assert gone is not None
    second = write_csv(tmp_path / "second.csv", SECOND)
    mirror = ["--mode", "mirror", "--max-deletes", "100%", "--quiet"]

    plan_page = tmp_path / "plan.html"
    writes = arnis.store.writes()
    result = cli("plan", second, *target, *mirror, "--html-report", plan_page)
    assert result.exit_code == 1, result.stderr
    assert arnis.store.writes() == writes
    page = plan_page.read_text(encoding="utf-8")
    doc = parse(page)
    assert_self_contained(page, doc)
    assert "http://" not in page and "https://" not in page  # not even the sandbox's URL
    plan_tiles = {
        t.attrs["data-action"]: int(t.find("b").text())
        for t in with_class(doc.find("div", id="plan-counts"), "tile")
    }
    assert plan_tiles == {"create": 1, "update": 1, "delete": 1, "unchanged": 2, "skip": 0}
    deletes = doc.find("details", id="plan-delete")
    assert "open" in deletes.attrs
    assert [r[:2] for r in deletes.table()] == [[GONE, gone["id"]]]  # number and remote id
    assert doc.find("details", id="plan-update").table()[0][-1] == "email"
    created = doc.find("details", id="plan-create").table()
    assert [(r[0], r[2], r[3]) for r in created] == [
        ("4", "+14155552673", "<script>alert(1)</script>")
    ]
    assert counts_shown(doc) == {
        "create": 1,
        "update": 1,
        "unchanged": 2,
        "delete": 1,
        "invalid": 1,
    }
    assert "nothing was written" in doc.find("h2", id="plan").text()

    sync_page = tmp_path / "sync.html"
    result = cli("sync", second, *target, *mirror, "--html-report", sync_page)
    assert result.exit_code == 1, result.stderr
    assert arnis.store.find_e164(GONE) is None
    page = sync_page.read_text(encoding="utf-8")
    doc = parse(page)
    assert_self_contained(page, doc)
    assert "http://" not in page and "https://" not in page
    assert counts_shown(doc) == {
        "created": 1, "updated": 1, "unchanged": 2, "deleted": 1, "invalid": 1
    }  # fmt: skip
    assert doc.find("details", id="plan-delete").table() == [[GONE, gone["id"], "deleted"]]
    assert doc.find("details", id="plan-update").table()[0][-2:] == ["email", "updated"]
    assert doc.find("details", id="plan-create").table()[0][-1] == "created"
    [bad] = error_rows(doc, "invalid_phone")
    assert bad[:3] == ["5", "n/a", "Bad Phone"] and "'n/a'" in bad[3]
    assert "1remote contacts deleted" in [t.text() for t in with_class(doc, "tile")]


# ---------------------------------------------------------------- a real browser

_CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-color-profile=srgb",
    "--enable-logging=stderr",
    "--v=0",
)


def chromium_binary() -> str:
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    assert found, (
        "chromium is not installed; the HTML report is checked in a real browser. "
        "make test installs it (tools/ensure-browser: apt-get install chromium); or set CHROMIUM=/path/to/chrome"
    )
    return found


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [chromium_binary(), *_CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def console_problems(stderr: str) -> list[str]:
    """Whatever the page said on the console: a page without scripts says nothing."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, RGB rows) of an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, bytearray(), b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(bytes(idat))
    assert len(raw) == height * (stride + 1)
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line) if bpp == 3 else bytes(v for i, v in enumerate(line) if i % 4 != 3))
        prev = line
    return width, height, rows


def runs(rows: list[bytes]) -> list[tuple[str, int, int]]:
    """Horizontal runs of one colour: (hex colour, x where it starts, length in pixels)."""
    found = []
    for row in rows:
        pixels = [row[i : i + 3] for i in range(0, len(row), 3)]
        start = 0
        for x in range(1, len(pixels) + 1):
            if x == len(pixels) or pixels[x] != pixels[start]:
                found.append((pixels[start].hex(), start, x - start))
                start = x
    return found


def test_chromium_renders_the_messy_sample_page(cli: Cli, tmp_path: Path) -> None:
    page = tmp_path / "messy.html"
    assert cli("validate", SAMPLES / "messy.csv", "--html-report", page, "--quiet").exit_code == 1

    shot = tmp_path / "messy.png"
    done = chromium(page, tmp_path / "profile1", f"--screenshot={shot}", "--window-size=1200,900")
    assert console_problems(done.stderr) == []
    data = shot.read_bytes()
    assert len(data) > 30_000  # a page of text, tables and bars, not a blank
    width, height, rows = decode_png(data)
    assert (width, height) == (1200, 900)
    found = runs(rows)
    seen: Counter[str] = Counter()
    for colour, _, length in found:
        seen[colour] += length
    assert len(seen) > 100, "the screenshot is (nearly) a single colour"
    assert seen.most_common(1)[0][0] == "ffffff"  # the page's background
    assert seen["fff4e5"] > 10_000  # the verdict's amber panel
    # The chart's bars, in the first screen: one bar per status, all starting at the same x
    # (the track), their lengths in proportion to the counts (187, 32, 25).
    counts = {"valid": 187, "invalid": 32, "duplicate": 25}
    longest: dict[str, dict[int, int]] = {s: {} for s in counts}
    for status in counts:
        colour = html_style.COLOURS[status].lstrip("#")
        for c, x, length in found:
            if c == colour and length >= 20:  # not a glyph, not a legend swatch
                longest[status][x] = max(length, longest[status].get(x, 0))
    track = min(set.intersection(*(set(xs) for xs in longest.values())))
    full = longest["valid"][track]
    assert full > 300, longest
    for status, count in counts.items():
        assert abs(longest[status][track] - full * count / 187) <= 3, (status, longest)

    done = chromium(page, tmp_path / "profile2", "--dump-dom")
    assert console_problems(done.stderr) == []
    dom = parse(done.stdout)
    assert counts_shown(dom) == {"valid": 187, "invalid": 32, "duplicate": 25}
    assert "57 of 244 records need attention" in dom.find("div", id="verdict").text()
    assert dom.find_all("script") == []


def test_chromium_runs_nothing_from_a_hostile_file(cli: Cli, tmp_path: Path) -> None:
    page, _ = validate_page(cli, tmp_path)
    path = tmp_path / "out" / "report.html"
    done = chromium(path, tmp_path / "profile", "--dump-dom")
    # a script that ran, or one the page's policy blocked, would both say so on the console
    assert console_problems(done.stderr) == []
    dom = parse(done.stdout)
    assert dom.find_all("script") == [] and dom.find_all("img") == []
    names = {int(r[0]): r[2] for r in error_rows(dom, "invalid_phone")}
    assert names[2] == "<script>alert(1)</script>"
    assert re.search(r"8\s*records in the file", dom.text())
