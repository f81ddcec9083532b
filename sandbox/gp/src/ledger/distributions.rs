//! Distributions (RM10101): accounts that exist (716), DISTTYPE allowed for the document type,
//! debits = credits, and the receivables lines equal to the document amount. When the caller
//! sends none, GP builds them from its posting setup ([`default_distributions`]).

use sqlx::SqliteConnection;

use super::DistLine;
use super::rows::{DistributionRow, TaxRow};
use crate::db::Db;
use crate::model::{DocType, Document};
use crate::money::format_minor;
use crate::reference as setup;
use crate::rules::{GpError, RulesConfig};

const CASH: i64 = 1;
const RECEIVABLES: i64 = 3;
const SALES: i64 = 9;
const TRADE_DISCOUNT: i64 = 10;
const FREIGHT: i64 = 11;
const MISC: i64 = 12;
const TAXES: i64 = 13;
const DEBIT_MEMO: i64 = 18;
const CREDIT_MEMO: i64 = 19;

/// DISTTYPE values GP accepts per RMDTYPAL (eConnect taRMDistribution's table). 1 and 3 are
/// documented; 7 past `8` and 9 are cut off in every copy and INFERRED.
pub fn allowed_dist_types(rmdtypal: i64) -> &'static [i64] {
    match rmdtypal {
        1 => &[1, 2, 3, 5, 8, 9, 10, 11, 12, 13, 14, 15, 23, 24],
        3 => &[1, 2, 3, 5, 8, 10, 11, 12, 13, 14, 15, 18, 23, 24],
        7 => &[1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 19, 23, 24],
        9 => &[1, 2, 3, 4, 5, 7, 8],
        _ => &[],
    }
}

fn line(dist_type: i64, account: i64, debit: i64, credit: i64) -> DistLine {
    DistLine { dist_type, account_index: Some(account), debit, credit, ..DistLine::default() }
}

/// The distributions GP's posting setup gives a document (INFERRED from GP's defaults): a
/// sale debits receivables and credits sales, freight, misc and each tax detail's account,
/// debiting trade discount; a credit memo the reverse; a receipt debits cash, credits
/// receivables. Zero lines are left out.
pub fn default_distributions(doc: &Document, taxes: &[TaxRow]) -> Vec<DistLine> {
    let a = &doc.amounts;
    let mut out = match doc.doc_type {
        DocType::CashReceipt => {
            let cash = line(CASH, setup::ACCOUNT_CASH, a.document, 0);
            vec![cash, line(RECEIVABLES, setup::ACCOUNT_RECEIVABLES, 0, a.document)]
        }
        _ => sale_lines(doc, taxes),
    };
    if doc.doc_type == DocType::CreditMemo {
        for l in &mut out {
            std::mem::swap(&mut l.debit, &mut l.credit);
        }
    }
    out.retain(|l| l.debit != 0 || l.credit != 0);
    for (i, l) in out.iter_mut().enumerate() {
        l.seq = Some(16384 * (i as i64 + 1));
    }
    out
}

/// An invoice's lines (a credit memo's before debit and credit swap).
fn sale_lines(doc: &Document, taxes: &[TaxRow]) -> Vec<DistLine> {
    let a = &doc.amounts;
    let (sales_type, sales_account) = match doc.doc_type {
        DocType::DebitMemo => (DEBIT_MEMO, setup::ACCOUNT_SALES),
        DocType::CreditMemo => (CREDIT_MEMO, setup::ACCOUNT_RETURNS),
        _ => (SALES, setup::ACCOUNT_SALES),
    };
    let mut out = vec![
        line(RECEIVABLES, setup::ACCOUNT_RECEIVABLES, a.document, 0),
        line(sales_type, sales_account, 0, a.sales),
        line(TRADE_DISCOUNT, setup::ACCOUNT_DISCOUNT, a.trade_discount, 0),
        line(FREIGHT, setup::ACCOUNT_FREIGHT, 0, a.freight),
        line(MISC, setup::ACCOUNT_MISC, 0, a.misc),
    ];
    let detailed: i64 = taxes.iter().map(|t| t.line.tax).sum();
    for t in taxes {
        out.push(line(TAXES, t.account_index.unwrap_or(setup::ACCOUNT_TAX), 0, t.line.tax));
    }
    out.push(line(TAXES, setup::ACCOUNT_TAX, 0, a.tax - detailed));
    out
}

/// Resolves each line's account and runs the checks; the resolved rows are returned even when
/// refused (the caller stores nothing then).
pub(super) async fn check(
    conn: &mut SqliteConnection,
    company: i32,
    rules: &RulesConfig,
    doc: &Document,
    lines: &[DistLine],
    errors: &mut Vec<GpError>,
) -> sqlx::Result<Vec<DistributionRow>> {
    let strict = !rules.skip_distribution_checks;
    let rmdtypal = doc.doc_type.rmdtypal();
    let mut rows = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let index = match (&l.account, l.account_index) {
            (Some(number), _) => Db::account_index(conn, company, number).await?,
            (None, Some(index)) => Db::account_number(conn, company, index).await?.map(|_| index),
            (None, None) => None,
        };
        if index.is_none() && strict {
            let account = l.account.clone().or(l.account_index.map(|i| i.to_string())).unwrap_or_default();
            errors.push(GpError::AccountMissing { account });
        }
        if strict && !allowed_dist_types(rmdtypal).contains(&l.dist_type) {
            errors.push(GpError::DistributionTypeInvalid { dist_type: l.dist_type, rmdtypal });
        }
        if strict && (l.debit < 0 || l.credit < 0) {
            errors.push(GpError::Negative { property: "Distributions" });
        }
        let seq = l.seq.unwrap_or(16384 * (i as i64 + 1));
        rows.push(DistributionRow { seq, line: l.clone(), account_index: index.unwrap_or(0) });
    }
    if strict {
        balance(doc, lines, errors);
    }
    Ok(rows)
}

/// Debits = credits, and the receivables lines (DISTTYPE 3) total the document amount: debit
/// for invoices and debit memos, credit for credit memos and receipts (INFERRED from GP's
/// posting journal checks).
fn balance(doc: &Document, lines: &[DistLine], errors: &mut Vec<GpError>) {
    let digits = doc.currency.decimal_digits;
    let debits: i64 = lines.iter().map(|l| l.debit).sum();
    let credits: i64 = lines.iter().map(|l| l.credit).sum();
    if debits != credits {
        errors.push(GpError::DistributionsUnbalanced {
            debits: format_minor(debits, digits),
            credits: format_minor(credits, digits),
        });
    }
    let receivables = lines.iter().filter(|l| l.dist_type == RECEIVABLES);
    let net: i64 = receivables.map(|l| l.debit - l.credit).sum();
    let got = match doc.doc_type {
        DocType::CreditMemo | DocType::CashReceipt => -net,
        _ => net,
    };
    if got != doc.amounts.document {
        errors.push(GpError::ReceivablesMismatch {
            expected: format_minor(doc.amounts.document, digits),
            got: format_minor(got, digits),
        });
    }
}
