//! Applies (RM20201): a cash receipt or credit memo applied to an invoice or debit memo reduces
//! both documents' remaining amount (CURTRXAM); a write-off (WROFAMNT) reduces the apply-to
//! document's as well. One row per pair of documents (INFERRED from RM20201's key: a later
//! apply between the same two adds to it). A void removes the voided document's rows and gives
//! the apply-to documents their amounts back.

use sqlx::{AssertSqlSafe, Row, SqliteConnection};

use super::{Db, DocTable};
use crate::date::Date;
use crate::model::{AppliedRecord, DocType};

/// One apply as it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyRow<'a> {
    pub from: (DocType, &'a str),
    pub to: (DocType, &'a str),
    /// APPTOAMT, minor units.
    pub amount: i64,
    /// WROFAMNT, minor units.
    pub write_off: i64,
    /// APPLYDATE.
    pub date: Date,
    /// GLPOSTDT.
    pub posting_date: Date,
}

/// Adds `delta` to a document's CURTRXAM, whichever table it is in.
async fn change_remaining(
    conn: &mut SqliteConnection,
    company: i32,
    (doc_type, number): (DocType, &str),
    delta: i64,
) -> sqlx::Result<()> {
    for table in DocTable::ALL {
        let sql = format!(
            "UPDATE {} SET curtrxam = curtrxam + ?, modifdt = ? WHERE company_id = ? AND rmdtypal = ? AND docnumbr = ?",
            table.name()
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(delta)
            .bind(crate::date::now_timestamp())
            .bind(company)
            .bind(doc_type.rmdtypal())
            .bind(number)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// `sql` with an apply row's values bound in RM20201's order (amounts, dates, then the pair).
fn apply_row<'q>(
    sql: &'static str,
    company: i32,
    a: &ApplyRow<'q>,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    sqlx::query(sql)
        .bind(a.amount)
        .bind(a.write_off)
        .bind(a.date.iso())
        .bind(a.posting_date.iso())
        .bind(company)
        .bind(a.from.0.rmdtypal())
        .bind(a.from.1)
        .bind(a.to.0.rmdtypal())
        .bind(a.to.1)
}

impl Db {
    /// Records an apply and reduces both documents' remaining amounts.
    pub async fn apply(conn: &mut SqliteConnection, company: i32, a: &ApplyRow<'_>) -> sqlx::Result<()> {
        // One row per pair of documents: a later apply adds to it. Both statements take the
        // same parameters in the same order.
        let merge = "UPDATE rm20201 SET appldamt = appldamt + ?, wrofamnt = wrofamnt + ?, applydate = ?, glpostdt = ? \
             WHERE company_id = ? AND apfrdcty = ? AND apfrdcnm = ? AND aptodcty = ? AND aptodcnm = ?";
        let insert = "INSERT INTO rm20201 (appldamt, wrofamnt, applydate, glpostdt, company_id, apfrdcty, apfrdcnm, \
             aptodcty, aptodcnm) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
        if apply_row(merge, company, a).execute(&mut *conn).await?.rows_affected() == 0 {
            apply_row(insert, company, a).execute(&mut *conn).await?;
        }
        change_remaining(conn, company, a.from, -a.amount).await?;
        change_remaining(conn, company, a.to, -(a.amount + a.write_off)).await
    }

    /// Removes every apply of a credit document, giving each apply-to document its applied
    /// and written-off amount back. Returns how many rows went.
    pub async fn unapply_from(conn: &mut SqliteConnection, company: i32, from: (DocType, &str)) -> sqlx::Result<usize> {
        let rows = sqlx::query(
            "SELECT aptodcty, aptodcnm, appldamt, wrofamnt FROM rm20201 \
             WHERE company_id = ? AND apfrdcty = ? AND apfrdcnm = ?",
        )
        .bind(company)
        .bind(from.0.rmdtypal())
        .bind(from.1)
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let Some(to_type) = DocType::from_rmdtypal(r.try_get("aptodcty")?) else { continue };
            let to_number: String = r.try_get("aptodcnm")?;
            let back = r.try_get::<i64, _>("appldamt")? + r.try_get::<i64, _>("wrofamnt")?;
            change_remaining(conn, company, (to_type, &to_number), back).await?;
        }
        sqlx::query("DELETE FROM rm20201 WHERE company_id = ? AND apfrdcty = ? AND apfrdcnm = ?")
            .bind(company)
            .bind(from.0.rmdtypal())
            .bind(from.1)
            .execute(&mut *conn)
            .await?;
        Ok(rows.len())
    }

    pub async fn applies(&self, company: i32) -> sqlx::Result<Vec<AppliedRecord>> {
        let rows = sqlx::query("SELECT * FROM rm20201 WHERE company_id = ? ORDER BY rowid")
            .bind(company)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let (Some(from_type), Some(to_type)) =
                (DocType::from_rmdtypal(r.try_get("apfrdcty")?), DocType::from_rmdtypal(r.try_get("aptodcty")?))
            else {
                continue;
            };
            out.push(AppliedRecord {
                from_type,
                from_number: r.try_get("apfrdcnm")?,
                to_type,
                to_number: r.try_get("aptodcnm")?,
                amount_minor: r.try_get("appldamt")?,
                write_off_minor: r.try_get("wrofamnt")?,
            });
        }
        Ok(out)
    }
}
