"""A first guess at a case's category from its words, for mail and forms that name none.

Staff correct it in the queue; the guess only saves them a click on the common cases.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Words that point to a category, checked in this order (the first category with a hit wins).
KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("damaged item", ("damaged", "broken", "cracked", "smashed", "faulty", "defective")),
    ("wrong item", ("wrong item", "wrong size", "wrong colour", "wrong color", "not what i")),
    ("refund", ("refund", "money back", "return", "reimburse")),
    ("delivery", ("delivery", "deliver", "parcel", "package", "courier", "tracking", "arrive")),
    ("billing", ("invoice", "charged", "charge", "bill", "payment", "overcharged")),
    ("account", ("password", "log in", "login", "account", "sign in")),
    ("complaint", ("complaint", "complain", "unacceptable", "disappointed", "rude")),
    ("product question", ("question", "does it", "is it", "how do", "size guide", "stock")),
)


def guess_category(text: str, categories: Sequence[str], default: str = "other") -> str:
    """The first category in :data:`KEYWORDS` whose words appear in ``text`` and which the
    installation uses; ``default`` when none does.

    Examples
    --------
    >>> guess_category("My parcel arrived broken", ["delivery", "damaged item", "other"])
    'damaged item'
    >>> guess_category("Hello", ["delivery", "other"])
    'other'
    """
    words = " ".join(re.findall(r"[a-z']+", text.lower()))
    allowed = set(categories)
    for category, keywords in KEYWORDS:
        if category in allowed and any(re.search(rf"\b{k}", words) for k in keywords):
            return category
    return default
