//! The eConnect transport (`gp.endpoint = "econnect"`): whole eConnect XML documents run by
//! the host's `econnect` as eConnect's stored procedures in one SQL transaction, and the fixed
//! read queries of docs/econnect.md. [`Econnect`] implements [`Transport`] over [`Sql`] (the
//! host's interface, or a test's fake) and [`Books`] (GP's fiscal periods and batches, also
//! for SOAP/SBA connections with an `econnect` grant). `doc` builds the documents, `read` reads
//! rows and errors, `settle` applies and voids.

pub mod doc;
pub mod read;
pub mod settle;

pub use crate::books::PERIOD_CLOSED;
use crate::books::{Batch, Books, Period};
use crate::model::{Doc, DocKind, Exchange, Owned, Party};
use crate::settle::BatchRef;
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
    Batch,
    Applies,
    NextOpenPeriod,
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

/// The `econnect` of a SOAP or SBA connection, which reaches GP through it only for what GP Web
/// Services and SBA cannot do (settle; the fiscal calendar and batch sizes): a missing grant is
/// said as such.
pub struct Borrowed<'a> {
    pub sql: &'a dyn Sql,
    /// `soap` or `sba`.
    pub endpoint: &'static str,
}

impl Sql for Borrowed<'_> {
    fn execute(&self, document: &str) -> Result<(), EcError> {
        self.sql.execute(document).map_err(|e| self.grant(e))
    }
    fn query(&self, name: Query, params: &[String]) -> Result<Rows, EcError> {
        self.sql.query(name, params).map_err(|e| self.grant(e))
    }
    fn note(&self, detail: &str) {
        self.sql.note(detail)
    }
}

impl Borrowed<'_> {
    fn grant(&self, e: EcError) -> EcError {
        match e {
            EcError::Denied(m) => EcError::Denied(format!(
                "this {} connection has no econnect grant: GP Web Services and SBA cannot apply or void receivables documents, so settle (and batch-posted) go through eConnect — grant the component econnect to GP's company database ({m})",
                self.endpoint
            )),
            other => other,
        }
    }
}

/// Whether the host lets this component read GP over eConnect (a SOAP/SBA connection's optional
/// `econnect` grant): denied → false; another failure is reported.
pub fn granted(sql: &dyn Sql) -> Result<bool, Failure> {
    match sql.query(Query::FunctionalCurrency, &[]) {
        Ok(_) => Ok(true),
        Err(EcError::Denied(_)) => Ok(false),
        Err(e) => Err(read_failure(e)),
    }
}

/// Where a document stands in GP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    Absent,
    /// In an unposted batch (RM10301 / RM10201).
    Unposted(BatchRef),
    /// Open or history (RM20101 / RM30101).
    Posted {
        customer: String,
        voided: bool,
    },
}

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

    /// The rate (the fiscal period was the flows', through [`Books`]).
    fn prepare(&self, d: &Doc) -> Result<Doc, Failure> {
        self.with_rate(d)
    }

    /// An invoice or memo with a moved GL posting date carries its batch's header: its totals
    /// are read first so the header changes only the date.
    fn create(&self, d: &Doc) -> Result<(), Failure> {
        let existing = match (&d.gl_date, d.kind) {
            (Some(_), kind) if kind != DocKind::CashReceipt => self.batch(kind.batch_source(), &d.batch)?,
            _ => None,
        };
        let xml = doc::document(d, existing.as_ref()).map_err(Failure::Rejected)?;
        self.sql.execute(&xml).map_err(write_failure)
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
            let posted = rows.col_exists("CURTRXAM");
            let voided = !matches!(rows.text(0, "VOIDSTTS").as_str(), "" | "0");
            let remaining = match rows.get(0, "CURTRXAM") {
                _ if voided => 0,
                Some(_) => read::minor(&rows, 0, "CURTRXAM", &iso)?,
                None if posted => 0,
                None => doc.total,
            };
            out.push(Held { doc, remaining, posted, voided });
        }
        Ok(out)
    }

    fn period_open(&self, date: &str) -> Result<Option<bool>, Failure> {
        Ok(Some(self.period(date)? == Period::Open))
    }

    fn note(&self, detail: &str) {
        self.sql.note(detail);
    }
}

impl Econnect<'_> {
    /// Where GP holds the document: an unposted batch (work), open or history, or nowhere.
    pub fn standing(&self, kind: DocKind, number: &str) -> Result<Standing, Failure> {
        let typed = vec![kind.rmdtypal().to_string(), number.to_string()];
        let work = match kind {
            DocKind::CashReceipt => self.query(Query::ReceiptWork, &[number.to_string()])?,
            _ => self.query(Query::SalesWork, &typed)?,
        };
        if !work.is_empty() {
            let source = work.get(0, "BCHSOURC").unwrap_or_else(|| kind.batch_source().to_string());
            return Ok(Standing::Unposted(BatchRef { source, id: work.text(0, "BACHNUMB") }));
        }
        for q in [Query::DocumentOpen, Query::DocumentHistory] {
            let rows = self.query(q, &typed)?;
            if !rows.is_empty() {
                let voided = !matches!(rows.text(0, "VOIDSTTS").as_str(), "" | "0");
                return Ok(Standing::Posted { customer: rows.text(0, "CUSTNMBR"), voided });
            }
        }
        Ok(Standing::Absent)
    }
}

/// GP's books over eConnect: `fiscal-period`, `next-open-period`, `batch`.
impl Books for Econnect<'_> {
    fn period(&self, date: &str) -> Result<Period, Failure> {
        let rows = self.query(Query::FiscalPeriod, &[date.to_string()])?;
        Ok(match rows.get(0, "PSERIES_2") {
            _ if rows.is_empty() => Period::Missing,
            Some(flag) if flag == "1" => Period::Closed,
            _ => Period::Open,
        })
    }

    fn next_open_period(&self, date: &str) -> Result<Option<String>, Failure> {
        let rows = self.query(Query::NextOpenPeriod, &[date.to_string()])?;
        Ok(rows.get(0, "PERIODDT").map(|d| d.chars().take(10).collect()))
    }

    fn batch(&self, source: &str, id: &str) -> Result<Option<Batch>, Failure> {
        let rows = self.query(Query::Batch, &[id.to_string(), source.to_string()])?;
        if rows.is_empty() {
            return Ok(None);
        }
        let documents = rows.text(0, "NUMOFTRX").parse().map_err(|_| {
            Failure::Transient(format!("GP's NUMOFTRX of batch {id}: {:?} is not a count", rows.text(0, "NUMOFTRX")))
        })?;
        Ok(Some(Batch { documents, total: rows.get(0, "BCHTOTAL").unwrap_or_else(|| "0.00000".into()) }))
    }
}

#[cfg(test)]
mod tests;
