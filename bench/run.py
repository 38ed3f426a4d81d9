"""``make bench``: every stage timed on generated data; figures printed and written to
BENCHMARKS.md with the machine and the command.

Each offline stage runs in its own process (so peak memory is the stage's own); the
sandboxes run in this process, on loopback, and the syncs are real ``contact-sync``
processes with rate limits off.
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import phonenumbers
import polars as pl

import pipeline.cli  # noqa: F401 (loaded here, so that shared_libraries() lists what the CLI loads)
from bench.cache import iowait_seconds, shared_libraries, warm
from bench.calling import calling_markdown, fill_figures
from bench.data import DATA, contacts_csv
from pipeline.sandbox import RunningSandbox, start

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-key"
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "100000,1000000").split(","))
#: the big file ``validate`` is run on, to show memory growing far slower than the input
BIG = int(os.environ.get("BENCH_BIG", "10000000"))
REMOTE = int(os.environ.get("BENCH_REMOTE", "1000000"))
#: ``contact-sync validate`` is timed this many times; the median is reported
VALIDATE_RUNS = int(os.environ.get("BENCH_VALIDATE_RUNS", "5"))


def stage(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.stage", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def cli(*args: str) -> tuple[float, dict[str, Any]]:
    """A real ``contact-sync`` process: wall seconds and its summary JSON (with the
    process's peak memory as ``peak_mb``, and the machine's disk wait during the run as
    ``iowait_s``). Its input file and libraries are read just before (``bench.cache``)."""
    summary = DATA / "summary.json"
    peak = DATA / "peak.txt"
    env = {**os.environ, "CONTACT_SYNC_API_KEY": KEY}
    warm([*(a for a in args if Path(a).is_file()), *shared_libraries()])
    waited = iowait_seconds()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bench.peak", str(peak), *args, "--quiet"]
        + ["--summary-json", str(summary)],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    figures: dict[str, Any] = json.loads(summary.read_text())
    figures["peak_mb"] = float(peak.read_text())
    figures["iowait_s"] = round(iowait_seconds() - waited, 2)
    return seconds, figures


def preloaded_arnis(count: int) -> RunningSandbox:
    sandbox = start("arnis", KEY)
    store = sandbox.store
    for i in range(count):
        e164 = f"+1{200 + i // 10_000_000:03d}{i % 10_000_000:07d}"
        store.insert(
            e164,
            {
                "id": f"r{i}",
                "phone_number": e164,
                "e164_number": e164,
                "first_name": "Remote",
                "tags": [],
                "opted_out": False,
            },
        )
    return sandbox


def sync_figures(target: str, csv: Path) -> dict[str, Any]:
    sandbox = start(target, KEY)
    try:
        extra = ["--rate-limit", "0", "--state-dir", str(DATA / f"state-{target}")]
        seconds, summary = cli(
            "sync", str(csv), "--target", target, "--base-url", sandbox.url, *extra
        )
        bulk = sum(1 for r in sandbox.store.requests if r.path.endswith(("/batch", "/bulk")))
        created = summary["counts"].get("created", 0)
        return {
            "seconds": seconds,
            "records": summary["records"],
            "created": created,
            "requests": len(sandbox.store.requests),
            "bulk_requests": bulk,
            "expected_bulk": math.ceil(created / 1000),
            "contacts_per_s": created / seconds,
            "peak_mb": summary["peak_mb"],
            "iowait_s": summary["iowait_s"],
        }
    finally:
        sandbox.stop()


def rate_limited_oliai(rows: int = 50_000) -> dict[str, Any]:
    """A sync into oliai at its documented limits (10 bulk/min, 60/min), the sandbox
    enforcing them too: wall time against the minimum the bulk limit allows."""
    from pipeline.sandbox import Faults

    source = DATA / f"ratelimited-{rows}.csv"
    pl.read_csv(contacts_csv(100_000), infer_schema=False).head(rows).write_csv(source)
    sandbox = start("oliai", KEY, faults=Faults(rate_limit=60, bulk_rate_limit=10))
    try:
        seconds, summary = cli(
            "sync",
            str(source),
            "--target",
            "oliai",
            "--base-url",
            sandbox.url,
            "--state-dir",
            str(DATA / "state-oliai-limited"),
        )
        bulk = sum(
            1 for r in sandbox.store.requests if r.path.endswith("/bulk") and r.status != 429
        )
        refused = sum(1 for r in sandbox.store.requests if r.status == 429)
    finally:
        sandbox.stop()
    minimum = 60.0 * ((bulk - 1) // 10)  # 10 at once, then 10 more each minute
    return {
        "rows": rows,
        "seconds": seconds,
        "bulk_requests": bulk,
        "refused_429": refused,
        "minimum_seconds": minimum,
        "over_minimum": (seconds - minimum) / minimum if minimum else 0.0,
        "created": summary["counts"].get("created", 0),
    }


def sink_figures(rows: int) -> dict[str, Any]:
    """``sync --target oliai`` of ``rows`` into the sink (``bench.sink``): the client's
    share of a sync, with the server costing next to nothing."""
    from bench.sink import running_sink

    csv = contacts_csv(rows)
    with running_sink(KEY) as (url, sink):
        extra = ["--rate-limit", "0", "--state-dir", str(DATA / "state-sink")]
        seconds, summary = cli("sync", str(csv), "--target", "oliai", "--base-url", url, *extra)
        created = summary["counts"].get("created", 0)
        return {
            "rows": rows,
            "seconds": seconds,
            "created": created,
            "bulk_requests": sink.bulk_requests,
            "contacts_per_s": created / seconds,
            "peak_mb": summary["peak_mb"],
        }


def sink_markdown(figures: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## The client's share of a sync (`sync --target oliai` into a sink server)",
        "",
        "The sink (`bench/sink.py`) answers oliai's listing empty and each bulk upsert from "
        "the request's numbers (one regex over the bytes; nothing parsed, checked or stored), "
        "so the time is the client's: read, check, dedupe, diff, 1,000-contact batches sent "
        "and their answers read, the report written. Goal (issue 19): 1M in at most 5 s.",
        "",
        "| rows | seconds | created | bulk requests | contacts/s | peak MB |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for f in figures:
        lines.append(
            f"| {f['rows']:,} | {f['seconds']:.2f} | {f['created']:,} | {f['bulk_requests']} | "
            f"{f['contacts_per_s']:,.0f} | {f['peak_mb']:.0f} |"
        )
    return [*lines, ""]


def measure(rows: int) -> dict[str, Any]:
    csv = contacts_csv(rows)
    figures: dict[str, Any] = {"rows": rows}
    for name in ("read", "normalize", "validate", "dedupe", "diff"):
        figures[name] = stage(name, str(csv))
        print(
            f"  {rows:>9,} {name:<10} {figures[name]['seconds']:8.2f} s  {figures[name]['peak_mb']:7.0f} MB",
            flush=True,
        )
    # A few seconds on a shared machine vary by some 10%: the median of a few runs.
    runs = sorted((cli("validate", str(csv)) for _ in range(VALIDATE_RUNS)), key=lambda r: r[0])
    seconds, summary = runs[len(runs) // 2]
    figures["validate_cli"] = {
        "seconds": seconds,
        "runs": [round(r[0], 2) for r in runs],
        "iowait_s": max(r[1]["iowait_s"] for r in runs),
        "counts": summary["counts"],
        "peak_mb": max(r[1]["peak_mb"] for r in runs),
    }
    remote = preloaded_arnis(REMOTE)
    try:
        seconds, summary = cli(
            "plan", str(csv), "--target", "arnis", "--base-url", remote.url, "--rate-limit", "0"
        )
        figures["plan_cli"] = {
            "seconds": seconds,
            "remote": REMOTE,
            "requests": len(remote.store.requests),
            "peak_mb": summary["peak_mb"],
            "iowait_s": summary["iowait_s"],
        }
    finally:
        remote.stop()
    for target in ("arnis", "oliai"):
        figures[f"sync_{target}"] = sync_figures(target, csv)
        print(
            f"  {rows:>9,} sync {target:<6} {figures[f'sync_{target}']['seconds']:8.2f} s",
            flush=True,
        )
    return figures


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB, Linux {platform.release()}, "
        f"Python {platform.python_version()}, polars {pl.__version__}, phonenumbers {phonenumbers.__version__}"
    )


def limited_markdown(r: dict[str, Any]) -> list[str]:
    return [
        "## Against a rate-limited target (oliai at its documented 10 bulk requests/minute)",
        "",
        "| rows | bulk requests | 429s | seconds | minimum the limit allows | over the minimum |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {r['rows']:,} | {r['bulk_requests']} | {r['refused_429']} | {r['seconds']:.1f} | "
        f"{r['minimum_seconds']:.0f} | {100 * r['over_minimum']:.1f}% |",
        "",
    ]


def markdown(results: list[dict[str, Any]], phones: dict[str, Any]) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Command: `make bench` (`python -m bench.run`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine()}.",
        "",
        "Data: seeded generated contacts (bench/data.py, bench/phones.py): messy phones in mixed formats "
        "across ~50 regions with a per-row country hint, junk cells, duplicates.",
        "",
        "## Offline stages (each in its own process; peak = that process's max RSS)",
        "",
        "| rows | stage | seconds | rows/s | peak MB |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in results:
        for name in ("read", "normalize", "validate", "dedupe", "diff"):
            f = r[name]
            lines.append(
                f"| {r['rows']:,} | {name} | {f['seconds']:.2f} | {r['rows'] / max(f['seconds'], 1e-9):,.0f} | {f['peak_mb']:.0f} |"
            )
    lines += [
        "",
        "`diff` is against a remote set of 1,000,000 contacts.",
        "",
        "## End to end (real `contact-sync` processes, sandboxes on loopback, rate limits off)",
        "",
        "Each run's input file and libraries are read just before it (`bench/cache.py`), as "
        "`hyperfine --warmup` would: on a machine that pages out what no process maps, a run "
        "would otherwise wait seconds for the disk. iowait is the machine's disk wait during "
        "the run (all cores; the worst of the validate runs). The sandboxes run in the bench's "
        "process, which collects only the young generations, as a long-lived server would "
        "(`sandbox_host_gc`: full passes over a million stored contacts took 2 s of a 1M sync).",
        "",
        "| rows | command | seconds | requests | bulk requests (expected ceil(created/1000)) | contacts/s | peak MB | iowait s |",
        "|---:|---|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        v = r["validate_cli"]
        spread = f"{min(v['runs']):.2f}-{max(v['runs']):.2f}"
        lines.append(
            f"| {r['rows']:,} | validate (median of {len(v['runs'])} runs: {spread}) | "
            f"{v['seconds']:.2f} | 0 | | | {v['peak_mb']:.0f} | {v['iowait_s']:.2f} |"
        )
        p = r["plan_cli"]
        lines.append(
            f"| {r['rows']:,} | plan vs {p['remote']:,} remote (arnis) | {p['seconds']:.2f} | "
            f"{p['requests']:,} | | | {p['peak_mb']:.0f} | {p['iowait_s']:.2f} |"
        )
        for target in ("arnis", "oliai"):
            s = r[f"sync_{target}"]
            lines.append(
                f"| {r['rows']:,} | sync {target} | {s['seconds']:.2f} | {s['requests']:,} | "
                f"{s['bulk_requests']} ({s['expected_bulk']}) | {s['contacts_per_s']:,.0f} | "
                f"{s['peak_mb']:.0f} | {s['iowait_s']:.2f} |"
            )
    lines += [
        "",
        "## Phone normalization vs the per-row phonenumbers loop (same column, same run)",
        "",
        "| rows | loop s | batch s | loop rows/s | batch rows/s | speed-up | disagreements |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {phones['rows']:,} | {phones['loop_seconds']:.1f} | {phones['batch_seconds']:.2f} | "
        f"{phones['loop_rows_per_second']:,} | {phones['batch_rows_per_second']:,} | {phones['speedup']}× | "
        f"{phones['disagreements']} |",
        "",
        "The batch figure is the first call in its process (phonenumbers' metadata compiled, "
        "regexes built; the libraries' files read into the page cache just before, with "
        f"{phones['batch_iowait_seconds']:.2f} s of disk wait during the call); calls after it "
        f"took {phones['batch_warm_seconds']:.2f} s ({phones['speedup_warm']}× the loop).",
        "",
    ]
    return "\n".join(lines)


def big_validate(rows: int = BIG) -> dict[str, Any]:
    """``contact-sync validate``, and ``plan`` against a REMOTE-contact arnis sandbox, of a
    big file beside the largest of SIZES: memory must grow far slower than the input (the
    file is read, checked and diffed in pieces)."""
    figures: dict[int, dict[str, Any]] = {}
    counts = sorted({max(SIZES), rows})
    for count in counts:
        seconds, summary = cli(
            "validate", str(contacts_csv(count)), "--report", str(DATA / "big-report.csv")
        )
        figures[count] = {"seconds": seconds, "peak_mb": summary["peak_mb"]}
        print(f"  {count:>10,} validate {seconds:8.2f} s  {summary['peak_mb']:7.0f} MB", flush=True)
    remote = preloaded_arnis(REMOTE)
    try:
        for count in counts:
            seconds, summary = cli(
                "plan",
                str(contacts_csv(count)),
                "--target",
                "arnis",
                "--base-url",
                remote.url,
                "--rate-limit",
                "0",
                "--report",
                str(DATA / "big-plan.csv"),
            )
            figures[count]["plan_seconds"] = seconds
            figures[count]["plan_peak_mb"] = summary["peak_mb"]
            print(
                f"  {count:>10,} plan     {seconds:8.2f} s  {summary['peak_mb']:7.0f} MB",
                flush=True,
            )
    finally:
        remote.stop()
    return {"rows": rows, "figures": figures}


def big_markdown(big: dict[str, Any]) -> list[str]:
    figures = big["figures"]
    smallest = min(figures)
    lines = [
        "## Memory from 1M to 10M rows (`contact-sync validate --report` and `contact-sync plan "
        f"--report` against a {REMOTE:,}-contact arnis sandbox, real processes)",
        "",
        "| rows | command | seconds | rows/s | peak MB | input × | peak × |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for command, prefix in (("validate", ""), ("plan", "plan_")):
        for count, f in sorted(figures.items()):
            if f"{prefix}seconds" not in f:
                continue
            seconds, peak = f[f"{prefix}seconds"], f[f"{prefix}peak_mb"]
            lines.append(
                f"| {count:,} | {command} | {seconds:.2f} | {count / seconds:,.0f} | {peak:.0f} | "
                f"{count / smallest:.0f} | {peak / figures[smallest][f'{prefix}peak_mb']:.2f} |"
            )
    return [*lines, ""]


def sandbox_host_gc() -> None:
    """This process hosts the sandboxes, whose stores grow to a million contacts or more:
    the collector's full passes over them (2 s of a 1M arnis sync, all of it holding the
    GIL the emulator serves with) would be the emulator's cost counted against the
    client. As a long-lived server would, collect only the young generations."""
    gc.set_threshold(700, 10, 10**9)


def main() -> None:
    print(f"contact-sync bench on {machine()}", flush=True)
    results = [measure(rows) for rows in SIZES]
    print("  validate and plan of a big file ...", flush=True)
    big = big_validate()
    print("  phones: per-row loop vs batch ...", flush=True)
    # in a fresh process: the sandboxes above leave a million stored contacts in this one,
    # and the garbage collector's passes over them would be counted against the first call
    phones = stage("phones", str(max(SIZES)), "0")
    print("  oliai at its documented rate limits ...", flush=True)
    limited = rate_limited_oliai()
    calling = calling_markdown(fill_figures(max(SIZES), VALIDATE_RUNS))
    print("  sync into a sink: the client's share ...", flush=True)
    sink = sink_markdown([sink_figures(rows) for rows in SIZES])
    text = (
        markdown(results, phones)
        + "\n\n"
        + "\n".join(sink)
        + "\n"
        + "\n".join(calling)
        + "\n\n"
        + "\n".join(big_markdown(big))
        + "\n"
        + "\n".join(limited_markdown(limited))
    )
    (ROOT / "BENCHMARKS.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    sandbox_host_gc()
    if sys.argv[1:] == ["rate-limited"]:
        print("\n".join(limited_markdown(rate_limited_oliai())))
    elif sys.argv[1:] == ["calling"]:
        print("\n".join(calling_markdown(fill_figures(max(SIZES), VALIDATE_RUNS))))
    elif sys.argv[1:] == ["sink"]:
        print("\n".join(sink_markdown([sink_figures(rows) for rows in SIZES])))
    elif sys.argv[1:] == ["big"]:
        print("\n".join(big_markdown(big_validate())))
    else:
        main()
