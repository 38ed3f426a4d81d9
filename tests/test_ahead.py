"""Stages run ahead of the caller in threads: order, errors, early stops, concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import api
from pipeline.config import Settings
from pipeline.errors import InputError, UsageError
from pipeline.run.ahead import map_ahead, read_ahead


def test_read_ahead_hands_on_every_piece_then_the_error_where_it_happened() -> None:
    def pieces() -> Iterator[int]:
        yield 1
        yield 2
        raise InputError("broken at piece 3")

    seen = []
    with pytest.raises(InputError, match="piece 3"):
        for piece in read_ahead(pieces()):
            seen.append(piece)
    assert seen == [1, 2]


def test_read_ahead_closes_the_reader_when_the_caller_stops_early() -> None:
    closed = []

    def pieces() -> Iterator[int]:
        try:
            yield from range(100)
        finally:
            closed.append(True)

    for piece in read_ahead(pieces()):
        if piece == 1:
            break
    assert closed == [True]


def test_map_ahead_keeps_the_order_whatever_finishes_first() -> None:
    done_late = threading.Event()

    def work(item: int) -> int:
        if item == 0:  # the first item finishes last
            assert done_late.wait(5)
        if item == 1:
            done_late.set()
        return item * 10

    assert list(map_ahead(work, iter(range(6)), workers=2)) == [0, 10, 20, 30, 40, 50]


def test_map_ahead_works_on_as_many_items_at_once_as_it_has_workers() -> None:
    both = threading.Barrier(2, timeout=5)  # broken (an error) unless two items meet

    def work(item: int) -> int:
        both.wait()
        return item

    assert list(map_ahead(work, iter(range(4)), workers=2)) == [0, 1, 2, 3]
    lone = threading.Barrier(2, timeout=0.2)

    def alone(item: int) -> int:
        lone.wait()
        return item

    with pytest.raises(threading.BrokenBarrierError):
        list(map_ahead(alone, iter(range(2)), workers=1))


def test_map_ahead_hands_on_the_results_before_the_error_then_the_error() -> None:
    def work(item: int) -> int:
        if item == 2:
            raise InputError("item 2 is bad")
        return item

    seen = []
    with pytest.raises(InputError, match="item 2"):
        for result in map_ahead(work, iter(range(5)), workers=2):
            seen.append(result)
    assert seen == [0, 1]


def test_map_ahead_closes_its_input_and_starts_nothing_more_when_the_caller_stops() -> None:
    closed, started = [], []

    def items() -> Iterator[int]:
        try:
            yield from range(100)
        finally:
            closed.append(True)

    def work(item: int) -> int:
        started.append(item)
        return item

    for result in map_ahead(work, items(), workers=2):
        if result == 1:
            break
    assert closed == [True]
    assert len(started) <= 4  # the two used, and at most two worked on ahead


def _validate(tmp_path: Path, **options: object) -> api.RunResult:
    source = tmp_path / "in.csv"
    source.write_text("phone,name\n+1 202 555 0143,Ann\nnope,Bob\n+12025550143,Cy\n")
    settings = Settings(input=str(source), report=str(tmp_path / "r.csv"), **options)  # type: ignore[arg-type]
    return api.validate(settings, keep_results=False)


def test_validate_without_keeping_results_still_reports_and_counts_every_record(
    tmp_path: Path,
) -> None:
    result = _validate(tmp_path)
    assert result.summary.records == 3
    assert result.summary.counts == {"valid": 1, "invalid": 1, "duplicate": 1}
    lines = (tmp_path / "r.csv").read_text().splitlines()
    assert len(lines) == 4  # the header and one line per record
    with pytest.raises(UsageError, match="kept no per-row results"):
        result.results  # noqa: B018 (the property is what is tested)


def test_validate_keeps_the_results_an_html_report_needs(tmp_path: Path) -> None:
    result = _validate(tmp_path, html_report=str(tmp_path / "r.html"))
    assert result.results["status"].to_list() == ["valid", "invalid", "duplicate"]
    assert (tmp_path / "r.html").exists()
