//! Customer addresses (RM00102) and internet addresses (SY01200): written by eConnect's
//! taUpdateCreateCustomerRcd / taCreateInternetAddresses and by a Web Services Customer's
//! `Addresses`.

use sqlx::pool::PoolConnection;
use sqlx::{Row, Sqlite, SqliteConnection};

use super::Db;

/// One RM00102 row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    pub code: String,
    pub contact: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub line3: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
    pub phone1: Option<String>,
    pub tax_schedule: Option<String>,
}

impl Db {
    /// A pooled connection, for reads outside a write.
    pub async fn acquire(&self) -> sqlx::Result<PoolConnection<Sqlite>> {
        self.pool.acquire().await
    }

    /// Inserts or replaces an address; `primary` makes it the customer's ADRSCODE.
    pub async fn put_address(
        conn: &mut SqliteConnection,
        company: i32,
        customer: &str,
        a: &Address,
        primary: bool,
    ) -> sqlx::Result<()> {
        if primary {
            sqlx::query("UPDATE rm00102 SET is_primary = 0 WHERE company_id = ? AND custnmbr = ?")
                .bind(company)
                .bind(customer)
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query(
            "INSERT OR REPLACE INTO rm00102 (company_id, custnmbr, adrscode, is_primary, cntcprsn, address1, address2, \
             address3, city, state, zip, country, phone1, taxschid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(company)
        .bind(customer)
        .bind(&a.code)
        .bind(i64::from(primary))
        .bind(&a.contact)
        .bind(&a.line1)
        .bind(&a.line2)
        .bind(&a.line3)
        .bind(&a.city)
        .bind(&a.state)
        .bind(&a.zip)
        .bind(&a.country)
        .bind(&a.phone1)
        .bind(&a.tax_schedule)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// The customer's primary address (its ADRSCODE), if it has one.
    pub async fn primary_address(
        conn: &mut SqliteConnection,
        company: i32,
        customer: &str,
    ) -> sqlx::Result<Option<Address>> {
        let row = sqlx::query(
            "SELECT * FROM rm00102 WHERE company_id = ? AND custnmbr = ? ORDER BY is_primary DESC, adrscode LIMIT 1",
        )
        .bind(company)
        .bind(customer)
        .fetch_optional(conn)
        .await?;
        row.map(|r| {
            Ok(Address {
                code: r.try_get("adrscode")?,
                contact: r.try_get("cntcprsn")?,
                line1: r.try_get("address1")?,
                line2: r.try_get("address2")?,
                line3: r.try_get("address3")?,
                city: r.try_get("city")?,
                state: r.try_get("state")?,
                zip: r.try_get("zip")?,
                country: r.try_get("country")?,
                phone1: r.try_get("phone1")?,
                tax_schedule: r.try_get("taxschid")?,
            })
        })
        .transpose()
    }

    /// Sets an internet address row (INET1 = the e-mail address, EmailToAddress as sent).
    pub async fn put_internet(
        conn: &mut SqliteConnection,
        company: i32,
        key: (&str, &str, &str),
        inet1: Option<&str>,
        email_to: Option<&str>,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO sy01200 (company_id, master_type, master_id, adrscode, inet1, emailtoaddress) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (company_id, master_type, master_id, adrscode) DO UPDATE SET \
             inet1 = COALESCE(excluded.inet1, inet1), emailtoaddress = COALESCE(excluded.emailtoaddress, emailtoaddress)",
        )
        .bind(company)
        .bind(key.0)
        .bind(key.1)
        .bind(key.2)
        .bind(inet1)
        .bind(email_to)
        .execute(conn)
        .await?;
        Ok(())
    }
}
