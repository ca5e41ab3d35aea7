"""Numbered schema migrations, applied in order when a writable store opens.

Each migration runs inside its own transaction together with the row that records it in
`_migrations`, so a crash mid-migration leaves the database at the previous version.
Never edit a migration that has shipped; add the next number instead.
"""

import datetime
import uuid


def m001_initial(db) -> None:
    statements = [
        """CREATE TABLE files (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            path TEXT NOT NULL UNIQUE,
            size INTEGER, mtime REAL, content_hash TEXT,
            duration REAL, sample_rate INTEGER, channels INTEGER, format TEXT,
            status TEXT NOT NULL CHECK (status IN ('indexed', 'failed')),
            error TEXT, indexed_at TEXT, vector BLOB)""",
        "CREATE INDEX files_content_hash ON files(content_hash)",
        # AUTOINCREMENT: segment ids are FAISS ids and must never be reused, so a stale id
        # left in the FAISS cache can never point at a different vector.
        """CREATE TABLE segments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            file_id INTEGER NOT NULL REFERENCES files(id),
            start REAL NOT NULL, "end" REAL NOT NULL,
            vector BLOB NOT NULL)""",
        "CREATE INDEX segments_file_id ON segments(file_id)",
        """CREATE TABLE labels (
            file_id INTEGER NOT NULL REFERENCES files(id),
            label_set TEXT NOT NULL, label TEXT NOT NULL, score REAL NOT NULL, model TEXT NOT NULL,
            PRIMARY KEY (file_id, label_set, label, model))""",
        """CREATE TABLE text_cache (
            fingerprint TEXT NOT NULL, text TEXT NOT NULL, vector BLOB NOT NULL,
            PRIMARY KEY (fingerprint, text))""",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
    ]
    for statement in statements:
        db.execute(statement)
    # store_id ties the FAISS cache to this database; generation counts committed vector changes.
    db.execute("INSERT INTO meta(key, value) VALUES ('store_id', ?), ('generation', '0')",
               [uuid.uuid4().hex])


def m002_files_filter_index(db) -> None:
    # Covers the search filters and stats, so they never read the rows' pooled-vector blobs.
    db.execute("CREATE INDEX files_filter ON files(status, duration, path)")


def m003_file_warnings(db) -> None:
    # What was odd about an indexed file's audio (cut short, NaN samples, a decoder error partway):
    # a JSON list of one-line warnings, NULL when there were none.
    db.execute("ALTER TABLE files ADD COLUMN warnings TEXT")


MIGRATIONS = [m001_initial, m002_files_filter_index, m003_file_warnings]


def pending(db) -> list:
    """Migrations not yet recorded in `_migrations` (all of them for a fresh database)."""
    if "_migrations" not in db.table_names():
        return list(MIGRATIONS)
    done = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
    return [m for m in MIGRATIONS if m.__name__ not in done]


def apply(db) -> int:
    """Apply every pending migration; returns how many ran."""
    todo = pending(db)
    for migration in todo:
        with db.atomic():
            db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
            migration(db)
            db.execute("INSERT INTO _migrations(name, applied_at) VALUES (?, ?)",
                       [migration.__name__, datetime.datetime.now(datetime.timezone.utc).isoformat()])
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                       [str(MIGRATIONS.index(migration) + 1)])
    return len(todo)
