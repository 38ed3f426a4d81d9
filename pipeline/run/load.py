"""The first pass of every run: the input read, mapped and checked piece by piece, and
deduped across the pieces (``load``), with the ``--max-invalid`` guard over the result.

The order-free work of a piece (mapping, the checks of each record alone, the first valid
row of each number within the piece) runs in threads ahead of the dedupe (``prepared``);
what needs the pieces in order (``Deduper.settle``) runs here, one piece at a time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field

import polars as pl

from pipeline.config import Settings, invalid_limit
from pipeline.dedupe import Deduper, first_valid_rows
from pipeline.errors import GuardError, UsageError
from pipeline.mapping import ColumnMapping, map_columns, to_contact_frame
from pipeline.normalize.screening import CALLING_COLUMNS, calling_options
from pipeline.progress import Bar, Progress
from pipeline.read import RawTable, read_chunks
from pipeline.report import Tally
from pipeline.run.ahead import map_ahead, read_ahead
from pipeline.run.outputs import RunOutputs
from pipeline.run.spool import Spool
from pipeline.run.target import requirements_of
from pipeline.sizes import parse_size
from pipeline.validate import check_records


@dataclass
class Loaded:
    """The input read and checked (the first pass)."""

    table: RawTable
    mapping: ColumnMapping
    #: what the summary counts of the checked records
    tally: Tally
    #: plan, sync: the checked pieces, for the diff
    pieces: Spool | None = None
    #: plan, sync with a rejects file: the raw rows of each piece
    raw: Spool | None = None
    #: every number in the file, as ``number_key`` (what mirror mode keeps remotely)
    numbers: pl.Series | None = None


@dataclass(frozen=True)
class Prepared:
    """A piece of the input, its records checked each alone (``check_records``) and the
    first valid row of each number within it found (``first_valid_rows``): what is left is
    ``Deduper.settle``, which needs the pieces in order."""

    table: RawTable
    mapping: ColumnMapping
    records: pl.DataFrame


#: pieces checked at once, in threads, ahead of the dedupe. One more than the cores: much
#: of a piece's work is single-threaded polars calls, and with three a file of three
#: pieces (1M rows) never has a core idle waiting for its last piece (validate 1M,
#: medians of 8 interleaved runs: 3.51 s with three, 3.76 s with two, same CPU time).
PREPARE_WORKERS = 3

#: what ``validate`` keeps of each record once its piece is checked (the report's columns)
VALIDATE_COLUMNS = (
    "row",
    "phone_input",
    "e164",
    "status",
    "error_code",
    "error_message",
    "name",
    *CALLING_COLUMNS,
)
#: the same when the records are only counted (no report, rejects file or kept results):
#: no name to derive
COUNTED_COLUMNS = tuple(c for c in VALIDATE_COLUMNS if c != "name")


@dataclass
class _Gathered:
    """What the settled pieces leave behind, one piece at a time.

    With ``outputs`` (validate) each settled piece keeps only the report's columns and goes
    there at once; without (plan, sync) it waits in ``pieces`` for the diff, with its raw
    rows in ``raw`` when a rejects file is asked for.
    """

    outputs: RunOutputs | None
    dedupe: Deduper
    pieces: Spool | None
    raw: Spool | None
    wanted: Collection[str] | None
    tally: Tally | None = None
    first: RawTable | None = None
    mapping: ColumnMapping | None = None
    row_errors: list[pl.DataFrame] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    blank_rows: int = 0

    @classmethod
    def start(cls, settings: Settings, outputs: RunOutputs | None) -> _Gathered:
        if outputs is not None:
            wanted = VALIDATE_COLUMNS if outputs.keeps_rows else COUNTED_COLUMNS
            return cls(outputs, Deduper(all_numbers=False), None, None, wanted)
        raw = Spool() if settings.rejects else None
        return cls(None, Deduper(all_numbers=True), Spool(), raw, None)

    def add(self, piece: Prepared) -> int:
        """Settle ``piece`` (its duplicates of earlier pieces found); its records' count."""
        table = piece.table
        if self.first is None:
            self.first, self.mapping = table, piece.mapping
            if self.outputs is not None:
                self.outputs.headers = list(table.headers)
        checked = self.dedupe.settle(piece.records)
        self.row_errors.append(table.row_errors)
        self.notes.extend(table.notes)
        self.blank_rows += table.blank_rows
        if self.outputs is not None:
            assert self.wanted is not None  # set with outputs
            checked = checked.select(self.wanted)
            self.outputs.add(checked, table.frame)
        else:
            assert self.pieces is not None
            tally = Tally.of(checked)
            self.tally = tally if self.tally is None else self.tally + tally
            self.pieces.add(checked)
            if self.raw is not None:
                self.raw.add(table.frame)
        return checked.height

    def loaded(self) -> Loaded:
        # read_chunks yields a piece at least
        assert self.first is not None and self.mapping is not None
        whole = whole_table(self.first, self.row_errors, self.notes, self.blank_rows)
        if self.outputs is not None:
            assert self.outputs.tally is not None  # a piece at least
            return Loaded(whole, self.mapping, self.outputs.tally)
        assert self.tally is not None
        numbers = self.dedupe.numbers()
        return Loaded(whole, self.mapping, self.tally, self.pieces, self.raw, numbers)


def load(
    settings: Settings,
    progress: Progress,
    outputs: RunOutputs | None = None,
    mapped: Callable[[], None] | None = None,
) -> Loaded:
    """Read, map and check the input piece by piece (see ``read_chunks``); ``mapped`` is
    called once the first piece is read and its header mapped (plan and sync then start
    reading the remote set, so that a file that is no contact list sends nothing).

    Duplicates are found across pieces (the numbers kept so far are carried as integers).
    With ``outputs`` (validate) each checked piece keeps only the report's columns and goes
    there at once, so that memory follows the piece, not the file; without (plan, sync)
    each checked piece waits in a spool for the diff, with its raw rows when a rejects
    file is asked for.
    """
    if not settings.input:
        raise UsageError(
            "no input: give the path of a CSV file, a workbook or JSON Lines (or - for "
            "standard input), or input in the job file"
        )
    gathered = _Gathered.start(settings, outputs)
    bar: Bar | None = None
    try:
        for piece in prepared(settings.input, settings, progress, gathered.wanted, mapped):
            if bar is None:
                bar = progress.bar("checking", None, "rows")
            bar.update(gathered.add(piece))
    finally:
        if bar is not None:
            bar.close()
    return gathered.loaded()


def whole_table(
    first: RawTable,
    row_errors: list[pl.DataFrame],
    notes: list[str] | None = None,
    blank_rows: int = 0,
) -> RawTable:
    """The input as read, described by its first piece: no rows, every piece's errors,
    notes and blank records."""
    return RawTable(
        frame=first.frame.clear(),
        headers=first.headers,
        encoding=first.encoding,
        delimiter=first.delimiter,
        row_errors=pl.concat(row_errors),
        parser=first.parser,
        format=first.format,
        notes=tuple(dict.fromkeys(notes or ())),
        blank_rows=blank_rows,
    )


def prepared(
    source: str,
    settings: Settings,
    progress: Progress,
    wanted: Collection[str] | None,
    mapped: Callable[[], None] | None = None,
) -> Iterator[Prepared]:
    """The input's pieces, each with its records checked (``check_records``,
    ``first_valid_rows``): the order-free work, done in threads ahead of the dedupe
    (``PREPARE_WORKERS`` pieces at a time)."""
    tables = read_ahead(
        read_chunks(
            source,
            block_bytes=settings.read_block_bytes,
            sheet=settings.sheet,
            encoding=settings.encoding,
            progress=progress,
            max_bytes=parse_size(settings.max_input_size),
        )
    )
    region = settings.default_region.upper()
    calling = calling_options(settings)
    requires, target = requirements_of(settings)
    try:
        first = next(tables)  # read_chunks yields a piece at least
        columns = [c for c in first.frame.columns if c != "row"]
        mapping = map_columns(columns, settings.map, settings.phone_preference or None)
        if mapped is not None:
            mapped()

        def prepare(table: RawTable) -> Prepared:
            contacts = to_contact_frame(table, mapping)
            records = check_records(
                contacts,
                default_region=region,
                read_errors=table.row_errors,
                wanted=wanted,
                calling=calling,
                requires=requires,
                target=target,
            )
            return Prepared(table, mapping, first_valid_rows(records))

        pieces = itertools.chain([first], tables)
        yield from map_ahead(prepare, pieces, workers=PREPARE_WORKERS)
    finally:
        tables.close()  # stops the reader, also when the caller stopped early


def raw_pieces(loaded: Loaded) -> Iterator[pl.DataFrame | None]:
    """The raw rows of each piece of the file when kept (for the rejects), then None."""
    if loaded.raw is not None:
        yield from loaded.raw.drain()
    while True:
        yield None


def guard_invalid(settings: Settings, tally: Tally) -> None:
    """``--max-invalid``: the run stops (``GuardError``) when too many records are invalid."""
    total, invalid = tally.records, tally.count("invalid")
    limit = invalid_limit(settings.max_invalid, total)
    if limit is not None and invalid > limit:
        raise GuardError(
            f"{invalid} of {total} records are invalid, more than --max-invalid allows "
            f"({settings.max_invalid}): nothing was sent. Look at the report (a shifted column or "
            "a wrong --default-region is the usual cause), fix the file, or raise the limit."
        )
