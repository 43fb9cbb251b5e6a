"""Learning on real data: the UCI Online Retail and Online Retail II transactions.

``../shared/data/online_retail_ii_2009_2010.parquet`` and ``../shared/data/online_retail.parquet``
together cover December 2009 to December 2011 of a UK gift-ware retailer (many customers are
wholesalers). Each invoice of a known customer becomes an "Order Completed" event (its total the
sum of quantity x price over its lines; cancellations, adjustments and non-product codes left
out), written straight into a SQLite store; then ``cornerstore learn`` runs as of the day after
the last invoice, or with ``--as-of`` as of a day inside the data (later invoices left out).
Printed: the value model and whether it converged, the loyalty tiers, the share of customers at
risk and the clusters found, each with its size and value — what a shop would see on its own
data.

    python -m benchmarks.bench_retail [--as-of 2011-09-01]
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from benchmarks.common import machine, print_table, scratch_dir, sqlite_path, write_result

DATA = Path(__file__).parents[1].parent / "shared" / "data"
FILES = {
    "online_retail_ii_2009_2010.parquet": {
        "Invoice": "invoice",
        "StockCode": "code",
        "Quantity": "quantity",
        "InvoiceDate": "at",
        "Price": "price",
        "Customer ID": "customer",
    },
    "online_retail.parquet": {
        "InvoiceNo": "invoice",
        "StockCode": "code",
        "Quantity": "quantity",
        "InvoiceDate": "at",
        "UnitPrice": "price",
        "CustomerID": "customer",
    },
}
# Postage, manual adjustments, bank charges, fees, samples, gift vouchers: not products.
NOT_PRODUCTS = r"^(POST|DOT|M|D|C2|CRUK|BANK CHARGES|AMAZONFEE|PADS|S|B|TEST|gift_.*|ADJUST.*)$"


def invoices() -> pl.DataFrame:
    """One row per invoice of a known customer: customer, at, total."""
    parts = []
    for name, columns in FILES.items():
        frame = pl.read_parquet(DATA / name).rename(columns).select(list(columns.values()))
        parts.append(
            frame.with_columns(
                pl.col("customer").cast(pl.Int64).cast(pl.String),
                pl.col("invoice").cast(pl.String),
                pl.col("code").cast(pl.String),
            )
        )
    lines = pl.concat(parts, how="vertical_relaxed").filter(
        pl.col("customer").is_not_null()
        & ~pl.col("invoice").str.starts_with("C")
        & (pl.col("quantity") > 0)
        & (pl.col("price") > 0)
        & ~pl.col("code").str.contains(NOT_PRODUCTS)
    )
    # The two files overlap in December 2010: keep each invoice line once.
    lines = lines.unique()
    return (
        lines.group_by("invoice", "customer")
        .agg(
            pl.col("at").min(), (pl.col("quantity") * pl.col("price")).sum().round(2).alias("total")
        )
        .sort("at")
    )


def fill(url: str, orders: pl.DataFrame) -> None:
    conn = sqlite3.connect(sqlite_path(url))
    first = orders.group_by("customer").agg(pl.col("at").min())
    conn.executemany(
        "INSERT INTO customers (id, kind, root_id, created_at) VALUES (?, 'person', ?, ?)",
        ((f"cus_{c}", f"cus_{c}", str(at).replace("T", " ")) for c, at in first.iter_rows()),
    )
    conn.executemany(
        "INSERT INTO events (message_id, customer_id, type, name, touchpoint, source, "
        "occurred_at, received_at, properties) "
        "VALUES (?, ?, 'track', 'Order Completed', 'web', 'online-retail', ?, ?, ?)",
        (
            (f"inv-{inv}", f"cus_{c}", str(at), str(at), orjson.dumps({"total": total}).decode())
            for inv, c, at, total in orders.select("invoice", "customer", "at", "total").iter_rows()
        ),
    )
    conn.commit()
    conn.close()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_retail", description=__doc__)
    p.add_argument(
        "--as-of", type=date.fromisoformat, help="learn as of this day (ISO), not the data's end"
    )
    args = p.parse_args(argv)
    from cornerstore.access.caller import system_caller
    from cornerstore.services import Services
    from cornerstore.settings import Settings
    from cornerstore.storage import open_store

    orders = invoices()
    if args.as_of is not None:
        cut = datetime.combine(args.as_of, datetime.min.time())
        orders = orders.filter(pl.col("at") < cut + timedelta(days=1))
    last: datetime = orders["at"].max()  # type: ignore[assignment]
    now = (last + timedelta(days=1)).replace(tzinfo=UTC)
    with scratch_dir("retail") as where:
        url = f"sqlite:///{where / 'retail.db'}"
        store = open_store(url, upgrade=True)
        fill(url, orders)
        learner = Services.build(Settings(database_url=url), store).learner
        started = time.perf_counter()
        report = learner.run(system_caller(), now)
        seconds = time.perf_counter() - started
        with store.unit_of_work() as uow:
            loyalty = uow.learning.scores_named("loyalty")
            segments = uow.segments.all("cluster")
        at_risk = learner.at_risk(system_caller(), 1000)
        store.dispose()
    tiers = (
        pl.DataFrame([score.value for score in loyalty])
        .group_by("loyalty_tier")
        .agg(pl.len().alias("customers"), pl.col("spend").sum().round(0).alias("spend"))
        .sort("customers", descending=True)
    )
    print_table(
        f"Online Retail (UCI), {orders['customer'].n_unique():,} customers, "
        f"{orders.height:,} invoices, {orders['at'].min():%Y-%m-%d} to {last:%Y-%m-%d}; "
        f"learn in {seconds:.1f}s",
        ["loyalty tier", "customers", "spend (GBP)"],
        tiers.rows(),
    )
    print_table(
        f"Clusters (value model {report.value_model}: "
        + ", ".join(f"{k}={v:.4g}" for k, v in report.value_parameters.items())
        + ")",
        ["cluster", "customers", "CLV sum", "CLV mean", "description"],
        [[s.id, s.size, s.clv_sum, s.clv_mean, s.description] for s in segments],
    )
    print(
        f"value model {report.value_model}: "
        + ("converged" if report.value_converged else "did not converge")
        + (f"; {report.value_note}" if report.value_note else "")
    )
    print_table(
        f"At risk: {report.at_risk} of {report.profiled} customers "
        f"({report.at_risk / max(report.profiled, 1):.1%}) as of {report.as_of:%Y-%m-%d}; "
        "the five with the most value at risk",
        ["customer", "value at risk", "why"],
        [[r.customer_id, r.value_at_risk, "; ".join(r.reasons)] for r in at_risk[:5]],
    )
    result = {
        "machine": machine(),
        "customers": orders["customer"].n_unique(),
        "invoices": orders.height,
        "learn_seconds": round(seconds, 2),
        "value_model": report.value_model,
        "value_parameters": report.value_parameters,
        "tiers": tiers.to_dicts(),
        "clusters": [
            {
                "id": s.id,
                "size": s.size,
                "clv_sum": s.clv_sum,
                "clv_mean": s.clv_mean,
                "description": s.description,
            }
            for s in segments
        ],
        "value_converged": report.value_converged,
        "value_note": report.value_note,
        "as_of": report.as_of.isoformat(),
        "at_risk": report.at_risk,
        "at_risk_share": round(report.at_risk / max(report.profiled, 1), 4),
        "targets": [],
    }
    write_result("retail", result)
    return result


if __name__ == "__main__":
    main()
