"""``cornerstore clv`` in-process: one JSON object on stdout, files of predictions, one-line
errors."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cornerstore.cli.main import app
from cornerstore.learn.transactions import read_transactions
from tests.cli.helpers import CDNOW

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["clv", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def cdnow_csv(tmp_path: Path) -> Path:
    """The CDNOW sample as a CSV with ISO dates and the caller's own column names."""
    path = tmp_path / "orders.csv"
    read_transactions(CDNOW).rename(
        {"customer_id": "Kunde", "date": "Datum", "amount": "Betrag"}
    ).write_csv(path)
    return path


def test_fit_on_the_cdnow_text_prints_one_json_object_with_the_papers_parameters() -> None:
    code, out, err = run("fit", "--transactions", str(CDNOW), "--calibration-end", "1997-09-30")

    report = json.loads(out)
    assert (code, err, out.count("\n")) == (0, "", 1)
    assert report["model"] == "bgnbd"
    assert {k: f"{v:.4g}" for k, v in report["parameters"].items()} == {
        "r": "0.2426",
        "alpha": "4.414",
        "a": "0.7929",
        "b": "2.426",
    }
    assert round(report["log_likelihood"], 2) == -9582.43
    assert report["customers"] == 2357
    assert {k: f"{v:.3g}" for k, v in report["gamma_gamma"]["parameters"].items()} == {
        "p": "6.25",
        "q": "3.74",
        "gamma": "15.4",
    }
    assert report["fit_seconds"] >= 0


def test_a_csv_with_named_columns_fits_like_the_cdnow_text(cdnow_csv: Path) -> None:
    columns = ["--customer-col", "Kunde", "--date-col", "Datum"]
    _, from_text, _ = run("fit", "--transactions", str(CDNOW), "--calibration-end", "19970930")
    code, from_csv, err = run(
        "fit", "--transactions", str(cdnow_csv), *columns, "--calibration-end", "19970930"
    )

    text_report, csv_report = json.loads(from_text), json.loads(from_csv)
    assert (code, err) == (0, "")
    assert csv_report["parameters"] == pytest.approx(text_report["parameters"], rel=1e-9)
    assert "gamma_gamma" not in csv_report  # no --amount-col, no spend model


def test_predict_writes_one_row_per_customer_to_parquet(tmp_path: Path, cdnow_csv: Path) -> None:
    output = tmp_path / "value.parquet"
    code, out, err = run(
        "predict",
        "--transactions",
        str(cdnow_csv),
        "--customer-col",
        "Kunde",
        "--date-col",
        "Datum",
        "--amount-col",
        "Betrag",
        "--horizon",
        "26",
        "--model",
        "auto",
        "--calibration-end",
        "1997-09-30",
        "--output",
        str(output),
    )

    report = json.loads(out)
    table = pl.read_parquet(output)
    assert (code, err) == (0, "")
    assert (report["rows"], report["horizon"], report["discount_rate"]) == (2357, 26.0, 0.1)
    assert report["model"] in ("bgnbd", "paretonbd", "mbgnbd")
    assert table.height == 2357
    assert table.columns[-5:] == [
        "expected_purchases",
        "probability_alive",
        "expected_spend",
        "expected_revenue",
        "clv",
    ]


def test_predict_writes_csv_by_extension(tmp_path: Path) -> None:
    output = tmp_path / "value.csv"

    code, _, _ = run("predict", "--transactions", str(CDNOW), "--output", str(output))

    assert code == 0
    assert pl.read_csv(output).height == 2357


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["fit", "--transactions", "missing.csv"],
            "error: --transactions: no such file missing.csv\n",
        ),
        (
            ["fit", "--transactions", str(CDNOW), "--calibration-end", "30.09.1997"],
            "error: --calibration-end must be a date like 1997-09-30 or 19970930\n",
        ),
        (
            ["fit", "--transactions", str(CDNOW), "--model", "lifetimes"],
            "error: --model must be one of bgnbd, paretonbd, mbgnbd, auto\n",
        ),
        (
            ["fit", "--transactions", str(CDNOW), "--period", "month"],
            "error: --period must be one of week, day\n",
        ),
        (
            ["predict", "--transactions", str(CDNOW), "--output", "value.xlsx"],
            "error: --output must end in .csv or .parquet\n",
        ),
    ],
)
def test_bad_input_is_one_line_on_stderr(args: list[str], message: str) -> None:
    code, out, err = run(*args)

    assert (code, out, err) == (1, "", message)


def test_columns_missing_from_a_csv_are_named(cdnow_csv: Path) -> None:
    code, out, err = run(
        "fit", "--transactions", str(cdnow_csv), "--customer-col", "Kunde", "--date-col", "Tag"
    )

    assert (code, out, err) == (
        1,
        "",
        "error: --date-col: no column 'Tag' in orders.csv "
        "(its columns: 'Kunde', 'Datum', 'Betrag')\n",
    )


def test_a_folder_given_as_the_transactions_is_named_as_a_folder(tmp_path: Path) -> None:
    code, out, err = run("fit", "--transactions", str(tmp_path), "--customer-col", "c")

    assert (code, out, err) == (
        1,
        "",
        f"error: --transactions: {tmp_path} is a folder, not a file\n",
    )


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "is empty"),
        (
            "Kunde,Datum\nJ\u00e9r\u00f4me,1997-01-01\n".encode("latin-1"),
            "is not UTF-8 text (save it as UTF-8)",
        ),
        (b"SQLite format 3\x00\xff\xfe\x00\x01", "is not UTF-8 text (save it as UTF-8)"),
    ],
)
def test_an_empty_or_latin1_transactions_file_is_said_as_such(
    tmp_path: Path, content: bytes, said: str
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(content)

    code, out, err = run(
        "fit", "--transactions", str(path), "--customer-col", "Kunde", "--date-col", "Datum"
    )

    assert (code, out, err) == (1, "", f"error: --transactions: {path} {said}\n")


def test_predict_refuses_an_output_in_a_missing_folder_and_writes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "reports" / "value.csv"

    code, out, err = run("predict", "--transactions", str(CDNOW), "--output", str(output))

    assert (code, out, err) == (1, "", f"error: --output: no folder {output.parent}\n")
    assert list(tmp_path.iterdir()) == []


def test_a_predict_stopped_while_writing_leaves_the_earlier_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "value.csv"
    output.write_text("customer_id,clv\nlast-week,1.0\n")

    def stopped_halfway(frame: pl.DataFrame, file: Path) -> None:
        Path(file).write_text("customer_id,cl")
        raise KeyboardInterrupt

    monkeypatch.setattr(pl.DataFrame, "write_csv", stopped_halfway)

    code, out, _ = run("predict", "--transactions", str(CDNOW), "--output", str(output))

    assert (code, out) == (130, "")  # as a Ctrl-C ends a command
    assert output.read_text() == "customer_id,clv\nlast-week,1.0\n"
    assert [p.name for p in tmp_path.iterdir()] == ["value.csv"]
