"""What the shop sells and when: the catalogue, its seasons, and the baskets people fill.

Prices are in GBP. A basket is drawn until the person's own gamma-distributed spend is reached,
with categories weighted by the person's taste and the month (garden in spring, gifts before
Christmas).
"""

from __future__ import annotations

import bisect
import itertools
import random
from typing import Any

from cornerstore.demo.cast import CATEGORIES, Person

# Orders by month of year: busy before Christmas, quiet after it.
SEASON = (0.0, 0.8, 0.8, 0.9, 0.95, 1.0, 1.0, 0.95, 0.95, 1.0, 1.05, 1.35, 1.7)
# Category weight by month of year (garden in spring and summer, gifts before Christmas).
CATEGORY_SEASON = {
    "garden": (0, 0.3, 0.4, 1.2, 2.5, 2.5, 2.2, 1.8, 1.4, 0.8, 0.5, 0.3, 0.3),
    "gifts": (0, 0.6, 1.2, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 1.0, 2.5, 4.0),
}
CATALOGUE: dict[str, tuple[tuple[str, float], ...]] = {
    "groceries": (
        ("Free-range eggs x12", 3.10),
        ("Sourdough loaf", 3.40),
        ("Semi-skimmed milk 2 pints", 1.45),
        ("Mature cheddar 400g", 4.25),
        ("Yorkshire tea 240 bags", 7.50),
        ("Ground coffee 227g", 4.60),
        ("Bananas x5", 1.15),
        ("Olive oil 1L", 8.90),
        ("Chopped tomatoes x4", 2.60),
        ("Wildflower honey 340g", 4.95),
        ("Smoked salmon 200g", 6.50),
    ),
    "household": (
        ("Laundry liquid 1.5L", 7.00),
        ("Toilet roll x9", 5.50),
        ("Bin bags x20", 2.75),
        ("Kitchen roll x4", 4.20),
        ("Dishwasher tablets x40", 8.50),
        ("LED bulbs x3", 6.00),
        ("Washing-up liquid", 1.60),
    ),
    "baby": (
        ("Nappies size 3 x56", 11.50),
        ("Baby wipes x4", 4.80),
        ("Baby food pouches x6", 5.40),
        ("Sleepsuits 2-pack", 12.00),
        ("Baby bath wash", 3.75),
    ),
    "garden": (
        ("Peat-free compost 50L", 6.99),
        ("Tomato plants x3", 7.50),
        ("Wild bird seed 2kg", 8.25),
        ("Garden hose 15m", 24.99),
        ("Seed potatoes 2kg", 4.99),
        ("Secateurs", 14.99),
        ("Lawn seed 1kg", 12.99),
    ),
    "electronics": (
        ("USB-C charger", 19.99),
        ("AA batteries x12", 8.99),
        ("Bluetooth speaker", 39.99),
        ("Over-ear headphones", 29.99),
        ("Smart plug", 14.99),
        ("Kettle 1.7L", 34.99),
        ("Two-slice toaster", 27.99),
    ),
    "gifts": (
        ("Scented candle set", 18.00),
        ("Luxury chocolate box", 12.50),
        ("Mug and tea gift set", 15.00),
        ("Christmas crackers x6", 9.99),
        ("Photo frame", 11.00),
        ("Jigsaw 1000 pieces", 14.00),
        ("Yorkshire hamper", 45.00),
    ),
}
SKUS = {
    cat: tuple(
        (f"{cat[:3].upper()}-{i + 1:03d}", name, price) for i, (name, price) in enumerate(items)
    )
    for cat, items in CATALOGUE.items()
}


def draw_basket(
    p: Person, rng: random.Random, t: int, month: int, factor: float
) -> list[dict[str, Any]]:
    """Products until the person's gamma-distributed spend for this order is reached."""
    target = rng.gammavariate(p.spend_shape, p.spend_scale) * factor
    weights = list(p.category_weights)
    for i, category in enumerate(CATEGORIES):
        if category in CATEGORY_SEASON:
            weights[i] *= CATEGORY_SEASON[category][month]
    if p.baby_from is None or t < p.baby_from:
        weights[2] = 0.0
    cumulative = list(itertools.accumulate(weights))
    items: dict[str, dict[str, Any]] = {}
    total = 0.0
    while total < target and len(items) < 12:
        pick = bisect.bisect(cumulative, rng.random() * cumulative[-1])
        category = CATEGORIES[min(pick, len(CATEGORIES) - 1)]
        sku, name, price = rng.choice(SKUS[category])
        quantity = 1 + (rng.random() < 0.2) + (category == "groceries" and rng.random() < 0.2)
        if sku in items:
            items[sku]["quantity"] += quantity
        else:
            items[sku] = {
                "product_id": sku,
                "sku": sku,
                "name": name,
                "category": category,
                "price": price,
                "quantity": quantity,
            }
        total += price * quantity
    return list(items.values())
