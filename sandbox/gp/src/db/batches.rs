//! Batch headers (SY00500). Documents create their batch on first use; posting (`posting.rs`) deletes it.

use sqlx::{Row, SqliteConnection};

use super::{Db, Tx};
use crate::date::Date;
use crate::model::Batch;

/// What taCreateUpdateBatchHeaderRcd sets on SY00500 (`None`: keep what the batch has).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchHeader {
    pub id: String,
    pub source: String,
    pub comment: Option<String>,
    pub posting_date: Option<Date>,
    pub origin: i64,
    pub checkbook: Option<String>,
}

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

    /// Creates the batch header or updates the members given (taCreateUpdateBatchHeaderRcd).
    /// Returns true if it was created.
    pub async fn upsert_batch_header(conn: &mut SqliteConnection, company: i32, h: &BatchHeader) -> sqlx::Result<bool> {
        let existed = Self::batch_exists(conn, company, &h.id, &h.source).await?;
        sqlx::query(
            "INSERT INTO sy00500 (company_id, bachnumb, bchsourc, series, bchcomnt, chekbkid, glpostdt, origin, creatddt) \
             VALUES (?, ?, ?, 3, ?, ?, ?, ?, ?) ON CONFLICT (company_id, bachnumb, bchsourc) DO UPDATE SET \
             bchcomnt = COALESCE(excluded.bchcomnt, bchcomnt), chekbkid = COALESCE(excluded.chekbkid, chekbkid), \
             glpostdt = COALESCE(excluded.glpostdt, glpostdt), origin = excluded.origin",
        )
        .bind(company)
        .bind(&h.id)
        .bind(&h.source)
        .bind(&h.comment)
        .bind(&h.checkbook)
        .bind(h.posting_date.map(|d| d.iso()))
        .bind(h.origin)
        .bind(crate::date::now_timestamp())
        .execute(&mut *conn)
        .await?;
        Ok(!existed)
    }

    async fn batch_exists(conn: &mut SqliteConnection, company: i32, id: &str, source: &str) -> sqlx::Result<bool> {
        let row = sqlx::query("SELECT 1 FROM sy00500 WHERE company_id = ? AND bachnumb = ? AND bchsourc = ?")
            .bind(company)
            .bind(id)
            .bind(source)
            .fetch_optional(conn)
            .await?;
        Ok(row.is_some())
    }

    /// The batch's GL posting date (SY00500 GLPOSTDT), if it has one.
    pub async fn batch_posting_date(
        conn: &mut SqliteConnection,
        company: i32,
        id: &str,
        source: &str,
    ) -> sqlx::Result<Option<Date>> {
        let row = sqlx::query("SELECT glpostdt FROM sy00500 WHERE company_id = ? AND bachnumb = ? AND bchsourc = ?")
            .bind(company)
            .bind(id)
            .bind(source)
            .fetch_optional(conn)
            .await?;
        let text: Option<String> = match row {
            Some(r) => r.try_get("glpostdt")?,
            None => None,
        };
        Ok(text.and_then(|t| Date::parse_iso(t.get(..10).unwrap_or(&t))))
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
