//! The host's capabilities as the pure modules' traits: `http` (+ the `gp` secret) as
//! [`Sender`], `econnect` as [`Sql`], `state` as [`Store`]; `audit` for their notes.

use ml_connector_sdk::target::ml_connector::plugin::econnect::{self, EconnectError, QueryName};
use ml_connector_sdk::target::ml_connector::plugin::http::{self, HttpError, Method, Request};
use ml_connector_sdk::target::ml_connector::plugin::{audit, secrets, state};

use crate::econnect::{EcError, Query, Rows, Sql};
use crate::http::{Sender, Unanswered};
use crate::numbers::Store;
use crate::wire::{Call, Verb};

fn note(stage: &str, detail: &str) {
    audit::append(stage, audit::Outcome::Info, detail);
}

pub struct HostHttp {
    pub timeout_ms: u32,
}

impl Sender for HostHttp {
    fn send(&self, call: &Call) -> Result<(u16, String), Unanswered> {
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
            timeout_ms: Some(self.timeout_ms),
        };
        let op = &call.label;
        match http::send(&req, Some(&key)) {
            Ok(r) => Ok((r.status, String::from_utf8_lossy(&r.body).into_owned())),
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

    fn note(&self, detail: &str) {
        note("write", detail);
    }
}

/// The host's `econnect`; `stage` names the timeline's notes (`write`, `settle`).
pub struct HostSql {
    pub stage: &'static str,
}

fn query_name(q: Query) -> QueryName {
    match q {
        Query::Customer => QueryName::Customer,
        Query::CustomerEmail => QueryName::CustomerEmail,
        Query::SalesWork => QueryName::SalesWork,
        Query::ReceiptWork => QueryName::ReceiptWork,
        Query::DocumentOpen => QueryName::DocumentOpen,
        Query::DocumentHistory => QueryName::DocumentHistory,
        Query::CustomerDocuments => QueryName::CustomerDocuments,
        Query::FiscalPeriod => QueryName::FiscalPeriod,
        Query::Currency => QueryName::Currency,
        Query::FunctionalCurrency => QueryName::FunctionalCurrency,
        Query::ExchangeRate => QueryName::ExchangeRate,
        Query::Company => QueryName::Company,
        Query::Batch => QueryName::Batch,
        Query::Applies => QueryName::Applies,
        Query::NextOpenPeriod => QueryName::NextOpenPeriod,
    }
}

fn error(e: EconnectError) -> EcError {
    match e {
        EconnectError::Refused(r) => {
            EcError::Refused { node: r.node, number: r.number, text: r.text, details: r.details }
        }
        EconnectError::Invalid(m) => EcError::Invalid(m),
        EconnectError::Denied(m) => EcError::Denied(m),
        EconnectError::Server(m) => EcError::Server(m),
        EconnectError::Transient(m) => EcError::Transient(m),
    }
}

impl Sql for HostSql {
    fn execute(&self, document: &str) -> Result<(), EcError> {
        econnect::execute(document).map_err(error)
    }

    fn query(&self, name: Query, params: &[String]) -> Result<Rows, EcError> {
        let r = econnect::query(query_name(name), params).map_err(error)?;
        Ok(Rows { columns: r.columns, rows: r.rows })
    }

    fn note(&self, detail: &str) {
        note(self.stage, detail);
    }
}

pub struct HostState;

impl Store for HostState {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        state::get(key)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        state::set(key, value)
    }
}
