//! Chargebee payment (a successful transaction) → GP cash receipt, batch source RM_Cash, written
//! unapplied, plus one `apply` per invoice it paid (see [`crate::apply`]); apply targets use the
//! invoice numbering scheme, so they name exactly the documents the invoice mapping produced.
//! A refund (negative amount) is [`crate::refund`]'s; a voided or late-failed payment (a deleted
//! record) voids its receipt ([`void`]).

use crate::apply::{From, Part, applies};
use crate::common::{CHECK_NUMBER_MAX, Ledger, describe, money, present, truncate};
use crate::customer::document_customer_id;
use crate::days::local_day;
use crate::exchange::{currencies, exchange};
use crate::ids::{RECEIPT_NUMBER_MAX, batch_id};
use crate::invoice::gp_invoice_number;
use crate::settings::Settings;
use crate::wit::{
    BatchKey, CashReceipt, Distribution, DistributionKind, DocKind, LedgerDoc, Payment, ReceiptType, VoidDoc,
};
use crate::{MappingError, err};

pub const DEFAULT_BATCH: &str = "CB{YYMMDD}-PMT";
pub const DEFAULT_DESCRIPTION: &str = "Chargebee {id}";

/// The GP number of the cash receipt a Chargebee payment becomes.
pub fn receipt_number(s: &Settings, p: &Payment) -> Result<String, MappingError> {
    s.scheme("receipt", RECEIPT_NUMBER_MAX)?.gp_id(&p.id).map_err(|m| err("payment.id", m))
}

pub fn map(p: &Payment, s: &Settings) -> Result<Vec<LedgerDoc>, MappingError> {
    // chargebee-source marks refunds and reversals with a negative amount.
    if p.amount < 0 {
        return crate::refund::map(p, s);
    }
    let date = local_day(s, p.timestamp, &p.date, "payment.date")?;
    let (iso, currency_id) = currencies(s, &p.currency, "payment.currency")?;
    let batch_key = "map.batch.receipt";
    let batch = batch_id(s.or(batch_key, DEFAULT_BATCH), &date, &currency_id).map_err(|m| err(batch_key, m))?;
    let receipt_type = receipt_type(s, &p.method)?;
    let card_name = match receipt_type {
        ReceiptType::PaymentCard => Some(s.card_name(present(&p.card_brand))?),
        _ => None,
    };
    let reference = present(&p.reference).unwrap_or("");
    let vars = [
        ("id", p.id.as_str()),
        ("customer_id", p.customer_id.as_str()),
        ("method", p.method.as_str()),
        ("reference", reference),
    ];
    let receipt = CashReceipt {
        number: receipt_number(s, p)?,
        customer_id: document_customer_id(s, &p.customer_id, "payment.customer-id")?,
        customer_source_id: p.customer_id.clone(),
        batch: BatchKey { source: "RM_Cash".into(), id: batch },
        exchange: exchange(s, &iso, p.exchange_rate.as_deref(), &date, "payment.exchange-rate")?,
        date,
        checkbook: s.checkbook(&iso)?,
        distributions: distributions(s, &iso, p.amount)?,
        currency: iso,
        currency_id,
        amount: p.amount,
        receipt_type,
        check_card_number: present(&p.reference).map(|r| truncate(r, CHECK_NUMBER_MAX)),
        card_name,
        description: describe(s.or("map.receipt.description", DEFAULT_DESCRIPTION), "map.receipt.description", &vars)?,
    };
    let from = From {
        kind: DocKind::CashReceipt,
        number: receipt.number.clone(),
        customer_id: receipt.customer_id.clone(),
        customer_source_id: &p.customer_id,
        currency: &receipt.currency,
        instant: p.timestamp,
        utc_day: &p.date,
    };
    let parts: Vec<Part> = p
        .allocations
        .iter()
        .map(|a| Part { target: &a.invoice_id, amount: a.amount, applied_at: a.applied_at })
        .collect();
    let to_invoice = |id: &str, f: &str| gp_invoice_number(s, id, &format!("{f}.invoice-id"));
    let applies = applies(s, &from, DocKind::Invoice, &parts, to_invoice, "payment.allocations", p.amount)?;
    let mut docs = vec![LedgerDoc::CashReceipt(receipt)];
    docs.extend(applies.into_iter().map(LedgerDoc::Apply));
    Ok(docs)
}

/// A payment voided or failed late in Chargebee (the record is deleted): `map.payment.voided`
/// = `void` (default) voids its cash receipt in GP, dated `voided-at` (else the payment's own
/// instant); `error` parks it for a person; `skip` leaves GP as it is. A refund's debit memo
/// cannot be voided in GP (taRMVoidTransaction takes credit documents only), see
/// [`crate::refund::voided`].
pub fn void(p: &Payment, s: &Settings) -> Result<Vec<LedgerDoc>, MappingError> {
    if p.amount < 0 {
        return crate::refund::voided(p, s);
    }
    let what = || {
        format!(
            "payment {} of {} was voided or failed after it succeeded in Chargebee",
            p.id,
            money(p.amount, &p.currency)
        )
    };
    match s.choice("map.payment.voided", &["void", "error", "skip"])? {
        "skip" => Ok(Vec::new()),
        "error" => Err(err(
            "record.deleted",
            format!("{}; void its cash receipt in GP, or set map.payment.voided = \"void\"", what()),
        )),
        _ => {
            let instant = p.voided_at.unwrap_or(p.timestamp);
            Ok(vec![LedgerDoc::Void(VoidDoc {
                kind: DocKind::CashReceipt,
                number: receipt_number(s, p)?,
                customer_id: document_customer_id(s, &p.customer_id, "payment.customer-id")?,
                customer_source_id: p.customer_id.clone(),
                date: local_day(s, instant, &p.date, "payment.voided-at")?,
                description: Some(truncate(&format!("Chargebee void {}", p.id), crate::common::DESCRIPTION_MAX)),
            })])
        }
    }
}

/// The cash account of `iso` money: `map.account.cash.<ISO>`, else `map.account.cash`.
pub fn cash_account(s: &Settings, iso: &str) -> Result<Option<String>, MappingError> {
    match s.account_opt(&format!("map.account.cash.{iso}"))? {
        Some(a) => Ok(Some(a)),
        None => s.account_opt("map.account.cash"),
    }
}

/// Cash debit / receivables credit of the amount, when distributions are explicit and a cash
/// account is set ([`cash_account`]); otherwise none, and GP takes the checkbook's cash account
/// and the customer's receivables account.
fn distributions(s: &Settings, iso: &str, amount: i64) -> Result<Vec<Distribution>, MappingError> {
    if s.choice("map.distributions", &["explicit", "gp_default"])? == "gp_default" {
        return Ok(Vec::new());
    }
    let Some(cash) = cash_account(s, iso)? else {
        return Ok(Vec::new());
    };
    let mut ledger = Ledger::default();
    ledger.debit(DistributionKind::Cash, &cash, amount, None);
    ledger.credit(
        DistributionKind::Receivables,
        &s.account("map.account.receivables", "for the receipt's receivables credit (map.account.cash is set)")?,
        amount,
        None,
    );
    ledger.finish("payment.distributions", iso)
}

/// `map.receipt_type.<method>`, else card → payment card, check → check, else
/// `map.receipt_type.default` (cash).
fn receipt_type(s: &Settings, method: &str) -> Result<ReceiptType, MappingError> {
    let per_method = format!("map.receipt_type.{method}");
    let (key, value) = match s.get(&per_method) {
        Some(v) => (per_method.as_str(), v),
        None => match method {
            "card" => return Ok(ReceiptType::PaymentCard),
            "check" => return Ok(ReceiptType::Check),
            _ => ("map.receipt_type.default", s.or("map.receipt_type.default", "cash")),
        },
    };
    match value {
        "check" => Ok(ReceiptType::Check),
        "cash" => Ok(ReceiptType::Cash),
        "payment-card" => Ok(ReceiptType::PaymentCard),
        other => Err(err(key, format!("{other:?} is not one of check, cash, payment-card"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use crate::wit::{Allocation, Apply};

    fn docs(p: Payment, settings: Vec<(String, String)>) -> Result<Vec<LedgerDoc>, MappingError> {
        map(&p, &Settings::parse(&settings).expect("settings"))
    }

    /// The receipt and its applies.
    fn gp(p: Payment, settings: Vec<(String, String)>) -> Result<(CashReceipt, Vec<Apply>), MappingError> {
        let mut out = docs(p, settings)?.into_iter();
        let Some(LedgerDoc::CashReceipt(r)) = out.next() else { panic!("expected a cash receipt first") };
        let applies = out.map(|d| if let LedgerDoc::Apply(a) = d { a } else { panic!("{d:?}") }).collect();
        Ok((r, applies))
    }

    #[test]
    fn maps_every_field_and_applies_apart_to_the_invoice_numbers() {
        let (r, applies) = gp(payment(), settings()).expect("maps");
        assert_eq!(r.number, "TXN_AZZLGJ.81HLZ8LKF");
        assert_eq!(r.customer_id, "ACME-001");
        assert_eq!((r.batch.source.as_str(), r.batch.id.as_str()), ("RM_Cash", "CB231115-PMT"));
        assert_eq!((r.date.as_str(), r.currency.as_str(), r.amount), ("2023-11-15", "USD", 11_435));
        assert_eq!(r.checkbook, "FIRST NATIONAL");
        assert_eq!(r.receipt_type, ReceiptType::PaymentCard);
        assert_eq!(r.check_card_number.as_deref(), Some("ch_3NkTqs2eZvKYlo2C"));
        assert_eq!(r.description.as_deref(), Some("Chargebee txn_AzZlGJSqHd1Xc2Ae"));
        let a = &applies[0];
        assert_eq!(
            (a.from_kind, a.from_number.as_str(), a.to_kind),
            (DocKind::CashReceipt, r.number.as_str(), DocKind::Invoice)
        );
        assert_eq!((a.amount, a.write_off, a.date.as_str(), a.currency.as_str()), (11_435, 0, "2023-11-15", "USD"));
        assert_eq!((a.customer_id.as_str(), a.customer_source_id.as_str()), ("ACME-001", "ACME-001"));
        // The apply names what the invoice mapping produced for the same settings.
        let s = with(settings(), &[("map.invoice.prefix", "CB")]);
        let (_, applies) = gp(payment(), s.clone()).expect("maps");
        let inv = Settings::parse(&s).expect("settings");
        let number = match crate::invoice::map(&invoice(), &inv).expect("invoice").pop() {
            Some(LedgerDoc::Invoice(i)) => i.number,
            other => panic!("{other:?}"),
        };
        assert_eq!(applies.len(), 1);
        assert_eq!((applies[0].to_number.as_str(), number.as_str()), ("CB1001", "CB1001"));
    }

    #[test]
    fn local_days_for_the_receipt_batch_and_applies() {
        // Paid 2024-11-30 23:00 PST; applied to one invoice then, to another Dec 1 23:00 PST.
        let mut p = payment();
        p.timestamp = 1_733_036_400;
        p.date = "2024-12-01".into();
        p.allocations = vec![
            Allocation { invoice_id: "1001".into(), amount: 11_000, applied_at: 0 },
            Allocation { invoice_id: "1002".into(), amount: 435, applied_at: 1_733_122_800 },
        ];
        let s = with(settings(), &[("map.timezone", "America/Los_Angeles")]);
        let (r, applies) = gp(p.clone(), s).expect("maps");
        assert_eq!((r.date.as_str(), r.batch.id.as_str()), ("2024-11-30", "CB241130-PMT"));
        let dates: Vec<_> = applies.iter().map(|a| (a.to_number.as_str(), a.date.as_str())).collect();
        assert_eq!(dates, [("1001", "2024-11-30"), ("1002", "2024-12-01")]);
        let (r, _) = gp(p, settings()).expect("maps");
        assert_eq!(r.date, "2024-12-01", "UTC by default");
    }

    #[test]
    fn receipt_types_by_method() {
        let ty = |method: &str, extra: &[(&str, &str)]| {
            let mut p = payment();
            p.method = method.into();
            gp(p, with(settings(), extra)).map(|(r, _)| r.receipt_type)
        };
        assert_eq!(ty("check", &[]).expect("ok"), ReceiptType::Check);
        assert_eq!(ty("bank_transfer", &[]).expect("ok"), ReceiptType::Cash);
        assert_eq!(ty("bank_transfer", &[("map.receipt_type.default", "check")]).expect("ok"), ReceiptType::Check);
        assert_eq!(
            ty("apple_pay", &[("map.receipt_type.apple_pay", "payment-card")]).expect("ok"),
            ReceiptType::PaymentCard
        );
        assert_eq!(ty("card", &[("map.receipt_type.card", "cash")]).expect("ok"), ReceiptType::Cash);
        assert_eq!(
            ty("paypal", &[("map.receipt_type.paypal", "wallet")]).expect_err("bad").field,
            "map.receipt_type.paypal"
        );
    }

    #[test]
    fn checkbook_per_currency_and_missing() {
        let mut p = payment();
        p.currency = "EUR".into();
        let s = with(settings(), &[("map.checkbook.EUR", "EURO BANK"), ("map.currency.EUR", "Z-EUR")]);
        let (r, _) = gp(p.clone(), s).expect("maps");
        assert_eq!((r.checkbook.as_str(), r.currency.as_str(), r.currency_id.as_str()), ("EURO BANK", "EUR", "Z-EUR"));
        assert_eq!(gp(p, without(settings(), "map.checkbook")).expect_err("missing").field, "map.checkbook");
    }

    #[test]
    fn applies_merge_drop_zero_and_never_exceed_the_amount() {
        let mut p = payment();
        p.amount = 5_000;
        let alloc = |id: &str, amount| Allocation { invoice_id: id.into(), amount, applied_at: 0 };
        p.allocations = vec![alloc("1001", 1_000), alloc("1002", 0), alloc("1001", 2_000), alloc("1003", 2_000)];
        let (_, applies) = gp(p.clone(), settings()).expect("maps");
        let got: Vec<_> = applies.iter().map(|a| (a.to_number.as_str(), a.amount)).collect();
        assert_eq!(got, [("1001", 3_000), ("1003", 2_000)]);
        p.allocations[3].amount = 2_001;
        assert_eq!(gp(p.clone(), settings()).expect_err("over").field, "payment.allocations");
        p.allocations[3].amount = -1;
        assert_eq!(gp(p, settings()).expect_err("negative").field, "payment.allocations[3].amount");
    }

    #[test]
    fn a_voided_payment_voids_its_receipt_on_the_local_void_day() {
        let mut p = payment();
        p.voided_at = Some(1_733_036_400); // 2024-11-30 23:00 PST
        let s = Settings::parse(&with(settings(), &[("map.timezone", "America/Los_Angeles")])).expect("settings");
        let [LedgerDoc::Void(v)] = &void(&p, &s).expect("voids")[..] else { panic!("one void") };
        assert_eq!(
            (v.kind, v.number.as_str(), v.date.as_str()),
            (DocKind::CashReceipt, "TXN_AZZLGJ.81HLZ8LKF", "2024-11-30")
        );
        assert_eq!((v.customer_id.as_str(), v.customer_source_id.as_str()), ("ACME-001", "ACME-001"));
        assert_eq!(v.description.as_deref(), Some("Chargebee void txn_AzZlGJSqHd1"));
        // No voided-at (a late failure Chargebee did not stamp): the payment's own day.
        p.voided_at = None;
        let [LedgerDoc::Void(v)] = &void(&p, &s).expect("voids")[..] else { panic!("one void") };
        assert_eq!(v.date, "2023-11-15");
        let e = void(&p, &Settings::parse(&with(settings(), &[("map.payment.voided", "error")])).expect("s"));
        assert_eq!(e.expect_err("parks").field, "record.deleted");
        let skip = Settings::parse(&with(settings(), &[("map.payment.voided", "skip")])).expect("s");
        assert!(void(&p, &skip).expect("skips").is_empty());
        let bad = Settings::parse(&with(settings(), &[("map.payment.voided", "delete")])).expect("s");
        assert_eq!(void(&p, &bad).expect_err("strict").field, "map.payment.voided");
    }

    #[test]
    fn jpy_amounts_pass_unscaled() {
        let mut p = payment();
        p.currency = "JPY".into();
        p.amount = 10_998;
        p.allocations = vec![Allocation { invoice_id: "1001".into(), amount: 10_998, applied_at: 0 }];
        let (r, applies) = gp(p, settings()).expect("maps");
        assert_eq!(
            (r.amount, applies[0].amount, r.currency.as_str(), applies[0].currency.as_str()),
            (10_998, 10_998, "JPY", "JPY")
        );
    }
}
