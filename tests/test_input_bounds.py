"""Inputs that inflate without bound (issue 21 item 6) and inputs that are no regular file
(issue 22 item 10): a gzip bomb, one huge cell, a sparse file, 200,000 columns, a device,
a named pipe. Each ends with exit 2 naming the limit, its process's memory watched (killed
past 1 GB); what a real export holds (a 10 MB cell, 10,000 columns, a pipe) still reads."""

from __future__ import annotations

import os
import threading
import zlib
from pathlib import Path

import pytest

from tests.bounded import BOUND, run_bounded
from tests.conftest import Cli


def _gzip(path: Path, parts: list[tuple[bytes, int]]) -> Path:
    """A gzip file of each ``(bytes, times)`` in turn, compressed as it is written."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    with path.open("wb") as f:
        for chunk, times in parts:
            for _ in range(times):
                f.write(packer.compress(chunk))
        f.write(packer.flush())
    return path


def test_a_gzip_bomb_of_rows_stops_at_the_input_size_limit(tmp_path: Path) -> None:
    rows = b"+14155550101,Ann,Lee\n" * 50_000  # ~1 MB, 400 times: 420 MB inflated
    bomb = _gzip(tmp_path / "bomb.csv.gz", [(b"phone,first,last\n", 1), (rows, 400)])
    assert bomb.stat().st_size < 5_000_000
    code, stderr, peak = run_bounded(["validate", str(bomb), "--max-input-size", "20M"])
    assert peak < BOUND, f"{peak / 2**20:.0f} MiB"
    assert code == 2, stderr
    assert "larger than 20 MiB once decompressed" in stderr and "--max-input-size" in stderr


def test_one_huge_gzipped_cell_stops_at_the_record_limit(tmp_path: Path) -> None:
    cell = b"x" * (1 << 20)
    bomb = _gzip(tmp_path / "cell.csv.gz", [(b"phone,notes\n+14155550101,", 1), (cell, 1024)])
    code, stderr, peak = run_bounded(["validate", str(bomb)])
    assert peak < BOUND, f"{peak / 2**20:.0f} MiB"
    assert code == 2, stderr
    assert "record 1 is longer than 64 MiB" in stderr


def test_a_sparse_file_stops_at_the_record_limit(tmp_path: Path) -> None:
    sparse = tmp_path / "sparse.csv"
    with sparse.open("wb") as f:
        f.write(b"phone,notes\n")
        f.truncate(2 << 30)
    code, stderr, peak = run_bounded(["validate", str(sparse)])
    assert peak < BOUND, f"{peak / 2**20:.0f} MiB"
    assert code == 2, stderr
    assert "longer than 64 MiB" in stderr


def test_two_hundred_thousand_columns_are_refused(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    header = ",".join(["phone"] + [f"c{n}" for n in range(200_000)])
    wide.write_text(header + "\n+14155550101" + "," * 200_000 + "\n", encoding="utf-8")
    code, stderr, peak = run_bounded(["validate", str(wide)])
    assert peak < BOUND, f"{peak / 2**20:.0f} MiB"
    assert code == 2, stderr
    assert "200,001 columns, more than the 16,384" in stderr


def test_a_device_that_never_ends_is_refused(tmp_path: Path) -> None:
    code, stderr, peak = run_bounded(["validate", "/dev/zero"], timeout=120)
    assert peak < BOUND, f"{peak / 2**20:.0f} MiB"
    assert code == 2, stderr
    assert "/dev/zero: record 1 is longer than 64 MiB" in stderr


def test_what_real_exports_hold_still_reads(cli: Cli, tmp_path: Path) -> None:
    big_cell = tmp_path / "cell.csv"
    big_cell.write_text(
        "phone,notes\n+14155550101," + "x" * 10_000_000 + "\n+14155550102,short\n",
        encoding="utf-8",
    )
    result = cli("validate", big_cell)
    assert result.exit_code == 0, result.stderr
    wide = tmp_path / "wide.csv"
    header = ",".join(["phone"] + [f"c{n}" for n in range(9_999)])
    wide.write_text(header + "\n+14155550101" + ",v" * 9_999 + "\n", encoding="utf-8")
    result = cli("validate", wide)
    assert result.exit_code == 0, result.stderr


def test_a_named_pipe_reads_as_the_file_does(cli: Cli, tmp_path: Path) -> None:
    rows = "".join(f"+1415555{n:04d},Ann{n}\n" for n in range(3000))
    source = tmp_path / "contacts.csv"
    source.write_text("phone,first_name\n" + rows + "not a phone,Bob\n", encoding="utf-8")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(source.read_bytes()))
    writer.start()
    piped = cli("validate", fifo, "--report", tmp_path / "piped.csv")
    writer.join(timeout=30)
    plain = cli("validate", source, "--report", tmp_path / "plain.csv")
    assert piped.exit_code == plain.exit_code == 1, piped.stderr
    assert (tmp_path / "piped.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()


@pytest.mark.parametrize("value", ["5X", "-1", "0"])
def test_a_bad_input_size_limit_is_a_usage_error(cli: Cli, tmp_path: Path, value: str) -> None:
    source = tmp_path / "contacts.csv"
    source.write_text("phone\n+14155550101\n", encoding="utf-8")
    result = cli("validate", source, "--max-input-size", value)
    assert result.exit_code == 2
    assert "--max-input-size takes a size like 500M" in result.stderr
    job = tmp_path / "job.toml"
    job.write_text(f'input = "{source}"\nmax_input_size = "{value}"\n', encoding="utf-8")
    result = cli("validate", "--config", job)
    assert result.exit_code == 2
    assert "max_input_size" in result.stderr


def test_the_limit_from_a_job_file_is_honoured(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "contacts.csv"
    source.write_text("phone\n" + "+14155550101\n" * 1000, encoding="utf-8")
    job = tmp_path / "job.toml"
    job.write_text(f'input = "{source}"\nmax_input_size = "1K"\n', encoding="utf-8")
    result = cli("validate", "--config", job)
    assert result.exit_code == 2
    assert "larger than 1 KiB" in result.stderr
