"""Passwords, PINs and security answers stated in free text: "my PIN is 4921", "pwd=Winter#77".

A secret counts only when a secret word is followed by a value: after a colon or equals sign,
after a linking verb ("is", "ist", "es", "est", "lautet", "jest", "to", "é" ...), or, for a value
that could be nothing but a secret, right after the word ("wachtwoord Geheim123", "PIN 4921").
What the value must look like depends on the secret:

- a PIN, CVV or security code is 3 to 8 digits, so "PIN pad broken" and "pin the poster" are
  left alone;
- a password must look like one (a digit, a symbol or a capital inside), so "password reset
  requested" and "my password is not working" are left alone; after a colon or equals sign a
  plain word counts too when it ends the clause and tells no state ("Password: sunshine" but not
  "Password: reset requested" or "Password: must contain a digit"). "my password is sunshine"
  is missed unless quoted;
- a security answer or a mother's maiden name is any word but a state word, with the capitalised
  words after it ("Van Der Berg").

A quoted value is always a value. Only the value is reported, so redaction keeps the sentence.
"""

from __future__ import annotations

import re

from cornerstore.privacy.keywords import keyword_pattern, word_starts

# Where a phrase can start, found by keywords.word_starts in the lower-cased text. Each is the
# first word of the phrases below (a PIN "code PIN" is found at its "pin").
KEYWORDS = (
    "pass", "pwd", "pw", "pin", "kennwort", "contrase", "clave", "mot de passe", "mdp",
    "wachtwoord", "has\u0142o", "haslo", "senha", "parola", "cvv", "cvc", "security", "secret",
    "sicherheits", "memorable", "answer", "maiden", "m\u00e4dchenname", "geburtsname",
    "jeune fille", "soltera", "r\u00e9ponse", "reponse", "respuesta",
)  # fmt: skip

# A secret word and its value are apart: a space, a colon, an equals or a hash sign between.
_SEPARATOR = re.compile(r"[\s:=#]")
_KEYWORD = keyword_pattern(KEYWORDS)
_PASSWORD = (
    r"(?P<password>pass(?:word|wort|wd|code|phrase)|pass[ -]word|pwd|pw(?=\s*[:=])|kennwort"
    r"|contrase\u00f1a|contrasena|clave(?: de acceso)?|mot de passe|mdp|wachtwoord|has[\u0142l]o"
    r"|senha|parola d'ordine)"
)
_PIN = (
    r"(?P<pin>pin(?:[ -]?(?:code|kod|koodi|number|nummer|nr\.?|no\.?))?|cvv2?|cvc2?"
    r"|(?:security|sicherheits)[ -]?(?:code|nummer))"
)
_ANSWER = (
    r"(?P<answer>(?:security|secret)(?: question)? answer|sicherheitsantwort"
    r"|answer to (?:my|the|your) (?:security|secret) question|memorable (?:word|information)"
    r"|maiden name|m\u00e4dchenname(?: (?:der|meiner) mutter)?|geburtsname (?:der|meiner) mutter"
    r"|jeune fille(?: de (?:ma|ta|sa) m\u00e8re)?|soltera(?: de (?:mi|tu|su) madre)?"
    r"|r[\u00e9e]ponse (?:secr[\u00e8e]te|de s[\u00e9e]curit[\u00e9e])"
    r"|respuesta (?:secreta|de seguridad))"
)
_VERB = (
    r"(?:is|was|ist|war|lautet|est|es|era|jest|to|\u00e9|\u00e8|er|\u00e4r|are|were|reads"
    r"|set to|changed to)"
)
# "the password for my account is", "das Passwort f\u00fcr mein Konto ist": a few words that say
# whose secret it is, only before a colon or a verb.
_WHOSE = (
    r"(?:\s+(?:for|to|of|on|at|f\u00fcr|zu|de|del|pour|du|voor|van|do|dla|di|per|da)"
    rf"(?:\s+[^\s:=\d]+){{1,3}}?(?=\s*[:=]|\s+{_VERB}\b)"
    # or a remark in brackets: "Password (case sensitive): ..."
    r"|\s*\([^()\n]{1,40}\)(?=\s*[:=]))?"
)
# Spaces only after the link: a colon at a line's end ("Password:\nEmail: ...") states nothing.
_LINK = rf"(?:\s*(?P<sign>[:=#])|\s+(?P<verb>{_VERB})\b(?:\s*:)?|(?P<bare>\s))[ \t\u00a0]*"
_VALUE = (
    r"(?P<value>\"[^\"\n]{1,64}\"|'[^'\n]{1,64}'|\u201c[^\u201d\n]{1,64}\u201d"
    r"|\u2018[^\u2019\n]{1,64}\u2019|\u00ab[^\u00bb\n]{1,64}\u00bb|\u201e[^\u201c\n]{1,64}\u201c"
    r"|\S{1,64})"
)
_STATED = re.compile(
    rf"(?:{_PASSWORD}|{_PIN}|{_ANSWER})(?![\w-]){_WHOSE}{_LINK}{_VALUE}", re.IGNORECASE
)
# "hunter2 is my password", "4921 is my PIN": the value before the phrase, which ends at the
# secret word.
_BEFORE = re.compile(
    r"(?<![^\s(])(?P<value>[^\s\"']{3,64})\s+(?:is|was)\s+(?:my|the|our|his|her|their)\s+"
    r"(?:new\s+)?$",
    re.IGNORECASE,
)
# The secret word ends the clause: "iPhone is my password manager" states no password.
_SECRET_AFTER_VALUE = re.compile(
    r"(?:(?P<password>password|passcode|passphrase)|(?P<pin>pin))\b(?![ \t]+[\w(])"
)
_BEFORE_WINDOW = 90
_CLOSING_QUOTES = {
    '"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "\u00ab": "\u00bb",
    "\u201e": "\u201c",
}  # fmt: skip
# Punctuation that ends the sentence rather than the secret.
_TRAILING = ".,;:)]}\u201d\u2019\u00bb"
_PIN_DIGITS = re.compile(r"\d{3,8}")
_LOOKS_SECRET = re.compile(r"[\d!@#$%^&*+=?~_|/\\<>{}\[\]]|.\w*[A-Z]")
# Not a value: a mask ("********") or a placeholder ("<your password>", "[removed: secret]").
_MASKED = re.compile(r"[*\u2022x.]+")
_PLACEHOLDER = re.compile(r"<[^>\n]*>|\[[^\]\n]*\]|\{[^}\n]*\}")
# What may follow a plain word that is a password: the end of the text, the line or the clause,
# or the next field ("Password: sunshine, thanks", "password: geheim\nEmail: ..."); not more
# words ("Password: must contain a digit").
_CLAUSE_END = re.compile(r"[ \t]*(?:$|[\n,;.!?)|/]|-\s|[\w-]+\s*[:=])")
_NAME_WORD = re.compile(r"\s+([A-Z][\w'\u2019-]*)")
# Words that tell a secret's state or a rule about it, not its value ("Password: reset",
# "my security answer is wrong", "contrase\u00f1a: olvidada").
_STATE_WORDS = frozenset(
    {
        "reset", "forgot", "forgotten", "expired", "changed", "change", "required", "incorrect",
        "invalid", "wrong", "updated", "update", "locked", "blocked", "missing", "none", "n/a",
        "unknown", "same", "new", "old", "not", "no", "yes", "ok", "okay", "correct", "right",
        "too", "still", "case", "the", "a", "an", "my", "your", "it", "is", "set", "sent",
        "needed", "lost", "rejected", "accepted", "empty", "protected", "hidden",
        "vergessen", "falsch", "ge\u00e4ndert", "abgelaufen", "gesperrt", "oubli\u00e9",
        "incorrecte", "expir\u00e9", "olvidada", "olvid\u00e9", "incorrecta", "caducada",
        "vergeten", "onjuist", "verlopen", "zapomniane", "zapomnia\u0142em", "b\u0142\u0119dne",
        "esquecida", "errata", "dimenticata",
    }
)  # fmt: skip


def may_state_secret(text: str) -> bool:
    """Whether ``text`` holds a secret word and a separator: False for most text, quickly."""
    return _SEPARATOR.search(text) is not None and _KEYWORD.search(text.lower()) is not None


def find_stated_secrets(
    text: str, lower: str, starts: list[int] | None = None
) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of passwords, PINs and security answers stated in ``text``.

    ``lower`` is ``text`` lower-cased with the same length (``dates.lower_same_length``);
    ``starts`` are where :data:`KEYWORDS` start a word in it, when the caller has them.

    Examples
    --------
    >>> text = "my PIN is 4921 and pwd=Winter#77, PIN pad broken"
    >>> [text[a:b] for a, b in find_stated_secrets(text, text.lower())]
    ['4921', 'Winter#77']
    """
    spans: list[tuple[int, int]] = []
    # A phrase starts a word: not "shipping", "compass", "spin".
    for start in word_starts(lower, KEYWORDS) if starts is None else starts:
        if spans and start < spans[-1][1]:
            continue
        m = _STATED.match(text, start)
        span = _value_after(text, m) if m else None
        if span is None and lower.startswith(("pass", "pin"), start):
            span = _value_before(text, lower, start)
        if span and (not spans or span[0] >= spans[-1][1]):
            spans.append(span)
    return spans


def _value_after(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    """The span of the value stated after the phrase, or None when what follows is no value."""
    start, end = m.span("value")
    value = m["value"]
    if len(value) > 2 and _CLOSING_QUOTES.get(value[0]) == value[-1]:
        return start + 1, end - 1
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    value = text[start:end]
    if not value or _MASKED.fullmatch(value) or _PLACEHOLDER.match(text, start):
        return None
    if m["pin"]:
        return (start, end) if _PIN_DIGITS.fullmatch(value) else None
    if value.lower() in _STATE_WORDS:
        return None
    if m["password"]:
        # A question or exclamation mark may end the sentence rather than the password.
        looks_secret = _LOOKS_SECRET.search(value.rstrip("!?")) is not None
        plain_and_alone = m["sign"] is not None and _CLAUSE_END.match(text, end) is not None
        return (start, end) if (looks_secret or plain_and_alone) and len(value) >= 3 else None
    if m["bare"] is not None:
        return None
    # An answer or a name: the capitalised words after it belong to it ("Van Der Berg").
    while value[:1].isupper() and (more := _NAME_WORD.match(text, end)) is not None:
        end = more.end()
    return start, end


def _value_before(text: str, lower: str, start: int) -> tuple[int, int] | None:
    """The value of "hunter2 is my password" or "4921 is my PIN", the secret word at ``start``."""
    word = _SECRET_AFTER_VALUE.match(lower, start)
    offset = max(0, start - _BEFORE_WINDOW)
    m = _BEFORE.search(text, offset, start) if word else None
    if word is None or m is None:
        return None
    value = m["value"].rstrip(_TRAILING)
    span = m.start("value"), m.start("value") + len(value)
    if word["pin"]:
        return span if _PIN_DIGITS.fullmatch(value) else None
    return span if _LOOKS_SECRET.search(value) else None
