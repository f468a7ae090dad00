"""The tables of a PostgreSQL workspace (schema ``minemap``), its views, and what the
database itself enforces: roles, grants and row-level security.

Layout (the same data model as a GeoPackage workspace, with PostgreSQL's types):

- ``minemap_meta`` (key, value): ``schema_version``, ``created_at``, the role names;
- ``minemap_imports``: the log, with ``status`` (``accepted``, ``pending``,
  ``rejected``), ``imported_by`` (the database role), ``reviewed_by``,
  ``reviewed_at`` and ``review_reason``;
- ``<kind>_history``: every version of every record (geometry ``geometry(MultiPolygon,
  4326)`` or ``geometry(Point, 4326)``), the import that brought it and its source.
  Which version is current is not stored (a submitter may not update a row): it is
  the last version of each record (id and source) that an accepted import brought;
- ``<kind>``: views of the current records (accepted imports) for QGIS;
- ``minemap_rejects``: rejected features with their reasons and the source of their
  import, the geometry as read in ``wkb`` (ISO WKB: PostGIS refuses some of what
  files hold, such as unclosed rings);
- ``submitter_sources`` (member, source): the sources each submitter adds under.

Three group roles per database, ``minemap_<db>_viewer``, ``_submitter`` and
``_manager``: viewers read; submitters read, and insert (never update or delete)
imports, versions and rejects under their own sources only, as ``pending``
imports, and read only their own sources' rejects; managers read everything,
insert as ``accepted``, and review (update the log's review columns).
"""

from __future__ import annotations

import hashlib

from minemap import io as mio
from minemap import schema as s
from minemap.workspace.model import (
    BOOLEAN,
    DATE,
    DATETIME,
    FID,
    GEOM,
    GEOMETRY_TYPES,
    IMPORTS_TABLE,
    INTEGER,
    META_TABLE,
    REAL,
    REJECTS_TABLE,
    SRS_ID,
    STATUSES,
    TEXT,
    canonical_columns,
    history_table,
    q,
)

SCHEMA = "minemap"
SOURCES_TABLE = "submitter_sources"
#: A rejected feature's geometry as read, as WKB: PostGIS refuses some of what files hold
#: (a ring of three points, for one), and a reject is kept as it was read.
REJECT_WKB = "wkb"
#: The layout of the tables this minemap writes in a database.
SCHEMA_VERSION = 1
ROLES = ("viewer", "submitter", "manager")

#: PostgreSQL's type for each column type, and back.
PG_TYPES = {
    TEXT: "text",
    INTEGER: "bigint",
    REAL: "double precision",
    DATE: "date",
    DATETIME: "timestamp(3) with time zone",
    BOOLEAN: "boolean",
}
FROM_PG = {
    "text": TEXT,
    "bigint": INTEGER,
    "integer": INTEGER,
    "double precision": REAL,
    "date": DATE,
    "timestamp with time zone": DATETIME,
    "timestamp(3) with time zone": DATETIME,
    "boolean": BOOLEAN,
}
#: A moment as canonical text (UTC, to the microsecond, as the log's stamps are written).
STAMP_SQL = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


def t(name: str) -> str:
    """A table of the workspace, qualified and quoted."""
    return f"{SCHEMA}.{q(name)}"


def canonical_sql(column: str, column_type: str, prefix: str = "") -> str:
    """An expression giving a column's values in canonical form (as a GeoPackage holds them)."""
    ref = prefix + q(column)
    if column_type == DATE:
        return f"to_char({ref}, 'YYYY-MM-DD')"
    if column_type == DATETIME:
        return f"to_char({ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    if column_type == BOOLEAN:
        return f"{ref}::int::bigint"
    return ref


def role_name(database: str, role: str) -> str:
    """The group role of a database's viewers, submitters or managers (at most 63 bytes)."""
    name = f"minemap_{database}_{role}"
    if len(name.encode()) > 63:
        digest = hashlib.sha256(database.encode()).hexdigest()[:10]
        name = f"minemap_{digest}_{role}"
    return name


def _imports_sql() -> str:
    statuses = ", ".join(f"'{x}'" for x in STATUSES)
    kinds = ", ".join(f"'{k}'" for k in s.LAYER_KINDS)
    return f"""CREATE TABLE {t(IMPORTS_TABLE)} (
        {s.IMPORT_ID} bigint PRIMARY KEY,
        {s.IMPORTED_AT} timestamp with time zone NOT NULL,
        {s.KIND} text NOT NULL CHECK ({s.KIND} IN ({kinds})),
        {s.FILE} text NOT NULL,
        {s.SHA256} text NOT NULL,
        {s.SOURCE} text,
        {q(s.READ)} bigint NOT NULL,
        {s.KEPT} bigint NOT NULL,
        {s.REJECTED} bigint NOT NULL,
        {s.NEW} bigint NOT NULL,
        {s.SUPERSEDED} bigint NOT NULL,
        {s.UNCHANGED} bigint NOT NULL,
        {s.WARNINGS} bigint NOT NULL,
        {s.READ_OPTIONS} text NOT NULL,
        {s.MINEMAP_VERSION} text NOT NULL,
        {s.IMPORT_STATUS} text NOT NULL CHECK ({s.IMPORT_STATUS} IN ({statuses})),
        {s.IMPORTED_BY} text,
        {s.REVIEWED_BY} text,
        {s.REVIEWED_AT} timestamp with time zone,
        {s.REVIEW_REASON} text)"""


def create(con, database: str, version: str) -> None:
    """Create every table, view, function and policy (inside the caller's transaction)."""
    con.execute(f"CREATE SCHEMA {SCHEMA}")
    con.execute(f"CREATE TABLE {t(META_TABLE)} (key text PRIMARY KEY, value text NOT NULL)")
    rows = [
        ("schema_version", str(SCHEMA_VERSION)),
        ("created_by", f"minemap {version}"),
        *((f"role:{r}", role_name(database, r)) for r in ROLES),
    ]
    for key, value in rows:
        con.execute(f"INSERT INTO {t(META_TABLE)} (key, value) VALUES (%s, %s)", (key, value))
    now = STAMP_SQL.format("now()")
    con.execute(f"INSERT INTO {t(META_TABLE)} (key, value) VALUES ('created_at', {now})")
    con.execute(_imports_sql())
    con.execute(
        f"CREATE UNIQUE INDEX {IMPORTS_TABLE}_file ON {t(IMPORTS_TABLE)} "
        f"({s.SHA256}, {s.KIND}, {s.READ_OPTIONS}) "
        f"WHERE NOT ({s.KEPT} = 0 AND {s.REJECTED} > 0) AND {s.IMPORT_STATUS} <> 'rejected'"
    )
    for kind in s.LAYER_KINDS:
        table = history_table(kind)
        id_col = s.ID_COLUMN[kind]
        geometry = "MultiPolygon" if GEOMETRY_TYPES[kind] == "MULTIPOLYGON" else "Point"
        columns = ", ".join(
            f"{q(c)} {PG_TYPES[kind_type]}" + (" NOT NULL" if c == id_col else "")
            for c, kind_type in canonical_columns(kind).items()
        )
        con.execute(
            f"""CREATE TABLE {t(table)} (
                {FID} bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                {GEOM} geometry({geometry}, {SRS_ID}),
                {columns},
                {s.IMPORT_ID} bigint NOT NULL REFERENCES {t(IMPORTS_TABLE)} ({s.IMPORT_ID}),
                {s.IMPORT_SOURCE} text NOT NULL DEFAULT '')"""
        )
        con.execute(
            f"CREATE INDEX {q(table + '_key')} ON {t(table)} "
            f"({q(id_col)}, {s.IMPORT_SOURCE}, {FID})"
        )
        con.execute(f"CREATE INDEX {q(table + '_geom')} ON {t(table)} USING gist ({GEOM})")
    con.execute(
        f"""CREATE TABLE {t(REJECTS_TABLE)} (
            {FID} bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            {REJECT_WKB} bytea,
            {s.IMPORT_ID} bigint NOT NULL REFERENCES {t(IMPORTS_TABLE)} ({s.IMPORT_ID}),
            {s.LAYER} text NOT NULL,
            {mio.SOURCE_ROW} bigint,
            {s.FEATURE_ID} text,
            {mio.PROBLEM} text NOT NULL,
            {s.ATTRIBUTES} json NOT NULL,
            {s.IMPORT_SOURCE} text NOT NULL DEFAULT '')"""
    )
    con.execute(
        f"""CREATE TABLE {t(SOURCES_TABLE)} (
            member text NOT NULL, source text NOT NULL, PRIMARY KEY (member, source))"""
    )
    for statement in _FUNCTIONS:
        con.execute(statement)
    for kind in s.LAYER_KINDS:
        con.execute(f"SELECT {SCHEMA}.create_view(%s)", (kind,))
    _policies(con)


_KINDS_CASE = " ".join(f"WHEN '{k}' THEN '{s.ID_COLUMN[k]}'" for k in s.LAYER_KINDS)
_TYPES_LIST = ", ".join(f"'{x}'" for x in PG_TYPES.values())
_FUNCTIONS = (
    # The view of a layer's current records: for each record (id and source), the last
    # version an accepted import brought. Re-made when a column is added; the group
    # roles' right to read it with it.
    f"""CREATE FUNCTION {SCHEMA}.create_view(kind text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, public AS $$
    DECLARE
        cols text;
        idcol text := CASE kind {_KINDS_CASE} END;
        grantee text;
    BEGIN
        IF idcol IS NULL THEN RAISE EXCEPTION 'no layer %', kind; END IF;
        SELECT string_agg(format('h.%I', attname), ', ' ORDER BY attnum) INTO cols
        FROM pg_attribute
        WHERE attrelid = format('{SCHEMA}.%I', kind || '_history')::regclass
          AND attnum > 0 AND NOT attisdropped
          AND attname NOT IN ('{FID}', '{GEOM}', '{s.IMPORT_ID}', '{s.IMPORT_SOURCE}');
        EXECUTE format('DROP VIEW IF EXISTS {SCHEMA}.%I', kind);
        EXECUTE format(
            'CREATE VIEW {SCHEMA}.%I WITH (security_invoker = true) AS '
            'SELECT DISTINCT ON (h.%I, h.{s.IMPORT_SOURCE}) h.{FID}, h.{GEOM}, %s '
            'FROM {SCHEMA}.%I h JOIN {SCHEMA}.{IMPORTS_TABLE} i USING ({s.IMPORT_ID}) '
            'WHERE i.{s.IMPORT_STATUS} = ''accepted'' '
            'ORDER BY h.%I, h.{s.IMPORT_SOURCE}, h.{FID} DESC',
            kind, idcol, cols, kind || '_history', idcol);
        FOR grantee IN SELECT value FROM {SCHEMA}.{META_TABLE} WHERE key LIKE 'role:%'
        LOOP
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = grantee) THEN
                EXECUTE format('GRANT SELECT ON {SCHEMA}.%I TO %I', kind, grantee);
            END IF;
        END LOOP;
    END $$""",
    # A column a file brings, added for anyone who may add (submitters may not alter tables).
    f"""CREATE FUNCTION {SCHEMA}.add_column(kind text, name text, type text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, public AS $$
    BEGIN
        IF kind NOT IN ({", ".join(f"'{k}'" for k in s.LAYER_KINDS)}) THEN
            RAISE EXCEPTION 'no layer %', kind;
        END IF;
        IF type NOT IN ({_TYPES_LIST}) THEN RAISE EXCEPTION 'no column type %', type; END IF;
        EXECUTE format('ALTER TABLE {SCHEMA}.%I ADD COLUMN %I %s', kind || '_history', name, type);
        PERFORM {SCHEMA}.create_view(kind);
    END $$""",
    # The sources a role may add under (a submitter's own; none for others).
    f"""CREATE FUNCTION {SCHEMA}.my_sources() RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {SCHEMA}, public AS $$
        SELECT source FROM {SCHEMA}.{SOURCES_TABLE} WHERE member = session_user
    $$""",
    # Whether an import is one the role made and that waits for review (a submitter may
    # add versions and rejects to it only).
    f"""CREATE FUNCTION {SCHEMA}.my_pending(id bigint, what text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {SCHEMA}, public AS $$
        SELECT EXISTS (
            SELECT 1 FROM {SCHEMA}.{IMPORTS_TABLE}
            WHERE {s.IMPORT_ID} = id AND {s.IMPORTED_BY} = session_user
              AND {s.IMPORT_STATUS} = 'pending' AND (what IS NULL OR {s.KIND} = what))
    $$""",
)


def _policies(con) -> None:
    """Row-level security: what a submitter may insert and read (managers and viewers are
    not limited by rows; the owner bypasses the policies)."""
    own = f"coalesce({{}}, '') IN (SELECT {SCHEMA}.my_sources())"
    tables = [IMPORTS_TABLE, REJECTS_TABLE, *(history_table(k) for k in s.LAYER_KINDS)]
    for table in tables:
        con.execute(f"ALTER TABLE {t(table)} ENABLE ROW LEVEL SECURITY")
        con.execute(f"CREATE POLICY everyone_reads ON {t(table)} FOR SELECT USING (true)")
        con.execute(f"CREATE POLICY managers_add ON {t(table)} FOR INSERT WITH CHECK (true)")
    con.execute(
        f"CREATE POLICY submitters_add ON {t(IMPORTS_TABLE)} FOR INSERT WITH CHECK ("
        f"{s.IMPORT_STATUS} = 'pending' AND {s.IMPORTED_BY} = session_user "
        f"AND {s.REVIEWED_BY} IS NULL AND {s.REVIEWED_AT} IS NULL "
        f"AND {own.format(s.SOURCE)})"
    )
    con.execute(
        f"CREATE POLICY managers_review ON {t(IMPORTS_TABLE)} FOR UPDATE USING (true) "
        f"WITH CHECK ({s.REVIEWED_BY} = session_user)"
    )
    for kind in s.LAYER_KINDS:
        con.execute(
            f"CREATE POLICY submitters_add ON {t(history_table(kind))} FOR INSERT WITH CHECK ("
            f"{own.format(s.IMPORT_SOURCE)} AND {SCHEMA}.my_pending({s.IMPORT_ID}, '{kind}'))"
        )
    con.execute(f"DROP POLICY everyone_reads ON {t(REJECTS_TABLE)}")
    con.execute(f"CREATE POLICY readers_read ON {t(REJECTS_TABLE)} FOR SELECT USING (true)")
    con.execute(
        f"CREATE POLICY submitters_read_theirs ON {t(REJECTS_TABLE)} FOR SELECT "
        f"USING ({own.format(s.IMPORT_SOURCE)})"
    )
    con.execute(
        f"CREATE POLICY submitters_add ON {t(REJECTS_TABLE)} FOR INSERT WITH CHECK ("
        f"{own.format(s.IMPORT_SOURCE)} AND {SCHEMA}.my_pending({s.IMPORT_ID}, NULL))"
    )


def apply_roles(con, database: str) -> list[str]:
    """Create the group roles where they are missing (the user needs CREATEROLE) and give
    them their rights; limit each policy to its roles. Returns the roles made."""
    names = {r: role_name(database, r) for r in ROLES}
    made = []
    for role, name in names.items():
        found = con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
        if found is None:
            con.execute(f"CREATE ROLE {q(name)} NOLOGIN")
            made.append(name)
        del role
    viewer, submitter, manager = (q(names[r]) for r in ROLES)
    everyone = f"{viewer}, {submitter}, {manager}"
    tables = [META_TABLE, IMPORTS_TABLE, REJECTS_TABLE, SOURCES_TABLE]
    tables += [history_table(k) for k in s.LAYER_KINDS] + list(s.LAYER_KINDS)
    con.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {everyone}")
    con.execute(f"GRANT SELECT ON {', '.join(t(x) for x in tables)} TO {everyone}")
    adding = [IMPORTS_TABLE, REJECTS_TABLE, *(history_table(k) for k in s.LAYER_KINDS)]
    con.execute(f"GRANT INSERT ON {', '.join(t(x) for x in adding)} TO {submitter}, {manager}")
    con.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {submitter}, {manager}")
    review = ", ".join((s.IMPORT_STATUS, s.REVIEWED_BY, s.REVIEWED_AT, s.REVIEW_REASON))
    con.execute(f"GRANT UPDATE ({review}) ON {t(IMPORTS_TABLE)} TO {manager}")
    con.execute(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {SCHEMA} FROM PUBLIC")
    con.execute(
        f"GRANT EXECUTE ON FUNCTION {SCHEMA}.add_column(text, text, text) TO {submitter}, {manager}"
    )
    con.execute(
        f"GRANT EXECUTE ON FUNCTION {SCHEMA}.my_sources(), {SCHEMA}.my_pending(bigint, text) "
        f"TO {everyone}"
    )
    # Each policy for its roles only (policies for no role named apply to PUBLIC).
    for table in [IMPORTS_TABLE, *(history_table(k) for k in s.LAYER_KINDS), REJECTS_TABLE]:
        con.execute(f"ALTER POLICY managers_add ON {t(table)} TO {manager}")
        con.execute(f"ALTER POLICY submitters_add ON {t(table)} TO {submitter}")
        if table != REJECTS_TABLE:
            con.execute(f"ALTER POLICY everyone_reads ON {t(table)} TO {everyone}")
    con.execute(f"ALTER POLICY managers_review ON {t(IMPORTS_TABLE)} TO {manager}")
    con.execute(f"ALTER POLICY readers_read ON {t(REJECTS_TABLE)} TO {viewer}, {manager}")
    con.execute(f"ALTER POLICY submitters_read_theirs ON {t(REJECTS_TABLE)} TO {submitter}")
    for kind in s.LAYER_KINDS:
        con.execute(f"SELECT {SCHEMA}.create_view(%s)", (kind,))
    return made
