"""Build tests/data/privacy_eval.jsonl: labelled identifiers with valid checksums, and look-alikes.

Run from the repository root: ``.venv/bin/python tests/data/make_privacy_eval.py`` (seeded, so the
file only changes when this script does).
"""

import json
import random
import re
from pathlib import Path

from stdnum import iban, luhn, numdb
from stdnum.be import iban as be_iban
from stdnum.ca import sin
from stdnum.us import itin, rtn, ssn

rng = random.Random(20261123)


def digits(n):
    return "".join(rng.choice("0123456789") for _ in range(n))


items = []


def add(text, kinds):
    return items.append({"text": text, "kinds": kinds})


def card(prefix, length):
    body = prefix + digits(length - len(prefix) - 1)
    return body + luhn.calc_check_digit(body)


def group(number, sizes, sep):
    out, at = [], 0
    for s in sizes:
        out.append(number[at : at + s])
        at += s
    return sep.join(out)


issuers = [
    ("4", 16),
    ("4", 19),
    ("51", 16),
    ("55", 16),
    ("2221", 16),
    ("2720", 16),
    ("34", 15),
    ("37", 15),
    ("6011", 16),
    ("65", 16),
    ("644", 16),
    ("3528", 16),
    ("3589", 19),
    ("36", 14),
    ("38", 16),
    ("300", 14),
    ("62", 16),
    ("62", 19),
    ("50", 16),
    ("67", 18),
]
card_templates = [
    "my card is {}",
    "Card number: {} exp 04/27",
    "please charge {} again",
    "{}",
    "pay with {}, thanks",
    "CC# {} cvv on file",
]
for n, (prefix, length) in enumerate(issuers * 2):
    number = card(prefix, length)
    if length == 16 and n % 3 == 0:
        number = group(number, [4, 4, 4, 4], " ")
    elif length == 15 and n % 2 == 0:
        number = group(number, [4, 6, 5], " ")
    elif length == 16 and n % 3 == 1:
        number = group(number, [4, 4, 4, 4], "-")
    add(card_templates[n % len(card_templates)].format(number), ["payment_card"])
for known in ["4111 1111 1111 1111", "5555555555554444", "378282246310005", "6011111111111117"]:
    add(f"test card {known}", ["payment_card"])


def make_iban(country, bban):
    return country + iban.calc_check_digits(country + "00" + bban) + bban


ibans = (
    [make_iban("GB", "WEST" + digits(14)) for _ in range(5)]
    + [make_iban("DE", digits(18)) for _ in range(5)]
    + [make_iban("NL", "ABNA" + digits(10)) for _ in range(4)]
    + [make_iban("BE", (lambda b: b + f"{int(b) % 97 or 97:02d}")(digits(10))) for _ in range(3)]
    + ["GB82WEST12345698765432", "DE89370400440532013000"]
)
ibans = [i for i in ibans if iban.is_valid(i)]
for n, number in enumerate(ibans):
    shown = iban.format(number) if n % 2 else number
    add(["IBAN: {}", "refund to {} please", "my account {}"][n % 3].format(shown), ["iban"])


def make_ssn():
    while True:
        area = rng.randint(1, 899)
        number = f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
        if ssn.is_valid(number):
            return number


for n in range(10):
    number = make_ssn()
    if n % 2:
        add(f"SSN {number.replace('-', '')}", ["national_id"])
    else:
        add(
            ["my social security number is {}", "ssn: {}", "{} is my SSN"][n % 3].format(number),
            ["national_id"],
        )
for n in range(4):
    number = f"9{digits(2)}-{rng.choice([70, 78, 88, 92, 94])}-{digits(4)}"
    assert itin.is_valid(number)
    add(f"ITIN {number}", ["national_id"])


def make_sin():
    body = rng.choice("1234567") + digits(7)
    return body + luhn.calc_check_digit(body)


for n in range(8):
    number = make_sin()
    assert sin.is_valid(number)
    add(
        f"SIN: {number}" if n % 2 else f"social insurance {group(number, [3, 3, 3], ' ')}",
        ["national_id"],
    )

letters_1 = "ABCEGHJKLMNOPRSTWXYZ"
letters_2 = "ABCEGHJKLMNPRSTWXYZ"
for n in range(8):
    while True:
        prefix = rng.choice(letters_1) + rng.choice(letters_2)
        if prefix not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
            break
    number = prefix + digits(6) + rng.choice("ABCD")
    shown = (
        f"{number[:2]} {number[2:4]} {number[4:6]} {number[6:8]} {number[8]}" if n % 2 else number
    )
    add(f"NI number {shown}", ["national_id"])

for n in range(6):
    body = f"{rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 21, 22, 26, 31]):02d}" + digits(6)
    number = body + rtn.calc_check_digit(body)
    add(["routing number {}", "ABA {}", "bank routing: {}"][n % 3].format(number), ["bank_account"])
for n in range(6):
    add(f"sort code {digits(2)}-{digits(2)}-{digits(2)} {digits(8)}", ["bank_account"])

months = ["January", "March", "July", "October", "Dec", "Sept"]
for n in range(14):
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1940, 2008)
    text = [
        f"my birthday is {d} {months[n % 6]} {y}",
        f"DOB: {y}-{m:02d}-{d:02d}",
        f"born on {m:02d}/{d:02d}/{y}",
        f"date of birth {d:02d}.{m:02d}.{y}",
        f"d.o.b. {d}/{m}/{y}",
        f"Birthday: {months[n % 6]} {d}, {y}",
        f"I was born {d} {months[n % 6]} {y}",
    ][n % 7]
    add(text, ["birth_date"])
add(f"card {card('4', 16)} and DOB 1985-03-12", ["payment_card", "birth_date"])
add(f"IBAN {ibans[0]}, SSN {make_ssn()}", ["iban", "national_id"])

# Look-alikes: nothing to find.
for n in range(12):
    number = card(rng.choice(["4", "51", "6011", "37"]), 16)
    bad = number[:-1] + str((int(number[-1]) + rng.randint(1, 9)) % 10)
    add(f"card {bad}", [])
for n in range(8):
    add(
        f"Order #{digits(rng.randint(6, 12))} shipped on 2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        [],
    )
    add(
        f"invoice INV-{rng.randint(2019, 2025)}-{digits(5)} total ${rng.randint(10, 999)}.{digits(2)}",
        [],
    )
for n in range(6):
    add(f"UPS tracking 1Z{digits(3)}AA1{digits(8)}", [])
    add(f"USPS {group('94' + digits(20), [4, 4, 4, 4, 4, 2], ' ')}", [])
    add(f"FedEx tracking {digits(12)}", [])
for text in [
    "call 555-123-4567",
    "phone +44 20 7946 0958",
    "tel (212) 555-0187",
    "ring +1 415 555 2671",
    "mobile 07700 900123",
    "+49 30 123456789",
    "0044 20 7946 0958",
    "call 1-800-555-0199",
]:
    add(text, [])
for n in range(6):
    body = "978" + digits(9)
    check = (10 - sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body)) % 10) % 10
    isbn = body + str(check)
    add(
        f"ISBN {isbn[:3]}-{isbn[3]}-{isbn[4:7]}-{isbn[7:12]}-{isbn[12]}"
        if n % 2
        else f"ISBN {isbn}",
        [],
    )
for text in [
    "SKU-88213-XL",
    "sku ABC-12345678",
    "barcode 5012345678900",
    "EAN 4006381333931",
    "item 400638133393 qty 2",
    "part no. 12-3456-7890-12",
]:
    add(text, [])
for text in [
    "000-12-3456",
    "666-45-6789",
    "900-12-3456",
    "123-00-4567",
    "123-45-0000",
    "SSN 000123456",
    "ssn 666123456",
]:
    add(f"ref {text}", [])
for n in range(6):
    add(f"reference {make_ssn().replace('-', '')} attached", [])
    add(f"ticket {make_sin()} closed", [])
for n in range(8):
    d, y = rng.randint(1, 28), rng.randint(1950, 2024)
    add(
        [
            f"delivered on {d} March {y}",
            f"meeting 2024-03-{d:02d}",
            f"expires 03/{d:02d}/{y}",
            f"invoice date {d:02d}.04.{y}",
            "born to run tour, tickets 55 each",
            f"born in {y}",
            f"the order placed {d} July {y} was late",
            f"anniversary: {d} May {y}",
        ][n],
        [],
    )
for text in [
    "version 1.2.3456789012345",
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "timestamp 1700000000000",
    "ip 192.168.100.200",
    "amount 1,234,567.89",
    "GB postcode SW1A 1AA",
    "ZIP 94103-1234",
    "account 12345678",
    "sort code 12-34-56",
    "VAT GB123456789",
    "tax code 1257L",
    "Model AB123456Z",
    "flight BA 1234 seat 12C",
    "room 1204, 12 guests",
    "coupon SAVE2024NOW",
    "batch 2024-03-12-0001",
    "route 021000021 km",
    "serial 4111111111111112",
    "GB82 WEST 1234 5698 7654 33",
    "QQ 12 34 56 C",
    "AB123456E",
]:
    add(text, [])

# Written differently: forms found while comparing with Presidio's recognizers (their own
# random stream, so the items above stay as they were).
rng = random.Random(20261124)
for n in range(4):
    number = make_ssn().replace("-", "")
    add(
        [f"my SSN is {number[:3]}.{number[3:5]}.{number[5:]}", f"ssn {number[:3]}-{number[3:]}"][
            n % 2
        ],
        ["national_id"],
    )
    sin_number = make_sin()
    add(f"SIN {sin_number[:3]}.{sin_number[3:6]}.{sin_number[6:]}", ["national_id"])
for n in range(3):
    body = f"{rng.choice([1, 2, 3, 11, 21, 26]):02d}" + digits(6)
    number = body + rtn.calc_check_digit(body)
    add(
        f"{['routing', 'ABA', 'routing no.'][n]} {number[:4]}-{number[4:8]}-{number[8]}",
        ["bank_account"],
    )
    add(f"ref {number[:4]}-{number[4:8]}-{number[8]}", [])
for n in range(3):
    number = rng.choice(["ab", "ce", "jk"]) + digits(6) + rng.choice("abcd")
    add(f"{['nino', 'NI no.', 'national insurance'][n]} {number}", ["national_id"])
    add(f"box {number}", [])
for n in range(8):
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1940, 2008)
    text = [
        f"DOB {d:02d}-{months[n % 6][:3]}-{y}",
        f"birthday {d:02d}/{m:02d}",
        f"Geburtsdatum {d:02d}.{m:02d}.{y}",
        f"fecha de nacimiento {d:02d}/{m:02d}/{y}",
        f"n\u00e9 le {d:02d}/{m:02d}/{y}",
        f"dob {y}{m:02d}{d:02d}",
        f"DOB:{y}-{m:02d}-{d:02d}T00:00:00",
        f"data di nascita {d:02d}/{m:02d}/{y}",
    ][n]
    add(text, ["birth_date"])
for text in [
    "version 221.85.5328",
    "delivered 12/03",
    "order 19850312",
    "meeting 12-Mar-1985",
    "n\u00e9anmoins 12/03/1985",
    "ip 10.123.45.6789",
    "nato 12/03/1985 summit",
]:
    add(text, [])

# The first hour of a new shop: secrets stated in free text, in many phrasings and languages, with
# the look-alikes that state none; and numbers written as other detectors' public test cases
# write them. Their own random stream, so the items above stay as they were.
rng = random.Random(20261204)
LOWER, UPPER = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SYMBOLS = "!#$%&*+?@_"
WORDS = ["winter", "summer", "dragon", "monkey", "sunshine", "tiger", "coffee", "garden", "kot",
         "gato", "soleil", "sommer", "zima", "blauw", "estrela", "ciao"]  # fmt: skip
NAMES = ["Smith", "Kowalski", "Van Der Berg", "M\u00fcller", "Garc\u00eda", "O'Brien", "Dubois",
         "Rossi", "Fluffy", "Rex", "Jansen", "Nowak"]  # fmt: skip


def password():
    """A password as people choose them: a word with digits and a symbol, or random."""
    style = rng.randrange(4)
    word = rng.choice(WORDS)
    if style == 0:
        return word.capitalize() + rng.choice(SYMBOLS) + digits(rng.randint(2, 4))
    if style == 1:
        return word.translate(str.maketrans("aeio", "4310")) + rng.choice(SYMBOLS) + digits(1)
    if style == 2:
        return "".join(rng.choice(LOWER + UPPER + "0123456789" + SYMBOLS) for _ in range(12))
    return word + digits(rng.randint(1, 4))


password_templates = [
    "the password for my account is {}", "my password is {}", "Password: {}", "pwd={}",
    "password = {}", "login anna.k / password {}", "pw: {}", "passcode: {}", "{} is my password",
    "I changed my password to {}", "new password: {} (please keep it safe)",
    "temp password is {}, please change it", "user=anna&pwd={}", "mein Passwort ist {}",
    "Passwort: {}", "das Kennwort lautet {}", "Kennwort {}", "mot de passe : {}",
    "mon mot de passe est {}", "mdp: {}", "contrase\u00f1a es {}", "mi contrase\u00f1a: {}",
    "la clave es {}", "wachtwoord {}", "mijn wachtwoord is {}", "has\u0142o: {}",
    "moje has\u0142o to {}", "minha senha \u00e9 {}", "senha: {}", "la mia password \u00e8 {}",
    "Password for the admin panel: {}", "my password is: {}",
]  # fmt: skip
for n, template in enumerate(password_templates * 2):
    add(template.format(password()), ["secret"])
for template in ['my password is "{} {}"', "Passwort: \u201e{} {}\u201c", "password '{} {}'"]:
    add(template.format(rng.choice(WORDS), rng.choice(WORDS)), ["secret"])
for word in ["geheimnis", "sunshine", "tr\u00e9sor"]:
    add(rng.choice(["Password: {}", "Passwort: {}", "mot de passe : {}"]).format(word), ["secret"])
pin_templates = [
    "my PIN: {}", "my PIN is {}", "PIN {}", "pin code {}", "PIN-Nummer: {}", "code PIN : {}",
    "mi PIN es {}", "pincode {}", "kod PIN: {}", "{} is my PIN", "PIN={}", "new pin is {}",
    "mein PIN ist {}", "the card PIN is {} if you need it", "PIN# {}",
]  # fmt: skip
for template in pin_templates:
    add(template.format(digits(rng.choice([4, 4, 4, 5, 6]))), ["secret"])
for template in ["cvv {}", "CVC: {}", "security code {}", "card cvv2 is {}", "CVV={}"]:
    add(template.format(digits(rng.choice([3, 4]))), ["secret"])
answer_templates = [
    "security answer: {}", "the answer to my security question is {}",
    "my mother's maiden name is {}", "mother's maiden name: {}", "memorable word: {}",
    "secret answer = {}", "M\u00e4dchenname der Mutter: {}", "nom de jeune fille de ma m\u00e8re : {}",
    "apellido de soltera de mi madre es {}", "respuesta de seguridad: {}",
    "r\u00e9ponse secr\u00e8te : {}", "security question answer is {}, thanks",
]  # fmt: skip
for template in answer_templates:
    add(template.format(rng.choice(NAMES)), ["secret"])
add(f"card {card('4', 16)}, PIN {digits(4)}", ["payment_card", "secret"])
add(f"DOB 12/03/1985 and my password is {password()}", ["birth_date", "secret"])

# Numbers after another number, and IBANs written every way, from any bank.
for n in range(6):
    number = card(rng.choice(["4", "51", "6011", "2221"]), 16)
    add(
        [
            f"order {digits(5)} {group(number, [4, 4, 4, 4], ' ')}",
            f"ticket {digits(6)} card {group(number, [4, 4, 4, 4], ' ')}",
            f"order {digits(5)} {number}",
        ][n % 3],
        ["payment_card"],
    )
add(f"ref {digits(3)} {group(card('37', 15), [4, 6, 5], ' ')}", ["payment_card"])


def random_bban(country):
    bban = numdb.get("iban").info(country)[0][1]["bban"]
    out = ""
    for size, kind in re.findall(r"(\d+)!([nac])", bban):
        chars = {"n": "0123456789", "a": UPPER, "c": UPPER + "0123456789"}[kind]
        out += "".join(rng.choice(chars) for _ in range(int(size)))
    return out


countries = ["GB", "DE", "BE", "FR", "IT", "ES", "PL", "NL", "AT", "CH", "IE", "PT", "SE", "DK",
             "FI", "LU", "CZ", "RO", "GR", "SI"]  # fmt: skip
iban_templates = [
    "IBAN {} BIC {}", "{} EUR", "please refund to {} BIC: {}", "IBAN: {} SEPA", "iban {} thanks",
    "my account {} (bank {})", "{}", "Kontoverbindung: IBAN {} BIC {}",
]  # fmt: skip
for n, country in enumerate(countries * 2):
    bban = random_bban(country)
    if country == "BE":  # Belgian IBANs carry their own check digits inside the BBAN
        bban = bban[:10] + f"{int(bban[:10]) % 97 or 97:02d}"
    number = make_iban(country, bban)
    assert iban.is_valid(number, check_country=False), number
    shown = [
        iban.format(number),
        number,
        iban.format(number).lower(),
        iban.format(number, "-"),
        number.lower(),
    ][n % 5]
    bic = "".join(rng.choice(UPPER) for _ in range(4)) + country + "2X"
    template = iban_templates[n % len(iban_templates)]
    add(
        template.format(shown, bic) if template.count("{}") == 2 else template.format(shown),
        ["iban"],
    )

for n in range(4):  # Belgian banks missing from python-stdnum's bank table
    while True:
        head = digits(10)
        number = make_iban("BE", head + f"{int(head) % 97 or 97:02d}")
        if not be_iban.is_valid(number):
            break
    assert iban.is_valid(number, check_country=False)
    add(
        ["IBAN {} BIC", "{} EUR", "to {} please", "IBAN: {}"][n].format(iban.format(number)),
        ["iban"],
    )

account_templates = [
    "bank account {}", "account number: {}", "acct no. {}", "my bank account number is {}",
    "Kontonummer {}", "num\u00e9ro de compte {}", "n\u00famero de cuenta {}",
    "rekeningnummer {}", "numer konta {}", "please pay into bank account {} today",
    "A/C no: {}", "account # {}",
]  # fmt: skip
for template in account_templates:
    add(template.format(digits(rng.choice([8, 10, 12, 17]))), ["bank_account"])
for n in range(6):
    prefix = rng.choice(["AB", "CE", "JK", "PR", "WX", "HL"])
    number = digits(6)
    letter = rng.choice("ABCD")
    add(
        [
            f"NI number {prefix} {number[:3]} {number[3:]} {letter}",
            f"my national insurance number is {prefix}{number[:3]} {number[3:]}{letter}",
            f"NINO: {prefix} {number[:3]} {number[3:]} {letter}",
        ][n % 3],
        ["national_id"],
    )
for n in range(8):
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1940, 2008)
    month = months[n % 6]
    add(
        [
            f"Date of birth: I think it is {d:02d}/{m:02d}/{y}",
            f"What's your DOB? It's {d} {month} {y}",
            f"I need to correct my date of birth. It should be {y}-{m:02d}-{d:02d}.",
            f"{d} {month} {y} is my birthday",
            f"{d:02d}/{m:02d}/{y} is my date of birth",
            f"{month} {d} was her birthday",
            f"date of birth: see passport, {d:02d}.{m:02d}.{y}",
            f"{y}-{m:02d}-{d:02d} is my birthday, please update",
        ][n],
        ["birth_date"],
    )

# Look-alikes: no value stated, and numbers that only look like the kinds above.
for text in [
    "password reset requested", "forgot my password", "I forgot my password again",
    "Password reset link expired", "please reset my password", "PIN pad broken",
    "the PIN pad at till 3 is broken", "pin the poster to the wall", "my password is not working",
    "password must be at least 8 characters", "Passwort vergessen", "mot de passe oubli\u00e9",
    "olvid\u00e9 mi contrase\u00f1a", "wachtwoord vergeten", "zapomnia\u0142em has\u0142a",
    "change password", "Password: reset requested", "passwords don't match",
    "pinned the order to the top", "security question not accepted",
    "my security answer is wrong", "the PIN was blocked after 3 tries", "passenger 2 seats",
    "compass 360 degrees", "shipping 12 items", "PIN reader model 4200X", "spin class at 6pm",
    "Chopin Nocturne op. 9", "passport 32 pages", "pin 2 of the connector",
    "password manager 2024 edition", "CC# on file, cvv on file", "one-time password sent to your phone",
    "your password has been changed on 12/03/2024", "Password: ********", "maiden voyage 1912",
    "answer 42 to question 7", "PIN-Eingabe fehlgeschlagen", "code PIN oubli\u00e9",
    "Passwort ist falsch", "la contrase\u00f1a es incorrecta", "mijn wachtwoord is verlopen",
    "has\u0142o jest b\u0142\u0119dne", "is your password strong enough?",
    "Password:\nEmail: anna@example.com", "reset password for user 1043",
    "secure checkout 3 steps", "pincode area 560001 delivery", "Security: 2 locks",
    "the passcode screen shows 4 dots", "we never ask for your PIN or password",
]:  # fmt: skip
    add(text, [])


def phone_like_sin():
    """A nine-digit mobile number (Polish, 5xx-8xx) that passes the SIN checksum."""
    while True:
        number = rng.choice("5678") + digits(8)
        if sin.is_valid(number):
            return number


for n in range(10):
    number = phone_like_sin()
    add(
        [
            "zadzwo\u0144 {}",
            "tel. {}",
            "+48 {}",
            "call me on {}",
            "kom. {} po 17",
            "mobile: {}",
            "numer {}",
            "WhatsApp {}",
            "SMS to {}",
            "phone {}, ask for Anna",
        ][n].format(group(number, [3, 3, 3], "-" if n % 4 == 3 else " ")),
        [],
    )
for n in range(8):
    number = make_ssn().replace("-", "")
    word = ["Suite", "Apt", "Unit", "Room", "Suite", "Flat", "Apt.", "Suite"][n]
    sep = " " if n % 2 == 0 else "-"
    add(f"{word} {group(number, [3, 2, 4], sep)}, Springfield", [])
for n in range(4):
    number = make_ssn().replace("-", "")
    add(f"order {group(number, [3, 2, 4], ' ')} shipped", [])
for n in range(6):
    country = rng.choice(countries)
    number = make_iban(country, random_bban(country))
    bad = number[:2] + f"{(int(number[2:4]) + rng.randint(1, 90)) % 100:02d}" + number[4:]
    if not iban.is_valid(bad, check_country=False):
        add([f"IBAN {iban.format(bad)} BIC", f"{bad.lower()} EUR"][n % 2], [])
    add(f"code {number}X1", [])
for text in [
    "account 12345678", "my account 55512 is locked", "account created 2024-03-12",
    "account balance 1234567.89", "bank holiday 12345678 visitors", "accounts 12 and 14",
    "account number 12345", "invoice account 2024-00042",
    "It was my birthday. Delivered 12/03/2024", "birthday present ordered 12/03/2024",
    "Happy birthday! Your order from 14 March 2024 shipped", "birthday cake size 12",
    "born to run, 12 March 2024 tour", "date of delivery: 12/03/2024",
]:  # fmt: skip
    add(text, [])

# Phrasings met while trying the firewall by hand: more ways to state a secret, and mentions of
# secret words and codes in ordinary shop messages.
for template in [
    "Password (case sensitive): {}", "Temporary password: {}", "Account: anna@example.com, Password: {}",
    "user: anna, pass word = {}",
]:  # fmt: skip
    add(template.format(password()), ["secret"])
for template in ["MY PIN IS {}", "Your one-time PIN is {}", "PIN (card ending 1234): {}"]:
    add(template.format(digits(rng.choice([4, 6]))), ["secret"])
for text in [
    "the wifi password is on the receipt", "your new password is ready",
    "the password was changed by admin@example.com", "Passwords: 2 attempts left",
    "Your PIN will arrive by post in 5 days", "Enter your PIN: ____", "iPhone is my password manager",
    "This is my password", "Security question answer: forgotten", "Pinterest link 12345678",
    "model ab12 cdef 3456 gh", "use code de12abcd for 10% off", "Your order 100234 5555 is ready",
    "my account number is in the app", "the pin is 4 inches long", "Password reset: done",
    "reset password (ticket #4412)", "tracking 1Z 999 AA1 0123 4567 84",
    "phone 020 7946 0958 ext 4111", "password manager 1Password is great",
]:  # fmt: skip
    add(text, [])

positives = [i for i in items if i["kinds"]]
negatives = [i for i in items if not i["kinds"]]
print(len(items), len(positives), len(negatives))
with open(Path(__file__).with_name("privacy_eval.jsonl"), "w") as f:
    for item in items:
        f.write(json.dumps(item) + "\n")
