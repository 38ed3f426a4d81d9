"""The cost of calling-ready contacts (issue 17): ``contact-sync validate --fill-timezone``
against plain ``validate`` of the same file, runs interleaved in one bench run, and the
per-row phonenumbers loop (parse, is_valid_number, E.164, number_type,
time_zones_for_number) against ``normalize_phones(..., calling=True)`` on the same phones.

``python -m bench.run calling`` runs just this part; ``python -m bench.calling loop N``
is the loop-vs-batch child (a fresh process, as bench.phones).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import phonenumbers
from phonenumbers.timezone import time_zones_for_number

from bench.data import contacts_csv
from bench.phones import DEFAULT_REGION, messy_phones
from pipeline.normalize.phones import effective_regions, normalize_phones

ROOT = Path(__file__).resolve().parent.parent


def _loop(pairs: list[tuple[str | None, str]]) -> int:
    """Per row: parse, is_valid_number, E.164, number_type and time zones. Returns how many
    numbers were valid."""
    valid = 0
    for text, region in pairs:
        if not text or not text.strip():
            continue
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_valid_number(number):
            continue
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        phonenumbers.number_type(number)
        time_zones_for_number(number)
        valid += 1
    return valid


def loop_vs_batch(n: int, seed: int = 0) -> dict[str, Any]:
    frame = messy_phones(n, seed)
    phones, hints = frame["phone"], frame["region"]
    regions = effective_regions(hints, DEFAULT_REGION, n).to_list()
    pairs = list(zip(phones.to_list(), regions, strict=True))
    started = time.perf_counter()
    valid = _loop(pairs)
    loop_s = time.perf_counter() - started
    started = time.perf_counter()
    normalize_phones(phones, hints, DEFAULT_REGION, calling=True)
    batch_s = time.perf_counter() - started
    started = time.perf_counter()
    normalize_phones(phones, hints, DEFAULT_REGION)
    plain_s = time.perf_counter() - started
    return {
        "rows": n,
        "valid_rows": valid,
        "loop_seconds": round(loop_s, 2),
        "batch_calling_seconds": round(batch_s, 3),
        "batch_plain_seconds": round(plain_s, 3),
        "loop_over_batch": round(loop_s / batch_s, 1),
    }


def fill_figures(
    cli: Callable[..., tuple[float, dict[str, Any]]], rows: int, runs: int
) -> dict[str, Any]:
    """Medians of ``runs`` interleaved pairs of validate / validate --fill-timezone."""
    csv = str(contacts_csv(rows))
    plain, filled = [], []
    for _ in range(runs):
        plain.append(cli("validate", csv)[0])
        seconds, summary = cli("validate", csv, "--fill-timezone")
        filled.append(seconds)
    plain_s, filled_s = statistics.median(plain), statistics.median(filled)
    child = subprocess.run(
        [sys.executable, "-m", "bench.calling", "loop", str(rows)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {
        "rows": rows,
        "validate_seconds": round(plain_s, 2),
        "validate_runs": [round(s, 2) for s in plain],
        "fill_seconds": round(filled_s, 2),
        "fill_runs": [round(s, 2) for s in filled],
        "ratio": round(filled_s / plain_s, 2),
        "zones_filled": sum(summary.get("timezones", {}).values()),
        "loop": json.loads(child.stdout.strip().splitlines()[-1]),
    }


def calling_markdown(f: dict[str, Any]) -> list[str]:
    loop = f["loop"]
    return [
        "## Calling-ready contacts (`--fill-timezone`, number types)",
        "",
        "| rows | validate (median) | validate --fill-timezone (median) | ratio | "
        "per-row loop: parse, type, zones | batch with types and zones | loop / batch |",
        "|---|---|---|---|---|---|---|",
        f"| {f['rows']:,} | {f['validate_seconds']:.2f} s {f['validate_runs']} | "
        f"{f['fill_seconds']:.2f} s {f['fill_runs']} | {f['ratio']:.2f}x | "
        f"{loop['loop_seconds']:.1f} s | {loop['batch_calling_seconds']:.2f} s "
        f"(without: {loop['batch_plain_seconds']:.2f} s) | {loop['loop_over_batch']:.1f}x |",
        "",
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["loop"]:
        print(json.dumps(loop_vs_batch(int(sys.argv[2]))))
