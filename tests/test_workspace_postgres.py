"""The workspace on PostgreSQL + PostGIS: init, passwords, roles enforced by the database
(plain SQL as each role), review, concurrent adds, kills, and copy between the kinds.

The tests common to both kinds of workspace are in test_store.py and test_cli_store.py
(parametrized); these are what only a database has.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely
from click.testing import CliRunner

from minemap import contamination
from minemap import schema as s
from minemap import workspace as store
from minemap.cli import main
from minemap.errors import OutputExistsError, WorkspaceError, WorkspacePermissionError
from tests import pgserver
from tests import test_store_integrity as damage

DATA = Path(__file__).parent / "data"
HAZARDS = DATA / "small_hazards.geojson"
RELEASES = DATA / "small_releases.geojson"
DISTRICTS = DATA / "small_districts.geojson"


def run(*args, code: int = 0):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def sql(url: str, statement: str, params=(), *, user: str | None = None):
    """Run one statement as ``user`` (trust auth: any role logs in), like psql would."""
    if user is not None:
        url = url.replace("postgresql://postgres@", f"postgresql://{user}@")
    with psycopg.connect(url, autocommit=True) as con:
        cursor = con.execute(statement, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def as_user(url: str, user: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://{user}@")


# --- init ------------------------------------------------------------------------------


def test_init_creates_postgis_and_the_schema_and_never_replaces_imports(pg_server):
    url = pg_server.database("fresh", postgis=False)
    result = run("init", url)
    assert "created workspace" in result.stderr
    assert sql(url, "SELECT extname FROM pg_extension WHERE extname = 'postgis'")
    assert store.schema_version(url) == 1
    with pytest.raises(OutputExistsError, match="--overwrite"):
        store.create_workspace(url)
    store.create_workspace(url, overwrite=True)  # empty: may be made again
    store.add_file(url, "districts", DISTRICTS)
    for overwrite in (False, True):
        with pytest.raises(WorkspaceError, match="holds 1 import"):
            store.create_workspace(url, overwrite=overwrite)
    assert len(store.read_imports(url)) == 1


def test_init_says_who_must_create_postgis(pg_server):
    url = pg_server.database("nopostgis", postgis=False)
    sql(url, "CREATE ROLE plain LOGIN")
    sql(url, "GRANT CREATE ON DATABASE nopostgis TO plain")
    result = run("init", as_user(url, "plain"), code=1)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1
    assert "CREATE EXTENSION postgis" in errors[0]
    assert "superuser" in errors[0]
    assert "plain may not create it" in errors[0]


def test_a_database_schema_that_is_not_ours_is_left_alone(pg_url):
    sql(pg_url, "CREATE SCHEMA minemap")
    sql(pg_url, "CREATE TABLE minemap.theirs (x int)")
    with pytest.raises(WorkspaceError, match="not a minemap workspace"):
        store.create_workspace(pg_url)
    assert sql(pg_url, "SELECT count(*) FROM minemap.theirs") == [(0,)]


def test_a_database_without_a_workspace_says_so(pg_url):
    for args in (["log", pg_url], ["remaining", "--workspace", pg_url]):
        result = run(*args, code=1)
        assert "holds no minemap workspace; create one with `minemap init" in result.stderr


# --- passwords are never shown -----------------------------------------------------------


def test_no_password_appears_in_any_output_or_error(pg_server, tmp_path, monkeypatch):
    name = "secretws"
    pg_server.database(name)
    secret = pgserver.PASSWORD
    good = pg_server.url(name, pgserver.PASSWORD_USER, secret)
    wrong = pg_server.url(name, pgserver.PASSWORD_USER, "Wrong-" + secret)
    missing_db = pg_server.url("nosuchdb", pgserver.PASSWORD_USER, secret)
    dead = f"postgresql://{pgserver.PASSWORD_USER}:{secret}@127.0.0.1:1/{name}"
    outputs = []
    for args, code in [
        (["init", good], 0),
        (["add", "hazards", good, HAZARDS, "--source", "handover"], 0),
        (["add", "hazards", good, RELEASES], 1),  # wholly rejected: names the workspace
        (["log", good], 0),
        (["log", good, "--json"], 0),
        (["log", good, "--rejects"], 0),
        (["log", good, "--check"], 0),
        (["remaining", "--workspace", good], 0),
        (["progress", "--workspace", good, "-o", tmp_path / "p"], 1),  # holds no releases
        (["log", wrong], 1),
        (["log", missing_db], 1),
        (["log", dead], 1),
        (["add", "hazards", wrong, HAZARDS], 1),
        (["init", dead], 1),
        (["review", good, "--accept", "99"], 1),
        (["copy", good, tmp_path / "copy.gpkg"], 0),
    ]:
        result = run(*args, code=code)
        outputs.append(result.output)
        assert secret not in result.output, args
        assert "Wrong-" not in result.output, args
    every = "\n".join(outputs)
    assert "password authentication failed" in every  # the server's reason, without it
    assert f"postgresql://{pgserver.PASSWORD_USER}@127.0.0.1" in every
    # From PGPASSWORD, and from ~/.pgpass, with a URL that holds none.
    plain = pg_server.url(name, pgserver.PASSWORD_USER)
    monkeypatch.setenv("PGPASSWORD", secret)
    assert run("log", plain).stdout
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg_server.port}:{name}:{pgserver.PASSWORD_USER}:{secret}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert run("log", plain).stdout
    # Python errors do not carry it either.
    with pytest.raises(WorkspaceError) as caught:
        store.read_imports(wrong)
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value.args)


# --- roles, enforced by the database -----------------------------------------------------


@pytest.fixture
def roles(pg_url, tmp_path):
    """A workspace with districts and hazards (accepted), a viewer, two submitters (HALO,
    NPA) and a manager; and a release file from each submitter."""
    store.create_workspace(pg_url)
    store.add_file(pg_url, "districts", DISTRICTS, imported_at="2024-01-01")
    store.add_file(pg_url, "hazards", HAZARDS, source="handover", imported_at="2024-01-02")
    database = pg_url.rsplit("/", 1)[1]
    users = {r: f"{database}_{r}" for r in ("viewer", "halo", "npa", "manager")}
    run("grant", pg_url, users["viewer"], "viewer")
    run("grant", pg_url, users["halo"], "submitter", "--source", "HALO Trust")
    run("grant", pg_url, users["npa"], "submitter", "--source", "NPA", "--source", "NPA-2")
    run("grant", pg_url, users["manager"], "manager")
    releases = gpd.read_file(RELEASES)
    files = {}
    for who, rows in (("halo", [0, 1]), ("npa", [2])):
        frame = releases.iloc[rows].copy()
        frame[s.RELEASED_ON] = "2024-01-05"
        frame.to_file(tmp_path / f"{who}.geojson")
        files[who] = tmp_path / f"{who}.geojson"
    bad = releases.iloc[[2]].copy()
    bad[s.RELEASE_ID] = "NPA-BAD"
    bad[s.RELEASED_ON] = "2099-01-01"  # a date in the future: rejected
    bad.to_file(tmp_path / "npa_bad.geojson")
    files["npa_bad"] = tmp_path / "npa_bad.geojson"
    return {"url": pg_url, "users": users, "files": files}


def _user_url(roles, who: str) -> str:
    return as_user(roles["url"], roles["users"][who])


def test_each_role_can_do_what_it_may_through_minemap(roles):
    url, files = roles["url"], roles["files"]
    halo, npa = _user_url(roles, "halo"), _user_url(roles, "npa")
    viewer, manager = _user_url(roles, "viewer"), _user_url(roles, "manager")
    # A submitter adds under its own sources only; the import waits for review.
    out = run("add", "releases", halo, files["halo"], "--source", "HALO Trust").stdout
    assert "import #3" in out
    assert "pending" in out
    result = run("add", "releases", halo, files["npa"], "--source", "NPA", code=1)
    assert "you may not add under source 'NPA'" in result.stderr
    assert "'HALO Trust'" in result.stderr
    run("add", "releases", npa, files["npa_bad"], "--source", "NPA-2", code=1)  # all rejected
    # A viewer reads, and may add nothing.
    assert len(json.loads(run("log", viewer, "--json").stdout)) == 4
    result = run("add", "releases", viewer, files["npa"], "--source", "NPA", code=1)
    assert "may not add" in result.stderr
    # Only a manager reviews.
    result = run("review", halo, "--accept", "3", code=1)
    assert "only a manager reviews" in result.stderr
    assert "import #3" in run("review", manager, "--accept", "3").stdout
    # A manager's own import counts at once.
    done = store.add_file(manager, "releases", files["npa"], source="NPA")
    assert done.status == "accepted"
    # Rejects: each submitter sees its own sources' only; viewers and managers all.
    assert len(store.read_rejects(npa)) == 1
    assert len(store.read_rejects(halo)) == 0
    assert len(store.read_rejects(viewer)) == len(store.read_rejects(url)) == 1
    # Revoke: the viewer can no longer read.
    run("revoke", url, roles["users"]["viewer"])
    result = run("log", viewer, code=1)
    assert "has no role in this workspace" in result.stderr


def test_a_submitter_with_plain_sql_cannot_change_or_peek(roles):
    url, users = roles["url"], roles["users"]
    npa = _user_url(roles, "npa")
    store.add_file(npa, "releases", roles["files"]["npa"], source="NPA")
    store.add_file(npa, "releases", roles["files"]["npa_bad"], source="NPA-2")
    store.add_file(
        _user_url(roles, "halo"), "releases", roles["files"]["halo"], source="HALO Trust"
    )
    halo = users["halo"]
    # No update, no delete, of any row: the log, the history, the rejects, the grants.
    for statement in [
        "UPDATE minemap.minemap_imports SET status = 'accepted'",
        "UPDATE minemap.minemap_imports SET kept = 0 WHERE import_id = 1",
        "DELETE FROM minemap.minemap_imports",
        "UPDATE minemap.hazards_history SET mines_ap = 0",
        "DELETE FROM minemap.hazards_history",
        "DELETE FROM minemap.releases_history WHERE import_source = 'HALO Trust'",
        "UPDATE minemap.minemap_rejects SET problem = 'fine'",
        "DELETE FROM minemap.minemap_rejects",
        "TRUNCATE minemap.hazards_history",
        "INSERT INTO minemap.submitter_sources VALUES (session_user, 'NPA')",
        "DELETE FROM minemap.submitter_sources",
        "UPDATE minemap.minemap_meta SET value = '0'",
        "ALTER TABLE minemap.hazards_history ADD COLUMN x int",
        "DROP VIEW minemap.hazards",
    ]:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            sql(url, statement, user=halo)
    # Nor accept its own import, nor add it as accepted, nor under another's source.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sql(
            url,
            "INSERT INTO minemap.minemap_imports (import_id, imported_at, kind, file, sha256, "
            "source, read, kept, rejected, new, superseded, unchanged, warnings, read_options, "
            "minemap_version, status, imported_by) VALUES (99, now(), 'releases', 'f', 'x', "
            "'HALO Trust', 0, 0, 0, 0, 0, 0, 0, '{}', '0', 'accepted', session_user)",
            user=halo,
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sql(
            url,
            "INSERT INTO minemap.minemap_imports (import_id, imported_at, kind, file, sha256, "
            "source, read, kept, rejected, new, superseded, unchanged, warnings, read_options, "
            "minemap_version, status, imported_by) VALUES (99, now(), 'releases', 'f', 'x', "
            "'NPA', 0, 0, 0, 0, 0, 0, 0, '{}', '0', 'pending', session_user)",
            user=halo,
        )
    # Nor slip a version into an accepted import (the handover's, #2).
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sql(
            url,
            "INSERT INTO minemap.hazards_history (geom, hazard_id, import_id, import_source) "
            "VALUES (ST_GeomFromText('MULTIPOLYGON(((0 0,1 0,1 1,0 0)))', 4326), 'X', 2, "
            "'HALO Trust')",
            user=halo,
        )
    # Nor read other sources' rejects: NPA's is there, HALO sees none of it.
    assert sql(url, "SELECT count(*) FROM minemap.minemap_rejects") == [(1,)]
    assert sql(url, "SELECT count(*) FROM minemap.minemap_rejects", user=halo) == [(0,)]
    assert sql(url, "SELECT count(*) FROM minemap.minemap_rejects", user=users["npa"]) == [(1,)]
    # A viewer reads everything, changes nothing.
    viewer = users["viewer"]
    assert sql(url, "SELECT count(*) FROM minemap.minemap_rejects", user=viewer) == [(1,)]
    assert sql(url, "SELECT count(*) FROM minemap.hazards", user=viewer) == [(5,)]
    for statement in [
        "INSERT INTO minemap.minemap_meta VALUES ('x', 'y')",
        "UPDATE minemap.minemap_imports SET status = 'accepted'",
        "DELETE FROM minemap.releases_history",
    ]:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            sql(url, statement, user=viewer)
    # A manager reviews, but cannot rewrite history either, nor sign for another.
    manager = users["manager"]
    assert (
        sql(
            url,
            "UPDATE minemap.minemap_imports SET status = 'accepted', reviewed_by = session_user, "
            "reviewed_at = now() WHERE import_id = 3",
            user=manager,
        )
        == 1
    )
    for statement in [
        "UPDATE minemap.minemap_imports SET kept = 0",
        "UPDATE minemap.releases_history SET release_id = 'X'",
        "DELETE FROM minemap.minemap_imports WHERE import_id = 3",
    ]:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            sql(url, statement, user=manager)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sql(
            url,
            "UPDATE minemap.minemap_imports SET status = 'rejected', reviewed_by = 'someone' "
            "WHERE import_id = 5",
            user=manager,
        )


def test_review_changes_the_figures_exactly_when_it_should(roles, tmp_path):
    url, files = roles["url"], roles["files"]
    halo, manager = _user_url(roles, "halo"), _user_url(roles, "manager")
    before = store.read_workspace_layers(url)
    figures = {}

    def remaining(**options):
        layers = store.read_workspace_layers(url, **options)
        rem = contamination.remaining(layers["hazards"], layers["releases"], layers["districts"])
        return contamination.by_district(rem, districts=layers["districts"])

    figures["before"] = remaining()
    done = store.add_file(halo, "releases", files["halo"], source="HALO Trust")
    assert done.status == "pending"
    # Pending: no figure changes, but a preview shows it.
    pd.testing.assert_frame_equal(remaining(), figures["before"])
    assert len(store.read_workspace(url, "releases")) == len(before["releases"]) == 0
    assert len(store.read_workspace(url, "releases", include_pending=True)) == 2
    preview = remaining(include_pending=True)
    assert preview[s.RELEASED_AREA_HA].sum() > 0
    # The same through the command line: --include-pending.
    table = tmp_path / "t.csv"
    run("remaining", "--workspace", url, "--include-pending", "--by-district", table)
    assert pd.read_csv(table)[s.RELEASED_AREA_HA].sum() == pytest.approx(
        preview[s.RELEASED_AREA_HA].sum(), abs=0.01
    )
    # A rejection: it never counts; log --json says who, when and why.
    run("review", manager, "--reject", str(done.import_id), "--reason", "wrong datum")
    pd.testing.assert_frame_equal(remaining(include_pending=True), figures["before"])
    log = json.loads(run("log", halo, "--json").stdout)
    entry = log[done.import_id - 1]
    assert entry[s.IMPORT_STATUS] == "rejected"
    assert entry[s.REVIEWED_BY] == roles["users"]["manager"]
    assert entry[s.REVIEW_REASON] == "wrong datum"
    assert entry[s.REVIEWED_AT].endswith("Z")
    assert entry[s.IMPORTED_BY] == roles["users"]["halo"]
    # A rejected file may be added again; accepted, it counts, from then on.
    again = store.add_file(halo, "releases", files["halo"], source="HALO Trust")
    assert not again.already
    assert again.status == "pending"
    assert "1 import(s) wait for review" in run("review", url).stderr
    run("review", manager, "--accept", str(again.import_id))
    pd.testing.assert_frame_equal(remaining(), preview)
    assert store.add_file(halo, "releases", files["halo"], source="HALO Trust").already
    result = run("review", manager, "--accept", str(again.import_id), code=1)
    assert "is not pending: it is accepted" in result.stderr
    # A correction pending review supersedes nothing yet.
    corrected = gpd.read_file(files["halo"])
    corrected[s.ORGANISATION] = "HALO Trust, team 2"
    corrected.to_file(tmp_path / "halo_v2.geojson")
    fix = store.add_file(halo, "releases", tmp_path / "halo_v2.geojson", source="HALO Trust")
    assert (fix.superseded, fix.status) == (2, "pending")
    now = store.read_workspace(url, "releases")
    assert "HALO Trust, team 2" not in set(now.get(s.ORGANISATION, pd.Series(dtype=object)))
    previewed = store.read_workspace(url, "releases", include_pending=True)
    assert set(previewed[s.ORGANISATION]) == {"HALO Trust, team 2"}
    run("review", manager, "--reject", str(fix.import_id), "--reason", "no")
    history = store.read_history(url, "releases")
    accepted = history[history[s.IMPORT_ID] == again.import_id]
    assert accepted[s.SUPERSEDED_BY].isna().all()  # a rejected import supersedes nothing


def test_review_on_a_geopackage_is_refused_as_bad_usage(tmp_path):
    ws = tmp_path / "ws.gpkg"
    run("init", ws)
    assert "one user" in run("review", ws, "--accept", "1", code=2).stderr
    with pytest.raises(WorkspaceError, match="one user"):
        store.grant(ws, "someone", "viewer")


def test_grant_needs_createrole(roles):
    manager = _user_url(roles, "manager")
    result = run("grant", manager, "someone", "viewer", code=1)
    assert "CREATEROLE" in result.stderr
    with pytest.raises(WorkspacePermissionError):
        store.grant(manager, "someone", "viewer")


# --- many writers at once, readers that never wait ---------------------------------------

_ADD = """
import sys
from minemap import workspace
print("ready", flush=True)
sys.stdin.readline()
done = workspace.add_file(sys.argv[1], sys.argv[2], sys.argv[3], source=sys.argv[4])
print("ok", done.import_id, done.new, done.already, flush=True)
"""


def _files_for_writers(folder: Path, count: int) -> list[Path]:
    """One releases file per writer, each with its own ids and ground."""
    paths = []
    for k in range(count):
        x = 46.80 + k * 0.01
        frame = gpd.GeoDataFrame(
            {
                s.RELEASE_ID: [f"W{k}-{i}" for i in range(20)],
                s.RELEASED_ON: ["2024-01-05"] * 20,
                s.METHOD: ["cleared"] * 20,
            },
            geometry=[
                shapely.box(x + i * 1e-4, 39.9, x + i * 1e-4 + 5e-5, 39.9005) for i in range(20)
            ],
            crs=s.CANONICAL_CRS,
        )
        frame.to_file(folder / f"w{k}.geojson")
        paths.append(folder / f"w{k}.geojson")
    return paths


def test_many_adds_at_the_same_moment_all_land(pg_url, tmp_path):
    store.create_workspace(pg_url)
    writers = 6
    paths = _files_for_writers(tmp_path, writers)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _ADD, pg_url, "releases", str(p), f"team {k}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k, p in enumerate(paths)
    ]
    for child in children:
        assert child.stdout.readline().strip() == "ready"
    for child in children:  # all at once
        child.stdin.write("go\n")
        child.stdin.flush()
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        outputs.append(out.split())
    assert sorted(int(o[1]) for o in outputs) == list(range(1, writers + 1))
    assert all(o[0] == "ok" and o[2] == "20" for o in outputs)
    log = store.read_imports(pg_url)
    assert len(log) == writers
    releases = store.read_workspace(pg_url, "releases")
    assert len(releases) == 20 * writers
    assert releases[s.RELEASE_ID].is_unique
    # Each import's records are its own, in import order (the lock orders them).
    history = store.read_history(pg_url, "releases")
    assert (np.diff(history[s.IMPORT_ID].to_numpy(dtype=int)) >= 0).all()


def test_the_same_file_from_two_processes_at_once_lands_once(pg_url, tmp_path):
    store.create_workspace(pg_url)
    path = _files_for_writers(tmp_path, 1)[0]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _ADD, pg_url, "releases", str(path), "team"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for child in children:
        assert child.stdout.readline().strip() == "ready"
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    outputs = [child.communicate(timeout=300)[0].split() for child in children]
    assert sorted(o[3] for o in outputs) == ["False", "True", "True"]  # then "already"
    assert {o[1] for o in outputs} == {"1"}
    assert len(store.read_imports(pg_url)) == 1
    assert len(store.read_history(pg_url, "releases")) == 20


# --- killed at any moment -------------------------------------------------------------------

_BIG_ADD = """
import sys
from minemap import workspace
print("ready", flush=True)
workspace.add_file(sys.argv[1], "hazards", sys.argv[2], source="survey", imported_at="2024-02-01")
print("done", flush=True)
"""


@pytest.fixture(scope="module")
def corrected(tmp_path_factory):
    """3,000 hazards, and a corrected file changing half of them, bringing a new column and
    one rejected feature: a transaction with DDL, versions and rejects."""
    folder = tmp_path_factory.mktemp("corrected")
    n = 3000
    i = np.arange(n)
    x, y = 46.80 + (i % 100) * 0.002, 39.90 + (i // 100) * 0.002
    v1 = gpd.GeoDataFrame(
        {s.HAZARD_ID: [f"H-{k:05d}" for k in i], s.MINES_AP: i % 50, s.MINES_AT: i % 7},
        geometry=shapely.box(x, y, x + 0.001, y + 0.001),
        crs=s.CANONICAL_CRS,
    )
    v2 = v1.copy()
    v2.loc[v2.index % 2 == 0, s.MINES_AP] += 1
    v2.loc[n - 1, s.MINES_AP] = -1  # rejected
    v2["lot"] = "north"  # a new column: DDL inside the transaction
    v1.to_file(folder / "v1.gpkg", layer="hazards")
    v2.to_file(folder / "v2.gpkg", layer="hazards")
    return {"v1": folder / "v1.gpkg", "v2": folder / "v2.gpkg"}


#: The state after the corrected file: 2 imports, 3000 + 2999 versions (the new column
#: changes every record it holds), 1500 more mines, one reject.
def _after(before: tuple) -> tuple:
    return (2, 5999, before[2] + 1500, True, 1)


def _state(url: str) -> tuple:
    layers = store.read_workspace_layers(url, ["hazards"])
    history = store.read_history(url, "hazards")
    return (
        len(store.read_imports(url)),
        len(history),
        int(layers["hazards"][s.MINES_AP].sum()),
        "lot" in history.columns,
        len(store.read_rejects(url)),
    )


def _wait_until(check, what: str, limit: float = 120) -> None:
    """Poll the state (never a measured sleep), up to ``limit`` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if check():
            return
        time.sleep(0.005)
    raise AssertionError(f"never reached: {what}")


def _active(url: str) -> str:
    """The statements the server is running for clients other than this one."""
    rows = sql(
        url,
        "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state = 'active'",
    )
    return " ".join(r[0] for r in rows)


#: Moments of an import, each held by a lock the test takes (a reader's lock on the table
#: the import must alter, a lock on the table it must write next): the import is seen
#: waiting there, with everything before that moment written in its transaction.
MOMENTS = {
    "waiting for the import lock": ("SELECT pg_advisory_lock(%s)", "pg_advisory_xact_lock"),
    "adding a column": (
        "LOCK TABLE minemap.hazards_history IN ACCESS SHARE MODE",
        "add_column",
    ),
    "column added, writing the log": (
        "LOCK TABLE minemap.minemap_imports IN SHARE MODE",
        'INSERT INTO minemap."minemap_imports"',
    ),
    "versions written, writing the rejects": (
        "LOCK TABLE minemap.minemap_rejects IN SHARE MODE",
        'INSERT INTO minemap."minemap_rejects"',
    ),
}


def _start_import(url: str, corrected) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", _BIG_ADD, url, str(corrected["v2"])],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout.readline().strip() == "ready"
    return child


def _held(url: str, moment: str):
    """A connection holding the lock that stops the import at ``moment``."""
    con = psycopg.connect(url)
    statement = MOMENTS[moment][0]
    if "advisory" in statement:
        from minemap.workspace import postgis

        con.execute(statement, (postgis.IMPORT_LOCK,))
    else:
        con.execute(statement)
    return con


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_client_killed_at_any_moment_leaves_the_state_before(pg_url, corrected, moment):
    store.create_workspace(pg_url)
    store.add_file(pg_url, "hazards", corrected["v1"], source="survey", imported_at="2024-01-01")
    before = _state(pg_url)
    holder = _held(pg_url, moment)
    try:
        with _start_import(pg_url, corrected) as child:
            needle = MOMENTS[moment][1]
            _wait_until(lambda: needle in _active(pg_url), moment)
            child.kill()
            child.wait(60)
    finally:
        holder.close()  # the killed client's statement goes on, finds no client, rolls back
    _wait_until(lambda: not _active(pg_url), "the killed client's session ends")
    assert _state(pg_url) == before
    done = store.add_file(pg_url, "hazards", corrected["v2"], source="survey")
    assert (done.superseded, done.unchanged, done.rejected) == (2999, 0, 1)
    assert _state(pg_url) == _after(before)


@pytest.mark.slow
@pytest.mark.parametrize("moment", [*MOMENTS, "anywhere 1", "anywhere 2", "anywhere 3"])
def test_a_server_stopped_at_any_moment_leaves_the_state_before_or_after(corrected, moment):
    """`pg_ctl stop -m immediate` (a crash) while the import waits at a moment, or as soon
    as it is seen running (``anywhere``: any moment, up to its commit): after a restart, the
    workspace is exactly the state before or the state after."""
    server = pgserver.Server().init().prepare()
    try:
        url = server.database("crash")
        store.create_workspace(url)
        store.add_file(url, "hazards", corrected["v1"], source="survey", imported_at="2024-01-01")
        before = _state(url)
        holder = None if moment.startswith("anywhere") else _held(url, moment)
        with _start_import(url, corrected) as child:
            if holder is None:
                seen = int(moment.split()[1])
                stages = list(MOMENTS.values())[seen][1]
                _wait_until(lambda: stages in _active(url) or child.poll() is not None, moment)
            else:
                _wait_until(lambda: MOMENTS[moment][1] in _active(url), moment)
            server.stop("immediate")
            child.wait(120)
            finished = child.stdout.read().strip() == "done"
        if holder is not None:
            with contextlib.suppress(psycopg.Error):
                holder.close()
        server.start()
        after = _state(url)
        assert after in (before, _after(before))
        if finished:
            assert after == _after(before)
        if holder is not None:
            assert after == before
    finally:
        server.remove()


# --- what minemap never stores ------------------------------------------------------------


def test_a_geometry_nested_too_deep_is_damage_never_a_crash(pg_url):
    """Rejects keep their geometry as WKB (bytea): a row changed by plain SQL may nest a
    collection 50,000 levels deep. GEOS, whose WKB reader recurses, never sees it; the
    workspace is called damaged, naming the row, as the file readers reject it."""
    store.create_workspace(pg_url)
    store.add_file(pg_url, "hazards", RELEASES, source="handover")  # every feature rejected
    (fid,) = sql(pg_url, "SELECT min(fid) FROM minemap.minemap_rejects")[0]
    sql(
        pg_url,
        "UPDATE minemap.minemap_rejects SET wkb = %s WHERE fid = %s",
        (damage._nested_wkb(50_000), fid),
    )
    result = damage._minemap_process("log", pg_url, "--rejects")
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.stderr[-2000:]
    assert "is damaged" in errors[0]
    assert f"row {fid} of minemap_rejects" in errors[0]
    assert "nested more than 32 levels deep" in errors[0]


# --- copy between the kinds ---------------------------------------------------------------


def test_copy_gpkg_to_postgres_to_gpkg_round_trips(pg_url, tmp_path):
    """Layers now and as known on a day, history, log and rejects: identical, both ways."""
    original = damage.build(tmp_path / "a.gpkg", damage._files(tmp_path))
    run("copy", original, pg_url)
    back = tmp_path / "b.gpkg"
    run("copy", pg_url, back)
    expected = damage.figures(original)
    assert damage.same_figures(damage.figures(pg_url), expected) == []
    assert damage.same_figures(damage.figures(back), expected) == []
    store.verify_workspace(back)
    assert "no damage found" in run("log", back, "--check").stderr
    # And the copy takes new imports like the original.
    for target in (pg_url, back):
        done = store.add_file(target, "releases", RELEASES, source="ANAMA")
        assert done.import_id == 7


def test_copy_keeps_the_review(roles, tmp_path):
    url, files = roles["url"], roles["files"]
    halo = _user_url(roles, "halo")
    store.add_file(halo, "releases", files["halo"], source="HALO Trust")
    store.add_file(_user_url(roles, "npa"), "releases", files["npa"], source="NPA")
    store.review(_user_url(roles, "manager"), 3, accept=False, reason="outside the area")
    copy = tmp_path / "copy.gpkg"
    store.copy_workspace(url, copy)
    log = store.read_imports(copy)
    assert log[s.IMPORT_STATUS].tolist() == ["accepted", "accepted", "rejected", "pending"]
    for options in ({}, {"include_pending": True}):
        a = store.read_workspace_layers(url, **options)
        b = store.read_workspace_layers(copy, **options)
        for kind in s.LAYER_KINDS:
            pd.testing.assert_frame_equal(a[kind], b[kind])
    pd.testing.assert_frame_equal(store.read_imports(url), log)
    # The GeoPackage's views (what QGIS shows) hold the accepted records only.
    import pyogrio

    assert len(pyogrio.read_dataframe(copy, layer="releases")) == 0
    result = run("copy", copy, url, code=1)
    assert "holds 4 import(s)" in result.stderr
