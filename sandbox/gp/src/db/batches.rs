//! Batch headers (SY00500). Documents create their batch on first use; posting (`posting.rs`) deletes it.

use sqlx::Row;

use super::{Db, Tx};
use crate::model::Batch;

impl Db {
    /// Creates the batch if it does not exist yet (GP creates a batch the first time a
    /// document names it). Returns true if it was created.
    pub async fn ensure_batch(
        tx: &mut Tx,
        company: i32,
        id: &str,
        source: &str,
        checkbook: Option<&str>,
    ) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "INSERT OR IGNORE INTO sy00500 (company_id, bachnumb, bchsourc, series, bchcomnt, chekbkid, creatddt) \
             VALUES (?, ?, ?, 3, NULL, ?, ?)",
        )
        .bind(company)
        .bind(id)
        .bind(source)
        .bind(checkbook)
        .bind(crate::date::now_timestamp())
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn create_batch(
        &self,
        company: i32,
        id: &str,
        source: &str,
        comment: Option<&str>,
        checkbook: Option<&str>,
    ) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "INSERT OR IGNORE INTO sy00500 (company_id, bachnumb, bchsourc, series, bchcomnt, chekbkid, creatddt) \
             VALUES (?, ?, ?, 3, ?, ?, ?)",
        )
        .bind(company)
        .bind(id)
        .bind(source)
        .bind(comment)
        .bind(checkbook)
        .bind(crate::date::now_timestamp())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Batch headers with their transaction count and total (from the work tables: a batch
    /// only holds unposted documents).
    pub async fn batches(&self, company: i32) -> sqlx::Result<Vec<Batch>> {
        let rows = sqlx::query(
            "SELECT b.*, \
               (SELECT COUNT(*) FROM (SELECT bachnumb, bchsourc FROM rm10301 WHERE company_id = b.company_id UNION ALL \
                  SELECT bachnumb, bchsourc FROM rm10201 WHERE company_id = b.company_id) d \
                  WHERE d.bachnumb = b.bachnumb AND d.bchsourc = b.bchsourc) AS numoftrx, \
               (SELECT COALESCE(SUM(docamnt), 0) FROM (SELECT bachnumb, bchsourc, docamnt FROM rm10301 WHERE company_id = b.company_id \
                  UNION ALL SELECT bachnumb, bchsourc, docamnt FROM rm10201 WHERE company_id = b.company_id) d \
                  WHERE d.bachnumb = b.bachnumb AND d.bchsourc = b.bchsourc) AS bachamnt, \
               (SELECT MIN(curncyid) || '|' || MAX(curncyid) FROM (SELECT bachnumb, bchsourc, curncyid FROM rm10301 WHERE company_id = b.company_id \
                  UNION ALL SELECT bachnumb, bchsourc, curncyid FROM rm10201 WHERE company_id = b.company_id) d \
                  WHERE d.bachnumb = b.bachnumb AND d.bchsourc = b.bchsourc) AS currencies \
             FROM sy00500 b WHERE b.company_id = ? ORDER BY b.bachnumb, b.bchsourc",
        )
        .bind(company)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let currencies: Option<String> = r.try_get("currencies")?;
            // A total is only meaningful when every document in the batch has one currency.
            let single = currencies.and_then(|c| {
                let (a, b) = c.split_once('|')?;
                (a == b).then(|| a.to_string())
            });
            let currency = match single {
                Some(id) => self.currency(company, &id).await?,
                None => None,
            };
            out.push(Batch {
                id: r.try_get("bachnumb")?,
                source: r.try_get("bchsourc")?,
                comment: r.try_get("bchcomnt")?,
                checkbook_id: r.try_get("chekbkid")?,
                created: r.try_get("creatddt")?,
                transactions: r.try_get("numoftrx")?,
                total_minor: r.try_get("bachamnt")?,
                currency,
            });
        }
        Ok(out)
    }
}
