//! Reconciliation: per connection, GP customer and currency, what Chargebee says GP should hold
//! against what GP holds, listing every difference with the record behind it.
//!
//! The Chargebee side is read fresh (a backfill walk of the source, ~records/100 calls), not
//! from our own records table, so a record we never heard of shows up as missing. Each record
//! goes through the connection's mapper, so the expectation includes the tenant's mapping
//! decisions (skipped voids, pending invoices, refunds). The GP side comes from the target's
//! `list-documents` per customer. Nothing is written anywhere.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt;

use crate::app::{App, Connection};
use crate::bindings::source::exports::ml_connector::plugin::source_api::{PollMode, PollRequest};
use crate::bindings::target::exports::ml_connector::plugin::target_api::LedgerBalance;
use crate::bindings::types::{DocKind, LedgerDoc, RecordBody, RecordKind, SourceRecord};
use crate::call::{Scope, call_component};
use crate::keys::RecordKey;

/// Totals of one (GP customer, currency).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub invoiced: i64,
    pub credited: i64,
    pub paid: i64,
    /// Unpaid invoice amounts (Chargebee amount_due; GP's current document amount).
    pub open: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub customer: String,
    pub currency: String,
    pub chargebee: Totals,
    pub gp: Totals,
}

/// One document that does not match, and the Chargebee record behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub customer: String,
    pub currency: String,
    pub number: String,
    pub record: Option<String>,
    pub what: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub lines: Vec<Line>,
    pub differences: Vec<Difference>,
    pub records_read: usize,
    /// Records the mapper refused (they are parked in the pipeline too).
    pub unmappable: Vec<(String, String)>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty() && self.lines.iter().all(|l| l.chargebee == l.gp)
    }

    pub fn print(&self) {
        println!(
            "{:<16} {:<4} {:>14} {:>14} {:>14} {:>14}",
            "GP customer", "cur", "invoiced", "credited", "paid", "open"
        );
        for l in &self.lines {
            let mark = if l.chargebee == l.gp { "ok" } else { "DIFFERS" };
            let fmt = |v: i64| ml_connector_sdk::money::to_decimal(v, &l.currency);
            println!(
                "{:<16} {:<4} {:>14} {:>14} {:>14} {:>14}   {mark}",
                l.customer,
                l.currency,
                fmt(l.chargebee.invoiced),
                fmt(l.chargebee.credited),
                fmt(l.chargebee.paid),
                fmt(l.chargebee.open)
            );
            if l.chargebee != l.gp {
                println!(
                    "{:<16} {:<4} {:>14} {:>14} {:>14} {:>14}   (GP)",
                    "",
                    "",
                    fmt(l.gp.invoiced),
                    fmt(l.gp.credited),
                    fmt(l.gp.paid),
                    fmt(l.gp.open)
                );
            }
        }
        for d in &self.differences {
            println!(
                "  difference {} {} {}: {} (record {})",
                d.customer,
                d.currency,
                d.number,
                d.what,
                d.record.as_deref().unwrap_or("none")
            );
        }
        for (r, why) in &self.unmappable {
            println!("  not mappable: {r}: {why}");
        }
    }
}

/// Expected document: (kind, customer, currency, amount, open, record).
struct Expected {
    kind: DocKind,
    customer: String,
    currency: String,
    amount: i64,
    open: Option<i64>,
    record: String,
}

pub async fn run(app: &App, conn: &Connection) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let (expected, customers) = read_chargebee(app, conn, &mut report).await?;
    let held = read_gp(app, conn, &customers).await?;
    compare(&mut report, &expected, &held);
    Ok(report)
}

/// Chargebee, fresh: every record through the tenant's mapper → the documents GP should hold,
/// and every GP customer they name.
async fn read_chargebee(
    app: &App,
    conn: &Connection,
    report: &mut Report,
) -> anyhow::Result<(BTreeMap<String, Expected>, BTreeSet<String>)> {
    let id = conn.id();
    let settings: Vec<(String, String)> = conn.config.settings.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut expected = BTreeMap::new();
    let mut customers = BTreeSet::new();
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
            let rkey = RecordKey::of_record(rec).to_string();
            match docs {
                Ok(docs) => expect(rec, &rkey, docs, &mut expected, &mut customers),
                Err(e) => report.unmappable.push((rkey, format!("{}: {}", e.field, e.message))),
            }
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok((expected, customers)),
        }
    }
}

/// What one record's documents add to the expectation.
fn expect(
    rec: &SourceRecord,
    rkey: &str,
    docs: Vec<LedgerDoc>,
    expected: &mut BTreeMap<String, Expected>,
    customers: &mut BTreeSet<String>,
) {
    let open = match &rec.body {
        RecordBody::Invoice(i) => Some(i.amount_due),
        _ => None,
    };
    for d in docs {
        let (kind, number, customer, currency, amount) = match d {
            LedgerDoc::Customer(c) => {
                customers.insert(c.id);
                continue;
            }
            LedgerDoc::Invoice(i) => (DocKind::Invoice, i.number, i.customer_id, i.currency, i.total),
            LedgerDoc::CreditMemo(c) => (DocKind::CreditMemo, c.number, c.customer_id, c.currency, c.total),
            LedgerDoc::CashReceipt(r) => (DocKind::CashReceipt, r.number, r.customer_id, r.currency, r.amount),
            LedgerDoc::DebitMemo(d) => (DocKind::DebitMemo, d.number, d.customer_id, d.currency, d.total),
            LedgerDoc::Apply(_) | LedgerDoc::Void(_) => continue,
        };
        if rec.kind == RecordKind::Customer {
            continue;
        }
        customers.insert(customer.clone());
        let open = if kind == DocKind::Invoice { open } else { None };
        expected.insert(number, Expected { kind, customer, currency, amount, open, record: rkey.to_string() });
    }
}

/// GP, per customer, as many at once as the connection's pacing allows (the target's
/// connection pool holds GP to that anyway; one at a time would leave it idle).
async fn read_gp(
    app: &App,
    conn: &Connection,
    customers: &BTreeSet<String>,
) -> anyhow::Result<BTreeMap<String, LedgerBalance>> {
    let id = conn.id();
    let mut held: BTreeMap<String, LedgerBalance> = BTreeMap::new();
    let reads = futures_util::stream::iter(customers.iter().cloned())
        .map(|customer| async move {
            call_component(app, id, &conn.target, Scope::default(), async |store, target| {
                target.ml_connector_plugin_target_api().call_list_documents(store, &customer).await
            })
            .await?
            .map_err(|f| anyhow::anyhow!("reading GP documents of {customer}: {f}"))?
            .map_err(|e| anyhow::anyhow!("reading GP documents of {customer}: {e:?}"))
        })
        .buffer_unordered(usize::try_from(conn.config.max_in_flight).unwrap_or(1).max(1));
    futures_util::pin_mut!(reads);
    while let Some(docs) = reads.next().await {
        for d in docs? {
            held.insert(d.number.clone(), d);
        }
    }
    Ok(held)
}

fn compare(report: &mut Report, expected: &BTreeMap<String, Expected>, held: &BTreeMap<String, LedgerBalance>) {
    // Totals and per-document differences.
    let add = |lines: &mut BTreeMap<(String, String), Line>,
               customer: &str,
               currency: &str,
               gp: bool,
               kind: DocKind,
               amount: i64,
               open: i64| {
        let l = lines.entry((customer.to_string(), currency.to_string())).or_insert_with(|| Line {
            customer: customer.into(),
            currency: currency.into(),
            chargebee: Totals::default(),
            gp: Totals::default(),
        });
        let t = if gp { &mut l.gp } else { &mut l.chargebee };
        match kind {
            DocKind::Invoice => {
                t.invoiced += amount;
                t.open += open;
            }
            DocKind::DebitMemo => t.invoiced += amount,
            DocKind::CreditMemo => t.credited += amount,
            DocKind::CashReceipt => t.paid += amount,
            DocKind::Customer => {}
        }
    };
    let mut lines: BTreeMap<(String, String), Line> = BTreeMap::new();
    for (number, e) in expected {
        add(&mut lines, &e.customer, &e.currency, false, e.kind, e.amount, e.open.unwrap_or(0));
        match held.get(number) {
            None => report.differences.push(Difference {
                customer: e.customer.clone(),
                currency: e.currency.clone(),
                number: number.clone(),
                record: Some(e.record.clone()),
                what: "missing in GP".into(),
            }),
            Some(h) => {
                if h.amount != e.amount || !h.currency.eq_ignore_ascii_case(&e.currency) || h.customer_id != e.customer
                {
                    report.differences.push(Difference {
                        customer: e.customer.clone(),
                        currency: e.currency.clone(),
                        number: number.clone(),
                        record: Some(e.record.clone()),
                        what: format!(
                            "GP holds {} {} for {}, Chargebee says {} {} for {}",
                            h.amount, h.currency, h.customer_id, e.amount, e.currency, e.customer
                        ),
                    });
                }
                if let Some(open) = e.open
                    && h.kind == DocKind::Invoice
                    && h.remaining != open
                {
                    report.differences.push(Difference {
                        customer: e.customer.clone(),
                        currency: e.currency.clone(),
                        number: number.clone(),
                        record: Some(e.record.clone()),
                        what: format!("open amount: GP {}, Chargebee {}", h.remaining, open),
                    });
                }
            }
        }
    }
    for (number, h) in held {
        add(
            &mut lines,
            &h.customer_id,
            &h.currency,
            true,
            h.kind,
            h.amount,
            if h.kind == DocKind::Invoice { h.remaining } else { 0 },
        );
        if !expected.contains_key(number) {
            report.differences.push(Difference {
                customer: h.customer_id.clone(),
                currency: h.currency.clone(),
                number: number.clone(),
                record: None,
                what: "in GP but not expected from Chargebee".into(),
            });
        }
    }
    report.lines = lines.into_values().collect();
}
