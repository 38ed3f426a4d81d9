#!/usr/bin/env python3
"""Write every file under sample_data/ from a fixed seed.

    .venv/bin/python sample_data/generate.py           # (re)write all files
    .venv/bin/python sample_data/generate.py --check   # write, then re-read and check them

Standard library + phonenumbers only. The output is byte-for-byte the same on every run
(for a given phonenumbers release: a number is only kept when
``phonenumbers.is_valid_number`` accepts it, so new metadata could shift a few digits).

No real people: names are combined at random from common-name pools, every e-mail is at
example.com / example.org / example.net, companies are invented or the well-known
fictional ones (Contoso, Fabrikam, Northwind...). Phone numbers come from ranges reserved
for drama/fiction where phonenumbers accepts them (US/CA 555-01xx, GB 020 7946 0xxx and
0113/0117/0121/0131/0151/0161 496 0xxx, AU 0491 570 xxx and 02/03/07/08 5550 or 7010
xxxx, FR 01 99 00 / 02 61 91 / 03 53 01 / 04 65 71 / 05 36 49, DE 030 23125 /
069 90009 / 040 66969 / 0221 4710 / 089 99998 xxx); elsewhere from the phonenumbers
example number with its last digits changed, kept only when valid.

What the files hold (README.md, written by this script, lists the row numbers)
----------------------------------------------------------------------------
contacts.csv            25 records, all valid and unique with --default-region US.
contacts_edited.csv     contacts.csv after edits: 3 records changed (2 e-mails, 1 last
                        name), 1 removed, 2 added at the end.
messy.csv               244 records (UTF-8 with BOM, CRLF, CRM-dump layout, a Country
                        column with the ISO region hint, blank on some rows):
                          187 valid, unique records (13 of them opted out)
                           15 exact duplicates of an earlier valid record (every cell equal)
                           10 same number as an earlier valid record, written differently
                           13 invalid phones (too short, too long, letters, bad area code,
                              bad country code, two numbers in one cell, a GB national
                              number on a row with no Country hint -> parsed as US)
                            4 missing phones (empty or blanks only)
                            6 invalid e-mails
                            4 unknown time zones
                            3 malformed language tags
                            2 rows with two problems each (e-mail + time zone,
                              phone + language)
                            3 more rows with a valid number in a deliberately odd
                              but legal form are part of the 187 (see README)
                        plus quoted cells with commas, quotes and embedded newlines,
                        accented / non-Latin / decomposed (NFD) names, formula-like
                        notes (=, +, -, @), 00 / 011 / +cc (0) prefixes, extensions.
layouts/*.csv           one file per real export layout (Google Contacts, Outlook,
                        HubSpot, Salesforce report, Zoho CRM, Mailchimp, German Excel,
                        Windows-1252 Excel), 15-25 records each with a few bad rows.

Nothing here was computed by the pipeline: the only referee is phonenumbers itself
(parse with the row's region, is_valid_number) plus zoneinfo for time zones.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import re
import sys
import unicodedata
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumber
from phonenumbers import PhoneNumberFormat as PNF

HERE = Path(__file__).resolve().parent
SEED = 20241124

# ---------------------------------------------------------------------------------------
# Phone numbers
# ---------------------------------------------------------------------------------------

# (national significant number prefix, random digits to append). Fiction ranges first.
PATTERNS: dict[str, list[tuple[str, int]]] = {
    "US": [
        (ac + "55501", 2)
        for ac in (
            "212",
            "312",
            "415",
            "202",
            "617",
            "206",
            "305",
            "512",
            "404",
            "303",
            "213",
            "702",
            "503",
            "615",
        )
    ],
    "CA": [(ac + "55501", 2) for ac in ("416", "604", "514", "613", "403", "902")],
    "GB": [
        ("2079460", 3),
        ("1134960", 3),
        ("1614960", 3),
        ("1514960", 3),
        ("1174960", 3),
        ("1314960", 3),
        ("1214960", 3),
        ("740012", 4),
    ],
    "DE": [
        ("3023125", 3),
        ("6990009", 3),
        ("4066969", 3),
        ("2214710", 3),
        ("8999998", 3),
        ("15228817", 3),
    ],
    "FR": [("19900", 4), ("26191", 4), ("35301", 4), ("46571", 4), ("53649", 4), ("61234", 4)],
    "AU": [("491570", 3), ("25550", 4), ("37010", 4), ("75550", 4), ("85550", 4)],
    "IN": [("81234", 5), ("741041", 4)],
    "BR": [("1196123", 4), ("112345", 4), ("2199876", 4)],
    "MX": [("551234", 4), ("222123", 4), ("331234", 4)],
    "ES": [("61234", 4), ("91123", 4), ("93123", 4)],
    "JP": [("901234", 4), ("312345", 4), ("801234", 4)],
    "NG": [("802123", 4), ("803123", 4)],
    "ZA": [("71123", 4), ("10123", 4), ("82123", 4)],
    "IT": [("312345", 4), ("21234", 4)],
    "NL": [("61234", 4), ("20123", 4)],
    "PL": [("51234", 4), ("22123", 4)],
    "AT": [("66412", 5), ("15123", 3)],
    "CH": [("78123", 4), ("44668", 4)],
}

#: regions whose international call prefix is 00 (phonenumbers metadata agrees)
IDD00 = {"GB", "DE", "FR", "ES", "IT", "NL", "IN", "MX", "ZA", "PL", "AT", "CH"}
#: regions whose national (trunk) prefix is 0
TRUNK0 = {"GB", "DE", "FR", "AU", "IN", "JP", "NG", "ZA", "NL", "AT", "CH"}


def e164(num: PhoneNumber) -> str:
    return phonenumbers.format_number(num, PNF.E164)


def row_region(country_cell: str, default: str = "US") -> str:
    """The region the pipeline is documented to use for a row (pipeline/normalize/phones.py)."""
    c = (country_cell or "").strip().upper()
    return c if re.fullmatch(r"[A-Z]{2}", c) else default


def parse_e164(text: str, region: str) -> str | None:
    """phonenumbers' verdict: the E.164 string, or None when unparsable or invalid."""
    try:
        num = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return e164(num) if phonenumbers.is_valid_number(num) else None


class Numbers:
    """Hands out valid numbers, never the same one twice (across every file)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()  # membership only: never iterated (determinism)

    def reserve(self, e: str) -> None:
        self.used.add(e)

    def new(self, region: str, mobile: bool | None = None) -> PhoneNumber:
        patterns = PATTERNS[region]
        for _ in range(500):
            prefix, n = self.rng.choice(patterns)
            nsn = prefix + "".join(self.rng.choice("0123456789") for _ in range(n))
            text = "+" + str(phonenumbers.country_code_for_region(region)) + nsn
            if region == "IT" and not nsn.startswith("3"):
                text = "+39" + "0" + nsn  # Italian fixed lines keep their leading 0
            num = phonenumbers.parse(text, None)
            if not phonenumbers.is_valid_number(num):
                continue
            if phonenumbers.region_code_for_number(num) != region:
                continue
            if mobile is not None:
                is_mobile = phonenumbers.number_type(num) in (
                    phonenumbers.PhoneNumberType.MOBILE,
                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
                )
                if is_mobile != mobile:
                    continue
            if e164(num) in self.used:
                continue
            self.used.add(e164(num))
            return num
        raise RuntimeError(f"no valid number found for {region} (phonenumbers metadata?)")


def intl_rest(num: PhoneNumber) -> str:
    """INTERNATIONAL format without the leading '+cc '."""
    s = phonenumbers.format_number(num, PNF.INTERNATIONAL)
    head = f"+{num.country_code} "
    assert s.startswith(head), s
    return s[len(head) :]


def nanp_parts(num: PhoneNumber) -> tuple[str, str, str]:
    n = phonenumbers.national_significant_number(num)
    return n[:3], n[3:6], n[6:]


def render(num: PhoneNumber, style: str, rng: random.Random) -> str:
    """The number written in one of the ways people and exports write numbers."""
    cc = num.country_code
    if style == "e164":
        return e164(num)
    if style == "intl":
        return phonenumbers.format_number(num, PNF.INTERNATIONAL)
    if style == "intl_dash":
        return "+" + str(cc) + "-" + intl_rest(num).replace(" ", "-")
    if style == "intl_dot":
        return "+" + str(cc) + "." + intl_rest(num).replace(" ", ".").replace("-", ".")
    if style == "intl_paren_cc":
        return f"(+{cc}) " + intl_rest(num)
    if style == "intl_trunk0":  # +44 (0)20 7946 0123
        nat = phonenumbers.format_number(num, PNF.NATIONAL).replace("(", "").replace(")", "")
        assert nat.startswith("0"), nat
        return f"+{cc} (0)" + nat[1:]
    if style == "national":
        return phonenumbers.format_number(num, PNF.NATIONAL)
    if style == "national_compact":
        return re.sub(r"\D", "", phonenumbers.format_number(num, PNF.NATIONAL))
    if style == "idd00":
        sep = rng.choice([" ", ""])
        return f"00{sep}{cc} " + intl_rest(num)
    if style == "idd011":
        return f"011 {cc} " + intl_rest(num)
    if style == "ext":
        base = rng.choice([phonenumbers.format_number(num, PNF.INTERNATIONAL), e164(num)])
        return base + rng.choice([" x", " ext. ", " ext ", " x"]) + str(rng.randint(2, 4999))
    if style == "padded":
        return "  " + phonenumbers.format_number(num, PNF.INTERNATIONAL) + " "
    # NANP only
    a, b, c = nanp_parts(num)
    return {
        "us_paren": f"({a}) {b}-{c}",
        "us_dash": f"{a}-{b}-{c}",
        "us_dot": f"{a}.{b}.{c}",
        "us_plain": f"{a}{b}{c}",
        "us_1dash": f"1-{a}-{b}-{c}",
        "us_1paren": f"1 ({a}) {b}-{c}",
        "us_plus_paren": f"+1 ({a}) {b}-{c}",
        "us_ext": f"({a}) {b}-{c} x{rng.randint(10, 999)}",
    }[style]


NANP_STYLES = [
    "us_paren",
    "us_dash",
    "us_dot",
    "us_plain",
    "us_1dash",
    "us_1paren",
    "us_plus_paren",
    "e164",
    "intl",
    "us_ext",
]
NANP_WEIGHTS = [6, 6, 3, 2, 2, 1, 2, 3, 3, 1]


def pick_style(region: str, rng: random.Random) -> str:
    if region in ("US", "CA"):
        return rng.choices(NANP_STYLES, NANP_WEIGHTS)[0]
    styles = ["e164", "intl", "intl_dash", "intl_dot", "national", "ext", "intl_paren_cc"]
    weights = [5, 7, 2, 1, 6, 1, 1]
    if region in IDD00:
        styles.append("idd00")
        weights.append(2)
    if region in TRUNK0:
        styles.append("intl_trunk0")
        weights.append(1)
    styles.append("idd011")
    weights.append(1)
    return rng.choices(styles, weights)[0]


def country_cell_for(style: str, region: str, rng: random.Random) -> str:
    """The Country cell a row needs so that the written number stays valid."""
    if style in ("national", "national_compact", "idd00"):
        return region if rng.random() > 0.08 else region.lower()
    if style == "idd011":
        return rng.choice(["", "US", "US", "CA"]) if region not in ("US", "CA") else ""
    if region in ("US", "CA") and style.startswith("us_"):
        return rng.choice([region, region, ""])
    return rng.choice([region] * 6 + [""] * 2)  # + written: the hint does not matter


# ---------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------

NAMES: dict[str, tuple[list[str], list[str]]] = {
    "US": (
        [
            "James",
            "Mary",
            "Robert",
            "Patricia",
            "Michael",
            "Jennifer",
            "David",
            "Linda",
            "William",
            "Elizabeth",
            "Richard",
            "Barbara",
            "Joseph",
            "Susan",
            "Thomas",
            "Jessica",
            "Charles",
            "Sarah",
            "Christopher",
            "Karen",
            "Daniel",
            "Nancy",
            "Matthew",
            "Lisa",
            "Anthony",
            "Betty",
            "Mark",
            "Ashley",
            "Kevin",
            "Emily",
            "Brian",
            "Megan",
            "Tyler",
            "Rachel",
            "Jordan",
            "Olivia",
            "Ethan",
            "Chloe",
            "Noah",
            "Ava",
            "DeShawn",
            "Keisha",
            "Mateo",
            "Mei",
            "Tuan",
            "Fatima",
        ],
        [
            "Smith",
            "Johnson",
            "Williams",
            "Brown",
            "Jones",
            "Miller",
            "Davis",
            "Wilson",
            "Anderson",
            "Taylor",
            "Thomas",
            "Moore",
            "Martin",
            "Jackson",
            "Thompson",
            "White",
            "Harris",
            "Clark",
            "Lewis",
            "Robinson",
            "Walker",
            "Young",
            "Allen",
            "King",
            "Wright",
            "Scott",
            "Hill",
            "Green",
            "Adams",
            "Baker",
            "Nelson",
            "Carter",
            "Mitchell",
            "Roberts",
            "Turner",
            "Phillips",
            "Campbell",
            "Parker",
            "Evans",
            "Edwards",
            "Nguyen",
            "Chen",
            "Rivera",
            "O'Neil",
            "McAllister",
        ],
    ),
    "CA": (
        [
            "Liam",
            "Emma",
            "Olivier",
            "Léa",
            "Félix",
            "Chloé",
            "Jacob",
            "Zoë",
            "Gabriel",
            "Amélie",
            "Nathan",
            "Maude",
            "Ethan",
            "Avery",
        ],
        [
            "Tremblay",
            "Gagnon",
            "Roy",
            "Côté",
            "Bouchard",
            "MacDonald",
            "Campbell",
            "Leblanc",
            "Pelletier",
            "Bélanger",
            "Fraser",
            "Lavoie",
        ],
    ),
    "GB": (
        [
            "Oliver",
            "Amelia",
            "Harry",
            "Isla",
            "George",
            "Ava",
            "Jack",
            "Poppy",
            "Charlie",
            "Freya",
            "Alfie",
            "Siobhán",
            "Rhys",
            "Niamh",
            "Callum",
            "Eilidh",
            "Priya",
            "Imran",
        ],
        [
            "Smith",
            "Jones",
            "Taylor",
            "Brown",
            "Evans",
            "Wilson",
            "Davies",
            "Hughes",
            "O'Brien",
            "McLeod",
            "Patel",
            "Khan",
            "Walsh",
            "Fletcher",
            "Whitmore",
            "Ap Rhys",
            "Featherstonehaugh",
        ],
    ),
    "DE": (
        [
            "Lukas",
            "Anna",
            "Jonas",
            "Lena",
            "Felix",
            "Marie",
            "Leon",
            "Sophie",
            "Maximilian",
            "Jürgen",
            "Jörg",
            "Käthe",
            "Björn",
            "Ümit",
            "Mehmet",
        ],
        [
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schäfer",
            "Koch",
            "Weiß",
            "Groß",
            "Hoffmann",
            "Krüger",
            "Yılmaz",
        ],
    ),
    "FR": (
        [
            "Louis",
            "Camille",
            "Hugo",
            "Léa",
            "Jules",
            "Chloé",
            "Gabriel",
            "Manon",
            "Raphaël",
            "Inès",
            "François",
            "Hélène",
            "Zoë",
            "Anaïs",
            "Anne-Marie",
        ],
        [
            "Martin",
            "Bernard",
            "Dubois",
            "Thomas",
            "Robert",
            "Richard",
            "Petit",
            "Durand",
            "Lefèvre",
            "Moreau",
            "Girard",
            "Fournier",
            "Lefebvre",
            "Mercier",
            "de la Fontaine",
        ],
    ),
    "IN": (
        [
            "Aarav",
            "Priya",
            "Vivaan",
            "Ananya",
            "Aditya",
            "Diya",
            "Arjun",
            "Isha",
            "Rohan",
            "Kavya",
            "Sanjay",
            "Lakshmi",
            "Rahul",
            "Neha",
            "Venkatesh",
        ],
        [
            "Sharma",
            "Patel",
            "Iyer",
            "Reddy",
            "Nair",
            "Gupta",
            "Singh",
            "Kumar",
            "Mehta",
            "Chatterjee",
            "Banerjee",
            "Rao",
            "Menon",
            "Joshi",
            "Subramanian",
        ],
    ),
    "BR": (
        [
            "João",
            "Maria",
            "Pedro",
            "Ana",
            "Lucas",
            "Júlia",
            "Gabriel",
            "Beatriz",
            "Mateus",
            "Letícia",
            "Thiago",
            "Camila",
        ],
        [
            "Silva",
            "Santos",
            "Oliveira",
            "Souza",
            "Pereira",
            "Lima",
            "Carvalho",
            "Gonçalves",
            "Araújo",
            "Ribeiro",
            "Conceição",
            "Fernandes",
        ],
    ),
    "AU": (
        [
            "Jack",
            "Charlotte",
            "Oliver",
            "Mia",
            "William",
            "Olivia",
            "Lachlan",
            "Matilda",
            "Cooper",
            "Ruby",
            "Harrison",
            "Zoe",
        ],
        [
            "Smith",
            "Jones",
            "Williams",
            "Brown",
            "Wilson",
            "Taylor",
            "Nguyen",
            "Kelly",
            "Ryan",
            "Murphy",
            "Walker",
            "Mitchell",
        ],
    ),
    "MX": (
        [
            "José",
            "Sofía",
            "Santiago",
            "Valentina",
            "Mateo",
            "Regina",
            "Diego",
            "Ximena",
            "Emiliano",
            "Guadalupe",
        ],
        [
            "Hernández",
            "García",
            "Martínez",
            "López",
            "González",
            "Rodríguez",
            "Pérez",
            "Sánchez",
            "Ramírez",
            "Cruz",
            "Flores",
            "Gómez",
        ],
    ),
    "ES": (
        [
            "Hugo",
            "Lucía",
            "Martín",
            "Sofía",
            "Pablo",
            "Martina",
            "Álvaro",
            "Paula",
            "Begoña",
            "Íñigo",
            "Nuria",
            "Jordi",
        ],
        [
            "García",
            "Fernández",
            "González",
            "Rodríguez",
            "López",
            "Martínez",
            "Sánchez",
            "Núñez",
            "Iglesias",
            "Ortega",
            "Muñoz",
            "Castillo",
        ],
    ),
    "JP": (
        ["Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Yuto", "Sakura"],
        ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura"],
    ),
    "NG": (
        [
            "Chinedu",
            "Ngozi",
            "Oluwaseun",
            "Adaeze",
            "Emeka",
            "Funmilayo",
            "Ibrahim",
            "Aisha",
            "Tunde",
            "Chiamaka",
            "Adébáyọ̀",
        ],
        [
            "Okafor",
            "Adeyemi",
            "Okonkwo",
            "Balogun",
            "Eze",
            "Abubakar",
            "Nwosu",
            "Ogunleye",
            "Ògúnlẹ́sì",
        ],
    ),
    "ZA": (
        ["Thabo", "Naledi", "Sipho", "Lerato", "Pieter", "Annelie", "Bongani", "Zanele"],
        ["Nkosi", "Dlamini", "Mokoena", "van der Merwe", "Botha", "Naidoo", "Khumalo", "Pretorius"],
    ),
    "IT": (["Giulia", "Francesco", "Chiara", "Niccolò"], ["Rossi", "Bianchi", "Esposito", "Ricci"]),
    "NL": (["Daan", "Sanne", "Bram"], ["de Vries", "van den Berg", "Jansen"]),
    "PL": (["Łukasz", "Zofia", "Paweł", "Małgorzata"], ["Nowak", "Wójcik", "Kowalczyk", "Mazur"]),
    "AT": (["Florian", "Theresa", "Lukas"], ["Gruber", "Huber", "Pichler"]),
    "CH": (["Luca", "Nina", "Reto"], ["Meier", "Keller", "Brunner"]),
}

JP_KANJI = {
    "Sato": "佐藤",
    "Suzuki": "鈴木",
    "Takahashi": "高橋",
    "Tanaka": "田中",
    "Watanabe": "渡辺",
    "Ito": "伊藤",
    "Yamamoto": "山本",
    "Nakamura": "中村",
    "Haruto": "陽翔",
    "Yui": "結衣",
    "Sota": "蒼太",
    "Hina": "陽菜",
    "Ren": "蓮",
    "Aoi": "葵",
    "Yuto": "悠斗",
    "Sakura": "さくら",
}

TIMEZONES: dict[str, list[str]] = {
    "GB": ["Europe/London"],
    "DE": ["Europe/Berlin"],
    "FR": ["Europe/Paris"],
    "IN": ["Asia/Kolkata"],
    "BR": ["America/Sao_Paulo"],
    "MX": ["America/Mexico_City"],
    "ES": ["Europe/Madrid"],
    "JP": ["Asia/Tokyo"],
    "NG": ["Africa/Lagos"],
    "ZA": ["Africa/Johannesburg"],
    "IT": ["Europe/Rome"],
    "NL": ["Europe/Amsterdam"],
    "PL": ["Europe/Warsaw"],
    "AT": ["Europe/Vienna"],
    "CH": ["Europe/Zurich"],
}
NANP_TZ = {
    "212": "America/New_York",
    "202": "America/New_York",
    "617": "America/New_York",
    "305": "America/New_York",
    "404": "America/New_York",
    "312": "America/Chicago",
    "512": "America/Chicago",
    "615": "America/Chicago",
    "303": "America/Denver",
    "415": "America/Los_Angeles",
    "206": "America/Los_Angeles",
    "213": "America/Los_Angeles",
    "503": "America/Los_Angeles",
    "702": "America/Los_Angeles",
    "416": "America/Toronto",
    "613": "America/Toronto",
    "514": "America/Toronto",
    "604": "America/Vancouver",
    "403": "America/Edmonton",
    "902": "America/Halifax",
}
AU_TZ = {
    "2": "Australia/Sydney",
    "3": "Australia/Melbourne",
    "7": "Australia/Brisbane",
    "8": "Australia/Perth",
    "4": "Australia/Sydney",
}

LANGUAGES: dict[str, list[str]] = {
    "US": ["en-US", "en", "es-US"],
    "CA": ["en-CA", "fr-CA"],
    "GB": ["en-GB", "en"],
    "DE": ["de-DE", "de"],
    "FR": ["fr-FR", "fr"],
    "IN": ["hi-IN", "en-IN", "ta-IN"],
    "BR": ["pt-BR"],
    "AU": ["en-AU"],
    "MX": ["es-MX", "es-419"],
    "ES": ["es-ES", "ca-ES"],
    "JP": ["ja-JP", "ja"],
    "NG": ["en-NG", "yo-NG", "ig-NG"],
    "ZA": ["en-ZA", "zu-ZA", "af-ZA"],
    "IT": ["it-IT"],
    "NL": ["nl-NL"],
    "PL": ["pl-PL"],
    "AT": ["de-AT"],
    "CH": ["de-CH", "fr-CH"],
}

COMPANIES = [
    "Contoso Ltd",
    "Fabrikam Inc",
    "Northwind Traders",
    "Tailspin Toys",
    "Wide World Importers",
    "Adventure Works",
    "Litware Inc",
    "Proseware Inc",
    "Woodgrove Bank",
    "Fourth Coffee",
    "Alpine Ski House",
    "Blue Yonder Airlines",
    "Coho Winery",
    "Lucerne Publishing",
    "Margie's Travel",
    "Trey Research",
    "Wingtip Toys",
    "Humongous Insurance",
    "City Power & Light",
    "VanArsdel Ltd",
    "Relecloud",
    "Initech, Inc.",
    "Globex Corporation",
    "Vandelay Industries",
    "Müller & Söhne GmbH",
    "Boulangerie Lefèvre SARL",
    "Estúdio Araújo Ltda",
    "Kangaroo Freight Pty Ltd",
    "Sakura Shoji K.K.",
    "Ubuntu Logistics (Pty) Ltd",
    "Lagos Fintech Hub",
    "Tacos El Güero S.A. de C.V.",
    "Bharat Spices Pvt. Ltd.",
    "Hotel Costa Brava S.L.",
    "",
]

TAG_CELLS = [
    "lead;priority",
    "lead",
    "customer",
    "prospect",
    "customer;vip",
    "lead, webinar-2024",
    "newsletter",
    "partner",
    "vip; newsletter",
    "",
    "churn-risk;customer",
    "trade-show;lead",
    "",
    "",
    "q3-campaign",
]

PLAIN_NOTES = [
    "Prefers calls after 5pm",
    "Met at trade show, wants a demo",
    "Renewal due in March",
    "Spoke with assistant; call back Tuesday",
    "Interested in the annual plan (20% off)",
    "Referred by a partner",
    "Asked for pricing in EUR",
    "Do not call before 9am local time",
]
MULTILINE_NOTES = [
    "Call notes:\n- wants pricing\n- decision maker is the CFO",
    "Line one of the note\nLine two, with a comma\nLine three",
    "Address on file:\n221B Example Street\nLondon",
    'He said "call me next week"\nthen hung up.',
    "First contact 2024-01-12\r\nSecond contact 2024-02-02 (CRLF inside the cell)",
]
FORMULA_NOTES = [
    '=HYPERLINK("http://example.com/crm/123","open")',
    "+1 for the upsell",
    "-- see ticket 4411 --",
    "@sales please follow up",
]


def ascii_fold(s: str) -> str:
    s = s.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("ß", "ss")
    s = s.replace("ı", "i").replace("æ", "ae")
    s = unicodedata.normalize("NFKD", s)
    return "".join(ch for ch in s if not unicodedata.combining(ch))


@dataclass
class Person:
    region: str
    first: str
    last: str
    email: str
    company: str
    display: str  # how the person's full name is written


class People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names: set[str] = set()
        self.emails: set[str] = set()

    def email_for(self, first: str, last: str) -> str:
        f = re.sub(r"[^a-z]", "", ascii_fold(first).lower())
        ln = re.sub(r"[^a-z]", "", ascii_fold(last).lower())
        domains = ["example.com", "example.org", "example.net"]
        for i in range(100):
            local = self.rng.choice(
                [f"{f}.{ln}", f"{f}.{ln}", f"{f[0]}{ln}", f"{f}_{ln}", f"{f}.{ln}+crm", f"{ln}.{f}"]
            )
            if i:
                local += str(i + 1)
            addr = f"{local}@{self.rng.choice(domains)}"
            if addr not in self.emails:
                self.emails.add(addr)
                return addr
        raise RuntimeError("e-mail space exhausted")

    def new(self, region: str) -> Person:
        firsts, lasts = NAMES[region]
        for _ in range(200):
            first, last = self.rng.choice(firsts), self.rng.choice(lasts)
            if f"{first} {last}" not in self.names:
                break
        else:
            raise RuntimeError(f"name space exhausted for {region}")
        self.names.add(f"{first} {last}")
        display = f"{first} {last}"
        if region == "JP" and self.rng.random() < 0.5:
            display = f"{JP_KANJI[last]} {JP_KANJI[first]}"  # family name first
        return Person(
            region, first, last, self.email_for(first, last), self.rng.choice(COMPANIES), display
        )


def timezone_for(num: PhoneNumber, region: str) -> str:
    nsn = phonenumbers.national_significant_number(num)
    if region in ("US", "CA"):
        return NANP_TZ[nsn[:3]]
    if region == "AU":
        return AU_TZ[nsn[0]]
    return TIMEZONES[region][0]


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


@dataclass
class Row:
    cells: dict[str, str]
    kind: str = "valid"  # valid | exact_duplicate | format_duplicate | invalid_* | ...
    detail: str = ""
    ref: Row | None = None  # the earlier row a duplicate repeats
    e164: str = ""  # the E.164 the row should yield; "" when it has none
    flags: list[str] = field(default_factory=list)


def csv_bytes(
    header: list[str],
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    lineterminator: str = "\n",
    quoting: Any = csv.QUOTE_MINIMAL,
    encoding: str = "utf-8",
    bom: bool = False,
) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator, quoting=quoting)
    w.writerow(header)
    w.writerows(rows)
    data = buf.getvalue().encode(encoding)  # strict: a cp1252 file must really be cp1252
    return (b"\xef\xbb\xbf" + data) if bom else data


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@dataclass
class FileInfo:
    path: str
    layout: str
    encoding: str
    delimiter: str
    newline: str
    header: list[str]
    rows: list[Row]
    phone_columns: str
    region_column: str
    notes: list[str] = field(default_factory=list)


FILES: list[FileInfo] = []


def row_number(rows: list[Row], r: Row) -> int:
    return next(i for i, x in enumerate(rows, 1) if x is r)


# ---------------------------------------------------------------------------------------
# contacts.csv and contacts_edited.csv
# ---------------------------------------------------------------------------------------

CLEAN_HEADER = [
    "First Name",
    "Last Name",
    "Phone",
    "Email",
    "Company",
    "Tags",
    "Time Zone",
    "Language",
]


def clean_record(
    p: Person, num: PhoneNumber, style: str, rng: random.Random, tags: str
) -> dict[str, str]:
    phone = render(num, style, rng)
    assert parse_e164(phone, "US") == e164(num), (phone, style)
    return {
        "First Name": p.first,
        "Last Name": p.last,
        "Phone": phone,
        "Email": p.email,
        "Company": p.company or "Contoso Ltd",
        "Tags": tags,
        "Time Zone": timezone_for(num, p.region),
        "Language": rng.choice(LANGUAGES[p.region]),
    }


def build_clean(numbers: Numbers, people: People) -> None:
    rng = random.Random(f"{SEED}-clean")
    plan = ["US"] * 15 + ["CA"] * 2 + ["GB"] * 2 + ["DE", "FR", "IN", "AU", "BR", "JP"]
    us_styles = [
        "us_paren",
        "us_dash",
        "us_dot",
        "us_plain",
        "us_1dash",
        "e164",
        "intl",
        "us_plus_paren",
        "us_paren",
        "us_dash",
    ]
    intl_styles = ["intl", "e164", "intl_dash", "intl_trunk0", "intl", "intl_paren_cc"]
    tag_cells = [
        "lead;priority",
        "customer",
        "lead",
        "customer;vip",
        "prospect",
        "lead, webinar-2024",
        "newsletter",
        "partner",
    ]
    rows: list[Row] = []
    for i, region in enumerate(plan):
        p = people.new(region)
        num = numbers.new(region)
        if region in ("US", "CA"):
            style = us_styles[i % len(us_styles)]
        else:
            style = intl_styles[i % len(intl_styles)]
            if style == "intl_trunk0" and region not in TRUNK0:
                style = "intl"
        rec = clean_record(p, num, style, rng, tag_cells[i % len(tag_cells)])
        rows.append(Row(rec, e164=e164(num)))
    order = list(range(len(rows)))
    rng.shuffle(order)
    rows = [rows[i] for i in order]
    write(
        HERE / "contacts.csv",
        csv_bytes(CLEAN_HEADER, [[r.cells[h] for h in CLEAN_HEADER] for r in rows]),
    )
    FILES.append(
        FileInfo(
            "contacts.csv",
            "clean, canonical-style headers",
            "UTF-8 (no BOM)",
            ",",
            "LF",
            CLEAN_HEADER,
            rows,
            "Phone",
            "none (every number is valid with --default-region US)",
        )
    )

    # --- contacts_edited.csv: 3 changed, 1 removed, 2 added --------------------------
    edited: list[Row] = []
    changes: list[str] = []
    removed = rows[19]
    for idx, r in enumerate(rows):
        if r is removed:
            continue
        cells = dict(r.cells)
        kind, detail = "unchanged", ""
        if idx == 3:
            old = cells["Email"]
            cells["Email"] = people.email_for(cells["First Name"] + "x", cells["Last Name"])
            kind, detail = "changed", f"e-mail {old} -> {cells['Email']}"
        elif idx == 8:
            old = cells["Last Name"]
            cells["Last Name"] = "Whitfield-" + old
            kind, detail = "changed", f"last name {old} -> {cells['Last Name']}"
        elif idx == 14:
            old = cells["Email"]
            cells["Email"] = people.email_for("contact", cells["Last Name"])
            kind, detail = "changed", f"e-mail {old} -> {cells['Email']}"
        edited.append(Row(cells, kind=kind, detail=detail, e164=r.e164))
        if kind == "changed":
            changes.append(f"{cells['First Name']} {cells['Last Name']}: {detail}")
    for region, style in (("US", "us_paren"), ("GB", "intl")):
        p = people.new(region)
        num = numbers.new(region)
        rec = clean_record(p, num, style, rng, "lead;priority")
        edited.append(Row(rec, kind="added", e164=e164(num)))
    write(
        HERE / "contacts_edited.csv",
        csv_bytes(CLEAN_HEADER, [[r.cells[h] for h in CLEAN_HEADER] for r in edited]),
    )
    FILES.append(
        FileInfo(
            "contacts_edited.csv",
            "contacts.csv after edits",
            "UTF-8 (no BOM)",
            ",",
            "LF",
            CLEAN_HEADER,
            edited,
            "Phone",
            "none",
            notes=[
                f"removed: {removed.cells['First Name']} {removed.cells['Last Name']} "
                f"({removed.e164}), row {row_number(rows, removed)} of contacts.csv"
            ]
            + [f"changed: {c}" for c in changes],
        )
    )


# ---------------------------------------------------------------------------------------
# messy.csv
# ---------------------------------------------------------------------------------------

MESSY_HEADER = [
    "Contact ID",
    "Full Name",
    "Mobile Phone",
    "E-mail Address",
    "Company",
    "Country",
    "Tags",
    "Time Zone",
    "Language",
    "Notes",
    "metadata.tier",
    "Opted Out",
]

MESSY_PLAN = {
    "US": 46,
    "CA": 12,
    "GB": 20,
    "DE": 14,
    "FR": 12,
    "IN": 16,
    "BR": 10,
    "AU": 10,
    "MX": 8,
    "ES": 8,
    "JP": 8,
    "NG": 8,
    "ZA": 6,
    "IT": 4,
    "NL": 2,
    "PL": 3,
}

NOT_OPTED = ["", "", "", "", "false", "no", "0", "FALSE", "No"]
OPTED = ["true", "yes", "1", "TRUE", "Yes"]


def messy_person_row(
    p: Person, num: PhoneNumber, rng: random.Random, ids: set[str], style: str | None = None
) -> Row:
    style = style or pick_style(p.region, rng)
    phone = render(num, style, rng)
    country = country_cell_for(style, p.region, rng)
    got = parse_e164(phone, row_region(country))
    assert got == e164(num), (phone, country, style, got)
    while True:
        cid = f"C{rng.randint(100000, 999999)}"
        if cid not in ids:
            ids.add(cid)
            break
    email = p.email
    if rng.random() < 0.08:
        email = ""
    elif rng.random() < 0.06:
        email = email[0].upper() + email[1:]
    tz = timezone_for(num, p.region) if rng.random() < 0.75 else ""
    lang = rng.choice(LANGUAGES[p.region]) if rng.random() < 0.5 else ""
    cells = {
        "Contact ID": cid,
        "Full Name": p.display,
        "Mobile Phone": phone,
        "E-mail Address": email,
        "Company": p.company,
        "Country": country,
        "Tags": rng.choice(TAG_CELLS),
        "Time Zone": tz,
        "Language": lang,
        "Notes": rng.choice(PLAIN_NOTES) if rng.random() < 0.2 else "",
        "metadata.tier": rng.choice(["gold", "silver", "bronze", "", ""]),
        "Opted Out": rng.choice(NOT_OPTED),
    }
    return Row(cells, e164=e164(num), detail=f"{style}")


def build_messy(numbers: Numbers, people: People) -> None:
    rng = random.Random(f"{SEED}-messy")
    ids: set[str] = set()
    base: list[Row] = []
    for region, n in MESSY_PLAN.items():
        for _ in range(n):
            p = people.new(region)
            base.append(messy_person_row(p, numbers.new(region), rng, ids))

    # Odd-but-valid forms on a few valid rows.
    def odd(row: Row, cells: dict[str, str], what: str) -> None:
        row.cells.update(cells)
        row.flags.append(what)
        assert (
            parse_e164(row.cells["Mobile Phone"], row_region(row.cells["Country"])) == row.e164
        ), row.cells

    specials = rng.sample(range(len(base)), 40)
    it = iter(specials)
    # names with accents, NFD, commas
    for name in (
        "José García",
        "Zoë Lefèvre",
        "Łukasz Wójcik",
        "Søren Kierkegaard-Holm",
        "Renée O'Connor",
    ):
        r = base[next(it)]
        r.cells["Full Name"] = name
        r.flags.append("accented name")
    r = base[next(it)]
    r.cells["Full Name"] = unicodedata.normalize("NFD", "Mélanie Bérubé")
    r.flags.append("name in decomposed Unicode (NFD)")
    for name in ("García, José Luis", "Smith, Jr., Robert"):
        r = base[next(it)]
        r.cells["Full Name"] = name
        r.flags.append("comma inside the quoted name")
    r = base[next(it)]
    r.cells["Full Name"] = "  Hannah   Baker  "
    r.flags.append("name with extra spaces")
    r = base[next(it)]
    r.cells["Full Name"] = "Cher"
    r.flags.append("single-word name")
    for note in MULTILINE_NOTES:
        r = base[next(it)]
        r.cells["Notes"] = note
        r.flags.append("multi-line quoted note")
    for note in FORMULA_NOTES:
        r = base[next(it)]
        r.cells["Notes"] = note
        r.flags.append("formula-like note")
    r = base[next(it)]
    r.cells["Notes"] = 'VIP, "gold" tier; pays by invoice'
    r.flags.append("note with quotes, comma and semicolon")
    # time zone / language forms that are valid but not the usual spelling
    r = base[next(it)]
    r.cells["Time Zone"] = "US/Eastern" if r.cells["Country"] in ("US", "") else "Etc/UTC"
    r.flags.append("legacy IANA alias time zone")
    r = base[next(it)]
    r.cells["Time Zone"] = "UTC"
    r.flags.append("time zone UTC")
    r = base[next(it)]
    r.cells["Language"] = r.cells["Language"].lower() or "en-us"
    r.flags.append("lower-case language tag")
    # odd-but-valid phone forms
    us_rows = [x for x in base if x.e164.startswith("+1")]
    odd(
        us_rows[0],
        {"Mobile Phone": render(phonenumbers.parse(us_rows[0].e164), "padded", rng)},
        "phone with surrounding spaces",
    )
    gb_row = next(x for x in base if x.e164.startswith("+44") and not x.flags)
    gbn = phonenumbers.parse(gb_row.e164)
    odd(
        gb_row,
        {"Mobile Phone": render(gbn, "national_compact", rng), "Country": "GB"},
        "national number without spaces, Country GB",
    )
    it_row = next(x for x in base if x.e164.startswith("+39") and not x.flags)
    it_fixed = numbers.new("IT", mobile=False)
    it_row.e164 = e164(it_fixed)
    odd(
        it_row,
        {"Mobile Phone": render(it_fixed, "national", rng), "Country": "IT"},
        "Italian fixed line in national form (its leading 0 stays in E.164)",
    )
    # opted out
    candidates = [x for x in base if not x.flags]
    for x in rng.sample(candidates, 13):
        x.cells["Opted Out"] = rng.choice(OPTED)
        x.flags.append("opted out")

    # --- problem rows ---------------------------------------------------------------
    problems: list[Row] = []

    def problem(region: str, kind: str, detail: str, **over: str) -> Row:
        p = people.new(region)
        num = numbers.new(region)
        r = messy_person_row(
            p, num, rng, ids, style="intl" if region not in ("US", "CA") else "us_paren"
        )
        r.cells.update(over)
        r.kind, r.detail = kind, detail
        if "Mobile Phone" in over:
            r.e164 = parse_e164(over["Mobile Phone"], row_region(r.cells["Country"])) or ""
        problems.append(r)
        return r

    bad_phones = [
        ("US", "12345", "US", "too short"),
        ("US", "555-0123", "US", "7 digits, no area code"),
        ("US", "CALL ME", "", "letters, no digits"),
        ("US", "(123) 456-7890", "US", "area code cannot start with 1"),
        ("GB", "+44 20 7946 012", "GB", "one digit short"),
        ("DE", "+49 30 1", "DE", "too short"),
        ("IN", "+91 98765 4321", "IN", "9 digits, Indian mobiles have 10"),
        ("US", "0000000000", "", "all zeros"),
        ("US", "+999 555 0123", "", "no such country code"),
        (
            "GB",
            "020 7946 0456",
            "",
            "GB national number but no Country hint: parsed with the default region US",
        ),
        ("US", "n/a", "US", "placeholder text"),
        ("FR", "+33 6 12 34 56 78 9", "FR", "one digit too many"),
        ("US", "+1 (202) 555-0143 / +1 202 555 0144", "US", "two numbers in one cell"),
    ]
    for region, text, country, why in bad_phones:
        problem(
            region,
            "invalid_phone",
            f"{text!r} (Country {country!r}): {why}",
            **{"Mobile Phone": text, "Country": country},
        )
    for text in ("", "", "   ", ""):
        problem(
            rng.choice(["US", "GB", "IN"]),
            "missing_phone",
            "empty cell" if not text else f"{text!r} (blanks only)",
            **{"Mobile Phone": text},
        )
    for email in (
        "maria.lopez.example.com",
        "joe@",
        "@example.org",
        "ana lopez@example.net",
        "kim@@example.com",
        "tom@exa mple.net",
    ):
        problem(
            rng.choice(["US", "ES", "DE", "BR"]),
            "invalid_email",
            repr(email),
            **{"E-mail Address": email},
        )
    for tz in ("Mars/Olympus_Mons", "Europe/Atlantis", "Pacific Standard Time", "UTC+25"):
        problem(rng.choice(["US", "AU", "GB"]), "invalid_timezone", repr(tz), **{"Time Zone": tz})
    for lang in ("en--US", "Klingon!", "12"):
        problem(
            rng.choice(["US", "IN", "FR"]), "invalid_language", repr(lang), **{"Language": lang}
        )
    problem(
        "US",
        "multiple",
        "invalid e-mail 'sam@' and unknown time zone 'America/Springfield'",
        **{"E-mail Address": "sam@", "Time Zone": "America/Springfield"},
    )
    problem(
        "IN",
        "multiple",
        "invalid phone '+91 12' and malformed language 'hi_IN!'",
        **{"Mobile Phone": "+91 12", "Country": "IN", "Language": "hi_IN!"},
    )

    rows = base + problems
    rng.shuffle(rows)

    # --- duplicates, always after the row they repeat ---------------------------------
    pool = [
        x
        for x in base
        if "opted out" not in x.flags
        and x.cells["Notes"] == ""
        and x.cells["Full Name"].strip() == x.cells["Full Name"]
    ]
    picks = rng.sample(pool, 25)
    for orig in picks[:15]:
        dup = Row(dict(orig.cells), kind="exact_duplicate", ref=orig, e164=orig.e164)
        pos = rows.index(orig)
        rows.insert(rng.randint(pos + 1, len(rows)), dup)
    for orig in picks[15:]:
        num = phonenumbers.parse(orig.e164)
        region = phonenumbers.region_code_for_number(num) or "ZZ"
        for _ in range(50):
            style = pick_style(region, rng)
            text = render(num, style, rng)
            country = country_cell_for(style, region, rng)
            if text.strip() != orig.cells["Mobile Phone"].strip():
                break
        assert parse_e164(text, row_region(country)) == orig.e164
        cells = dict(orig.cells)
        cells.update(
            {
                "Mobile Phone": text,
                "Country": country,
                "Contact ID": f"C{rng.randint(100000, 999999)}",
                "E-mail Address": cells["E-mail Address"].upper()
                if rng.random() < 0.3
                else cells["E-mail Address"],
                "Tags": rng.choice(TAG_CELLS),
            }
        )
        dup = Row(
            cells,
            kind="format_duplicate",
            ref=orig,
            e164=orig.e164,
            detail=f"{orig.cells['Mobile Phone']!r} vs {text!r}",
        )
        pos = rows.index(orig)
        rows.insert(rng.randint(pos + 1, len(rows)), dup)

    write(
        HERE / "messy.csv",
        csv_bytes(
            MESSY_HEADER,
            [[r.cells[h] for h in MESSY_HEADER] for r in rows],
            lineterminator="\r\n",
            bom=True,
        ),
    )
    FILES.append(
        FileInfo(
            "messy.csv",
            "CRM dump (generic)",
            "UTF-8 with BOM",
            ",",
            "CRLF (LF or CRLF inside quoted notes)",
            MESSY_HEADER,
            rows,
            "Mobile Phone",
            "Country (ISO alpha-2, some blank, a few lower-case)",
            notes=[
                "Opted Out values: true/yes/1/TRUE/Yes for opted out; "
                "empty/false/no/0/FALSE/No otherwise",
                "Tags use ';' or ',' inside the cell",
                "metadata.tier: gold/silver/bronze or empty",
            ],
        )
    )


# ---------------------------------------------------------------------------------------
# layouts/
# ---------------------------------------------------------------------------------------

COUNTRY_NAMES = {
    "US": "United States",
    "CA": "Canada",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "IN": "India",
    "BR": "Brazil",
    "AU": "Australia",
    "MX": "Mexico",
    "ES": "Spain",
    "JP": "Japan",
    "NG": "Nigeria",
    "ZA": "South Africa",
    "IT": "Italy",
    "NL": "Netherlands",
    "AT": "Austria",
    "CH": "Switzerland",
    "PL": "Poland",
}


class Layout:
    """Helper for one layout file: people, numbers and a row list with kinds."""

    def __init__(self, name: str, numbers: Numbers, people: People) -> None:
        self.rng = random.Random(f"{SEED}-{name}")
        self.numbers, self.people = numbers, people
        self.rows: list[Row] = []

    def phone(
        self, region: str, styles: list[str], mobile: bool | None = None, hint: str = ""
    ) -> tuple[PhoneNumber, str]:
        num = self.numbers.new(region, mobile)
        text = render(num, self.rng.choice(styles), self.rng)
        assert parse_e164(text, row_region(hint)) == e164(num), (text, hint)
        return num, text

    def shuffle_insert(self, row: Row, after: Row | None = None) -> None:
        lo = self.rows.index(after) + 1 if after else 1
        self.rows.insert(self.rng.randint(lo, len(self.rows)), row)


def intl_styles() -> list[str]:
    return ["intl", "e164", "intl", "intl_dash"]


def build_google(numbers: Numbers, people: People) -> None:
    header = [
        "First Name",
        "Middle Name",
        "Last Name",
        "Phonetic First Name",
        "Phonetic Middle Name",
        "Phonetic Last Name",
        "Name Prefix",
        "Name Suffix",
        "Nickname",
        "File As",
        "Organization Name",
        "Organization Title",
        "Organization Department",
        "Birthday",
        "Notes",
        "Photo",
        "Labels",
        "E-mail 1 - Label",
        "E-mail 1 - Value",
        "E-mail 2 - Label",
        "E-mail 2 - Value",
        "Phone 1 - Label",
        "Phone 1 - Value",
        "Phone 2 - Label",
        "Phone 2 - Value",
        "Phone 3 - Label",
        "Phone 3 - Value",
        "Address 1 - Label",
        "Address 1 - Formatted",
        "Address 1 - Street",
        "Address 1 - City",
        "Address 1 - PO Box",
        "Address 1 - Region",
        "Address 1 - Postal Code",
        "Address 1 - Country",
        "Address 1 - Extended Address",
        "Website 1 - Label",
        "Website 1 - Value",
    ]
    L = Layout("google", numbers, people)
    rng = L.rng
    regions = ["US"] * 9 + ["GB", "GB", "CA", "DE", "FR", "IN", "AU", "MX"]
    for region in regions:
        p = people.new(region)
        c = dict.fromkeys(header, "")
        c.update(
            {
                "First Name": p.first,
                "Last Name": p.last,
                "Organization Name": p.company,
                "Organization Title": rng.choice(["", "", "Buyer", "CTO", "Office Manager"]),
                "Labels": rng.choice(
                    [
                        "* myContacts",
                        "* myContacts ::: Clients",
                        "* starred ::: * myContacts",
                        "* myContacts ::: Leads",
                    ]
                ),
                "E-mail 1 - Label": rng.choice(["* Work", "* Home", "* Other"]),
                "E-mail 1 - Value": p.email,
            }
        )
        styles = ["us_paren", "us_dash", "intl", "e164"] if region == "US" else intl_styles()
        num, text = L.phone(region, styles, mobile=True if region not in ("US", "CA") else None)
        r = Row(c, e164=e164(num))
        layout = rng.random()
        if layout < 0.55:
            c.update({"Phone 1 - Label": "Mobile", "Phone 1 - Value": text})
        elif layout < 0.8:
            num2, text2 = L.phone(region, styles)
            c.update(
                {
                    "Phone 1 - Label": "Mobile",
                    "Phone 1 - Value": text,
                    "Phone 2 - Label": "Work",
                    "Phone 2 - Value": text2,
                }
            )
        else:
            num2, text2 = L.phone(region, styles)
            c.update(
                {
                    "Phone 1 - Label": "Work",
                    "Phone 1 - Value": text2,
                    "Phone 2 - Label": "Mobile",
                    "Phone 2 - Value": text,
                }
            )
            r.flags.append("Mobile is in Phone 2; Phone 1 is a Work number")
        if rng.random() < 0.3:
            c["Birthday"] = rng.choice(["1984-03-09", "--07-14", "1990-11-30"])
        if rng.random() < 0.4:
            city = {
                "US": "Springfield",
                "GB": "London",
                "CA": "Toronto",
                "DE": "Berlin",
                "FR": "Paris",
                "IN": "Pune",
                "AU": "Sydney",
                "MX": "Puebla",
            }[region]
            street = f"{rng.randint(1, 999)} Example Street"
            c.update(
                {
                    "Address 1 - Label": "Work",
                    "Address 1 - Street": street,
                    "Address 1 - City": city,
                    "Address 1 - Country": COUNTRY_NAMES[region],
                    "Address 1 - Formatted": f"{street}\n{city}\n{COUNTRY_NAMES[region]}",
                }
            )
        L.rows.append(r)
    # Phone 3 used once; a second e-mail once
    r = L.rows[2]
    _, t3 = L.phone("US", ["us_paren"])
    r.cells.update({"Phone 3 - Label": "Home", "Phone 3 - Value": t3})
    r.cells.update(
        {
            "E-mail 2 - Label": "Home",
            "E-mail 2 - Value": people.email_for("home", r.cells["Last Name"]),
        }
    )
    # two numbers in one cell, Google's " ::: " separator (both numbers valid)
    p = people.new("US")
    n1, t1 = L.phone("US", ["intl"])
    n2, t2 = L.phone("US", ["intl"])
    c = dict.fromkeys(header, "")
    c.update(
        {
            "First Name": p.first,
            "Last Name": p.last,
            "Labels": "* myContacts",
            "E-mail 1 - Label": "* Work",
            "E-mail 1 - Value": p.email,
            "Phone 1 - Label": "Mobile",
            "Phone 1 - Value": f"{t1} ::: {t2}",
        }
    )
    L.shuffle_insert(
        Row(
            c,
            kind="multi_value_cell",
            detail="Phone 1 - Value holds two numbers joined by ' ::: ' "
            "(the first valid one is used; the report notes the other)",
            e164=e164(n1),
        )
    )

    # bad rows
    def bad(kind: str, detail: str, **over: str) -> None:
        p = people.new("US")
        c = dict.fromkeys(header, "")
        num, text = L.phone("US", ["us_paren"])
        c.update(
            {
                "First Name": p.first,
                "Last Name": p.last,
                "Labels": "* myContacts",
                "E-mail 1 - Label": "* Home",
                "E-mail 1 - Value": p.email,
                "Phone 1 - Label": "Mobile",
                "Phone 1 - Value": text,
            }
        )
        c.update(over)
        L.shuffle_insert(Row(c, kind=kind, detail=detail))

    bad("invalid_phone", "'555-0199' (no area code)", **{"Phone 1 - Value": "555-0199"})
    bad(
        "missing_phone",
        "an e-mail-only contact: no Phone columns",
        **{"Phone 1 - Label": "", "Phone 1 - Value": ""},
    )
    bad("invalid_email", "'pat.example.com'", **{"E-mail 1 - Value": "pat.example.com"})
    orig = [r for r in L.rows if r.kind == "valid"][4]
    dup = Row(dict(orig.cells), kind="exact_duplicate", ref=orig, e164=orig.e164)
    L.shuffle_insert(dup, after=orig)
    write(
        HERE / "layouts" / "google_contacts.csv",
        csv_bytes(header, [[r.cells[h] for h in header] for r in L.rows], bom=True),
    )
    FILES.append(
        FileInfo(
            "layouts/google_contacts.csv",
            "Google Contacts export, 'Google CSV' (current "
            "format: First Name / Middle Name / Last Name, '- Label' / '- Value' pairs)",
            "UTF-8 with BOM",
            ",",
            "LF",
            header,
            L.rows,
            "Phone 1 - Value / Phone 2 - Value / Phone 3 - Value, labelled by the matching "
            "'- Label' column (Mobile, Work, Home)",
            "none usable (Address 1 - Country holds a country name)",
            notes=[
                "multi-valued cells use ' ::: ' (Labels, and one Phone value)",
                "a '* ' before a label marks the primary value; Birthday may be --MM-DD",
                "Address 1 - Formatted holds newlines inside a quoted cell",
            ],
        )
    )


def build_outlook(numbers: Numbers, people: People) -> None:
    header = [
        "First Name",
        "Middle Name",
        "Last Name",
        "Title",
        "Suffix",
        "Nickname",
        "Given Yomi",
        "Surname Yomi",
        "E-mail Address",
        "E-mail 2 Address",
        "E-mail 3 Address",
        "Home Phone",
        "Home Phone 2",
        "Business Phone",
        "Business Phone 2",
        "Mobile Phone",
        "Car Phone",
        "Other Phone",
        "Primary Phone",
        "Pager",
        "Business Fax",
        "Home Fax",
        "Other Fax",
        "Company Main Phone",
        "Callback",
        "Radio Phone",
        "Telex",
        "TTY/TDD Phone",
        "IMAddress",
        "Job Title",
        "Department",
        "Company",
        "Office Location",
        "Manager's Name",
        "Assistant's Name",
        "Assistant's Phone",
        "Company Yomi",
        "Business Street",
        "Business City",
        "Business State",
        "Business Postal Code",
        "Business Country/Region",
        "Home Street",
        "Home City",
        "Home State",
        "Home Postal Code",
        "Home Country/Region",
        "Other Street",
        "Other City",
        "Other State",
        "Other Postal Code",
        "Other Country/Region",
        "Personal Web Page",
        "Spouse",
        "Schools",
        "Hobby",
        "Location",
        "Web Page",
        "Birthday",
        "Anniversary",
        "Notes",
    ]
    L = Layout("outlook", numbers, people)
    rng = L.rng
    regions = ["US"] * 10 + ["CA", "GB", "GB", "DE", "AU", "IN"]
    for region in regions:
        p = people.new(region)
        c = dict.fromkeys(header, "")
        c.update(
            {
                "First Name": p.first,
                "Last Name": p.last,
                "E-mail Address": p.email,
                "Company": p.company,
                "Job Title": rng.choice(["", "Manager", "Engineer", "Director of Sales"]),
                "Business Country/Region": COUNTRY_NAMES[region] if rng.random() < 0.6 else "",
                "Title": rng.choice(["", "", "Mr.", "Ms.", "Dr."]),
            }
        )
        styles = (
            ["us_paren", "us_dash", "us_1paren"]
            if region in ("US", "CA")
            else ["intl", "intl_trunk0", "e164"]
        )
        num, text = L.phone(region, styles)
        r = Row(c, e164=e164(num))
        shape = rng.random()
        if shape < 0.45:
            c["Mobile Phone"] = text
            if rng.random() < 0.5:
                c["Business Phone"] = L.phone(region, styles)[1]
        elif shape < 0.75:
            c["Business Phone"] = text
            r.flags.append("Mobile Phone empty; number in Business Phone")
        else:
            c["Home Phone"] = text
            r.flags.append("Mobile Phone empty; number in Home Phone")
        L.rows.append(r)
    # Middle name, suffix, multi-line note
    L.rows[1].cells.update({"Middle Name": "Q.", "Suffix": "Jr."})
    L.rows[5].cells["Notes"] = "Assistant: Dana\nPrefers e-mail, then phone"

    def bad(kind: str, detail: str, **over: str) -> None:
        p = people.new("US")
        c = dict.fromkeys(header, "")
        c.update(
            {
                "First Name": p.first,
                "Last Name": p.last,
                "E-mail Address": p.email,
                "Company": p.company,
                "Mobile Phone": L.phone("US", ["us_paren"])[1],
            }
        )
        c.update(over)
        L.shuffle_insert(Row(c, kind=kind, detail=detail))

    bad("invalid_phone", "'+1 (555) 010' (too short)", **{"Mobile Phone": "+1 (555) 010"})
    bad(
        "invalid_phone",
        "'ask reception' in Business Phone, Mobile empty",
        **{"Mobile Phone": "", "Business Phone": "ask reception"},
    )
    bad("missing_phone", "no phone in any column", **{"Mobile Phone": ""})
    bad("invalid_email", "'lee@example..com' (two dots)", **{"E-mail Address": "lee@example..com"})
    orig = [r for r in L.rows if r.kind == "valid"][3]
    num = phonenumbers.parse(orig.e164)
    text = render(num, "e164", rng)
    cells = dict.fromkeys(header, "")
    cells.update({k: orig.cells[k] for k in ("First Name", "Last Name", "Company")})
    cells["Mobile Phone"] = text
    L.shuffle_insert(
        Row(
            cells,
            kind="format_duplicate",
            ref=orig,
            e164=orig.e164,
            detail="same number in E.164, in Mobile Phone",
        ),
        after=orig,
    )
    write(
        HERE / "layouts" / "outlook.csv",
        csv_bytes(header, [[r.cells[h] for h in header] for r in L.rows], lineterminator="\r\n"),
    )
    FILES.append(
        FileInfo(
            "layouts/outlook.csv",
            "Outlook (outlook.com / new Outlook 'Export contacts')",
            "UTF-8 (no BOM)",
            ",",
            "CRLF",
            header,
            L.rows,
            "Mobile Phone, Business Phone, Home Phone (and the other *Phone columns, empty)",
            "none usable (Business Country/Region holds a country name)",
            notes=[
                "the bad-row table assumes the mobile number is preferred and Business / "
                "Home are used when Mobile is empty"
            ],
        )
    )


def build_hubspot(numbers: Numbers, people: People) -> None:
    header = [
        "Record ID",
        "First Name",
        "Last Name",
        "Email",
        "Phone Number",
        "Mobile Phone Number",
        "Company Name",
        "Job Title",
        "Lifecycle Stage",
        "Lead Status",
        "Contact owner",
        "Country/Region",
        "City",
        "Create Date",
        "Last Activity Date",
        "Marketing contact status",
    ]
    L = Layout("hubspot", numbers, people)
    rng = L.rng
    regions = ["US"] * 9 + ["GB", "DE", "FR", "ES", "BR", "AU", "IN", "NG", "ZA"]
    rid = 51001
    for region in regions:
        p = people.new(region)
        styles = (
            ["intl", "us_paren", "us_dash"] if region == "US" else ["intl", "e164", "intl_dash"]
        )
        num, text = L.phone(region, styles, mobile=None)
        rid += rng.randint(1, 400)
        c = {
            "Record ID": str(rid),
            "First Name": p.first,
            "Last Name": p.last,
            "Email": p.email,
            "Phone Number": "",
            "Mobile Phone Number": "",
            "Company Name": p.company,
            "Job Title": rng.choice(["", "VP Marketing", "Founder", "Analyst"]),
            "Lifecycle Stage": rng.choice(
                [
                    "Lead",
                    "Subscriber",
                    "Marketing Qualified Lead",
                    "Sales Qualified Lead",
                    "Customer",
                ]
            ),
            "Lead Status": rng.choice(["New", "Open", "In Progress", "Attempted to contact", ""]),
            "Contact owner": rng.choice(["Alex Example", "Sam Sample", ""]),
            "Country/Region": COUNTRY_NAMES[region],
            "City": "",
            "Create Date": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
            f"{rng.randint(7, 19):02d}:{rng.randint(0, 59):02d}",
            "Last Activity Date": "",
            "Marketing contact status": rng.choice(["Marketing contact", "Non-marketing contact"]),
        }
        r = Row(c, e164=e164(num))
        if rng.random() < 0.5:
            c["Mobile Phone Number"] = text
            if rng.random() < 0.4:
                c["Phone Number"] = L.phone(region, styles)[1]
        else:
            c["Phone Number"] = text
            r.flags.append("Mobile Phone Number empty; number in Phone Number")
        L.rows.append(r)

    def bad(kind: str, detail: str, **over: str) -> None:
        nonlocal rid
        p = people.new("US")
        rid += 17
        c = dict(L.rows[0].cells)
        c.update(
            {
                "Record ID": str(rid),
                "First Name": p.first,
                "Last Name": p.last,
                "Email": p.email,
                "Phone Number": "",
                "Mobile Phone Number": L.phone("US", ["intl"])[1],
            }
        )
        c.update(over)
        L.shuffle_insert(Row(c, kind=kind, detail=detail))

    bad("invalid_phone", "'+1 202 555' (too short)", **{"Mobile Phone Number": "+1 202 555"})
    bad("missing_phone", "both phone columns empty (form-fill lead)", **{"Mobile Phone Number": ""})
    bad("invalid_email", "'jo@@example.com'", **{"Email": "jo@@example.com"})
    orig = [r for r in L.rows if r.kind == "valid"][2]
    dup = dict(orig.cells)
    dup["Record ID"] = str(rid + 99)
    num = phonenumbers.parse(orig.e164)
    target = "Mobile Phone Number" if orig.cells["Mobile Phone Number"] else "Phone Number"
    dup[target] = render(num, "us_dot" if orig.e164.startswith("+1") else "e164", rng)
    L.shuffle_insert(
        Row(
            dup,
            kind="format_duplicate",
            ref=orig,
            e164=orig.e164,
            detail="same person, second HubSpot record, number re-typed",
        ),
        after=orig,
    )
    write(
        HERE / "layouts" / "hubspot.csv",
        csv_bytes(header, [[r.cells[h] for h in header] for r in L.rows]),
    )
    FILES.append(
        FileInfo(
            "layouts/hubspot.csv",
            "HubSpot contacts export (CSV)",
            "UTF-8 (no BOM)",
            ",",
            "LF",
            header,
            L.rows,
            "Mobile Phone Number, Phone Number",
            "none usable (Country/Region holds a country name)",
            notes=["Record ID is HubSpot's id (external_id candidate)"],
        )
    )


SALESFORCE_FOOTER = [
    "",
    '"Grand Totals ({n} records)"',
    "",
    '"Confidential Information - Do Not Distribute"',
    '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."',
]


def build_salesforce(numbers: Numbers, people: People) -> None:
    header = [
        "Contact ID",
        "Salutation",
        "First Name",
        "Last Name",
        "Title",
        "Account Name",
        "Email",
        "Phone",
        "Mobile",
        "Mailing City",
        "Mailing State/Province",
        "Mailing Country",
        "Lead Source",
        "Do Not Call",
        "Email Opt Out",
        "Contact Owner",
        "Created Date",
    ]
    L = Layout("salesforce", numbers, people)
    rng = L.rng
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    regions = ["US"] * 10 + ["CA", "GB", "DE", "FR", "MX", "JP", "AU", "IT"]

    def new_id() -> str:
        return "0035g00000" + "".join(rng.choice(alnum) for _ in range(5))

    for region in regions:
        p = people.new(region)
        styles = (
            ["us_paren", "us_dash", "us_1dash"]
            if region in ("US", "CA")
            else ["intl", "e164", "intl_paren_cc"]
        )
        num, text = L.phone(region, styles)
        c = {
            "Contact ID": new_id(),
            "Salutation": rng.choice(["", "Mr.", "Ms.", "Dr."]),
            "First Name": p.first,
            "Last Name": p.last,
            "Title": rng.choice(["", "CFO", "Procurement Lead", "IT Manager"]),
            "Account Name": p.company,
            "Email": p.email,
            "Phone": "",
            "Mobile": "",
            "Mailing City": "",
            "Mailing State/Province": "",
            "Mailing Country": rng.choice([region, COUNTRY_NAMES[region]]),
            "Lead Source": rng.choice(["Web", "Partner Referral", "Trade Show", ""]),
            "Do Not Call": "0",
            "Email Opt Out": rng.choice(["0", "0", "1"]),
            "Contact Owner": rng.choice(["Alex Example", "Sam Sample"]),
            "Created Date": f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/2024",
        }
        r = Row(c, e164=e164(num))
        if rng.random() < 0.6:
            c["Mobile"] = text
            if rng.random() < 0.5:
                c["Phone"] = L.phone(region, styles)[1]
        else:
            c["Phone"] = text
            r.flags.append("Mobile empty; number in Phone")
        L.rows.append(r)
    for r in rng.sample(L.rows, 2):
        r.cells["Do Not Call"] = "1"
        r.flags.append("Do Not Call = 1")

    def bad(kind: str, detail: str, **over: str) -> None:
        p = people.new("US")
        c = dict(L.rows[0].cells)
        c.update(
            {
                "Contact ID": new_id(),
                "First Name": p.first,
                "Last Name": p.last,
                "Email": p.email,
                "Phone": "",
                "Mobile": L.phone("US", ["us_paren"])[1],
                "Do Not Call": "0",
            }
        )
        c.update(over)
        L.shuffle_insert(Row(c, kind=kind, detail=detail))

    bad("invalid_phone", "'(212) 555-01' (too short)", Mobile="(212) 555-01")
    bad(
        "invalid_phone",
        "'+44 20 7946 01234 5' in Phone, Mobile empty (too long)",
        Mobile="",
        Phone="+44 20 7946 01234 5",
    )
    bad("missing_phone", "Phone and Mobile empty", Mobile="")
    bad("invalid_email", "'chris@example,com' (comma for dot)", Email="chris@example,com")
    orig = [r for r in L.rows if r.kind == "valid"][6]
    L.shuffle_insert(
        Row(dict(orig.cells), kind="exact_duplicate", ref=orig, e164=orig.e164), after=orig
    )
    body = csv_bytes(
        header, [[r.cells[h] for h in header] for r in L.rows], quoting=csv.QUOTE_ALL
    ).decode()
    footer = "\n".join(SALESFORCE_FOOTER).format(n=len(L.rows)) + "\n"
    write(HERE / "layouts" / "salesforce.csv", (body + footer).encode())
    FILES.append(
        FileInfo(
            "layouts/salesforce.csv",
            "Salesforce Classic report export ('Export Details', "
            "CSV, UTF-8): every cell quoted, report footer at the end",
            "UTF-8 (no BOM)",
            ",",
            "LF",
            header,
            L.rows,
            "Mobile, Phone",
            "Mailing Country (ISO code on some rows, country name on others)",
            notes=[
                "THE FILE ENDS WITH THE REPORT FOOTER Salesforce appends: a blank line, "
                '"Grand Totals (N records)", a blank line, "Confidential Information - Do '
                'Not Distribute", "Copyright (c) ... salesforce.com ..." -- 5 lines that '
                "are not contacts (a csv reader yields them as 2 empty records and 3 "
                "one-cell records). The counts in the table exclude them.",
                "Do Not Call / Email Opt Out are 0/1 checkboxes",
                "Contact ID is the 15-character Salesforce id (external_id candidate)",
            ],
        )
    )


def build_zoho(numbers: Numbers, people: People) -> None:
    header = [
        "Record Id",
        "Contact Owner",
        "Lead Source",
        "First Name",
        "Last Name",
        "Account Name",
        "Email",
        "Title",
        "Department",
        "Phone",
        "Home Phone",
        "Other Phone",
        "Fax",
        "Mobile",
        "Date of Birth",
        "Assistant",
        "Asst Phone",
        "Email Opt Out",
        "Skype ID",
        "Created By",
        "Modified By",
        "Created Time",
        "Modified Time",
        "Full Name",
        "Mailing Street",
        "Mailing City",
        "Mailing State",
        "Mailing Zip",
        "Mailing Country",
        "Description",
        "Salutation",
        "Secondary Email",
        "Tag",
    ]
    L = Layout("zoho", numbers, people)
    rng = L.rng
    regions = ["IN"] * 6 + ["US"] * 6 + ["GB", "DE", "ZA", "NG", "ES"]
    base_id = 5725767000000419001

    def new_id() -> str:
        nonlocal base_id
        base_id += rng.randint(1000, 9000)
        return f"zcrm_{base_id}"

    for region in regions:
        p = people.new(region)
        styles = ["us_paren", "us_dash", "intl"] if region == "US" else ["intl", "e164"]
        num, text = L.phone(region, styles)
        created = (
            f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
            f"{rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        )
        c = dict.fromkeys(header, "")
        c.update(
            {
                "Record Id": new_id(),
                "Contact Owner": rng.choice(["Alex Example", "Priya Sample"]),
                "Lead Source": rng.choice(
                    ["Advertisement", "Cold Call", "Web Download", "Trade Show", ""]
                ),
                "First Name": p.first,
                "Last Name": p.last,
                "Account Name": p.company,
                "Email": p.email,
                "Email Opt Out": rng.choice(["false", "false", "true"]),
                "Created By": "Alex Example",
                "Modified By": "Alex Example",
                "Created Time": created,
                "Modified Time": created,
                "Full Name": f"{p.first} {p.last}",
                "Mailing Country": COUNTRY_NAMES[region],
                "Tag": rng.choice(["", "Trade Show", "VIP,Newsletter", "Lead"]),
            }
        )
        r = Row(c, e164=e164(num))
        if rng.random() < 0.6:
            c["Mobile"] = text
        else:
            c["Phone"] = text
            r.flags.append("Mobile empty; number in Phone")
        L.rows.append(r)
    # two Indian numbers typed the national way: no usable region column in this layout
    indian = [r for r in L.rows if r.cells["Mailing Country"] == "India"]
    for r, sep in zip(indian[1:3], (" ", "-"), strict=True):
        col = "Mobile" if r.cells["Mobile"] else "Phone"
        n = phonenumbers.national_significant_number(phonenumbers.parse(r.e164))
        r.cells[col] = "0" + n[:5] + sep + n[5:]
        assert parse_e164(r.cells[col], "IN") == r.e164
        assert parse_e164(r.cells[col], "US") is None
        r.kind = "needs_region"
        r.detail = (
            f"{r.cells[col]!r} in {col}: an Indian number in national form; valid "
            "with region IN, invalid with the default US (Mailing Country says "
            "'India', a name, not an ISO code)"
        )

    def bad(kind: str, detail: str, **over: str) -> None:
        p = people.new("IN")
        c = dict(L.rows[0].cells)
        c.update(
            {
                "Record Id": new_id(),
                "First Name": p.first,
                "Last Name": p.last,
                "Full Name": f"{p.first} {p.last}",
                "Email": p.email,
                "Phone": "",
                "Mobile": L.phone("IN", ["intl"])[1],
                "Mailing Country": "India",
            }
        )
        c.update(over)
        L.shuffle_insert(Row(c, kind=kind, detail=detail))

    bad("invalid_phone", "'+91 81234 5678' (9 digits)", Mobile="+91 81234 5678")
    bad("missing_phone", "Phone and Mobile empty", Mobile="")
    bad("invalid_email", "'neha.sharma at example.com'", Email="neha.sharma at example.com")
    orig = [r for r in L.rows if r.kind == "valid"][8]
    L.shuffle_insert(
        Row(dict(orig.cells), kind="exact_duplicate", ref=orig, e164=orig.e164), after=orig
    )
    write(
        HERE / "layouts" / "zoho.csv",
        csv_bytes(header, [[r.cells[h] for h in header] for r in L.rows], quoting=csv.QUOTE_ALL),
    )
    FILES.append(
        FileInfo(
            "layouts/zoho.csv",
            "Zoho CRM contacts export (Data Administration > Export)",
            "UTF-8 (no BOM)",
            ",",
            "LF",
            header,
            L.rows,
            "Mobile, Phone (Home Phone, Other Phone, Asst Phone empty)",
            "none usable (Mailing Country holds a country name)",
            notes=[
                "every cell quoted; Record Id carries Zoho's 'zcrm_' prefix",
                "Email Opt Out is true/false; Tag may hold several comma-separated tags",
            ],
        )
    )


def mailchimp_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    """Mailchimp quotes a cell when it holds a space, comma, quote or newline."""

    def q(s: str) -> str:
        if re.search(r'[\s,"]', s):
            return '"' + s.replace('"', '""') + '"'
        return s

    lines = [",".join(q(h) for h in header)] + [",".join(q(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def build_mailchimp(numbers: Numbers, people: People) -> None:
    header = [
        "Email Address",
        "First Name",
        "Last Name",
        "Address",
        "Phone Number",
        "Birthday",
        "MEMBER_RATING",
        "OPTIN_TIME",
        "OPTIN_IP",
        "CONFIRM_TIME",
        "CONFIRM_IP",
        "LATITUDE",
        "LONGITUDE",
        "GMTOFF",
        "DSTOFF",
        "TIMEZONE",
        "CC",
        "REGION",
        "LAST_CHANGED",
        "LEID",
        "EUID",
        "NOTES",
        "TAGS",
    ]
    L = Layout("mailchimp", numbers, people)
    rng = L.rng
    geo = {
        "US": ("40.7128000", "-74.0060000", "-5", "-4", "America/New_York", "NY"),
        "GB": ("51.5072000", "-0.1276000", "0", "1", "Europe/London", "ENG"),
        "CA": ("43.6532000", "-79.3832000", "-5", "-4", "America/Toronto", "ON"),
        "AU": ("-33.8688000", "151.2093000", "10", "11", "Australia/Sydney", "NSW"),
        "DE": ("52.5200000", "13.4050000", "1", "2", "Europe/Berlin", "BE"),
        "BR": ("-23.5505000", "-46.6333000", "-3", "-3", "America/Sao_Paulo", "SP"),
    }
    regions = ["US"] * 9 + ["GB", "GB", "CA", "AU", "DE", "BR"]
    leid = 310000000
    for region in regions:
        p = people.new(region)
        lat, lon, gmt, dst, tz, reg = geo[region]
        styles = ["us_paren", "us_dash", "intl"] if region in ("US", "CA") else ["intl", "e164"]
        num, text = L.phone(region, styles)
        leid += rng.randint(100, 99999)
        t = (
            f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        )
        tags = rng.choice(
            ["", '"Customer"', '"Customer","VIP"', '"Webinar 2024"', '"Lead","Newsletter"']
        )
        c = {
            "Email Address": p.email,
            "First Name": p.first,
            "Last Name": p.last,
            "Address": (
                f"{rng.randint(10, 999)} Example Ave  Springfield  {reg}  "
                f"{rng.randint(10000, 99999)}  {region}"
            )
            if rng.random() < 0.4
            else "",
            "Phone Number": text,
            "Birthday": rng.choice(["", "", "04/17", "11/02"]),
            "MEMBER_RATING": str(rng.randint(1, 5)),
            "OPTIN_TIME": t,
            "OPTIN_IP": f"198.51.100.{rng.randint(1, 254)}",
            "CONFIRM_TIME": t,
            "CONFIRM_IP": f"198.51.100.{rng.randint(1, 254)}",
            "LATITUDE": lat,
            "LONGITUDE": lon,
            "GMTOFF": gmt,
            "DSTOFF": dst,
            "TIMEZONE": tz,
            "CC": region,
            "REGION": reg,
            "LAST_CHANGED": t,
            "LEID": str(leid),
            "EUID": "".join(rng.choice("0123456789abcdef") for _ in range(10)),
            "NOTES": "",
            "TAGS": tags,
        }
        L.rows.append(Row(c, e164=e164(num)))
    # national GB number: valid only with the CC column as region hint
    gb = next(r for r in L.rows if r.cells["CC"] == "GB")
    gb.cells["Phone Number"] = render(phonenumbers.parse(gb.e164), "national", rng)
    gb.flags.append("GB national number: valid only with CC (GB) as the region hint")

    def bad(kind: str, detail: str, **over: str) -> None:
        nonlocal leid
        p = people.new("US")
        c = dict(L.rows[0].cells)
        leid += 733
        c.update(
            {
                "Email Address": p.email,
                "First Name": p.first,
                "Last Name": p.last,
                "Phone Number": L.phone("US", ["us_paren"])[1],
                "LEID": str(leid),
                "TAGS": "",
            }
        )
        c.update(over)
        L.shuffle_insert(Row(c, kind=kind, detail=detail))

    for _ in range(4):
        bad(
            "missing_phone",
            "e-mail-only subscriber (Mailchimp's key is the e-mail)",
            **{"Phone Number": ""},
        )
    bad("invalid_phone", "'555 0100' (no area code)", **{"Phone Number": "555 0100"})
    bad("invalid_timezone", "TIMEZONE 'America/Unknown'", TIMEZONE="America/Unknown")
    write(
        HERE / "layouts" / "mailchimp.csv",
        mailchimp_bytes(header, [[r.cells[h] for h in header] for r in L.rows]),
    )
    FILES.append(
        FileInfo(
            "layouts/mailchimp.csv",
            "Mailchimp audience export (subscribed_members)",
            "UTF-8 (no BOM)",
            ",",
            "LF",
            header,
            L.rows,
            "Phone Number",
            "CC (ISO alpha-2)",
            notes=[
                'TAGS cells hold quoted names: "Customer","VIP" (written as '
                '"""Customer"",""VIP""" in the file)',
                "TIMEZONE is an IANA zone; Address parts are separated by two spaces",
                "cells are quoted only when they hold a space, comma or quote",
            ],
        )
    )


def build_excel_eu(numbers: Numbers, people: People) -> None:
    header = ["Vorname", "Nachname", "Telefon", "Mobil", "E-Mail", "Firma", "Land", "Bemerkung"]
    L = Layout("excel_eu", numbers, people)
    rng = L.rng
    regions = ["DE"] * 12 + ["AT", "AT", "CH", "CH", "FR", "GB"]
    for region in regions:
        p = people.new(region)
        styles = (
            ["national", "national", "intl", "intl_trunk0", "idd00"]
            if region in ("DE", "AT", "CH")
            else ["intl"]
        )
        num, text = L.phone(region, styles, mobile=True, hint=region)
        c = {
            "Vorname": p.first,
            "Nachname": p.last,
            "Telefon": "",
            "Mobil": text,
            "E-Mail": p.email,
            "Firma": rng.choice(
                ["Müller & Söhne GmbH", "Bäckerei Groß KG", "Contoso GmbH", "Fabrikam AG", ""]
            ),
            "Land": region,
            "Bemerkung": "",
        }
        r = Row(c, e164=e164(num))
        if rng.random() < 0.5:
            c["Telefon"] = L.phone(region, ["national", "intl"], mobile=False, hint=region)[1]
        if rng.random() < 0.2:
            c["Mobil"], c["Telefon"] = "", text
            r.flags.append("Mobil empty; number in Telefon")
        L.rows.append(r)
    L.rows[2].cells["Bemerkung"] = "Rückruf erbeten; bitte vormittags"
    L.rows[4].cells["Bemerkung"] = 'Termin am 3.4.\nRaum "Süd"'
    L.rows[7].cells["Bemerkung"] = "Umsatz 12.500,00 €"

    def bad(kind: str, detail: str, **over: str) -> None:
        p = people.new("DE")
        c = {
            "Vorname": p.first,
            "Nachname": p.last,
            "Telefon": "",
            "Mobil": L.phone("DE", ["national"], mobile=True, hint="DE")[1],
            "E-Mail": p.email,
            "Firma": "Contoso GmbH",
            "Land": "DE",
            "Bemerkung": "",
        }
        c.update(over)
        L.shuffle_insert(Row(c, kind=kind, detail=detail))

    bad(
        "invalid_phone",
        "'4,91523E+11' (Excel turned the number into scientific notation with a decimal comma: scientific_notation)",
        Mobil="4,91523E+11",
    )
    bad("invalid_phone", "'+49 30 1' (too short)", Mobil="+49 30 1")
    bad("missing_phone", "Telefon and Mobil empty", Mobil="")
    bad(
        "invalid_email",
        "'anna.schmidt(at)example.com'",
        **{"E-Mail": "anna.schmidt(at)example.com"},
    )
    orig = next(
        r for r in L.rows if r.kind == "valid" and r.cells["Land"] == "DE" and r.cells["Mobil"]
    )
    cells = dict(orig.cells)
    cells["Mobil"] = render(phonenumbers.parse(orig.e164), "e164", rng)
    L.shuffle_insert(
        Row(
            cells,
            kind="format_duplicate",
            ref=orig,
            e164=orig.e164,
            detail=f"{orig.cells['Mobil']!r} vs {cells['Mobil']!r}",
        ),
        after=orig,
    )
    write(
        HERE / "layouts" / "excel_eu.csv",
        csv_bytes(
            header,
            [[r.cells[h] for h in header] for r in L.rows],
            delimiter=";",
            lineterminator="\r\n",
            bom=True,
        ),
    )
    FILES.append(
        FileInfo(
            "layouts/excel_eu.csv",
            "Excel 'CSV UTF-8 (Comma delimited)' saved with German regional settings",
            "UTF-8 with BOM",
            ";",
            "CRLF",
            header,
            L.rows,
            "Mobil, Telefon",
            "Land (ISO alpha-2: DE, AT, CH, FR, GB)",
            notes=[
                "German, Austrian and Swiss numbers are mostly in national form "
                "(030 ..., 0664 ...): valid only with Land as the region hint or "
                "--default-region DE (AT/CH numbers need their own Land)",
                "headers are German: auto-detection may need --map",
            ],
        )
    )


def build_excel_latin1(numbers: Numbers, people: People) -> None:
    header = ["First Name", "Last Name", "Company", "Phone", "Mobile", "Email", "Country", "Notes"]
    L = Layout("excel_latin1", numbers, people)
    rng = L.rng
    names = [
        ("Renée", "Dubois", "FR"),
        ("Jürgen", "Weiß", "DE"),
        ("Begoña", "Núñez", "ES"),
        ("Seán", "O’Connor", "GB"),
        ("Søren", "Jørgensen", "US"),
        ("François", "Lefèvre", "FR"),
        ("Zoë", "Brontë", "GB"),
        ("Ñusta", "Quispe", "US"),
        ("Björn", "Ångström", "US"),
        ("Inês", "Gonçalves", "BR"),
        ("Chloé", "Mercier", "CA"),
        ("María José", "Peña", "MX"),
        ("Ólafur", "Þórsson", "US"),
        ("Hélène", "Côté", "CA"),
        ("Ümit", "Öztürk", "DE"),
        ("Annaëlle", "Müller", "US"),
    ]
    for first, last, region in names:
        p = Person(
            region,
            first,
            last,
            people.email_for(first, last),
            rng.choice(COMPANIES[:20]),
            f"{first} {last}",
        )
        styles = ["us_paren", "us_dash", "us_plain"] if region in ("US", "CA") else ["intl", "e164"]
        num, text = L.phone(region, styles)
        c = {
            "First Name": first,
            "Last Name": last,
            "Company": p.company,
            "Phone": "",
            "Mobile": text,
            "Email": p.email,
            "Country": region,
            "Notes": "",
        }
        r = Row(c, e164=e164(num))
        if rng.random() < 0.3:
            c["Phone"], c["Mobile"] = text, ""
            r.flags.append("Mobile empty; number in Phone")
        L.rows.append(r)
    L.rows[1].cells["Notes"] = "Budget 5.000 € – “urgent”"
    L.rows[3].cells["Notes"] = "Prefers “Seán”, not Sean"
    us = next(r for r in L.rows if r.e164.startswith("+1") and r.cells["Mobile"])
    us.cells["Mobile"] = "1" + phonenumbers.national_significant_number(phonenumbers.parse(us.e164))
    us.flags.append("Excel stored the number as a number: '1' + 10 digits, no '+'")

    def bad(kind: str, detail: str, name: tuple[str, str], **over: str) -> None:
        first, last = name
        c = {
            "First Name": first,
            "Last Name": last,
            "Company": "Contoso Ltd",
            "Phone": "",
            "Mobile": L.phone("US", ["us_paren"])[1],
            "Email": people.email_for(first, last),
            "Country": "US",
            "Notes": "",
        }
        c.update(over)
        L.shuffle_insert(Row(c, kind=kind, detail=detail))

    bad(
        "invalid_phone",
        "'1.20256E+10' (Excel scientific notation: scientific_notation)",
        name=("Ramón", "Ibáñez"),
        Mobile="1.20256E+10",
    )
    bad("missing_phone", "Phone and Mobile empty", name=("Élodie", "Faure"), Mobile="")
    bad(
        "invalid_email",
        "'nuno.araujo@@example.com'",
        name=("Nuno", "Araújo"),
        Email="nuno.araujo@@example.com",
    )
    orig = [r for r in L.rows if r.kind == "valid"][5]
    L.shuffle_insert(
        Row(dict(orig.cells), kind="exact_duplicate", ref=orig, e164=orig.e164), after=orig
    )
    write(
        HERE / "layouts" / "excel_latin1.csv",
        csv_bytes(
            header,
            [[r.cells[h] for h in header] for r in L.rows],
            lineterminator="\r\n",
            encoding="cp1252",
        ),
    )
    FILES.append(
        FileInfo(
            "layouts/excel_latin1.csv",
            "Excel legacy 'CSV (Comma delimited)' on Windows",
            "Windows-1252 (not UTF-8; no BOM)",
            ",",
            "CRLF",
            header,
            L.rows,
            "Mobile, Phone",
            "Country (ISO alpha-2)",
            notes=[
                "bytes outside Latin-1 on purpose: € (0x80), ’ (0x92), “ ” (0x93/0x94), "
                "– (0x96): decoding as ISO-8859-1 gives control characters, as UTF-8 "
                "fails"
            ],
        )
    )


# ---------------------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------------------

KIND_TEXT = {
    "valid": "valid",
    "exact_duplicate": "exact duplicate (every cell equal to an earlier row)",
    "format_duplicate": "duplicate number written differently (same E.164 as an earlier row)",
    "invalid_phone": "invalid phone",
    "missing_phone": "missing phone",
    "invalid_email": "invalid e-mail",
    "invalid_timezone": "unknown time zone",
    "invalid_language": "malformed language tag",
    "multiple": "two problems in one row",
    "multi_value_cell": "two numbers in one cell",
    "needs_region": "national number of another country, no usable region column "
    "(invalid with the default region US)",
    "unchanged": "unchanged from contacts.csv",
    "changed": "changed from contacts.csv",
    "added": "new (not in contacts.csv)",
}


def readme() -> str:
    out = [
        "# Sample data",
        "",
        "Written by `generate.py` (seeded, deterministic): "
        "`.venv/bin/python sample_data/generate.py` rewrites every file here, "
        "this README included, so edit the script rather than the files. "
        "`--check` re-reads the files and checks them.",
        "",
        "All people are invented; every e-mail is at example.com / example.org / "
        "example.net; numbers are from fiction ranges where phonenumbers accepts them "
        "(US/CA 555-01xx, GB 020 7946 0xxx, AU 0491 570 xxx, ...), otherwise the "
        "phonenumbers example number with other last digits.",
        "",
        "Row numbers below are 1-based record numbers, header excluded, a quoted "
        "multi-line cell counting once (as in the per-row report). A number is "
        "'valid' when `phonenumbers.parse(cell, region)` + `is_valid_number` accept "
        "it, region being the row's region column when the file has one "
        "(stripped, upper-cased, ISO alpha-2), else US.",
        "",
    ]
    for f in FILES:
        out += [
            f"## `{f.path}`",
            "",
            f"- layout: {f.layout}",
            f"- encoding: {f.encoding}; delimiter `{f.delimiter}`; line endings {f.newline}",
            f"- records: {len(f.rows)}",
            f"- phone column(s): {f.phone_columns}",
            f"- region hint column: {f.region_column}",
        ]
        out += [f"- {n}" for n in f.notes]
        out += ["", "Header:", "", "```", f.delimiter.join(f.header), "```", ""]
        kinds: dict[str, list[Row]] = {k: [] for k in KIND_TEXT}
        for r in f.rows:
            kinds[r.kind].append(r)
        kinds = {k: v for k, v in kinds.items() if v}
        out += ["| kind | count | rows |", "|---|---|---|"]
        for k, rs in kinds.items():
            nums = ", ".join(str(row_number(f.rows, r)) for r in rs)
            if k == "valid" and len(rs) > 30:
                nums = "all others"
            out.append(f"| {KIND_TEXT[k]} | {len(rs)} | {nums} |")
        out.append("")
        details = [r for r in f.rows if r.kind not in ("valid", "unchanged")]
        if details:
            out += ["Details:", ""]
            for r in details:
                n = row_number(f.rows, r)
                ref = f" (repeats row {row_number(f.rows, r.ref)})" if r.ref else ""
                d = (
                    f": {r.detail}"
                    if r.detail
                    and not r.detail.startswith(
                        ("e164", "intl", "us_", "national", "idd", "ext", "padded")
                    )
                    else ""
                )
                out.append(f"- row {n}: {KIND_TEXT[r.kind]}{ref}{d}")
            out.append("")
        flagged = [r for r in f.rows if r.flags]
        if flagged:
            out += ["Valid rows worth a look (legal but unusual):", ""]
            groups: dict[str, list[int]] = {}
            for r in flagged:
                for fl in r.flags:
                    groups.setdefault(fl, []).append(row_number(f.rows, r))
            for fl, ns in groups.items():
                out.append(f"- {fl}: row{'s' if len(ns) > 1 else ''} {', '.join(map(str, ns))}")
            out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------
# --check
# ---------------------------------------------------------------------------------------

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.,]+(\.[^@\s.,]+)+$")


def read_records(
    path: Path, encoding: str = "utf-8-sig", delimiter: str = ","
) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding=encoding, newline="") as fh:
        rows = list(csv.reader(fh, delimiter=delimiter))
    return rows[0], rows[1:]


def check() -> list[str]:
    errors: list[str] = []
    zones = zoneinfo.available_timezones()

    def expect(cond: bool, msg: str) -> None:
        if not cond:
            errors.append(msg)

    # clean file: every record valid with region US, unique, valid e-mail/zone
    for name in ("contacts.csv", "contacts_edited.csv"):
        header, recs = read_records(HERE / name)
        expect(header == CLEAN_HEADER, f"{name}: header {header}")
        seen: set[str] = set()
        for i, rec in enumerate(recs, 1):
            d = dict(zip(header, rec, strict=True))
            e = parse_e164(d["Phone"], "US")
            expect(e is not None, f"{name} row {i}: phone {d['Phone']!r} invalid (US)")
            expect(e not in seen, f"{name} row {i}: duplicate {e}")
            seen.add(e or "")
            expect(bool(EMAIL_RE.match(d["Email"])), f"{name} row {i}: e-mail {d['Email']}")
            expect(
                d["Email"].split("@")[-1] in ("example.com", "example.org", "example.net"),
                f"{name} row {i}: domain",
            )
            expect(d["Time Zone"] in zones, f"{name} row {i}: zone {d['Time Zone']}")
        expect(20 <= len(recs) <= 30, f"{name}: {len(recs)} records")
    _, a = read_records(HERE / "contacts.csv")
    _, b = read_records(HERE / "contacts_edited.csv")
    sa, sb = {tuple(r) for r in a}, {tuple(r) for r in b}
    expect(
        len(sa - sb) == 4 and len(sb - sa) == 5,
        f"edited: {len(sa - sb)} rows gone/changed, {len(sb - sa)} new/changed",
    )

    # messy.csv
    raw = (HERE / "messy.csv").read_bytes()
    expect(raw.startswith(b"\xef\xbb\xbf"), "messy.csv: no BOM")
    header, recs = read_records(HERE / "messy.csv")
    expect(header == MESSY_HEADER, f"messy.csv header {header}")
    expect(len(recs) >= 220, f"messy.csv: {len(recs)} records")
    countries: set[str] = set()
    valid = invalid = missing = 0
    for rec in recs:
        d = dict(zip(header, rec, strict=True))
        if not d["Mobile Phone"].strip():
            missing += 1
            continue
        e = parse_e164(d["Mobile Phone"], row_region(d["Country"]))
        if e is None:
            invalid += 1
            continue
        valid += 1
        countries.add(phonenumbers.region_code_for_number(phonenumbers.parse(e)) or "ZZ")
    expect(len(countries) >= 10, f"messy.csv: only {len(countries)} countries")
    info = next(f for f in FILES if f.path == "messy.csv")
    want_invalid = sum(
        1 for r in info.rows if r.kind == "invalid_phone" or (r.kind == "multiple" and not r.e164)
    )
    want_missing = sum(1 for r in info.rows if r.kind == "missing_phone")
    expect(invalid == want_invalid, f"messy.csv: {invalid} invalid phones, planned {want_invalid}")
    expect(missing == want_missing, f"messy.csv: {missing} missing, planned {want_missing}")
    expect(any("\n" in c for rec in recs for c in rec), "messy.csv: no multi-line cell")
    for r in info.rows:
        if r.kind in ("invalid_timezone",):
            expect(r.cells["Time Zone"] not in zones, f"zone {r.cells['Time Zone']} exists")
        if r.kind == "valid" and r.cells["Time Zone"]:
            expect(r.cells["Time Zone"] in zones, f"zone {r.cells['Time Zone']} unknown")
        if r.kind == "invalid_email":
            expect(
                not EMAIL_RE.match(r.cells["E-mail Address"]),
                f"e-mail {r.cells['E-mail Address']} looks valid",
            )
        if r.kind == "valid" and r.cells["E-mail Address"]:
            expect(
                bool(EMAIL_RE.match(r.cells["E-mail Address"])),
                f"e-mail {r.cells['E-mail Address']} looks invalid",
            )

    # layouts: each file decodes with its encoding and has the planned record count
    specs = {
        "layouts/google_contacts.csv": ("utf-8-sig", ","),
        "layouts/outlook.csv": ("utf-8", ","),
        "layouts/hubspot.csv": ("utf-8", ","),
        "layouts/salesforce.csv": ("utf-8", ","),
        "layouts/zoho.csv": ("utf-8", ","),
        "layouts/mailchimp.csv": ("utf-8", ","),
        "layouts/excel_eu.csv": ("utf-8-sig", ";"),
        "layouts/excel_latin1.csv": ("cp1252", ","),
    }
    for f in FILES:
        if f.path not in specs:
            continue
        enc, delim = specs[f.path]
        header, recs = read_records(HERE / f.path, enc, delim)
        expect(header == f.header, f"{f.path}: header differs")
        n = len(recs) - (5 if "salesforce" in f.path else 0)
        expect(n == len(f.rows), f"{f.path}: {n} records, planned {len(f.rows)}")
        expect(15 <= n <= 25, f"{f.path}: {n} records")
        for i, (r, rec) in enumerate(zip(f.rows, recs, strict=False), 1):
            expect(dict(zip(header, rec, strict=True)) == r.cells, f"{f.path} row {i} differs")
    try:
        (HERE / "layouts/excel_latin1.csv").read_bytes().decode("utf-8")
        errors.append("excel_latin1.csv decodes as UTF-8")
    except UnicodeDecodeError:
        pass
    return errors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="re-read and check the files")
    args = ap.parse_args()
    numbers = Numbers(random.Random(f"{SEED}-numbers"))
    people = People(random.Random(f"{SEED}-people"))
    numbers.reserve("+442079460456")  # the deliberately hint-less GB number in messy.csv
    build_clean(numbers, people)
    build_messy(numbers, people)
    for build in (
        build_google,
        build_outlook,
        build_hubspot,
        build_salesforce,
        build_zoho,
        build_mailchimp,
        build_excel_eu,
        build_excel_latin1,
    ):
        build(numbers, people)
    (HERE / "README.md").write_text(readme(), encoding="utf-8")
    for f in FILES:
        print(f"{f.path}: {len(f.rows)} records")
    if args.check:
        errors = check()
        for e in errors:
            print("CHECK FAILED:", e, file=sys.stderr)
        if errors:
            return 1
        print("check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
