//! Chargebee's side, read fresh: a backfill walk of the source (~records/100 calls), not our own
//! records table, so a record we never heard of shows up as missing. Each record goes through
//! the connection's mapper, so the expectation includes the tenant's mapping decisions
//! (skipped records, voids, refunds); a record the mapper carries to no document adds nothing.

use std::collections::{BTreeMap, BTreeSet};

use super::compare::Expectation;
use super::model::{ApplyLink, DocType, ExpectedDoc, RecordBalance, Report, Unmappable};
use crate::app::{App, Connection};
use crate::bindings::source::exports::ml_connector::plugin::source_api::{PollMode, PollRequest};
use crate::bindings::types::{LedgerDoc, RecordBody, RecordKind, SourceRecord};
use crate::call::{Scope, call_component};
use crate::keys::RecordKey;

/// Marks a customer the mapper left for the target to number (`?<Chargebee id>`) until the
/// number is known.
pub const UNRESOLVED: char = '?';

/// What the walk learnt.
#[derive(Debug, Default)]
pub struct Walk {
    pub expected: Expectation,
    /// Chargebee customer id → GP customer number, where the mapper named one.
    pub numbers: BTreeMap<String, String>,
    /// GP customers named by customer records (documents' customers are in `expected`).
    pub customers: BTreeSet<String>,
}

/// Every record, page by page, through the tenant's mapper.
pub async fn read(app: &App, conn: &Connection, report: &mut Report) -> anyhow::Result<Walk> {
    let id = conn.id();
    let settings: Vec<(String, String)> = conn.config.settings.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut walk = Walk::default();
    let mut cursor = None;
    loop {
        let request = PollRequest { mode: PollMode::Backfill, cursor: cursor.clone(), since: None, until: None };
        let page = call_component(app, id, &conn.source, Scope::default(), async |store, source| {
            source.ml_connector_plugin_source_api().call_poll(store, &request).await
        })
        .await?
        .map_err(|f| anyhow::anyhow!("reading Chargebee: {f}"))?
        .map_err(|e| anyhow::anyhow!("reading Chargebee: {e:?}"))?;
        let records: Vec<SourceRecord> = page.items.into_iter().filter_map(|i| i.fetched).collect();
        report.records_read += records.len();
        // One mapper instance per page, under the mapper's call limit.
        let mapped = call_component(app, id, &conn.mapper, Scope::default(), async |store, mapper| {
            let mut out = Vec::with_capacity(records.len());
            for rec in &records {
                out.push(mapper.ml_connector_plugin_mapper_api().call_map(&mut *store, rec, &settings).await?);
            }
            Ok(out)
        })
        .await?
        .map_err(|f| anyhow::anyhow!("mapping Chargebee's records: {f}"))?;
        for (rec, docs) in records.iter().zip(mapped) {
            let record = RecordKey::of_record(rec).to_string();
            match docs {
                Ok(docs) => walk.add(rec, &record, docs),
                Err(e) => report.unmappable.push(Unmappable { record, why: format!("{}: {}", e.field, e.message) }),
            }
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(walk),
        }
    }
}

/// A record's own figures: the document type that carries them, what that document should
/// have left unapplied, and what the record adds to its line.
struct Own {
    doc_type: DocType,
    remaining: i64,
    balance: RecordBalance,
}

/// Chargebee's figures of one record (voided, deleted records count zero).
fn own(rec: &SourceRecord) -> Option<Own> {
    let mut balance = RecordBalance::default();
    let (doc_type, remaining) = match &rec.body {
        RecordBody::Customer(_) => return None,
        RecordBody::Invoice(i) => {
            let gone = rec.deleted || i.status == "voided" || i.voided_at.is_some();
            balance.amount_due = if gone { 0 } else { i.amount_due };
            (DocType::Invoice, balance.amount_due)
        }
        RecordBody::Payment(p) if p.amount >= 0 => {
            let gone = rec.deleted || p.voided_at.is_some();
            let allocated: i64 = p.allocations.iter().map(|a| a.amount).sum();
            balance.unapplied_cash = if gone { 0 } else { p.amount - allocated };
            (DocType::CashReceipt, balance.unapplied_cash)
        }
        // A refund (or reversal): money paid back. What its credit notes do not cover is owed
        // back by the customer, as the debit memo's remainder.
        RecordBody::Payment(p) => {
            let gone = rec.deleted || p.voided_at.is_some();
            let covered: i64 = p.credit_notes.iter().map(|c| c.amount).sum();
            balance.amount_due = if gone { 0 } else { -p.amount - covered };
            (DocType::DebitMemo, balance.amount_due)
        }
        RecordBody::CreditNote(c) => {
            let allocated: i64 = c.allocations.iter().map(|a| a.amount).sum();
            balance.unused_credits = if rec.deleted { 0 } else { c.total - allocated - c.refunded };
            (DocType::CreditMemo, balance.unused_credits)
        }
    };
    Some(Own { doc_type, remaining, balance })
}

fn record_currency(rec: &SourceRecord) -> String {
    match &rec.body {
        RecordBody::Customer(c) => c.currency.clone().unwrap_or_default(),
        RecordBody::Invoice(i) => i.currency.clone(),
        RecordBody::Payment(p) => p.currency.clone(),
        RecordBody::CreditNote(c) => c.currency.clone(),
    }
}

/// The GP customer a document names, or `?<Chargebee id>` for the target to number.
fn customer_of(id: &str, source_id: &str) -> String {
    if id.is_empty() { format!("{UNRESOLVED}{source_id}") } else { id.to_string() }
}

impl Walk {
    /// What one record's documents add to the expectation.
    pub fn add(&mut self, rec: &SourceRecord, record: &str, docs: Vec<LedgerDoc>) {
        let own = own(rec);
        let mut own_taken = false;
        let mut line_customer: Option<String> = None;
        let currency = record_currency(rec);
        for d in docs {
            let (doc_type, number, customer, source_id, currency, amount) = match d {
                LedgerDoc::Customer(c) => {
                    if !c.id.is_empty() {
                        self.numbers.insert(c.source_id, c.id.clone());
                        self.customers.insert(c.id);
                    }
                    continue;
                }
                _ if rec.kind == RecordKind::Customer => continue,
                LedgerDoc::Invoice(i) => {
                    (DocType::Invoice, i.number, i.customer_id, i.customer_source_id, i.currency, i.total)
                }
                LedgerDoc::DebitMemo(i) => {
                    (DocType::DebitMemo, i.number, i.customer_id, i.customer_source_id, i.currency, i.total)
                }
                LedgerDoc::CashReceipt(r) => {
                    (DocType::CashReceipt, r.number, r.customer_id, r.customer_source_id, r.currency, r.amount)
                }
                LedgerDoc::CreditMemo(c) => {
                    (DocType::CreditMemo, c.number, c.customer_id, c.customer_source_id, c.currency, c.total)
                }
                LedgerDoc::Apply(a) => {
                    self.learn(&a.customer_id, &a.customer_source_id);
                    line_customer.get_or_insert_with(|| customer_of(&a.customer_id, &a.customer_source_id));
                    if let (Some(from), Some(to)) = (DocType::of(a.from_kind), DocType::of(a.to_kind)) {
                        self.expected.applies.push(ApplyLink { from: (from, a.from_number), to: (to, a.to_number) });
                    }
                    continue;
                }
                LedgerDoc::Void(v) => {
                    self.learn(&v.customer_id, &v.customer_source_id);
                    let customer = customer_of(&v.customer_id, &v.customer_source_id);
                    line_customer.get_or_insert_with(|| customer.clone());
                    let Some(doc_type) = DocType::of(v.kind) else { continue };
                    let doc = self.expected.docs.entry((doc_type, v.number.clone())).or_insert_with(|| ExpectedDoc {
                        doc_type,
                        number: v.number,
                        customer,
                        currency: currency.clone(),
                        amount: None,
                        remaining: None,
                        voided: true,
                        record: record.to_string(),
                    });
                    doc.voided = true;
                    doc.remaining = Some(0);
                    continue;
                }
            };
            self.learn(&customer, &source_id);
            let customer = customer_of(&customer, &source_id);
            line_customer.get_or_insert_with(|| customer.clone());
            // The record's own figures go to the first document of its type.
            let remaining = match &own {
                Some(o) if o.doc_type == doc_type && !own_taken => {
                    own_taken = true;
                    Some(o.remaining)
                }
                _ => None,
            };
            let doc = self.expected.docs.entry((doc_type, number.clone())).or_insert_with(|| ExpectedDoc {
                doc_type,
                number,
                customer: customer.clone(),
                currency: String::new(),
                amount: None,
                remaining: None,
                voided: false,
                record: record.to_string(),
            });
            doc.customer = customer;
            doc.currency = currency;
            doc.amount = Some(amount);
            doc.remaining = if doc.voided { Some(0) } else { remaining.or(doc.remaining) };
        }
        if let (Some(own), Some(customer)) = (own, line_customer) {
            self.expected.balances.push(RecordBalance { customer, currency, ..own.balance });
        }
    }

    fn learn(&mut self, id: &str, source_id: &str) {
        if !id.is_empty() && !source_id.is_empty() {
            self.numbers.entry(source_id.to_string()).or_insert_with(|| id.to_string());
        }
    }

    /// Chargebee customers still without a GP number, each with the documents that could
    /// name it (for a look-up in GP).
    pub fn unresolved(&self) -> BTreeMap<String, Vec<(DocType, String)>> {
        let mut out: BTreeMap<String, Vec<(DocType, String)>> = BTreeMap::new();
        for d in self.expected.docs.values() {
            if let Some(source_id) = d.customer.strip_prefix(UNRESOLVED)
                && !self.numbers.contains_key(source_id)
            {
                out.entry(source_id.to_string()).or_default().push((d.doc_type, d.number.clone()));
            }
        }
        out
    }

    /// Replaces `?<Chargebee id>` by the GP number wherever it is known now; the GP customers
    /// to read.
    pub fn resolve(&mut self) -> BTreeSet<String> {
        let number = |c: &mut String, numbers: &BTreeMap<String, String>| {
            if let Some(n) = c.strip_prefix(UNRESOLVED).and_then(|s| numbers.get(s)) {
                *c = n.clone();
            }
        };
        for d in self.expected.docs.values_mut() {
            number(&mut d.customer, &self.numbers);
        }
        for b in &mut self.expected.balances {
            number(&mut b.customer, &self.numbers);
        }
        let named =
            self.expected.docs.values().map(|d| &d.customer).chain(self.expected.balances.iter().map(|b| &b.customer));
        let mut customers = self.customers.clone();
        customers.extend(named.filter(|c| !c.starts_with(UNRESOLVED)).cloned());
        customers
    }
}
