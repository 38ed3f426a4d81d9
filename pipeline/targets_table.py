"""``contact-sync targets``: what each target can do, as a text table."""

from __future__ import annotations

from pipeline.targets import REGISTRY, target_class
from pipeline.targets.base import Capabilities

_COLUMNS = ("target", "list", "bulk", "update", "delete", "opt-out", "lists", "rate limit")


def _row(name: str, caps: Capabilities) -> tuple[str, ...]:
    rate = f"{caps.rate_limit:g}/min" if caps.rate_limit else "—"
    if caps.bulk_rate_limit:
        rate += f", bulk {caps.bulk_rate_limit:g}/min"
    return (
        name,
        "yes" if caps.can_list else "no (looks up each number)",
        str(caps.bulk_create) if caps.bulk_create > 1 else "no (one request per contact)",
        "yes" if caps.can_update else "no",
        "yes" if caps.can_delete else "no",
        caps.opt_out,
        caps.lists,
        rate,
    )


def targets_table() -> str:
    rows: list[tuple[str, ...]] = [_COLUMNS]
    notes = []
    for name in REGISTRY:
        caps = target_class(name).capabilities
        rows.append(_row(name, caps))
        if caps.notes:
            notes.append(f"  {name}: {caps.notes}")
        if caps.required_options:
            notes.append(
                f"  {name}: needs --option {'=... --option '.join(caps.required_options)}=..."
            )
        optional = [o for o in caps.known_options if o not in caps.required_options]
        if optional:
            notes.append(f"  {name}: takes --option {', '.join(optional)}")
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    return "\n".join(lines + ([""] + notes if notes else []))
