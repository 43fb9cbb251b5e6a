"""``cornerstore identity`` end to end on small generated files."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cornerstore.cli.main import app
from cornerstore.demo.messy import MessyCustomers
from cornerstore.identity.resolution.model import MODEL_VERSION

runner = CliRunner()
MAPS = [
    "--map", "first_name=Given", "--map", "last_name=Family", "--map", "email=E-Mail",
    "--map", "phone=Tel", "--map", "address=Street", "--map", "city=Town",
    "--map", "postcode=Postcode",
]  # fmt: skip
RENAMES = {
    "id": "Customer No",
    "first_name": "Given",
    "last_name": "Family",
    "email": "E-Mail",
    "phone": "Tel",
    "address": "Street",
    "city": "Town",
    "postcode": "Postcode",
}


def customers_file(path: Path, people: int, seed: int) -> pl.DataFrame:
    frame = pl.DataFrame(list(MessyCustomers(people=people, seed=seed).records()))
    frame = frame.rename(RENAMES)
    frame.write_csv(path)
    return frame


@pytest.fixture
def customers(tmp_path: Path) -> tuple[Path, pl.DataFrame]:
    path = tmp_path / "customers.csv"
    return path, customers_file(path, people=400, seed=5)


def test_dedupe_writes_one_cluster_id_per_input_row(
    customers: tuple[Path, pl.DataFrame], tmp_path: Path
) -> None:
    path, frame = customers
    output = tmp_path / "clusters.csv"

    result = runner.invoke(
        app, ["identity", "dedupe", str(path), "--id-col", "Customer No", *MAPS,
              "--output", str(output), "--json"],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    clusters = pl.read_csv(output)
    assert clusters.columns == ["Customer No", "cluster_id"]
    assert clusters["Customer No"].to_list() == frame["Customer No"].to_list()
    summary = json.loads(result.stdout)
    assert summary["records"] == frame.height
    assert summary["clusters"] == clusters["cluster_id"].n_unique()
    # Records of one person share a cluster far more often than not.
    joined = clusters.with_columns(person=frame["person_id"])
    pure = joined.group_by("cluster_id").agg(pl.col("person").n_unique() == 1)
    assert pure["person"].mean() > 0.95
    assert clusters["cluster_id"].n_unique() < frame["person_id"].n_unique() * 1.2


def test_dedupe_reads_and_writes_parquet(
    customers: tuple[Path, pl.DataFrame], tmp_path: Path
) -> None:
    _, frame = customers
    parquet = tmp_path / "customers.parquet"
    frame.write_parquet(parquet)
    output = tmp_path / "clusters.parquet"

    result = runner.invoke(
        app, ["identity", "dedupe", str(parquet), "--id-col", "Customer No", *MAPS,
              "--output", str(output)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert pl.read_parquet(output).columns == ["Customer No", "cluster_id"]
    assert "records ->" in result.stdout


def test_link_puts_the_same_person_from_two_files_in_one_cluster(tmp_path: Path) -> None:
    rows = customers_file(tmp_path / "all.csv", people=400, seed=8)
    first, second = rows[: rows.height // 2], rows[rows.height // 2 :]
    first.write_csv(tmp_path / "shop.csv")
    second.write_csv(tmp_path / "web.csv")
    output = tmp_path / "links.csv"

    result = runner.invoke(
        app, ["identity", "dedupe", str(tmp_path / "shop.csv"), "--link", str(tmp_path / "web.csv"),
              "--id-col", "Customer No", *MAPS, "--output", str(output)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    links = pl.read_csv(output)
    assert links.columns == ["Customer No", "source", "cluster_id"]
    assert links["source"].unique().sort().to_list() == ["shop.csv", "web.csv"]
    assert links.height == rows.height


def test_a_trained_model_is_saved_and_used_again(
    customers: tuple[Path, pl.DataFrame], tmp_path: Path
) -> None:
    path, _ = customers
    model = tmp_path / "model.json"
    trained = runner.invoke(
        app, ["identity", "train", "--input", str(path), "--id-col", "Customer No", *MAPS,
              "--output", str(model)],
    )  # fmt: skip
    output = tmp_path / "clusters.csv"

    again = runner.invoke(
        app, ["identity", "dedupe", str(path), "--id-col", "Customer No", *MAPS,
              "--model", str(model), "--output", str(output)],
    )  # fmt: skip

    assert trained.exit_code == 0, trained.output
    saved = json.loads(model.read_text())
    assert (saved["format"], saved["version"], saved["records"]) == (
        "cornerstore-identity-model",
        MODEL_VERSION,
        pl.read_csv(path).height,
    )
    assert "trained_at" in saved
    assert again.exit_code == 0, again.output


def labels_file(path: Path, frame: pl.DataFrame, pairs: int) -> tuple[int, int]:
    """Clerical labels in Splink's format from the ground truth: pairs of one person's records
    and pairs of two people in one household; returns (one person, two people) counts."""
    rows = frame.select("Customer No", "person_id", "household_id").rows()
    by_person: dict[int, list[str]] = {}
    by_household: dict[int, set[tuple[str, int]]] = {}
    for cid, person, household in rows:
        by_person.setdefault(person, []).append(cid)
        by_household.setdefault(household, set()).add((cid, person))
    same = [(ids[0], ids[1], 1.0) for ids in by_person.values() if len(ids) > 1][:pairs]
    apart = []
    for members in by_household.values():
        people = sorted(members, key=lambda m: m[1])
        if len({p for _, p in people}) > 1:
            first = people[0]
            other = next(m for m in people if m[1] != first[1])
            apart.append((first[0], other[0], 0.0))
    apart = apart[:pairs]
    pl.DataFrame(
        same + apart, schema=["unique_id_l", "unique_id_r", "clerical_match_score"], orient="row"
    ).write_csv(path)
    return len(same), len(apart)


def test_training_on_labelled_pairs_calibrates_the_saved_model(
    customers: tuple[Path, pl.DataFrame], tmp_path: Path
) -> None:
    path, frame = customers
    labels = tmp_path / "labels.csv"
    accepted, rejected = labels_file(labels, frame, pairs=30)
    model = tmp_path / "model.json"

    result = runner.invoke(
        app, ["identity", "train", "--input", str(path), "--id-col", "Customer No", *MAPS,
              "--labels", str(labels), "--output", str(model)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    calibration = json.loads(model.read_text())["calibration"]
    # Household pairs whose first names conflict are kept apart by that rule and set aside.
    judged = calibration["accepted"] + calibration["rejected"]
    assert judged + calibration["set_aside"] == accepted + rejected
    assert calibration["accepted"] > calibration["rejected"] and calibration["set_aside"] > 0
    assert f"calibrated on {judged} labelled pairs" in result.stdout
    assert calibration["agreed_after"] >= calibration["agreed_before"]


def test_labels_naming_a_record_the_file_lacks_are_refused_with_the_row(
    customers: tuple[Path, pl.DataFrame], tmp_path: Path
) -> None:
    path, frame = customers
    labels = tmp_path / "labels.csv"
    first = frame["Customer No"][0]
    labels.write_text(f"unique_id_l,unique_id_r,clerical_match_score\n{first},r999999,1\n")
    model = tmp_path / "model.json"

    result = runner.invoke(
        app, ["identity", "train", "--input", str(path), "--id-col", "Customer No", *MAPS,
              "--labels", str(labels), "--output", str(model)],
    )  # fmt: skip

    assert result.exit_code != 0
    assert result.stderr.strip() == "error: labels.csv row 2: unique_id_r names no record"
    assert not model.exists()


def test_labels_with_a_score_that_is_not_a_probability_are_refused(
    customers: tuple[Path, pl.DataFrame], tmp_path: Path
) -> None:
    path, frame = customers
    labels = tmp_path / "labels.csv"
    a, b = frame["Customer No"][0], frame["Customer No"][1]
    labels.write_text(f"unique_id_l,unique_id_r,clerical_match_score\n{a},{b},yes\n")

    result = runner.invoke(
        app, ["identity", "train", "--input", str(path), "--id-col", "Customer No", *MAPS,
              "--labels", str(labels), "--output", str(tmp_path / "model.json")],
    )  # fmt: skip

    assert result.exit_code != 0
    assert "row 2: clerical_match_score must be a number from 0 to 1" in result.output


def test_explain_shows_each_fields_weight_and_the_total(
    customers: tuple[Path, pl.DataFrame],
) -> None:
    path, frame = customers
    person = frame.group_by("person_id").len().filter(pl.col("len") > 1)["person_id"][0]
    a, b = frame.filter(pl.col("person_id") == person)["Customer No"].to_list()[:2]

    result = runner.invoke(
        app, ["identity", "explain", str(path), a, b, "--id-col", "Customer No", *MAPS, "--json"],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    explanation = json.loads(result.stdout)
    assert [f["field"] for f in explanation["fields"]] == [
        "first_name", "last_name", "email", "phone", "address", "postcode", "city",
    ]  # fmt: skip
    total = explanation["prior_weight"] + sum(f["weight"] for f in explanation["fields"])
    assert explanation["match_weight"] == pytest.approx(total)


def test_explain_prints_a_table(customers: tuple[Path, pl.DataFrame]) -> None:
    path, frame = customers
    a, b = frame["Customer No"].to_list()[:2]

    result = runner.invoke(
        app, ["identity", "explain", str(path), a, b, "--id-col", "Customer No", *MAPS],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    for word in ("prior", "first_name", "postcode", "total", "probability"):
        assert word in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--map", "email=Nope", "--map", "phone=Tel"], "customers.csv: no column 'Nope'"),
        (
            ["--map", "birthday=Tel"],
            "--map: unknown field 'birthday'; known: full_name, first_name, last_name, email, "
            "phone, address, city, state, postcode, country",
        ),
        (["--map", "email"], "--map 'email': expected FIELD=COLUMN"),
    ],
)
def test_mistakes_give_one_readable_line_and_exit_1(
    customers: tuple[Path, pl.DataFrame], tmp_path: Path, args: list[str], message: str
) -> None:
    path, _ = customers

    result = runner.invoke(
        app, ["identity", "dedupe", str(path), "--id-col", "Customer No", *args,
              "--output", str(tmp_path / "out.csv")],
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [f"error: {message}"]


def test_columns_named_like_fields_need_no_map(
    customers: tuple[Path, pl.DataFrame], tmp_path: Path
) -> None:
    _, frame = customers
    path = tmp_path / "named.csv"
    frame.rename({"Given": "First Name", "Family": "Surname", "Tel": "Phone Number",
                  "Street": "Address", "Postcode": "Post Code"}).write_csv(path)  # fmt: skip
    mapped, named = tmp_path / "mapped.csv", tmp_path / "named-out.csv"

    by_map = runner.invoke(
        app, ["identity", "dedupe", str(customers[0]), "--id-col", "Customer No", *MAPS,
              "--output", str(mapped), "--json"],
    )  # fmt: skip
    by_name = runner.invoke(
        app, ["identity", "dedupe", str(path), "--id-col", "Customer No",
              "--map", "email=E-Mail", "--output", str(named)],
    )  # fmt: skip

    assert by_map.exit_code == 0, by_map.output
    assert by_name.exit_code == 0, by_name.output
    assert "fields read from columns named like them: first_name=First Name, " \
        "last_name=Surname, phone=Phone Number, address=Address, city=Town, " \
        "postcode=Post Code" in " ".join(by_name.stdout.split())  # fmt: skip
    assert json.loads(by_map.stdout)["fields"] == {
        "first_name": "Given", "last_name": "Family", "email": "E-Mail", "phone": "Tel",
        "address": "Street", "city": "Town", "postcode": "Postcode",
    }  # fmt: skip
    assert pl.read_csv(named)["cluster_id"].to_list() == pl.read_csv(mapped)["cluster_id"].to_list()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("id,Note,Amount", "f.csv: no column is named like a field ("),
        (
            "id,E-Mail,Note",
            "fields: map at least two of first_name, last_name, email, phone, address, city, "
            "postcode",
        ),
    ],
)
def test_a_file_with_too_few_fields_named_or_mapped_is_refused(
    tmp_path: Path, header: str, message: str
) -> None:
    path = tmp_path / "f.csv"
    path.write_text(f"{header}\n1,a@example.com,x\n2,b@example.com,y\n")

    result = runner.invoke(
        app, ["identity", "dedupe", str(path), "--id-col", "id", "--output",
              str(tmp_path / "out.csv")],
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.strip().startswith(f"error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_input_file_is_named(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["identity", "dedupe", str(tmp_path / "none.csv"), "--id-col", "id",
              "--map", "email=e", "--output", str(tmp_path / "o.csv")],
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: INPUT: no such file {tmp_path / 'none.csv'}"


@pytest.mark.parametrize(
    ("command", "where"),
    [
        (["dedupe", "{input}", "--output", "{missing}/clusters.csv"], "{missing}/clusters.csv"),
        (
            ["dedupe", "{input}", "--output", "{out}/c.csv", "--households", "{missing}/h.csv"],
            "{missing}/h.csv",
        ),
        (["train", "--input", "{input}", "--output", "{missing}/model.json"],
         "{missing}/model.json"),
    ],
)  # fmt: skip
def test_an_output_in_a_missing_folder_is_refused_before_any_work(
    customers: tuple[Path, pl.DataFrame], tmp_path: Path, command: list[str], where: str
) -> None:
    path, _ = customers
    names = {"input": str(path), "out": str(tmp_path), "missing": str(tmp_path / "nowhere")}
    args = [a.format(**names) for a in command]

    result = runner.invoke(app, ["identity", *args, "--id-col", "Customer No", *MAPS])

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {where.format(**names)}: no folder {tmp_path / 'nowhere'}"
    ]
    assert list(tmp_path.iterdir()) == [path]


def test_explaining_an_id_the_file_lacks_names_which_id_not_its_value(
    customers: tuple[Path, pl.DataFrame],
) -> None:
    path, frame = customers
    known = frame["Customer No"][0]

    result = runner.invoke(
        app, ["identity", "explain", str(path), known, "ann@example.com", "--id-col",
              "Customer No", *MAPS],
    )  # fmt: skip

    assert (result.exit_code, result.stderr.strip()) == (
        1,
        "error: customers.csv: no record has the second id",
    )


def test_an_output_that_is_a_folder_is_refused(customers: tuple[Path, pl.DataFrame]) -> None:
    path, _ = customers
    folder = path.parent / "out.csv"
    folder.mkdir()

    result = runner.invoke(
        app, ["identity", "dedupe", str(path), "--id-col", "Customer No", *MAPS,
              "--output", str(folder)],
    )  # fmt: skip

    assert (result.exit_code, result.stderr.strip()) == (
        1,
        f"error: {folder}: is a folder, give a file name",
    )


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "is empty"),
        ("Customer No,First\n1,J\u00e9r\u00f4me\n".encode("latin-1"), "is not UTF-8 text"),
    ],
)
@pytest.mark.parametrize("command", ["dedupe", "train"])
def test_an_empty_or_latin_1_file_is_said_as_such(
    tmp_path: Path, content: bytes, said: str, command: str
) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(content)
    where = ["dedupe", str(path)] if command == "dedupe" else ["train", "--input", str(path)]
    named = "INPUT" if command == "dedupe" else "--input"

    result = runner.invoke(
        app, ["identity", *where, "--id-col", "Customer No", "--map", "first_name=First",
              "--output", str(tmp_path / "out.csv")],
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.strip().startswith(f"error: {named}: {path} {said}")
    assert not (tmp_path / "out.csv").exists()


def _dedupe(path: Path, output: Path, id_col: str = "Customer No") -> None:
    result = runner.invoke(
        app, ["identity", "dedupe", str(path), "--id-col", id_col, *MAPS,
              "--output", str(output)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_dedupe_writes_integer_ids_as_integers_so_the_output_joins_the_input(
    tmp_path: Path,
) -> None:
    path = tmp_path / "customers.csv"
    frame = customers_file(path, people=150, seed=3)
    numbered = frame.with_columns(pl.int_range(1, frame.height + 1).alias("Customer No"))
    numbered.write_csv(path)
    numbered.write_parquet(tmp_path / "customers.parquet")

    _dedupe(path, tmp_path / "clusters.csv")
    _dedupe(tmp_path / "customers.parquet", tmp_path / "clusters.parquet")

    for clusters in (pl.read_csv(tmp_path / "clusters.csv"),
                     pl.read_parquet(tmp_path / "clusters.parquet")):  # fmt: skip
        assert clusters["Customer No"].dtype == pl.Int64
        joined = pl.read_csv(path).join(clusters, on="Customer No")
        assert joined.height == frame.height


def test_dedupe_keeps_a_parquet_files_own_integer_type(tmp_path: Path) -> None:
    frame = customers_file(tmp_path / "customers.csv", people=150, seed=3)
    numbered = frame.with_columns(
        pl.int_range(1, frame.height + 1, dtype=pl.Int32).alias("Customer No")
    )
    numbered.write_parquet(tmp_path / "customers.parquet")

    _dedupe(tmp_path / "customers.parquet", tmp_path / "clusters.parquet")

    clusters = pl.read_parquet(tmp_path / "clusters.parquet")
    assert clusters["Customer No"].dtype == pl.Int32
    assert numbered.join(clusters, on="Customer No").height == frame.height


def test_linking_integer_ids_of_two_widths_writes_integers(tmp_path: Path) -> None:
    frame = customers_file(tmp_path / "shop.csv", people=150, seed=3)
    numbered = frame.with_columns(pl.int_range(1, frame.height + 1).alias("Customer No"))
    numbered.write_csv(tmp_path / "shop.csv")
    numbered.with_columns(pl.col("Customer No").cast(pl.Int32)).write_parquet(
        tmp_path / "crm.parquet"
    )
    output = tmp_path / "clusters.parquet"

    result = runner.invoke(
        app, ["identity", "dedupe", str(tmp_path / "shop.csv"), "--link",
              str(tmp_path / "crm.parquet"), "--id-col", "Customer No", *MAPS,
              "--output", str(output)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    clusters = pl.read_parquet(output)
    assert clusters.schema["Customer No"] == pl.Int64
    shop = clusters.filter(pl.col("source") == "shop.csv")
    assert numbered.join(shop, on="Customer No").height == frame.height


def test_dedupe_keeps_ids_with_leading_zeros_as_written(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    frame = customers_file(path, people=150, seed=3)
    ids = [f"{i:06d}" for i in range(frame.height)]
    frame.with_columns(pl.Series("Customer No", ids)).write_csv(path)

    _dedupe(path, tmp_path / "clusters.csv")

    clusters = pl.read_csv(tmp_path / "clusters.csv", infer_schema=False)
    assert clusters["Customer No"].to_list() == ids


def test_dedupe_names_the_file_whose_ids_repeat(tmp_path: Path) -> None:
    (tmp_path / "shop.csv").write_text("id,first,last\n1,Ann,Lee\n2,Bo,Ray\n")
    (tmp_path / "web.csv").write_text("id,first,last\n7,Ann,Lee\n7,Bob,Ray\n")

    result = runner.invoke(
        app,
        ["identity", "dedupe", str(tmp_path / "shop.csv"), "--link", str(tmp_path / "web.csv"),
         "--id-col", "id", "--map", "first_name=first", "--map", "last_name=last",
         "--output", str(tmp_path / "clusters.csv")],
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr == (
        "error: web.csv: column 'id' has the same id twice (ids must be unique)\n"
    )
    assert not (tmp_path / "clusters.csv").exists()


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("folder", "--model: {path} is a folder, not a file"),
        ("missing.json", "--model: no such file {path}"),
        ("binary.json", "--model: cannot read {path} as UTF-8 text"),
    ],
)
def test_a_model_file_that_cannot_be_read_is_one_line(
    tmp_path: Path, given: str, said: str
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "binary.json").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    (tmp_path / "people.csv").write_text("id,first,last\n1,Ann,Lee\n2,Bo,Ray\n")
    path = tmp_path / given

    result = runner.invoke(
        app,
        ["identity", "dedupe", str(tmp_path / "people.csv"), "--id-col", "id",
         "--map", "first_name=first", "--map", "last_name=last", "--model", str(path),
         "--output", str(tmp_path / "clusters.csv")],
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr == "error: " + said.format(path=path) + "\n"
