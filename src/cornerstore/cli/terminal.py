"""Printing untrusted text on a staff terminal: shown as it is, never acted on.

Customer values reach the CLI's output from traits, identifiers, event names, audit reasons and
file headers. Two things could make such a value act instead of being shown: Rich markup (a
trait ``[link=https://evil.example]Click[/link]`` would become a hyperlink, and the firewall's
own ``[removed: payment card]`` marker would vanish as an unknown tag) and control characters
(``\\x1b[2J`` clears the screen, ``\\u202e`` reverses what follows).

So the CLI's consoles (:class:`TerminalConsole`) never read markup or emoji codes, and every
string they print, table cells and titles included, passes through :func:`visible`, which
writes control characters as escapes. Styling is given as a ``style``, never inside the text.
JSON output escapes the same characters (:func:`terminal_json`), so it stays JSON that loads
back to the same values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.console import Console, HighlighterType, JustifyMethod, OverflowMethod
from rich.style import Style
from rich.text import Text

# C0 controls (ESC among them), DEL and C1 controls: Unicode category Cc, all of it.
_CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
# Line and paragraph separators, and the characters that change the direction of what follows
# or of their neighbours: bidirectional embeddings, overrides, isolates and marks.
_LAYOUT = "\u2028\u2029\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = [*_CONTROLS, *_LAYOUT]
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


_VISIBLE = str.maketrans({c: _escape(c) for c in _UNSAFE})
_VISIBLE_KEEPING_LINES = str.maketrans({c: _escape(c) for c in _UNSAFE if c != "\n"})
_JSON_ESCAPED = str.maketrans({c: f"\\u{ord(c):04x}" for c in _UNSAFE})


def visible(text: str) -> str:
    """Return ``text`` with every character that acts on a terminal written as an escape.

    C0 and C1 controls, DEL, line and paragraph separators and bidirectional controls become
    ``\\x1b``, ``\\n`` or ``\\u202e``; everything else, accents and emoji included, is kept.

    Examples
    --------
    >>> visible("Zoë\\x1b[2J\\u202etxt.exe\\n")
    'Zoë\\\\x1b[2J\\\\u202etxt.exe\\\\n'
    """
    return text.translate(_VISIBLE)


def visible_lines(text: str) -> str:
    """Like :func:`visible`, but line breaks stay: for documents (CSV, HTML) printed whole.

    Examples
    --------
    >>> print(visible_lines("name\\nZo\\x1b[2J\\n"), end="")
    name
    Zo\\x1b[2J
    """
    return text.translate(_VISIBLE_KEEPING_LINES)


def terminal_json(
    value: Any, indent: int | None = None, default: Callable[[Any], Any] | None = None
) -> str:
    """JSON for ``value`` that loads back to the same value and cannot act on a terminal.

    ``json.dumps`` escapes C0 controls but passes DEL, C1 controls and bidirectional controls
    through; they only ever stand inside strings, where ``\\uXXXX`` means the same character.

    Examples
    --------
    >>> terminal_json({"name": "Zoë\\u202e", "note": "\\x1b[2J"})
    '{"name": "Zoë\\\\u202e", "note": "\\\\u001b[2J"}'
    """
    text = json.dumps(value, ensure_ascii=False, indent=indent, default=default)
    return text.translate(_JSON_ESCAPED)


class TerminalConsole(Console):
    """A Rich console that prints every string literally, with control characters made visible.

    Markup and emoji codes are never read, whatever a caller asks, so no value can become a
    link, a colour or a hidden tag; style comes from ``style`` arguments and :class:`Text`
    spans built by the command itself.

    Examples
    --------
    >>> console = TerminalConsole(width=80)
    >>> with console.capture() as captured:
    ...     console.print("[bold red]x[/] [link=https://evil.example]Click[/link]\\x1b[2J")
    >>> captured.get()
    '[bold red]x[/] [link=https://evil.example]Click[/link]\\\\x1b[2J\\n'
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(markup=False, emoji=False)
        super().__init__(**kwargs)

    def render_str(
        self,
        text: str,
        *,
        style: str | Style = "",
        justify: JustifyMethod | None = None,
        overflow: OverflowMethod | None = None,
        emoji: bool | None = None,
        markup: bool | None = None,
        highlight: bool | None = None,
        highlighter: HighlighterType | None = None,
    ) -> Text:
        """Every string Rich prints comes through here: tables, titles, lines and errors."""
        return super().render_str(
            visible(text),
            style=style,
            justify=justify,
            overflow=overflow,
            emoji=False,
            markup=False,
            highlight=highlight,
            highlighter=highlighter,
        )


def styled(text: str, style: str) -> Text:
    """``text`` in ``style`` (for example ``"bold"``), its control characters made visible.

    Examples
    --------
    >>> styled("cus_1\\x1b", "bold")
    <text 'cus_1\\\\x1b' [] 'bold'>
    """
    return Text(visible(text), style=style)
