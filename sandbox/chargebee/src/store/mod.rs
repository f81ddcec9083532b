//! One site's billing data and the mutations that change it the way Chargebee does: every
//! change bumps `resource_version` (ms, strictly increasing per site) and `updated_at`, and
//! appends an event whose `content` is a snapshot of the resources as of that change.
//!
//! This module holds the site's records, ids and versions; each resource's mutations live in
//! their own submodule.

mod credit_notes;
mod customers;
mod events;
mod inputs;
mod invoices;
mod payments;
mod refunds;
mod reversals;

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::model::*;

pub use inputs::*;
pub use reversals::PaymentReversal;

/// What went wrong with a [`crate::Control`] mutation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error("no site named {0:?} in this sandbox")]
    UnknownSite(String),
    #[error("no {kind} with id {id:?}")]
    NotFound { kind: &'static str, id: String },
    #[error("{0}")]
    Invalid(String),
}

const ID_ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Which resource list an id belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Customer,
    Invoice,
    Transaction,
    CreditNote,
    Event,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Customer => "customer",
            Kind::Invoice => "invoice",
            Kind::Transaction => "transaction",
            Kind::CreditNote => "credit_note",
            Kind::Event => "event",
        }
    }
}

/// All data of one site. Records keep their creation order (`seq` = index), which is the
/// default list order and the tie-breaker of every sort.
pub struct SiteData {
    pub customers: Vec<Customer>,
    pub invoices: Vec<Invoice>,
    pub transactions: Vec<Transaction>,
    pub credit_notes: Vec<CreditNote>,
    pub events: Vec<Event>,
    index: HashMap<(Kind, String), usize>,
    next_invoice_number: u64,
    next_credit_note_number: u64,
    last_version: i64,
    rng: StdRng,
    /// `source` of the events this site appends next.
    pub event_source: String,
}

fn round_half_up_div(n: i64, d: i64) -> i64 {
    // n ≥ 0, d > 0 in every caller: amounts here are never negative.
    (n * 2 + d) / (d * 2)
}

fn snapshot<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl SiteData {
    pub fn new(seed: u64) -> Self {
        SiteData {
            customers: Vec::new(),
            invoices: Vec::new(),
            transactions: Vec::new(),
            credit_notes: Vec::new(),
            events: Vec::new(),
            index: HashMap::new(),
            next_invoice_number: 1001,
            next_credit_note_number: 1,
            last_version: 0,
            rng: StdRng::seed_from_u64(seed),
            event_source: "api".into(),
        }
    }

    pub(super) fn random_id(&mut self, prefix: &str) -> String {
        let mut s = String::from(prefix);
        for _ in 0..16 {
            let i = self.rng.random_range(0..ID_ALPHABET.len());
            s.push(char::from(ID_ALPHABET[i]));
        }
        s
    }

    /// Strictly increasing per site, so two changes never share a resource_version.
    pub(super) fn next_version(&mut self, at_ms: i64) -> (i64, i64) {
        let v = at_ms.max(self.last_version + 1);
        self.last_version = v;
        (v, v.div_euclid(1000))
    }

    pub fn find(&self, kind: Kind, id: &str) -> Option<usize> {
        self.index.get(&(kind, id.to_string())).copied()
    }

    pub(super) fn need(&self, kind: Kind, id: &str) -> Result<usize, SandboxError> {
        self.find(kind, id).ok_or_else(|| SandboxError::NotFound { kind: kind.noun(), id: id.into() })
    }

    pub(super) fn customer_of(&self, customer_id: &str) -> Option<Customer> {
        self.find(Kind::Customer, customer_id).map(|i| self.customers[i].clone())
    }
}

fn check_currency(code: &str) -> Result<(), SandboxError> {
    minor_unit_exponent(code)
        .map(|_| ())
        .ok_or_else(|| SandboxError::Invalid(format!("currency {code:?} is not one the sandbox knows")))
}
