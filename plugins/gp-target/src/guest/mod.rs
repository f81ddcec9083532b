//! The `target` world's export: settings → a transport (SOAP, SBA or eConnect over the host's
//! capabilities, `host`), WIT values ↔ the model (`convert`), then the flows in `flows`; settle
//! and batch-posted over eConnect whatever the transport (`econnect::settle`).

mod convert;
mod host;

use std::sync::Mutex;

use ml_connector_sdk::target::exports::ml_connector::plugin::target_api::{
    Guest, LedgerBalance, SettleOutcome, TargetError, WriteOutcome,
};
use ml_connector_sdk::target::ml_connector::plugin::settings;
use ml_connector_sdk::target::ml_connector::plugin::types::{BatchKey, DocKind as WitKind, GpCustomer, LedgerDoc};

use crate::books::{Books, ClosedPeriod, Rules};
use crate::config::{Company, Endpoint, Settings, settings_from};
use crate::econnect::{self, Borrowed, Econnect, Sql, check_company, granted};
use crate::flows;
use crate::http::{Http, Sender};
use crate::sba::Sba;
use crate::soap::{Soap, company_list, parse_company_list};
use crate::transport::{Failure, Transport};
use crate::wire::{Call, Verb};
use convert::{error, outcome, party, settled, to_doc, to_ledger, wit_kind};
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

fn settings_now() -> Result<Settings, TargetError> {
    settings_from(&settings::all()).map_err(TargetError::Permanent)
}

/// `gp.company` checked in DYNAMICS..SY01500 over eConnect, once per instance (a SOAP
/// connection named by `gp.company_id`, or SBA without `gp.company`, has no name to check).
fn check_econnect_company(sql: &dyn Sql, s: &Settings) -> Result<(), Failure> {
    if let Some(Company::Name(name)) = &s.company
        && cached("econnect", name).is_none()
    {
        check_company(sql, name, s.database.as_deref())?;
        remember("econnect", name, "");
    }
    Ok(())
}

/// GP's books for a SOAP/SBA connection: read over its `econnect` grant when the rules need
/// them (`next_open_period`, a batch cap) and the grant is there; otherwise none (GP decides).
fn side_books<'a>(s: &Settings, ec: &'a Econnect<'a>) -> Result<Option<&'a dyn Books>, Failure> {
    let needed = s.rules.closed_period == ClosedPeriod::NextOpenPeriod || s.rules.max_documents.is_some();
    if !needed || !granted(ec.sql)? {
        return Ok(None);
    }
    check_econnect_company(ec.sql, s)?;
    Ok(Some(ec))
}

/// Runs `f` over the connection's transport, GP's books when they can be read, the writing
/// rules and the component's state.
fn with<T>(
    f: impl FnOnce(&dyn Transport, Option<&dyn Books>, &Rules, &HostState) -> Result<T, Failure>,
) -> Result<T, TargetError> {
    let s = settings_now()?;
    let sender = HostHttp { timeout_ms: s.timeout_ms };
    let sql = HostSql { stage: "write" };
    let run = || -> Result<T, Failure> {
        match (&s.endpoint, &s.company) {
            (Endpoint::Econnect, company) => {
                if !matches!(company, Some(Company::Name(_))) {
                    return Err(Failure::Permanent("setting gp.company is missing".into()));
                }
                check_econnect_company(&sql, &s)?;
                let ec = Econnect { sql: &sql };
                f(&ec, Some(&ec), &s.rules, &HostState)
            }
            (Endpoint::Sba { url }, _) => {
                let borrowed = Borrowed { sql: &sql, endpoint: "sba" };
                let ec = Econnect { sql: &borrowed };
                let books = side_books(&s, &ec)?;
                f(&Http { protocol: Box::new(Sba::new(url)), sender: &sender }, books, &s.rules, &HostState)
            }
            (Endpoint::Soap { url }, company) => {
                let company = match company {
                    Some(Company::Id(id)) => id.clone(),
                    Some(Company::Name(name)) => soap_company(&sender, url, name)?,
                    None => return Err(Failure::Permanent("setting gp.company is missing".into())),
                };
                let borrowed = Borrowed { sql: &sql, endpoint: "soap" };
                let ec = Econnect { sql: &borrowed };
                let books = side_books(&s, &ec)?;
                let soap = Soap { url: url.clone(), company };
                f(&Http { protocol: Box::new(soap), sender: &sender }, books, &s.rules, &HostState)
            }
        }
    };
    run().map_err(error)
}

/// Runs `f` over eConnect, whatever `gp.endpoint` is: GP Web Services and SBA cannot apply or
/// void receivables documents, so a SOAP/SBA connection settles through its `econnect` grant
/// (none → `permanent`, saying so: `Borrowed`).
fn with_econnect<T>(f: impl FnOnce(&Econnect, &HostState, &Rules) -> Result<T, Failure>) -> Result<T, TargetError> {
    let s = settings_now()?;
    let sql = HostSql { stage: "settle" };
    let run = || -> Result<T, Failure> {
        let endpoint = match s.endpoint {
            Endpoint::Econnect => None,
            Endpoint::Soap { .. } => Some("soap"),
            Endpoint::Sba { .. } => Some("sba"),
        };
        match endpoint {
            None => {
                check_econnect_company(&sql, &s)?;
                f(&Econnect { sql: &sql }, &HostState, &s.rules)
            }
            Some(endpoint) => {
                let borrowed = Borrowed { sql: &sql, endpoint };
                check_econnect_company(&borrowed, &s)?;
                f(&Econnect { sql: &borrowed }, &HostState, &s.rules)
            }
        }
    };
    run().map_err(error)
}

impl Guest for GpTarget {
    fn ensure_customer(customer: GpCustomer) -> Result<WriteOutcome, TargetError> {
        with(|t, _, _, store| flows::ensure_customer(t, store, &party(&customer))).map(outcome)
    }

    /// Documents are written unapplied; applies and voids are the settle step's.
    fn write_document(doc: LedgerDoc) -> Result<WriteOutcome, TargetError> {
        with(|t, books, rules, store| match (&doc, to_doc(&doc)) {
            (LedgerDoc::Customer(c), _) => flows::ensure_customer(t, store, &party(c)),
            (LedgerDoc::Apply(_) | LedgerDoc::Void(_), _) => Err(Failure::Permanent(
                "applies and voids are written by settle (once GP has posted the documents), not by write-document"
                    .into(),
            )),
            (_, Some(d)) => flows::write(t, store, books, rules, &d),
            (_, None) => Err(Failure::Permanent("unsupported document".into())),
        })
        .map(outcome)
    }

    fn settle(doc: LedgerDoc) -> Result<SettleOutcome, TargetError> {
        with_econnect(|ec, store, rules| match &doc {
            LedgerDoc::Apply(a) => econnect::settle::apply(ec, store, rules, &convert::apply(a)?),
            LedgerDoc::Void(v) => econnect::settle::void(ec, store, rules, &convert::void(v)?),
            _ => Err(Failure::Permanent(
                "settle writes applies and voids; customers and documents are write-document's".into(),
            )),
        })
        .map(settled)
    }

    fn batch_posted(batch: BatchKey) -> Result<bool, TargetError> {
        let b = convert::batch_ref(&batch);
        with_econnect(|ec, _, _| econnect::settle::batch_posted(ec, &b.source, &b.id))
    }

    fn find_document(kind: WitKind, number: String) -> Result<Option<LedgerDoc>, TargetError> {
        let Some(kind) = convert::kind(kind) else {
            return Err(TargetError::Permanent("find-document does not look up customers".into()));
        };
        Ok(with(|t, _, _, _| flows::find(t, kind, &number))?.map(to_ledger))
    }

    /// eConnect reads the fiscal calendar; GP Web Services and SBA cannot (none of their
    /// operations reads it), so they answer "open" and GP decides on create (a closed period
    /// is GP's refusal, mapped to `period-closed`).
    fn fiscal_period_open(date: String) -> Result<bool, TargetError> {
        Ok(with(|t, _, _, _| t.period_open(&date))?.unwrap_or(true))
    }

    fn list_documents(customer_id: String) -> Result<Vec<LedgerBalance>, TargetError> {
        Ok(with(|t, _, _, _| flows::list(t, &customer_id))?
            .into_iter()
            .map(|h| LedgerBalance {
                kind: wit_kind(h.doc.kind),
                number: h.doc.number,
                customer_id: h.doc.customer,
                currency: h.doc.currency,
                date: h.doc.date,
                amount: h.doc.total,
                remaining: h.remaining,
                posted: h.posted,
                voided: h.voided,
            })
            .collect())
    }
}

ml_connector_sdk::export_target!(GpTarget);
