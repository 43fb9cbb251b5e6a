"""Reading transaction files and summarising them as RFM figures, in the papers' conventions."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from cornerstore.errors import InvalidInput
from cornerstore.learn.transactions import Period, RfmSummary, read_transactions, summarise_rfm
from tests.learn.conftest import CDNOW

ROWS = [
    ("ann", "2024-01-01", 10.0),
    ("ann", "2024-01-01", 5.0),  # same day: one transaction of 15
    ("ann", "2024-01-15", 20.0),
    ("ann", "2024-01-29", 40.0),
    ("ann", "2024-02-12", 7.0),  # after the calibration end: holdout
    ("bob", "2024-01-08", 3.0),
    ("cat", "2024-02-05", 9.0),  # first purchase after the calibration end: left out
]


def write_csv(folder: Path, date_format: str = "iso") -> Path:
    path = folder / "sales.csv"
    lines = ["client,day,total"]
    for customer, day, amount in ROWS:
        shown = day.replace("-", "") if date_format == "compact" else day
        lines.append(f"{customer},{shown},{amount}")
    path.write_text("\n".join(lines) + "\n")
    return path


def summary_of(path: Path, period: Period = "week") -> RfmSummary:
    frame = read_transactions(path, customer_col="client", date_col="day", amount_col="total")
    return summarise_rfm(frame, calibration_end=date(2024, 1, 31), period=period)


def test_the_cdnow_sample_has_the_papers_customers_and_holdout(cdnow: RfmSummary) -> None:
    table = cdnow.table

    assert cdnow.customers == 2357
    assert cdnow.holdout_length == 39.0
    assert table["holdout_frequency"].sum() == 1882
    assert table["frequency"].sum() == 2457


def test_age_is_days_divided_by_seven_not_whole_weeks(cdnow: RfmSummary) -> None:
    first_of_january = cdnow.table.filter(pl.col("customer_id") == "00004").row(0, named=True)

    assert first_of_january["T"] == pytest.approx(272 / 7)
    assert first_of_january["recency"] == pytest.approx(
        (date(1997, 8, 2) - date(1997, 1, 1)).days / 7
    )
    assert first_of_january["frequency"] == 2


def test_mean_value_excludes_the_first_purchase(cdnow: RfmSummary) -> None:
    customer = cdnow.table.filter(pl.col("customer_id") == "00004").row(0, named=True)

    # 1997-01-01 (29.33, first) is excluded; 1997-01-18 and 1997-08-02 are the repeats.
    assert customer["monetary_value"] == pytest.approx((29.73 + 14.96) / 2)


def test_same_day_purchases_are_one_transaction_and_amounts_add_up(tmp_path: Path) -> None:
    summary = summary_of(write_csv(tmp_path))

    assert summary.table.rows(named=True) == [
        {
            "customer_id": "ann",
            "frequency": 2,
            "recency": 4.0,
            "T": 30 / 7,
            "monetary_value": 30.0,
            "holdout_frequency": 1,
        },
        {
            "customer_id": "bob",
            "frequency": 0,
            "recency": 0.0,
            "T": 23 / 7,
            "monetary_value": None,
            "holdout_frequency": 0,
        },
    ]


def test_compact_dates_read_like_iso_dates(tmp_path: Path) -> None:
    iso = summary_of(write_csv(tmp_path)).table
    compact = summary_of(write_csv(tmp_path, date_format="compact")).table

    assert compact.equals(iso)


def test_parquet_with_timestamps_reads_like_csv(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "client": [c for c, _, _ in ROWS],
            "day": [f"{d}T10:30:00" for _, d, _ in ROWS],
            "total": [a for _, _, a in ROWS],
        }
    ).with_columns(pl.col("day").str.to_datetime())
    frame.write_parquet(tmp_path / "sales.parquet")

    from_parquet = summary_of(tmp_path / "sales.parquet").table

    assert from_parquet.equals(summary_of(write_csv(tmp_path)).table)


def test_days_as_the_period_multiply_times_by_seven(tmp_path: Path) -> None:
    weeks = summary_of(write_csv(tmp_path)).table
    days = summary_of(write_csv(tmp_path), period="day").table

    assert days["T"].to_list() == pytest.approx([t * 7 for t in weeks["T"].to_list()])
    assert summary_of(write_csv(tmp_path), period="day").holdout_length == 12.0


def test_without_a_calibration_end_the_last_date_is_used_and_there_is_no_holdout() -> None:
    summary = summarise_rfm(read_transactions(CDNOW))

    assert summary.calibration_end == date(1998, 6, 30)
    assert summary.holdout_length == 0
    assert summary.table["holdout_frequency"].sum() == 0


def test_an_unreadable_date_names_the_column_not_the_value(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("client,day\nann,31/01/2024\nbob,2024-01-02\n")

    with pytest.raises(InvalidInput) as error:
        read_transactions(path, customer_col="client", date_col="day")

    assert error.value.message == (
        "column day: 1 row has no readable date (expected ISO dates like 2024-03-12 or YYYYMMDD)"
    )


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="column not found: when"):
        read_transactions(write_csv(tmp_path), customer_col="client", date_col="when")


def test_csv_needs_the_column_names(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="--customer-col and --date-col"):
        read_transactions(write_csv(tmp_path))


def test_a_text_file_that_is_not_cdnow_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some words\n")

    with pytest.raises(InvalidInput, match="not in the CDNOW format"):
        read_transactions(path)


def test_customer_ids_in_a_csv_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("client,day\n00042,2024-01-01\n42,2024-01-02\n")

    frame = read_transactions(path, customer_col="client", date_col="day")

    assert frame["customer_id"].to_list() == ["00042", "42"]
