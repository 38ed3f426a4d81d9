"""The ``contact-sync`` command: parse options, call ``pipeline.api``, map errors to exits.

Exit codes (interface.md): 0 all good; 1 finished with invalid/duplicate/failed/skipped
records; 2 usage or input error, nothing sent; 3 aborted (auth refused, remote
unreachable, a guard tripped, lock held).
"""

from __future__ import annotations

import atexit
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from pipeline import api
from pipeline.cli_options import (
    EPILOG_PLAN,
    EPILOG_SYNC,
    EPILOG_VALIDATE,
    pipeline_options,
    target_options,
)
from pipeline.config import Settings, build_settings, parse_pairs
from pipeline.errors import (
    AuthError,
    ContactSyncError,
    ProtocolError,
    RetryAfterTooLong,
    TargetError,
    TransientError,
)
from pipeline.interrupt import StopRequest, handle_signals
from pipeline.mapping import ColumnMapping
from pipeline.progress import choose_progress
from pipeline.report import human_summary
from pipeline.sanitize import clean
from pipeline.secrets import cleartext_warning

F = TypeVar("F", bound=Callable[..., Any])


def _settings(params: dict[str, Any]) -> Settings:
    cli = dict(params)
    config = cli.pop("config", None)
    cli["map"] = parse_pairs(cli.pop("map_pairs", ()), "--map")
    cli["options"] = parse_pairs(cli.pop("option_pairs", ()), "--option")
    cli["phone_preference"] = tuple(cli.pop("phone_preference", ()) or ())
    types = cli.pop("reject_types", None)
    cli["reject_types"] = tuple(types.split(",")) if types is not None else None
    return build_settings(cli, config)


def _fail(message: str, code: int) -> None:
    click.echo(f"contact-sync: {clean(message)}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Every error becomes a message and an exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AuthError as exc:
            _fail(
                f"authentication refused: {exc}. Check the key in the environment variable "
                "and that its scope allows reading and writing contacts.",
                3,
            )
        except RetryAfterTooLong as exc:  # the API asked to wait past --retry-timeout
            _fail(str(exc), 3)
        except TransientError as exc:
            _fail(
                f"the target is unreachable after retries: {exc}. Nothing more was sent; "
                "rerun later — a rerun continues safely.",
                3,
            )
        except ProtocolError as exc:
            _fail(exc.user_message(), 3)
        except TargetError as exc:
            _fail(f"the target refused the run: {exc}", 3)
        except ContactSyncError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt as exc:  # stopped at once (pipeline.interrupt)
            _fail(str(exc) or "interrupted; a rerun continues safely", 3)
        except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
            _fail(
                f"unexpected error ({type(exc).__name__}: {exc}); please report it. "
                "A rerun continues safely.",
                3,
            )
        return None

    return wrapper  # type: ignore[return-value]


def _run(
    command: Callable[..., api.RunResult],
    params: dict[str, Any],
    *,
    stoppable: bool = False,
    remote: bool = False,
) -> None:
    """Run ``command`` with signals handled and print its summary (``stoppable``: it
    takes a ``StopRequest``; ``remote``: it sends the key to the target, so a warning
    comes first when the key would travel in clear)."""
    settings = _settings(params)
    warning = cleartext_warning(settings.base_url) if remote and settings.base_url else None
    if warning:
        click.echo(f"contact-sync: warning: {clean(warning)}", err=True)
    progress = choose_progress(settings.quiet or settings.no_progress)
    with handle_signals(StopRequest()) as stop:
        result = command(settings, progress, **({"stop": stop} if stoppable else {}))
    if not settings.quiet or result.exit_code != 0:
        if result.table.format != "CSV" and not settings.quiet:
            click.echo(f"input: {result.table.format}", err=True)
        for note in result.table.notes if not settings.quiet else ():
            click.echo(f"input: {clean(note)}", err=True)
        if not settings.quiet:
            click.echo(mapping_lines(result.mapping), err=True, nl=False)
        click.echo(human_summary(result.summary), err=True, nl=False)
    reset = result.summary.extra.get("state_reset")
    if reset and reset["moved_to"] and not settings.quiet:
        kept = reset["opt_outs_kept"]
        moved = ", ".join(reset["moved_to"])
        kept_text = "1 opt-out" if kept == 1 else f"{kept} opt-outs"
        click.echo(f"journal moved aside to {moved} ({kept_text} kept)", err=True)
    sys.exit(result.exit_code)


def mapping_lines(mapping: ColumnMapping) -> str:
    """The columns the tool chose by itself (the phone's with the reason), the phone
    columns left out as another person's, the order of several phone columns, and how to
    override them (nothing when there is none of these)."""
    lines = []
    guessed = dict(mapping.guessed)
    if mapping.others and "phone" in mapping.fields:
        guessed = {"phone": mapping.fields["phone"], **guessed}
    if guessed:
        lines.append("columns mapped by guess (override with --map FIELD=COLUMN):\n")
    for field, column in guessed.items():
        why = f" ({mapping.phone_reason})" if field == "phone" and mapping.phone_reason else ""
        lines.append(f"  {field:<12} <- {column!r}{why}\n")
    if mapping.others:
        named = ", ".join(f"{c!r} ({word})" for c, word in mapping.others.items())
        lines.append(
            f"  not the contact's phone, as they name another person: {named} "
            "(--map phone=COLUMN if one is the contact's)\n"
        )
    if len(mapping.phone_columns) > 1:
        order = ", ".join(repr(c) for c in mapping.phone_columns)
        given = mapping.phone_order.startswith("--phone-preference")
        hint = "" if given else " (--phone-preference COLUMN to put one first)"
        lines.append(
            f"  phone columns, {mapping.phone_order}; each row takes the first non-empty: "
            f"{order}{hint}\n"
        )
    return "".join(lines)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="contact-sync")
def main() -> None:
    """Load contact lists (CSV, Excel workbooks, JSON Lines), correctly and fast, into
    calling and SMS platforms."""


@main.command(epilog=EPILOG_VALIDATE)
@pipeline_options
@click.option(
    "--target",
    help="Also check what this target requires of a contact (zexa: a name; E.164's 15 "
    "digits): nothing is sent, no key is needed.",
)
@handle_errors
def validate(**params: Any) -> None:
    """Read, validate, normalize and dedupe INPUT offline (exit 0 clean, 1 problems)."""
    # The records go to the report and the summary: none are kept for later (the same
    # for plan and sync).
    _run(functools.partial(api.validate, keep_results=False), params)


@main.command(epilog=EPILOG_PLAN)
@pipeline_options
@target_options
@handle_errors
def plan(**params: Any) -> None:
    """Diff INPUT against the target's contacts and report what sync would do."""
    _run(functools.partial(api.plan, keep_results=False), params, remote=True)


@main.command(epilog=EPILOG_SYNC)
@pipeline_options
@target_options
@click.option(
    "--reset-state",
    is_flag=True,
    default=None,
    help="Move this target's journal aside first (it is kept, renamed) and start from a "
    "fresh read of the remote set: the way out of a damaged journal.",
)
@handle_errors
def sync(**params: Any) -> None:
    """Validate INPUT, diff it against the target and push the changes."""
    _run(functools.partial(api.sync, keep_results=False), params, stoppable=True, remote=True)


@main.command(
    epilog="\b\nExamples:\n  contact-sync targets\n  contact-sync targets --describe arnis"
)
@click.option(
    "--describe",
    metavar="NAME",
    help="Print a built-in target's description (TOML), to start your own from it.",
)
@handle_errors
def targets(describe: str | None) -> None:
    """The targets and what each can do."""
    if describe is not None:
        from pipeline.targets import description_text

        click.echo(description_text(describe), nl=False)
        return
    from pipeline.targets_table import targets_table

    click.echo(targets_table())


@main.command(
    epilog="\b\nExample:\n  contact-sync sandbox --target arnis --port 8750 --api-key demo-key"
)
@click.option("--target", required=True, help="Which API to emulate.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    default=0,
    type=click.IntRange(0, 65535),
    help="0: any free port (the URL is printed).",
)
@click.option("--api-key", help="The key the sandbox accepts (default: $CONTACT_SYNC_API_KEY).")
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    help="Keep the contacts in this JSON file between runs.",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(min=1),
    help="Requests per window, then 429 with Retry-After.",
)
@click.option("--bulk-rate-limit", type=click.IntRange(min=1), help="Bulk requests per window.")
@click.option(
    "--window",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Rate-limit window, seconds.",
)
@click.option(
    "--fail-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction of requests answered 503.",
)
@click.option(
    "--commit-fail-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction of writes applied, then failed.",
)
@click.option(
    "--token-rate",
    type=float,
    help="A token bucket: requests per minute (then 429 with Retry-After), with --burst.",
)
@click.option("--burst", type=int, default=1, show_default=True, help="Token bucket size.")
@click.option("--slow-rate", type=float, default=0.0, help="Fraction of answers delayed.")
@click.option(
    "--slow-seconds", type=float, default=0.5, show_default=True, help="The delay, seconds."
)
@click.option("--retry-after", type=int, help="Seconds every 429 asks to wait.")
@click.option("--down-after", type=int, help="Answer 503 to everything after N requests.")
@click.option("--seed", type=int, default=0, help="Seed for the fault knobs.")
@handle_errors
def sandbox(**params: Any) -> None:
    """Serve a local emulator of a target's API until interrupted."""
    from pipeline import sandbox as sandboxes

    key = params["api_key"] or os.environ.get("CONTACT_SYNC_API_KEY") or "sandbox-key"
    faults = sandboxes.Faults(
        seed=params["seed"],
        rate_limit=params["rate_limit"],
        bulk_rate_limit=params["bulk_rate_limit"],
        window_seconds=params["window"],
        transient_rate=params["fail_rate"],
        commit_then_fail_rate=params["commit_fail_rate"],
        bucket_per_minute=params["token_rate"],
        bucket_burst=params["burst"],
        slow_rate=params["slow_rate"],
        slow_seconds=params["slow_seconds"],
        retry_after=params["retry_after"],
        down_after=params["down_after"],
    )
    store = sandboxes.Store(id_style=sandboxes.EMULATORS.get(params["target"], ("", "", "uuid"))[2])
    db = sandboxes.checked_db(Path(params["db"])) if params["db"] else None
    # Ctrl-C and SIGTERM stop it cleanly, also when started with SIGINT ignored (a
    # background job of a script), where Python would not turn it into KeyboardInterrupt
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    running = sandboxes.start(
        params["target"], key, faults=faults, host=params["host"], port=params["port"], store=store
    )
    if db and db.exists():
        sandboxes.load_db(running, db)
    click.echo(running.url, nl=True)
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        if db:
            running.emulator.save(db)
        running.stop()


def run(args: Sequence[str] | None = None) -> NoReturn:
    """The ``contact-sync`` command as installed (and ``python -m pipeline``): ``main``,
    then a quick exit (see :func:`quick_exit`)."""
    try:
        main(args=args, prog_name="contact-sync")
    except SystemExit as done:  # click ends every command with one (standalone mode)
        quick_exit(done.code)
    quick_exit(0)


def quick_exit(status: object) -> NoReturn:
    """End the process as ``sys.exit(status)`` would, less the interpreter's tear-down.

    Once a command is done, freeing every object one by one changes nothing anyone sees
    and costs some 0.1 s after a 1M-row run (its frames, caches and modules). So the exit
    handlers run (temporary spool directories, logging, anything registered with
    ``atexit``), the standard streams are flushed, and the process ends. While a thread
    that is not a daemon still runs, the normal exit, which waits for it, is taken instead.
    """
    if status is None:
        code = 0
    elif isinstance(status, int):
        code = status
    else:  # as the interpreter does with sys.exit("message")
        print(status, file=sys.stderr)
        code = 1
    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon and t.is_alive() for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            code = code or 120  # the interpreter's own status when flushing fails at exit
    os._exit(code)


if __name__ == "__main__":  # ``python -m pipeline.cli`` is the ``contact-sync`` command too
    run()
