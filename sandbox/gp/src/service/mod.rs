//! The emulated GP business logic behind every endpoint: takes WSDL objects (as [`Node`]s),
//! applies GP's rules, writes the store, and returns WSDL objects.
//!
//! One module per GP area (customers, receivables documents, batches); SOAP, SBA and any later
//! endpoint call the same operations, so a rule lives in one place whatever the protocol.

mod batches;
mod criteria;
pub(crate) mod customer_setup;
mod customers;
mod documents;
mod members;
pub mod posting;
mod receivables;
pub(crate) mod settle;

use std::sync::Arc;

use crate::db::Db;
use crate::faults::Counters;
use crate::model::{Company, Currency, Customer};
use crate::node::Node;
use crate::objects;
use crate::rules::{GpError, RulesConfig};

/// How an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// Refused by GP's rules: a validation exception (SOAP) / 4xx (SBA).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Rejected(Vec<GpError>),
    /// Anything else: GP's generic system exception (SOAP) / 500 (SBA).
    #[error(transparent)]
    System(#[from] anyhow::Error),
}

impl From<GpError> for OpError {
    fn from(e: GpError) -> Self {
        OpError::Rejected(vec![e])
    }
}

impl From<sqlx::Error> for OpError {
    fn from(e: sqlx::Error) -> Self {
        OpError::System(anyhow::Error::new(e).context("GP sandbox database"))
    }
}

pub type OpResult<T> = Result<T, OpError>;

/// An apply as the caller sent it, before the amount is read in the document's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyRequest {
    /// APTODCTY: an invoice (1, the default) or a debit memo (3).
    pub to_type: crate::model::DocType,
    pub to_number: String,
    pub amount: String,
}

impl ApplyRequest {
    /// APTODCTY as sent in an extension (`None`: an invoice): 1 invoice, 3 debit memo.
    pub fn to_type_from(value: Option<&str>) -> Result<crate::model::DocType, GpError> {
        use crate::model::DocType;
        match value.map(str::trim) {
            None | Some("") | Some("1") => Ok(DocType::Invoice),
            Some("3") => Ok(DocType::DebitMemo),
            Some(other) => Err(GpError::Contract(format!(
                "APTODCTY {other:?} is not an apply-to document type the emulator stores: 1 invoice, 3 debit memo"
            ))),
        }
    }
}

pub struct Service {
    pub db: Db,
    pub rules: RulesConfig,
    pub counters: Arc<Counters>,
    /// Last write per batch (auto-post) and the posting pause hook; shared by every front end.
    pub activity: Arc<posting::BatchActivity>,
}

impl Service {
    pub async fn company(&self, id: i32) -> OpResult<Company> {
        self.db.company(id).await?.ok_or_else(|| GpError::CompanyMissing { company: id.to_string() }.into())
    }

    pub async fn company_by_name(&self, name: &str) -> OpResult<Company> {
        self.db.company_by_name(name).await?.ok_or_else(|| GpError::CompanyMissing { company: name.to_string() }.into())
    }

    pub async fn company_list(&self, criteria: Option<&Node>) -> OpResult<Node> {
        let all = self.db.companies().await?;
        let items = all
            .iter()
            .filter(|c| objects::string_restriction_matches(criteria.and_then(|c| c.get("Name")), &c.name))
            .filter(|c| criteria::int_restriction_matches(criteria.and_then(|c| c.get("Id")), c.id))
            .map(objects::company);
        Ok(Node::list("Company", items))
    }

    async fn currency_for_customer(&self, company: &Company, c: &Customer) -> OpResult<Option<Currency>> {
        let id = c.currency_id.as_deref().unwrap_or(&company.functional_currency);
        Ok(self.db.currency(company.id, id).await?)
    }
}
