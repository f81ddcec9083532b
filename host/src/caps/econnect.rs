//! `econnect`: the target runs eConnect documents and GP's read queries on GP's SQL Server,
//! through the host's executor (`mlc-econnect`; docs/econnect.md is the wire contract).
//!
//! Granted per target role (`econnect = { server, database, secret, max_connections }`): one
//! executor per connection's target, built at load and shared by every call (a pool of at most
//! `max_connections` SQL connections). The login is a `sql` secret the host reads; the guest
//! never sees it. Pacing: GP feels concurrent SQL sessions (locks on its batch and document
//! rows), not a request rate, so the pool's size is the pacer; on a `paced` target it may not
//! exceed the connection's `max_in_flight` (checked at load). The HTTP `RateGovernor` paces a
//! key's request *rate* (Chargebee's plan limit) and does not fit.
//!
//! A document is checked before a connection is taken: an `invalid` one costs no connection.
//! Nothing is audited here (the component audits what it wrote); a denial is audited once per
//! call, like any capability limit. Logs name the nodes, never the login.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use mlc_econnect::{Document, Executor, Server};
use wasmtime::component::{HasSelf, Linker};

use crate::bindings::host::ml_connector::plugin::econnect::{
    EconnectError, Host, QueryName, Refusal, Rows, add_to_linker,
};

use super::{Capability, ConfigureEnv, InstanceState, granted};

pub fn link(linker: &mut Linker<InstanceState>) -> anyhow::Result<()> {
    Ok(add_to_linker::<InstanceState, HasSelf<InstanceState>>(linker, |s| s)?)
}

/// Largest document the host parses.
const MAX_DOCUMENT: usize = 4 * 1024 * 1024;

/// The role's eConnect policy: its executor, or none (every call `denied`).
pub struct EconnectPolicy {
    pub grant: Option<Arc<Granted>>,
}

pub struct Granted {
    pub runs: Runs,
    /// `host:port/database`, for logs (and the agent's name for the database).
    pub target: String,
    pub timeout: Duration,
}

/// Who runs the documents: this host's executor, or the connection's local agent.
pub enum Runs {
    Here(Arc<Executor>),
    Agent(super::http::AgentRoute),
}

impl Granted {
    async fn execute(&self, doc: &Document, text: String) -> Result<(), mlc_econnect::EconnectError> {
        match &self.runs {
            Runs::Here(ex) => ex.execute(doc).await,
            Runs::Agent(r) => {
                crate::agent::calls::execute(&r.hub, &r.connection, &self.target, text, self.timeout).await
            }
        }
    }

    async fn query(
        &self,
        q: mlc_econnect::QueryName,
        params: &[String],
    ) -> Result<mlc_econnect::Rows, mlc_econnect::EconnectError> {
        match &self.runs {
            Runs::Here(ex) => ex.query(q, params).await,
            Runs::Agent(r) => {
                crate::agent::calls::query(&r.hub, &r.connection, &self.target, q, params, self.timeout).await
            }
        }
    }
}

/// Build the grant's executor (no connection is opened until the first call).
pub fn configure(env: &ConfigureEnv<'_>) -> anyhow::Result<EconnectPolicy> {
    let Some(grant) = &env.role_config.econnect else {
        return Ok(EconnectPolicy { grant: None });
    };
    let (host, port) = grant.host_port()?;
    let timeout = Duration::from_millis(grant.timeout_ms);
    let target = crate::agent::calls::sql_target(&host, port, &grant.database);
    if env.connection.via_agent() {
        // The agent holds the login and runs the executor, next to GP's SQL Server.
        let route = super::http::AgentRoute { hub: env.agents.clone(), connection: env.connection.id.clone() };
        tracing::debug!(connection = %env.connection.id, %target, "econnect through the agent");
        return Ok(EconnectPolicy { grant: Some(Arc::new(Granted { runs: Runs::Agent(route), target, timeout })) });
    }
    let secret = env.secrets.get(&grant.secret).with_context(|| format!("secret {} unresolved", grant.secret))?;
    let (user, password) = split_login(secret.value.expose())
        .with_context(|| format!("secret {}: a sql secret's value is user:password", grant.secret))?;
    let max_connections = usize::try_from(grant.pool_size(env.connection)).unwrap_or(1);
    let server = Server { host, port, database: grant.database.clone(), user, password, max_connections, timeout };
    tracing::debug!(connection = %env.connection.id, %target, max_connections, "econnect executor");
    let runs = Runs::Here(Arc::new(Executor::new(server)));
    Ok(EconnectPolicy { grant: Some(Arc::new(Granted { runs, target, timeout })) })
}

/// `user:password` (the password may hold colons; the user may not be empty).
pub fn split_login(value: &str) -> anyhow::Result<(String, String)> {
    match value.split_once(':') {
        Some((user, password)) if !user.is_empty() => Ok((user.to_string(), password.to_string())),
        _ => anyhow::bail!("expected user:password"),
    }
}

fn to_wit(e: mlc_econnect::EconnectError) -> EconnectError {
    use mlc_econnect::EconnectError as E;
    match e {
        E::Refused(r) => {
            EconnectError::Refused(Refusal { node: r.node, number: r.number, text: r.text, details: r.details })
        }
        E::Invalid(m) => EconnectError::Invalid(m),
        E::Denied(m) => EconnectError::Denied(m),
        E::Server(m) => EconnectError::Server(m),
        E::Transient(m) => EconnectError::Transient(m),
    }
}

fn query_name(q: QueryName) -> mlc_econnect::QueryName {
    use mlc_econnect::QueryName as Q;
    match q {
        QueryName::Customer => Q::Customer,
        QueryName::CustomerEmail => Q::CustomerEmail,
        QueryName::SalesWork => Q::SalesWork,
        QueryName::ReceiptWork => Q::ReceiptWork,
        QueryName::DocumentOpen => Q::DocumentOpen,
        QueryName::DocumentHistory => Q::DocumentHistory,
        QueryName::CustomerDocuments => Q::CustomerDocuments,
        QueryName::Distributions => Q::Distributions,
        QueryName::TaxDetails => Q::TaxDetails,
        QueryName::Batch => Q::Batch,
        QueryName::FiscalPeriod => Q::FiscalPeriod,
        QueryName::Currency => Q::Currency,
        QueryName::FunctionalCurrency => Q::FunctionalCurrency,
        QueryName::ExchangeRate => Q::ExchangeRate,
        QueryName::Checkbook => Q::Checkbook,
        QueryName::GlAccount => Q::GlAccount,
        QueryName::TaxDetail => Q::TaxDetail,
        QueryName::TaxSchedule => Q::TaxSchedule,
        QueryName::CustomerClass => Q::CustomerClass,
        QueryName::PaymentTerms => Q::PaymentTerms,
        QueryName::CardName => Q::CardName,
        QueryName::Company => Q::Company,
        QueryName::ErrorText => Q::ErrorText,
        QueryName::Applies => Q::Applies,
        QueryName::NextOpenPeriod => Q::NextOpenPeriod,
    }
}

impl InstanceState {
    /// The role's executor, or why not (audited once per call).
    async fn econnect_grant(&mut self) -> anyhow::Result<Result<Arc<Granted>, EconnectError>> {
        let policy = self.caps.policy.clone();
        match &granted(&policy.econnect, Capability::Econnect)?.grant {
            Some(g) => Ok(Ok(g.clone())),
            None => {
                let why = format!(
                    "connection {}: the {} has no econnect grant",
                    self.caps.call.connection, self.caps.call.role
                );
                tracing::warn!(component = %self.caps.call.component, "{why}");
                self.caps.limit_hit("econnect", &why).await?;
                Ok(Err(EconnectError::Denied(why)))
            }
        }
    }
}

impl Host for InstanceState {
    async fn execute(&mut self, document: String) -> anyhow::Result<Result<(), EconnectError>> {
        let g = match self.econnect_grant().await? {
            Ok(g) => g,
            Err(e) => return Ok(Err(e)),
        };
        if document.len() > MAX_DOCUMENT {
            return Ok(Err(EconnectError::Invalid(format!(
                "the document is {} bytes; the limit is {MAX_DOCUMENT}",
                document.len()
            ))));
        }
        let doc = match Document::parse(&document) {
            Ok(d) => d,
            Err(e) => return Ok(Err(to_wit(e))),
        };
        let call = &self.caps.call;
        tracing::debug!(connection = %call.connection, component = %call.component, target = %g.target, nodes = ?doc.nodes(), "econnect execute");
        let result = g.execute(&doc, document).await;
        if let Err(e) = &result {
            tracing::debug!(connection = %call.connection, target = %g.target, "econnect execute: {e}");
        }
        Ok(result.map_err(to_wit))
    }

    async fn query(&mut self, name: QueryName, params: Vec<String>) -> anyhow::Result<Result<Rows, EconnectError>> {
        let g = match self.econnect_grant().await? {
            Ok(g) => g,
            Err(e) => return Ok(Err(e)),
        };
        let q = query_name(name);
        let call = &self.caps.call;
        tracing::debug!(connection = %call.connection, component = %call.component, target = %g.target, query = %q, "econnect query");
        Ok(g.query(q, &params).await.map(|r| Rows { columns: r.columns, rows: r.rows }).map_err(to_wit))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn logins_split_at_the_first_colon() {
        assert_eq!(split_login("sa:p:w").unwrap(), ("sa".into(), "p:w".into()));
        assert_eq!(split_login("sa:").unwrap(), ("sa".into(), String::new()));
        assert!(split_login(":pw").is_err());
        assert!(split_login("nopassword").is_err());
    }
}
