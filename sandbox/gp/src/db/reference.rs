//! Set-up tables a document is checked against: chart of accounts (GL00105), tax details and
//! schedules (TX00201, TX00101/TX00102), customer classes (RM00201), payment terms (SY03300),
//! card names (SY03100), multicurrency (MC40000, MC40301, MC00100) and DYNAMICS' company list
//! (SY01500) and error texts (taErrorCode).
//!
//! Lookups take a connection so they run inside the write transaction that stores the
//! document (an eConnect session's, or the SOAP/SBA create's).

use sqlx::{Row, SqliteConnection};

use super::Db;
use crate::date::Date;

/// A usable exchange rate: the rate (decimal text, up to 7 places) and its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    pub rate: String,
    pub table: String,
    pub date: String,
}

async fn exists(conn: &mut SqliteConnection, sql: &'static str, company: i32, id: &str) -> sqlx::Result<bool> {
    Ok(sqlx::query(sql).bind(company).bind(id).fetch_optional(conn).await?.is_some())
}

impl Db {
    /// ACTINDX of a formatted account number (ACTNUMST).
    pub async fn account_index(conn: &mut SqliteConnection, company: i32, actnumst: &str) -> sqlx::Result<Option<i64>> {
        let row = sqlx::query("SELECT actindx FROM gl00105 WHERE company_id = ? AND actnumst = ?")
            .bind(company)
            .bind(actnumst)
            .fetch_optional(conn)
            .await?;
        row.map(|r| r.try_get("actindx")).transpose()
    }

    /// ACTNUMST of an account index.
    pub async fn account_number(
        conn: &mut SqliteConnection,
        company: i32,
        actindx: i64,
    ) -> sqlx::Result<Option<String>> {
        let row = sqlx::query("SELECT actnumst FROM gl00105 WHERE company_id = ? AND actindx = ?")
            .bind(company)
            .bind(actindx)
            .fetch_optional(conn)
            .await?;
        row.map(|r| r.try_get("actnumst")).transpose()
    }

    /// A tax detail's account index, if the detail exists.
    pub async fn tax_detail_account(conn: &mut SqliteConnection, company: i32, id: &str) -> sqlx::Result<Option<i64>> {
        let row = sqlx::query("SELECT actindx FROM tx00201 WHERE company_id = ? AND taxdtlid = ?")
            .bind(company)
            .bind(id)
            .fetch_optional(conn)
            .await?;
        row.map(|r| r.try_get("actindx")).transpose()
    }

    pub async fn tax_schedule_exists(conn: &mut SqliteConnection, company: i32, id: &str) -> sqlx::Result<bool> {
        exists(conn, "SELECT 1 FROM tx00101 WHERE company_id = ? AND taxschid = ?", company, id).await
    }

    pub async fn class_exists(conn: &mut SqliteConnection, company: i32, id: &str) -> sqlx::Result<bool> {
        exists(conn, "SELECT 1 FROM rm00201 WHERE company_id = ? AND classid = ?", company, id).await
    }

    pub async fn terms_exist(conn: &mut SqliteConnection, company: i32, id: &str) -> sqlx::Result<bool> {
        exists(conn, "SELECT 1 FROM sy03300 WHERE company_id = ? AND pymtrmid = ?", company, id).await
    }

    pub async fn card_exists(conn: &mut SqliteConnection, company: i32, id: &str) -> sqlx::Result<bool> {
        exists(conn, "SELECT 1 FROM sy03100 WHERE company_id = ? AND cardname = ?", company, id).await
    }

    /// MC40000's default Sales rate type.
    pub async fn default_rate_type(conn: &mut SqliteConnection, company: i32) -> sqlx::Result<String> {
        let row =
            sqlx::query("SELECT defslstp FROM mc40000 WHERE company_id = ?").bind(company).fetch_optional(conn).await?;
        Ok(row.map(|r| r.try_get("defslstp")).transpose()?.unwrap_or_else(|| "SELL".to_string()))
    }

    /// The newest rate of the currency's rate table for the rate type usable on `date`
    /// (EXCHDATE ≤ date, and EXPNDATE ≥ date or empty), as GP's SVC_Validate_ExchangeRate.
    pub async fn exchange_rate(
        conn: &mut SqliteConnection,
        company: i32,
        currency: &str,
        rate_type: &str,
        date: Date,
    ) -> sqlx::Result<Option<Rate>> {
        let row = sqlx::query(
            "SELECT r.xchgrate, r.exgtblid, r.exchdate FROM mc00100 r JOIN mc40301 t ON t.exgtblid = r.exgtblid \
             WHERE t.company_id = ? AND t.curncyid = ? AND t.ratetpid = ? AND r.exchdate <= ? \
             AND (r.expndate >= ? OR r.expndate = '1900-01-01') ORDER BY r.exchdate DESC LIMIT 1",
        )
        .bind(company)
        .bind(currency)
        .bind(rate_type)
        .bind(date.iso())
        .bind(date.iso())
        .fetch_optional(conn)
        .await?;
        row.map(|r| {
            Ok(Rate { rate: r.try_get("xchgrate")?, table: r.try_get("exgtblid")?, date: r.try_get("exchdate")? })
        })
        .transpose()
    }

    /// The company whose INTERID (company database name) this is.
    pub async fn company_by_interid(&self, interid: &str) -> sqlx::Result<Option<i32>> {
        let row = sqlx::query("SELECT cmpanyid FROM sy01500 WHERE interid = ?")
            .bind(interid)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get("cmpanyid")).transpose()
    }

    /// Every company's (id, INTERID, name).
    /// The exchange rate a document was booked at (XCHGRATE as stored), if it carries one.
    pub async fn document_rate(&self, company: i32, rmdtypal: i64, number: &str) -> sqlx::Result<Option<String>> {
        let sql = "SELECT xchgrate FROM rm_document_ext WHERE company_id = ? AND rmdtypal = ? AND docnumbr = ?";
        let row: Option<(Option<String>,)> =
            sqlx::query_as(sql).bind(company).bind(rmdtypal).bind(number).fetch_optional(&self.pool).await?;
        Ok(row.and_then(|(r,)| r))
    }

    pub async fn company_databases(&self) -> sqlx::Result<Vec<(i32, String, String)>> {
        let rows = sqlx::query("SELECT cmpanyid, interid, cmpnynam FROM sy01500 ORDER BY cmpanyid")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("cmpanyid")?, r.try_get("interid")?, r.try_get("cmpnynam")?))).collect()
    }

    /// Runs one set-up statement (seed data) with its values.
    pub async fn seed_row(&self, sql: &'static str, values: &[SeedValue<'_>]) -> sqlx::Result<()> {
        let mut q = sqlx::query(sql);
        for v in values {
            q = match v {
                SeedValue::Int(i) => q.bind(*i),
                SeedValue::Text(t) => q.bind(t.to_string()),
                SeedValue::Null => q.bind(None::<String>),
            };
        }
        q.execute(&self.pool).await?;
        Ok(())
    }
}

/// A value bound into a seed statement.
#[derive(Debug, Clone, Copy)]
pub enum SeedValue<'a> {
    Int(i64),
    Text(&'a str),
    Null,
}
