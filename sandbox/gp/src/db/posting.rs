//! Posting an RM batch (GP's Series Post): the batch is marked busy (SY00500 BCHSTTUS), its
//! documents move from the work tables (RM10301, RM10201) to the open table (RM20101) with
//! DCSTATUS 2 and a posting date, and the batch header is deleted. Also the open items the
//! customer summary ages.

use sqlx::{AssertSqlSafe, Row};

use super::{Db, DocTable, Tx};
use crate::date::Date;
use crate::model::DocType;

/// SY00500 BCHSTTUS 0: available (gp-wire-shapes C3).
pub const BATCH_AVAILABLE: i64 = 0;
/// SY00500 BCHSTTUS 1: marked — what a batch shows while it is being posted (INFERRED: C3 lists
/// 1 "Marked"; GP's message for a write into it is "Batch is marked for posting by another user").
pub const BATCH_POSTING: i64 = 1;

/// RM00401 DCSTATUS of an open (posted) document.
pub const DCSTATUS_OPEN: i64 = 2;

/// An unposted document of a batch, with the totals of its stored distributions (RM10101).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchDocument {
    pub doc_type: DocType,
    pub number: String,
    pub date: Date,
    /// The GL posting date GP checks the period of: the document's own, else the batch's,
    /// else the document date.
    pub posting_date: Date,
    pub debits: i64,
    pub credits: i64,
    pub distribution_lines: i64,
}

/// A posted document of a customer: its amount and what posted applies took off it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenItem {
    pub doc_type: DocType,
    pub number: String,
    pub date: Date,
    pub currency_id: String,
    pub amount: i64,
    pub posted_applied: i64,
}

const WORK_TABLES: [DocTable; 2] = [DocTable::SalesWork, DocTable::CashWork];

impl Db {
    /// The batch's BCHSTTUS, or `None` if there is no such batch.
    pub async fn batch_status_in_tx(tx: &mut Tx, company: i32, id: &str, source: &str) -> sqlx::Result<Option<i64>> {
        let row = sqlx::query("SELECT bchsttus FROM sy00500 WHERE company_id = ? AND bachnumb = ? AND bchsourc = ?")
            .bind(company)
            .bind(id)
            .bind(source)
            .fetch_optional(&mut **tx)
            .await?;
        row.map(|r| r.try_get("bchsttus")).transpose()
    }

    /// Marks an available batch as being posted. Returns the status it had (`None`: no such
    /// batch); only an available batch is changed.
    pub async fn claim_batch(&self, company: i32, id: &str, source: &str) -> sqlx::Result<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let status = Self::batch_status_in_tx(&mut tx, company, id, source).await?;
        if status == Some(BATCH_AVAILABLE) {
            Self::set_status(&mut tx, company, id, source, BATCH_POSTING).await?;
        }
        tx.commit().await?;
        Ok(status)
    }

    /// Sets a batch's BCHSTTUS; false if there is no such batch.
    pub async fn set_batch_status(&self, company: i32, id: &str, source: &str, status: i64) -> sqlx::Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = Self::set_status(&mut tx, company, id, source, status).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn set_status(tx: &mut Tx, company: i32, id: &str, source: &str, status: i64) -> sqlx::Result<bool> {
        let done =
            sqlx::query("UPDATE sy00500 SET bchsttus = ? WHERE company_id = ? AND bachnumb = ? AND bchsourc = ?")
                .bind(status)
                .bind(company)
                .bind(id)
                .bind(source)
                .execute(&mut **tx)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The unposted documents of a batch with their distribution totals.
    pub async fn batch_documents(&self, company: i32, id: &str, source: &str) -> sqlx::Result<Vec<BatchDocument>> {
        let mut out = Vec::new();
        for table in WORK_TABLES {
            let sql = format!(
                "SELECT w.rmdtypal, w.docnumbr, w.docdate, \
                   COALESCE(x.glpostdt, b.glpostdt, w.docdate) AS posting_date, \
                   COALESCE(SUM(d.debitamt), 0) AS debits, COALESCE(SUM(d.crdtamnt), 0) AS credits, \
                   COUNT(d.seqnumbr) AS lines \
                 FROM {} w LEFT JOIN rm10101 d \
                   ON d.company_id = w.company_id AND d.rmdtypal = w.rmdtypal AND d.docnumbr = w.docnumbr \
                 LEFT JOIN rm_document_ext x \
                   ON x.company_id = w.company_id AND x.rmdtypal = w.rmdtypal AND x.docnumbr = w.docnumbr \
                 LEFT JOIN sy00500 b \
                   ON b.company_id = w.company_id AND b.bachnumb = w.bachnumb AND b.bchsourc = w.bchsourc \
                 WHERE w.company_id = ? AND w.bachnumb = ? AND w.bchsourc = ? \
                 GROUP BY w.rmdtypal, w.docnumbr, w.docdate ORDER BY w.docnumbr",
                table.name()
            );
            let rows =
                sqlx::query(AssertSqlSafe(sql)).bind(company).bind(id).bind(source).fetch_all(&self.pool).await?;
            for r in &rows {
                let Some((doc_type, number, date)) = document_key(r)? else { continue };
                let posting: String = r.try_get("posting_date")?;
                out.push(BatchDocument {
                    doc_type,
                    number,
                    date,
                    posting_date: Date::parse_iso(posting.get(..10).unwrap_or(&posting)).unwrap_or(date),
                    debits: r.try_get("debits")?,
                    credits: r.try_get("credits")?,
                    distribution_lines: r.try_get("lines")?,
                });
            }
        }
        Ok(out)
    }

    /// Moves every document of the batch work → open (DCSTATUS 2, POSTDATE `posted`) and
    /// deletes the batch header, in one transaction. Returns the posted documents.
    pub async fn post_batch_documents(
        &self,
        company: i32,
        id: &str,
        source: &str,
        posted: Date,
    ) -> sqlx::Result<Vec<(DocType, String)>> {
        let mut tx = self.begin_write().await?;
        let mut moved = Vec::new();
        for table in WORK_TABLES {
            let select = format!(
                "SELECT w.rmdtypal, w.docnumbr, COALESCE(x.glpostdt, b.glpostdt, w.docdate) AS posting_date FROM {} w \
                 LEFT JOIN rm_document_ext x \
                   ON x.company_id = w.company_id AND x.rmdtypal = w.rmdtypal AND x.docnumbr = w.docnumbr \
                 LEFT JOIN sy00500 b \
                   ON b.company_id = w.company_id AND b.bachnumb = w.bachnumb AND b.bchsourc = w.bchsourc \
                 WHERE w.company_id = ? AND w.bachnumb = ? AND w.bchsourc = ?",
                table.name()
            );
            let rows =
                sqlx::query(AssertSqlSafe(select)).bind(company).bind(id).bind(source).fetch_all(&mut *tx).await?;
            for r in &rows {
                let rmdtypal: i64 = r.try_get("rmdtypal")?;
                let number: String = r.try_get("docnumbr")?;
                sqlx::query(
                    "INSERT OR REPLACE INTO rm_posting (company_id, rmdtypal, docnumbr, dcstatus, postdate) VALUES (?, ?, ?, ?, ?)",
                )
                .bind(company)
                .bind(rmdtypal)
                .bind(&number)
                .bind(DCSTATUS_OPEN)
                .bind(posted.iso())
                .execute(&mut *tx)
                .await?;
                // RM20101 keeps the GL posting date the document posted with (the batch goes).
                let posting_date: String = r.try_get("posting_date")?;
                sqlx::query(
                    "INSERT INTO rm_document_ext (company_id, rmdtypal, docnumbr, glpostdt) VALUES (?, ?, ?, ?) \
                     ON CONFLICT (company_id, rmdtypal, docnumbr) DO UPDATE SET glpostdt = excluded.glpostdt",
                )
                .bind(company)
                .bind(rmdtypal)
                .bind(&number)
                .bind(posting_date.get(..10).unwrap_or(&posting_date))
                .execute(&mut *tx)
                .await?;
                moved.extend(DocType::from_rmdtypal(rmdtypal).map(|t| (t, number)));
            }
            let copy = format!(
                "INSERT INTO rm20101 ({cols}) SELECT {cols} FROM {} WHERE company_id = ? AND bachnumb = ? AND bchsourc = ?",
                table.name(),
                cols = super::documents::DOC_COLUMNS
            );
            let delete = format!("DELETE FROM {} WHERE company_id = ? AND bachnumb = ? AND bchsourc = ?", table.name());
            for sql in [copy, delete] {
                sqlx::query(AssertSqlSafe(sql)).bind(company).bind(id).bind(source).execute(&mut *tx).await?;
            }
        }
        sqlx::query("DELETE FROM sy00500 WHERE company_id = ? AND bachnumb = ? AND bchsourc = ?")
            .bind(company)
            .bind(id)
            .bind(source)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// RM00401 DCSTATUS and RM20101 POSTDATE of a posted document; `None` while unposted.
    pub async fn posting_status(
        &self,
        company: i32,
        doc_type: DocType,
        number: &str,
    ) -> sqlx::Result<Option<(i64, String)>> {
        let row = sqlx::query(
            "SELECT dcstatus, postdate FROM rm_posting WHERE company_id = ? AND rmdtypal = ? AND docnumbr = ?",
        )
        .bind(company)
        .bind(doc_type.rmdtypal())
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("dcstatus")?, r.try_get("postdate")?))).transpose()
    }

    /// The customer's open (RM20101), not voided documents, each with the total of the applies
    /// between posted documents (open or history) it takes part in.
    pub async fn open_items(&self, company: i32, customer: &str) -> sqlx::Result<Vec<OpenItem>> {
        let rows = sqlx::query(
            "WITH posted AS (SELECT company_id, rmdtypal, docnumbr FROM rm20101 \
                             UNION ALL SELECT company_id, rmdtypal, docnumbr FROM rm30101), \
                  pa AS (SELECT a.* FROM rm20201 a \
                         WHERE EXISTS (SELECT 1 FROM posted p WHERE p.company_id = a.company_id \
                                         AND p.rmdtypal = a.apfrdcty AND p.docnumbr = a.apfrdcnm) \
                           AND EXISTS (SELECT 1 FROM posted p WHERE p.company_id = a.company_id \
                                         AND p.rmdtypal = a.aptodcty AND p.docnumbr = a.aptodcnm)) \
             SELECT o.rmdtypal, o.docnumbr, o.docdate, o.curncyid, o.docamnt, \
               COALESCE((SELECT SUM(pa.appldamt) FROM pa WHERE pa.company_id = o.company_id AND \
                 ((pa.aptodcty = o.rmdtypal AND pa.aptodcnm = o.docnumbr) \
                  OR (pa.apfrdcty = o.rmdtypal AND pa.apfrdcnm = o.docnumbr))), 0) AS applied \
             FROM rm20101 o LEFT JOIN rm_document_ext x \
               ON x.company_id = o.company_id AND x.rmdtypal = o.rmdtypal AND x.docnumbr = o.docnumbr \
             WHERE o.company_id = ? AND o.custnmbr = ? AND COALESCE(x.voidstts, 0) = 0 \
             ORDER BY o.docdate, o.docnumbr",
        )
        .bind(company)
        .bind(customer)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let Some((doc_type, number, date)) = document_key(r)? else { continue };
            out.push(OpenItem {
                doc_type,
                number,
                date,
                currency_id: r.try_get("curncyid")?,
                amount: r.try_get("docamnt")?,
                posted_applied: r.try_get("applied")?,
            });
        }
        Ok(out)
    }
}

/// A row's document type, number and date (`rmdtypal`, `docnumbr`, `docdate`); none for a type
/// the emulator does not handle. An unreadable date reads as GP's empty date, 1900-01-01.
fn document_key(r: &sqlx::sqlite::SqliteRow) -> sqlx::Result<Option<(DocType, String, Date)>> {
    let Some(doc_type) = DocType::from_rmdtypal(r.try_get("rmdtypal")?) else { return Ok(None) };
    let date: String = r.try_get("docdate")?;
    let date = Date::parse_iso(&date).unwrap_or(Date { year: 1900, month: 1, day: 1 });
    Ok(Some((doc_type, r.try_get("docnumbr")?, date)))
}
