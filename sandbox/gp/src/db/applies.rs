//! Applies (RM20201-like): a cash receipt or credit memo applied to an invoice reduces both
//! documents' remaining amount (CURTRXAM).

use sqlx::{AssertSqlSafe, Row};

use super::{Db, DocTable, Tx};
use crate::model::{AppliedRecord, DocType};

impl Db {
    /// Records an apply and reduces both documents' remaining amounts.
    pub async fn apply(
        tx: &mut Tx,
        company: i32,
        from: (DocType, &str),
        to: (DocType, &str),
        amount: i64,
    ) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO rm20201 (company_id, apfrdcty, apfrdcnm, aptodcty, aptodcnm, appldamt, applydate) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(company)
            .bind(from.0.rmdtypal())
            .bind(from.1)
            .bind(to.0.rmdtypal())
            .bind(to.1)
            .bind(amount)
            .bind(crate::date::now_timestamp())
            .execute(&mut **tx)
            .await?;
        for (doc_type, number) in [from, to] {
            for table in DocTable::ALL {
                let sql = format!(
                    "UPDATE {} SET curtrxam = curtrxam - ?, modifdt = ? WHERE company_id = ? AND rmdtypal = ? AND docnumbr = ?",
                    table.name()
                );
                sqlx::query(AssertSqlSafe(sql))
                    .bind(amount)
                    .bind(crate::date::now_timestamp())
                    .bind(company)
                    .bind(doc_type.rmdtypal())
                    .bind(number)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn applies(&self, company: i32) -> sqlx::Result<Vec<AppliedRecord>> {
        let rows = sqlx::query("SELECT * FROM rm20201 WHERE company_id = ? ORDER BY rowid")
            .bind(company)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let (Some(from_type), Some(_)) =
                (DocType::from_rmdtypal(r.try_get("apfrdcty")?), DocType::from_rmdtypal(r.try_get("aptodcty")?))
            else {
                continue;
            };
            out.push(AppliedRecord {
                from_type,
                from_number: r.try_get("apfrdcnm")?,
                to_number: r.try_get("aptodcnm")?,
                amount_minor: r.try_get("appldamt")?,
            });
        }
        Ok(out)
    }
}
