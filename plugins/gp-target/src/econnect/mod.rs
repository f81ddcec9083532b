//! The eConnect transport (`gp.endpoint = "econnect"`): whole eConnect XML documents run by
//! the host's `econnect` as eConnect's stored procedures in one SQL transaction, and the fixed
//! read queries of docs/econnect.md. [`Econnect`] implements [`Transport`] over [`Sql`] (the
//! host's interface, or a test's fake). `doc` builds the documents, `read` reads rows and errors.

pub mod doc;
pub mod read;

use crate::model::{Doc, DocKind, Exchange, Owned, Party};
use crate::transport::{Failure, Held, Theirs, Transport};
use read::{read_failure, write_failure};

/// The WIT's `query-name`s this target runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    Customer,
    CustomerEmail,
    SalesWork,
    ReceiptWork,
    DocumentOpen,
    DocumentHistory,
    CustomerDocuments,
    FiscalPeriod,
    Currency,
    FunctionalCurrency,
    ExchangeRate,
    Company,
}

/// A query's answer (the WIT's `rows`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// The WIT's `econnect-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcError {
    Refused { node: String, number: i32, text: String, details: Vec<(i32, String)> },
    Invalid(String),
    Denied(String),
    Server(String),
    Transient(String),
}

/// The host's `econnect` interface.
pub trait Sql {
    fn execute(&self, document: &str) -> Result<(), EcError>;
    fn query(&self, name: Query, params: &[String]) -> Result<Rows, EcError>;
    fn note(&self, _detail: &str) {}
}

pub struct Econnect<'a> {
    pub sql: &'a dyn Sql,
}

/// GP's text for a document dated in a closed period (KB 933357).
pub const PERIOD_CLOSED: &str = "The fiscal period that contains the document date is closed.";

/// `gp.company` must exist in DYNAMICS..SY01500; with `gp.database` given, its INTERID must be
/// that database (the one the host's grant connects to).
pub fn check_company(sql: &dyn Sql, name: &str, database: Option<&str>) -> Result<(), Failure> {
    let rows = sql.query(Query::Company, &[name.to_string()]).map_err(read_failure)?;
    let Some(interid) = rows.get(0, "INTERID") else {
        return Err(Failure::Permanent(format!("gp.company {name:?}: GP has no such company (DYNAMICS..SY01500)")));
    };
    match database {
        Some(db) if !db.trim().eq_ignore_ascii_case(&interid) => Err(Failure::Permanent(format!(
            "gp.company {name:?} is database {interid} in GP, but gp.database says {db:?}: the eConnect grant must connect to {interid}"
        ))),
        _ => Ok(()),
    }
}

impl Econnect<'_> {
    fn query(&self, name: Query, params: &[String]) -> Result<Rows, Failure> {
        self.sql.query(name, params).map_err(read_failure)
    }

    /// The ISO code of a GP currency id (the id itself when MC40200 has no ISO code for it).
    fn iso(&self, currency_id: &str) -> Result<String, Failure> {
        let rows = self.query(Query::Currency, &[currency_id.to_string()])?;
        Ok(rows.get(0, "ISOCURRC").unwrap_or_else(|| currency_id.to_string()))
    }

    /// The first row of `queries` (tried in order) that holds the document, read.
    fn first(&self, kind: DocKind, queries: &[(Query, Vec<String>)]) -> Result<Option<Doc>, Failure> {
        for (q, params) in queries {
            let rows = self.query(*q, params)?;
            if !rows.is_empty() {
                let iso = self.iso(&rows.text(0, "CURNCYID"))?;
                return read::document(kind, &rows, &iso);
            }
        }
        Ok(None)
    }

    /// A foreign-currency document without a rate gets GP's rate for its date (rate type: the
    /// document's or Sales' default, MC40000 DEFSLSTP); none in GP → `rejected`.
    fn with_rate(&self, doc: &Doc) -> Result<Doc, Failure> {
        if doc.exchange.is_some() || doc.currency_id.is_empty() {
            return Ok(doc.clone());
        }
        let f = self.query(Query::FunctionalCurrency, &[])?;
        if f.text(0, "FUNLCURR").eq_ignore_ascii_case(&doc.currency_id) {
            return Ok(doc.clone());
        }
        let rate_type = f.text(0, "DEFSLSTP");
        let params = [doc.currency_id.clone(), rate_type.clone(), doc.date.clone()];
        let rows = self.query(Query::ExchangeRate, &params)?;
        match rows.get(0, "XCHGRATE") {
            Some(rate) => Ok(Doc {
                exchange: Some(Exchange {
                    rate,
                    date: rows.text(0, "EXCHDATE").chars().take(10).collect(),
                    rate_type: Some(rate_type).filter(|r| !r.is_empty()),
                }),
                ..doc.clone()
            }),
            None => Err(Failure::Rejected(format!(
                "GP has no exchange rate for currency {} (rate type {rate_type:?}) on or before {}: enter one in GP (Multicurrency Exchange Rate Tables)",
                doc.currency_id, doc.date
            ))),
        }
    }
}

impl Transport for Econnect<'_> {
    fn customer(&self, id: &str) -> Result<Option<Theirs>, Failure> {
        let rows = self.query(Query::Customer, &[id.to_string()])?;
        if rows.is_empty() {
            return Ok(None);
        }
        let email = self.query(Query::CustomerEmail, &[id.to_string(), doc::PRIMARY.into()])?.get(0, "INET1");
        Ok(read::customer(&rows, email).map(|party| Theirs { party, raw: String::new() }))
    }

    fn save_customer(&self, ours: &Party, theirs: Option<&Theirs>, changes: &[Owned]) -> Result<(), Failure> {
        self.sql.execute(&doc::customer(ours, theirs.is_some(), changes)).map_err(write_failure)
    }

    /// The fiscal period before anything is written, then the rate.
    fn prepare(&self, d: &Doc) -> Result<Doc, Failure> {
        let rows = self.query(Query::FiscalPeriod, std::slice::from_ref(&d.date))?;
        if rows.is_empty() {
            return Err(Failure::PeriodClosed(format!(
                "A fiscal period has not been set up for the document date {}",
                d.date
            )));
        }
        if rows.text(0, "PSERIES_2") == "1" {
            return Err(Failure::PeriodClosed(PERIOD_CLOSED.into()));
        }
        self.with_rate(d)
    }

    fn create(&self, d: &Doc) -> Result<(), Failure> {
        let xml = doc::document(d).map_err(Failure::Rejected)?;
        self.sql.execute(&xml).map_err(write_failure)
    }

    /// Nothing more: the applies rode in the document's own eConnect transaction.
    fn apply(&self, _d: &Doc) -> Result<(), Failure> {
        Ok(())
    }

    fn find(&self, kind: DocKind, number: &str) -> Result<Option<Doc>, Failure> {
        let typed = vec![kind.rmdtypal().to_string(), number.to_string()];
        let work = match kind {
            DocKind::CashReceipt => (Query::ReceiptWork, vec![number.to_string()]),
            _ => (Query::SalesWork, typed.clone()),
        };
        self.first(kind, &[work, (Query::DocumentOpen, typed.clone()), (Query::DocumentHistory, typed)])
    }

    /// RM00401's index of the customer's documents, then each from its table: work documents
    /// are wholly unapplied, open and history ones carry CURTRXAM.
    fn list(&self, customer: &str) -> Result<Vec<Held>, Failure> {
        let index = self.query(Query::CustomerDocuments, &[customer.to_string()])?;
        let mut out = Vec::new();
        for i in 0..index.len() {
            let Some(kind) = index.text(i, "RMDTYPAL").parse().ok().and_then(DocKind::from_rmdtypal) else { continue };
            let number = index.text(i, "DOCNUMBR");
            let typed = vec![kind.rmdtypal().to_string(), number.clone()];
            let (q, params) = match (index.text(i, "DCSTATUS").as_str(), kind) {
                ("1", DocKind::CashReceipt) => (Query::ReceiptWork, vec![number.clone()]),
                ("1", _) => (Query::SalesWork, typed),
                ("2", _) => (Query::DocumentOpen, typed),
                _ => (Query::DocumentHistory, typed),
            };
            let rows = self.query(q, &params)?;
            if rows.is_empty() {
                continue;
            }
            let iso = self.iso(&rows.text(0, "CURNCYID"))?;
            let Some(doc) = read::document(kind, &rows, &iso)? else { continue };
            let remaining = match rows.get(0, "CURTRXAM") {
                Some(_) => read::minor(&rows, 0, "CURTRXAM", &iso)?,
                None => doc.total,
            };
            out.push(Held { doc, remaining });
        }
        Ok(out)
    }

    fn period_open(&self, date: &str) -> Result<Option<bool>, Failure> {
        let rows = self.query(Query::FiscalPeriod, &[date.to_string()])?;
        Ok(Some(!rows.is_empty() && rows.text(0, "PSERIES_2") != "1"))
    }

    fn note(&self, detail: &str) {
        self.sql.note(detail);
    }
}

#[cfg(test)]
mod tests;
