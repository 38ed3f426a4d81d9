"""What a target requires of each contact beyond a valid number (a description's
``[requires]`` table): checked with the records, before anything is sent, so that a plan
never promises a create the platform will refuse (``validate --target``, ``plan``,
``sync``). A target that fills a missing value itself (oliai names a contact after its
number, dmchamp has ``default_name``) does not require it."""

from __future__ import annotations

from dataclasses import dataclass

#: E.164's own bound (ITU-T E.164): at most 15 digits after the +
E164_DIGITS = 15


@dataclass(frozen=True)
class Requirements:
    #: canonical fields a contact must have (``name``: a name, or a first or last name)
    fields: tuple[str, ...] = ()
    #: the most digits after the + the API takes (0: as many as phonenumbers accepts)
    e164_max_digits: int = 0

    def __bool__(self) -> bool:
        return bool(self.fields or self.e164_max_digits)


#: the columns any one of which gives a contact the field (a name: its parts too)
SOURCES = {"name": ("name", "first_name", "last_name")}
