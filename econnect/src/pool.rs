//! A small pool of tiberius clients: a semaphore of `max_connections` permits and a stack of idle
//! clients. Not bb8 + bb8-tiberius: their manager never reports a client broken
//! (`has_broken` is `false`), so a client whose transaction state is unknown — it timed out, or
//! its ROLLBACK failed — would go back to the pool; here a checked-out client goes back only
//! through [`Conn::release`], and is closed (its TCP connection dropped, which rolls back any open
//! transaction on the server) otherwise.

use std::sync::Mutex;
use std::time::Duration;

use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use crate::error::EconnectError;

pub type SqlClient = Client<Compat<TcpStream>>;

/// Where and as whom to connect. `Debug` never shows the password.
#[derive(Clone)]
pub struct Server {
    pub host: String,
    pub port: u16,
    /// The company database (`INTERID`, e.g. `TWO`).
    pub database: String,
    pub user: String,
    pub password: String,
    /// Connections open at once (the pacing ceiling).
    pub max_connections: usize,
    /// Per step: connecting, one statement, waiting for a free connection.
    pub timeout: Duration,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("max_connections", &self.max_connections)
            .field("timeout", &self.timeout)
            .finish()
    }
}

pub(crate) struct Pool {
    pub(crate) server: Server,
    slots: Semaphore,
    idle: Mutex<Vec<SqlClient>>,
}

/// A checked-out client. Dropped without [`Conn::release`], the client is closed.
pub(crate) struct Conn<'p> {
    pub(crate) client: SqlClient,
    /// Came from the idle stack (the server may have closed it meanwhile).
    pub(crate) reused: bool,
    pool: &'p Pool,
    _permit: SemaphorePermit<'p>,
}

impl Conn<'_> {
    /// Back to the idle stack: only after a statement ended cleanly outside a transaction.
    pub(crate) fn release(self) {
        let Conn { client, pool, _permit, .. } = self;
        pool.idle.lock().unwrap_or_else(|p| p.into_inner()).push(client);
    }
}

impl Pool {
    pub(crate) fn new(server: Server) -> Pool {
        let slots = Semaphore::new(server.max_connections.max(1));
        Pool { server, slots, idle: Mutex::new(Vec::new()) }
    }

    /// A client: an idle one if there is one (and `fresh` is false), else a new connection.
    pub(crate) async fn get(&self, fresh: bool) -> Result<Conn<'_>, EconnectError> {
        let s = &self.server;
        let permit = tokio::time::timeout(s.timeout, self.slots.acquire())
            .await
            .map_err(|_| {
                EconnectError::Transient(format!(
                    "no connection to {}:{} free within {} ms (max_connections = {}): not sent",
                    s.host,
                    s.port,
                    s.timeout.as_millis(),
                    s.max_connections
                ))
            })?
            .map_err(|_| EconnectError::Transient("the connection pool is closed".into()))?;
        let idle = if fresh { None } else { self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() };
        let (client, reused) = match idle {
            Some(c) => (c, true),
            None => (self.connect().await?, false),
        };
        Ok(Conn { client, reused, pool: self, _permit: permit })
    }

    async fn connect(&self) -> Result<SqlClient, EconnectError> {
        let s = &self.server;
        let addr = format!("{}:{}", s.host, s.port);
        let mut config = Config::new();
        config.host(&s.host);
        config.port(s.port);
        config.database(&s.database);
        config.application_name("ml-connector");
        config.authentication(AuthMethod::sql_server(&s.user, &s.password));
        // The emulator (and a server without forced encryption) answers ENCRYPT_NOT_SUP.
        config.encryption(EncryptionLevel::NotSupported);
        let connect = async {
            let tcp = TcpStream::connect(&addr)
                .await
                .map_err(|e| EconnectError::Transient(format!("connecting to {addr}: {e}: not sent")))?;
            tcp.set_nodelay(true).map_err(|e| EconnectError::Transient(format!("connecting to {addr}: {e}")))?;
            Client::connect(config, tcp.compat_write()).await.map_err(|e| match e {
                // A refused login or database: the same answer next time.
                tiberius::error::Error::Server(t) => EconnectError::Server(format!(
                    "login to {addr} database {} as {}: error {}: {}",
                    s.database,
                    s.user,
                    t.code(),
                    t.message()
                )),
                other => EconnectError::Transient(format!("logging in to {addr}: {other}: not sent")),
            })
        };
        tokio::time::timeout(s.timeout, connect).await.map_err(|_| {
            EconnectError::Transient(format!(
                "connecting to {addr}: no answer within {} ms: not sent",
                s.timeout.as_millis()
            ))
        })?
    }
}
