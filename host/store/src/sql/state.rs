//! [`ComponentState`] in SQL: one row per `(scope, key)`, upserted.

use async_trait::async_trait;

use super::{Dialect, QueryExt, RowExt, SqlStore, sql};
use crate::ComponentState;

#[async_trait]
impl<DB: Dialect> ComponentState for SqlStore<DB> {
    async fn state_get(&self, scope: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT value FROM component_state WHERE scope = $1 AND key = $2")
            .arg(scope)
            .arg(key)
            .fetch_optional(self.reads())
            .await?;
        Ok(row.map(|r| r.col("value")).transpose()?)
    }

    async fn state_put(&self, scope: &str, key: &str, value: &[u8]) -> anyhow::Result<()> {
        sqlx::query(sql::<DB>(
            "INSERT INTO component_state (scope, key, value, updated_at) VALUES ($1, $2, $3, {now}) \
             ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        ))
        .arg(scope)
        .arg(key)
        .arg(value)
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn state_delete(&self, scope: &str, key: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM component_state WHERE scope = $1 AND key = $2")
            .arg(scope)
            .arg(key)
            .execute(self.writes())
            .await?;
        Ok(())
    }

    async fn state_usage(&self, scope: &str) -> anyhow::Result<(u64, u64)> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(LENGTH(value)), 0) AS BIGINT) AS bytes \
             FROM component_state WHERE scope = $1",
        )
        .arg(scope)
        .fetch_one(self.reads())
        .await?;
        let (n, bytes): (i64, i64) = (row.col("n")?, row.col("bytes")?);
        Ok((u64::try_from(n).unwrap_or(0), u64::try_from(bytes).unwrap_or(0)))
    }
}
