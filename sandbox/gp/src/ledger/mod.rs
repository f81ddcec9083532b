//! What a receivables document carries beyond its header — distributions (RM10101), tax
//! details (RM10601), tax schedule, payment terms, card name, exchange rate — checked against
//! the company's set-up the same way whichever interface sent it (SOAP, SBA, eConnect).
//!
//! The endpoints turn what they received into a plain [`Lines`] value; [`check`] runs GP's
//! refusals inside the write transaction and [`store`] writes the rows next to the document.

mod distributions;
mod rows;
mod taxes;

use sqlx::SqliteConnection;

pub use distributions::{allowed_dist_types, default_distributions};
pub use rows::{DistributionRow, TaxRow, distribution_rows, store, tax_rows};

use crate::date::Date;
use crate::db::{Db, Rate};
use crate::model::{Company, Document};
use crate::rules::{GpError, RulesConfig};

/// One distribution line as sent: account by its formatted number (ACTNUMST) or index.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DistLine {
    pub seq: Option<i64>,
    pub dist_type: i64,
    pub account: Option<String>,
    pub account_index: Option<i64>,
    /// Minor units of the document's currency.
    pub debit: i64,
    pub credit: i64,
    pub reference: Option<String>,
}

/// One tax detail line (RM10601).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaxLine {
    pub detail_id: String,
    pub tax: i64,
    pub sales_tax: i64,
    pub taxable_sales: i64,
    pub account: Option<String>,
}

/// Exchange-rate members: a rate given by the caller (decimal text), or a lookup by rate type
/// (default: the Sales rate type of MC40000) on a date (default: the document date).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Exchange {
    pub rate: Option<String>,
    pub rate_type: Option<String>,
    pub date: Option<Date>,
}

/// Everything the ledger checks about a document besides its header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lines {
    /// `None`: GP builds them from the posting setup (CREATEDIST = 1 / none sent over SOAP).
    pub distributions: Option<Vec<DistLine>>,
    pub taxes: Vec<TaxLine>,
    pub tax_schedule: Option<String>,
    pub payment_terms: Option<String>,
    pub card_name: Option<String>,
    pub exchange: Exchange,
    /// The document's own GL posting date (receipt GLPOSTDT, WSDL `GeneralLedgerPostingDate`).
    pub glpost_date: Option<Date>,
}

/// What [`check`] resolved, for [`store`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checked {
    pub distributions: Vec<DistributionRow>,
    pub taxes: Vec<TaxRow>,
    pub rate: Option<Rate>,
}

/// GP's refusals for a document's lines, in the order GP lists them, and what was resolved.
pub async fn check(
    conn: &mut SqliteConnection,
    company: &Company,
    rules: &RulesConfig,
    doc: &Document,
    lines: &Lines,
) -> sqlx::Result<(Checked, Vec<GpError>)> {
    let mut errors = Vec::new();
    let posting = posting_date(conn, company.id, doc, lines).await?;
    errors.extend(period_refusal(conn, company.id, posting).await?);
    setup_ids(conn, company.id, rules, lines, &mut errors).await?;
    let taxes = taxes::check(conn, company.id, rules, doc, &lines.taxes, &mut errors).await?;
    let sent = lines.distributions.clone();
    let wanted = sent.unwrap_or_else(|| default_distributions(doc, &taxes));
    let distributions = distributions::check(conn, company.id, rules, doc, &wanted, &mut errors).await?;
    let rate = exchange(conn, company, rules, doc, &lines.exchange, &mut errors).await?;
    Ok((Checked { distributions, taxes, rate }, errors))
}

/// The GL posting date GP checks a document's fiscal period against: its own (a receipt's
/// GLPOSTDT, `GeneralLedgerPostingDate`), else its batch's (SY00500 GLPOSTDT), else the
/// document date.
pub async fn posting_date(
    conn: &mut SqliteConnection,
    company: i32,
    doc: &Document,
    lines: &Lines,
) -> sqlx::Result<Date> {
    if let Some(own) = lines.glpost_date {
        return Ok(own);
    }
    let batch = Db::batch_posting_date(conn, company, &doc.batch_id, &doc.batch_source).await?;
    Ok(batch.unwrap_or(doc.date))
}

/// GP's refusal for a GL posting date whose Sales period is closed (9001, GP's text) or not
/// set up (9002).
pub async fn period_refusal(conn: &mut SqliteConnection, company: i32, date: Date) -> sqlx::Result<Option<GpError>> {
    Ok(match Db::period_closed_in(conn, company, date).await? {
        Some(false) => None,
        Some(true) => Some(GpError::PeriodClosed { date: date.iso() }),
        None => Some(GpError::PeriodMissing { date: date.iso() }),
    })
}

/// Tax schedule (7023), payment terms, card name: each must be set up, unless the rules allow
/// unknown ids.
async fn setup_ids(
    conn: &mut SqliteConnection,
    company: i32,
    rules: &RulesConfig,
    lines: &Lines,
    errors: &mut Vec<GpError>,
) -> sqlx::Result<()> {
    if rules.allow_unknown_setup_ids {
        return Ok(());
    }
    if let Some(id) = &lines.tax_schedule
        && !Db::tax_schedule_exists(conn, company, id).await?
    {
        errors.push(GpError::TaxScheduleMissing { id: id.clone() });
    }
    if let Some(id) = &lines.payment_terms
        && !Db::terms_exist(conn, company, id).await?
    {
        errors.push(GpError::PaymentTermsMissing { id: id.clone() });
    }
    if let Some(id) = &lines.card_name
        && !Db::card_exists(conn, company, id).await?
    {
        errors.push(GpError::CardNameMissing { id: id.clone() });
    }
    Ok(())
}

/// The rate of a document in a non-functional currency: the one given (> 0), else the rate
/// table's rate for the rate type and date; none usable → refused (unless allowed: rate 1).
async fn exchange(
    conn: &mut SqliteConnection,
    company: &Company,
    rules: &RulesConfig,
    doc: &Document,
    ex: &Exchange,
    errors: &mut Vec<GpError>,
) -> sqlx::Result<Option<Rate>> {
    let currency = &doc.currency.currency_id;
    if *currency == company.functional_currency {
        return Ok(None);
    }
    let date = ex.date.unwrap_or(doc.date);
    let rate_type = match &ex.rate_type {
        Some(t) => t.clone(),
        None => Db::default_rate_type(conn, company.id).await?,
    };
    if let Some(given) = &ex.rate {
        if !given.parse::<f64>().is_ok_and(|r| r > 0.0) {
            errors.push(GpError::ExchangeRateInvalid { value: given.clone() });
        }
        return Ok(Some(Rate { rate: given.clone(), table: String::new(), date: date.iso() }));
    }
    if let Some(found) = Db::exchange_rate(conn, company.id, currency, &rate_type, date).await? {
        return Ok(Some(found));
    }
    if rules.allow_missing_exchange_rate {
        return Ok(Some(Rate { rate: "1.0000000".into(), table: String::new(), date: date.iso() }));
    }
    errors.push(GpError::ExchangeRateMissing { currency: currency.clone(), rate_type, date: date.iso() });
    Ok(None)
}
