//! GP's SQL Server endpoint: TDS 7.4 on the emulated company database, for eConnect's stored
//! procedures and the read queries of docs/econnect.md.
//!
//! The protocol side (this module) parses and encodes; a [`Backend`] logs users in and its
//! [`Session`]s run procedure calls, read queries and transactions.
//!
//! ```no_run
//! # async fn demo(backend: std::sync::Arc<dyn gp_sandbox::tds::Backend>) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let (stop, stopped) = tokio::sync::watch::channel(false);
//! let server = tokio::spawn(gp_sandbox::tds::serve_until(listener, backend, stopped));
//! // … clients connect …
//! let _ = stop.send(true); // connections roll back open transactions and close
//! let _ = server.await;
//! # Ok(()) }
//! ```
//!
//! Spoken: PRELOGIN (answered ENCRYPTION = NOT_SUP, no TLS), LOGIN7 with SQL Server
//! authentication, SQL batches, RPC (sp_executesql by id or name, procedures by name),
//! transaction-manager begin/commit/rollback, attention. Not spoken: TLS, integrated login,
//! MARS, cursors, prepared statements, bulk load. See sandbox/gp/README.md.

pub mod backend;
mod conn;
mod exec;
mod lexer;
mod login;
mod packet;
mod params;
mod prelogin;
mod reply;
mod request;
mod results;
mod script;
mod tokens;
mod wire;
mod xact;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use backend::{Backend, Column, ColumnType, Login, ProcOutcome, ResultSet, Session, SqlError, SqlValue};
pub use conn::{LOGIN_TIMEOUT, serve_connection};

/// Accepts connections on `listener`, one task each, until the task running this future is
/// aborted or dropped — which also ends every connection at once (their sessions are dropped
/// without an explicit rollback). For a graceful stop use [`serve_until`].
pub async fn serve(listener: TcpListener, backend: Arc<dyn Backend>) {
    let (_keep, never) = watch::channel(false);
    serve_until(listener, backend, never).await;
}

/// Like [`serve`], until `shutdown` turns true: then it stops accepting, each connection rolls
/// back its open transaction and closes, and this future returns once they all have.
pub async fn serve_until(listener: TcpListener, backend: Arc<dyn Backend>, shutdown: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    let mut stop = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    tracing::debug!(%peer, "TDS connection");
                    connections.spawn(serve_connection(stream, backend.clone(), shutdown.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "TDS accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = conn::stopped(&mut stop) => break,
        }
    }
    while connections.join_next().await.is_some() {}
}
