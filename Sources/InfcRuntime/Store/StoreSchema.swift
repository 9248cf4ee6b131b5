// Runtime state: the SQLite schema of the state database, as an append-only list of migrations.

/// The schema of the state database. `migrations[i]` takes `PRAGMA user_version` from `i` to
/// `i + 1`; entries are only ever appended, never edited, so old state files keep upgrading.
enum StoreSchema {
    static let migrations: [String] = [version1, version2, version3, version4, version5, version6]

    /// Times are REAL seconds since the epoch, supplied by the caller. JSON values are stored as
    /// their serialized text.
    static let version1 = """
        CREATE TABLE documents (
            tbl   TEXT NOT NULL,
            key   TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (tbl, key)
        ) WITHOUT ROWID;

        CREATE TABLE objects (
            bucket TEXT NOT NULL,
            key    TEXT NOT NULL,
            data   BLOB NOT NULL,
            PRIMARY KEY (bucket, key)
        );

        CREATE TABLE queue_messages (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            queue         TEXT NOT NULL,
            body          TEXT NOT NULL,
            trace         TEXT NOT NULL,
            topic         TEXT,
            enqueued_at   REAL NOT NULL,
            visible_at    REAL NOT NULL,
            receive_count INTEGER NOT NULL DEFAULT 0,
            receipt       TEXT,
            last_error    TEXT
        );
        CREATE INDEX queue_messages_visible ON queue_messages (queue, visible_at, id);

        CREATE TABLE dead_letters (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            message_id    INTEGER NOT NULL,
            queue         TEXT NOT NULL,
            body          TEXT NOT NULL,
            trace         TEXT NOT NULL,
            topic         TEXT,
            receive_count INTEGER NOT NULL,
            error         TEXT NOT NULL,
            enqueued_at   REAL NOT NULL,
            dead_at       REAL NOT NULL
        );
        CREATE INDEX dead_letters_queue ON dead_letters (queue, id);

        CREATE TABLE workflow_executions (
            id         TEXT PRIMARY KEY,
            workflow   TEXT NOT NULL,
            input      TEXT NOT NULL,
            trace      TEXT NOT NULL,
            status     TEXT NOT NULL CHECK (status IN ('running', 'sleeping', 'completed', 'failed')),
            result     TEXT,
            error      TEXT,
            wake_at    REAL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX workflow_executions_status ON workflow_executions (status, wake_at, id);

        CREATE TABLE workflow_steps (
            execution   TEXT NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
            step_key    TEXT NOT NULL,
            result      TEXT NOT NULL,
            recorded_at REAL NOT NULL,
            PRIMARY KEY (execution, step_key)
        ) WITHOUT ROWID;

        CREATE TABLE schedules (
            name      TEXT PRIMARY KEY,
            last_fire REAL NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE invocation_counts (
            function    TEXT PRIMARY KEY,
            invocations INTEGER NOT NULL,
            failures    INTEGER NOT NULL
        ) WITHOUT ROWID;
        """

    /// The runtime's invocation records, one row per function invocation or workflow execution,
    /// linked by trace id and parent invocation: what `infc trace ID` prints as a tree.
    static let version2 = """
        CREATE TABLE invocations (
            id          TEXT PRIMARY KEY,
            trace       TEXT NOT NULL,
            parent      TEXT,
            function    TEXT NOT NULL,
            kind        TEXT NOT NULL,
            trigger     TEXT NOT NULL,
            started_at  REAL NOT NULL,
            duration_ms REAL,
            outcome     TEXT NOT NULL,
            error       TEXT
        ) WITHOUT ROWID;
        CREATE INDEX invocations_trace ON invocations (trace, started_at);
        CREATE INDEX invocations_started ON invocations (started_at);
        """

    /// Invocation records moved to the trace log (`TraceLog`, files beside the database):
    /// appending them there costs a `write` per batch instead of three B-tree inserts each.
    /// Records of earlier versions are dropped with the table.
    static let version3 = """
        DROP TABLE invocations;
        """

    /// Objects keep the media type they were stored with: bytes put in a bucket come back as the
    /// same bytes of the same type. NULL is an object stored from text (every earlier object).
    static let version4 = """
        ALTER TABLE objects ADD COLUMN content_type TEXT;
        """

    /// Every failed attempt of a message, not only the last: a JSON list of `{"at": TIME,
    /// "error": TEXT}`, oldest first, carried into the dead letter. NULL: no attempt failed yet.
    static let version5 = """
        ALTER TABLE queue_messages ADD COLUMN errors TEXT;
        ALTER TABLE dead_letters ADD COLUMN errors TEXT;
        """

    /// What `infc status` and `infc schedule list` show without the manifest: each schedule's
    /// interval or cron text and its next firing, written by the runtime's scheduler (NULL for a
    /// schedule the running version no longer has).
    static let version6 = """
        ALTER TABLE schedules ADD COLUMN every TEXT;
        ALTER TABLE schedules ADD COLUMN next_fire REAL;
        """
}
