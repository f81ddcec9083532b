//! What a document or a query can end in: the WIT `econnect-error` variant, one Rust variant
//! each, so the host maps them 1:1.

/// One refusal as eConnect reports it: the procedure's `@O_iErrorState` and `@oErrString`, with
/// the texts of `DYNAMICS..taErrorCode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The node (procedure) that refused, e.g. `taRMTransaction`.
    pub node: String,
    /// `@O_iErrorState`.
    pub number: i32,
    /// `taErrorCode.ErrorDesc` of `number` (empty when the table has no text for it, or the
    /// connection broke before it could be read).
    pub text: String,
    /// Every number listed in `@oErrString`, with its text, in order.
    pub details: Vec<(i32, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EconnectError {
    /// eConnect refused the document; the transaction was rolled back, nothing of it stays.
    #[error("{} refused it: error {} {}", .0.node, .0.number, .0.text)]
    Refused(Refusal),
    /// Not a document (or query) the executor runs; nothing was sent.
    #[error("invalid: {0}")]
    Invalid(String),
    /// No grant (the host's answer; the executor never says it).
    #[error("denied: {0}")]
    Denied(String),
    /// SQL Server refused the login, the database or a statement (its number and text).
    #[error("SQL Server: {0}")]
    Server(String),
    /// No answer, or the connection broke: the text says whether anything may have been
    /// committed ("not committed" / "outcome unknown").
    #[error("transient: {0}")]
    Transient(String),
}

impl EconnectError {
    pub(crate) fn invalid(node: &str, element: &str, why: impl std::fmt::Display) -> EconnectError {
        EconnectError::Invalid(format!("{node}/{element}: {why}"))
    }
}
