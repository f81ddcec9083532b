//! [`SecretStore`] in SQL: ciphertext by name, upserted.

use async_trait::async_trait;

use super::{Dialect, QueryExt, RowExt, SqlStore, sql};
use crate::SecretStore;

#[async_trait]
impl<DB: Dialect> SecretStore for SqlStore<DB> {
    async fn secret_put(&self, name: &str, ciphertext: &[u8]) -> anyhow::Result<()> {
        sqlx::query(sql::<DB>(
            "INSERT INTO secrets (name, ciphertext, updated_at) VALUES ($1, $2, {now}) \
             ON CONFLICT (name) DO UPDATE SET ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
        ))
        .arg(name)
        .arg(ciphertext)
        .execute(self.writes())
        .await?;
        Ok(())
    }

    async fn secret_get(&self, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT ciphertext FROM secrets WHERE name = $1")
            .arg(name)
            .fetch_optional(self.reads())
            .await?;
        Ok(row.map(|r| r.col("ciphertext")).transpose()?)
    }
}
