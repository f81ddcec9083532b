//! [`SecretStore`] in SQL: ciphertext and its key id by name, upserted or compare-and-swapped.

use async_trait::async_trait;

use super::{Dialect, QueryExt, RowExt, RowsAffected, SqlStore, sql};
use crate::{SecretMeta, SecretStore};

#[async_trait]
impl<DB: Dialect> SecretStore for SqlStore<DB> {
    async fn secret_put(&self, name: &str, key_id: Option<&str>, ciphertext: &[u8]) -> anyhow::Result<()> {
        sqlx::query(sql::<DB>(
            "INSERT INTO secrets (name, ciphertext, key_id, updated_at) VALUES ($1, $2, $3, {now}) \
             ON CONFLICT (name) DO UPDATE SET ciphertext = excluded.ciphertext, key_id = excluded.key_id, \
             updated_at = excluded.updated_at",
        ))
        .arg(name)
        .arg(ciphertext)
        .arg(key_id)
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

    async fn secret_list(&self) -> anyhow::Result<Vec<SecretMeta>> {
        let rows =
            sqlx::query("SELECT name, key_id, updated_at FROM secrets ORDER BY name").fetch_all(self.reads()).await?;
        rows.iter()
            .map(|r| {
                Ok(SecretMeta { name: r.col("name")?, key_id: r.col("key_id")?, updated_at: r.col("updated_at")? })
            })
            .collect()
    }

    async fn secret_replace(
        &self,
        name: &str,
        expected: &[u8],
        key_id: &str,
        ciphertext: &[u8],
    ) -> anyhow::Result<bool> {
        let done = sqlx::query(sql::<DB>(
            "UPDATE secrets SET ciphertext = $1, key_id = $2, updated_at = {now} WHERE name = $3 AND ciphertext = $4",
        ))
        .arg(ciphertext)
        .arg(key_id)
        .arg(name)
        .arg(expected)
        .execute(self.writes())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
