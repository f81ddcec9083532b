//! The GP Web Services exception log: validation errors kept under the GUID a validation fault
//! returns, for GetLoggedValidationResultByKey.

use sqlx::Row;

use super::Db;

impl Db {
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
