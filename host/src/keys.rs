//! Names of things in the queue and the records table, as types rather than strings built and
//! parsed in several places: a record's key (`invoice/inv_1`), what a job waits for (a record, or
//! a closed fiscal period), and a job's key. The store keeps their text forms; this module is the
//! one place that writes and reads them.

use std::fmt;

use crate::bindings::types::{RecordKind, SourceRecord, Trigger};

/// Longest job key the queue takes (an event id, a walk's name …).
pub const MAX_JOB_KEY: usize = 200;

/// `invoice/inv_123`: how a record is named in jobs, the timeline and the records table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordKey {
    pub kind: RecordKind,
    pub id: String,
}

/// The text form of a record kind in keys.
pub fn kind_str(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Customer => "customer",
        RecordKind::Invoice => "invoice",
        RecordKind::Payment => "payment",
        RecordKind::CreditNote => "credit_note",
    }
}

fn parse_kind(text: &str) -> Option<RecordKind> {
    Some(match text {
        "customer" => RecordKind::Customer,
        "invoice" => RecordKind::Invoice,
        "payment" => RecordKind::Payment,
        "credit_note" => RecordKind::CreditNote,
        _ => return None,
    })
}

impl RecordKey {
    pub fn new(kind: RecordKind, id: impl Into<String>) -> RecordKey {
        RecordKey { kind, id: id.into() }
    }

    pub fn customer(id: impl Into<String>) -> RecordKey {
        RecordKey::new(RecordKind::Customer, id)
    }

    pub fn invoice(id: impl Into<String>) -> RecordKey {
        RecordKey::new(RecordKind::Invoice, id)
    }

    pub fn credit_note(id: impl Into<String>) -> RecordKey {
        RecordKey::new(RecordKind::CreditNote, id)
    }

    /// The record a trigger is about.
    pub fn of_trigger(t: &Trigger) -> RecordKey {
        RecordKey::new(t.kind, t.resource_id.clone())
    }

    /// The key of a fetched record.
    pub fn of_record(r: &SourceRecord) -> RecordKey {
        RecordKey::new(r.kind, r.id.clone())
    }

    /// `kind/id` back into a key; `None` if the kind is unknown or the id empty.
    pub fn parse(text: &str) -> Option<RecordKey> {
        let (kind, id) = text.split_once('/')?;
        if id.is_empty() {
            return None;
        }
        Some(RecordKey::new(parse_kind(kind)?, id))
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", kind_str(self.kind), self.id)
    }
}

/// What a waiting job waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitKey {
    /// A record it depends on to be written (its customer, the invoice it applies to).
    Record(RecordKey),
    /// A closed fiscal period, by the document date, to reopen.
    Period(String),
    /// An unposted GP batch (source, id) a clerk has to post before an apply or a void.
    Posting(Batch),
    /// The connection's local agent to connect (`gp.via = "agent"`, no tunnel).
    Agent,
}

/// A GP batch by its source (`RM_Sales`, `RM_Cash`) and id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Batch {
    pub source: String,
    pub id: String,
}

impl fmt::Display for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.id, self.source)
    }
}

const PERIOD_PREFIX: &str = "period:";
const POSTING_PREFIX: &str = "posting:";
const AGENT_KEY: &str = "agent";

impl WaitKey {
    pub fn parse(text: &str) -> Option<WaitKey> {
        if text == AGENT_KEY {
            return Some(WaitKey::Agent);
        }
        if let Some(date) = text.strip_prefix(PERIOD_PREFIX) {
            return Some(WaitKey::Period(date.to_string()));
        }
        if let Some(batch) = text.strip_prefix(POSTING_PREFIX) {
            let (source, id) = batch.split_once(':')?;
            return Some(WaitKey::Posting(Batch { source: source.to_string(), id: id.to_string() }));
        }
        RecordKey::parse(text).map(WaitKey::Record)
    }

    pub fn is_period(&self) -> bool {
        matches!(self, WaitKey::Period(_))
    }
}

impl fmt::Display for WaitKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitKey::Record(k) => k.fmt(f),
            WaitKey::Period(date) => write!(f, "{PERIOD_PREFIX}{date}"),
            WaitKey::Posting(b) => write!(f, "{POSTING_PREFIX}{}:{}", b.source, b.id),
            WaitKey::Agent => f.write_str(AGENT_KEY),
        }
    }
}

/// A job's idempotency key within its connection: a second enqueue of the same key is a no-op.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobKey(String);

impl JobKey {
    /// A source event (a webhook's or the events walk's event id): delivered twice, run once.
    pub fn event(event_id: &str) -> Result<JobKey, String> {
        JobKey::checked(event_id.to_string())
    }

    /// A trigger without an event id: its type, resource and time stand in.
    pub fn trigger(t: &Trigger) -> Result<JobKey, String> {
        match &t.event_id {
            Some(id) => JobKey::event(id),
            None => JobKey::checked(format!("{}:{}:{}", t.event_type, t.resource_id, t.occurred_at)),
        }
    }

    /// The fetch of a record others wait for: many waiters make one job.
    pub fn dependency(record: &RecordKey) -> JobKey {
        JobKey(format!("dep:{record}"))
    }

    /// A record a poll page brought, at its version (a re-read page is a duplicate).
    pub fn poll_hit(record: &RecordKey, version: i64) -> JobKey {
        JobKey(format!("poll:{record}@{version}"))
    }

    /// The settle step (applies, voids) of a written record at its version: once per version.
    pub fn settle(record: &RecordKey, version: i64) -> JobKey {
        JobKey(format!("settle:{record}@{version}"))
    }

    /// A key the host composes itself from its own parts (e.g. a walk's, see
    /// [`crate::jobs::PollJob::key`]).
    pub(crate) fn composed(key: String) -> JobKey {
        JobKey(key)
    }

    /// A guest-chosen key (the `queue` capability), checked like an event id.
    pub fn guest(key: String) -> Result<JobKey, String> {
        JobKey::checked(key)
    }

    fn checked(key: String) -> Result<JobKey, String> {
        if key.is_empty() || key.len() > MAX_JOB_KEY {
            return Err(format!("job key must be 1..={MAX_JOB_KEY} bytes, got {}", key.len()));
        }
        if key.chars().any(char::is_control) {
            return Err("job key must not contain control characters".into());
        }
        Ok(JobKey(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for JobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_and_wait_keys_round_trip() {
        for text in ["customer/c1", "invoice/inv_1/x", "payment/p", "credit_note/cn"] {
            assert_eq!(RecordKey::parse(text).map(|k| k.to_string()).as_deref(), Some(text));
            assert_eq!(WaitKey::parse(text).map(|k| k.to_string()).as_deref(), Some(text));
        }
        assert_eq!(RecordKey::parse("order/1"), None);
        assert_eq!(RecordKey::parse("invoice/"), None);
        assert_eq!(RecordKey::parse("invoice"), None);
        let posting = WaitKey::Posting(Batch { source: "RM_Cash".into(), id: "CB261130-PAY".into() });
        assert_eq!(WaitKey::parse("posting:RM_Cash:CB261130-PAY"), Some(posting.clone()));
        assert_eq!(posting.to_string(), "posting:RM_Cash:CB261130-PAY");
        assert_eq!(WaitKey::parse("posting:nocolon"), None);
        let period = WaitKey::parse("period:2026-11-30");
        assert_eq!(period, Some(WaitKey::Period("2026-11-30".into())));
        assert!(period.is_some_and(|p| p.is_period() && p.to_string() == "period:2026-11-30"));
    }

    #[test]
    fn job_keys_are_bounded_and_named() {
        assert!(JobKey::event("ev_1").is_ok());
        assert!(JobKey::event("").is_err());
        assert!(JobKey::event(&"x".repeat(MAX_JOB_KEY + 1)).is_err());
        assert!(JobKey::event("a\nb").is_err());
        assert_eq!(JobKey::dependency(&RecordKey::customer("c1")).as_str(), "dep:customer/c1");
        assert_eq!(JobKey::poll_hit(&RecordKey::invoice("i"), 7).as_str(), "poll:invoice/i@7");
        assert_eq!(JobKey::settle(&RecordKey::invoice("i"), 7).as_str(), "settle:invoice/i@7");
    }
}
