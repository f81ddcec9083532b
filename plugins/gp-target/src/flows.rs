//! The target's flows, written once over [`Transport`] (SOAP, SBA and eConnect alike): ensure
//! a customer (with its readable number, `numbers`), write a document (and look it up after a
//! duplicate or an ambiguous failure), find one, list a customer's. Pure: the host is reached
//! only through the transport and the [`Store`], so the flows run natively in tests.

use crate::books::{Books, Rules, batch_for, posting_date};
use crate::model::{Doc, DocKind, Party, customer_changes, differences};
use crate::numbers::{self, Store};
use crate::transport::{Failure, Held, Transport};

/// What a write did (the WIT's `write-outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    AlreadyPresent,
}

/// Ensure GP holds the customer with our fields: its number first (kept, stored or allocated,
/// see `numbers`), then read → absent: create; present: update only the owned fields that
/// differ; nothing differs: `already-present`.
pub fn ensure_customer(t: &dyn Transport, store: &dyn Store, ours: &Party) -> Result<Outcome, Failure> {
    let taken = |n: &str| t.customer(n).map(|c| c.is_some());
    let id = numbers::number_for(store, &ours.id, &ours.source_id, &ours.name, &taken)?;
    let ours = Party { id, ..ours.clone() };
    let theirs = t.customer(&ours.id)?;
    let changes = match &theirs {
        None => vec![],
        Some(theirs) => {
            let changes = customer_changes(&ours, &theirs.party);
            if changes.is_empty() {
                return Ok(Outcome::AlreadyPresent);
            }
            changes
        }
    };
    match t.save_customer(&ours, theirs.as_ref(), &changes) {
        Ok(()) if theirs.is_some() => Ok(Outcome::Updated),
        Ok(()) => Ok(Outcome::Created),
        // Another worker created it between our look-up and our create.
        Err(Failure::Duplicate(_)) if theirs.is_none() => Ok(Outcome::AlreadyPresent),
        Err(Failure::Ambiguous(m)) => Err(Failure::Transient(m)),
        Err(e) => Err(e),
    }
}

/// The document with its customer's GP number (resolved through `numbers` when it came empty).
pub fn resolved(store: &dyn Store, doc: &Doc) -> Result<Doc, Failure> {
    let customer = numbers::resolve(store, &doc.customer, &doc.customer_source)?;
    Ok(Doc { customer, ..doc.clone() })
}

/// Create the document, unapplied. Its GL posting date first (`books::posting_date`: a closed
/// period waits or moves to the next open one), then its batch (`books::batch_for`), then the
/// transport's own checks. A duplicate number, or a create that may have landed, is followed by
/// a look-up: the same document → `already-present`; a different one → `conflict` naming the
/// fields; nothing there → `transient` (the retry creates it once). `books`: GP's books when
/// they can be read (eConnect, or a SOAP/SBA connection's `econnect` grant).
pub fn write(
    t: &dyn Transport,
    store: &dyn Store,
    books: Option<&dyn Books>,
    rules: &Rules,
    doc: &Doc,
) -> Result<Outcome, Failure> {
    let doc = resolved(store, doc)?;
    let label = format!("{:?} {}", doc.kind, doc.number);
    let note = |m: &str| t.note(m);
    let gl_date = posting_date(books, rules.closed_period, &doc.date, &label, &note)?;
    let doc = Doc { gl_date, ..doc };
    let doc = t.prepare(&Doc { batch: batch_for(books, rules, &doc)?, ..doc })?;
    let ambiguous = match t.create(&doc) {
        Ok(()) => return Ok(Outcome::Created),
        Err(Failure::Duplicate(_)) => false,
        Err(Failure::Ambiguous(m)) => {
            t.note(&format!("{label}: {m}; looking it up before writing again"));
            true
        }
        Err(e) => return Err(e),
    };
    match t.find(doc.kind, &doc.number)? {
        Some(theirs) => {
            let diff = differences(&doc, &theirs);
            if diff.is_empty() {
                Ok(Outcome::AlreadyPresent)
            } else {
                Err(Failure::Conflict(format!(
                    "GP already holds {label} with different content ({}); nothing overwritten",
                    diff.join("; ")
                )))
            }
        }
        None if ambiguous => {
            Err(Failure::Transient(format!("{label}: not in GP after an unanswered create; will retry")))
        }
        None => Err(Failure::Transient(format!("{label}: GP called the number a duplicate but has no such document"))),
    }
}

pub fn find(t: &dyn Transport, kind: DocKind, number: &str) -> Result<Option<Doc>, Failure> {
    t.find(kind, number)
}

pub fn list(t: &dyn Transport, customer: &str) -> Result<Vec<Held>, Failure> {
    t.list(customer)
}
