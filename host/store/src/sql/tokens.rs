//! [`AdminTokens`] in SQL: one row per token, by name, looked up by hash.

use async_trait::async_trait;

use super::{Dialect, QueryExt, RowExt, SqlStore, sql};
use crate::{AdminToken, AdminTokens};

const COLUMNS: &str = "name, hash, scope, connection, created_at, last_used_at, revoked_at";

fn token<R: sqlx::Row>(r: &R) -> sqlx::Result<AdminToken>
where
    R::Database: crate::sql::Reads<String> + crate::sql::Reads<Option<String>>,
    R::Database: crate::sql::Reads<i64> + crate::sql::Reads<Option<i64>> + sqlx::Database<Row = R>,
{
    Ok(AdminToken {
        name: r.col("name")?,
        hash: r.col("hash")?,
        scope: r.col("scope")?,
        connection: r.col("connection")?,
        created_at: r.col("created_at")?,
        last_used_at: r.col("last_used_at")?,
        revoked_at: r.col("revoked_at")?,
    })
}

#[async_trait]
impl<DB: Dialect> AdminTokens for SqlStore<DB> {
    async fn token_create(
        &self,
        name: &str,
        hash: &str,
        scope: &str,
        connection: Option<&str>,
    ) -> anyhow::Result<bool> {
        let done = sqlx::query(sql::<DB>(
            "INSERT INTO admin_tokens (name, hash, scope, connection, created_at) VALUES ($1, $2, $3, $4, {now}) \
             ON CONFLICT (name) DO NOTHING",
        ))
        .arg(name)
        .arg(hash)
        .arg(scope)
        .arg(connection)
        .execute(self.writes())
        .await?;
        Ok(crate::sql::RowsAffected::rows_affected(&done) == 1)
    }

    async fn token_by_hash(&self, hash: &str) -> anyhow::Result<Option<AdminToken>> {
        let q = format!("SELECT {COLUMNS} FROM admin_tokens WHERE hash = $1 AND revoked_at IS NULL");
        let row = sqlx::query(sqlx::AssertSqlSafe(q)).arg(hash).fetch_optional(self.reads()).await?;
        Ok(row.map(|r| token(&r)).transpose()?)
    }

    async fn token_list(&self) -> anyhow::Result<Vec<AdminToken>> {
        let q = format!("SELECT {COLUMNS} FROM admin_tokens ORDER BY name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(q)).fetch_all(self.reads()).await?;
        Ok(rows.iter().map(token).collect::<sqlx::Result<_>>()?)
    }

    async fn token_revoke(&self, name: &str) -> anyhow::Result<bool> {
        let done =
            sqlx::query(sql::<DB>("UPDATE admin_tokens SET revoked_at = {now} WHERE name = $1 AND revoked_at IS NULL"))
                .arg(name)
                .execute(self.writes())
                .await?;
        Ok(crate::sql::RowsAffected::rows_affected(&done) == 1)
    }

    async fn token_used(&self, name: &str) -> anyhow::Result<()> {
        sqlx::query(sql::<DB>("UPDATE admin_tokens SET last_used_at = {now} WHERE name = $1"))
            .arg(name)
            .execute(self.writes())
            .await?;
        Ok(())
    }
}
