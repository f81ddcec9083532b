//! The target's eConnect grant: which SQL Server and company database its `econnect` calls
//! reach, with which `sql` login (a secret bound to `tds://<server>`), over how many connections.
//! Checked at load: only a target may hold it, and the secret must be a `sql` secret bound to
//! exactly that server.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::{Config, ConnectionConfig, SecretScheme};

/// `econnect = { server = "gp-sql.acme.local:1433", database = "TWO", secret = "acme-gp-sql" }`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EconnectGrant {
    /// `host[:port]` of the SQL Server (port 1433 when left out).
    pub server: String,
    /// The GP company database (`INTERID`, e.g. `TWO`); the system database is `DYNAMICS`.
    pub database: String,
    /// Name in `[secrets]` of the login: scheme `sql`, value `user:password`, origin
    /// `tds://<server>`.
    pub secret: String,
    /// Connections open at once. Default: the connection's `max_in_flight`; on a `paced` target
    /// it may not exceed it (the pool is the pacer).
    pub max_connections: Option<u32>,
    /// Connecting, each statement, and waiting for a free connection, each at most this long.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    30_000
}

/// Default SQL Server port.
pub const DEFAULT_PORT: u16 = 1433;

impl EconnectGrant {
    /// `(host, port)` of `server`.
    pub fn host_port(&self) -> anyhow::Result<(String, u16)> {
        let origin = crate::caps::http::origin::Origin::parse(&format!("tds://{}", self.server))
            .with_context(|| format!("econnect server {:?} is not host[:port]", self.server))?;
        Ok((origin.host, origin.port))
    }

    /// The origin its secret must be bound to.
    pub fn origin(&self) -> anyhow::Result<crate::caps::http::origin::Origin> {
        let (host, port) = self.host_port()?;
        Ok(crate::caps::http::origin::Origin { scheme: "tds".into(), host, port })
    }

    /// Connections open at once, for `conn`.
    pub fn pool_size(&self, conn: &ConnectionConfig) -> u32 {
        self.max_connections.unwrap_or_else(|| u32::try_from(conn.max_in_flight).unwrap_or(1)).max(1)
    }
}

impl Config {
    /// eConnect grants: on the target only, with a `sql` secret bound to the granted server; and
    /// `sql` secrets are for eConnect grants only (never handed to a guest as a handle).
    pub(super) fn check_econnect(&self) -> anyhow::Result<()> {
        for conn in &self.connections {
            for (role, rc) in [("source", &conn.source), ("mapper", &conn.mapper), ("target", &conn.target)] {
                for (guest, name) in &rc.secrets {
                    if self.secrets.get(name).is_some_and(|s| s.scheme == SecretScheme::Sql) {
                        bail!(
                            "connection {}: {role} is granted sql secret {name:?} as {guest:?}; a sql login is used by an econnect grant only, never handed to a component",
                            conn.id
                        );
                    }
                }
                let Some(grant) = &rc.econnect else { continue };
                let what = format!("connection {}: {role} econnect grant", conn.id);
                if role != "target" {
                    bail!("{what}: only the target may be granted econnect (it is the role that writes GP)");
                }
                let origin = grant.origin().with_context(|| what.clone())?;
                if grant.database.trim().is_empty() {
                    bail!("{what}: database is empty (give the company database, e.g. \"TWO\")");
                }
                if grant.max_connections == Some(0) {
                    bail!("{what}: max_connections must be at least 1");
                }
                if grant.timeout_ms == 0 {
                    bail!("{what}: timeout_ms must be at least 1");
                }
                if rc.paced
                    && let Some(max) = grant.max_connections
                    && i64::from(max) > i64::from(conn.max_in_flight)
                {
                    bail!(
                        "{what}: max_connections = {max} exceeds max_in_flight = {} on a paced target (the pool is its GP pacer); lower it or leave it out",
                        conn.max_in_flight
                    );
                }
                let Some(sc) = self.secrets.get(&grant.secret) else {
                    bail!("{what}: secret {:?} is not in [secrets]", grant.secret);
                };
                if sc.scheme != SecretScheme::Sql {
                    bail!("{what}: secret {:?} must have scheme \"sql\" (value user:password)", grant.secret);
                }
                let bound = sc.origin.as_deref().map(crate::caps::http::origin::Origin::parse).transpose()?;
                if bound.as_ref() != Some(&origin) {
                    bail!(
                        "{what}: secret {:?} is bound to {}, not {origin}",
                        grant.secret,
                        sc.origin.as_deref().unwrap_or("no origin")
                    );
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// A config whose target (or `role`) holds `grant`, with secrets `sql` (scheme sql, bound to
    /// tds://gp-sql:1433), `web` (basic) and `far` (sql, bound to another server).
    fn config(role: &str, grant: &str, extra: &str) -> String {
        let roles: String = ["source", "mapper", "target"]
            .iter()
            .map(|r| {
                let g = if *r == role { format!("econnect = {grant}\n") } else { String::new() };
                let x = if *r == "target" { extra } else { "" };
                format!("[connections.{r}]\ncomponent = \"c\"\n{g}{x}\n")
            })
            .collect();
        format!(
            "[components.c]\npath = \"c.wasm\"\nsha256 = \"00\"\n\
             [secrets.sql]\nscheme = \"sql\"\norigin = \"tds://GP-SQL\"\nvalue = \"mlc:pw\"\n\
             [secrets.web]\nscheme = \"basic\"\norigin = \"https://gp.example\"\nvalue = \"u:p\"\n\
             [secrets.far]\nscheme = \"sql\"\norigin = \"tds://other:1433\"\nvalue = \"u:p\"\n\
             [[connections]]\nid = \"acme\"\nmax_in_flight = 4\n{roles}"
        )
    }

    fn check(text: &str) -> anyhow::Result<Config> {
        let c: Config = toml::from_str(text)?;
        c.validate()?;
        Ok(c)
    }

    const GOOD: &str = r#"{ server = "gp-sql:1433", database = "TWO", secret = "sql" }"#;

    #[test]
    fn a_target_grant_with_a_bound_sql_secret_loads() {
        let c = check(&config("target", GOOD, "")).unwrap();
        let g = c.connections[0].target.econnect.clone().unwrap();
        assert_eq!(g.host_port().unwrap(), ("gp-sql".to_string(), 1433));
        assert_eq!(g.pool_size(&c.connections[0]), 4, "max_in_flight by default");
        assert_eq!(g.timeout_ms, 30_000);
        // The port defaults to 1433 on both sides.
        check(&config("target", r#"{ server = "gp-sql", database = "TWO", secret = "sql", max_connections = 2 }"#, ""))
            .unwrap();
    }

    #[test]
    fn bad_grants_are_refused_at_load_saying_why() {
        let cases = [
            (config("source", GOOD, ""), "source econnect grant: only the target may be granted econnect"),
            (config("mapper", GOOD, ""), "mapper econnect grant: only the target"),
            (
                config("target", r#"{ server = "gp-sql", database = "TWO", secret = "nope" }"#, ""),
                "secret \"nope\" is not in [secrets]",
            ),
            (
                config("target", r#"{ server = "gp-sql", database = "TWO", secret = "web" }"#, ""),
                "secret \"web\" must have scheme \"sql\"",
            ),
            (
                config("target", r#"{ server = "gp-sql", database = "TWO", secret = "far" }"#, ""),
                "secret \"far\" is bound to tds://other:1433, not tds://gp-sql:1433",
            ),
            (
                config("target", r#"{ server = "gp-sql:1434", database = "TWO", secret = "sql" }"#, ""),
                "is bound to tds://GP-SQL, not tds://gp-sql:1434",
            ),
            (config("target", r#"{ server = "gp-sql", database = " ", secret = "sql" }"#, ""), "database is empty"),
            (
                config("target", r#"{ server = "gp-sql", database = "TWO", secret = "sql", max_connections = 0 }"#, ""),
                "max_connections must be at least 1",
            ),
            (
                config(
                    "target",
                    r#"{ server = "gp-sql", database = "TWO", secret = "sql", max_connections = 5 }"#,
                    "paced = true\n",
                ),
                "max_connections = 5 exceeds max_in_flight = 4 on a paced target",
            ),
            (
                config("target", GOOD, "secrets = { login = \"sql\" }\n"),
                "sql secret \"sql\" as \"login\"; a sql login is used by an econnect grant only",
            ),
            (
                config("target", r#"{ server = "gp-sql/x", database = "TWO", secret = "sql" }"#, ""),
                "econnect server \"gp-sql/x\" is not host[:port]",
            ),
            (
                config("target", r#"{ server = "gp-sql", database = "TWO", secret = "sql", tls = true }"#, ""),
                "unknown field `tls`",
            ),
        ];
        for (text, want) in cases {
            let err = format!("{:#}", check(&text).unwrap_err());
            assert!(err.contains(want), "wanted {want:?}\n   got {err}");
        }
    }

    #[test]
    fn tds_origins_parse_with_the_default_port() {
        use crate::caps::http::origin::Origin;
        assert_eq!(Origin::parse("tds://Gp-Sql").unwrap().to_string(), "tds://gp-sql:1433");
        assert_eq!(Origin::parse("tds://10.0.0.5:14330").unwrap().to_string(), "tds://10.0.0.5:14330");
        assert!(Origin::parse("tds://gp-sql/TWO").is_err());
        assert!(Origin::parse("tds://sa@gp-sql").is_err());
        // Requests stay http(s): a tds URL is not a request origin.
        assert!(Origin::of(&url::Url::parse("tds://gp-sql").unwrap()).is_err());
    }
}
