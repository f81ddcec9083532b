//! Tax details (RM10601): each TAXDTLID must be set up (TX00201), and when details are sent
//! their TAXAMNT must add up to the document's (712).

use sqlx::SqliteConnection;

use super::TaxLine;
use super::rows::TaxRow;
use crate::db::Db;
use crate::model::Document;
use crate::money::format_minor;
use crate::rules::{GpError, RulesConfig};

pub(super) async fn check(
    conn: &mut SqliteConnection,
    company: i32,
    rules: &RulesConfig,
    doc: &Document,
    lines: &[TaxLine],
    errors: &mut Vec<GpError>,
) -> sqlx::Result<Vec<TaxRow>> {
    let mut rows = Vec::with_capacity(lines.len());
    for line in lines {
        let account = match &line.account {
            Some(number) => Db::account_index(conn, company, number).await?,
            None => None,
        };
        let detail_account = Db::tax_detail_account(conn, company, &line.detail_id).await?;
        if detail_account.is_none() && !rules.skip_tax_checks {
            errors.push(GpError::TaxDetailMissing { id: line.detail_id.clone() });
        }
        if let (Some(number), None) = (&line.account, account)
            && !rules.skip_tax_checks
        {
            errors.push(GpError::AccountMissing { account: number.clone() });
        }
        rows.push(TaxRow { line: line.clone(), account_index: account.or(detail_account) });
    }
    let total: i64 = lines.iter().map(|l| l.tax).sum();
    if !lines.is_empty() && total != doc.amounts.tax && !rules.skip_tax_checks {
        let digits = doc.currency.decimal_digits;
        errors.push(GpError::TaxMismatch {
            details: format_minor(total, digits),
            document: format_minor(doc.amounts.tax, digits),
        });
    }
    Ok(rows)
}
