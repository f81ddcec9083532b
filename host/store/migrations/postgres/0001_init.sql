-- ml-connector store, PostgreSQL. Times are unix milliseconds from the database clock.
CREATE TABLE jobs (
    id           BIGSERIAL PRIMARY KEY,
    connection   TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    payload      BYTEA   NOT NULL,
    record_key   TEXT,
    state        TEXT    NOT NULL,
    attempt      INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       BIGINT  NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT,
    wait_key     TEXT,
    last_error   TEXT,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
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
    connection TEXT   NOT NULL,
    record_key TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    state      TEXT   NOT NULL,
    canonical  TEXT,
    ledger     TEXT,
    last_error TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (connection, record_key)
);

CREATE TABLE audit_events (
    id          BIGSERIAL PRIMARY KEY,
    at          BIGINT NOT NULL,
    connection  TEXT   NOT NULL,
    record_key  TEXT,
    job_id      BIGINT,
    stage       TEXT   NOT NULL,
    outcome     TEXT   NOT NULL,
    detail      TEXT   NOT NULL,
    component   TEXT,
    duration_ms BIGINT
);
CREATE INDEX audit_record ON audit_events (connection, record_key, id);
CREATE INDEX audit_job ON audit_events (connection, job_id, id);
-- The timeline is append-only.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END $$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();

CREATE TABLE component_state (
    scope      TEXT   NOT NULL,
    key        TEXT   NOT NULL,
    value      BYTEA  NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    ciphertext BYTEA  NOT NULL,
    updated_at BIGINT NOT NULL
);
