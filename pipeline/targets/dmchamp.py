"""dmchamp's quirk: a create answered ``409 "Contact already exists"`` adopts the contact
there, brought in line with the file at once (``PUT``, reported ``updated``, or
``unchanged`` when it already matches); after an unknown outcome, the 409 is our own
create, which landed."""

from __future__ import annotations

from typing import Any

from pipeline.errors import ConflictError, TargetError
from pipeline.outcomes import Code, Status
from pipeline.targets.base import Outcome, failure_outcome
from pipeline.targets.engine import Engine
from pipeline.targets.frames import remote_frame


class Dmchamp(Engine):
    def conflict(self, contact: dict[str, Any], exc: ConflictError, sent: bool) -> Outcome:
        row = contact["row"]
        found = self.find_for(row, contact["e164"])
        if isinstance(found, Outcome):
            return found
        if found is None:
            message = "dmchamp says the contact already exists, but a lookup by phone misses it"
            return Outcome(row, Status.FAILED, None, Code.CONFLICT, message)
        remote_id = str(found["id"])
        if sent:  # an earlier attempt of this very create landed
            return self.with_lists(contact, Outcome(row, "created", remote_id))
        remote = self.without_stand_ins(remote_frame([found], self.names)).row(0, named=True)
        outcome = self._put(row, remote_id, self._adopt_body(contact, remote))
        if remote["opted_out"] or outcome.status == "failed":
            return outcome  # never call a remote opt-out back into a list
        return self.with_lists(contact, outcome)

    def _adopt_body(self, contact: dict[str, Any], remote: dict[str, Any]) -> dict[str, Any]:
        """The file's non-empty fields that differ from what dmchamp holds."""
        names = self.write_names(self.description.update.fields)
        body = {
            names[f]: contact[f]
            for f in names
            if contact.get(f) not in (None, "") and contact.get(f) != remote[f]
        }
        if contact.get("opted_out") and not remote["opted_out"]:
            body.update(self.fill(self.description.fields.opted_out_write))
        return body

    def _put(self, row: int, remote_id: str, body: dict[str, Any]) -> Outcome:
        """The update of one contact (nothing to send: ``unchanged``)."""
        if not body:
            return Outcome(row, "unchanged", remote_id)
        update = self.description.update
        try:
            self.send(update.method, self.text(update.path, id=remote_id), body=body)
        except TargetError as exc:
            return failure_outcome(row, exc, remote_id)
        return Outcome(row, "updated", remote_id)
