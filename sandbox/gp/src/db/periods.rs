//! Fiscal periods (SY40100): the Sales series' closed flag decides whether a document date is
//! accepted.

use sqlx::SqliteConnection;

use super::{Db, bool_col};
use crate::date::Date;

impl Db {
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
        let mut conn = self.pool.acquire().await?;
        Self::period_closed_in(&mut conn, company, date).await
    }

    /// [`Db::period_closed`] on a given connection (inside a write).
    pub async fn period_closed_in(conn: &mut SqliteConnection, company: i32, date: Date) -> sqlx::Result<Option<bool>> {
        let row = sqlx::query("SELECT pseries_2 FROM sy40100 WHERE company_id = ? AND perioddt <= ? AND perdendt >= ?")
            .bind(company)
            .bind(date.iso())
            .bind(date.iso())
            .fetch_optional(conn)
            .await?;
        row.map(|r| bool_col(&r, "pseries_2")).transpose()
    }
}
