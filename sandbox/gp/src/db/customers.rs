//! The customer master (RM00101).

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{Db, Tx, bool_col};
use crate::model::Customer;
use crate::node::Node;

impl Db {
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

    /// A customer read inside a write transaction.
    pub async fn customer_in(tx: &mut Tx, company: i32, id: &str) -> sqlx::Result<Option<Customer>> {
        let row = sqlx::query("SELECT * FROM rm00101 WHERE company_id = ? AND custnmbr = ?")
            .bind(company)
            .bind(id)
            .fetch_optional(&mut **tx)
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
}
