//! The emulated GP company databases, in SQLite, with GP's table names where GP has one.
//!
//! A temporary file in WAL mode rather than `sqlite::memory:`: every pooled connection to an
//! in-memory database would see its own empty database, and a shared-cache one reports lock
//! conflicts instead of waiting. Writes take the write lock up front (`BEGIN IMMEDIATE`), so
//! the duplicate check and the insert of a document cannot interleave with another request's.
//!
//! One file per GP area: company setup (companies, currencies, checkbooks), fiscal periods,
//! customers, batches, receivables documents, applies and the Web Services exception log. The
//! tables are created by `migrations/*.sql`.

mod addresses;
mod applies;
mod batches;
mod company;
mod customers;
mod documents;
mod periods;
pub mod posting;
mod reference;
mod validation_log;

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Row, SqlitePool, Transaction};

pub use addresses::Address;
pub use applies::ApplyRow;
pub use batches::BatchHeader;
pub use documents::{Balance, DocTable};
pub use posting::{BatchDocument, OpenItem};
pub use reference::{Rate, SeedValue};

pub type Tx = Transaction<'static, sqlx::Sqlite>;

/// The schema, in order, compiled in from `migrations/`. Applied with `include_str!` rather than
/// `sqlx::migrate!`: the emulator's database is disposable (a temporary file per run) and every
/// statement is `IF NOT EXISTS`, so re-running them on each open is all it needs. sqlx's
/// migrator would add a `_sqlx_migrations` table to GP's tables and refuse a database kept with
/// `--database` as soon as a migration file is edited (checksum mismatch): useful for the host's
/// store, only in the way for a test double.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_gp_tables", include_str!("../../migrations/0001_gp_tables.sql")),
    ("0002_reference_and_lines", include_str!("../../migrations/0002_reference_and_lines.sql")),
    ("0003_posting", include_str!("../../migrations/0003_posting.sql")),
];

/// Columns added to tables of earlier migrations: (table, column, declaration). SQLite has no
/// `ADD COLUMN IF NOT EXISTS`, so [`Db::open`] adds each one only when `PRAGMA table_info`
/// lacks it (a kept `--database` file opens again).
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    // RM20201: the write-off taken with an apply (WROFAMNT) and the apply's GL posting date.
    ("rm20201", "wrofamnt", "INTEGER NOT NULL DEFAULT 0"),
    ("rm20201", "glpostdt", "TEXT"),
    // SY00500: the batch's GL posting date and origin (taCreateUpdateBatchHeaderRcd).
    ("sy00500", "glpostdt", "TEXT"),
    ("sy00500", "origin", "INTEGER"),
    // The GL posting date of a void (taRMVoidTransaction GLPOSTDT).
    ("rm_document_ext", "void_glpostdt", "TEXT"),
];

#[derive(Clone)]
pub struct Db {
    pool: SqlitePool,
}

fn bool_col(row: &SqliteRow, col: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

async fn add_column(pool: &SqlitePool, table: &str, column: &str, declaration: &str) -> sqlx::Result<()> {
    let info = sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA table_info({table})"))).fetch_all(pool).await?;
    let present = info.iter().any(|r| r.try_get::<String, _>("name").is_ok_and(|n| n.eq_ignore_ascii_case(column)));
    if !present {
        let sql = format!("ALTER TABLE {table} ADD COLUMN {column} {declaration}");
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
    }
    Ok(())
}

impl Db {
    /// Opens (creating) the database file at `path`.
    pub async fn open(path: &Path) -> anyhow::Result<Db> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .with_context(|| format!("opening the GP sandbox database {}", path.display()))?;
        for &(name, sql) in MIGRATIONS {
            sqlx::raw_sql(sql).execute(&pool).await.with_context(|| format!("GP sandbox migration {name}"))?;
        }
        for &(table, column, declaration) in ADDED_COLUMNS {
            add_column(&pool, table, column, declaration)
                .await
                .with_context(|| format!("GP sandbox {table}.{column}"))?;
        }
        Ok(Db { pool })
    }

    /// Starts a write: takes SQLite's write lock immediately so check-then-insert is atomic.
    pub async fn begin_write(&self) -> sqlx::Result<Tx> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
