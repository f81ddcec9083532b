//! Test support (feature `testing`): a fresh PostgreSQL database per test, dropped afterwards.
//! Shared by this crate's tests and the end-to-end harness, so there is one copy of the
//! create/drop dance.
//!
//! ```no_run
//! # async fn f() -> anyhow::Result<()> {
//! let db = mlc_store::testing::PgTestDb::create("mlc_store").await;
//! let store = mlc_store::open(db.url()).await?;
//! # Ok(())
//! # }
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// The PostgreSQL server tests use: `MLC_TEST_PG_URL`, by default the local server's `test`
/// database (any database the server has; new ones are created next to it).
pub fn pg_server_url() -> String {
    std::env::var("MLC_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A new, empty database on [`pg_server_url`]'s server, dropped (best effort, forcing out any
/// connection left open) when this is dropped.
pub struct PgTestDb {
    url: String,
    admin: String,
    name: String,
}

impl PgTestDb {
    /// Create `{prefix}_{random hex}`. Panics if the server is unreachable: a test that needs
    /// PostgreSQL fails rather than passing without it.
    pub async fn create(prefix: &str) -> PgTestDb {
        PgTestDb::create_on(&pg_server_url(), prefix).await
    }

    /// The same on the server `admin` names (a URL with a database to connect to), as the
    /// benchmarks' `MLC_BENCH_DATABASE` does.
    pub async fn create_on(admin: &str, prefix: &str) -> PgTestDb {
        let admin = admin.to_string();
        let name = format!("{prefix}_{:032x}", rand::random::<u128>());
        let mut c = PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed (MLC_TEST_PG_URL, MLC_BENCH_DATABASE): {e}"));
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut c).await.unwrap();
        let base = admin.rsplit_once('/').expect("the server URL names a database").0;
        PgTestDb { url: format!("{base}/{name}"), admin, name }
    }

    /// The new database's URL, for [`crate::open`].
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // On a side thread with its own runtime: Drop cannot await and may run inside a runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let mut c = PgConnection::connect(&admin).await.ok()?;
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sqlx::query(AssertSqlSafe(drop)).execute(&mut c).await.ok()
            })
        })
        .join();
    }
}
