//! What the two ways of reaching GP have in common: a [`Protocol`] turns the target's
//! operations into HTTP requests ([`Call`]) and GP's answers back into model values and a
//! protocol-independent [`Refusal`]. `http::Http` turns it into a `transport::Transport` for
//! the flows (written once in `flows`); `soap` (GP Web Services) and `sba` (Service Based
//! Architecture) only build and read bytes.
//!
//! Everything here is pure (no host calls), so the request builders run natively in tests. A
//! leaf: it imports only `model` and `transport`, so `soap`, `sba` and `config` depend on it and not on each
//! other.

use crate::model::{Doc, DocKind, Owned, Party};
use crate::transport::Theirs;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Patch,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Patch => "PATCH",
        }
    }
}

/// One HTTP request to GP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// For messages: the SOAP operation, or `SBA <verb> <resource>`.
    pub label: String,
    pub verb: Verb,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// A read by key: GP saying "no such object" is an answer, not a failure.
    pub lookup: bool,
}

/// GP answered, but not with success. Protocol-independent so the flows decide once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A look-up found nothing.
    NotFound(String),
    /// The key is taken (SBA 409). SOAP reports duplicates as validation errors instead;
    /// `model::classify_refusal` recognises GP's text there.
    Duplicate(String),
    /// GP validated the request and refused it. `details` fetches GP's full messages when the
    /// answer only points at them (SOAP's logged validation result).
    Invalid { text: String, details: Option<Call> },
    /// GP's generic system exception, a 5xx or an answer that is not GP's: says nothing about
    /// whether the request was acted on.
    System(String),
    /// The request cannot succeed as configured (contract, route, company, account): no retry
    /// helps.
    Misconfigured(String),
}

/// One receivables document of a document list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub kind: DocKind,
    pub number: String,
    pub customer: String,
    /// From the summary's `TransactionState`, when it carries one.
    pub posted: Option<bool>,
}

/// A by-key answer's posting state: posted (none when the answer does not say), voided.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    pub posted: Option<bool>,
    pub voided: bool,
}

/// A way of talking to GP. Builders return the request; parsers read a 2xx body.
pub trait Protocol {
    fn get_customer(&self, id: &str) -> Call;
    /// Create (`theirs` none) or update GP's copy with only the owned members in `changes`;
    /// an error when GP's copy cannot be read back into a request.
    fn save_customer(&self, c: &Party, theirs: Option<&Theirs>, changes: &[Owned]) -> Result<Call, String>;
    /// The customer in a by-key answer; none when it holds none; an error when unreadable.
    fn parse_customer(&self, body: &str) -> Result<Option<Party>, String>;

    fn get_document(&self, kind: DocKind, number: &str) -> Call;
    fn create_document(&self, d: &Doc) -> Call;
    /// A document from a by-key answer (applies are not part of GP's answer).
    fn parse_document(&self, kind: DocKind, body: &str) -> Result<Option<Doc>, String>;
    /// What is left unapplied (`CurrentDocumentAmount`), where GP's answer carries it.
    fn current_amount(&self, body: &str, currency: &str) -> Option<i64>;
    /// Posted / voided, as far as a by-key answer says.
    fn status(&self, body: &str) -> Status;

    /// The requests that list a customer's receivables documents; their summaries may include
    /// other customers' documents (the caller filters).
    fn list_documents(&self, customer: &str) -> Vec<Call>;
    fn parse_document_list(&self, body: &str) -> Result<Vec<Summary>, String>;

    /// How to read a non-2xx answer to `call`.
    fn refusal(&self, call: &Call, status: u16, body: &str) -> Refusal;
    /// GP's messages in the answer to a [`Refusal::Invalid`]'s `details` call.
    fn validation_messages(&self, body: &str) -> Vec<String>;
}

/// GP's generic system exception (both protocols use GP's one text for it).
pub fn is_system_exception(text: &str) -> bool {
    text.contains("unhandled system exception")
}

/// A ReceivablesDocumentType value as a kind this target writes (others are not ours). Both
/// protocols carry GP's enum names.
pub fn summary_kind(t: &str) -> Option<DocKind> {
    match t.trim() {
        "Invoice" => Some(DocKind::Invoice),
        "Debit Memo" => Some(DocKind::DebitMemo),
        "Credit Memo" => Some(DocKind::CreditMemo),
        "Cash Receipt" | "Payment" => Some(DocKind::CashReceipt),
        _ => None,
    }
}
