"""The options of ``contact-sync validate``, ``plan`` and ``sync`` (``pipeline_options``,
``target_options``) and their help's examples: what the command line takes, not what it
does with it (that is ``pipeline.cli``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

EPILOG_VALIDATE = """\b
Examples:
  contact-sync validate contacts.csv --report report.csv
  contact-sync validate contacts.xlsx --sheet Leads --report report.csv
  contact-sync validate export.csv --default-region GB --max-invalid 5% --summary-json s.json
"""
EPILOG_PLAN = """\b
Example:
  export CONTACT_SYNC_API_KEY=...
  contact-sync plan contacts.csv --target arnis --base-url https://acme.arnis.ai/api/v1 --report plan.csv
"""
EPILOG_SYNC = """\b
Examples:
  export CONTACT_SYNC_API_KEY=...
  contact-sync sync contacts.csv --target arnis --base-url https://acme.arnis.ai/api/v1 --report out.csv
  contact-sync sync --config nightly.toml --quiet
"""


def pipeline_options(func: F) -> F:
    """Options shared by validate, plan and sync."""
    decorators = [
        click.argument("input", required=False),
        click.option(
            "--sheet",
            metavar="NAME|INDEX",
            help="The workbook sheet to read: its name or number, from 1 (default: the first).",
        ),
        click.option(
            "--config",
            "config",
            type=click.Path(dir_okay=False),
            help="TOML job file (flags win over it).",
        ),
        click.option(
            "--default-region", help="ISO country for numbers without +country (default US)."
        ),
        click.option(
            "--map",
            "map_pairs",
            multiple=True,
            metavar="FIELD=COLUMN",
            help="Map a CSV column to a contact field (repeatable).",
        ),
        click.option(
            "--phone-preference",
            multiple=True,
            metavar="COLUMN",
            help="Phone columns in the order to prefer them (repeatable).",
        ),
        click.option(
            "--report", help="Per-row report: CSV, or JSON Lines when the path ends in .jsonl."
        ),
        click.option("--summary-json", help="Machine-readable totals."),
        click.option(
            "--rejects", help="The rejected records as read, plus error_code and error_message."
        ),
        click.option("--html-report", help="The run as one self-contained HTML page."),
        click.option(
            "--max-invalid", help="Abort (exit 3) if more than N or N% of records are invalid."
        ),
        click.option(
            "--fill-timezone",
            is_flag=True,
            default=None,
            help="An empty timezone gets the number's own, when phonenumbers gives exactly one.",
        ),
        click.option(
            "--reject-types",
            metavar="LIST",
            help="Number types to refuse, comma-separated (e.g. premium_rate,toll_free).",
        ),
        click.option(
            "--quiet",
            "quiet",
            is_flag=True,
            default=None,
            help="No progress bars, and no summary unless something is wrong (for cron).",
        ),
        click.option(
            "--no-progress", "no_progress", is_flag=True, default=None, help="No progress bars."
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def target_options(func: F) -> F:
    """Options of plan and sync."""
    decorators = [
        click.option(
            "--target", help="arnis, consuelo, dmchamp, oliai or zexa, or a description PATH.toml."
        ),
        click.option("--base-url", help="The API root, e.g. https://acme.arnis.ai/api/v1."),
        click.option(
            "--api-key-env",
            help="Environment variable holding the key (default CONTACT_SYNC_API_KEY).",
        ),
        click.option(
            "--option",
            "option_pairs",
            multiple=True,
            metavar="KEY=VALUE",
            help="Target setting, e.g. workspace_id=ws_1.",
        ),
        click.option(
            "--mode",
            type=click.Choice(["upsert", "create-only", "update-only", "mirror"]),
            help="Default upsert.",
        ),
        click.option(
            "--max-deletes", help="Mirror mode refuses to delete more than N or N% (default 10%)."
        ),
        click.option(
            "--chunk-size", type=int, help="Contacts per bulk request (capped by the target)."
        ),
        click.option("--concurrency", type=int, help="Requests in flight (default: the target's)."),
        click.option(
            "--rate-limit",
            type=float,
            help="Requests per minute (default: the documented limit; 0: off).",
        ),
        click.option(
            "--retry-timeout",
            metavar="DURATION",
            help="How long the run may wait on a busy or failing API: 429s, 5xx, timeouts "
            "(e.g. 90s, 15m, 0.5h; default 15m).",
        ),
        click.option("--state-dir", help="Journal and lock directory (default .contact-sync/)."),
        click.option(
            "--skip-remote-read",
            is_flag=True,
            default=None,
            help="With --mode create-only: do not read the remote set (for keys that may "
            "create but not list); contacts that exist already are reported skipped.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func
