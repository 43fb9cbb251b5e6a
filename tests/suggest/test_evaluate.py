"""Offline evaluation on a small slice of UCI Online Retail (tests/data), and its command."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cornerstore.cli.main import app
from cornerstore.errors import InvalidInput
from cornerstore.suggest.evaluate import Columns, read_purchases, score_ranking, split_purchases
from cornerstore.suggest.model import Blend, History, SuggestionModel

SAMPLE = Path(__file__).parents[1] / "data" / "online_retail_sample.csv"
COLUMNS = Columns("CustomerID", "StockCode", "InvoiceDate", "InvoiceNo")
ARGS = [
    "suggest", "evaluate", "--transactions", str(SAMPLE), "--customer-col", "CustomerID",
    "--item-col", "StockCode", "--date-col", "InvoiceDate", "--invoice-col", "InvoiceNo",
    "--split-date", "2011-10-09",
]  # fmt: skip
runner = CliRunner()


def test_a_perfect_ranking_scores_one_and_a_miss_zero() -> None:
    assert score_ranking(["a", "b"], {"a", "b"}, 2) == (1.0, 1.0, 1.0, 1.0)
    assert score_ranking(["c", "d"], {"a"}, 2) == (0.0, 0.0, 0.0, 0.0)


def test_evaluated_customers_bought_twice_before_and_once_after_the_split() -> None:
    purchases = read_purchases(SAMPLE, COLUMNS)

    cut = split_purchases(purchases, date(2011, 10, 9), "all")

    before = purchases.filter(pl.col("at") < pl.datetime(2011, 10, 9))
    invoices = before.group_by("customer_id").agg(pl.col("basket_id").n_unique())
    regulars = set(invoices.filter(pl.col("basket_id") >= 2)["customer_id"])
    after = set(purchases.filter(pl.col("at") >= pl.datetime(2011, 10, 9))["customer_id"])
    assert set(cut.answers) == regulars & after


@pytest.mark.parametrize("protocol", ["all", "new"])
def test_the_command_prints_one_json_object_with_every_method(protocol: str) -> None:
    result = runner.invoke(app, [*ARGS, "--protocol", protocol, "--k", "5"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert list(report) == ["k", "protocol", "customers", "cornerstore", "baselines"]
    assert (report["k"], report["protocol"]) == (5, protocol)
    assert report["customers"] > 20
    assert list(report["baselines"]) == ["popularity", "als", "repurchase"]
    for scores in [report["cornerstore"], *report["baselines"].values()]:
        assert list(scores) == ["precision", "recall", "ndcg", "map"]
        assert all(0.0 <= v <= 1.0 for v in scores.values())
    if protocol == "all":
        assert report["cornerstore"]["ndcg"] > report["baselines"]["popularity"]["ndcg"]
    else:  # only products never bought before count: buying again scores nothing
        assert set(report["baselines"]["repurchase"].values()) == {0.0}


def test_a_file_without_an_item_column_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="column not found: Sku"):
        read_purchases(SAMPLE, Columns("CustomerID", "Sku", "InvoiceDate"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--transactions", "missing.csv"], "--transactions: no such file missing.csv"),
        (["--transactions", "."], "--transactions: . is a folder, not a file"),
        (["--item-col", "Sku"], "column not found: Sku"),
        (["--split-date", "next week"], "--split-date must be a date like 2011-10-09"),
        (["--split-date", "2030-01-01"], "split-date: there must be purchases before and after"),
        (["--protocol", "old"], "--protocol must be all or new"),
        (["--k", "101"], "--k must be between 1 and 100"),
        (["--date-col", "StockCode"], "column StockCode: "),
    ],
)
def test_bad_input_is_one_readable_line_and_a_failing_exit(
    change: list[str], message: str, tmp_path: Path
) -> None:
    option, value = change
    args = list(ARGS)
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += change

    result = runner.invoke(app, args)

    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_an_unreadable_file_is_named_not_shown(tmp_path: Path) -> None:
    broken = tmp_path / "orders.parquet"
    broken.write_bytes(b"not parquet at all")

    result = runner.invoke(app, [*ARGS[:3], str(broken), *ARGS[4:]])

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: orders.parquet could not be read as parquet: ComputeError"
    )


def test_a_parquet_file_lacking_a_column_is_told_the_column_not_its_encoding(
    tmp_path: Path,
) -> None:
    orders = tmp_path / "orders.parquet"
    pl.read_csv(SAMPLE, infer_schema_length=0).write_parquet(orders)

    result = runner.invoke(app, [*ARGS[:3], str(orders), *ARGS[4:7], "Sku", *ARGS[8:]])

    assert result.exit_code == 1
    assert result.stderr.strip() == "error: orders.parquet: column not found: Sku"


RETURNS = Path(__file__).parents[1] / "data" / "returns_sample.csv"
WITH_QUANTITY = Columns("CustomerID", "StockCode", "InvoiceDate", "InvoiceNo", "Quantity")
RETURNS_ARGS = [
    "suggest", "evaluate", "--transactions", str(RETURNS), "--customer-col", "CustomerID",
    "--item-col", "StockCode", "--date-col", "InvoiceDate", "--invoice-col", "InvoiceNo",
    "--split-date", "2011-10-09",
]  # fmt: skip


def test_a_cancelled_line_is_no_purchase_in_the_answer_nor_an_invoice() -> None:
    cut = split_purchases(read_purchases(RETURNS, WITH_QUANTITY), date(2011, 10, 9), "all")

    # 17001 cancelled the mug after the split: only the tea counts. 17002's second invoice
    # before the split is a cancellation and 17004 only cancelled after it: neither is evaluated.
    assert cut.answers == {"17001": {"TEA"}, "17003": {"CUP"}}
    assert cut.histories["17001"].returned == frozenset({"CUP"})
    assert "C1003" not in set(cut.train["basket_id"])


def test_without_a_quantity_column_cancellations_count_as_purchases() -> None:
    columns = Columns("CustomerID", "StockCode", "InvoiceDate", "InvoiceNo")

    cut = split_purchases(read_purchases(RETURNS, columns), date(2011, 10, 9), "all")

    assert cut.answers["17001"] == {"TEA", "MUG"}
    assert set(cut.answers) == {"17001", "17002", "17003", "17004"}
    assert cut.histories["17001"].returned == frozenset()


def test_the_model_never_suggests_what_the_customer_returned_before_the_split() -> None:
    cut = split_purchases(read_purchases(RETURNS, WITH_QUANTITY), date(2011, 10, 9), "all")
    model = SuggestionModel.fit(cut.train, blend=Blend(factors=2, iterations=2))
    history = cut.histories["17001"]
    now = datetime(2011, 10, 9)

    shown = [s.item_id for s in model.suggest(history, 5, now)]
    unaware = [
        s.item_id
        for s in model.suggest(History(history.items, history.bought, history.buys), 5, now)
    ]

    assert "CUP" not in shown
    assert "CUP" in unaware


def test_the_command_leaves_returns_out_with_a_quantity_column() -> None:
    plain = runner.invoke(app, RETURNS_ARGS)
    aware = runner.invoke(app, [*RETURNS_ARGS, "--quantity-col", "Quantity"])

    assert plain.exit_code == 0 and aware.exit_code == 0, plain.output + aware.output
    assert json.loads(plain.stdout)["customers"] == 4
    assert json.loads(aware.stdout)["customers"] == 2


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("Qty", "returns_sample.csv: column not found: Qty"),
        ("StockCode", "column StockCode: 22 rows have no readable quantity (expected numbers)"),
    ],
)
def test_a_bad_quantity_column_is_named_not_shown(quantity: str, message: str) -> None:
    result = runner.invoke(app, [*RETURNS_ARGS, "--quantity-col", quantity])

    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {message}"
