"""The look of the HTML report: how much is listed, the order and colour of each status,
what each status means in a person's words (each error code's: ``pipeline.outcomes``),
the CSP and the CSS."""

from pipeline.outcomes import CODE_MEANING as CODE_MEANING

#: rows listed per error code, and per plan action (the rest: "and N more")
MAX_ROWS_SHOWN = 50
#: deletes are the irreversible part of a plan: more of them are listed
MAX_DELETES_SHOWN = 500
#: a cell longer than this is cut (a hostile file can hold megabyte cells)
MAX_CELL_CHARS = 160

# The order statuses are charted in: what went well first, then what needs attention.
STATUS_ORDER = (
    "valid",
    "create",
    "created",
    "update",
    "updated",
    "unchanged",
    "delete",
    "deleted",
    "invalid",
    "duplicate",
    "skip",
    "skipped",
    "failed",
)
COLOURS = {
    "valid": "#2e7d32",
    "create": "#2e7d32",
    "created": "#2e7d32",
    "update": "#1565c0",
    "updated": "#1565c0",
    "unchanged": "#90a4ae",
    "delete": "#6a1b9a",
    "deleted": "#6a1b9a",
    "invalid": "#c62828",
    "duplicate": "#ef6c00",
    "skip": "#f9a825",
    "skipped": "#f9a825",
    "failed": "#7f0000",
}
STATUS_MEANING = {
    "valid": "passed every check",
    "create": "would be created",
    "created": "created on the target",
    "update": "would be updated",
    "updated": "updated on the target",
    "unchanged": "already up to date",
    "delete": "would be deleted (mirror mode)",
    "deleted": "deleted from the target (mirror mode)",
    "invalid": "held back: a field is invalid",
    "duplicate": "held back: number already earlier in the file",
    "skip": "would be skipped",
    "skipped": "skipped",
    "failed": "the target did not take it",
}
PLAN_ACTIONS = ("create", "update", "delete", "unchanged", "skip")

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
STYLE = """
:root{color-scheme:light;--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 margin:0;color:var(--ink);background:#fff}
main{max-width:72rem;margin:0 auto;padding:1.5rem 2rem 3rem}
h1{font-size:1.5rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:2rem 0 .6rem;
 padding-bottom:.3rem;border-bottom:1px solid var(--line)}
h3{font-size:1rem;margin:0;display:inline}
.meta{color:var(--muted);margin:0 0 1rem}.meta span+span::before{content:" · "}
.verdict{border-radius:6px;padding:.7rem 1rem;margin:0 0 1rem;border-left:6px solid}
.verdict.ok{background:#e8f5e9;border-color:#2e7d32}.verdict.warn{background:#fff4e5;border-color:#ef6c00}
.verdict.bad{background:#fdecea;border-color:#c62828}.verdict strong{font-size:1.05rem}
.tiles{display:flex;flex-wrap:wrap;gap:.75rem;margin:0 0 .5rem}
.tile{border:1px solid var(--line);border-radius:6px;padding:.5rem .9rem;min-width:9rem;background:var(--soft)}
.tile b{display:block;font-size:1.6rem;line-height:1.2;font-variant-numeric:tabular-nums}
.tile small{color:var(--muted)}.tile.good b{color:#2e7d32}.tile.attn b{color:#c62828}
.tile.del b{color:#6a1b9a}
.strip{display:flex;height:14px;border-radius:4px;overflow:hidden;margin:.4rem 0 1rem;
 background:var(--soft)}
.strip span{min-width:2px}
table{border-collapse:collapse;margin:.4rem 0 .6rem}
td,th{border-bottom:1px solid var(--line);padding:.3rem .7rem;text-align:left;vertical-align:top;
 unicode-bidi:isolate;overflow-wrap:anywhere}
th{background:var(--soft);font-weight:600;white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.chart td{border:0;padding:.2rem .6rem .2rem 0;vertical-align:middle}
.chart .track{width:28rem;background:var(--soft);border-radius:3px}
.chart .bar{display:block;height:16px;border-radius:3px;min-width:2px}
.sw{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.4em;vertical-align:-.05em}
.muted{color:var(--muted)}
.rows{width:100%}.rows td.row{width:4rem}
.rows td.phone{white-space:nowrap}.rows td.name{min-width:9rem}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--soft);
 padding:.05rem .3rem;border-radius:3px}
details{border:1px solid var(--line);border-radius:6px;padding:.5rem .9rem;margin:.6rem 0}
summary{cursor:pointer}summary .count{font-weight:600}
.hint{color:var(--muted);margin:.3rem 0 0}
.more{color:var(--muted);font-style:italic;margin:.2rem 0}
.index{display:flex;flex-wrap:wrap;gap:.3rem 1.5rem;list-style:none;padding:0;margin:.4rem 0}
a{color:#0b57d0}
footer{color:var(--muted);margin-top:2.5rem;font-size:12px}
@media print{details{break-inside:avoid}main{padding:0}}
"""
