"""Campaign templates: Jinja2's ``ImmutableSandboxedEnvironment`` over an allow-listed view, each
message rendered under a time and size budget.

The sandbox alone stops attribute escapes, but it caps neither CPU nor output (Jinja2's own
documentation; listmonk documents the same for Go templates), and its escapes have been found
in ``str.format`` (CVE-2024-56326) and the ``attr`` filter (CVE-2025-27516). So, beyond
``jinja2>=3.1.6``:

- the view is plain data (dicts, lists, strings, numbers) built by the campaign service, never
  a database row;
- attributes: only a few harmless string methods (``upper``, ``strip``, ...) and ``dict.get``,
  ``keys``, ``values``, ``items``; everything else (``__class__``, ``format``, ``mro``) is
  refused;
- globals: only ``range`` (Jinja's, at most 100,000 items); filters: an allow-list without
  ``attr``, ``format``, ``safe``, ``center``, ``indent`` or ``wordwrap``;
- ``%`` on strings is refused; ``*``, ``+``, ``~`` and ``**`` are checked before they run so a
  string, list or number cannot outgrow the budget;
- every loop step, call, filter and piece of output checks the message's deadline and size.

A message that breaks a rule or its budget raises :class:`TemplateFailure` for that customer
only; the campaign service records it and goes on.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateError, nodes, pass_eval_context
from jinja2 import filters as jinja_filters
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer
from markupsafe import Markup, escape

from cornerstore.errors import InvalidInput

MAX_TEMPLATE_CHARS = 50_000
# Loop steps in one message, whatever its time budget: a nested range loop stops here.
MAX_LOOP_STEPS = 200_000
_STR_METHODS = frozenset(
    {
        "upper",
        "lower",
        "title",
        "capitalize",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "isdigit",
        "isalpha",
    }
)
_DICT_METHODS = frozenset({"get", "keys", "values", "items"})
_FILTERS = (
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "max",
    "min",
    "reverse",
    "round",
    "sort",
    "string",
    "striptags",
    "sum",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "wordcount",
)


class TemplateFailure(Exception):
    """One message could not be rendered: ``reason`` says why in words (no customer value)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Budget:
    """What one message may take: seconds of rendering and characters of output per part."""

    seconds: float = 0.2
    max_chars: int = 256_000


class _Meter:
    """The running message's budget: a deadline, the characters produced, loop steps."""

    __slots__ = ("budget", "deadline", "steps")

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.deadline = time.perf_counter() + budget.seconds
        self.steps = 0

    def check_time(self) -> None:
        if time.perf_counter() > self.deadline:
            ms = round(self.budget.seconds * 1000)
            raise TemplateFailure(f"template: ran longer than {ms} ms")

    def check_size(self, chars: int) -> None:
        if chars > self.budget.max_chars:
            raise TemplateFailure(
                f"template: message longer than {self.budget.max_chars} characters"
            )

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_LOOP_STEPS:
            raise TemplateFailure(f"template: more than {MAX_LOOP_STEPS} loop steps")
        if self.steps % 256 == 0:
            self.check_time()


_METER: contextvars.ContextVar[_Meter | None] = contextvars.ContextVar("meter", default=None)


def _meter() -> _Meter:
    meter = _METER.get()
    if meter is None:  # only render() runs templates
        raise SecurityError("templates render only through render()")
    return meter


def _size_of(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | tuple) else None


def _budgeted(items: Any) -> Iterator[Any]:
    meter = _meter()
    for item in items:
        meter.step()
        yield item


@pass_eval_context
def _concat(eval_ctx: EvalContext, parts: Iterable[Any]) -> str:
    meter = _meter()
    if eval_ctx.autoescape:
        pieces: list[str] = [escape(p) for p in parts]
    else:
        pieces = [str(p) for p in parts]
    meter.check_size(sum(len(p) for p in pieces))
    joined = "".join(pieces)
    return Markup(joined) if eval_ctx.autoescape else joined


class _Budgeted(NodeTransformer):
    """Route every loop through :func:`_budgeted` and every ``~`` through :func:`_concat`."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        visited = self.generic_visit(node)
        assert isinstance(visited, nodes.For)
        visited.iter = nodes.Filter(
            visited.iter, "_budgeted", [], [], None, None, lineno=visited.lineno
        )
        return visited

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        visited = self.generic_visit(node)
        assert isinstance(visited, nodes.Concat)
        items = nodes.List(visited.nodes, lineno=visited.lineno)
        return nodes.Filter(items, "_concat", [], [], None, None, lineno=visited.lineno)


class CampaignEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox campaigns render in (see the module's notes)."""

    intercepted_binops = frozenset({"*", "+", "**", "%"})

    def __init__(self, autoescape: bool) -> None:
        super().__init__(autoescape=autoescape, undefined=StrictUndefined, auto_reload=False)
        self.globals = {"range": self.globals["range"]}
        self.filters = {name: jinja_filters.FILTERS[name] for name in _FILTERS}
        self.filters["_budgeted"] = _budgeted
        self.filters["_concat"] = _concat
        self.tests = dict(self.tests)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        transformed = _Budgeted().visit(tree)
        assert isinstance(transformed, nodes.Template)
        return transformed

    def wrap_str_format(self, value: Any) -> None:
        # No str.format or format_map at all (CVE-2024-56326 came through here): they are
        # refused as attributes like any other.
        return None

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str):
            return attr in _STR_METHODS
        if isinstance(obj, dict):
            return attr in _DICT_METHODS
        return False

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _meter().check_time()
        return super().call(__context, __obj, *args, **kwargs)

    def call_filter(self, name: str, value: Any, *rest: Any, **kwargs: Any) -> Any:
        _meter().check_time()
        return super().call_filter(name, value, *rest, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        meter = _meter()
        meter.check_time()
        if operator == "%" and isinstance(left, str):
            raise SecurityError("string formatting with % is not allowed in campaign templates")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                size = _size_of(seq)
                if size is not None and isinstance(times, int):
                    meter.check_size(size * max(times, 0))
            if isinstance(left, int) and isinstance(right, int):
                _check_bits(left.bit_length() + right.bit_length())
        if operator == "+":
            a, b = _size_of(left), _size_of(right)
            if a is not None and b is not None:
                meter.check_size(a + b)
        if operator == "**" and isinstance(left, int | float) and isinstance(right, int | float):
            bits = max(abs(int(left)), 2).bit_length() * abs(right)
            _check_bits(bits)
        return super().call_binop(context, operator, left, right)


def _check_bits(bits: float) -> None:
    if bits > 8192:
        raise SecurityError("number too large for a campaign template")


_TEXT = CampaignEnvironment(autoescape=False)
_HTML = CampaignEnvironment(autoescape=True)


@dataclass(frozen=True)
class MessageTemplate:
    """A campaign's compiled subject, text and (optional) HTML templates.

    Examples
    --------
    >>> t = MessageTemplate.compile("Hi {{ customer.first_name }}",
    ...                             "Hello {{ customer.first_name }}",
    ...                             "<p>Hello {{ customer.first_name }}</p>")
    >>> m = t.render({"customer": {"first_name": "<Ann>"}})
    >>> m.subject, m.text, m.html
    ('Hi <Ann>', 'Hello <Ann>', '<p>Hello &lt;Ann&gt;</p>')
    >>> t.render({"customer": {"first_name": "Bo"}}, Budget(max_chars=5))
    Traceback (most recent call last):
    ...
    cornerstore.campaigns.templates.TemplateFailure: template: message longer than 5 characters
    """

    subject: Any
    text: Any
    html: Any | None
    names: frozenset[str]
    """The top-level names the templates read (``customer``, ``suggestions``, ``coupon``...)."""

    @classmethod
    def compile(cls, subject: str, text: str, html: str | None = None) -> MessageTemplate:
        """Compile the three parts; InvalidInput names the part and line of a syntax error."""
        from jinja2 import meta

        parts = {"subject": subject, "body": text, "html": html}
        compiled: dict[str, Any] = {}
        names: set[str] = set()
        for field, source in parts.items():
            if source is None:
                compiled[field] = None
                continue
            if len(source) > MAX_TEMPLATE_CHARS:
                raise InvalidInput(f"{field}: longer than {MAX_TEMPLATE_CHARS} characters")
            env = _HTML if field == "html" else _TEXT
            try:
                names |= meta.find_undeclared_variables(env.parse(source))
                compiled[field] = env.from_string(source)
            except TemplateError as exc:
                line = getattr(exc, "lineno", None)
                where = f" on line {line}" if line else ""
                raise InvalidInput(f"{field}: template error{where}: {_said(exc)}") from None
        return cls(compiled["subject"], compiled["body"], compiled["html"], frozenset(names))

    def render(self, view: Mapping[str, Any], budget: Budget | None = None) -> RenderedMessage:
        """Render one message; TemplateFailure says why it could not be."""
        meter = _Meter(budget or Budget())
        token = _METER.set(meter)
        try:
            subject = _run(self.subject, view, meter)
            text = _run(self.text, view, meter)
            html = _run(self.html, view, meter) if self.html is not None else None
        finally:
            _METER.reset(token)
        # A header holds one line: a line break would start another header.
        subject = " ".join(subject.split())
        return RenderedMessage(subject, text, html)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str | None

    @property
    def size(self) -> int:
        return len(self.subject) + len(self.text) + len(self.html or "")


def _run(template: Any, view: Mapping[str, Any], meter: _Meter) -> str:
    out: list[str] = []
    produced = 0
    try:
        for piece in template.generate(view):
            produced += len(piece)
            meter.check_size(produced)
            out.append(piece)
            if len(out) % 32 == 0:  # the clock costs more than the piece
                meter.check_time()
    except TemplateFailure:
        raise
    except SecurityError as exc:
        raise TemplateFailure(f"template: not allowed: {_said(exc)}") from None
    except RecursionError:
        raise TemplateFailure("template: calls itself too deeply") from None
    except MemoryError:
        raise TemplateFailure("template: ran out of memory") from None
    except Exception as exc:  # a template error is one customer's failure, never the send's
        raise TemplateFailure(f"template: {type(exc).__name__}: {_said(exc)}") from None
    return "".join(out)


def _said(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
