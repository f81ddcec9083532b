-- ml-connector store, SQLite. Times are unix milliseconds from the database clock.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    connection   TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    payload      BLOB    NOT NULL,
    record_key   TEXT,
    state        TEXT    NOT NULL,
    attempt      INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER,
    wait_key     TEXT,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (connection, key)
);
CREATE INDEX jobs_due ON jobs (state, run_at);
CREATE INDEX jobs_connection ON jobs (connection, state);
CREATE INDEX jobs_waiting ON jobs (connection, wait_key) WHERE state = 'waiting';
CREATE INDEX jobs_record ON jobs (connection, record_key);

CREATE TABLE connections (
    id          TEXT PRIMARY KEY,
    max_running INTEGER NOT NULL
);

CREATE TABLE records (
    connection TEXT    NOT NULL,
    record_key TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    canonical  TEXT,
    ledger     TEXT,
    last_error TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (connection, record_key)
);

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    connection  TEXT    NOT NULL,
    record_key  TEXT,
    job_id      INTEGER,
    stage       TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    component   TEXT,
    duration_ms INTEGER
);
CREATE INDEX audit_record ON audit_events (connection, record_key, id);
CREATE INDEX audit_job ON audit_events (connection, job_id, id);
-- The timeline is append-only.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;

CREATE TABLE component_state (
    scope      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      BLOB    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    ciphertext BLOB    NOT NULL,
    updated_at INTEGER NOT NULL
);
