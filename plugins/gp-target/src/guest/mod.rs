//! The `target` world's export: settings → a transport (SOAP, SBA or eConnect over the host's
//! capabilities, `host`), WIT values ↔ the model (`convert`), then the flows in `flows`.

mod convert;
mod host;

use std::sync::Mutex;

use ml_connector_sdk::target::exports::ml_connector::plugin::target_api::{
    Guest, LedgerBalance, TargetError, WriteOutcome,
};
use ml_connector_sdk::target::ml_connector::plugin::settings;
use ml_connector_sdk::target::ml_connector::plugin::types::{DocKind as WitKind, GpCustomer, LedgerDoc};

use crate::config::{Company, Endpoint, Settings, settings_from};
use crate::econnect::{Econnect, check_company};
use crate::flows;
use crate::http::{Http, Sender};
use crate::model::DocKind;
use crate::sba::Sba;
use crate::soap::{Soap, company_list, parse_company_list};
use crate::transport::{Failure, Transport};
use crate::wire::{Call, Verb};
use convert::{error, outcome, party, to_doc, to_ledger, wit_kind};
use host::{HostHttp, HostSql, HostState};

struct GpTarget;

/// Companies already resolved by this instance: (where, name) → SOAP company id / eConnect ok.
static COMPANIES: Mutex<Vec<(String, String, String)>> = Mutex::new(Vec::new());

fn cached(at: &str, name: &str) -> Option<String> {
    let list = COMPANIES.lock().ok()?;
    list.iter().find(|(a, n, _)| a == at && n == name).map(|(_, _, id)| id.clone())
}

fn remember(at: &str, name: &str, id: &str) {
    if let Ok(mut list) = COMPANIES.lock() {
        list.push((at.into(), name.into(), id.into()));
    }
}

/// GP Web Services' id of the company named `name` (GetCompanyList, once per instance).
fn soap_company(sender: &dyn Sender, url: &str, name: &str) -> Result<String, Failure> {
    if let Some(id) = cached(url, name) {
        return Ok(id);
    }
    let (op, body) = company_list(name);
    let call = Call {
        headers: vec![
            ("content-type".into(), "text/xml; charset=utf-8".into()),
            ("soapaction".into(), crate::soap::soap_action(&op)),
        ],
        label: op,
        verb: Verb::Post,
        url: url.into(),
        body: Some(body),
        lookup: false,
    };
    let (status, answer) = sender
        .send(&call)
        .map_err(|u| if u.permanent { Failure::Permanent(u.message) } else { Failure::Transient(u.message) })?;
    if !(200..300).contains(&status) {
        return Err(Failure::Transient(format!("GetCompanyList: GP answered HTTP {status}")));
    }
    let id = parse_company_list(&answer, name).map_err(Failure::Permanent)?;
    remember(url, name, &id);
    Ok(id)
}

/// Runs `f` over the connection's transport and the component's state.
fn with<T>(f: impl FnOnce(&dyn Transport, &HostState) -> Result<T, Failure>) -> Result<T, TargetError> {
    let s: Settings = settings_from(settings::get).map_err(TargetError::Permanent)?;
    let sender = HostHttp { timeout_ms: s.timeout_ms };
    let run = || -> Result<T, Failure> {
        match (&s.endpoint, &s.company) {
            (Endpoint::Econnect, company) => {
                let Some(Company::Name(name)) = company else {
                    return Err(Failure::Permanent("setting gp.company is missing".into()));
                };
                if cached("econnect", name).is_none() {
                    check_company(&HostSql, name, s.database.as_deref())?;
                    remember("econnect", name, "");
                }
                f(&Econnect { sql: &HostSql }, &HostState)
            }
            (Endpoint::Sba { url }, _) => f(&Http { protocol: Box::new(Sba::new(url)), sender: &sender }, &HostState),
            (Endpoint::Soap { url }, company) => {
                let company = match company {
                    Some(Company::Id(id)) => id.clone(),
                    Some(Company::Name(name)) => soap_company(&sender, url, name)?,
                    None => return Err(Failure::Permanent("setting gp.company is missing".into())),
                };
                let soap = Soap { url: url.clone(), company };
                f(&Http { protocol: Box::new(soap), sender: &sender }, &HostState)
            }
        }
    };
    run().map_err(error)
}

impl Guest for GpTarget {
    fn ensure_customer(customer: GpCustomer) -> Result<WriteOutcome, TargetError> {
        with(|t, store| flows::ensure_customer(t, store, &party(&customer))).map(outcome)
    }

    fn write_document(doc: LedgerDoc) -> Result<WriteOutcome, TargetError> {
        with(|t, store| match (&doc, to_doc(&doc)) {
            (LedgerDoc::Customer(c), _) => flows::ensure_customer(t, store, &party(c)),
            (_, Some(d)) => flows::write(t, store, &d),
            (_, None) => Err(Failure::Permanent("unsupported document".into())),
        })
        .map(outcome)
    }

    fn find_document(kind: WitKind, number: String) -> Result<Option<LedgerDoc>, TargetError> {
        let kind = match kind {
            WitKind::Invoice => DocKind::Invoice,
            WitKind::CreditMemo => DocKind::CreditMemo,
            WitKind::CashReceipt => DocKind::CashReceipt,
            WitKind::Customer => return Err(TargetError::Permanent("find-document does not look up customers".into())),
        };
        Ok(with(|t, _| flows::find(t, kind, &number))?.map(to_ledger))
    }

    /// eConnect reads the fiscal calendar; GP Web Services and SBA cannot (none of their
    /// operations reads it), so they answer "open" and GP decides on create (a closed period
    /// is GP's refusal, mapped to `period-closed`).
    fn fiscal_period_open(date: String) -> Result<bool, TargetError> {
        Ok(with(|t, _| t.period_open(&date))?.unwrap_or(true))
    }

    fn list_documents(customer_id: String) -> Result<Vec<LedgerBalance>, TargetError> {
        Ok(with(|t, _| flows::list(t, &customer_id))?
            .into_iter()
            .map(|h| LedgerBalance {
                kind: wit_kind(h.doc.kind),
                number: h.doc.number,
                customer_id: h.doc.customer,
                currency: h.doc.currency,
                date: h.doc.date,
                amount: h.doc.total,
                remaining: h.remaining,
            })
            .collect())
    }
}

ml_connector_sdk::export_target!(GpTarget);
