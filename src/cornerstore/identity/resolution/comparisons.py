"""The comparisons the model makes, as plain data that turns into Splink SQL or Python.

Each comparison is a list of levels tried in order (the first that holds decides, as in Splink);
each level is one of a few kinds with a column, an optional second column and a threshold. The
same ``Level`` gives DuckDB SQL for Splink (``Level.sql``) and a Python test for the in-process
scorer (``Level.holds``, and ``Level.bound``, the same test with one record's values read once
for scoring it against many), so the two agree by construction: Python follows SQL's NULL rule (a
comparison with a missing value is never true) and rapidfuzz's Jaro-Winkler, the implementation
DuckDB itself uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler, Levenshtein

LevelKind = Literal[
    "null",
    "exact",
    "nickname",
    "initial",
    "jaro_winkler",
    "levenshtein",
    "damerau_levenshtein",
    "swap",
    "number_and_street",
    "differs",
    "contains",
    "all",
    "any",
    "else",
]


Dialect = Literal["duckdb", "spark"]

#: What each SQL dialect calls the functions the levels use. Spark has no Jaro-Winkler and the
#: one in Splink's jar rounds differently from DuckDB's, so on Spark cornerstore registers its
#: own (rapidfuzz, the algorithm DuckDB uses and the in-process scorer calls) under these names.
SQL_FUNCTIONS: dict[Dialect, dict[str, str]] = {
    "duckdb": {
        "quote": '"',
        "list_has_any": "list_has_any",
        "jaro_winkler": "jaro_winkler_similarity",
        "damerau_levenshtein": "damerau_levenshtein",
    },
    "spark": {
        "quote": "`",
        "list_has_any": "arrays_overlap",
        "jaro_winkler": "cornerstore_jaro_winkler",
        "damerau_levenshtein": "cornerstore_damerau_levenshtein",
    },
}


@dataclass(frozen=True)
class Level:
    """One comparison level.

    Kinds: ``null`` (either side missing), ``exact``, ``differs`` (both present, not equal),
    ``contains`` (on each side, ``column`` contains ``other``: the local part the surname),
    ``nickname`` (the nickname keys share a name), ``initial`` (one side is a single letter,
    the other's first: "a." and "andrew"), ``jaro_winkler`` (similarity >= threshold),
    ``levenshtein`` (edit distance <= threshold), ``swap`` (``column`` on one side equals
    ``other`` on the other, both ways: first and last name swapped), ``number_and_street``
    (same house number, street similarity >= threshold), ``all`` / ``any`` (every one / at
    least one of ``parts`` holds; ``column`` then only names the column of the term-frequency
    adjustment and of the values shown), ``else``.
    """

    kind: LevelKind
    label: str
    column: str | None = None
    other: str | None = None
    threshold: float | None = None
    tf: bool = False
    m: float | None = None
    u: float | None = None
    parts: tuple[Level, ...] | None = None

    def reads(self) -> set[str]:
        """The prepared columns the level's condition reads."""
        if self.kind in ("all", "any"):
            return {c for p in self.parts or () for c in p.reads()}
        return {c for c in (self.column, self.other) if c}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: v for k, v in asdict(self).items() if v is not None and k != "parts"
        }
        if self.parts:
            out["parts"] = [p.to_dict() for p in self.parts]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Level:
        parts = data.get("parts")
        fields = {k: v for k, v in data.items() if k != "parts"}
        return cls(**fields, parts=tuple(cls.from_dict(p) for p in parts) if parts else None)

    def sql(self, dialect: Dialect = "duckdb") -> str:
        """The level's condition in SQL, with Splink's ``_l`` / ``_r`` column suffixes: DuckDB's
        by default, or Spark's (back-quoted columns, ``arrays_overlap``, and cornerstore's own
        similarity functions, see ``SQL_FUNCTIONS``).

        >>> Level("nickname", "nickname", "first_name_keys").sql("spark")
        'arrays_overlap(`first_name_keys_l`, `first_name_keys_r`)'
        """
        fn = SQL_FUNCTIONS[dialect]
        q = fn["quote"]
        c, o, t = self.column, self.other, self.threshold
        cl, cr, ol, orr = f"{q}{c}_l{q}", f"{q}{c}_r{q}", f"{q}{o}_l{q}", f"{q}{o}_r{q}"
        if self.kind == "null":
            return f"{cl} IS NULL OR {cr} IS NULL"
        if self.kind == "exact":
            return f"{cl} = {cr}"
        if self.kind == "differs":
            return f"{cl} <> {cr}"
        if self.kind == "contains":
            return f"contains({cl}, {ol}) AND contains({cr}, {orr})"
        if self.kind == "nickname":
            return f"{fn['list_has_any']}({cl}, {cr})"
        if self.kind == "initial":
            initials = f"substring({cl}, 1, 1) = substring({cr}, 1, 1)"
            return f"(length({cl}) = 1 OR length({cr}) = 1) AND {initials}"
        if self.kind == "jaro_winkler":
            return f"{fn['jaro_winkler']}({cl}, {cr}) >= {t}"
        if self.kind == "levenshtein":
            return f"levenshtein({cl}, {cr}) <= {t}"
        if self.kind == "damerau_levenshtein":
            return f"{fn['damerau_levenshtein']}({cl}, {cr}) <= {t}"
        if self.kind == "swap":
            return f"{cl} = {orr} AND {ol} = {cr}"
        if self.kind == "number_and_street":
            return f"{ol} = {orr} AND {fn['jaro_winkler']}({cl}, {cr}) >= {t}"
        if self.kind in ("all", "any"):
            joiner = " AND " if self.kind == "all" else " OR "
            return joiner.join(f"({p.sql(dialect)})" for p in self.parts or ())
        return "ELSE"

    def holds(self, left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
        """Whether the level's condition is true for two prepared records."""
        c = self.column or ""
        a, b = left.get(c), right.get(c)
        if self.kind == "else":
            return True
        if self.kind == "null":
            return a is None or b is None
        if self.kind == "all":
            return all(p.holds(left, right) for p in self.parts or ())
        if self.kind == "any":
            return any(p.holds(left, right) for p in self.parts or ())
        if self.kind == "nickname":
            return bool(a and b and not set(a).isdisjoint(b))
        if self.kind == "swap":
            o = self.other or ""
            return _eq(a, right.get(o)) and _eq(left.get(o), b)
        if self.kind == "contains":
            o = self.other or ""
            return _within(left.get(o), a) and _within(right.get(o), b)
        if a is None or b is None:
            return False
        if self.kind == "exact":
            return bool(a == b)
        if self.kind == "differs":
            return bool(a != b)
        if self.kind == "initial":
            return (len(a) == 1 or len(b) == 1) and a[0] == b[0]
        if self.kind == "jaro_winkler":
            return JaroWinkler.similarity(a, b) >= (self.threshold or 0.0)
        if self.kind == "levenshtein":
            return Levenshtein.distance(a, b) <= (self.threshold or 0.0)
        if self.kind == "damerau_levenshtein":
            # DuckDB's is the restricted (OSA) distance, rapidfuzz's the true one: they agree at
            # the threshold of 1 used here (one edit or one adjacent transposition).
            return DamerauLevenshtein.distance(a, b) <= (self.threshold or 0.0)
        o = self.other or ""
        return _eq(left.get(o), right.get(o)) and JaroWinkler.similarity(a, b) >= (
            self.threshold or 0.0
        )

    def bound(
        self, left: Mapping[str, Any], columns: Mapping[str, Sequence[Any]]
    ) -> Callable[[int], bool] | None:
        """``holds(left, row i of columns)`` as a test of a position ``i``, with ``left``'s values
        read once; None for a level that always holds. For scoring one record against hundreds of
        reference records kept as columns (the in-process scorer): each branch is ``holds``'s, with
        the left value on the left of each comparison as there, and a test keeps them equal.

        ``holds`` is not this applied to a one-row column set: making the closures for every
        single pair cost ``Scorer.explain`` 1.8 times and ``names_conflict`` (clustering's
        test of every pair) 1.5 times the CPU."""
        level = self
        kind = level.kind
        if kind == "else":
            return None
        c = level.column or ""
        o = level.other or ""
        a = left.get(c)
        col: Any = columns[c] if c in columns else _Missing()
        other: Any = columns[o] if o in columns else _Missing()
        threshold = level.threshold or 0.0
        if kind == "null":
            if a is None:
                return lambda i: True
            return lambda i: col[i] is None
        if kind in ("all", "any"):
            parts = [p.bound(left, columns) for p in level.parts or ()]
            tests = [t for t in parts if t is not None]
            if kind == "all":
                return lambda i: all(t(i) for t in tests)
            if len(tests) < len(parts):
                return None
            return lambda i: any(t(i) for t in tests)
        if kind == "nickname":
            if not a:
                return lambda i: False
            keys = set(a)
            return lambda i: bool(col[i] and not keys.isdisjoint(col[i]))
        if kind == "swap":
            left_other = left.get(o)
            if a is None or left_other is None:
                return lambda i: False
            return lambda i: bool(
                other[i] is not None
                and a == other[i]
                and col[i] is not None
                and left_other == col[i]
            )
        if kind == "contains":
            part = left.get(o)
            if part is None or a is None or part not in a:
                return lambda i: False
            return lambda i: other[i] is not None and col[i] is not None and other[i] in col[i]
        if a is None:
            return lambda i: False
        if kind == "exact":
            return lambda i: col[i] is not None and bool(a == col[i])
        if kind == "differs":
            return lambda i: col[i] is not None and bool(a != col[i])
        if kind == "initial":
            return lambda i: (
                col[i] is not None and (len(a) == 1 or len(col[i]) == 1) and a[0] == col[i][0]
            )
        if kind == "jaro_winkler":
            return lambda i: col[i] is not None and JaroWinkler.similarity(a, col[i]) >= threshold
        if kind == "levenshtein":
            return lambda i: col[i] is not None and Levenshtein.distance(a, col[i]) <= threshold
        if kind == "damerau_levenshtein":
            return lambda i: (
                col[i] is not None and DamerauLevenshtein.distance(a, col[i]) <= threshold
            )
        left_other = left.get(o)
        if left_other is None:
            return lambda i: False
        return lambda i: (
            other[i] is not None
            and left_other == other[i]
            and col[i] is not None
            and JaroWinkler.similarity(a, col[i]) >= threshold
        )


class _Missing:
    """A column the reference records do not keep: every position reads None (as a row's
    ``get`` of it does)."""

    def __getitem__(self, i: int) -> None:
        return None


def _eq(a: object, b: object) -> bool:
    return a is not None and b is not None and a == b


def _within(part: Any, whole: Any) -> bool:
    return part is not None and whole is not None and part in whole


@dataclass(frozen=True)
class Comparison:
    """One field's comparison: its levels, null level first and ``else`` last."""

    name: str
    levels: tuple[Level, ...]
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def level_of(self, left: Mapping[str, Any], right: Mapping[str, Any]) -> int:
        """Index of the first level that holds (0 is the null level)."""
        for i, level in enumerate(self.levels):
            if level.holds(left, right):
                return i
        return len(self.levels) - 1

    def gamma(self, index: int) -> int:
        """Splink's comparison vector value of a level index: -1 null, then n-1 ... 0 (else)."""
        return -1 if index == 0 else len(self.levels) - 1 - index

    def splink_dict(self) -> dict[str, Any]:
        """The comparison as a Splink settings dict, with m and u where they are known."""
        levels = []
        for i, level in enumerate(self.levels):
            spec: dict[str, Any] = {"sql_condition": level.sql(), "label_for_charts": level.label}
            if i == 0:
                spec["is_null_level"] = True
            else:
                if level.m is not None:
                    spec["m_probability"] = level.m
                if level.u is not None:
                    spec["u_probability"] = level.u
            if level.tf:
                spec["tf_adjustment_column"] = level.column
                spec["tf_adjustment_weight"] = 1.0
            levels.append(spec)
        return {
            "output_column_name": self.name,
            "comparison_description": self.description or self.name,
            "comparison_levels": levels,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "levels": [lv.to_dict() for lv in self.levels],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        return cls(
            name=data["name"],
            description=data.get("description", ""),
            levels=tuple(Level.from_dict(lv) for lv in data["levels"]),
        )


def _null(column: str) -> Level:
    return Level("null", f"{column} missing", column)


def _else() -> Level:
    return Level("else", "all other")


def first_name_comparison() -> Comparison:
    return Comparison(
        "first_name",
        (
            _null("first_name"),
            Level("exact", "exact", "first_name", tf=True),
            Level("nickname", "nickname or diminutive", "first_name_keys"),
            Level("initial", "an initial of the other", "first_name"),
            Level("damerau_levenshtein", "one typo", "first_name", threshold=1),
            Level("jaro_winkler", "Jaro-Winkler >= 0.92", "first_name", threshold=0.92),
            Level("swap", "swapped with last name", "first_name", "last_name"),
            Level("jaro_winkler", "Jaro-Winkler >= 0.8", "first_name", threshold=0.8),
            _else(),
        ),
        "first name, nickname-aware",
    )


def last_name_comparison() -> Comparison:
    # A swap counts in both name comparisons, each at most as much as its exact level (see
    # splink_engine._with_parameters): first and last name swapped agree on both names.
    return Comparison(
        "last_name",
        (
            _null("last_name"),
            Level("exact", "exact", "last_name", tf=True),
            Level("damerau_levenshtein", "one typo", "last_name", threshold=1),
            Level("jaro_winkler", "Jaro-Winkler >= 0.92", "last_name", threshold=0.92),
            Level("swap", "swapped with first name", "last_name", "first_name"),
            Level("jaro_winkler", "Jaro-Winkler >= 0.8", "last_name", threshold=0.8),
            _else(),
        ),
        "last name",
    )


def email_comparison() -> Comparison:
    # A local part is mostly made of its owner's name: two John Smiths are john.smith and
    # johnsmith at different providers. When the local parts look alike and the surnames agree
    # (or each local part contains its record's surname: a swapped name), they say nothing the
    # names have not said, so the pair counts as not compared on e-mail (weight 0) instead of
    # counting the names a second time.
    explained_by_name = Level(
        "all",
        "another e-mail, local parts made of the surnames",
        "email",
        parts=(
            Level("differs", "another e-mail", "email"),
            Level("jaro_winkler", "similar local part", "email_local", threshold=0.88),
            Level(
                "any",
                "same surname, or surnames in the local parts",
                "last_name",
                parts=(
                    Level("exact", "same surname", "last_name"),
                    Level("contains", "surnames in the local parts", "email_local", "last_name"),
                ),
            ),
        ),
    )
    return Comparison(
        "email",
        (
            Level(
                "any",
                "e-mail missing, or local part explained by the surname",
                "email",
                parts=(_null("email"), explained_by_name),
            ),
            Level("exact", "exact", "email"),
            # Term frequencies: "james_lee" at two providers is often two people.
            Level("exact", "same local part", "email_local", tf=True),
            Level("jaro_winkler", "local part Jaro-Winkler >= 0.88", "email_local", threshold=0.88),
            _else(),
        ),
        "e-mail (canonical form)",
    )


def phone_comparison() -> Comparison:
    return Comparison(
        "phone",
        (
            _null("phone"),
            Level("exact", "exact (E.164)", "phone"),
            Level("levenshtein", "one digit differs", "phone", threshold=1),
            _else(),
        ),
        "phone (E.164)",
    )


def address_comparison() -> Comparison:
    # No term frequencies: an address line is repeated mostly by its own people's records (a
    # customer's two orders), so its frequency says little about how common it is.
    return Comparison(
        "address",
        (
            _null("address"),
            Level("exact", "exact", "address"),
            Level(
                "number_and_street",
                "same number, street Jaro-Winkler >= 0.88",
                "street",
                "house_number",
                0.88,
            ),
            Level("jaro_winkler", "Jaro-Winkler >= 0.88", "address", threshold=0.88),
            _else(),
        ),
        "address line (number, street; unit ignored)",
    )


def postcode_comparison() -> Comparison:
    return Comparison(
        "postcode",
        (
            _null("postcode"),
            Level("exact", "exact", "postcode", tf=True),
            # Damerau: a transposition (YO13 / YO31) is the commonest postcode typo.
            Level("damerau_levenshtein", "one typo", "postcode", threshold=1),
            _else(),
        ),
        "postcode",
    )


def city_comparison() -> Comparison:
    return Comparison(
        "city",
        (
            _null("city"),
            Level("exact", "exact", "city", tf=True),
            Level("jaro_winkler", "Jaro-Winkler >= 0.9", "city", threshold=0.9),
            _else(),
        ),
        "city",
    )


_BUILDERS = {
    "first_name": first_name_comparison,
    "last_name": last_name_comparison,
    "email": email_comparison,
    "phone": phone_comparison,
    "address": address_comparison,
    "postcode": postcode_comparison,
    "city": city_comparison,
}


def comparisons_for(columns: set[str]) -> list[Comparison]:
    """The comparisons for the prepared columns that carry data, in a fixed order.

    State and country are not compared: postcode and city carry the same evidence more finely,
    and country already shaped the phone and postcode normalisation.

    >>> [c.name for c in comparisons_for({"email", "last_name", "first_name"})]
    ['first_name', 'last_name', 'email']
    """
    return [build() for name, build in _BUILDERS.items() if name in columns]


#: Candidate pairs are generated by these rules (any one is enough); each is a set of prepared
#: columns that must be equal, or ``swap`` for first and last name swapped.
BLOCKING_RULES: tuple[tuple[str, ...], ...] = (
    ("email",),
    ("phone",),
    ("first_name", "last_name"),
    ("last_name", "postcode"),
    ("first_name", "postcode"),
    ("address", "postcode"),
    ("address", "city"),
    ("house_number", "postcode"),
    ("email_local", "last_name"),
    ("swap",),
    # A record whose name and postcode both carry a typo still shares these with its person's
    # other records (FEBRL's corrupted duplicates: pair recall +1.5 points, same precision).
    ("first_name", "house_number", "city"),
    ("last_name", "house_number", "city"),
    ("street", "postcode"),
    # One address line and a name, without a postcode or town both records give alike: a
    # record typed at the till (no postcode, no town) or with a slip in the postcode. On the
    # messy set at 100k, 163 of the 369 true pairs no rule above reached and that would score
    # above the match probability, for 72,000 candidate pairs (0.7 a record).
    ("last_name", "address"),
    ("first_name", "address"),
)


#: Broader rules, as Splink's own demos block (surname alone, first name and town, name and
#: postcode area): they reach the pairs a typo plus a missing field keeps from every rule above
#: (on Splink's fake_1000 and historical_50k only 43-50% of the true pairs share a key of those).
#: Each is used only when the records afford it (``splink_engine.wide_blocking_for``): on a big
#: shop's common surnames they would make more candidates than can be scored.
WIDE_BLOCKING_RULES: tuple[tuple[str, ...], ...] = (
    ("first_name", "city"),
    ("last_name", "city"),
    ("first_name", "postcode_area"),
    ("last_name", "postcode_area"),
    ("email_local",),
    # A person's records that share a postcode and nothing else exact: a name typed two ways
    # (Gerald Burn, Gerard Burn) without a town to pair it with.
    ("postcode",),
    ("last_name",),
)


def blocking_rules_for(columns: set[str]) -> list[tuple[str, ...]]:
    """The blocking rules whose columns all carry data (``swap`` needs both names)."""
    usable = columns | ({"email_local"} if "email" in columns else set())
    out = []
    for rule in BLOCKING_RULES:
        needs = {"first_name", "last_name"} if rule == ("swap",) else set(rule)
        if needs <= usable:
            out.append(rule)
    return out


def blocking_rule_sql(rule: tuple[str, ...]) -> str:
    """A blocking rule as Splink SQL over ``l`` and ``r``."""
    if rule == ("swap",):
        return "l.first_name = r.last_name AND l.last_name = r.first_name"
    return " AND ".join(f"l.{c} = r.{c}" for c in rule)
