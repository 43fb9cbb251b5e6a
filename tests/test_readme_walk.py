"""The README's "Usage by task", walked in order as a newcomer would, on SQLite and PostgreSQL.

Every command the README shows runs in a shell through the installed ``cornerstore`` executable
(the database chosen by ``CORNERSTORE_DATABASE_URL``, as the README says), every request it shows
goes to a real ``cornerstore serve`` on loopback, and its Python example runs as written, with the
write key and host filled in. Each README snippet is covered by one step below: the walk fails
when the README shows a command the walk does not take, or takes one the README no longer shows.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest

from cornerstore.demo.messy import MessyCustomers

README = Path(__file__).resolve().parents[1] / "README.md"
BIN = Path(sys.executable).parent
# The README's demo has 2,000 customers; the walk takes a smaller shop of the same shape.
DEMO_CUSTOMERS = 400
ANN = "ann@example.com"

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------------------------------------
# What the README shows


def usage_section() -> str:
    text = README.read_text(encoding="utf-8")
    usage = text.split("## Usage by task", 1)[1]
    return usage.split("\n## ", 1)[0]


def readme_snippets() -> list[str]:
    """Every command, shell line, Python example and HTTP route of the usage section, in order."""
    usage = usage_section()
    snippets: list[tuple[int, str]] = []
    for fence in re.finditer(r"```(\w*)\n(.*?)```", usage, flags=re.S):
        lang, body = fence.group(1), fence.group(2)
        if lang == "python":
            snippets.append((fence.start(), "python: " + body.splitlines()[0]))
        else:
            snippets += [
                (fence.start(), line.strip()) for line in body.splitlines() if line.strip()
            ]
    prose = re.sub(r"```.*?```", lambda m: " " * len(m.group(0)), usage, flags=re.S)
    for span in re.finditer(r"`([^`]+)`", prose):
        snippet = " ".join(span.group(1).split())
        if snippet.startswith("cornerstore ") or re.match(
            r"^((GET|POST|DELETE) )?/(v1/|[a-z-]+$)", snippet
        ):
            snippets.append((span.start(), snippet))
    return [s for _, s in sorted(snippets)]


# ---------------------------------------------------------------------------------------------
# The newcomer's terminal


@dataclass
class Walk:
    """A folder, a database and a server: what a newcomer has after the README's set-up."""

    home: Path
    env: dict[str, str]
    values: dict[str, str] = field(default_factory=dict)
    server: str = ""

    def sh(self, command: str, *, stdin: str | None = None, cwd: Path | None = None) -> str:
        """Run ``command`` in bash as the README writes it; fail the walk on a non-zero exit."""
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=cwd or self.home,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"$ {command}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        return done.stdout

    def json(self, command: str) -> object:
        return json.loads(self.sh(command + " --json"))

    def http(
        self, method: str, path: str, *, token: str = "TOKEN", **kwargs: object
    ) -> httpx.Response:
        """A request with the staff token ``token`` names (the support token, or ``OWNER``)."""
        headers = {"Authorization": f"Bearer {self.values[token]}"}
        headers.update(kwargs.pop("headers", {}))  # type: ignore[arg-type]
        response = httpx.request(
            method,
            self.server + path,
            headers=headers,
            timeout=60,
            **kwargs,  # type: ignore[arg-type]
        )
        assert response.status_code < 400, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response

    def fill(self, snippet: str) -> str:
        """The README's placeholders (ID, A, B, NAME, ...) replaced by this walk's values."""
        words = [self.values.get(word, word) for word in shlex.split(snippet)]
        return shlex.join(words)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# The walk, in the README's order. Each step names the README snippets it covers.

Step = Callable[[Walk], None]
STEPS: list[tuple[tuple[str, ...], Step]] = []


def step(*snippets: str) -> Callable[[Step], Step]:
    def register(fn: Step) -> Step:
        STEPS.append((snippets, fn))
        return fn

    return register


@step("cornerstore db upgrade", "cornerstore demo --customers 2000 --seed 1")
def prepare_the_database(walk: Walk) -> None:
    out = walk.sh("cornerstore db upgrade")
    assert "owner" in out and "password" in out
    out = walk.sh(f"cornerstore demo --customers {DEMO_CUSTOMERS} --seed 1")
    assert "demo business" in out


@step("cornerstore serve", "cornerstore serve --host --port")
def serve_the_api(walk: Walk) -> None:
    # Started by the fixture below (it must outlive this step); the API answers.
    assert httpx.get(walk.server + "/openapi.json", timeout=10).status_code == 200


KEY_LINE = (
    "KEY=$(cornerstore keys create --name checkout --touchpoint web --source server | tail -n 1)"
)


@step(
    KEY_LINE,
    "POST /v1/batch",
    "/v1/identify",
    "/v1/track",
    "/v1/page",
    "/v1/screen",
    "/v1/group",
    "/v1/alias",
)
def create_a_write_key_and_send_each_kind_of_call(walk: Walk) -> None:
    key = walk.sh(KEY_LINE + '; printf %s "$KEY"')
    assert key.startswith("csk_")
    walk.values["KEY"] = key
    auth = (key, "")
    calls = {
        "identify": {"userId": "web-7", "traits": {"email": "kim@example.com", "firstName": "Kim"}},
        "track": {"userId": "web-7", "event": "Product Viewed", "properties": {"sku": "T-1"}},
        "page": {"userId": "web-7", "name": "Home"},
        "screen": {"userId": "web-7", "name": "Basket"},
        "group": {"userId": "web-7", "groupId": "acme", "traits": {"name": "Acme Ltd"}},
        "alias": {"userId": "web-7", "previousId": "anon-7"},
    }
    for kind, body in calls.items():
        r = httpx.post(f"{walk.server}/v1/{kind}", json=body, auth=auth, timeout=30)
        assert r.status_code == 200, (kind, r.text)
    batch = {"batch": [{"type": "track", "userId": "web-7", "event": "Cart Viewed"}]}
    r = httpx.post(f"{walk.server}/v1/batch", json=batch, auth=auth, timeout=30)
    assert r.status_code == 200, r.text


@step("python: from segment import analytics")
def send_events_with_the_official_client(walk: Walk) -> None:
    code = re.search(r"```python\n(.*?)```", usage_section(), flags=re.S)
    assert code is not None
    program = code.group(1)
    program = program.replace(
        "analytics.write_key = KEY", f"analytics.write_key = {walk.values['KEY']!r}"
    )
    program = program.replace('"http://127.0.0.1:8000"', repr(walk.server))
    done = subprocess.run(
        [sys.executable, "-c", program], env=walk.env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    # The README's "Order Completed" reached Ann's web profile.
    assert walk.sh(f"cornerstore customers show {ANN}").count("ann@example.com") >= 1


@step(
    "cornerstore import customers.csv --touchpoint store --map email=E-Mail "
    "--map first_name=Vorname --map last_name=Nachname"
)
def import_a_file_twice(walk: Walk) -> None:
    with open(walk.home / "customers.csv", "w", newline="", encoding="utf-8") as f:
        rows = csv.writer(f)
        rows.writerow(["E-Mail", "Vorname", "Nachname"])
        rows.writerow([ANN, "Ann", "Lee"])
        rows.writerow(["jo.walker@example.com", "Jo", "Walker"])
        rows.writerow(["not-an-email", "", ""])
    command = (
        "cornerstore import customers.csv --touchpoint store --map email=E-Mail "
        "--map first_name=Vorname --map last_name=Nachname"
    )
    first = walk.sh(command)
    again = walk.sh(command)
    assert first.splitlines()[0] == "read 3, accepted 2, already imported 0, rejected 1"
    # Running it twice imports nothing twice, and the rejected row is written next to the file.
    assert again.splitlines()[0] == "read 3, accepted 0, already imported 2, rejected 1"
    assert (walk.home / "customers.csv.rejects.jsonl").exists()
    found = walk.json(f"cornerstore customers search {ANN}")
    assert isinstance(found, list) and len(found) == 1


@step(
    'cornerstore customers search "ann lee"',
    f"cornerstore customers show {ANN}",
    "cornerstore customers timeline ID --touchpoint support",
    "cornerstore customers prefill ID --form shipping",
)
def look_ann_up(walk: Walk) -> None:
    found = walk.json('cornerstore customers search "ann lee"')
    assert isinstance(found, list) and found, "a full-name search finds Ann Lee"
    assert found[0]["email"] == ANN
    shown = walk.sh(f"cornerstore customers show {ANN}")
    assert "Lee" in shown and ANN in shown
    profile = walk.json(f"cornerstore customers show {ANN}")
    assert isinstance(profile, dict)
    walk.values["ID"] = str(profile["id"])
    walk.sh(walk.fill("cornerstore customers timeline ID --touchpoint support"))
    prefill = walk.sh(walk.fill("cornerstore customers prefill ID --form shipping"))
    assert "Ann" in prefill


@step(
    "cornerstore tokens create --name NAME --role support",
    "GET /v1/customers?q=",
    "/v1/customers/{id}",
    "/v1/customers/{id}/timeline",
    "/v1/customers/{id}/prefill?form=shipping",
)
def look_ann_up_over_http(walk: Walk) -> None:
    snippet = "cornerstore tokens create --name NAME --role support"
    walk.values["NAME"] = "walk"
    token = walk.sh(walk.fill(snippet) + " | tail -n 1").strip()
    walk.values["TOKEN"] = token
    found = walk.http("GET", "/v1/customers", params={"q": "ann lee"}).json()["results"]
    assert found and found[0]["id"] == walk.values["ID"]
    cid = walk.values["ID"]
    assert walk.http("GET", f"/v1/customers/{cid}").json()["id"] == cid
    walk.http("GET", f"/v1/customers/{cid}/timeline")
    walk.http("GET", f"/v1/customers/{cid}/prefill", params={"form": "shipping"})


@step("cornerstore customers unmerge ID", "cornerstore customers merge A B")
def merge_two_by_hand_and_undo_it(walk: Walk) -> None:
    # Jo Walker came from the till; merged into Ann by mistake, then restored.
    jo = "jo.walker@example.com"
    found = walk.json(f"cornerstore customers search {jo}")
    assert isinstance(found, list) and len(found) == 1
    walk.values["A"], walk.values["B"] = walk.values["ID"], str(found[0]["id"])
    walk.sh(walk.fill("cornerstore customers merge A B"))
    assert walk.json(f"cornerstore customers search {jo}")[0]["id"] == walk.values["A"]  # type: ignore[index]
    walk.sh(walk.fill("cornerstore customers unmerge B"))
    assert walk.json(f"cornerstore customers search {jo}")[0]["id"] == walk.values["B"]  # type: ignore[index]


@step(
    "cornerstore users create sam --role shipping --branch Leeds",
    "cornerstore users grant sam support",
    "cornerstore users list",
    "cornerstore tokens create --name returns-app --role shipping --expires 30d | tail -n 1",
    "POST /v1/session",
    "cornerstore audit --customer ID --csv",
    "GET /v1/audit",
)
def give_staff_their_own_accounts(walk: Walk) -> None:
    created = walk.sh("cornerstore users create sam --role shipping --branch Leeds")
    assert "password" in created.lower()
    walk.sh("cornerstore users grant sam support")
    assert "sam" in walk.sh("cornerstore users list")
    # Shipping sees the address but no purchase history.
    as_sam = walk.json(walk.fill("cornerstore customers show ID --as sam --reason delivery"))
    assert isinstance(as_sam, dict) and as_sam["id"] == walk.values["ID"]
    token = walk.sh(
        "cornerstore tokens create --name returns-app --role shipping --expires 30d | tail -n 1"
    ).strip()
    r = httpx.get(
        f"{walk.server}/v1/customers/{walk.values['ID']}",
        headers={"Authorization": f"Bearer {token}", "X-Reason": "parcel returned"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    login = httpx.post(
        f"{walk.server}/v1/session",
        json={"username": "demo-support", "password": "demo-support-password"},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    trail = walk.sh(walk.fill("cornerstore audit --customer ID --csv"))
    assert "parcel returned" in trail and "delivery" in trail
    # The audit trail, export and erasure are the owner's.
    owner = walk.sh("cornerstore tokens create --name owner-desk --role owner | tail -n 1")
    walk.values["OWNER"] = owner.strip()
    audit = walk.http("GET", "/v1/audit", token="OWNER", params={"customer": walk.values["ID"]})
    assert audit.json()


@step("/login", "/customers")
def open_the_console(walk: Walk) -> None:
    # The console's form, as a browser fills it in; the session cookies are sent back by hand
    # (they are Secure, which a browser allows on loopback and httpx does not).
    with httpx.Client(base_url=walk.server, timeout=30) as browser:
        form = browser.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', form.text)
        assert token is not None, form.text
        login = browser.post(
            "/login",
            data={
                "username": "demo-support",
                "password": "demo-support-password",
                "login_token": token.group(1),
            },
            headers={"Cookie": f"cs_login={form.cookies['cs_login']}"},
        )
        assert (login.status_code, login.headers["location"]) == (303, "/customers"), login.text
        session = {"Cookie": f"cs_session={login.cookies['cs_session']}"}
        found = browser.get("/customers", params={"q": ANN}, headers=session)
        page = browser.get(f"/customers/{walk.values['ID']}", headers=session)
    assert f'href="/customers/{walk.values["ID"]}"' in found.text
    assert page.status_code == 200 and ANN in page.text


@step(
    "cornerstore identity dedupe customers.csv --id-col id --map first_name=First "
    "--map last_name=Last --map email=Email --map phone=Phone --map address=Street "
    "--map postcode=Postcode --output clusters.csv",
    "cornerstore identity train --input customers.csv ... --output model.json",
    "cornerstore identity explain customers.csv A B ...",
)
def find_the_same_person_across_files(walk: Walk) -> None:
    files = walk.home / "files"
    files.mkdir()
    people = pl.DataFrame(list(MessyCustomers(people=300, seed=3).records()))
    renamed = people.rename(
        {"first_name": "First", "last_name": "Last", "email": "Email", "phone": "Phone",
         "address": "Street", "postcode": "Postcode"}
    )  # fmt: skip
    renamed.drop("person_id").write_csv(files / "customers.csv")
    maps = (
        "--id-col id --map first_name=First --map last_name=Last --map email=Email "
        "--map phone=Phone --map address=Street --map postcode=Postcode"
    )
    walk.sh(f"cornerstore identity dedupe customers.csv {maps} --output clusters.csv", cwd=files)
    clusters = pl.read_csv(files / "clusters.csv")
    assert clusters.columns == ["id", "cluster_id"] and clusters.height == people.height
    joined = clusters.join(people.select("id", "person_id"), on="id")
    # Most records of one person land in one cluster, and clusters never span two people.
    assert joined.group_by("cluster_id").agg(pl.col("person_id").n_unique())["person_id"].max() <= 2
    assert joined["cluster_id"].n_unique() < people.height
    walk.sh(
        f"cornerstore identity train --input customers.csv {maps} --output model.json", cwd=files
    )
    assert json.loads((files / "model.json").read_text())
    twin = people.group_by("person_id").len().filter(pl.col("len") > 1)["person_id"][0]
    a, b = people.filter(pl.col("person_id") == twin)["id"].to_list()[:2]
    explained = walk.sh(f"cornerstore identity explain customers.csv {a} {b} {maps}", cwd=files)
    assert "first_name" in explained


@step(
    "cornerstore identity learn",
    "cornerstore identity resolve",
    "cornerstore identity review",
)
def find_the_same_person_among_stored_customers(walk: Walk) -> None:
    walk.sh("cornerstore identity learn")
    resolved = walk.json("cornerstore identity resolve")
    assert isinstance(resolved, dict)
    page = walk.json("cornerstore identity review")
    assert isinstance(page, dict)
    queue = page["reviews"]
    assert isinstance(queue, list) and page["waiting"] >= len(queue)
    if queue:
        first = queue[0]
        assert isinstance(first, dict)
        walk.sh(f"cornerstore identity decide {first['id']} --reject")


@step("cornerstore privacy scan < notes.txt")
def scan_text_for_what_must_not_be_kept(walk: Walk) -> None:
    (walk.home / "notes.txt").write_text(
        "Customer paid with 4111 1111 1111 1111 and asked for a refund.\nNothing here.\n"
    )
    lines = walk.sh("cornerstore privacy scan < notes.txt").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert "4111" not in lines[0] and "[removed: payment card]" in json.dumps(first)


@step(
    "cornerstore customers consent ID marketing_sms --grant",
    "cornerstore customers anonymous ID",
    "cornerstore customers export ID [--html]",
    "cornerstore customers erase ID --yes",
    "cornerstore privacy retention [--apply]",
    "/v1/customers/{id}/consents",
    "/anonymous",
    "/export",
    "DELETE /v1/customers/{id}",
)
def honour_what_customers_ask(walk: Walk) -> None:
    walk.sh(walk.fill("cornerstore customers consent ID marketing_sms --grant"))
    assert walk.http("GET", f"/v1/customers/{walk.values['ID']}/consents").json()
    walk.sh(walk.fill("cornerstore customers export ID"))
    page = walk.sh(walk.fill("cornerstore customers export ID --html"))
    assert "<html" in page.lower() and "Lee" in page
    walk.http("GET", f"/v1/customers/{walk.values['ID']}/export", token="OWNER")
    walk.sh("cornerstore privacy retention")
    walk.sh("cornerstore privacy retention --apply")
    # Kim (web-7) asks to stay anonymous over HTTP, Jo by the CLI; Jo is erased by the CLI and
    # Kim over HTTP.
    jo = walk.values["B"]
    kim = walk.json("cornerstore customers search kim@example.com")[0]["id"]  # type: ignore[index]
    walk.http("PUT", f"/v1/customers/{kim}/anonymous", token="OWNER", json={"anonymous": True})
    walk.sh(f"cornerstore customers anonymous {jo}")
    walk.sh(f"cornerstore customers erase {jo} --yes")
    walk.http("DELETE", f"/v1/customers/{kim}", token="OWNER")
    assert walk.json("cornerstore customers search jo.walker@example.com") == []


@step(
    "cornerstore clv fit --transactions orders.csv --customer-col customer --date-col day "
    "--amount-col total --calibration-end 2024-06-30",
    "cornerstore clv predict ... --horizon 52 --output value.parquet",
)
def know_what_each_customer_is_worth(walk: Walk) -> None:
    rng = random.Random(7)
    with open(walk.home / "orders.csv", "w", newline="") as f:
        rows = csv.writer(f)
        rows.writerow(["customer", "day", "total"])
        for customer in range(300):
            day = date(2023, 1, 1) + timedelta(days=rng.randrange(180))
            rate = rng.choice([10, 25, 60])
            while day < date(2024, 12, 31):
                rows.writerow([f"c{customer}", day.isoformat(), round(rng.uniform(5, 80), 2)])
                day += timedelta(days=max(1, int(rng.expovariate(1 / rate))))
                if rng.random() < 0.04:
                    break
    args = "--transactions orders.csv --customer-col customer --date-col day --amount-col total"
    fitted = json.loads(walk.sh(f"cornerstore clv fit {args} --calibration-end 2024-06-30"))
    assert fitted
    horizon = "--calibration-end 2024-06-30 --horizon 52"
    walk.sh(f"cornerstore clv predict {args} {horizon} --output value.parquet")
    value = pl.read_parquet(walk.home / "value.parquet")
    assert value.height > 250


@step(
    "cornerstore learn",
    "cornerstore customers scores ID",
    "cornerstore customers at-risk",
    "/v1/customers/{id}/scores",
    "/v1/learn/at-risk",
)
def learn_who_matters(walk: Walk) -> None:
    walk.sh("cornerstore learn")
    at_risk = walk.json("cornerstore customers at-risk")
    assert isinstance(at_risk, list)
    walk.sh(walk.fill("cornerstore customers scores ID"))
    walk.http("GET", f"/v1/customers/{walk.values['ID']}/scores", token="OWNER")
    walk.http("GET", "/v1/learn/at-risk", token="OWNER")


EVALUATE = (
    "cornerstore suggest evaluate --transactions purchases.csv --customer-col customer "
    "--item-col sku --date-col day --split-date 2024-10-01"
)


@step(
    "cornerstore suggest train",
    "cornerstore suggest ID",
    "/v1/customers/{id}/suggestions?n=10",
    EVALUATE,
)
def suggest_what_each_customer_may_want_next(walk: Walk) -> None:
    trained = walk.sh("cornerstore suggest train")
    assert trained.startswith("suggestions learned from ")
    shown = walk.json(walk.fill("cornerstore suggest ID"))
    assert isinstance(shown, dict) and shown["customer_id"] == walk.values["ID"]
    over_http = walk.http(
        "GET", f"/v1/customers/{walk.values['ID']}/suggestions", params={"n": 10}
    ).json()
    assert all(s["reason"] for s in over_http["suggestions"])
    # A shop whose customers each keep to a few shelves of a small catalogue.
    rng = random.Random(11)
    with open(walk.home / "purchases.csv", "w", newline="") as f:
        rows = csv.writer(f)
        rows.writerow(["customer", "sku", "day"])
        for customer in range(200):
            shelf = rng.randrange(5)
            for _ in range(rng.randrange(4, 16)):
                day = date(2024, 1, 1) + timedelta(days=rng.randrange(366))
                rows.writerow([f"c{customer}", f"sku-{shelf}-{rng.randrange(6)}", day.isoformat()])
    report = json.loads(walk.sh(EVALUATE))
    assert report["customers"] > 50
    assert set(report["baselines"]) == {"popularity", "als", "repurchase"}


@step(
    "cornerstore actions ID",
    "cornerstore actions --segment SEGMENT --limit 20",
    "/v1/customers/{id}/next-actions",
)
def decide_what_to_do_next(walk: Walk) -> None:
    shown = walk.json(walk.fill("cornerstore actions ID"))
    assert isinstance(shown, dict) and shown["customer_id"] == walk.values["ID"]
    assert shown["actions"] and all(a["reasons"] for a in shown["actions"])
    segments = walk.json("cornerstore segments list")
    assert isinstance(segments, list) and segments
    # The smallest: each member listed is a few queries, and the walk has a time budget.
    smallest = min((s for s in segments if s["size"]), key=lambda s: s["size"])
    walk.values["SEGMENT"] = smallest["id"]
    listed = walk.json(walk.fill("cornerstore actions --segment SEGMENT --limit 20"))
    assert isinstance(listed, list) and 1 <= len(listed) <= 20
    over_http = walk.http("GET", f"/v1/customers/{walk.values['ID']}/next-actions").json()
    assert over_http["actions"][0]["summary"]


MAIL = Path(__file__).resolve().parent / "data" / "mail" / "support.mbox"


@step(
    "cornerstore service import-mail support.mbox",
    "cornerstore service cases --customer ann@example.com",
    "POST /v1/cases",
    "GET /v1/cases?status=open",
)
def run_the_contact_centre(walk: Walk) -> None:
    (walk.home / "support.mbox").write_bytes(MAIL.read_bytes())
    imported = walk.sh("cornerstore service import-mail support.mbox")
    assert imported.startswith("read 4, imported 4")
    again = walk.sh("cornerstore service import-mail support.mbox")
    assert "imported 0" in again
    cases = walk.json("cornerstore service cases --customer ann@example.com")
    assert isinstance(cases, list)
    assert "Parcel never arrived" in [c["subject"] for c in cases]
    form = {
        "sender": {"email": ANN},
        "channel": "web",
        "subject": "Wrong size",
        "body": "I ordered a medium.",
    }
    opened = walk.http("POST", "/v1/cases", json=form).json()
    queue = walk.http("GET", "/v1/cases", params={"status": "open"}).json()
    assert opened["case"]["id"] in [c["id"] for c in queue]


@step(
    "cornerstore service metrics --by channel",
    "/v1/service/metrics?group_by=week",
    "cornerstore service surveys send",
    "cornerstore service surveys export --out links.csv",
)
def measure_the_contact_centre_by_outcomes(walk: Walk) -> None:
    table = walk.sh("cornerstore service metrics --by channel")
    assert "first-contact resolution" in table and "95% interval" in table
    weekly = walk.http(
        "GET", "/v1/service/metrics", params={"group_by": "week"}, token="OWNER"
    ).json()
    assert weekly["group_by"] == "week"
    assert weekly["overall"]["opened"] == sum(g["metrics"]["opened"] for g in weekly["groups"])
    assert walk.sh("cornerstore service surveys send").endswith(
        "surveys made, waiting for export\n"
    )
    walk.sh("cornerstore service surveys export --out links.csv")
    assert (walk.home / "links.csv").read_text().startswith("survey_id,case_id,customer_id,url")


CAMPAIGN = (
    "cornerstore campaigns create --name Spring --segment SEGMENT --channel export --subject "
    '"Spring at {{ shop.name }}" --body "Hello {{ customer.first_name or \'there\' }}, your '
    'code {{ coupon.code }}" --offer "10% off"'
)


@step(
    CAMPAIGN,
    "cornerstore campaigns audience ID",
    "cornerstore campaigns preview ID CUSTOMER",
    "cornerstore campaigns send ID --output spring.csv",
    "cornerstore campaigns recipients ID",
    "cornerstore campaigns results ID",
    "/v1/campaigns",
)
def reach_customers_personally(walk: Walk) -> None:
    segments = walk.json("cornerstore segments list")
    assert isinstance(segments, list) and segments
    segment = max(segments, key=lambda s: s["size"])
    members = walk.json(f"cornerstore segments members {segment['id']}")
    assert isinstance(members, dict)
    for customer in members["customers"][:50]:
        walk.sh(f"cornerstore customers consent {customer} marketing_email --grant")
    created = walk.json(CAMPAIGN.replace("SEGMENT", segment["id"]))
    assert isinstance(created, dict)
    campaign = str(created["id"])
    funnel = walk.json(f"cornerstore campaigns audience {campaign}")
    assert isinstance(funnel, dict) and funnel["consent"] >= 1
    preview = walk.json(f"cornerstore campaigns preview {campaign} {members['customers'][0]}")
    assert isinstance(preview, dict) and "your code PREVIEW-CODE" in preview["message"]["text"]
    sent = walk.json(f"cornerstore campaigns send {campaign} --output spring.csv")
    assert isinstance(sent, dict) and sent["sent"] == funnel["treatment"]
    page = walk.json(f"cornerstore campaigns recipients {campaign}")
    assert isinstance(page, dict) and page["recipients"]
    results = walk.json(f"cornerstore campaigns results {campaign}")
    assert isinstance(results, dict) and results["treatment"] == funnel["treatment"]
    listed = walk.http("GET", "/v1/campaigns", token="OWNER").json()
    assert [c["id"] for c in listed] == [created["id"]]


# ---------------------------------------------------------------------------------------------


def test_every_readme_snippet_is_walked() -> None:
    covered = [s for snippets, _ in STEPS for s in snippets]
    shown = readme_snippets()
    assert sorted(set(shown) - set(covered)) == [], "the README shows commands the walk skips"
    assert sorted(set(covered) - set(shown)) == [], "the walk covers commands the README dropped"


@pytest.fixture
def walk(database_url: str, tmp_path: Path) -> Iterator[Walk]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORNERSTORE_")} | {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "CORNERSTORE_DATABASE_URL": database_url,
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    home = tmp_path / "shop"
    home.mkdir()
    yield Walk(home=home, env=env)


def test_the_readme_walk(walk: Walk) -> None:
    STEPS[0][1](walk)
    rest = STEPS[1:]
    port = _free_port()
    server = subprocess.Popen(
        ["cornerstore", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=walk.home,
        env=walk.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    walk.server = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(walk.server + "/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "cornerstore serve did not answer in 60 s"
                time.sleep(0.2)
        for _, take in rest:
            take(walk)
    finally:
        server.terminate()
        server.wait(timeout=30)
