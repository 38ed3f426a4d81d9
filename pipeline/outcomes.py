"""One vocabulary of outcomes: what a record's ``status`` can be, what a plan can do with
it, and every ``error_code`` the tool writes, with what each means in a person's words
(README's table and the HTML report say the same; ``tests/test_outcomes.py`` checks it).

They are ``StrEnum`` members, so they are the very strings the reports hold. In polars
give a dtype (``pl.lit(code, pl.String)``, a schema'd frame): a bare list of members
becomes a polars ``Enum`` column.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A record's ``status`` in a report (``validate``, ``sync``)."""

    VALID = "valid"
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    SKIPPED = "skipped"
    FAILED = "failed"


class Action(StrEnum):
    """What ``plan`` would do with a record (its report's ``status``)."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    DELETE = "delete"
    SKIP = "skip"
    INVALID = "invalid"
    DUPLICATE = "duplicate"


class Code(StrEnum):
    """Every ``error_code`` a report can hold."""

    # the record, read and checked
    MALFORMED_ROW = "malformed_row"
    BAD_ENCODING = "bad_encoding"
    MISSING_PHONE = "missing_phone"
    INVALID_PHONE = "invalid_phone"
    SCIENTIFIC_NOTATION = "scientific_notation"
    UNKNOWN_COUNTRY = "unknown_country"
    INVALID_EMAIL = "invalid_email"
    INVALID_TIMEZONE = "invalid_timezone"
    INVALID_LANGUAGE = "invalid_language"
    INVALID_OPTED_OUT = "invalid_opted_out"
    NUMBER_TYPE = "number_type"
    MISSING_REQUIRED = "missing_required"
    NUMBER_TOO_LONG = "number_too_long"
    DUPLICATE_IN_FILE = "duplicate_in_file"
    # the plan
    EXISTS_REMOTELY = "exists_remotely"
    NOT_IN_REMOTE = "not_in_remote"
    OPTED_OUT_REMOTELY = "opted_out_remotely"
    OPTED_OUT_IN_FILE = "opted_out_in_file"
    OPT_OUT_UNSUPPORTED = "opt_out_unsupported"
    UPDATE_UNSUPPORTED = "update_unsupported"
    DELETE_UNSUPPORTED = "delete_unsupported"
    # the push
    CONFLICT = "conflict"
    REJECTED = "rejected"
    FAILED = "failed"
    LIST_FAILED = "list_failed"
    AUDIENCE_FAILED = "audience_failed"
    INTERRUPTED = "interrupted"
    HALTED = "halted"


#: what each code means, for a person (the HTML report; README's table says the same)
CODE_MEANING: dict[str, str] = {
    Code.MALFORMED_ROW: "The CSV record could not be read as a row of the table.",
    Code.BAD_ENCODING: "The record holds bytes that are not valid in the file's encoding.",
    Code.MISSING_PHONE: "The record has no phone number.",
    Code.INVALID_PHONE: (
        "The phone cell is not a valid number. Numbers written without +country are read "
        "in --default-region (or the row's country column)."
    ),
    Code.SCIENTIFIC_NOTATION: (
        "Excel wrote the number in scientific notation (4.91523E+11): its last digits are "
        "lost. Export the phone column as text and export again."
    ),
    Code.UNKNOWN_COUNTRY: "The country cell is neither an ISO code nor a country name.",
    Code.INVALID_EMAIL: "The email is not a valid address. The whole record is held back.",
    Code.INVALID_TIMEZONE: "Not an IANA time zone name (e.g. America/New_York).",
    Code.INVALID_LANGUAGE: "Not a BCP 47 language tag (e.g. en-US, hi-IN).",
    Code.INVALID_OPTED_OUT: "The opted-out cell is not a yes/no value.",
    Code.NUMBER_TYPE: "The number's type is one --reject-types refuses.",
    Code.MISSING_REQUIRED: "The target requires a field this record lacks (zexa: a name).",
    Code.NUMBER_TOO_LONG: "More than the 15 digits E.164 allows: the target refuses it.",
    Code.DUPLICATE_IN_FILE: (
        "The same number (after normalization) is earlier in the file; the first valid record wins."
    ),
    Code.EXISTS_REMOTELY: "Skipped by --mode create-only: the contact exists on the target.",
    Code.NOT_IN_REMOTE: "Skipped by --mode update-only: the contact is not on the target.",
    Code.OPTED_OUT_REMOTELY: (
        "Opted out on the target: kept, since deleting it would erase its suppression."
    ),
    Code.OPTED_OUT_IN_FILE: "The file says opted out and the target has no opt-out: not created.",
    Code.OPT_OUT_UNSUPPORTED: "The target has no opt-out: the opt-out was not sent.",
    Code.UPDATE_UNSUPPORTED: "The contact differs on the target, which cannot update contacts.",
    Code.DELETE_UNSUPPORTED: "The target cannot delete contacts.",
    Code.CONFLICT: "The target holds a contact that conflicts with this one.",
    Code.REJECTED: "The target refused the contact; its message follows.",
    Code.FAILED: "Gave up after retries; a rerun continues safely where this one stopped.",
    Code.LIST_FAILED: "Written, but not added to one of its lists; the message names it.",
    Code.AUDIENCE_FAILED: "Written, but not added to one of its audiences (oliai).",
    Code.INTERRUPTED: "Not sent: the run was interrupted. A rerun sends it.",
    Code.HALTED: "Not sent: the target had answered outside its documented API.",
}
