//! Writing and reading a document's distribution (RM10101), tax (RM10601) and extra
//! (`rm_document_ext`) rows.

use sqlx::{Row, SqliteConnection};

use super::{Checked, DistLine, Lines, TaxLine};
use crate::model::Document;

/// A distribution line with its sequence number and resolved account index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionRow {
    pub seq: i64,
    pub line: DistLine,
    pub account_index: i64,
}

/// A tax detail line with its resolved account index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxRow {
    pub line: TaxLine,
    pub account_index: Option<i64>,
}

/// Stores the checked lines of a document (its header is written by the caller).
pub async fn store(
    conn: &mut SqliteConnection,
    company: i32,
    doc: &Document,
    lines: &Lines,
    checked: &Checked,
) -> sqlx::Result<()> {
    let key = (company, doc.doc_type.rmdtypal(), doc.number.as_str());
    for d in &checked.distributions {
        sqlx::query(
            "INSERT OR REPLACE INTO rm10101 (company_id, rmdtypal, docnumbr, seqnumbr, disttype, dstindx, debitamt, \
             crdtamnt, distref, custnmbr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(key.0)
        .bind(key.1)
        .bind(key.2)
        .bind(d.seq)
        .bind(d.line.dist_type)
        .bind(d.account_index)
        .bind(d.line.debit)
        .bind(d.line.credit)
        .bind(&d.line.reference)
        .bind(&doc.customer_id)
        .execute(&mut *conn)
        .await?;
    }
    for t in &checked.taxes {
        sqlx::query(
            "INSERT OR REPLACE INTO rm10601 (company_id, rmdtypal, docnumbr, taxdtlid, taxamnt, staxamnt, tdttxsls, \
             actindx, custnmbr, bachnumb) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(key.0)
        .bind(key.1)
        .bind(key.2)
        .bind(&t.line.detail_id)
        .bind(t.line.tax)
        .bind(t.line.sales_tax)
        .bind(t.line.taxable_sales)
        .bind(t.account_index)
        .bind(&doc.customer_id)
        .bind(&doc.batch_id)
        .execute(&mut *conn)
        .await?;
    }
    let rate = checked.rate.as_ref();
    sqlx::query(
        "INSERT OR REPLACE INTO rm_document_ext (company_id, rmdtypal, docnumbr, taxschid, pymtrmid, crcardid, \
         xchgrate, ratetpid, exchdate, glpostdt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(key.0)
    .bind(key.1)
    .bind(key.2)
    .bind(&lines.tax_schedule)
    .bind(&lines.payment_terms)
    .bind(&lines.card_name)
    .bind(rate.map(|r| r.rate.clone()))
    .bind(&lines.exchange.rate_type)
    .bind(rate.map(|r| r.date.clone()))
    .bind(lines.glpost_date.map(|d| d.iso()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The distribution rows of a document, by sequence number, with their ACTNUMST.
pub async fn distribution_rows(
    conn: &mut SqliteConnection,
    company: i32,
    rmdtypal: i64,
    number: &str,
) -> sqlx::Result<Vec<(DistributionRow, String)>> {
    let rows = sqlx::query(
        "SELECT d.*, COALESCE(g.actnumst, '') AS actnumst FROM rm10101 d LEFT JOIN gl00105 g \
         ON g.company_id = d.company_id AND g.actindx = d.dstindx \
         WHERE d.company_id = ? AND d.rmdtypal = ? AND d.docnumbr = ? ORDER BY d.seqnumbr",
    )
    .bind(company)
    .bind(rmdtypal)
    .bind(number)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let line = DistLine {
                seq: Some(r.try_get("seqnumbr")?),
                dist_type: r.try_get("disttype")?,
                account: Some(r.try_get("actnumst")?),
                account_index: Some(r.try_get("dstindx")?),
                debit: r.try_get("debitamt")?,
                credit: r.try_get("crdtamnt")?,
                reference: r.try_get("distref")?,
            };
            let row = DistributionRow { seq: r.try_get("seqnumbr")?, account_index: r.try_get("dstindx")?, line };
            Ok((row, r.try_get("actnumst")?))
        })
        .collect()
}

/// The tax detail rows of a document, by TAXDTLID.
pub async fn tax_rows(
    conn: &mut SqliteConnection,
    company: i32,
    rmdtypal: i64,
    number: &str,
) -> sqlx::Result<Vec<TaxRow>> {
    let rows =
        sqlx::query("SELECT * FROM rm10601 WHERE company_id = ? AND rmdtypal = ? AND docnumbr = ? ORDER BY taxdtlid")
            .bind(company)
            .bind(rmdtypal)
            .bind(number)
            .fetch_all(conn)
            .await?;
    rows.iter()
        .map(|r| {
            let line = TaxLine {
                detail_id: r.try_get("taxdtlid")?,
                tax: r.try_get("taxamnt")?,
                sales_tax: r.try_get("staxamnt")?,
                taxable_sales: r.try_get("tdttxsls")?,
                account: None,
            };
            Ok(TaxRow { line, account_index: r.try_get("actindx")? })
        })
        .collect()
}
