"""``cornerstore clv``: fit customer-value models to a transaction file and predict per customer.

File mode for data teams: nothing is read from or written to the database. ``fit`` prints one
JSON object; ``predict`` writes one row per customer to CSV or Parquet and prints one JSON object
describing the fit and the file. Nothing else reaches stdout, however long the fit takes.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer

from cornerstore.cli.common import print_json, reading_file, writable_file, written_whole
from cornerstore.errors import InvalidInput

app = typer.Typer(help="Customer lifetime value from a transaction file", no_args_is_help=True)

TransactionsOption = typer.Option(
    ..., "--transactions", help="CSV, Parquet or CDNOW text (.txt) file of transactions"
)
CustomerOption = typer.Option(None, "--customer-col", help="Customer id column (CSV, Parquet)")
DateOption = typer.Option(
    None, "--date-col", help="Date column: dates, timestamps, ISO or YYYYMMDD (CSV, Parquet)"
)
AmountOption = typer.Option(
    None, "--amount-col", help="Amount column; with it the Gamma-Gamma spend model is fitted"
)
FormatOption = typer.Option(
    None, "--format", help="cdnow, csv or parquet (default: by extension; .txt is cdnow)"
)
CalibrationOption = typer.Option(
    None,
    "--calibration-end",
    help="Last day of the calibration period, ISO or YYYYMMDD (default: last date in the file)",
)
PeriodOption = typer.Option("week", "--period", help="Time unit of the models: week or day")
ModelOption = typer.Option(
    "bgnbd", "--model", help="bgnbd, paretonbd, mbgnbd, or auto (best holdout accuracy)"
)


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("--calibration-end must be a date like 1997-09-30 or 19970930") from None


def _choice(value: str, allowed: tuple[str, ...], option: str) -> Any:
    if value not in allowed:
        raise InvalidInput(f"{option} must be one of {', '.join(allowed)}")
    return value


def _fit(
    transactions: Path,
    customer_col: str | None,
    date_col: str | None,
    amount_col: str | None,
    file_format: str | None,
    calibration_end: str | None,
    period: str,
    model: str,
) -> tuple[Any, Any]:
    from cornerstore.learn.clv import MODEL_CHOICES, fit_transactions_file
    from cornerstore.learn.transactions import detect_format

    fmt = (
        None
        if file_format is None
        else _choice(file_format, ("cdnow", "csv", "parquet"), "--format")
    )
    end = _parse_date(calibration_end)
    unit = _choice(period, ("week", "day"), "--period")
    chosen = _choice(model, MODEL_CHOICES, "--model")
    with reading_file(transactions, "--transactions"):
        named = {"--customer-col": customer_col, "--date-col": date_col, "--amount-col": amount_col}
        _check_columns(transactions, fmt or detect_format(transactions), named)
        return fit_transactions_file(
            transactions,
            customer_col=customer_col,
            date_col=date_col,
            amount_col=amount_col,
            file_format=fmt,
            calibration_end=end,
            period=unit,
            model=chosen,
        )


def _check_columns(path: Path, fmt: str, named: dict[str, str | None]) -> None:
    """Refuse a column option that names no column of the file's header, naming the option
    and the columns the file has (header names, never values)."""
    import polars as pl

    wanted = {option: column for option, column in named.items() if column}
    if fmt == "cdnow" or not wanted:
        return
    try:
        columns = (
            list(pl.read_parquet_schema(path))
            if fmt == "parquet"
            else pl.read_csv(path, n_rows=0).columns
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InvalidInput(
            f"{path.name} could not be read as {fmt}: {type(exc).__name__}"
        ) from None
    for option, column in wanted.items():
        if column not in columns:
            shown = ", ".join(repr(c) for c in columns[:20]) + (
                ", ..." if len(columns) > 20 else ""
            )
            raise InvalidInput(
                f"{option}: no column {column!r} in {path.name} (its columns: {shown})"
            )


@app.command("fit")
def fit(
    transactions: Path = TransactionsOption,
    customer_col: str | None = CustomerOption,
    date_col: str | None = DateOption,
    amount_col: str | None = AmountOption,
    file_format: str | None = FormatOption,
    calibration_end: str | None = CalibrationOption,
    period: str = PeriodOption,
    model: str = ModelOption,
) -> None:
    """Fit the purchase model (and Gamma-Gamma with amounts); print one JSON object."""
    from cornerstore.learn.clv import describe_fit

    _, fitted = _fit(
        transactions,
        customer_col,
        date_col,
        amount_col,
        file_format,
        calibration_end,
        period,
        model,
    )
    print_json(describe_fit(fitted))


@app.command("predict")
def predict(
    transactions: Path = TransactionsOption,
    output: Path = typer.Option(..., "--output", help="Where predictions go: .csv or .parquet"),
    customer_col: str | None = CustomerOption,
    date_col: str | None = DateOption,
    amount_col: str | None = AmountOption,
    file_format: str | None = FormatOption,
    calibration_end: str | None = CalibrationOption,
    period: str = PeriodOption,
    model: str = ModelOption,
    # Bounded so an infinite or astronomic horizon is a usage error, not an overflow.
    horizon: float = typer.Option(
        52, "--horizon", max=10_000, help="Periods to predict (52 weeks by default; at most 10000)"
    ),
    discount_rate: float = typer.Option(
        0.10, "--discount-rate", help="Yearly discount rate for CLV (0.10 = 10 % a year)"
    ),
) -> None:
    """Write expected purchases, P(alive), expected spend and CLV per customer to a file."""
    from cornerstore.learn.clv import describe_fit, predict_clv

    suffix = output.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InvalidInput("--output must end in .csv or .parquet")
    # Before the fit, which may take minutes: its answer would have nowhere to go.
    writable_file(output, "--output")
    summary, fitted = _fit(
        transactions,
        customer_col,
        date_col,
        amount_col,
        file_format,
        calibration_end,
        period,
        model,
    )
    table = predict_clv(fitted, summary, horizon=horizon, discount_rate=discount_rate)
    with written_whole(output, "--output") as partial:
        if suffix == ".csv":
            table.write_csv(partial)
        else:
            table.write_parquet(partial)
    report = describe_fit(fitted)
    report |= {"output": str(output), "rows": table.height, "horizon": horizon}
    report["discount_rate"] = discount_rate
    print_json(report)
