"""Seeded bench data: contact CSVs with messy phones (from bench.phones) and a remote set."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from bench.phones import messy_phones

DATA = Path(__file__).resolve().parent / "data"


def contacts_csv(rows: int, seed: int = 7) -> Path:
    """``rows`` contacts (phone + country hint + names + email), written once and reused."""
    path = DATA / f"contacts-{rows}-{seed}.csv"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    phones = messy_phones(rows, seed)
    index = pl.int_range(0, rows, eager=True)
    frame = pl.DataFrame(
        {
            "First Name": "F" + index.cast(pl.String),
            "Last Name": "L" + (index % 997).cast(pl.String),
            "Phone": phones["phone"],
            "Email": "person" + index.cast(pl.String) + "@example.com",
            "Country": phones["region"],
        }
    )
    frame.write_csv(path)
    return path
