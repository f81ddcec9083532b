//! The target's flows, written once over [`crate::wire::Protocol`]: ensure a customer, write a document
//! (and look it up after a duplicate or an ambiguous failure), find one, list a customer's.
//! This is the only module that sends: through the host's `http` with the `gp` secret handle
//! (the host does NTLM on its pooled connections; this component never sees the password).

use ml_connector_sdk::target::exports::ml_connector::plugin::target_api::{TargetError, WriteOutcome};
use ml_connector_sdk::target::ml_connector::plugin::http::{self, HttpError, Method, Request};
use ml_connector_sdk::target::ml_connector::plugin::{audit, secrets, settings};

use crate::config::{Gp, config_from};
use crate::model::{AfterFailure, Doc, DocKind, Party, classify_refusal, differences};
use crate::wire::{Call, Refusal, Verb, is_system_exception};

/// The connection's GP settings (see [`config_from`]).
pub fn config() -> Result<Gp, TargetError> {
    config_from(settings::get).map_err(TargetError::Permanent)
}

/// How one call ended when GP answered.
pub enum Answer {
    Ok(String),
    Refused(Refusal),
}

/// A call's failure before GP answered: ambiguous if the request may have been acted on.
pub struct Unanswered {
    pub message: String,
    pub permanent: bool,
}

fn send(gp: &Gp, call: &Call) -> Result<Answer, Unanswered> {
    let key =
        secrets::lookup("gp").map_err(|e| Unanswered { message: format!("secret gp: {e:?}"), permanent: true })?;
    let req = Request {
        method: match call.verb {
            Verb::Get => Method::Get,
            Verb::Post => Method::Post,
            Verb::Patch => Method::Patch,
        },
        url: call.url.clone(),
        headers: call.headers.clone(),
        body: call.body.clone().map(String::into_bytes),
        timeout_ms: Some(gp.timeout_ms),
    };
    let op = &call.label;
    match http::send(&req, Some(&key)) {
        Ok(r) if (200..300).contains(&r.status) => Ok(Answer::Ok(String::from_utf8_lossy(&r.body).into_owned())),
        Ok(r) => Ok(Answer::Refused(gp.protocol.refusal(call, r.status, &String::from_utf8_lossy(&r.body)))),
        Err(HttpError::Denied(why)) => {
            Err(Unanswered { message: format!("denied by host policy: {why}"), permanent: true })
        }
        Err(HttpError::Timeout) => Err(Unanswered { message: format!("{op}: timed out"), permanent: false }),
        Err(HttpError::Connect(m)) | Err(HttpError::Protocol(m)) => {
            Err(Unanswered { permanent: m.contains("refused the Windows account"), message: format!("{op}: {m}") })
        }
        Err(HttpError::RateLimited(_)) => {
            Err(Unanswered { message: format!("{op}: GP is throttling"), permanent: false })
        }
    }
}

fn unanswered(u: Unanswered) -> TargetError {
    if u.permanent { TargetError::Permanent(u.message) } else { TargetError::Transient(u.message) }
}

/// GP's full text for a refusal (SOAP: the logged validation result's messages).
fn refusal_text(gp: &Gp, r: &Refusal) -> String {
    match r {
        Refusal::Invalid { text, details: Some(call) } => match send(gp, call) {
            Ok(Answer::Ok(body)) => {
                let msgs = gp.protocol.validation_messages(&body);
                if msgs.is_empty() { text.clone() } else { msgs.join("; ") }
            }
            _ => text.clone(),
        },
        Refusal::Invalid { text, .. }
        | Refusal::NotFound(text)
        | Refusal::Duplicate(text)
        | Refusal::System(text)
        | Refusal::Misconfigured(text) => text.clone(),
    }
}

/// A refusal of a read (or list): retry later unless nothing will change.
fn read_failed(gp: &Gp, r: Refusal) -> TargetError {
    match r {
        Refusal::Misconfigured(m) => TargetError::Permanent(m),
        other => TargetError::Transient(refusal_text(gp, &other)),
    }
}

pub fn find(gp: &Gp, kind: DocKind, number: &str) -> Result<Option<Doc>, TargetError> {
    match send(gp, &gp.protocol.get_document(kind, number)).map_err(unanswered)? {
        Answer::Ok(body) => gp.protocol.parse_document(kind, &body).map_err(TargetError::Transient),
        Answer::Refused(Refusal::NotFound(_)) => Ok(None),
        Answer::Refused(r) => Err(read_failed(gp, r)),
    }
}

pub fn ensure_customer(gp: &Gp, ours: &Party) -> Result<WriteOutcome, TargetError> {
    let existing = match send(gp, &gp.protocol.get_customer(&ours.id)).map_err(unanswered)? {
        Answer::Ok(body) => gp.protocol.parse_customer(&body).map_err(TargetError::Transient)?,
        Answer::Refused(Refusal::NotFound(_)) => None,
        Answer::Refused(r) => return Err(read_failed(gp, r)),
    };
    let update = match &existing {
        None => false,
        Some(theirs) if theirs.name == ours.name && theirs.currency.eq_ignore_ascii_case(&ours.currency) => {
            return Ok(WriteOutcome::AlreadyPresent);
        }
        Some(_) => true,
    };
    match send(gp, &gp.protocol.save_customer(ours, update)) {
        Ok(Answer::Ok(_)) => Ok(if update { WriteOutcome::Updated } else { WriteOutcome::Created }),
        // Another worker created it between our look-up and our create.
        Ok(Answer::Refused(Refusal::Duplicate(_))) if !update => Ok(WriteOutcome::AlreadyPresent),
        Ok(Answer::Refused(Refusal::Invalid { text, .. })) if !update && text.contains("already exists") => {
            Ok(WriteOutcome::AlreadyPresent)
        }
        // GP's generic system fault says nothing about the customer: try again later.
        Ok(Answer::Refused(Refusal::System(m))) => Err(TargetError::Transient(m)),
        Ok(Answer::Refused(Refusal::Misconfigured(m))) => Err(TargetError::Permanent(m)),
        Ok(Answer::Refused(r)) => Err(TargetError::Rejected(refusal_text(gp, &r))),
        Err(u) => Err(unanswered(u)),
    }
}

/// Create the document. A duplicate number, or a create that may have landed (timeout, lost
/// response, GP's system exception), is followed by a look-up: the same document →
/// `already-present`; a different one → `conflict` naming the fields; nothing there → `transient`.
pub fn write(gp: &Gp, doc: &Doc) -> Result<WriteOutcome, TargetError> {
    let label = format!("{:?} {}", doc.kind, doc.number);
    let ambiguous = match send(gp, &gp.protocol.create_document(doc)) {
        Ok(Answer::Ok(_)) => return Ok(WriteOutcome::Created),
        Ok(Answer::Refused(Refusal::Duplicate(_))) => false,
        Ok(Answer::Refused(Refusal::System(m))) => {
            audit::append("write", audit::Outcome::Info, &format!("{label}: {m}; looking it up before writing again"));
            true
        }
        Ok(Answer::Refused(Refusal::Misconfigured(m) | Refusal::NotFound(m))) => return Err(TargetError::Permanent(m)),
        Ok(Answer::Refused(r @ Refusal::Invalid { .. })) => match classify_refusal(&refusal_text(gp, &r)) {
            AfterFailure::LookUp { ambiguous } => ambiguous,
            AfterFailure::PeriodClosed(m) => return Err(TargetError::PeriodClosed(m)),
            AfterFailure::MissingDependency(m) => return Err(TargetError::MissingDependency(m)),
            AfterFailure::Rejected(m) if is_system_exception(&m) => true,
            AfterFailure::Rejected(m) => return Err(TargetError::Rejected(m)),
        },
        Err(u) if u.permanent => return Err(unanswered(u)),
        Err(u) => {
            audit::append(
                "write",
                audit::Outcome::Info,
                &format!("{label}: {}; looking it up before writing again", u.message),
            );
            true
        }
    };
    match find(gp, doc.kind, &doc.number)? {
        Some(theirs) => {
            let diff = differences(doc, &theirs);
            if diff.is_empty() {
                Ok(WriteOutcome::AlreadyPresent)
            } else {
                Err(TargetError::Conflict(format!(
                    "GP already holds {label} with different content ({}); nothing overwritten",
                    diff.join("; ")
                )))
            }
        }
        None if ambiguous => {
            Err(TargetError::Transient(format!("{label}: not in GP after an unanswered create; will retry")))
        }
        None => {
            Err(TargetError::Transient(format!("{label}: GP called the number a duplicate but has no such document")))
        }
    }
}

/// One of a customer's documents with what is left unapplied.
pub struct Held {
    pub doc: Doc,
    pub remaining: i64,
}

/// The customer's documents: the list, then each by key for its amounts (summaries carry no
/// unapplied amount). Cash receipts: GP exposes no unapplied amount for them, so 0.
pub fn list(gp: &Gp, customer: &str) -> Result<Vec<Held>, TargetError> {
    let mut summaries = Vec::new();
    for call in gp.protocol.list_documents(customer) {
        match send(gp, &call).map_err(unanswered)? {
            Answer::Ok(body) => {
                summaries.extend(gp.protocol.parse_document_list(&body).map_err(TargetError::Transient)?)
            }
            Answer::Refused(r) => return Err(read_failed(gp, r)),
        }
    }
    let mut out = Vec::new();
    for s in summaries.into_iter().filter(|s| s.customer.is_empty() || s.customer.eq_ignore_ascii_case(customer)) {
        let body = match send(gp, &gp.protocol.get_document(s.kind, &s.number)).map_err(unanswered)? {
            Answer::Ok(body) => body,
            Answer::Refused(r) => return Err(read_failed(gp, r)),
        };
        let Some(doc) = gp.protocol.parse_document(s.kind, &body).map_err(TargetError::Transient)? else { continue };
        // The summary may not name its customer; the document does.
        if !doc.customer.eq_ignore_ascii_case(customer) {
            continue;
        }
        let remaining = if s.kind == DocKind::CashReceipt {
            0
        } else {
            gp.protocol.current_amount(&body, &doc.currency).unwrap_or(doc.total)
        };
        out.push(Held { doc, remaining });
    }
    Ok(out)
}
