"""Read transaction files and summarise each customer's history as RFM figures for the models.

A transaction is one customer buying on one day: several purchases on the same day count as one
transaction and their amounts are summed, as in Fader, Hardie & Lee (2005). For a calibration end
date the summary gives, per customer who first bought on or before it:

- ``frequency`` (x): repeat transactions, that is transaction days after the first one;
- ``recency`` (t_x): time from the first to the last transaction;
- ``T``: time from the first transaction to the calibration end;
- ``monetary_value``: the mean amount of the repeat transactions (the first purchase excluded,
  null for customers without a repeat transaction), for the Gamma-Gamma spend model;
- ``holdout_frequency``: transactions after the calibration end, to check predictions.

Times are day differences divided by the length of the period (7 for weeks), not whole weeks: a
customer who first bought on 1997-01-01 has T = 272 / 7 = 38.86 weeks at 1997-09-30. Everything
is computed with polars expressions, never a Python loop over customers.

Example
-------
>>> from datetime import date
>>> import polars as pl
>>> days = pl.DataFrame({"customer_id": ["a", "a", "b"],
...                      "date": [date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 3)],
...                      "amount": [10.0, 20.0, 5.0]})
>>> summary = summarise_rfm(days, calibration_end=date(2024, 1, 15))
>>> summary.table.select("customer_id", "frequency", "recency", "T").rows()
[('a', 1, 1.0, 2.0), ('b', 0, 0.0, 1.7142857142857142)]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import polars as pl

from cornerstore.errors import InvalidInput
from cornerstore.plural import counted

Period = Literal["week", "day"]
FileFormat = Literal["cdnow", "csv", "parquet"]

DAYS_PER_PERIOD: dict[str, float] = {"week": 7.0, "day": 1.0}
# The CDNOW text files distributed with the papers: customer id, id within the sample, YYYYMMDD,
# number of CDs, dollar value; whitespace-separated, no header.
CDNOW_COLUMNS = ("customer_id", "sample_id", "date", "cds", "amount")


@dataclass(frozen=True)
class RfmSummary:
    """Per-customer RFM figures at a calibration end date.

    ``table`` has the columns ``customer_id`` (string), ``frequency`` (int), ``recency``,
    ``T``, ``monetary_value`` (float, null without repeat transactions or amounts) and
    ``holdout_frequency`` (int), one row per customer, in customer order.
    """

    table: pl.DataFrame
    calibration_end: date
    period: Period
    holdout_length: float
    """Length of the holdout (calibration end to the last date in the data) in periods."""

    @property
    def customers(self) -> int:
        return self.table.height


def detect_format(path: Path) -> FileFormat:
    """Guess the file format from the extension: ``.txt``/``.dat`` are CDNOW text, ``.parquet``
    is Parquet, anything else CSV."""
    suffix = path.suffix.lower()
    if suffix in (".txt", ".dat"):
        return "cdnow"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    return "csv"


def read_transactions(
    path: Path | str,
    *,
    customer_col: str | None = None,
    date_col: str | None = None,
    amount_col: str | None = None,
    file_format: FileFormat | None = None,
) -> pl.DataFrame:
    r"""Read a transaction file into ``customer_id`` (string), ``date`` (date), ``amount``.

    CSV and Parquet need the caller to name the customer and date columns (and the amount
    column, when spend is wanted); the CDNOW text format has fixed columns, so the names can be
    left out. Dates may be dates, timestamps, ISO strings (``2024-03-12``, with or without a
    time) or ``YYYYMMDD`` strings or integers. Rows without a customer are dropped; an
    unreadable date or amount is an error that names the column, never the value.

    Example
    -------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "orders.csv"
    ...     _ = path.write_text("who,when,total\nc1,2024-03-12,9.5\nc2,20240313,20\n,20240314,5")
    ...     read_transactions(path, customer_col="who", date_col="when", amount_col="total").rows()
    [('c1', datetime.date(2024, 3, 12), 9.5), ('c2', datetime.date(2024, 3, 13), 20.0)]
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"transactions file not found: {path}")
    fmt = file_format or detect_format(path)
    if fmt == "cdnow":
        frame = _read_cdnow(path)
        customer_col = customer_col or "customer_id"
        date_col = date_col or "date"
        amount_col = amount_col or "amount"
    else:
        if not customer_col or not date_col:
            raise InvalidInput("--customer-col and --date-col are needed for CSV and Parquet files")
        try:
            frame = (
                pl.read_parquet(path)
                if fmt == "parquet"
                # Ids stay text: "00042" is not the number 42.
                else pl.read_csv(
                    path, infer_schema_length=10_000, schema_overrides={customer_col: pl.String}
                )
            )
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise InvalidInput(
                f"{path.name} could not be read as {fmt}: {type(exc).__name__}"
            ) from None
    return _normalise_columns(frame, customer_col, date_col, amount_col)


def _read_cdnow(path: Path) -> pl.DataFrame:
    lines = pl.read_csv(
        path, has_header=False, new_columns=["line"], separator="\x1f", quote_char=None
    )
    parts = (
        lines.select(
            pl.col("line")
            .str.strip_chars()
            .str.replace_all(r"\s+", " ")
            .str.split_exact(" ", len(CDNOW_COLUMNS) - 1)
            .struct.rename_fields(list(CDNOW_COLUMNS))
        )
        .unnest("line")
        .filter(pl.col("customer_id").str.len_chars() > 0)
    )
    if parts.height and parts["amount"].null_count():
        raise InvalidInput(
            f"{path.name} is not in the CDNOW format (5 whitespace-separated fields)"
        )
    return parts.select("customer_id", "date", "amount")


def _normalise_columns(
    frame: pl.DataFrame, customer_col: str, date_col: str, amount_col: str | None
) -> pl.DataFrame:
    wanted = [customer_col, date_col] + ([amount_col] if amount_col else [])
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InvalidInput(f"column not found: {', '.join(missing)}")
    columns = [
        pl.col(customer_col).cast(pl.String).str.strip_chars().alias("customer_id"),
        _parse_dates(frame.schema[date_col], date_col).alias("date"),
    ]
    if amount_col:
        columns.append(pl.col(amount_col).cast(pl.Float64, strict=False).alias("amount"))
    out = frame.select(columns).filter(
        pl.col("customer_id").is_not_null() & (pl.col("customer_id") != "")
    )
    if out["date"].null_count():
        raise InvalidInput(
            f"column {date_col}: {counted(out['date'].null_count(), 'row has', 'rows have')} "
            "no readable date "
            "(expected ISO dates like 2024-03-12 or YYYYMMDD)"
        )
    if amount_col and out["amount"].null_count():
        raise InvalidInput(
            f"column {amount_col}: "
            f"{counted(out['amount'].null_count(), 'row has', 'rows have')} no readable amount"
        )
    return out


def _parse_dates(dtype: pl.DataType, name: str) -> pl.Expr:
    column = pl.col(name)
    if dtype == pl.Date:
        return column
    if isinstance(dtype, pl.Datetime):
        return column.dt.date()
    text = column.cast(pl.String).str.strip_chars()
    compact = text.str.to_date("%Y%m%d", strict=False)
    iso = text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    return pl.when(text.str.contains(r"^\d{8}$")).then(compact).otherwise(iso)


def summarise_rfm(
    transactions: pl.DataFrame,
    *,
    calibration_end: date | None = None,
    period: Period = "week",
) -> RfmSummary:
    """Build the RFM summary of ``transactions`` at ``calibration_end`` (inclusive).

    ``transactions`` needs the columns ``customer_id``, ``date`` (date) and optionally
    ``amount``, as :func:`read_transactions` returns. Without a calibration end, the last date
    in the data is used and there is no holdout. Customers whose first purchase is after the
    calibration end are left out (the models describe customers acquired by then).

    Example
    -------
    >>> import polars as pl
    >>> days = pl.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...                      "date": [date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 3),
    ...                               date(2024, 2, 1)]})
    >>> summarise_rfm(days, calibration_end=date(2024, 1, 15)).customers
    2
    """
    if period not in DAYS_PER_PERIOD:
        raise InvalidInput(f"period must be one of {', '.join(DAYS_PER_PERIOD)}")
    if transactions.height == 0:
        raise InvalidInput("the transactions file has no rows")
    last_date: date = transactions["date"].max()  # type: ignore[assignment]
    end = calibration_end or last_date
    table = rfm_table(transactions, end, period)
    if table.height == 0:
        raise InvalidInput("no customer made a first purchase on or before the calibration end")
    holdout_days = max((last_date - end).days, 0)
    return RfmSummary(
        table=table,
        calibration_end=end,
        period=period,
        holdout_length=holdout_days / DAYS_PER_PERIOD[period],
    )


def rfm_table(transactions: pl.DataFrame, end: date, period: Period = "week") -> pl.DataFrame:
    """:attr:`RfmSummary.table` at the calibration end ``end``: one row per customer who first
    bought on or before it (none when nobody did), in customer order.

    A row depends on that customer's transactions alone, so the tables of separate groups of
    customers concatenate (and sort) into the table of all of them; ``transactions`` as for
    :func:`summarise_rfm`.
    """
    days_per_period = DAYS_PER_PERIOD[period]
    has_amount = "amount" in transactions.columns
    # One transaction per customer and day, as in the papers. Sorted so that sums and means add
    # in the same order on every run: in another order the last bit of a mean can differ.
    keys = ["customer_id", "date", *(["amount"] if has_amount else [])]
    daily = (
        transactions.sort(keys)
        .group_by("customer_id", "date", maintain_order=True)
        .agg((pl.col("amount").sum() if has_amount else pl.lit(None, pl.Float64)).alias("amount"))
    )
    first = daily.group_by("customer_id", maintain_order=True).agg(
        pl.col("date").min().alias("first")
    )
    daily = daily.join(first, on="customer_id", maintain_order="left").filter(
        pl.col("first") <= end
    )
    calibration = daily.filter(pl.col("date") <= end)
    is_repeat = pl.col("date") > pl.col("first")
    return (
        calibration.group_by("customer_id", maintain_order=True)
        .agg(
            (pl.len() - 1).cast(pl.Int64).alias("frequency"),
            (
                (pl.col("date").max() - pl.col("first").first()).dt.total_days() / days_per_period
            ).alias("recency"),
            ((pl.lit(end) - pl.col("first").first()).dt.total_days() / days_per_period).alias("T"),
            pl.col("amount").filter(is_repeat).mean().alias("monetary_value"),
        )
        .join(
            daily.filter(pl.col("date") > end)
            .group_by("customer_id")
            .agg(pl.len().cast(pl.Int64).alias("holdout_frequency")),
            on="customer_id",
            how="left",
        )
        .with_columns(pl.col("holdout_frequency").fill_null(0))
        .sort("customer_id")
    )
