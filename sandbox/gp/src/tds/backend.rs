//! The line between the TDS protocol (framing, login, tokens, the statement forms of
//! docs/econnect.md) and what the statements do in the emulated company database. The protocol
//! side parses and encodes; a [`Backend`] logs a user in and a [`Session`] runs procedure
//! calls, read queries and transactions.

use async_trait::async_trait;

/// One value crossing the wire, as TDS types it.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    /// INTN / INT1..INT8 / BITN.
    Int(i64),
    /// NUMERICN / DECIMALN: `units` × 10^-`scale`.
    Decimal {
        units: i128,
        scale: u8,
    },
    /// NVARCHAR / NCHAR / BIGVARCHR / BIGCHAR.
    Text(String),
    /// DATETIME / DATETIMN / DATETIME2N / DATEN (date and time of day, no zone).
    DateTime(time::PrimitiveDateTime),
}

/// How a result column is typed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// INTN of 4 bytes.
    Int,
    /// NUMERICN(precision, scale).
    Decimal { precision: u8, scale: u8 },
    /// NVARCHAR(max_chars).
    Text { max_chars: u16 },
    /// DATETIMN (8 bytes).
    DateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnType,
}

/// A result set: columns, then rows with one value per column.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultSet {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<SqlValue>>,
}

/// An ERROR token as SQL Server sends it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SQL Server error {number} (class {class}): {message}")]
pub struct SqlError {
    pub number: i32,
    pub class: u8,
    pub state: u8,
    pub message: String,
}

/// What an eConnect procedure returned: its RETURN value and its two OUTPUT parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcOutcome {
    pub return_status: i32,
    /// `@O_iErrorState`: 0 = success.
    pub error_state: i32,
    /// `@oErrString`: the error numbers, space-separated ("" on success).
    pub error_string: String,
}

/// LOGIN7's fields the backend decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub user: String,
    pub password: String,
    /// The requested database (empty = the login's default).
    pub database: String,
    pub app_name: String,
}

/// Accepts or refuses logins. One per listener.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// A session for this login, in `login.database` (or the default); an error is sent as
    /// SQL Server's 18456 / 4060 and the connection closes.
    async fn login(&self, login: &Login) -> Result<Box<dyn Session>, SqlError>;
}

/// One connection's state after login: its database and its open transaction.
#[async_trait]
pub trait Session: Send {
    /// The database the session is in (sent in ENVCHANGE 1 at login).
    fn database(&self) -> &str;
    fn in_transaction(&self) -> bool;
    async fn begin(&mut self) -> Result<(), SqlError>;
    async fn commit(&mut self) -> Result<(), SqlError>;
    /// Also what ends a connection that closes inside a transaction.
    async fn rollback(&mut self) -> Result<(), SqlError>;
    /// `USE <database>`.
    async fn use_database(&mut self, database: &str) -> Result<(), SqlError>;
    /// An eConnect procedure by name (`taRMTransaction`, schema prefix removed) with its input
    /// parameters by name (`@I_vDOCNUMBR`, as sent); outside a transaction it runs in its own.
    async fn call(&mut self, procedure: &str, params: &[(String, SqlValue)]) -> Result<ProcOutcome, SqlError>;
    /// A read query: `sql` as received, `params` = @P1.. in order. Unknown text → error 102.
    async fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<ResultSet, SqlError>;
}
