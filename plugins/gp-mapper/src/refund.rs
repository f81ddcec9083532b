//! Chargebee refund or payment reversal (a payment record with a negative amount, as
//! chargebee-source marks them) → GP debit memo (RM document type 3), batch source RM_Sales,
//! plus one `apply` from each refundable credit memo it pays out (`credit-notes`) to the debit
//! memo — GP's own refund pattern (econnect-sql.md §5): the refund puts the money back on the
//! customer's account (receivables debit, cash credit) and the credit memo clears it. A
//! reversal without credit notes books the debit memo alone: the customer owes again.
//!
//! `map.refunds = debit_memo` (default); `error` parks the record for a person; `skip` books
//! nothing. The refund's own `allocations` (negative) are not used: the credit memo already
//! took the money off the invoices.

use crate::common::{Ledger, checked_sum, describe, money, present};
use crate::credit_note::gp_credit_memo_number;
use crate::customer::document_customer_id;
use crate::days::{day_or, local_day};
use crate::exchange::{currencies, exchange};
use crate::ids::{SALES_DOC_NUMBER_MAX, batch_id};
use crate::payment::cash_account;
use crate::settings::Settings;
use crate::wit::{Apply, BatchKey, Distribution, DistributionKind, DocKind, LedgerDoc, Payment, ReceivablesInvoice};
use crate::{MappingError, err};

pub const DEFAULT_BATCH: &str = "CB{YYMMDD}-DM";
pub const DEFAULT_DESCRIPTION: &str = "Refund {id}";

/// The GP number of the debit memo a Chargebee refund becomes (`map.debit_memo.prefix`/`.case`).
pub fn debit_memo_number(s: &Settings, refund_id: &str) -> Result<String, MappingError> {
    s.scheme("debit_memo", SALES_DOC_NUMBER_MAX)?.gp_id(refund_id).map_err(|m| err("payment.id", m))
}

fn choice(s: &Settings) -> Result<&'static str, MappingError> {
    s.choice("map.refunds", &["debit_memo", "error", "skip"])
}

pub fn map(p: &Payment, s: &Settings) -> Result<Vec<LedgerDoc>, MappingError> {
    let refund = -p.amount;
    match choice(s)? {
        "skip" => return Ok(Vec::new()),
        "error" => {
            return Err(err(
                "payment.amount",
                format!(
                    "refunds are not synced: transaction {} returns {}{} (book it in GP by hand, or set map.refunds = \"debit_memo\" or \"skip\")",
                    p.id,
                    money(refund, &p.currency),
                    present(&p.reference).map(|r| format!(" of {r}")).unwrap_or_default()
                ),
            ));
        }
        _ => {}
    }
    let date = local_day(s, p.timestamp, &p.date, "payment.date")?;
    let (iso, currency_id) = currencies(s, &p.currency, "payment.currency")?;
    let batch_key = "map.batch.debit_memo";
    let batch = batch_id(s.or(batch_key, DEFAULT_BATCH), &date, &currency_id).map_err(|m| err(batch_key, m))?;
    let vars = [
        ("id", p.id.as_str()),
        ("customer_id", p.customer_id.as_str()),
        ("method", p.method.as_str()),
        ("reference", present(&p.reference).unwrap_or("")),
    ];
    let memo = ReceivablesInvoice {
        number: debit_memo_number(s, &p.id)?,
        customer_id: document_customer_id(s, &p.customer_id, "payment.customer-id")?,
        customer_source_id: p.customer_id.clone(),
        batch: BatchKey { source: "RM_Sales".into(), id: batch },
        exchange: exchange(s, &iso, p.exchange_rate.as_deref(), &date, "payment.exchange-rate")?,
        date,
        distributions: distributions(s, &iso, refund)?,
        currency: iso,
        currency_id,
        sales: refund,
        trade_discount: 0,
        freight: 0,
        misc: 0,
        tax: 0,
        total: refund,
        description: describe(
            s.or("map.debit_memo.description", DEFAULT_DESCRIPTION),
            "map.debit_memo.description",
            &vars,
        )?,
        customer_po: None,
        tax_schedule: None,
        tax_details: Vec::new(),
    };
    let applies = credit_memo_applies(s, p, &memo)?;
    let mut docs = vec![LedgerDoc::DebitMemo(memo)];
    docs.extend(applies.into_iter().map(LedgerDoc::Apply));
    Ok(docs)
}

/// One apply per refundable credit memo the refund pays out, from it to the debit memo: links
/// to one credit note merged (dated by the latest), zero dropped, negatives refused, Σ ≤ the
/// refund.
fn credit_memo_applies(s: &Settings, p: &Payment, memo: &ReceivablesInvoice) -> Result<Vec<Apply>, MappingError> {
    // (credit memo number, amount, latest applied_at)
    let mut merged: Vec<(String, i64, i64)> = Vec::new();
    for (n, link) in p.credit_notes.iter().enumerate() {
        let field = format!("payment.credit-notes[{n}]");
        if link.amount < 0 {
            return Err(err(
                &format!("{field}.amount"),
                format!("is negative ({})", money(link.amount, &memo.currency)),
            ));
        }
        if link.amount == 0 {
            continue;
        }
        let number = gp_credit_memo_number(s, &link.credit_note_id, &format!("{field}.credit-note-id"))?;
        match merged.iter_mut().find(|m| m.0 == number) {
            Some(m) => {
                m.1 = checked_sum([m.1, link.amount], "payment.credit-notes")?;
                m.2 = m.2.max(link.applied_at);
            }
            None => merged.push((number, link.amount, link.applied_at)),
        }
    }
    let linked = checked_sum(merged.iter().map(|m| m.1), "payment.credit-notes")?;
    if linked > memo.total {
        return Err(err(
            "payment.credit-notes",
            format!(
                "the credit notes pay out {} but the refund is only {}",
                money(linked, &memo.currency),
                money(memo.total, &memo.currency)
            ),
        ));
    }
    merged
        .into_iter()
        .map(|(from_number, amount, applied_at)| {
            Ok(Apply {
                from_kind: DocKind::CreditMemo,
                from_number,
                to_kind: DocKind::DebitMemo,
                to_number: memo.number.clone(),
                customer_id: memo.customer_id.clone(),
                customer_source_id: p.customer_id.clone(),
                currency: memo.currency.clone(),
                amount,
                write_off: 0,
                date: day_or(s, applied_at, p.timestamp, &p.date, "payment.credit-notes")?,
            })
        })
        .collect()
}

/// Receivables debit / cash credit of the refund (explicit distributions; the cash account is
/// required then); none with `map.distributions = gp_default`.
fn distributions(s: &Settings, iso: &str, refund: i64) -> Result<Vec<Distribution>, MappingError> {
    if s.choice("map.distributions", &["explicit", "gp_default"])? == "gp_default" {
        return Ok(Vec::new());
    }
    let cash = cash_account(s, iso)?.ok_or_else(|| {
        err(
            "map.account.cash",
            format!(
                "a refund's debit memo credits cash: set map.account.cash.{iso} or map.account.cash (the checkbook's cash account)"
            ),
        )
    })?;
    let mut ledger = Ledger::default();
    ledger.debit(
        DistributionKind::Receivables,
        &s.account("map.account.receivables", "for the debit memo's receivables debit")?,
        refund,
        None,
    );
    ledger.credit(DistributionKind::Cash, &cash, refund, None);
    ledger.finish("payment.distributions", iso)
}

/// A refund voided or failed late: GP cannot void a debit memo through eConnect
/// (taRMVoidTransaction takes credit memos, returns and receipts only), so it is an error for
/// a person unless `map.payment.voided = skip` — or refunds are not booked (`map.refunds = skip`).
pub fn voided(p: &Payment, s: &Settings) -> Result<Vec<LedgerDoc>, MappingError> {
    if choice(s)? == "skip" || s.choice("map.payment.voided", &["void", "error", "skip"])? == "skip" {
        return Ok(Vec::new());
    }
    Err(err(
        "record.deleted",
        format!(
            "refund {} of {} was voided in Chargebee, and GP cannot void its debit memo {} through eConnect; reverse it in GP by hand (or set map.payment.voided = \"skip\")",
            p.id,
            money(-p.amount, &p.currency),
            debit_memo_number(s, &p.id)?
        ),
    ))
}

#[cfg(test)]
#[path = "refund_tests.rs"]
mod tests;
