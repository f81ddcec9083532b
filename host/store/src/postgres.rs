//! The PostgreSQL backend, for several host replicas sharing one queue: its dialect and how a
//! store is opened.

use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgPoolOptions, PgQueryResult};
use sqlx::{Executor, PgConnection, Pool, Postgres};

use crate::sql::{Dialect, Driver, RowsAffected, SqlStore};

/// For several host replicas sharing one queue. `writer` is the same pool: PostgreSQL's row
/// locks need no single writer.
pub type PgStore = SqlStore<Postgres>;

impl SqlStore<Postgres> {
    pub async fn connect(url: &str) -> anyhow::Result<PgStore> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(15)).connect(url).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await.context("migrating the PostgreSQL store")?;
        Ok(PgStore { writer: pool.clone(), pool })
    }
}

impl Dialect for Postgres {
    const BACKEND: &'static str = "postgres";
    const NOW: &'static str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    const BEGIN: &'static str = "BEGIN";
    // Two-key advisory locks are a key space of their own; 7171171 = 0x6d6c63 = "mlc".
    const LOCK_WAIT_KEY: Option<&'static str> = Some("SELECT pg_advisory_xact_lock(7171171, hashtext($1))");
}

impl Driver for Postgres {
    fn on_pool(pool: &Pool<Postgres>) -> impl Executor<'_, Database = Postgres> {
        pool
    }
    fn on_conn(conn: &mut PgConnection) -> impl Executor<'_, Database = Postgres> {
        conn
    }
}

impl RowsAffected for PgQueryResult {
    fn rows_affected(&self) -> u64 {
        PgQueryResult::rows_affected(self)
    }
}
