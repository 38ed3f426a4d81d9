"""What a header names: its matching key and words, the known aliases of each field and
the word rules (see the package docstring, "Matching" and "Phone columns")."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from pipeline.fields import METADATA_PREFIX, PHONE


def key(header: str) -> str:
    """The matching key of a header: no accents, lower case, letters and digits only."""
    return "".join(words(header))


def words(header: str) -> list[str]:
    """The words of a header: camelCase split, accents stripped, lower-cased."""
    text = unicodedata.normalize("NFKD", header)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    return re.findall(r"[a-z]+|[0-9]+", text.lower())


def _keys(*headers: str) -> frozenset[str]:
    return frozenset(key(h) for h in headers)


#: Tier 2: known header names of real exports (Google, Outlook, iCloud, HubSpot,
#: Salesforce, Pipedrive, Zoho, Mailchimp...) in English, German, French and Spanish.
ALIASES: Final[dict[str, frozenset[str]]] = {
    PHONE: _keys(
        "Phone", "Phone Number", "Phone No", "Mobile", "Mobile Phone", "Mobile Number",
        "Mobile Phone Number", "Cell", "Cell Phone", "Cell Number", "Tel", "Telephone",
        "Telephone Number", "Phone 1 - Value", "Phone 2 - Value", "Phone 3 - Value",
        "Business Phone", "Home Phone", "Work Phone", "Primary Phone", "Other Phone",
        "Phone Number (HubSpot)", "Telefon", "Telefonnummer", "Handy", "Handynummer", "Mobil",
        "Mobilnummer", "Téléphone", "Portable", "Móvil", "Teléfono", "Celular", "MSISDN",
        "Contact Number", "WhatsApp", "WhatsApp Number", "MobilePhone",
    ),
    "first_name": _keys(
        "First Name", "Given Name", "Firstname", "First", "FName", "Forename", "Vorname", "Prénom",
        "Nombre",
    ),
    "last_name": _keys(
        "Last Name", "Surname", "Family Name", "Lastname", "Last", "LName", "Nachname", "Nom",
        "Nom de famille", "Apellido", "Apellidos",
    ),
    "name": _keys(
        "Name", "Full Name", "Display Name", "Contact Name", "Fullname", "Nombre completo",
        "Nom complet", "Vollständiger Name",
    ),
    "email": _keys(
        "Email", "E-mail", "E-Mail", "Email Address", "E-mail Address", "E-mail 1 - Value",
        "Email 1 - Value", "Mail", "Email Addresses", "Primary Email", "Courriel", "Correo",
        "Correo electrónico",
    ),
    "company": _keys(
        "Company", "Company Name", "Organization", "Organisation", "Organization Name",
        "Organization 1 - Name", "Account Name", "Firma", "Unternehmen", "Société", "Entreprise",
        "Empresa", "Employer", "Business Name",
    ),
    "timezone": _keys(
        "Time Zone", "Timezone", "TZ", "IANA Time Zone", "Zeitzone",
    ),
    "language": _keys(
        "Language", "Locale", "Preferred Language", "Lang", "Sprache", "Langue", "Idioma",
    ),
    "tags": _keys(
        "Tags", "Tag", "Labels", "Label", "Group Membership", "Groups",
    ),
    "lists": _keys(
        "Lists", "List", "List IDs", "List ID", "List Ids",
    ),
    "opted_out": _keys(
        "Opted Out", "Opt Out", "Opt-Out", "DNC", "Do Not Call", "DoNotCall", "Unsubscribed",
        "DND", "Do Not Disturb", "Do Not Contact", "SMS Opt Out", "SMS Opted Out", "Call Opt Out",
        "Phone Opt Out",
    ),
    "notes": _keys(
        "Notes", "Note", "Description", "Comments", "Comment", "Remarks", "Notizen", "Notiz",
        "Bemerkung", "Bemerkungen", "Anmerkungen", "Kommentar", "Remarques", "Commentaire",
        "Notas", "Comentarios", "Observaciones",
    ),
    "external_id": _keys(
        "External ID", "ID", "Record ID", "Contact ID", "Contact Id", "Customer ID", "UID",
    ),
    "country": _keys(
        "Country", "Country Code", "Mailing Country", "Country/Region", "Address 1 - Country",
        "Business Country/Region", "Home Country/Region", "Other Country/Region", "Country Name",
        "Land", "País", "Pays", "CC",
    ),
}  # fmt: skip
_PHONE_WORDS: Final = frozenset(
    {"phone", "mobile", "mobil", "cell", "cellphone", "cellular", "celular", "tel",
     "telephone", "telefon", "telefono", "handy", "movil", "portable", "whatsapp",
     "msisdn", "phonenumber", "mobilephone", "telefonnummer"}
)  # fmt: skip
_NOT_A_NUMBER: Final = frozenset(
    {"type", "label", "ext", "extension", "opt", "opted", "optout", "optin", "dnc",
     "status", "verified", "valid", "validated", "country", "code", "carrier", "consent",
     "count", "preference", "preferred", "kind", "id", "source", "date", "time", "format",
     "call", "calls", "called", "last", "attempts", "duration", "minutes", "is", "has",
     "app", "device", "os", "model", "brand", "provider", "network", "region", "prefix",
     "linetype", "owner", "confirmed", "bounced"}
)  # fmt: skip
_EMAIL_MARKERS: Final = frozenset(
    {"type", "label", "opt", "opted", "optout", "optin", "unsubscribed", "bounce",
     "bounced", "status", "verified", "valid", "consent", "domain", "count", "format",
     "permission", "subscribed", "subscription", "date"}
)  # fmt: skip

#: Words that name a person other than the contact: a column (or a Google label) with one
#: holds that person's number or name (CiviCRM's ``Mum-home-mobile``, Outlook's
#: ``Assistant's Phone``, ``Emergency Contact Phone``, ``Spouse Mobile``), never the
#: contact's by guess. English, German, Spanish and French, accents stripped.
OTHER_PERSON: Final = frozenset(
    {"mother", "mum", "mums", "mom", "moms", "mam", "mummy", "mommy", "mama", "father", "dad", "dads", "daddy",
     "papa", "parent", "parents", "guardian", "spouse", "partner", "wife", "husband",
     "assistant", "assistants", "asst", "secretary", "emergency", "relative", "relatives",
     "kin", "sister", "brother", "sibling", "son", "daughter", "child", "children",
     "grandmother", "grandfather", "grandparent", "grandma", "grandpa", "aunt", "uncle",
     "cousin", "friend", "neighbor", "neighbour", "caregiver", "carer", "manager",
     "supervisor", "referrer", "doctor", "mutter", "vater", "eltern", "ehepartner",
     "ehefrau", "ehemann", "notfall", "notfallkontakt", "madre", "padre", "esposa",
     "esposo", "conyuge", "emergencia", "mere", "pere", "conjoint", "urgence"}
)  # fmt: skip

#: Phone preference groups: (rank, words); a column's rank is its first group's.
PHONE_RANKS: Final[tuple[tuple[int, frozenset[str]], ...]] = (
    (0, frozenset({"mobile", "mobil", "cell", "cellphone", "cellular", "celular", "handy",
                   "movil", "portable", "whatsapp", "msisdn", "mobilephone"})),
    (4, frozenset({"other", "car", "radio", "tty", "tdd", "callback", "pager", "alternate",
                   "alt", "secondary", "fax"})),
    (2, frozenset({"work", "business", "office", "company", "job", "arbeit", "trabajo",
                   "bureau", "main", "corporate"})),
    (3, frozenset({"home", "private", "privat", "residence", "house", "casa", "personal",
                   "landline", "maison"})),
)  # fmt: skip
_GENERIC_RANK: Final = 1
#: what each rank is called, for the reason a column was chosen
RANK_NAMES: Final = {0: "mobile", 1: "generic", 2: "work", 3: "home", 4: "other"}


def label_column(value_column: str, columns: list[str]) -> str | None:
    """``Phone 2 - Label`` (or ``- Type``) for ``Phone 2 - Value``."""
    ws = words(value_column)
    if len(ws) < 2 or ws[-1] != "value":
        return None
    stem = "".join(ws[:-1])
    return next((c for c in columns if key(c) in (stem + "label", stem + "type")), None)


def other_person(header: str) -> str | None:
    """The word of ``header`` that names another person than the contact, or None."""
    return next((w for w in words(header) if w in OTHER_PERSON), None)


def phone_like(header: str) -> bool:
    ws = set(words(header))
    return key(header) in ALIASES[PHONE] or bool(ws & _PHONE_WORDS and not ws & _NOT_A_NUMBER)


def phone_rank(header: str) -> int:
    ws = set(words(header))
    for rank, group in PHONE_RANKS:
        if ws & group:
            return rank
    return _GENERIC_RANK


def _fuzzy(fieldname: str, header: str) -> bool:
    """Tier 3: word rules for the fields that have one; never for a header that names
    another person (``Mum-email``, ``Spouse First Name``)."""
    k, ws = key(header), set(words(header))
    if ws & OTHER_PERSON:
        return False
    if fieldname == "email":
        return ("email" in k or "mail" in ws) and not ws & _EMAIL_MARKERS
    if fieldname in ("first_name", "last_name"):
        return fieldname.replace("_", "") in k
    if fieldname == "country":
        return bool(ws & {"country", "land", "pais", "pays"}) and not ws & {
            "phone",
            "calling",
            "dial",
            "dialing",
            "tel",
        }
    return False


def match_tier(fieldname: str, header: str) -> int | None:
    if key(header) == key(fieldname):
        return 1
    if key(header) in ALIASES.get(fieldname, frozenset()):
        return 2
    if _fuzzy(fieldname, header):
        return 3
    return None


def metadata_key(column: str) -> str | None:
    if column[: len(METADATA_PREFIX)].lower() == METADATA_PREFIX:
        name = column[len(METADATA_PREFIX) :].strip()
        return name or None
    return None
