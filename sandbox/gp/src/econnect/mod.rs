//! eConnect's receivables procedures and the read queries of docs/econnect.md on the emulated
//! company database: the [`Backend`]/[`Session`] the TDS endpoint (`crate::tds`) calls.
//!
//! A session is logged into one company database (its INTERID, e.g. `TWO`; `DYNAMICS` for the
//! system queries). Between `begin` and `commit`/`rollback` it holds one SQLite write
//! transaction; a procedure called outside one runs in its own. A procedure that refuses
//! (`@O_iErrorState` ≠ 0) rolls the whole transaction back, as eConnect's procedures do
//! (EC:bb625129: "on error stops, rolls back and returns the error"); the caller's
//! `IF @@TRANCOUNT > 0 ROLLBACK` then finds none open.

mod customers;
mod documents;
mod params;
mod queries;
mod settle;

use std::sync::Arc;

use async_trait::async_trait;

use crate::db::Tx;
use crate::model::Company;
use crate::rules::GpError;
use crate::service::{OpError, Service};
use crate::tds::backend::{Backend, Login, ProcOutcome, ResultSet, Session, SqlError, SqlValue};

pub use params::PROCEDURES;
pub use queries::texts as query_texts;

/// The system database's name.
pub const SYSTEM_DATABASE: &str = "DYNAMICS";

/// The SQL Server login the emulator accepts (SQL authentication only).
#[derive(Clone, PartialEq, Eq)]
pub struct SqlLogin {
    pub user: String,
    pub password: String,
}

impl SqlLogin {
    /// `mlc_econnect` with a fresh random password.
    pub fn generated() -> Self {
        SqlLogin { user: "mlc_econnect".into(), password: format!("Ec-{}", uuid::Uuid::new_v4().simple()) }
    }
}

impl std::fmt::Debug for SqlLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqlLogin({})", self.user)
    }
}

/// Logs SQL logins into the emulated company databases.
pub struct EconnectBackend {
    service: Arc<Service>,
    login: SqlLogin,
}

impl EconnectBackend {
    pub fn new(service: Arc<Service>, login: SqlLogin) -> Self {
        EconnectBackend { service, login }
    }

    /// A session without going through a login (tests, tools).
    pub async fn session(&self, database: &str) -> Result<EconnectSession, SqlError> {
        let company = self.company_for(database, &self.login.user).await?;
        Ok(EconnectSession { service: self.service.clone(), company, database: database.to_string(), tx: None })
    }

    async fn company_for(&self, database: &str, user: &str) -> Result<Company, SqlError> {
        let db = &self.service.db;
        let id = if database.eq_ignore_ascii_case(SYSTEM_DATABASE) {
            db.company_databases().await.map_err(internal)?.first().map(|c| c.0)
        } else {
            db.company_by_interid(database).await.map_err(internal)?
        };
        let company = match id {
            Some(id) => db.company(id).await.map_err(internal)?,
            None => None,
        };
        company.ok_or_else(|| SqlError {
            number: 4060,
            class: 11,
            state: 1,
            message: format!(
                "Cannot open database \"{database}\" requested by the login. The login failed. (user '{user}')"
            ),
        })
    }
}

#[async_trait]
impl Backend for EconnectBackend {
    async fn login(&self, login: &Login) -> Result<Box<dyn Session>, SqlError> {
        if login.user != self.login.user || login.password != self.login.password {
            let message = format!("Login failed for user '{}'.", login.user);
            return Err(SqlError { number: 18456, class: 14, state: 1, message });
        }
        let database = if login.database.is_empty() { self.default_database().await? } else { login.database.clone() };
        Ok(Box::new(self.session(&database).await.map_err(|mut e| {
            e.message = format!("Cannot open database \"{database}\" requested by the login. The login failed.");
            e
        })?))
    }
}

impl EconnectBackend {
    /// The login's default database: the first company's.
    async fn default_database(&self) -> Result<String, SqlError> {
        let all = self.service.db.company_databases().await.map_err(internal)?;
        Ok(all.into_iter().next().map(|c| c.1).unwrap_or_else(|| SYSTEM_DATABASE.to_string()))
    }
}

/// A SQL error for a failure of the emulator itself (SQL Server's 50000 range, class 16).
fn internal(e: impl std::fmt::Display) -> SqlError {
    SqlError { number: 50000, class: 16, state: 1, message: format!("GP sandbox database: {e}") }
}

/// One connection's state: its database, its company and its open transaction.
pub struct EconnectSession {
    service: Arc<Service>,
    company: Company,
    database: String,
    tx: Option<Tx>,
}

impl EconnectSession {
    async fn open(&self) -> Result<Tx, SqlError> {
        self.service.db.begin_write().await.map_err(internal)
    }

    /// Runs one procedure in `tx`; business refusals come back as the outcome.
    async fn run(&self, tx: &mut Tx, procedure: &str, params: &[(String, SqlValue)]) -> Result<ProcOutcome, SqlError> {
        let args = params::Args::parse(procedure, params)?;
        let ctx = Ctx { service: &self.service, company: &self.company };
        let result = match args.procedure {
            "taUpdateCreateCustomerRcd" => customers::customer(&ctx, tx, &args).await,
            "taCreateInternetAddresses" => customers::internet(&ctx, tx, &args).await,
            "taRMDistribution" => documents::distribution(&ctx, tx, &args).await,
            "taRMTransactionTaxInsert" => documents::tax(&ctx, tx, &args).await,
            "taRMTransaction" => documents::transaction(&ctx, tx, &args).await,
            "taRMCashReceiptInsert" => documents::cash_receipt(&ctx, tx, &args).await,
            "taRMApply" => settle::apply(&ctx, tx, &args).await,
            "taCreateUpdateBatchHeaderRcd" => settle::batch_header(&ctx, tx, &args).await,
            _ => settle::void(&ctx, tx, &args).await,
        };
        match result {
            Ok(()) => Ok(ProcOutcome { return_status: 0, error_state: 0, error_string: String::new() }),
            Err(OpError::Rejected(errors)) => Ok(outcome(&errors)),
            Err(OpError::System(e)) => Err(internal(e)),
        }
    }
}

/// The refusal as eConnect reports it: the first number in `@O_iErrorState` and RETURN, every
/// number in `@oErrString`.
fn outcome(errors: &[GpError]) -> ProcOutcome {
    let first = errors.first().map_or(0, |e| e.code() as i32);
    let numbers: Vec<String> = errors.iter().map(|e| e.code().to_string()).collect();
    ProcOutcome { return_status: first, error_state: first, error_string: numbers.join(" ") }
}

/// What a procedure works with.
pub(crate) struct Ctx<'a> {
    pub service: &'a Service,
    pub company: &'a Company,
}

#[async_trait]
impl Session for EconnectSession {
    fn database(&self) -> &str {
        &self.database
    }

    fn in_transaction(&self) -> bool {
        self.tx.is_some()
    }

    async fn begin(&mut self) -> Result<(), SqlError> {
        if self.tx.is_none() {
            self.tx = Some(self.open().await?);
        }
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), SqlError> {
        let Some(tx) = self.tx.take() else {
            let message = "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION.".to_string();
            return Err(SqlError { number: 3902, class: 16, state: 1, message });
        };
        tx.commit().await.map_err(internal)
    }

    async fn rollback(&mut self) -> Result<(), SqlError> {
        let Some(tx) = self.tx.take() else {
            let message = "The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.".to_string();
            return Err(SqlError { number: 3903, class: 16, state: 1, message });
        };
        tx.rollback().await.map_err(internal)
    }

    async fn use_database(&mut self, database: &str) -> Result<(), SqlError> {
        let backend = EconnectBackend { service: self.service.clone(), login: SqlLogin::generated() };
        self.company = backend.company_for(database, "").await?;
        self.database = database.to_string();
        Ok(())
    }

    async fn call(&mut self, procedure: &str, params: &[(String, SqlValue)]) -> Result<ProcOutcome, SqlError> {
        let (mut tx, own) = match self.tx.take() {
            Some(tx) => (tx, false),
            None => (self.open().await?, true),
        };
        let result = self.run(&mut tx, procedure, params).await;
        match &result {
            Ok(o) if o.error_state == 0 && own => tx.commit().await.map_err(internal)?,
            Ok(o) if o.error_state == 0 => self.tx = Some(tx),
            // A SQL-level error (unknown parameter…) leaves the caller's transaction open.
            Err(_) if !own => self.tx = Some(tx),
            // A refusal rolls the transaction back: nothing of it stays.
            _ => tx.rollback().await.map_err(internal)?,
        }
        result
    }

    async fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<ResultSet, SqlError> {
        let company = self.company.id;
        match self.tx.as_mut() {
            Some(tx) => queries::run(tx, company, sql, params).await,
            None => {
                let mut conn = self.service.db.acquire().await.map_err(internal)?;
                queries::run(&mut conn, company, sql, params).await
            }
        }
    }
}
