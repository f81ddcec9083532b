//! How a stage ends: the [`Outcome`] the worker settles the job with, the [`Stage`] names the
//! timeline shows, and how the components' typed errors become outcomes.

use std::fmt;

use crate::bindings::source::exports::ml_connector::plugin::source_api::SourceError;
use crate::bindings::target::exports::ml_connector::plugin::target_api::{TargetError, WriteOutcome};
use crate::bindings::types::{DocKind, LedgerDoc};
use crate::keys::WaitKey;
use crate::role::Role;
use crate::timeline::Label;

/// How a pipeline run ended, for the worker to settle the job.
#[derive(Debug)]
pub enum Outcome {
    Done,
    /// Try again later; `after_ms` = Retry-After when the remote gave one (not an attempt).
    Retry {
        reason: String,
        after_ms: Option<u64>,
    },
    /// Needs a change elsewhere (conflict, mapping error, denied).
    Park {
        reason: String,
    },
    /// Cannot go on until `wait_key` is released: a record it depends on is written, or a
    /// closed fiscal period reopens.
    Wait {
        wait_key: WaitKey,
        reason: String,
    },
}

impl Outcome {
    pub fn retry(reason: impl Into<String>) -> Outcome {
        Outcome::Retry { reason: reason.into(), after_ms: None }
    }

    /// The timeline's label and detail for a run that ended this way. A closed period is a
    /// parked record (GP's message) whose job waits to resume.
    pub fn label(&self) -> (Label, String) {
        match self {
            Outcome::Done => (Label::Ok, String::new()),
            Outcome::Retry { reason, after_ms: Some(ms) } => (Label::Retry, format!("{reason} (retry after {ms} ms)")),
            Outcome::Retry { reason, .. } => (Label::Retry, reason.clone()),
            Outcome::Park { reason } => (Label::Parked, reason.clone()),
            Outcome::Wait { wait_key, reason } if wait_key.is_period() => (Label::Parked, reason.clone()),
            Outcome::Wait { reason, .. } => (Label::Waiting, reason.clone()),
        }
    }
}

/// The stages of a record's run, as its timeline names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Fetch,
    Map,
    Wait,
    EnsureCustomer,
    Write,
    /// The settle step: an apply, or a void, once GP has posted.
    Apply,
    Void,
    DryRun,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Fetch => "fetch",
            Stage::Map => "map",
            Stage::Wait => "wait",
            Stage::EnsureCustomer => "ensure-customer",
            Stage::Write => "write",
            Stage::Apply => "apply",
            Stage::Void => "void",
            Stage::DryRun => "dry-run",
        }
    }

    /// The role whose component acts in this stage (its digest goes on the line).
    pub fn role(self) -> Role {
        match self {
            Stage::Fetch => Role::Source,
            Stage::Map => Role::Mapper,
            Stage::Wait | Stage::EnsureCustomer | Stage::Write | Stage::Apply | Stage::Void | Stage::DryRun => {
                Role::Target
            }
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub fn source_outcome(e: SourceError) -> Outcome {
    match e {
        // A 429 is not the record's fault: snooze without using an attempt. The key's governor
        // already paused every caller; without a Retry-After, come back after a jittered second or two.
        SourceError::RateLimited(after_ms) => Outcome::Retry {
            reason: "source rate limit".into(),
            after_ms: Some(after_ms.filter(|ms| *ms > 0).unwrap_or_else(|| 1_000 + rand::random::<u64>() % 2_000)),
        },
        SourceError::Transient(m) => Outcome::retry(m),
        SourceError::NotFound(m) => Outcome::Park { reason: format!("not found at the source: {m}") },
        SourceError::BadWebhook(m) | SourceError::Permanent(m) => Outcome::Park { reason: m },
    }
}

pub fn target_outcome(doc: &LedgerDoc, e: TargetError) -> Outcome {
    let label = doc_label(doc);
    match e {
        TargetError::PeriodClosed(m) => Outcome::Wait {
            wait_key: WaitKey::Period(doc_date(doc).unwrap_or_default()),
            reason: format!("{label}: {m} (reopen the fiscal period in GP; the record resumes by itself)"),
        },
        TargetError::Conflict(m) => Outcome::Park { reason: format!("{label}: conflict, nothing overwritten: {m}") },
        TargetError::Rejected(m) => Outcome::Park { reason: format!("{label}: rejected by the ledger: {m}") },
        TargetError::Permanent(m) => Outcome::Park { reason: format!("{label}: {m}") },
        TargetError::MissingDependency(m) | TargetError::Transient(m) => Outcome::retry(format!("{label}: {m}")),
    }
}

pub fn doc_date(doc: &LedgerDoc) -> Option<String> {
    match doc {
        LedgerDoc::Customer(_) => None,
        LedgerDoc::Invoice(d) => Some(d.date.clone()),
        LedgerDoc::CashReceipt(d) => Some(d.date.clone()),
        LedgerDoc::CreditMemo(d) => Some(d.date.clone()),
        LedgerDoc::DebitMemo(d) => Some(d.date.clone()),
        LedgerDoc::Apply(a) => Some(a.date.clone()),
        LedgerDoc::Void(v) => Some(v.date.clone()),
    }
}

/// A document kind as the timeline names it.
pub fn kind_label(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Customer => "customer",
        DocKind::Invoice => "invoice",
        DocKind::CashReceipt => "cash receipt",
        DocKind::CreditMemo => "credit memo",
        DocKind::DebitMemo => "debit memo",
    }
}

pub fn outcome_str(o: WriteOutcome) -> &'static str {
    match o {
        WriteOutcome::Created => "created",
        WriteOutcome::Updated => "updated",
        WriteOutcome::AlreadyPresent => "already present",
    }
}

pub fn doc_label(doc: &LedgerDoc) -> String {
    match doc {
        LedgerDoc::Customer(c) => format!("customer {}", c.id),
        LedgerDoc::Invoice(d) => format!("invoice {}", d.number),
        LedgerDoc::CashReceipt(d) => format!("cash receipt {}", d.number),
        LedgerDoc::CreditMemo(d) => format!("credit memo {}", d.number),
        LedgerDoc::DebitMemo(d) => format!("debit memo {}", d.number),
        LedgerDoc::Apply(a) => format!(
            "apply of {} {} to {} {}",
            kind_label(a.from_kind),
            a.from_number,
            kind_label(a.to_kind),
            a.to_number
        ),
        LedgerDoc::Void(v) => format!("void of {} {}", kind_label(v.kind), v.number),
    }
}

pub fn summary(docs: &[LedgerDoc]) -> String {
    docs.iter().map(doc_label).collect::<Vec<_>>().join(", ")
}
