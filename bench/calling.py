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
from pathlib import Path
from typing import Any

import phonenumbers
from phonenumbers.timezone import time_zones_for_number

from bench.cache import shared_libraries, warm
from bench.data import DATA, contacts_csv
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


def _validate_seconds(csv: str, *flags: str) -> float:
    """Wall seconds of a real ``contact-sync validate`` process (as bench.run.cli, but with
    no --summary-json unless in ``flags``: a summary JSON counts number types, so plain
    validate must go without one to be plain)."""
    warm([csv, *shared_libraries()])
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bench.peak", str(DATA / "peak.txt"), "validate", csv, "--quiet",
         *flags],
        cwd=ROOT, check=False, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - started


def fill_figures(rows: int, runs: int) -> dict[str, Any]:
    """Medians of ``runs`` interleaved rounds of validate, validate --summary-json (number
    types counted) and validate --fill-timezone, and the loop-vs-batch child's figures."""
    csv = str(contacts_csv(rows))
    variants = {"plain": (), "summary": ("--summary-json", str(DATA / "s.json")),
                "fill": ("--fill-timezone",)}  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, flags in variants.items():
            times[name].append(_validate_seconds(csv, *flags))
    medians = {name: statistics.median(found) for name, found in times.items()}
    child = subprocess.run(
        [sys.executable, "-m", "bench.calling", "loop", str(rows)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {
        "rows": rows,
        "seconds": {name: round(m, 2) for name, m in medians.items()},
        "runs": {name: [round(s, 2) for s in found] for name, found in times.items()},
        "ratio": round(medians["fill"] / medians["plain"], 2),
        "summary_ratio": round(medians["summary"] / medians["plain"], 2),
        "loop": json.loads(child.stdout.strip().splitlines()[-1]),
    }


def calling_markdown(f: dict[str, Any]) -> list[str]:
    loop, sec, runs = f["loop"], f["seconds"], f["runs"]
    return [
        "## Calling-ready contacts (`--fill-timezone`, number types)",
        "",
        f"`contact-sync validate` of {f['rows']:,} rows, medians of {len(runs['plain'])} "
        "interleaved rounds (all runs in brackets): plain, with `--summary-json` (which "
        "counts number types), and with `--fill-timezone` (types and zones of every valid "
        "number, the file having no zones). Then the per-row phonenumbers loop (parse, "
        "is_valid_number, E.164, number_type, time_zones_for_number) against "
        "`normalize_phones(..., calling=True)` on the same phones, in a fresh process.",
        "",
        "| validate | validate --summary-json | validate --fill-timezone | fill / plain | "
        "per-row loop | batch with types and zones | loop / batch |",
        "|---|---|---|---|---|---|---|",
        f"| {sec['plain']:.2f} s {runs['plain']} | {sec['summary']:.2f} s {runs['summary']} "
        f"({f['summary_ratio']:.2f}x) | {sec['fill']:.2f} s {runs['fill']} | "
        f"**{f['ratio']:.2f}x** | {loop['loop_seconds']:.1f} s | "
        f"{loop['batch_calling_seconds']:.2f} s (E.164 only: {loop['batch_plain_seconds']:.2f} s) "
        f"| {loop['loop_over_batch']:.1f}x |",
        "",
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["loop"]:
        print(json.dumps(loop_vs_batch(int(sys.argv[2]))))
