"""plan and sync of a file read in many pieces, with their spools on disk, do exactly what
the same run in one piece does: the same report and rejects bytes, the same remote
contacts, and a batch request per full batch of creates (not one more per piece)."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipeline import api
from pipeline.config import Settings
from pipeline.errors import AbortError, GuardError
from pipeline.read import read_chunks
from pipeline.run import spool
from pipeline.sandbox import RunningSandbox, Store
from tests.conftest import API_KEY

PIECE_BYTES = 160
HEADER = "First Name,Last Name,Phone,Email,Opted Out"
#: remote contacts before the run: (number, first name, last name, opted out)
REMOTE = [
    ("+14155550101", "Same", "A", False),  # in the file unchanged
    ("+14155550102", "Old", "B", False),  # in the file with a new first name
    ("+14155550103", "Keep", "C", False),  # in the file, opted out there
    ("+14155550901", "Gone", "Z", False),  # not in the file (mirror deletes it)
    ("+14155550902", "GoneOut", "Z", True),  # not in the file, opted out (mirror keeps it)
    ("+14155550903", "Gone2", "Z", False),
]


def _rows() -> list[str]:
    rows = [
        "Same,A,+1 415 555 0101,,",
        "New,B,+1 415 555 0102,,",
        "Keep,C,(415) 555-0103,,yes",
    ]
    for i in range(40):
        phone = f"(415) 555-{1000 + i}" if i % 9 else "12"  # every ninth is invalid
        email = "bad-email" if i == 17 else f"p{i}@example.com"
        rows.append(f"P{i},Q,{phone},{email},")
    rows += ["Dup,D,415.555.1001,,", "Dup2,E,+1 415 555 0101,,", "Late,F,+1 415 555 1999,,yes"]
    return rows


def _csv(path: Path) -> Path:
    path.write_text(HEADER + "\n" + "\n".join(_rows()) + "\n", encoding="utf-8")
    return path


def _arnis(make: Callable[..., RunningSandbox]) -> RunningSandbox:
    sandbox = make("arnis", store=Store(id_style="uuid", seed=7))
    for number, first, last, opted_out in REMOTE:
        record = {"e164_number": number, "phone_number": number, "first_name": first}
        record["last_name"] = last
        sandbox.store.insert(number, {**record, "tags": [], "opted_out": opted_out})
    return sandbox


def _settings(source: Path, sandbox: RunningSandbox, out: Path, **extra: Any) -> Settings:
    out.mkdir(exist_ok=True)
    return Settings(
        input=str(source),
        target="arnis",
        base_url=sandbox.url,
        state_dir=str(out / "state"),
        report=str(out / "report.csv"),
        rejects=str(out / "rejects.csv"),
        chunk_size=7,
        concurrency=1,  # the same batches in the same order: the same seeded ids
        quiet=True,
        **extra,
    )


def _contacts(sandbox: RunningSandbox) -> list[tuple[Any, ...]]:
    return sorted(
        (c["e164_number"], c["id"], c.get("first_name"), c.get("email"), c.get("opted_out"))
        for c in sandbox.store.contacts.values()
    )


@dataclass
class Scene:
    source: Path
    arnis: RunningSandbox
    before: list[tuple[Any, ...]]

    def nothing_written(self) -> bool:
        unchanged = _contacts(self.arnis) == self.before
        return unchanged and all(r.method == "GET" for r in self.arnis.store.requests)


@pytest.fixture
def scene(
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Scene:
    """The test file, and an arnis sandbox holding REMOTE, as it was before the run."""
    monkeypatch.setenv("CONTACT_SYNC_API_KEY", API_KEY)
    arnis = _arnis(sandbox_factory)
    return Scene(_csv(tmp_path / "in.csv"), arnis, _contacts(arnis))


def _in_pieces(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """About six rows a piece, and every spooled piece written to disk."""
    monkeypatch.setattr(spool, "DEFAULT_BUDGET_BYTES", 0)
    monkeypatch.setattr("pipeline.read.encoding.SAMPLE_CHARS", 4)  # small files in many pieces
    assert settings.input is not None
    assert len(list(read_chunks(settings.input, block_bytes=PIECE_BYTES))) >= 6
    return replace(settings, read_block_bytes=PIECE_BYTES)


def _batches(sandbox: RunningSandbox) -> int:
    return sum(1 for r in sandbox.store.requests if r.path.endswith("/contacts/batch"))


@pytest.mark.parametrize("mode", ["upsert", "mirror"])
def test_sync_in_pieces_does_what_one_piece_does(
    sandbox_factory: Callable[..., RunningSandbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    monkeypatch.setenv("CONTACT_SYNC_API_KEY", API_KEY)
    source = _csv(tmp_path / "in.csv")
    whole_arnis, piece_arnis = _arnis(sandbox_factory), _arnis(sandbox_factory)
    limit = {"max_deletes": "5"}
    whole = api.sync(_settings(source, whole_arnis, tmp_path / "whole", mode=mode, **limit))
    pieced_settings = _settings(source, piece_arnis, tmp_path / "pieces", mode=mode, **limit)
    pieces = api.sync(_in_pieces(pieced_settings, monkeypatch))

    for name in ("report.csv", "rejects.csv"):
        assert (tmp_path / "pieces" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
    assert _contacts(piece_arnis) == _contacts(whole_arnis)
    assert pieces.summary.counts == whole.summary.counts
    assert pieces.results.equals(whole.results)
    plan = pieces.plan
    assert plan is not None and plan.equals(whole.plan)

    created = pieces.summary.counts["created"]
    assert created == 35  # 40 new rows, less 5 invalid numbers and a bad email; and "Late"
    assert _batches(piece_arnis) == math.ceil(created / 7) == _batches(whole_arnis)
    firsts = pieces.results.unique("e164", keep="first", maintain_order=True)
    statuses = dict(zip(firsts["e164"], firsts["status"], strict=True))
    assert statuses["+14155550102"] == "updated"
    assert statuses["+14155550101"] == "unchanged"
    assert statuses["+14155550103"] == "updated"  # opted out
    kept_out = piece_arnis.store.find_e164("+14155550103")
    assert kept_out is not None and kept_out["opted_out"] is True
    if mode == "mirror":
        assert statuses["+14155550901"] == statuses["+14155550903"] == "deleted"
        assert statuses["+14155550902"] == "skipped"
        assert piece_arnis.store.find_e164("+14155550901") is None
    opted = piece_arnis.store.find_e164("+14155551999")
    assert opted is not None and opted["opted_out"] is True  # an opt-out of the last piece


def test_plan_in_pieces_reports_what_one_piece_does(
    scene: Scene, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, arnis = scene.source, scene.arnis
    mirror = {"mode": "mirror", "max_deletes": "2"}
    whole = api.plan(_settings(source, arnis, tmp_path / "whole", **mirror))
    pieced = _in_pieces(_settings(source, arnis, tmp_path / "pieces", **mirror), monkeypatch)
    pieces = api.plan(pieced, keep_results=False)
    for name in ("report.csv", "rejects.csv"):
        assert (tmp_path / "pieces" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
    assert pieces.summary.counts == whole.summary.counts
    assert pieces.plan is None  # not kept: only reported
    actions = whole.results.filter(pl.col("row").is_null())["action"].to_list()
    assert sorted(actions) == ["delete", "delete", "skip"]
    assert scene.nothing_written()  # a plan writes nothing


def test_the_guards_see_the_whole_file_before_anything_is_sent(
    scene: Scene, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, arnis = scene.source, scene.arnis
    # 2 deletes (a third remote contact is opted out, so kept) against a limit of 1
    deletes = _in_pieces(
        _settings(source, arnis, tmp_path / "d", mode="mirror", max_deletes="1"), monkeypatch
    )
    with pytest.raises(GuardError, match="would delete 2 of 6 remote contacts"):
        api.sync(deletes)
    # 6 invalid records of 46: more than 10% ...
    invalid = _in_pieces(_settings(source, arnis, tmp_path / "i", max_invalid="10%"), monkeypatch)
    with pytest.raises(GuardError, match="6 of 46 records are invalid"):
        api.sync(invalid)
    assert scene.nothing_written()


def test_a_spool_past_its_budget_gives_back_what_it_was_given(tmp_path: Path) -> None:
    frames = [pl.DataFrame({"row": [i, i + 1], "tags": [["a"], []]}) for i in range(0, 10, 2)]
    parked = spool.Spool(budget_bytes=frames[0].estimated_size() * 2)
    for frame in frames:
        parked.add(frame)
    assert parked.on_disk() == 3
    assert parked.scan().collect().equals(pl.concat(frames))
    assert all(a.equals(b) for a, b in zip(parked.pieces(), frames, strict=True))
    drained = list(parked.drain())
    assert all(a.equals(b) for a, b in zip(drained, frames, strict=True))
    assert len(parked) == 0
    parked.close()


def test_no_room_for_the_spool_stops_the_run_with_a_clear_error_before_anything_is_sent(
    scene: Scene, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_directory = tmp_path / "tmp-is-a-file"
    not_a_directory.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(not_a_directory))
    settings = _in_pieces(_settings(scene.source, scene.arnis, tmp_path / "out"), monkeypatch)
    with pytest.raises(AbortError, match="could not park a piece of the run on disk") as caught:
        api.sync(settings)
    assert caught.value.exit_code == 3
    assert "TMPDIR" in str(caught.value)
    assert scene.nothing_written()
