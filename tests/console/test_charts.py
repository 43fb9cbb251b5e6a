"""Charts and words of the customer page, from known scores."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from cornerstore.console.charts import bar_chart, gauge
from cornerstore.console.customer_view import address_line, score_view
from cornerstore.console.sections import read_sections
from cornerstore.errors import Forbidden, NotFound

AT = datetime(2026, 11, 1, tzinfo=UTC)


def score(value: object) -> SimpleNamespace:
    return SimpleNamespace(value=value, computed_at=AT)


def test_bars_are_scaled_to_the_largest_value_and_empty_below_zero() -> None:
    chart = bar_chart("Orders", [("web", 30, "30"), ("store", 15, "15"), ("app", -2, "-2")])

    assert [(b.label, b.width, b.y) for b in chart.bars] == [
        ("web", 156.0, 0),
        ("store", 78.0, 22),
        ("app", 0.0, 44),
    ]
    assert chart.height == 60


def test_a_gauge_is_one_unlabelled_bar_clipped_to_its_length() -> None:
    assert [b.width for b in gauge("Loyalty", 0.25, "25").bars] == [57.0]
    assert [b.width for b in gauge("Loyalty", 1.7, "170").bars] == [228.0]


def test_scores_become_sentences_and_charts() -> None:
    found = SimpleNamespace(
        profiled=True,
        scores={
            "value": score(
                {
                    "expected_purchases": 3.25,
                    "expected_spend": 20,
                    "clv": 1234.5,
                    "probability_alive": 0.8,
                }
            ),
            "loyalty": score(
                {
                    "loyalty": 72.7,
                    "loyalty_tier": "loyal",
                    "orders": 40,
                    "spend": 799.18,
                    "recency_days": 3.1,
                }
            ),
            "churn_risk": score({"at_risk": True, "reasons": ["Buys half as often as before"]}),
            "delivery_window": score(
                [
                    {
                        "weekday": "tue",
                        "from_hour": 16,
                        "to_hour": 20,
                        "p_home": 0.5,
                        "confidence": "medium",
                    }
                ]
            ),
        },
    )

    view = score_view(found)

    assert view.value_words == (
        "About 3.2 more purchases expected, 20.00 on average each; worth about 1,234.50 over "
        "the coming period."
    )
    assert view.loyalty_words == "Loyal: 40 orders, 799.18 spent, last 3 days ago."
    assert (view.at_risk, view.risk_words) == (True, ["Buys half as often as before"])
    assert view.active is not None and view.active.bars[0].text == "80%"
    assert view.delivery_words == ["Tue: 16:00 to 20:00, 50% at home (medium)"]


def test_a_customer_who_withdrew_profiling_gets_no_scores_shown() -> None:
    view = score_view(SimpleNamespace(profiled=False, scores={}))

    assert (view.profiled, view.loyalty, view.value_words) == (False, None, None)


def test_an_address_reads_as_on_an_envelope() -> None:
    address = {"country": "GB", "postalCode": "LS1 6BA", "city": "Leeds", "street": "12 Kirkgate"}

    assert address_line(address) == "12 Kirkgate, Leeds, LS1 6BA, GB"


def test_sections_keep_their_values_and_tell_refused_from_failed() -> None:
    def refused() -> None:
        raise Forbidden("your role may not read scores")

    def missing() -> None:
        raise NotFound("customer: no such customer")

    def broken() -> None:
        raise RuntimeError("a value a customer sent")

    found = read_sections(
        {"ok": lambda: 42, "refused": refused, "missing": missing, "broken": broken}, 1.0
    )

    assert found["ok"].value == 42 and found["ok"].shown
    assert not found["refused"].shown
    assert isinstance(found["missing"].error, NotFound)
    assert found["broken"].unavailable and found["broken"].error is None
