//! Runs a checked [`Document`] as one SQL transaction, and the read queries, on a small pool of
//! connections (docs/econnect.md: BEGIN; each call's wrapper; ROLLBACK + error texts on a
//! refusal; COMMIT).
//!
//! What a broken connection means depends on where it broke: before COMMIT was sent, the
//! server rolled the transaction back (`Transient`, "not committed"); after, the outcome is
//! unknown (`Transient`, "outcome unknown, look the document up"). A client that saw any error
//! other than a clean answer is closed, never pooled.

use std::collections::BTreeMap;

use tiberius::{Row, ToSql};

use crate::cells;
use crate::document::{Call, Document};
use crate::error::{EconnectError, Refusal};
use crate::pool::{Conn, Pool, Server, SqlClient};
use crate::queries::{self, QueryName, Rows};
use crate::sql;

/// One server's executor: share it (it is a pool).
pub struct Executor {
    pool: Pool,
}

/// How one step ended, when it did not answer cleanly.
enum Fail {
    /// SQL Server answered with an error (number, text).
    Server(u32, String),
    /// No (usable) answer: I/O, protocol, timeout.
    Lost(String),
}

impl Executor {
    pub fn new(server: Server) -> Executor {
        Executor { pool: Pool::new(server) }
    }

    pub fn server(&self) -> &Server {
        &self.pool.server
    }

    /// Run `doc` in one transaction. `Ok` = committed.
    pub async fn execute(&self, doc: &Document) -> Result<(), EconnectError> {
        let mut conn = self.begin().await?;
        for call in &doc.calls {
            let node = call.proc.name;
            let answer = match self.run_call(&mut conn.client, call).await {
                Ok(a) => a,
                Err(Fail::Lost(why)) => {
                    return Err(EconnectError::Transient(format!(
                        "{node}: {why}; the connection broke before COMMIT: not committed (the server rolled back)"
                    )));
                }
                Err(Fail::Server(n, text)) => {
                    self.rollback(conn).await;
                    return Err(EconnectError::Server(format!("{node}: error {n}: {text} (rolled back)")));
                }
            };
            let (rc, state, error_string) = match answer {
                Ok(a) => a,
                Err(why) => {
                    self.rollback(conn).await;
                    return Err(EconnectError::Server(format!("{node}: {why} (rolled back)")));
                }
            };
            if state != 0 {
                tracing::debug!(node, rc, state, error_string = %error_string, "eConnect refused the call");
                return Err(self.refused(conn, node, state, &error_string).await);
            }
        }
        match self.batch(&mut conn.client, sql::COMMIT).await {
            Ok(()) => {
                conn.release();
                Ok(())
            }
            Err(Fail::Server(n, text)) => Err(EconnectError::Server(format!("COMMIT TRANSACTION: error {n}: {text}"))),
            Err(Fail::Lost(why)) => Err(EconnectError::Transient(format!(
                "COMMIT TRANSACTION was sent but {why}: outcome unknown, look the document up before retrying"
            ))),
        }
    }

    /// Run a read query; `params` as text, read per the query's kinds.
    pub async fn query(&self, query: QueryName, params: &[String]) -> Result<Rows, EconnectError> {
        let typed = queries::parse_params(query, params)?;
        let refs: Vec<&dyn ToSql> = typed.iter().map(|p| p as &dyn ToSql).collect();
        let mut fresh = false;
        loop {
            let mut conn = self.pool.get(fresh).await?;
            match self.rows(&mut conn.client, query.sql(), &refs).await {
                Ok(rows) => {
                    conn.release();
                    return answer(query, rows);
                }
                // A pooled connection the server closed meanwhile: a read is safe to send again.
                Err(Fail::Lost(_)) if conn.reused => fresh = true,
                Err(Fail::Lost(why)) => return Err(EconnectError::Transient(format!("query {query}: {why}"))),
                Err(Fail::Server(n, text)) => {
                    conn.release();
                    return Err(EconnectError::Server(format!("query {query}: error {n}: {text}")));
                }
            }
        }
    }

    /// A connection with `BEGIN TRANSACTION` done; a pooled one that turns out dead is replaced once.
    async fn begin(&self) -> Result<Conn<'_>, EconnectError> {
        let mut fresh = false;
        loop {
            let mut conn = self.pool.get(fresh).await?;
            match self.batch(&mut conn.client, sql::BEGIN).await {
                Ok(()) => return Ok(conn),
                Err(Fail::Lost(_)) if conn.reused => fresh = true,
                Err(Fail::Lost(why)) => {
                    return Err(EconnectError::Transient(format!("BEGIN TRANSACTION: {why}: not committed")));
                }
                Err(Fail::Server(n, text)) => {
                    return Err(EconnectError::Server(format!("BEGIN TRANSACTION: error {n}: {text}")));
                }
            }
        }
    }

    /// The call's wrapper; its one row `(rc, error_state, error_string)`, or why the answer is
    /// not that row.
    async fn run_call(&self, client: &mut SqlClient, call: &Call) -> Result<Result<(i64, i64, String), String>, Fail> {
        let stmt = sql::statement(call);
        let params = sql::params(call);
        let rows = self.rows(client, &stmt, &params).await?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(Err("the call answered no row (rc, error_state, error_string)".into()));
        };
        let cells: Vec<_> = row.into_iter().collect();
        let [rc, state, string] = cells.as_slice() else {
            return Ok(Err(format!("the call answered {} columns, not (rc, error_state, error_string)", cells.len())));
        };
        let Some(state) = cells::int(state) else {
            return Ok(Err("the call answered no integer error_state".into()));
        };
        Ok(Ok((cells::int(rc).unwrap_or(0), state, cells::text(string).unwrap_or_default())))
    }

    /// Roll back and look up the texts; the refusal stands even if that fails (a broken
    /// connection rolls back on the server too).
    async fn refused(&self, mut conn: Conn<'_>, node: &str, state: i64, error_string: &str) -> EconnectError {
        let number = i32::try_from(state).unwrap_or(i32::MAX);
        let details_numbers = sql::error_numbers(error_string);
        let mut refusal = Refusal { node: node.to_string(), number, text: String::new(), details: Vec::new() };
        if self.batch(&mut conn.client, sql::ROLLBACK).await.is_err() {
            tracing::warn!(node, "ROLLBACK after a refusal failed; the connection is closed (the server rolls back)");
            refusal.details = details_numbers.into_iter().map(|n| (n, String::new())).collect();
            return EconnectError::Refused(refusal);
        }
        let mut texts: BTreeMap<i32, String> = BTreeMap::new();
        let mut healthy = true;
        for n in std::iter::once(number).chain(details_numbers.iter().copied()) {
            if !healthy || texts.contains_key(&n) {
                continue;
            }
            match self.error_text(&mut conn.client, n).await {
                Ok(t) => {
                    texts.insert(n, t);
                }
                Err(Fail::Server(code, why)) => {
                    tracing::warn!(node, code, "error-text look-up failed: {why}");
                    texts.insert(n, String::new());
                }
                Err(Fail::Lost(why)) => {
                    tracing::warn!(node, "error-text look-up failed: {why}");
                    healthy = false;
                }
            }
        }
        refusal.text = texts.get(&number).cloned().unwrap_or_default();
        refusal.details =
            details_numbers.into_iter().map(|n| (n, texts.get(&n).cloned().unwrap_or_default())).collect();
        if healthy {
            conn.release();
        }
        EconnectError::Refused(refusal)
    }

    async fn error_text(&self, client: &mut SqlClient, number: i32) -> Result<String, Fail> {
        let rows = self.rows(client, QueryName::ErrorText.sql(), &[&number]).await?;
        Ok(rows.into_iter().next().and_then(|r| r.into_iter().next()).and_then(|c| cells::text(&c)).unwrap_or_default())
    }

    /// ROLLBACK after an error; the connection goes back to the pool only if that answered.
    async fn rollback(&self, mut conn: Conn<'_>) {
        match self.batch(&mut conn.client, sql::ROLLBACK).await {
            Ok(()) => conn.release(),
            Err(_) => tracing::warn!("ROLLBACK failed; the connection is closed (the server rolls back)"),
        }
    }

    /// A plain batch (BEGIN/COMMIT/ROLLBACK), answered in full.
    async fn batch(&self, client: &mut SqlClient, text: &'static str) -> Result<(), Fail> {
        let run = async {
            let stream = client.simple_query(text).await?;
            stream.into_results().await.map(drop)
        };
        self.timed(run).await
    }

    /// An `sp_executesql` with parameters; the first result's rows.
    async fn rows(&self, client: &mut SqlClient, text: &str, params: &[&dyn ToSql]) -> Result<Vec<Row>, Fail> {
        let run = async {
            let stream = client.query(text, params).await?;
            stream.into_first_result().await
        };
        self.timed(run).await
    }

    async fn timed<T>(&self, fut: impl Future<Output = tiberius::Result<T>>) -> Result<T, Fail> {
        let timeout = self.pool.server.timeout;
        match tokio::time::timeout(timeout, fut).await {
            Err(_) => Err(Fail::Lost(format!("no answer within {} ms", timeout.as_millis()))),
            Ok(Ok(v)) => Ok(v),
            Ok(Err(tiberius::error::Error::Server(t))) => Err(Fail::Server(t.code(), t.message().to_string())),
            Ok(Err(e)) => Err(Fail::Lost(e.to_string())),
        }
    }
}

/// The rows as text, checked against the query's columns.
fn answer(query: QueryName, rows: Vec<Row>) -> Result<Rows, EconnectError> {
    let columns = query.columns();
    let mut out = Rows { columns: columns.iter().map(|c| c.to_string()).collect(), rows: Vec::new() };
    for row in rows {
        if row.len() != columns.len() {
            return Err(EconnectError::Server(format!(
                "query {query}: a row of {} columns, expected {}",
                row.len(),
                columns.len()
            )));
        }
        out.rows.push(row.into_iter().map(|c| cells::text(&c)).collect());
    }
    Ok(out)
}
