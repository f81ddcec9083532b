//! Company setup: companies, their currencies (MC40200) and checkbooks (CM00100).

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::Db;
use crate::model::{Checkbook, Company, Currency};

impl Db {
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
}
