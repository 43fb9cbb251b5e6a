"""Passwords, PINs and security answers stated in free text are removed; mentions are not."""

from __future__ import annotations

import pytest

from cornerstore.privacy.detect import FieldFinding, find, redact, scan_mapping


def secrets_in(text: str) -> list[str]:
    return [text[f.start : f.end] for f in find(text) if f.kind == "secret"]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("the password for my account is tr0ub4dor&3", "tr0ub4dor&3"),
        ("pwd=Winter#77", "Winter#77"),
        ("my PIN: 4921", "4921"),
        ("my password is Hunter2!", "Hunter2!"),
        ("Password: sunshine", "sunshine"),
        ("password: geheim, danke", "geheim"),
        ('my password is "correct horse battery"', "correct horse battery"),
        ("hunter2 is my password", "hunter2"),
        ("I changed my password to Summer2024", "Summer2024"),
        ("login anna / pw: s3cret", "s3cret"),
        ("Password (case sensitive): Hunter2", "Hunter2"),
        ("https://shop.example/login?user=anna&pwd=Qx7!pz", "Qx7!pz"),
        ("Passwort: Sommer2024!", "Sommer2024!"),
        ("mein Passwort lautet Sommer2024", "Sommer2024"),
        ("mot de passe : Soleil2020", "Soleil2020"),
        ("contrase\u00f1a es Gato#44", "Gato#44"),
        ("wachtwoord Geheim123", "Geheim123"),
        ("mijn wachtwoord is Blauw88", "Blauw88"),
        ("has\u0142o: Kot2024!", "Kot2024!"),
        ("moje has\u0142o to Zima#2023.", "Zima#2023"),
        ("minha senha \u00e9 Estrela9", "Estrela9"),
        ("la mia password \u00e8 Ciao!123", "Ciao!123"),
    ],
)
def test_a_password_stated_in_free_text_is_found(text: str, secret: str) -> None:
    assert secrets_in(text) == [secret]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("my PIN is 4921", "4921"),
        ("PIN 4921", "4921"),
        ("4921 is my PIN", "4921"),
        ("pin code 004921", "004921"),
        ("PIN-Nummer: 4921", "4921"),
        ("code PIN : 4921", "4921"),
        ("mi PIN es 4921", "4921"),
        ("cvv 123", "123"),
        ("security code 7788", "7788"),
    ],
)
def test_a_pin_or_card_code_stated_in_free_text_is_found(text: str, secret: str) -> None:
    assert secrets_in(text) == [secret]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("security answer: fluffy", "fluffy"),
        ("the answer to my security question is Rex", "Rex"),
        ("my mother's maiden name is Van Der Berg and my card is blocked", "Van Der Berg"),
        ("memorable word: lighthouse", "lighthouse"),
        ("M\u00e4dchenname der Mutter: M\u00fcller", "M\u00fcller"),
        ("nom de jeune fille de ma m\u00e8re : Dubois", "Dubois"),
        ("apellido de soltera de mi madre es Garc\u00eda", "Garc\u00eda"),
    ],
)
def test_a_security_answer_stated_in_free_text_is_found(text: str, secret: str) -> None:
    assert secrets_in(text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        "password reset requested",
        "forgot my password",
        "PIN pad broken",
        "pin the poster to the wall",
        "my password is not working",
        "Password: reset requested",
        "Password: must contain a digit",
        "The password is case-sensitive?",
        "passwords don't match",
        "Passwort vergessen",
        "mot de passe oubli\u00e9",
        "the PIN was blocked after 3 tries",
        "my security answer is wrong",
        "Password: ********",
        "Password:\nEmail: anna@example.com",
        "shipping 1234 items, compass 360",
        "we never ask for your PIN or password",
        "iPhone is my password manager",
        "This is my password",
    ],
)
def test_a_secret_word_without_a_stated_value_is_left_alone(text: str) -> None:
    assert find(text) == []


def test_a_plain_word_after_password_is_needs_quotes_to_count() -> None:
    assert secrets_in("my password is sunshine") == []
    assert secrets_in("my password is 'sunshine'") == ["sunshine"]


def test_redaction_keeps_the_sentence_and_removes_only_the_value() -> None:
    text = "Hi, the password for my account is tr0ub4dor&3 and my PIN: 4921. Thanks"

    assert redact(text, find(text)) == (
        "Hi, the password for my account is [removed: secret] and my PIN: [removed: secret]. Thanks"
    )


def test_redacting_a_redacted_secret_changes_nothing() -> None:
    once = redact("pwd=Winter#77", find("pwd=Winter#77"))

    assert (once, find(once)) == ("pwd=[removed: secret]", [])


def test_a_message_note_stating_a_password_is_redacted_and_reported() -> None:
    message = {"traits": {"note": "my password is Hunter2!, call me", "city": "Leeds"}}

    cleaned, findings = scan_mapping(message)

    assert cleaned == {
        "traits": {"note": "my password is [removed: secret], call me", "city": "Leeds"}
    }
    assert findings == [FieldFinding("secret", "traits.note", "redacted")]
