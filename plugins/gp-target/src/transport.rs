//! What every way of reaching GP offers the flows (`flows`): read and write customers, create,
//! find and list documents, and what a transport knows before a write (fiscal period, rates).
//! Implemented by [`crate::http::Http`] (GP Web Services SOAP and SBA, over the host's `http`
//! through a [`crate::wire::Protocol`]) and [`crate::econnect::Econnect`] (eConnect documents
//! and read queries over the host's `econnect`). A leaf beside `model`: pure, no host calls.

use crate::model::{Doc, DocKind, Owned, Party};

/// How a transport call failed, decided once per transport so the flows decide once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The write may have landed (timeout, lost answer, GP's system exception, eConnect's
    /// `transient`): look the document up before anything else.
    Ambiguous(String),
    /// GP refused the number as taken: look the document up.
    Duplicate(String),
    PeriodClosed(String),
    /// Another document holds the number (the fields that differ); nothing was overwritten.
    Conflict(String),
    MissingDependency(String),
    Rejected(String),
    /// Retry later, nothing to look up (a read failed, GP throttles).
    Transient(String),
    /// No retry helps (settings, grants, contract, our document is not valid).
    Permanent(String),
}

/// GP's copy of a customer, with what the transport needs to update it (SOAP: the raw answer,
/// sent back with only our fields changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theirs {
    pub party: Party,
    pub raw: String,
}

/// One of a customer's documents with what is left unapplied (0 when voided).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub doc: Doc,
    pub remaining: i64,
    /// Open or history, not in an unposted batch.
    pub posted: bool,
    pub voided: bool,
}

/// A way of reaching GP's receivables. Every method is one operation as GP sees it.
pub trait Transport {
    /// The customer by number; none when GP has none.
    fn customer(&self, id: &str) -> Result<Option<Theirs>, Failure>;
    /// Create `ours` (`theirs` none) or update GP's copy, writing only `changes`.
    fn save_customer(&self, ours: &Party, theirs: Option<&Theirs>, changes: &[Owned]) -> Result<(), Failure>;
    /// Checks before a write that only this transport can make (eConnect: the exchange rate);
    /// may complete the document (a rate GP holds). The fiscal period is the flows' (`books`).
    fn prepare(&self, doc: &Doc) -> Result<Doc, Failure>;
    /// Create the document, unapplied: applies are the settle step's (`settle`), never a write's.
    fn create(&self, doc: &Doc) -> Result<(), Failure>;
    fn find(&self, kind: DocKind, number: &str) -> Result<Option<Doc>, Failure>;
    fn list(&self, customer: &str) -> Result<Vec<Held>, Failure>;
    /// Whether GP's Sales series is open for the date; none when the transport cannot read it.
    fn period_open(&self, date: &str) -> Result<Option<bool>, Failure>;
    /// A line on the record's timeline (the host's `audit`), e.g. "looking it up".
    fn note(&self, detail: &str);
}
