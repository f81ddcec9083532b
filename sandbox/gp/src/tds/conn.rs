//! One TDS connection: PRELOGIN and LOGIN7 (within [`LOGIN_TIMEOUT`]), then requests answered
//! one at a time until the client closes, the framing breaks, or shutdown is signalled. A
//! connection that ends inside a transaction rolls it back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use super::backend::{Backend, SqlError};
use super::packet::{DEFAULT_PACKET, FrameError, Message, kind, read_message, write_message};
use super::request::{self, protocol_error};
use super::tokens::{self, done};
use super::xact::Conn;
use super::{login, prelogin};

/// PRELOGIN + LOGIN7 must arrive within this; an idle connection after login may stay open.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Server process ids, as SQL Server numbers user sessions (from 51).
static NEXT_SPID: AtomicU16 = AtomicU16::new(51);

fn next_spid() -> u16 {
    NEXT_SPID
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(if n >= 32_000 { 51 } else { n + 1 }))
        .unwrap_or(51)
}

/// Resolves once `shutdown` turns true; never if its sender is gone without that.
pub(super) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn send<S: AsyncWrite + Unpin>(stream: &mut S, payload: &[u8], packet_size: usize, spid: u16) -> bool {
    write_message(stream, payload, packet_size, spid).await.is_ok()
}

/// PRELOGIN (optional) then LOGIN7. Some(connection, packet size) once logged in.
async fn log_in<S>(stream: &mut S, backend: &dyn Backend, spid: u16) -> Option<(Conn, usize)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut msg = read_message(stream).await.ok()?;
    if msg.kind == kind::PRELOGIN {
        let encryption = prelogin::client_encryption(&msg.payload).ok()?;
        if encryption == Some(prelogin::encryption::REQ) {
            tracing::info!(spid, "TDS client requires encryption: answered NOT_SUP, the client decides");
        }
        if !send(stream, &prelogin::reply(), DEFAULT_PACKET, spid).await {
            return None;
        }
        msg = read_message(stream).await.ok()?;
    }
    if msg.kind != kind::LOGIN7 {
        tracing::debug!(spid, kind = msg.kind, "TDS: expected LOGIN7");
        return None;
    }
    let refuse = |err: SqlError| login::refused(&err);
    let reply = match login::parse(&msg.payload) {
        Err(m) => Err(refuse(protocol_error(&m.0))),
        Ok(l) if l.integrated => Err(refuse(login::integrated_refused())),
        Ok(l) if l.tds_version >> 24 < 0x72 => Err(refuse(old_version(l.tds_version))),
        Ok(l) => match backend.login(&l.login).await {
            Ok(session) => {
                let size = login::negotiated_packet_size(l.packet_size);
                Ok((login::accepted(session.database(), size), Conn::new(session, spid), size))
            }
            Err(err) => Err(refuse(err)),
        },
    };
    match reply {
        Ok((tokens, conn, size)) => send(stream, &tokens, DEFAULT_PACKET, spid).await.then_some((conn, size)),
        Err(tokens) => {
            send(stream, &tokens, DEFAULT_PACKET, spid).await;
            None
        }
    }
}

fn old_version(v: u32) -> SqlError {
    SqlError {
        number: 18456,
        class: 14,
        state: 1,
        message: format!("Login failed: TDS version 0x{v:08X} is not supported by the GP emulator (use 7.2–7.4)."),
    }
}

fn error_reply(err: &SqlError) -> Vec<u8> {
    let mut out = Vec::new();
    tokens::error(&mut out, err, "");
    tokens::done(&mut out, done::ERROR, 0);
    out
}

/// One request's reply.
async fn answer(conn: &mut Conn, msg: Message) -> Vec<u8> {
    match msg.kind {
        kind::SQL_BATCH => match request::batch_text(&msg.payload) {
            Ok(text) => conn.batch(&text).await,
            Err(e) => error_reply(&e),
        },
        kind::RPC => match request::rpc_request(&msg.payload) {
            Ok(rpc) => conn.rpc(rpc).await,
            Err(e) => error_reply(&e),
        },
        kind::TRANSACTION_MANAGER => match request::transaction_request(&msg.payload) {
            Ok(req) => conn.transaction(req).await,
            Err(e) => error_reply(&e),
        },
        kind::ATTENTION => {
            let mut out = Vec::new();
            tokens::done(&mut out, done::ATTENTION, 0);
            out
        }
        kind::SSPI => error_reply(&login::integrated_refused()),
        other => error_reply(&protocol_error(&format!("Packet type 0x{other:02X} is not supported here."))),
    }
}

/// Serves one client on `stream` until it closes or `shutdown` turns true.
pub async fn serve_connection<S>(mut stream: S, backend: Arc<dyn Backend>, mut shutdown: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let spid = next_spid();
    let login = tokio::select! {
        r = tokio::time::timeout(LOGIN_TIMEOUT, log_in(&mut stream, backend.as_ref(), spid)) => r.ok().flatten(),
        () = stopped(&mut shutdown) => None,
    };
    let Some((mut conn, packet_size)) = login else { return };
    loop {
        let msg = tokio::select! {
            m = read_message(&mut stream) => m,
            () = stopped(&mut shutdown) => break,
        };
        let msg = match msg {
            Ok(msg) => msg,
            Err(FrameError::Closed) => break,
            Err(e) => {
                tracing::debug!(spid, error = %e, "TDS: closing connection");
                break;
            }
        };
        let reply = answer(&mut conn, msg).await;
        if !send(&mut stream, &reply, packet_size, spid).await {
            break;
        }
    }
    conn.close().await;
}
