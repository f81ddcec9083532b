//! The HTTP transports (GP Web Services SOAP and SBA): [`Http`] implements [`Transport`] over a
//! [`Protocol`] (which builds requests and reads answers) and a [`Sender`] (the host's `http`
//! with the `gp` secret handle, or a test's fake). Refusals are classified here, once for both
//! protocols.

use crate::model::{AfterFailure, Doc, DocKind, Owned, Party, classify_refusal};
use crate::transport::{Failure, Held, Theirs, Transport};
use crate::wire::{Call, Protocol, Refusal, is_system_exception};

/// How one call ended when GP answered.
pub enum Answer {
    Ok(String),
    Refused(Refusal),
}

/// A call's failure before GP answered: ambiguous if the request may have been acted on.
#[derive(Debug)]
pub struct Unanswered {
    pub message: String,
    pub permanent: bool,
}

/// Sends one [`Call`]: GP's answer (2xx body, or the status and body of a refusal), or why
/// none came.
pub trait Sender {
    fn send(&self, call: &Call) -> Result<(u16, String), Unanswered>;
    fn note(&self, _detail: &str) {}
}

pub struct Http<'a> {
    pub protocol: Box<dyn Protocol>,
    pub sender: &'a dyn Sender,
}

fn unanswered(u: Unanswered) -> Failure {
    if u.permanent { Failure::Permanent(u.message) } else { Failure::Transient(u.message) }
}

impl Http<'_> {
    fn call(&self, call: &Call) -> Result<Answer, Unanswered> {
        let (status, body) = self.sender.send(call)?;
        Ok(if (200..300).contains(&status) {
            Answer::Ok(body)
        } else {
            Answer::Refused(self.protocol.refusal(call, status, &body))
        })
    }

    /// GP's full text for a refusal (SOAP: the logged validation result's messages).
    fn text(&self, r: &Refusal) -> String {
        match r {
            Refusal::Invalid { text, details: Some(call) } => match self.call(call) {
                Ok(Answer::Ok(body)) => {
                    let msgs = self.protocol.validation_messages(&body);
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

    /// A read: its body, none when GP has no such object.
    fn read(&self, call: &Call) -> Result<Option<String>, Failure> {
        match self.call(call).map_err(unanswered)? {
            Answer::Ok(body) => Ok(Some(body)),
            Answer::Refused(Refusal::NotFound(_)) if call.lookup => Ok(None),
            Answer::Refused(Refusal::Misconfigured(m)) => Err(Failure::Permanent(m)),
            Answer::Refused(r) => Err(Failure::Transient(self.text(&r))),
        }
    }

    /// A write: how GP's refusal or silence reads for the flows.
    fn write(&self, call: &Call) -> Result<(), Failure> {
        match self.call(call) {
            Ok(Answer::Ok(_)) => Ok(()),
            Ok(Answer::Refused(Refusal::Duplicate(m))) => Err(Failure::Duplicate(m)),
            Ok(Answer::Refused(Refusal::System(m))) => Err(Failure::Ambiguous(m)),
            Ok(Answer::Refused(Refusal::Misconfigured(m) | Refusal::NotFound(m))) => Err(Failure::Permanent(m)),
            Ok(Answer::Refused(r @ Refusal::Invalid { .. })) => Err(refused(self.text(&r))),
            Err(u) if u.permanent => Err(Failure::Permanent(u.message)),
            Err(u) => Err(Failure::Ambiguous(u.message)),
        }
    }
}

/// GP's validation message for a refused write.
pub fn refused(text: String) -> Failure {
    if text.contains("already exists") && text.contains("CUSTNMBR") {
        return Failure::Duplicate(text);
    }
    match classify_refusal(&text) {
        AfterFailure::LookUp { .. } => Failure::Duplicate(text),
        AfterFailure::PeriodClosed(m) => Failure::PeriodClosed(m),
        AfterFailure::BatchBusy(m) => Failure::Transient(format!("{m}; retrying after GP has posted the batch")),
        AfterFailure::MissingDependency(m) => Failure::MissingDependency(m),
        AfterFailure::Rejected(m) if is_system_exception(&m) => Failure::Ambiguous(m),
        AfterFailure::Rejected(m) => Failure::Rejected(m),
    }
}

impl Transport for Http<'_> {
    fn customer(&self, id: &str) -> Result<Option<Theirs>, Failure> {
        let Some(raw) = self.read(&self.protocol.get_customer(id))? else { return Ok(None) };
        let party = self.protocol.parse_customer(&raw).map_err(Failure::Transient)?;
        Ok(party.map(|party| Theirs { party, raw }))
    }

    fn save_customer(&self, ours: &Party, theirs: Option<&Theirs>, changes: &[Owned]) -> Result<(), Failure> {
        let call = self.protocol.save_customer(ours, theirs, changes).map_err(Failure::Transient)?;
        self.write(&call)
    }

    fn prepare(&self, doc: &Doc) -> Result<Doc, Failure> {
        Ok(doc.clone())
    }

    fn create(&self, doc: &Doc) -> Result<(), Failure> {
        self.write(&self.protocol.create_document(doc))
    }

    fn find(&self, kind: DocKind, number: &str) -> Result<Option<Doc>, Failure> {
        match self.read(&self.protocol.get_document(kind, number))? {
            Some(body) => self.protocol.parse_document(kind, &body).map_err(Failure::Transient),
            None => Ok(None),
        }
    }

    /// The list, then each document by key for its amounts (summaries carry none). Cash
    /// receipts: GP Web Services exposes no unapplied amount for them, so 0.
    fn list(&self, customer: &str) -> Result<Vec<Held>, Failure> {
        let mut summaries = Vec::new();
        for call in self.protocol.list_documents(customer) {
            let body = self.read(&call)?.unwrap_or_default();
            summaries.extend(self.protocol.parse_document_list(&body).map_err(Failure::Transient)?);
        }
        let mut out = Vec::new();
        for s in summaries.into_iter().filter(|s| s.customer.is_empty() || s.customer.eq_ignore_ascii_case(customer)) {
            let Some(body) = self.read(&self.protocol.get_document(s.kind, &s.number))? else { continue };
            let Some(doc) = self.protocol.parse_document(s.kind, &body).map_err(Failure::Transient)? else {
                continue;
            };
            // The summary may not name its customer; the document does.
            if !doc.customer.eq_ignore_ascii_case(customer) {
                continue;
            }
            let status = self.protocol.status(&body);
            let remaining = if s.kind == DocKind::CashReceipt || status.voided {
                0
            } else {
                self.protocol.current_amount(&body, &doc.currency).unwrap_or(doc.total)
            };
            let posted = status.posted.or(s.posted).unwrap_or(false);
            out.push(Held { doc, remaining, posted, voided: status.voided });
        }
        Ok(out)
    }

    /// Neither GP Web Services nor SBA reads the fiscal calendar: GP decides on create.
    fn period_open(&self, _date: &str) -> Result<Option<bool>, Failure> {
        Ok(None)
    }

    fn note(&self, detail: &str) {
        self.sender.note(detail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sba::Sba;
    use crate::wire::Call;
    use std::cell::RefCell;

    /// Scripted GP: answers in turn, requests recorded.
    struct Script {
        answers: RefCell<Vec<(u16, String)>>,
        sent: RefCell<Vec<Call>>,
    }

    impl Sender for Script {
        fn send(&self, call: &Call) -> Result<(u16, String), Unanswered> {
            self.sent.borrow_mut().push(call.clone());
            Ok(self.answers.borrow_mut().remove(0))
        }
    }

    #[test]
    fn a_batch_being_posted_is_retried_not_parked_and_debit_memos_have_a_collection() {
        let busy = r#"{"Error":{"Status":400,"Message":"x","ValidationResult":{"Errors":[{"Message":"Batch is marked for posting by another user."}]}}}"#;
        let script = Script { answers: RefCell::new(vec![(400, busy.into())]), sent: RefCell::default() };
        let http = Http {
            protocol: Box::new(Sba::new("http://gp/GPService/Tenants(DefaultTenant)/Companies(F)")),
            sender: &script,
        };
        let dm =
            Doc { total: 100, sales: 100, ..Doc::new(DocKind::DebitMemo, "DM-1", "ACME", "B", "2025-11-25", "USD") };
        let r = http.create(&dm);
        assert!(matches!(&r, Err(Failure::Transient(m)) if m.contains("marked for posting")), "{r:?}");
        let sent = script.sent.borrow();
        assert!(sent[0].url.ends_with("/Sales/ReceivablesDebitMemos.json"), "{}", sent[0].url);
        let body = sent[0].body.clone().unwrap_or_default();
        assert!(body.contains(r#""GeneralLedgerPostingDate":"2025-11-25T00:00:00","BatchKey""#), "{body}");
        assert!(!body.contains("Applies"), "{body}");
    }
}
