//! Stand-in ledger target for host tests: documents are POSTed as JSON to
//! `settings.ledger_base` with the granted `ledger-key` secret; the test's ledger server keeps
//! them and counts the calls in flight (to check the per-connection concurrency limit).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ml_connector_sdk::target::exports::ml_connector::plugin::target_api::{
    Guest, LedgerBalance, SettleOutcome, TargetError, WriteOutcome,
};
use ml_connector_sdk::target::ml_connector::plugin::http::{self, HttpError, Method, Request};
use ml_connector_sdk::target::ml_connector::plugin::types::*;
use ml_connector_sdk::target::ml_connector::plugin::{secrets, settings};
use serde_json::json;

struct StandinTarget;

fn post(kind: &str, number: &str, body: serde_json::Value) -> Result<WriteOutcome, TargetError> {
    let base =
        settings::get("ledger_base").ok_or_else(|| TargetError::Permanent("setting ledger_base missing".into()))?;
    let key = secrets::lookup("ledger-key").map_err(|e| TargetError::Permanent(format!("{e:?}")))?;
    let req = Request {
        method: Method::Post,
        url: format!("{base}/documents/{kind}/{number}"),
        headers: vec![("content-type".into(), "application/json".into())],
        body: Some(body.to_string().into_bytes()),
        timeout_ms: Some(10_000),
    };
    match http::send(&req, Some(&key)) {
        Ok(r) if r.status == 201 => Ok(WriteOutcome::Created),
        Ok(r) if r.status == 200 => Ok(WriteOutcome::AlreadyPresent),
        Ok(r) if r.status == 409 => Err(TargetError::Conflict(String::from_utf8_lossy(&r.body).into_owned())),
        Ok(r) => Err(TargetError::Transient(format!("ledger answered {}", r.status))),
        Err(HttpError::Denied(why)) => Err(TargetError::Permanent(format!("denied: {why}"))),
        Err(e) => Err(TargetError::Transient(format!("{e:?}"))),
    }
}

impl Guest for StandinTarget {
    fn ensure_customer(c: GpCustomer) -> Result<WriteOutcome, TargetError> {
        post("customer", &c.id.clone(), json!({"id": c.id, "name": c.name, "currency": c.currency}))
    }

    fn write_document(doc: LedgerDoc) -> Result<WriteOutcome, TargetError> {
        match doc {
            LedgerDoc::Customer(c) => Self::ensure_customer(c),
            LedgerDoc::Invoice(i) => post(
                "invoice",
                &i.number.clone(),
                json!({"number": i.number, "customer": i.customer_id, "currency": i.currency, "total": i.total, "description": i.description}),
            ),
            _ => Err(TargetError::Rejected("the stand-in ledger takes customers and invoices only".into())),
        }
    }

    fn find_document(_kind: DocKind, _number: String) -> Result<Option<LedgerDoc>, TargetError> {
        Ok(None)
    }

    fn fiscal_period_open(_date: Date) -> Result<bool, TargetError> {
        Ok(true)
    }

    fn list_documents(_customer_id: String) -> Result<Vec<LedgerBalance>, TargetError> {
        Err(TargetError::Permanent("this test ledger keeps no balances".into()))
    }

    fn settle(_doc: LedgerDoc) -> Result<SettleOutcome, TargetError> {
        Err(TargetError::Rejected("the stand-in ledger does not apply or void".into()))
    }

    fn batch_posted(_batch: BatchKey) -> Result<bool, TargetError> {
        Ok(true)
    }
}

ml_connector_sdk::export_target!(StandinTarget);
