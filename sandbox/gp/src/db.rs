//! The emulated GP company databases, in SQLite, with GP's table names where GP has one.
//!
//! A temporary file in WAL mode rather than `sqlite::memory:`: every pooled connection to an
//! in-memory database would see its own empty database, and a shared-cache one reports lock
//! conflicts instead of waiting. Writes take the write lock up front (`BEGIN IMMEDIATE`), so
//! the duplicate check and the insert of a document cannot interleave with another request's.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Row, SqlitePool, Transaction};

use crate::date::Date;
use crate::model::{Amounts, AppliedRecord, Batch, Checkbook, Company, Currency, Customer, DocType, Document, TxState};
use crate::node::Node;

pub type Tx = Transaction<'static, sqlx::Sqlite>;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS companies (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    functional_currency TEXT NOT NULL, default_checkbook TEXT);
-- MC40200 currency setup, per company (GP keeps it in DYNAMICS; access is per company).
CREATE TABLE IF NOT EXISTS mc40200 (
    company_id INTEGER NOT NULL, curncyid TEXT NOT NULL, isocurrc TEXT NOT NULL, decplcur INTEGER NOT NULL,
    PRIMARY KEY (company_id, curncyid));
-- CM00100 checkbook master.
CREATE TABLE IF NOT EXISTS cm00100 (
    company_id INTEGER NOT NULL, chekbkid TEXT NOT NULL, curncyid TEXT NOT NULL, dscriptn TEXT NOT NULL,
    PRIMARY KEY (company_id, chekbkid));
-- SY40100 fiscal periods; pseries_2 is the Sales series' closed flag.
CREATE TABLE IF NOT EXISTS sy40100 (
    company_id INTEGER NOT NULL, year1 INTEGER NOT NULL, periodid INTEGER NOT NULL,
    perioddt TEXT NOT NULL, perdendt TEXT NOT NULL, pseries_2 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (company_id, year1, periodid));
-- RM00101 customer master.
CREATE TABLE IF NOT EXISTS rm00101 (
    company_id INTEGER NOT NULL, custnmbr TEXT NOT NULL, custname TEXT, shrtname TEXT, stmtname TEXT,
    custclas TEXT, curncyid TEXT, pymtrmid TEXT, comment1 TEXT, comment2 TEXT, userdef1 TEXT, userdef2 TEXT,
    txrgnnum TEXT, inactive INTEGER NOT NULL DEFAULT 0, hold INTEGER NOT NULL DEFAULT 0, addresses TEXT,
    creatddt TEXT NOT NULL, modifdt TEXT NOT NULL,
    PRIMARY KEY (company_id, custnmbr));
-- SY00500 batch headers; bchsttus 0 = available. Nothing here ever posts a batch.
CREATE TABLE IF NOT EXISTS sy00500 (
    company_id INTEGER NOT NULL, bachnumb TEXT NOT NULL, bchsourc TEXT NOT NULL, series INTEGER NOT NULL,
    bchcomnt TEXT, chekbkid TEXT, bchsttus INTEGER NOT NULL DEFAULT 0, creatddt TEXT NOT NULL,
    PRIMARY KEY (company_id, bachnumb, bchsourc));
-- RM00401 RM key master: every RM document number, whatever table the document is in.
CREATE TABLE IF NOT EXISTS rm00401 (
    company_id INTEGER NOT NULL, docnumbr TEXT NOT NULL, rmdtypal INTEGER NOT NULL, custnmbr TEXT NOT NULL,
    PRIMARY KEY (company_id, docnumbr, rmdtypal));
-- RM20201-like apply records.
CREATE TABLE IF NOT EXISTS rm20201 (
    company_id INTEGER NOT NULL, apfrdcty INTEGER NOT NULL, apfrdcnm TEXT NOT NULL,
    aptodcty INTEGER NOT NULL, aptodcnm TEXT NOT NULL, appldamt INTEGER NOT NULL, applydate TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ws_validation_log (
    log_id TEXT PRIMARY KEY, company_id INTEGER, operation TEXT NOT NULL, errors TEXT NOT NULL,
    logged_at TEXT NOT NULL);
"#;

/// RM10301 (sales work), RM10201 (cash receipts work), RM20101 (open), RM30101 (history)
/// share one column layout here, so a document keeps its columns when it changes state.
const DOC_COLUMNS: &str = "company_id INTEGER NOT NULL, rmdtypal INTEGER NOT NULL, docnumbr TEXT NOT NULL, \
    custnmbr TEXT NOT NULL, docdate TEXT NOT NULL, bachnumb TEXT NOT NULL, bchsourc TEXT NOT NULL, \
    curncyid TEXT NOT NULL, slsamnt INTEGER NOT NULL, trdisamt INTEGER NOT NULL, frtamnt INTEGER NOT NULL, \
    miscamnt INTEGER NOT NULL, taxamnt INTEGER NOT NULL, costamnt INTEGER NOT NULL, docamnt INTEGER NOT NULL, \
    curtrxam INTEGER NOT NULL, docdescr TEXT, cstponbr TEXT, chekbkid TEXT, cshrctyp TEXT, cheknmbr TEXT, \
    distributions TEXT, creatddt TEXT NOT NULL, modifdt TEXT NOT NULL, PRIMARY KEY (company_id, rmdtypal, docnumbr)";

macro_rules! doc_select {
    () => {
        "company_id, rmdtypal, docnumbr, custnmbr, docdate, bachnumb, bchsourc, curncyid, slsamnt, trdisamt, \
         frtamnt, miscamnt, taxamnt, costamnt, docamnt, curtrxam, docdescr, cstponbr, chekbkid, cshrctyp, \
         cheknmbr, distributions, creatddt, modifdt"
    };
}

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

#[derive(Clone)]
pub struct Db {
    pool: SqlitePool,
}

fn bool_col(row: &SqliteRow, col: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

impl Db {
    /// Opens (creating) the database file at `path`.
    pub async fn open(path: &Path) -> anyhow::Result<Db> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .with_context(|| format!("opening the GP sandbox database {}", path.display()))?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await.context("creating GP tables")?;
        for table in [DocTable::SalesWork, DocTable::CashWork, DocTable::Open, DocTable::History] {
            let ddl = format!("CREATE TABLE IF NOT EXISTS {} ({DOC_COLUMNS})", table.name());
            sqlx::query(AssertSqlSafe(ddl)).execute(&pool).await.context("creating RM document tables")?;
        }
        Ok(Db { pool })
    }

    /// Starts a write: takes SQLite's write lock immediately so check-then-insert is atomic.
    pub async fn begin_write(&self) -> sqlx::Result<Tx> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- setup data ----------------------------------------------------------------------

    pub async fn insert_company(&self, c: &Company) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO companies (id, name, functional_currency, default_checkbook) VALUES (?, ?, ?, ?)")
            .bind(c.id)
            .bind(&c.name)
            .bind(&c.functional_currency)
            .bind(&c.default_checkbook)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn insert_currency(&self, company: i32, c: &Currency) -> sqlx::Result<()> {
        sqlx::query("INSERT OR REPLACE INTO mc40200 (company_id, curncyid, isocurrc, decplcur) VALUES (?, ?, ?, ?)")
            .bind(company)
            .bind(&c.currency_id)
            .bind(&c.iso_code)
            .bind(i64::from(c.decimal_digits))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn insert_checkbook(&self, company: i32, c: &Checkbook) -> sqlx::Result<()> {
        sqlx::query("INSERT OR REPLACE INTO cm00100 (company_id, chekbkid, curncyid, dscriptn) VALUES (?, ?, ?, ?)")
            .bind(company)
            .bind(&c.id)
            .bind(&c.currency_id)
            .bind(&c.description)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn insert_period(
        &self,
        company: i32,
        year: i32,
        period: u32,
        start: Date,
        end: Date,
        closed: bool,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT OR REPLACE INTO sy40100 (company_id, year1, periodid, perioddt, perdendt, pseries_2) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(company)
        .bind(year)
        .bind(i64::from(period))
        .bind(start.iso())
        .bind(end.iso())
        .bind(i64::from(closed))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Opens or closes the Sales series of one period; false if the period does not exist.
    pub async fn set_period_closed(&self, company: i32, year: i32, period: u32, closed: bool) -> sqlx::Result<bool> {
        let done = sqlx::query("UPDATE sy40100 SET pseries_2 = ? WHERE company_id = ? AND year1 = ? AND periodid = ?")
            .bind(i64::from(closed))
            .bind(company)
            .bind(year)
            .bind(i64::from(period))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The Sales closed flag of the period containing `date`, or `None` if no period does.
    pub async fn period_closed(&self, company: i32, date: Date) -> sqlx::Result<Option<bool>> {
        let row = sqlx::query("SELECT pseries_2 FROM sy40100 WHERE company_id = ? AND perioddt <= ? AND perdendt >= ?")
            .bind(company)
            .bind(date.iso())
            .bind(date.iso())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| bool_col(&r, "pseries_2")).transpose()
    }

    fn company_row(r: &SqliteRow) -> sqlx::Result<Company> {
        Ok(Company {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            functional_currency: r.try_get("functional_currency")?,
            default_checkbook: r.try_get("default_checkbook")?,
        })
    }

    pub async fn companies(&self) -> sqlx::Result<Vec<Company>> {
        let rows = sqlx::query("SELECT * FROM companies ORDER BY id").fetch_all(&self.pool).await?;
        rows.iter().map(Self::company_row).collect()
    }

    pub async fn company(&self, id: i32) -> sqlx::Result<Option<Company>> {
        let row = sqlx::query("SELECT * FROM companies WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(Self::company_row).transpose()
    }

    pub async fn company_by_name(&self, name: &str) -> sqlx::Result<Option<Company>> {
        let row = sqlx::query("SELECT * FROM companies WHERE name = ?").bind(name).fetch_optional(&self.pool).await?;
        row.as_ref().map(Self::company_row).transpose()
    }

    fn currency_row(r: &SqliteRow) -> sqlx::Result<Currency> {
        Ok(Currency {
            currency_id: r.try_get("curncyid")?,
            iso_code: r.try_get("isocurrc")?,
            decimal_digits: r.try_get::<i64, _>("decplcur")?.clamp(0, 5) as u32,
        })
    }

    pub async fn currency(&self, company: i32, currency_id: &str) -> sqlx::Result<Option<Currency>> {
        let row = sqlx::query("SELECT * FROM mc40200 WHERE company_id = ? AND curncyid = ?")
            .bind(company)
            .bind(currency_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Self::currency_row).transpose()
    }

    pub async fn currency_by_iso(&self, company: i32, iso: &str) -> sqlx::Result<Option<Currency>> {
        let row =
            sqlx::query("SELECT * FROM mc40200 WHERE company_id = ? AND isocurrc = ? COLLATE NOCASE ORDER BY curncyid")
                .bind(company)
                .bind(iso)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(Self::currency_row).transpose()
    }

    pub async fn checkbook(&self, company: i32, id: &str) -> sqlx::Result<Option<Checkbook>> {
        let row = sqlx::query("SELECT * FROM cm00100 WHERE company_id = ? AND chekbkid = ?")
            .bind(company)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(Checkbook {
                id: r.try_get("chekbkid")?,
                currency_id: r.try_get("curncyid")?,
                description: r.try_get("dscriptn")?,
            })
        })
        .transpose()
    }

    // ---- customers -----------------------------------------------------------------------

    fn customer_row(r: &SqliteRow) -> sqlx::Result<Customer> {
        let addresses: Option<String> = r.try_get("addresses")?;
        Ok(Customer {
            id: r.try_get("custnmbr")?,
            name: r.try_get("custname")?,
            shortname: r.try_get("shrtname")?,
            statement_name: r.try_get("stmtname")?,
            class_id: r.try_get("custclas")?,
            currency_id: r.try_get("curncyid")?,
            payment_terms_id: r.try_get("pymtrmid")?,
            comment1: r.try_get("comment1")?,
            comment2: r.try_get("comment2")?,
            user_defined1: r.try_get("userdef1")?,
            user_defined2: r.try_get("userdef2")?,
            tax_registration: r.try_get("txrgnnum")?,
            is_active: !bool_col(r, "inactive")?,
            is_on_hold: bool_col(r, "hold")?,
            addresses: addresses.and_then(|a| serde_json::from_str::<Node>(&a).ok()),
            created: r.try_get("creatddt")?,
            modified: r.try_get("modifdt")?,
        })
    }

    pub async fn customer(&self, company: i32, id: &str) -> sqlx::Result<Option<Customer>> {
        let row = sqlx::query("SELECT * FROM rm00101 WHERE company_id = ? AND custnmbr = ?")
            .bind(company)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Self::customer_row).transpose()
    }

    pub async fn customers(&self, company: i32) -> sqlx::Result<Vec<Customer>> {
        let rows = sqlx::query("SELECT * FROM rm00101 WHERE company_id = ? ORDER BY custnmbr")
            .bind(company)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(Self::customer_row).collect()
    }

    /// Inserts or replaces a customer inside a write transaction.
    pub async fn put_customer(tx: &mut Tx, company: i32, c: &Customer) -> sqlx::Result<()> {
        let addresses = c.addresses.as_ref().and_then(|a| serde_json::to_string(a).ok());
        sqlx::query(
            "INSERT OR REPLACE INTO rm00101 (company_id, custnmbr, custname, shrtname, stmtname, custclas, curncyid, \
             pymtrmid, comment1, comment2, userdef1, userdef2, txrgnnum, inactive, hold, addresses, creatddt, modifdt) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(company)
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.shortname)
        .bind(&c.statement_name)
        .bind(&c.class_id)
        .bind(&c.currency_id)
        .bind(&c.payment_terms_id)
        .bind(&c.comment1)
        .bind(&c.comment2)
        .bind(&c.user_defined1)
        .bind(&c.user_defined2)
        .bind(&c.tax_registration)
        .bind(i64::from(!c.is_active))
        .bind(i64::from(c.is_on_hold))
        .bind(addresses)
        .bind(&c.created)
        .bind(&c.modified)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn customer_exists(tx: &mut Tx, company: i32, id: &str) -> sqlx::Result<bool> {
        let row = sqlx::query("SELECT 1 FROM rm00101 WHERE company_id = ? AND custnmbr = ?")
            .bind(company)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        Ok(row.is_some())
    }

    // ---- batches -------------------------------------------------------------------------

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

    // ---- documents -----------------------------------------------------------------------

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
        let state = match r.try_get::<String, _>("state")?.as_str() {
            "Open" => TxState::Open,
            "History" => TxState::History,
            _ => TxState::Work,
        };
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
            created: r.try_get("creatddt")?,
            modified: r.try_get("modifdt")?,
        }))
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
            Some(r) => self.document_row(&r, company).await,
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
            out.extend(self.document_row(r, company).await?);
        }
        Ok(out)
    }

    /// Reads remaining amount, customer, currency and state of a document inside a write
    /// transaction (the apply check must see the balance it is about to reduce).
    pub async fn balance_in_tx(
        tx: &mut Tx,
        company: i32,
        doc_type: DocType,
        number: &str,
    ) -> sqlx::Result<Option<(i64, String, String, TxState)>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT curtrxam, custnmbr, curncyid, state FROM ({ALL_DOCS}) WHERE company_id = ? AND rmdtypal = ? AND docnumbr = ?"
        )))
        .bind(company)
        .bind(doc_type.rmdtypal())
        .bind(number)
        .fetch_optional(&mut **tx)
        .await?;
        row.map(|r| {
            let state = match r.try_get::<String, _>("state")?.as_str() {
                "Open" => TxState::Open,
                "History" => TxState::History,
                _ => TxState::Work,
            };
            Ok((r.try_get("curtrxam")?, r.try_get("custnmbr")?, r.try_get("curncyid")?, state))
        })
        .transpose()
    }

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
            for table in [DocTable::SalesWork, DocTable::CashWork, DocTable::Open, DocTable::History] {
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
        let Some((_, _, _, from)) = Self::balance_in_tx(&mut tx, company, doc_type, number).await? else {
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

    // ---- Web Services exception log -------------------------------------------------------

    pub async fn log_validation(
        &self,
        log_id: &str,
        company: Option<i32>,
        operation: &str,
        errors_json: &str,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO ws_validation_log (log_id, company_id, operation, errors, logged_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(log_id)
        .bind(company)
        .bind(operation)
        .bind(errors_json)
        .bind(crate::date::now_timestamp())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn logged_validation(&self, log_id: &str) -> sqlx::Result<Option<String>> {
        let row = sqlx::query("SELECT errors FROM ws_validation_log WHERE log_id = ? COLLATE NOCASE")
            .bind(log_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get("errors")).transpose()
    }
}
