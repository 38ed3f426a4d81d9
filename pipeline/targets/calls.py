"""What every strategy of the engine stands on: a described target's options, its
templates and its requests (each endpoint answer read in one place, ``send_json``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from pipeline.durations import seconds_text
from pipeline.errors import ProtocolError, TargetError, UsageError, WritesHalted
from pipeline.http import AmbiguousWriteError
from pipeline.progress import Progress
from pipeline.targets.answers import dig, read_answer, shapes
from pipeline.targets.base import Outcome, Target, TargetSettings, failure_outcome
from pipeline.targets.frames import body_of
from pipeline.targets.listing import COMMON_OPTIONS
from pipeline.targets.model import Description, Scalar

_WHOLE = re.compile(r"\{(\w+)\}")


class Described(Target):
    """A target run from its ``Description``: options, names, templates and requests."""

    description: ClassVar[Description]

    def __init__(self, settings: TargetSettings, progress: Progress | None = None) -> None:
        self.options = _options(self.description, settings.options)
        super().__init__(settings, progress)
        #: the list page size, as the server last answered; contacts at the last listing
        self.per_page = int(self.options.get("page_size", 1))
        self.remote_total: int | None = None
        #: each endpoint's documented answer, by role (``answers.shapes``)
        self.shapes = shapes(self.description)

    def error_message(self, body: Any) -> str | None:  # type: ignore[override]
        """The human message inside one of this API's error bodies."""
        api = self.description.api
        if isinstance(body, str) and api.error_text_body:
            return body
        for path in api.error_paths:
            value = dig(body, path)
            if isinstance(value, list):
                return "; ".join(str(v) for v in value)
            if value and not isinstance(value, dict):
                return str(value)
        return None

    @property
    def chunk_size(self) -> int:
        size = self.options.get("batch_size", 1) if self.description.create.batch else 1
        return max(1, min(self.settings.chunk_size, int(size)))

    # -- names and templates ---------------------------------------------------------
    @property
    def names(self) -> dict[str, str]:
        """canonical field → API field, as read."""
        return self.description.fields.read

    def write_names(self, fields: tuple[str, ...]) -> dict[str, str]:
        """canonical field → API field, as ``fields`` are written."""
        d = self.description.fields
        return {f: d.write.get(f) or d.read[f] for f in fields}

    def fill(self, template: Mapping[str, Scalar], **values: Any) -> dict[str, Any]:
        """A query or body template with ``{option}`` and ``{value}`` filled in."""
        return {
            key: self.text(v, **values) if isinstance(v, str) else v for key, v in template.items()
        }

    def text(self, template: str, **values: Any) -> Any:
        """``{name}`` alone: the value itself (a list stays a list); else filled in text."""
        known = {**self.options, "name": self.name, **values}
        whole = _WHOLE.fullmatch(template)
        try:
            if whole:
                return known[whole.group(1)]
            return _WHOLE.sub(lambda m: str(known[m.group(1)]), template)
        except KeyError as exc:
            raise UsageError(f"{self.name}: {{{exc.args[0]}}} names no option") from exc

    # -- bodies ------------------------------------------------------------------------
    def create_body(self, contact: dict[str, Any]) -> dict[str, Any]:
        create = self.description.create
        body = {**self.fill(create.body), **body_of(contact, self.write_names(create.fields))}
        if create.lists_key and contact.get("lists"):
            body[create.lists_key] = list(contact["lists"])
        if contact.get("opted_out"):
            body.update(self.fill(self.description.fields.opted_out_write))
        return body

    def update_body(self, contact: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        """The changed fields an update takes; a cleared one left out, sent as null, or
        sent as the server's default (``[update] cleared``)."""
        update, fields = self.description.update, self.description.fields
        names = self.write_names(update.fields)
        body: dict[str, Any] = {}
        for name in (c for c in changes if c in names):
            value = contact.get(name)
            if value is None or value == "" or value == []:
                if update.cleared == "omit":
                    continue
                value = None if update.cleared == "null" else self.text(fields.read_as_null[name])
            elif name == "metadata" and isinstance(value, str):
                value = json.loads(value)
            body[names[name]] = value
        if "opted_out" in changes and contact.get("opted_out"):
            body.update(self.fill(fields.opted_out_write))  # an opt-out is never undone
        return body

    # -- requests --------------------------------------------------------------------
    def send(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content: bytes | None = None,
        bulk: bool = False,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        if self.halted is not None and method.upper() != "GET":
            raise WritesHalted(f"{method} {path}: not sent, the run is stopping")
        limiter = "bulk" if bulk else "default"
        return self.client.request(
            method,
            path,
            params=query,
            json_body=body,
            content=content,
            limiter=limiter,
            idempotent=idempotent,
        )

    def send_json(self, method: str, path: str, answer: str | None = None, **kwargs: Any) -> Any:
        """``send``, and the answer's JSON (``answer_of``)."""
        return self.answer_of(self.send(method, path, **kwargs), method, path, answer)

    def answer_of(self, response: httpx.Response, method: str, path: str, role: str | None) -> Any:
        """The JSON of a response (None when empty), held to the documented shape of
        ``role`` (``answers.shapes``). An answer outside it halts the writes
        (``Target.halt``): a read raises the ``ProtocolError``, a write raises it as an
        ``AmbiguousWriteError``, so that what it did is read back."""
        shape = self.shapes.get(role) if role else None
        try:
            return read_answer(response, shape, f"{self.name}: {method} {path}")
        except ProtocolError as exc:
            self.halt(exc)
            if method.upper() == "GET":
                raise
            raise AmbiguousWriteError(str(exc), status=exc.status) from exc

    # -- what a write whose outcome is unknown needs -----------------------------------
    def gave_up(self, template: str, rounds: int) -> str:
        """A ``[create.ambiguous] gave_up`` text, and that the retry budget allowed no
        more rounds of a write whose outcome stayed unknown."""
        budget = seconds_text(self.client.budget.seconds)
        given = self.text(template, rounds=rounds)
        return f"{given} ({rounds} rounds within the retry budget, --retry-timeout {budget})"

    def find(self, e164: str) -> dict[str, Any] | None:
        """The contact with this number, in the API's own field names (None: absent)."""
        raise NotImplementedError

    def find_for(self, row: int, e164: str) -> dict[str, Any] | Outcome | None:
        """``find`` inside a write of one row: a lookup that fails is the row's outcome
        (``lookup_error = "row"``), or ends the run (``"run"``)."""
        if self.description.create.ambiguous.lookup_error == "run":
            return self.find(e164)
        try:
            return self.find(e164)
        except TargetError as exc:
            return failure_outcome(row, exc)

    def record_id(self, body: Any, paths: tuple[str, ...], ids: tuple[str, ...]) -> str | None:
        """The id of the record in an answer: the first of ``paths`` holding an object,
        its first id field present."""
        for path in paths:
            record = dig(body, path) if path else body
            if isinstance(record, dict):
                found = next((record[i] for i in ids if record.get(i) is not None), None)
                return None if found is None else str(found)
        return None


def _options(d: Description, given: Mapping[str, str]) -> dict[str, Any]:
    """The description's option defaults, overridden by ``--option`` / ``[options]``; a
    whole-number default takes only a positive whole number."""
    options: dict[str, Any] = {**COMMON_OPTIONS, **d.options}
    for key, value in given.items():
        default = options.get(key)
        if isinstance(default, int) and not isinstance(default, bool):
            if not str(value).isdigit() or int(value) < 1:
                raise UsageError(f"{d.name}: {key} must be a positive integer, not {value!r}")
            options[key] = int(value)
        else:
            options[key] = value
    for key in d.api.required_options:
        if not options.get(key):
            raise UsageError(
                f"{d.name} needs --option {key}=... (or {key} under [options] in the job file)"
            )
    return options
