//! The Dynamics GP target component: ensures customers and writes receivables invoices, cash
//! receipts (with their applies) and credit memos into unposted batches over GP Web Services
//! (SOAP). NTLM is the host's business: requests carry the `gp` secret handle and the host
//! authenticates the connection; this component never sees the Windows password.
//!
//! Idempotent by construction: document numbers arrive derived from Chargebee ids. A create
//! refused as a duplicate, or one that failed ambiguously (timeout, connection lost after the
//! request left), is followed by a look-up: the same document → `already-present`; a different
//! one → `conflict` naming the fields; nothing there after an ambiguous failure → `transient`.

pub mod model;
pub mod soap;
pub mod xml;

use ml_connector_sdk::target::exports::ml_connector::plugin::target_api::{Guest, LedgerBalance, TargetError, WriteOutcome};
use ml_connector_sdk::target::ml_connector::plugin::http::{self, HttpError, Method, Request};
use ml_connector_sdk::target::ml_connector::plugin::types::{CashReceipt, CreditMemo, DocKind as WitKind, GpCustomer, LedgerDoc, ReceiptType, ReceivablesInvoice, BatchKey, Apply};
use ml_connector_sdk::target::ml_connector::plugin::{audit, secrets, settings};

use model::{AfterFailure, Doc, DocKind, Party, classify_refusal, differences};

struct GpTarget;

/// Where and how to reach GP, from the connection's settings.
struct Gp {
    url: String,
    company: String,
    timeout_ms: u32,
}

fn config() -> Result<Gp, TargetError> {
    match settings::get("gp.endpoint").as_deref().unwrap_or("soap") {
        "soap" => {}
        other => return Err(TargetError::Permanent(format!("gp.endpoint {other:?}: this build of gp-target speaks GP Web Services (soap) only"))),
    }
    let url = settings::get("gp.soap_url").ok_or_else(|| TargetError::Permanent("setting gp.soap_url is missing".into()))?;
    let company = settings::get("gp.company_id").unwrap_or_else(|| "-1".into());
    let timeout_ms = settings::get("gp.timeout_ms").and_then(|t| t.parse().ok()).unwrap_or(30_000);
    Ok(Gp { url, company, timeout_ms })
}

/// How one SOAP call ended.
enum Answer {
    Ok(String),
    Fault(soap::Fault),
}

/// A call's failure before GP answered: ambiguous if the request may have been acted on.
struct Unanswered {
    message: String,
    permanent: bool,
}

fn call(gp: &Gp, (op, body): (String, String)) -> Result<Answer, Unanswered> {
    let key = secrets::lookup("gp").map_err(|e| Unanswered { message: format!("secret gp: {e:?}"), permanent: true })?;
    let req = Request {
        method: Method::Post,
        url: gp.url.clone(),
        headers: vec![("content-type".into(), "text/xml; charset=utf-8".into()), ("soapaction".into(), soap::soap_action(&op))],
        body: Some(body.into_bytes()),
        timeout_ms: Some(gp.timeout_ms),
    };
    match http::send(&req, Some(&key)) {
        Ok(r) if r.status == 200 => Ok(Answer::Ok(String::from_utf8_lossy(&r.body).into_owned())),
        Ok(r) => {
            let body = String::from_utf8_lossy(&r.body).into_owned();
            match soap::parse_fault(&body) {
                Some(f) => Ok(Answer::Fault(f)),
                None => Err(Unanswered { message: format!("{op}: GP answered HTTP {} without a SOAP fault", r.status), permanent: r.status == 401 || r.status == 403 }),
            }
        }
        Err(HttpError::Denied(why)) => Err(Unanswered { message: format!("denied by host policy: {why}"), permanent: true }),
        Err(HttpError::Timeout) => Err(Unanswered { message: format!("{op}: timed out"), permanent: false }),
        Err(HttpError::Connect(m)) | Err(HttpError::Protocol(m)) => Err(Unanswered { message: format!("{op}: {m}"), permanent: m.contains("refused the Windows account") }),
        Err(HttpError::RateLimited(_)) => Err(Unanswered { message: format!("{op}: GP is throttling"), permanent: false }),
    }
}

fn unanswered(u: Unanswered) -> TargetError {
    if u.permanent { TargetError::Permanent(u.message) } else { TargetError::Transient(u.message) }
}

/// GP's messages for a fault: the logged validation result's when there is one.
fn fault_text(gp: &Gp, f: &soap::Fault) -> String {
    if let Some(id) = &f.log_id
        && let Ok(Answer::Ok(body)) = call(gp, soap::validation_result(&gp.company, id))
    {
        let msgs = soap::validation_messages(&body);
        if !msgs.is_empty() {
            return msgs.join("; ");
        }
    }
    f.message.clone()
}

fn is_not_found(f: &soap::Fault) -> bool {
    f.message.contains("does not exist")
}

fn find(gp: &Gp, kind: DocKind, number: &str) -> Result<Option<Doc>, TargetError> {
    match call(gp, soap::get_document(&gp.company, kind, number)).map_err(unanswered)? {
        Answer::Ok(body) => soap::parse_document(kind, &body).map_err(TargetError::Transient),
        Answer::Fault(f) if is_not_found(&f) => Ok(None),
        Answer::Fault(f) => Err(TargetError::Transient(fault_text(gp, &f))),
    }
}

fn write(gp: &Gp, doc: Doc) -> Result<WriteOutcome, TargetError> {
    let label = format!("{:?} {}", doc.kind, doc.number);
    let ambiguous = match call(gp, soap::create_document(&gp.company, &doc)) {
        Ok(Answer::Ok(_)) => return Ok(WriteOutcome::Created),
        Ok(Answer::Fault(f)) => {
            let text = fault_text(gp, &f);
            match classify_refusal(&text) {
                AfterFailure::LookUp { ambiguous } => ambiguous,
                AfterFailure::PeriodClosed(m) => return Err(TargetError::PeriodClosed(m)),
                AfterFailure::MissingDependency(m) => return Err(TargetError::MissingDependency(m)),
                AfterFailure::Rejected(m) if m.contains("unhandled system exception") => true,
                AfterFailure::Rejected(m) => return Err(TargetError::Rejected(m)),
            }
        }
        Err(u) if u.permanent => return Err(unanswered(u)),
        Err(u) => {
            audit::append("write", audit::Outcome::Info, &format!("{label}: {}; looking it up before writing again", u.message));
            true
        }
    };
    match find(gp, doc.kind, &doc.number)? {
        Some(theirs) => {
            let diff = differences(&doc, &theirs);
            if diff.is_empty() {
                Ok(WriteOutcome::AlreadyPresent)
            } else {
                Err(TargetError::Conflict(format!("GP already holds {label} with different content ({}); nothing overwritten", diff.join("; "))))
            }
        }
        None if ambiguous => Err(TargetError::Transient(format!("{label}: not in GP after an unanswered create; will retry"))),
        None => Err(TargetError::Transient(format!("{label}: GP called the number a duplicate but has no such document"))),
    }
}

fn party(c: &GpCustomer) -> Party {
    Party { id: c.id.clone(), name: c.name.clone(), short_name: c.short_name.clone(), currency: c.currency.clone(), email: c.email.clone() }
}

fn receipt_type(t: ReceiptType) -> &'static str {
    match t {
        ReceiptType::Check => "Check",
        ReceiptType::Cash => "Cash",
        ReceiptType::PaymentCard => "Payment Card",
    }
}

fn wit_receipt_type(t: &str) -> ReceiptType {
    match t {
        "Check" => ReceiptType::Check,
        "Payment Card" => ReceiptType::PaymentCard,
        _ => ReceiptType::Cash,
    }
}

fn to_doc(d: &LedgerDoc) -> Option<Doc> {
    let applies = |a: &[Apply]| a.iter().map(|x| (x.invoice_number.clone(), x.amount)).collect();
    let blank = |kind, number: &str, customer: &str, batch: &BatchKey, date: &str, currency: &str| Doc {
        kind,
        number: number.into(),
        customer: customer.into(),
        batch: batch.id.clone(),
        date: date.into(),
        currency: currency.into(),
        sales: 0,
        discount: 0,
        freight: 0,
        misc: 0,
        tax: 0,
        total: 0,
        description: None,
        po: None,
        checkbook: None,
        receipt_type: String::new(),
        check_number: None,
        applies: vec![],
    };
    Some(match d {
        LedgerDoc::Customer(_) => return None,
        LedgerDoc::Invoice(i) => Doc {
            sales: i.sales,
            discount: i.trade_discount,
            freight: i.freight,
            misc: i.misc,
            tax: i.tax,
            total: i.total,
            description: i.description.clone(),
            po: i.customer_po.clone(),
            ..blank(DocKind::Invoice, &i.number, &i.customer_id, &i.batch, &i.date, &i.currency)
        },
        LedgerDoc::CreditMemo(c) => Doc {
            sales: c.sales,
            tax: c.tax,
            total: c.total,
            description: c.description.clone(),
            applies: applies(&c.applies),
            ..blank(DocKind::CreditMemo, &c.number, &c.customer_id, &c.batch, &c.date, &c.currency)
        },
        LedgerDoc::CashReceipt(r) => Doc {
            total: r.amount,
            description: r.description.clone(),
            checkbook: Some(r.checkbook.clone()),
            receipt_type: receipt_type(r.receipt_type).into(),
            check_number: r.check_card_number.clone(),
            applies: applies(&r.applies),
            ..blank(DocKind::CashReceipt, &r.number, &r.customer_id, &r.batch, &r.date, &r.currency)
        },
    })
}

fn to_ledger(d: Doc) -> LedgerDoc {
    let source = if d.kind == DocKind::CashReceipt { "RM_Cash" } else { "RM_Sales" };
    let batch = BatchKey { source: source.into(), id: d.batch.clone() };
    match d.kind {
        DocKind::Invoice => LedgerDoc::Invoice(ReceivablesInvoice {
            number: d.number,
            customer_id: d.customer,
            batch,
            date: d.date,
            currency: d.currency,
            sales: d.sales,
            trade_discount: d.discount,
            freight: d.freight,
            misc: d.misc,
            tax: d.tax,
            total: d.total,
            description: d.description,
            customer_po: d.po,
            distributions: vec![],
        }),
        DocKind::CreditMemo => LedgerDoc::CreditMemo(CreditMemo {
            number: d.number,
            customer_id: d.customer,
            batch,
            date: d.date,
            currency: d.currency,
            sales: d.sales,
            tax: d.tax,
            total: d.total,
            description: d.description,
            applies: vec![],
            distributions: vec![],
        }),
        DocKind::CashReceipt => LedgerDoc::CashReceipt(CashReceipt {
            number: d.number,
            customer_id: d.customer,
            batch,
            date: d.date,
            currency: d.currency,
            amount: d.total,
            checkbook: d.checkbook.unwrap_or_default(),
            receipt_type: wit_receipt_type(&d.receipt_type),
            check_card_number: d.check_number,
            description: d.description,
            applies: vec![],
        }),
    }
}

impl Guest for GpTarget {
    fn ensure_customer(customer: GpCustomer) -> Result<WriteOutcome, TargetError> {
        let gp = config()?;
        let ours = party(&customer);
        let existing = match call(&gp, soap::get_customer(&gp.company, &ours.id)).map_err(unanswered)? {
            Answer::Ok(body) => soap::parse_customer(&body),
            Answer::Fault(f) if is_not_found(&f) => None,
            Answer::Fault(f) => return Err(TargetError::Transient(fault_text(&gp, &f))),
        };
        let update = match &existing {
            None => false,
            Some(theirs) if theirs.name == ours.name && theirs.currency.eq_ignore_ascii_case(&ours.currency) => return Ok(WriteOutcome::AlreadyPresent),
            Some(_) => true,
        };
        match call(&gp, soap::customer(&gp.company, &ours, update)) {
            Ok(Answer::Ok(_)) => Ok(if update { WriteOutcome::Updated } else { WriteOutcome::Created }),
            // Another worker created it between our look-up and our create.
            Ok(Answer::Fault(f)) if !update && f.message.contains("already exists") => Ok(WriteOutcome::AlreadyPresent),
            // GP's generic system fault says nothing about the customer: try again later.
            Ok(Answer::Fault(f)) if f.message.contains("unhandled system exception") => Err(TargetError::Transient(f.message)),
            Ok(Answer::Fault(f)) => Err(TargetError::Rejected(fault_text(&gp, &f))),
            Err(u) => Err(unanswered(u)),
        }
    }

    fn write_document(doc: LedgerDoc) -> Result<WriteOutcome, TargetError> {
        let gp = config()?;
        match (&doc, to_doc(&doc)) {
            (LedgerDoc::Customer(c), _) => Self::ensure_customer(c.clone()),
            (_, Some(d)) => write(&gp, d),
            (_, None) => Err(TargetError::Permanent("unsupported document".into())),
        }
    }

    fn find_document(kind: WitKind, number: String) -> Result<Option<LedgerDoc>, TargetError> {
        let gp = config()?;
        let kind = match kind {
            WitKind::Invoice => DocKind::Invoice,
            WitKind::CreditMemo => DocKind::CreditMemo,
            WitKind::CashReceipt => DocKind::CashReceipt,
            WitKind::Customer => return Err(TargetError::Permanent("find-document does not look up customers".into())),
        };
        Ok(find(&gp, kind, &number)?.map(to_ledger))
    }

    /// GP Web Services exposes no fiscal-calendar read: a closed period shows as GP's own
    /// error on create (mapped to `period-closed`). So this says "open" and the host's
    /// periodic re-check retries parked documents, which GP refuses again while it is closed.
    fn fiscal_period_open(_date: String) -> Result<bool, TargetError> {
        Ok(true)
    }

    /// GetReceivablesDocumentList for the customer, then each document by key for its
    /// amounts (the summary has no unapplied amount). Cash receipts: GP Web Services does
    /// not expose their unapplied amount, so `remaining` is 0 for them.
    fn list_documents(customer_id: String) -> Result<Vec<LedgerBalance>, TargetError> {
        let gp = config()?;
        let summaries = match call(&gp, soap::document_list(&gp.company, &customer_id)).map_err(unanswered)? {
            Answer::Ok(body) => soap::parse_document_list(&body),
            Answer::Fault(f) => return Err(TargetError::Transient(fault_text(&gp, &f))),
        };
        let mut out = Vec::new();
        for (kind, number) in summaries {
            let body = match call(&gp, soap::get_document(&gp.company, kind, &number)).map_err(unanswered)? {
                Answer::Ok(body) => body,
                Answer::Fault(f) => return Err(TargetError::Transient(fault_text(&gp, &f))),
            };
            let Some(doc) = soap::parse_document(kind, &body).map_err(TargetError::Transient)? else { continue };
            let remaining = if kind == DocKind::CashReceipt { 0 } else { soap::current_amount(&body, &doc.currency).unwrap_or(doc.total) };
            out.push(LedgerBalance {
                kind: match kind {
                    DocKind::Invoice => WitKind::Invoice,
                    DocKind::CreditMemo => WitKind::CreditMemo,
                    DocKind::CashReceipt => WitKind::CashReceipt,
                },
                number: doc.number,
                customer_id: doc.customer,
                currency: doc.currency,
                date: doc.date,
                amount: doc.total,
                remaining,
            });
        }
        Ok(out)
    }
}

ml_connector_sdk::export_target!(GpTarget);
