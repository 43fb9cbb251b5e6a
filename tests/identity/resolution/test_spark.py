"""The same model on Splink's Spark backend: the same pairs, weights and clusters as on DuckDB.

One local Spark session serves the whole module (it takes seconds to start). Under CI the tests
always run; elsewhere they are skipped only when there is no Java to start Spark with.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any, get_args

import polars as pl
import pytest
from typer.testing import CliRunner

from cornerstore.cli.main import app
from cornerstore.identity.resolution import splink_engine
from cornerstore.identity.resolution.comparisons import Level, LevelKind
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import PreparedRecords
from cornerstore.identity.resolution.splink_engine import predict_pairs, spark_condition

from .conftest import FIELDS

runner = CliRunner()
MAPS = [arg for field in FIELDS for arg in ("--map", f"{field}={field}")]


@pytest.fixture(scope="session")
def spark() -> Any:
    has_java = shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))
    if not has_java and os.environ.get("CI") != "true":
        pytest.skip("Spark needs Java, which this machine does not have")
    return splink_engine.spark_session()


@pytest.fixture(scope="module")
def messy_file(messy_rows: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spark") / "customers.csv"
    pl.DataFrame(messy_rows).select("id", *FIELDS).write_csv(path)
    return path


@pytest.fixture(scope="module")
def spark_model_file(spark: Any, messy_file: Path) -> Path:
    path = messy_file.with_name("spark-model.json")
    result = runner.invoke(
        app, ["identity", "train", "--input", str(messy_file), "--id-col", "id", *MAPS,
              "--output", str(path), "--engine", "spark"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return path


def pairs_by_ids(records: PreparedRecords, pairs: dict[str, list[Any]]) -> dict[Any, float]:
    ids = records.columns["unique_id"]
    return {
        (ids[a], ids[b]): w
        for a, b, w in zip(pairs["left"], pairs["right"], pairs["match_weight"], strict=True)
    }


def test_every_kind_of_level_has_a_spark_condition_without_duckdb_sql() -> None:
    levels = [Level(kind, kind, "a", "b", 0.9) for kind in get_args(LevelKind)]

    conditions = [spark_condition(level) for level in levels]

    for condition in conditions:
        assert '"' not in condition  # a string in Spark SQL, not a column
        assert "list_has_any" not in condition
        assert "jaro_winkler_similarity" not in condition


@pytest.mark.slow
def test_spark_scores_the_same_pairs_with_the_same_weights_as_duckdb(
    spark: Any, messy_records: PreparedRecords, messy_model: IdentityModel
) -> None:
    on_duckdb = predict_pairs(messy_records, messy_model, 0.01)

    on_spark = predict_pairs(messy_records, messy_model, 0.01, engine="spark")

    assert on_spark["left"] == on_duckdb["left"]
    assert on_spark["right"] == on_duckdb["right"]
    assert on_spark["match_weight"] == pytest.approx(on_duckdb["match_weight"], abs=1e-6)
    assert len(on_spark["left"]) > 1000


@pytest.mark.slow
def test_a_model_trained_on_spark_agrees_with_one_trained_on_duckdb(
    spark_model_file: Path, messy_records: PreparedRecords, messy_model: IdentityModel
) -> None:
    spark_model = IdentityModel.from_json(spark_model_file.read_text())

    confident = pairs_by_ids(messy_records, predict_pairs(messy_records, messy_model, 0.99))
    also_spark = pairs_by_ids(messy_records, predict_pairs(messy_records, spark_model, 0.99))

    # The match rate comes from deterministic rules: the same count on both engines.
    assert spark_model.matches_per_record == pytest.approx(messy_model.matches_per_record)
    assert [c.name for c in spark_model.comparisons] == [c.name for c in messy_model.comparisons]
    # u is sampled at random, differently on each engine, and m follows from it: the models
    # differ a little but find nearly the same confident matches. Names agree by chance often
    # enough for their sampled u to be stable; an e-mail or phone almost never does, so its
    # weight rests on a handful of sampled pairs and is not compared.
    for i, comparison in enumerate(messy_model.comparisons):
        if comparison.name not in ("first_name", "last_name"):
            continue
        exact = comparison.levels.index(next(lv for lv in comparison.levels if lv.kind == "exact"))
        assert spark_model.level_weight(i, exact) == pytest.approx(
            messy_model.level_weight(i, exact), abs=1.0
        ), comparison.name
    shared = confident.keys() & also_spark.keys()
    assert len(shared) / len(confident.keys() | also_spark.keys()) > 0.97


@pytest.mark.slow
def test_dedupe_on_spark_writes_the_clusters_dedupe_on_duckdb_writes(
    spark_model_file: Path, messy_file: Path, messy_rows: list[dict[str, Any]]
) -> None:
    written = {}
    for engine in ("duckdb", "spark"):
        output = messy_file.with_name(f"clusters-{engine}.csv")
        result = runner.invoke(
            app, ["identity", "dedupe", str(messy_file), "--id-col", "id", *MAPS,
                  "--model", str(spark_model_file), "--output", str(output), "--engine", engine],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        written[engine] = pl.read_csv(output)

    assert written["spark"].equals(written["duckdb"])
    clusters = written["spark"].with_columns(person=pl.Series([r["person_id"] for r in messy_rows]))
    pure = clusters.group_by("cluster_id").agg(pl.col("person").n_unique() == 1)
    assert pure["person"].mean() > 0.95


def test_an_unknown_engine_is_refused_with_the_choices(messy_file: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["identity", "dedupe", str(messy_file), "--id-col", "id", *MAPS,
              "--output", str(tmp_path / "out.csv"), "--engine", "postgres"],
    )  # fmt: skip

    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "Invalid value for '--engine'" in result.stderr
    assert "is not one of 'duckdb', 'spark'" in result.stderr
    assert "postgres" not in result.stderr


def test_spark_without_pyspark_says_to_install_the_spark_extra(
    messy_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(splink_engine, "_spark", {})
    for module in ("pyspark", "pyspark.sql"):
        monkeypatch.setitem(sys.modules, module, None)

    result = runner.invoke(
        app, ["identity", "dedupe", str(messy_file), "--id-col", "id", *MAPS,
              "--output", str(tmp_path / "out.csv"), "--engine", "spark"],
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: engine spark: pyspark is not installed; pip install 'cornerstore[spark]'"
    )


def test_the_stored_customers_are_resolved_on_spark(spark: Any, tmp_path: Path) -> None:
    from cornerstore.access.caller import system_caller
    from cornerstore.services import Services
    from cornerstore.settings import Settings
    from cornerstore.storage import open_store
    from tests.identity.resolution.stored import ingest_shop, root_of

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    store = open_store(url, upgrade=True)
    try:
        services = Services.build(Settings(database_url=url, secret_key="test"), store)
        ingest_shop(services, people=150)
        owner = system_caller(actor="test-owner")
        services.identity.train(owner)

        result = services.identity.resolve(owner, engine="spark")

        assert result.merged > 0
        assert root_of(services, "robert") == root_of(services, "bob")
        assert root_of(services, "john") != root_of(services, "mary")
    finally:
        store.dispose()
