//! Receivables documents in GP's work (RM10301 sales, RM10201 cash), open (RM20101) and
//! history (RM30101) tables, and the RM key master (RM00401) that makes numbers unique.

use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row};

use super::{Db, Tx};
use crate::date::Date;
use crate::model::{Amounts, Currency, DocType, Document, TxState, VoidInfo};

/// The columns every document table has, in the order of `migrations/` (one layout for all four
/// tables, so a document keeps its columns when it changes state).
macro_rules! doc_select {
    () => {
        "company_id, rmdtypal, docnumbr, custnmbr, docdate, bachnumb, bchsourc, curncyid, slsamnt, trdisamt, \
         frtamnt, miscamnt, taxamnt, costamnt, docamnt, curtrxam, docdescr, cstponbr, chekbkid, cshrctyp, \
         cheknmbr, distributions, creatddt, modifdt"
    };
}

/// The shared document columns, for statements outside this file (posting's work → open copy).
pub(super) const DOC_COLUMNS: &str = doc_select!();

/// Every document of a company in any table, with its state.
const ALL_DOCS: &str = concat!(
    "SELECT * FROM (SELECT ",
    doc_select!(),
    ", 'Work' AS state FROM rm10301 UNION ALL SELECT ",
    doc_select!(),
    ", 'Work' FROM rm10201 UNION ALL SELECT ",
    doc_select!(),
    ", 'Open' FROM rm20101 UNION ALL SELECT ",
    doc_select!(),
    ", 'History' FROM rm30101) d"
);

/// The tables a document can live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocTable {
    SalesWork,
    CashWork,
    Open,
    History,
}

impl DocTable {
    pub const ALL: [DocTable; 4] = [Self::SalesWork, Self::CashWork, Self::Open, Self::History];

    pub fn name(self) -> &'static str {
        match self {
            Self::SalesWork => "rm10301",
            Self::CashWork => "rm10201",
            Self::Open => "rm20101",
            Self::History => "rm30101",
        }
    }

    pub fn for_state(state: TxState, doc_type: DocType) -> Self {
        match (state, doc_type) {
            (TxState::Work, DocType::CashReceipt) => Self::CashWork,
            (TxState::Work, _) => Self::SalesWork,
            (TxState::Open, _) => Self::Open,
            (TxState::History, _) => Self::History,
        }
    }
}

/// What the apply and void checks read of a document inside the write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// CURTRXAM: what is left to apply.
    pub remaining: i64,
    pub customer: String,
    pub currency_id: String,
    pub state: TxState,
    pub date: Date,
    pub voided: bool,
}

/// The `state` column [`ALL_DOCS`] adds: which table the row came from.
fn state_column(r: &SqliteRow) -> sqlx::Result<TxState> {
    Ok(match r.try_get::<String, _>("state")?.as_str() {
        "Open" => TxState::Open,
        "History" => TxState::History,
        _ => TxState::Work,
    })
}

impl Db {
    /// Whether the number is taken in RM00401 or any RM document table (error 190's scope).
    pub async fn doc_number_taken(
        tx: &mut Tx,
        company: i32,
        number: &str,
        doc_type: Option<DocType>,
    ) -> sqlx::Result<bool> {
        let type_filter = doc_type.map_or(-1, DocType::rmdtypal);
        let row = sqlx::query(
            "SELECT 1 FROM (SELECT company_id, docnumbr, rmdtypal FROM rm00401 \
             UNION ALL SELECT company_id, docnumbr, rmdtypal FROM rm10301 \
             UNION ALL SELECT company_id, docnumbr, rmdtypal FROM rm10201 \
             UNION ALL SELECT company_id, docnumbr, rmdtypal FROM rm20101 \
             UNION ALL SELECT company_id, docnumbr, rmdtypal FROM rm30101) \
             WHERE company_id = ? AND docnumbr = ? AND (? = -1 OR rmdtypal = ?) LIMIT 1",
        )
        .bind(company)
        .bind(number)
        .bind(type_filter)
        .bind(type_filter)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(row.is_some())
    }

    pub async fn insert_document(tx: &mut Tx, company: i32, d: &Document) -> sqlx::Result<()> {
        let table = DocTable::for_state(d.state, d.doc_type);
        let sql = format!(
            "INSERT INTO {} ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            table.name(),
            doc_select!()
        );
        let distributions = d.distributions.as_ref().and_then(|n| serde_json::to_string(n).ok());
        let a = &d.amounts;
        sqlx::query(AssertSqlSafe(sql))
            .bind(company)
            .bind(d.doc_type.rmdtypal())
            .bind(&d.number)
            .bind(&d.customer_id)
            .bind(d.date.iso())
            .bind(&d.batch_id)
            .bind(&d.batch_source)
            .bind(&d.currency.currency_id)
            .bind(a.sales)
            .bind(a.trade_discount)
            .bind(a.freight)
            .bind(a.misc)
            .bind(a.tax)
            .bind(a.cost)
            .bind(a.document)
            .bind(d.remaining)
            .bind(&d.description)
            .bind(&d.po_number)
            .bind(&d.checkbook_id)
            .bind(&d.cash_type)
            .bind(&d.check_number)
            .bind(distributions)
            .bind(&d.created)
            .bind(&d.modified)
            .execute(&mut **tx)
            .await?;
        sqlx::query("INSERT OR IGNORE INTO rm00401 (company_id, docnumbr, rmdtypal, custnmbr) VALUES (?, ?, ?, ?)")
            .bind(company)
            .bind(&d.number)
            .bind(d.doc_type.rmdtypal())
            .bind(&d.customer_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn document_row(&self, r: &SqliteRow, company: i32) -> sqlx::Result<Option<Document>> {
        let Some(doc_type) = DocType::from_rmdtypal(r.try_get("rmdtypal")?) else {
            return Ok(None);
        };
        let currency_id: String = r.try_get("curncyid")?;
        let currency = self.currency(company, &currency_id).await?.unwrap_or(Currency {
            currency_id,
            iso_code: String::new(),
            decimal_digits: 2,
        });
        let state = state_column(r)?;
        let date: String = r.try_get("docdate")?;
        let distributions: Option<String> = r.try_get("distributions")?;
        let customer_id: String = r.try_get("custnmbr")?;
        let customer_name = self.customer(company, &customer_id).await?.and_then(|c| c.name);
        Ok(Some(Document {
            doc_type,
            number: r.try_get("docnumbr")?,
            customer_id,
            customer_name,
            date: Date::parse_iso(&date).unwrap_or(Date { year: 1900, month: 1, day: 1 }),
            batch_id: r.try_get("bachnumb")?,
            batch_source: r.try_get("bchsourc")?,
            currency,
            amounts: Amounts {
                sales: r.try_get("slsamnt")?,
                trade_discount: r.try_get("trdisamt")?,
                freight: r.try_get("frtamnt")?,
                misc: r.try_get("miscamnt")?,
                tax: r.try_get("taxamnt")?,
                cost: r.try_get("costamnt")?,
                document: r.try_get("docamnt")?,
            },
            remaining: r.try_get("curtrxam")?,
            description: r.try_get("docdescr")?,
            po_number: r.try_get("cstponbr")?,
            checkbook_id: r.try_get("chekbkid")?,
            cash_type: r.try_get("cshrctyp")?,
            check_number: r.try_get("cheknmbr")?,
            distributions: distributions.and_then(|d| serde_json::from_str(&d).ok()),
            state,
            gl_posting_date: None,
            void: None,
            created: r.try_get("creatddt")?,
            modified: r.try_get("modifdt")?,
        }))
    }

    /// A stored document with its GL posting date and void read in.
    async fn complete(&self, company: i32, doc: Option<Document>) -> sqlx::Result<Option<Document>> {
        let Some(mut d) = doc else { return Ok(None) };
        (d.gl_posting_date, d.void) = self.posting_and_void(company, &d).await?;
        Ok(Some(d))
    }

    pub async fn document(&self, company: i32, doc_type: DocType, number: &str) -> sqlx::Result<Option<Document>> {
        let row =
            sqlx::query(AssertSqlSafe(format!("{ALL_DOCS} WHERE company_id = ? AND rmdtypal = ? AND docnumbr = ?")))
                .bind(company)
                .bind(doc_type.rmdtypal())
                .bind(number)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(r) => {
                let doc = self.document_row(&r, company).await?;
                self.complete(company, doc).await
            }
            None => Ok(None),
        }
    }

    pub async fn documents(&self, company: i32) -> sqlx::Result<Vec<Document>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{ALL_DOCS} WHERE company_id = ? ORDER BY creatddt, rmdtypal, docnumbr"
        )))
        .bind(company)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let doc = self.document_row(r, company).await?;
            out.extend(self.complete(company, doc).await?);
        }
        Ok(out)
    }

    /// Reads remaining amount, customer, currency, state, date and void status of a document
    /// inside a write transaction (the apply check must see the balance it is about to reduce).
    pub async fn balance_in_tx(
        conn: &mut sqlx::SqliteConnection,
        company: i32,
        doc_type: DocType,
        number: &str,
    ) -> sqlx::Result<Option<Balance>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT d.curtrxam, d.custnmbr, d.curncyid, d.state, d.docdate, COALESCE(x.voidstts, 0) AS voidstts \
             FROM ({ALL_DOCS}) d LEFT JOIN rm_document_ext x \
               ON x.company_id = d.company_id AND x.rmdtypal = d.rmdtypal AND x.docnumbr = d.docnumbr \
             WHERE d.company_id = ? AND d.rmdtypal = ? AND d.docnumbr = ?"
        )))
        .bind(company)
        .bind(doc_type.rmdtypal())
        .bind(number)
        .fetch_optional(conn)
        .await?;
        row.map(|r| {
            let date: String = r.try_get("docdate")?;
            Ok(Balance {
                remaining: r.try_get("curtrxam")?,
                customer: r.try_get("custnmbr")?,
                currency_id: r.try_get("curncyid")?,
                state: state_column(&r)?,
                date: Date::parse_iso(&date).unwrap_or(Date { year: 1900, month: 1, day: 1 }),
                voided: r.try_get::<i64, _>("voidstts")? != 0,
            })
        })
        .transpose()
    }

    /// The document's own GL posting date, its void, and its batch's GL posting date.
    async fn posting_and_void(&self, company: i32, d: &Document) -> sqlx::Result<(Option<Date>, Option<VoidInfo>)> {
        let row = sqlx::query(
            "SELECT x.glpostdt, x.voidstts, x.voiddate, b.glpostdt AS batch_glpostdt FROM (SELECT 1) \
             LEFT JOIN rm_document_ext x ON x.company_id = ? AND x.rmdtypal = ? AND x.docnumbr = ? \
             LEFT JOIN sy00500 b ON b.company_id = ? AND b.bachnumb = ? AND b.bchsourc = ?",
        )
        .bind(company)
        .bind(d.doc_type.rmdtypal())
        .bind(&d.number)
        .bind(company)
        .bind(&d.batch_id)
        .bind(&d.batch_source)
        .fetch_one(&self.pool)
        .await?;
        let date = |col: &str| -> sqlx::Result<Option<Date>> {
            Ok(r_text(&row, col)?.and_then(|t| Date::parse_iso(t.get(..10).unwrap_or(&t))))
        };
        let own = date("glpostdt")?;
        // A posted document carries the GL posting date it posted with (posting stores it).
        let posting = own.or(if d.state == TxState::Work { date("batch_glpostdt")? } else { None });
        let status: Option<i64> = row.try_get("voidstts")?;
        let void_date = date("voiddate")?;
        let void = status.filter(|s| *s != 0).map(|status| VoidInfo { status, date: void_date });
        Ok((Some(posting.unwrap_or(d.date)), void))
    }

    /// Marks a document voided (VOIDSTTS, VOIDDATE, the void's GL posting date) with nothing
    /// left to apply (CURTRXAM 0).
    pub async fn mark_voided(
        conn: &mut sqlx::SqliteConnection,
        company: i32,
        (doc_type, number): (DocType, &str),
        status: i64,
        date: Option<Date>,
        posting_date: Option<Date>,
    ) -> sqlx::Result<()> {
        for table in DocTable::ALL {
            let sql = format!(
                "UPDATE {} SET curtrxam = 0, modifdt = ? WHERE company_id = ? AND rmdtypal = ? AND docnumbr = ?",
                table.name()
            );
            sqlx::query(AssertSqlSafe(sql))
                .bind(crate::date::now_timestamp())
                .bind(company)
                .bind(doc_type.rmdtypal())
                .bind(number)
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query(
            "INSERT INTO rm_document_ext (company_id, rmdtypal, docnumbr, voidstts, voiddate, void_glpostdt) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (company_id, rmdtypal, docnumbr) DO UPDATE SET \
             voidstts = excluded.voidstts, voiddate = excluded.voiddate, void_glpostdt = excluded.void_glpostdt",
        )
        .bind(company)
        .bind(doc_type.rmdtypal())
        .bind(number)
        .bind(status)
        .bind(date.map(|d| d.iso()))
        .bind(posting_date.map(|d| d.iso()))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Moves a document between work, open and history (what posting or a year-end close
    /// would do in GP). Returns false if the document does not exist.
    pub async fn move_document(
        &self,
        company: i32,
        doc_type: DocType,
        number: &str,
        to: TxState,
    ) -> sqlx::Result<bool> {
        let mut tx = self.begin_write().await?;
        let Some(from) = Self::balance_in_tx(&mut tx, company, doc_type, number).await?.map(|b| b.state) else {
            return Ok(false);
        };
        let (src, dst) = (DocTable::for_state(from, doc_type), DocTable::for_state(to, doc_type));
        if src != dst {
            let copy = format!(
                "INSERT INTO {} ({cols}) SELECT {cols} FROM {} WHERE company_id = ? AND rmdtypal = ? AND docnumbr = ?",
                dst.name(),
                src.name(),
                cols = doc_select!()
            );
            let delete = format!("DELETE FROM {} WHERE company_id = ? AND rmdtypal = ? AND docnumbr = ?", src.name());
            for sql in [copy, delete] {
                sqlx::query(AssertSqlSafe(sql))
                    .bind(company)
                    .bind(doc_type.rmdtypal())
                    .bind(number)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }
}

fn r_text(r: &SqliteRow, col: &str) -> sqlx::Result<Option<String>> {
    r.try_get(col)
}
