//! Chargebee payment (a successful transaction) → GP cash receipt, batch source RM_Cash, applied
//! to the invoices it paid. Apply targets use the invoice numbering scheme, so they name exactly
//! the documents the invoice mapping produced.

use crate::common::{CHECK_NUMBER_MAX, Ledger, check_date, checked_sum, describe, money, present, truncate};
use crate::customer::document_customer_id;
use crate::exchange::{currencies, exchange};
use crate::ids::{RECEIPT_NUMBER_MAX, batch_id};
use crate::invoice::gp_invoice_number;
use crate::settings::Settings;
use crate::wit::{
    Allocation, Apply, BatchKey, CashReceipt, Distribution, DistributionKind, LedgerDoc, Payment, ReceiptType,
};
use crate::{MappingError, err};

pub const DEFAULT_BATCH: &str = "CB{YYMMDD}-PMT";
pub const DEFAULT_DESCRIPTION: &str = "Chargebee {id}";

pub fn map(p: &Payment, s: &Settings) -> Result<Vec<LedgerDoc>, MappingError> {
    // chargebee-source marks refunds and reversals with a negative amount.
    if p.amount < 0 {
        return match s.choice("map.refunds", &["error", "skip"])? {
            "skip" => Ok(Vec::new()),
            _ => Err(err(
                "payment.amount",
                format!(
                    "refunds are not synced: transaction {} returns {}{} (book it in GP by hand, or set map.refunds = \"skip\")",
                    p.id,
                    money(-p.amount, &p.currency),
                    present(&p.reference).map(|r| format!(" of {r}")).unwrap_or_default()
                ),
            )),
        };
    }
    check_date(&p.date, "payment.date")?;
    let (iso, currency_id) = currencies(s, &p.currency, "payment.currency")?;
    let applies = applies(s, &p.allocations, "payment.allocations", p.amount, &iso)?;
    let batch_key = "map.batch.receipt";
    let batch = batch_id(s.or(batch_key, DEFAULT_BATCH), &p.date, &currency_id).map_err(|m| err(batch_key, m))?;
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
    Ok(vec![LedgerDoc::CashReceipt(CashReceipt {
        number: s.scheme("receipt", RECEIPT_NUMBER_MAX)?.gp_id(&p.id).map_err(|m| err("payment.id", m))?,
        customer_id: document_customer_id(s, &p.customer_id, "payment.customer-id")?,
        customer_source_id: p.customer_id.clone(),
        batch: BatchKey { source: "RM_Cash".into(), id: batch },
        date: p.date.clone(),
        exchange: exchange(s, &iso, p.exchange_rate.as_deref(), &p.date, "payment.exchange-rate")?,
        checkbook: s.checkbook(&iso)?,
        distributions: distributions(s, &iso, p.amount)?,
        currency: iso,
        currency_id,
        amount: p.amount,
        receipt_type,
        check_card_number: present(&p.reference).map(|r| truncate(r, CHECK_NUMBER_MAX)),
        card_name,
        description: describe(s.or("map.receipt.description", DEFAULT_DESCRIPTION), "map.receipt.description", &vars)?,
        applies,
    })])
}

/// Cash debit / receivables credit of the amount, when distributions are explicit and a cash
/// account is set (`map.account.cash.<ISO>`, else `map.account.cash`); otherwise none, and GP
/// takes the checkbook's cash account and the customer's receivables account.
fn distributions(s: &Settings, iso: &str, amount: i64) -> Result<Vec<Distribution>, MappingError> {
    if s.choice("map.distributions", &["explicit", "gp_default"])? == "gp_default" {
        return Ok(Vec::new());
    }
    let cash = match s.account_opt(&format!("map.account.cash.{iso}"))? {
        Some(a) => a,
        None => match s.account_opt("map.account.cash")? {
            Some(a) => a,
            None => return Ok(Vec::new()),
        },
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

/// Allocations → applies to GP invoice numbers: zero allocations dropped (nothing to apply),
/// repeats of one invoice merged, negatives refused, Σ ≤ `limit` (the applying document).
pub fn applies(
    s: &Settings,
    allocations: &[Allocation],
    field: &str,
    limit: i64,
    iso: &str,
) -> Result<Vec<Apply>, MappingError> {
    let mut out: Vec<Apply> = Vec::new();
    for (n, a) in allocations.iter().enumerate() {
        if a.amount < 0 {
            return Err(err(&format!("{field}[{n}].amount"), format!("is negative ({})", money(a.amount, iso))));
        }
        if a.amount == 0 {
            continue;
        }
        let number = gp_invoice_number(s, &a.invoice_id, &format!("{field}[{n}].invoice-id"))?;
        match out.iter_mut().find(|x| x.invoice_number == number) {
            Some(x) => x.amount = checked_sum([x.amount, a.amount], field)?,
            None => out.push(Apply { invoice_number: number, amount: a.amount }),
        }
    }
    let applied = checked_sum(out.iter().map(|a| a.amount), field)?;
    if applied > limit {
        return Err(err(
            field,
            format!("applies {} but the document is only {}", money(applied, iso), money(limit, iso)),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn gp(p: Payment, settings: Vec<(String, String)>) -> Result<Option<CashReceipt>, MappingError> {
        let s = Settings::parse(&settings).expect("settings");
        Ok(match map(&p, &s)?.pop() {
            Some(LedgerDoc::CashReceipt(r)) => Some(r),
            None => None,
            other => panic!("expected a cash receipt, got {other:?}"),
        })
    }

    #[test]
    fn maps_every_field_and_applies_to_the_invoice_numbers() {
        let r = gp(payment(), settings()).expect("maps").expect("doc");
        assert_eq!(r.number, "TXN_AZZLGJ.81HLZ8LKF");
        assert_eq!(r.customer_id, "ACME-001");
        assert_eq!((r.batch.source.as_str(), r.batch.id.as_str()), ("RM_Cash", "CB231115-PMT"));
        assert_eq!((r.date.as_str(), r.currency.as_str(), r.amount), ("2023-11-15", "USD", 11_435));
        assert_eq!(r.checkbook, "FIRST NATIONAL");
        assert_eq!(r.receipt_type, ReceiptType::PaymentCard);
        assert_eq!(r.check_card_number.as_deref(), Some("ch_3NkTqs2eZvKYlo2C"));
        assert_eq!(r.description.as_deref(), Some("Chargebee txn_AzZlGJSqHd1Xc2Ae"));
        // The apply names what the invoice mapping produced for the same settings.
        let s = with(settings(), &[("map.invoice.prefix", "CB")]);
        let r = gp(payment(), s.clone()).expect("maps").expect("doc");
        let inv = Settings::parse(&s).expect("settings");
        let number = match crate::invoice::map(&invoice(), &inv).expect("invoice").pop() {
            Some(LedgerDoc::Invoice(i)) => i.number,
            other => panic!("{other:?}"),
        };
        assert_eq!(r.applies.len(), 1);
        assert_eq!((r.applies[0].invoice_number.as_str(), r.applies[0].amount), (number.as_str(), 11_435));
        assert_eq!(number, "CB1001");
    }

    #[test]
    fn receipt_types_by_method() {
        let ty = |method: &str, extra: &[(&str, &str)]| {
            let mut p = payment();
            p.method = method.into();
            gp(p, with(settings(), extra)).map(|r| r.expect("doc").receipt_type)
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
        let r = gp(p.clone(), s).expect("maps").expect("doc");
        assert_eq!((r.checkbook.as_str(), r.currency.as_str(), r.currency_id.as_str()), ("EURO BANK", "EUR", "Z-EUR"));
        assert_eq!(gp(p, without(settings(), "map.checkbook")).expect_err("missing").field, "map.checkbook");
    }

    #[test]
    fn applies_merge_drop_zero_and_never_exceed_the_amount() {
        let mut p = payment();
        p.amount = 5_000;
        p.allocations = vec![
            Allocation { invoice_id: "1001".into(), amount: 1_000 },
            Allocation { invoice_id: "1002".into(), amount: 0 },
            Allocation { invoice_id: "1001".into(), amount: 2_000 },
            Allocation { invoice_id: "1003".into(), amount: 2_000 },
        ];
        let r = gp(p.clone(), settings()).expect("maps").expect("doc");
        let got: Vec<_> = r.applies.iter().map(|a| (a.invoice_number.as_str(), a.amount)).collect();
        assert_eq!(got, [("1001", 3_000), ("1003", 2_000)]);
        p.allocations[3].amount = 2_001;
        assert_eq!(gp(p.clone(), settings()).expect_err("over").field, "payment.allocations");
        p.allocations[3].amount = -1;
        assert_eq!(gp(p, settings()).expect_err("negative").field, "payment.allocations[3].amount");
    }

    #[test]
    fn refunds_are_refused_or_skipped() {
        let mut p = payment();
        p.amount = -11_435;
        p.allocations = vec![Allocation { invoice_id: "1001".into(), amount: -11_435 }];
        let e = gp(p.clone(), settings()).expect_err("refund");
        assert_eq!(e.field, "payment.amount");
        assert!(e.message.contains("refunds are not synced") && e.message.contains("114.35 USD"), "{}", e.message);
        assert!(gp(p, with(settings(), &[("map.refunds", "skip")])).expect("skips").is_none());
    }

    #[test]
    fn jpy_amounts_pass_unscaled() {
        let mut p = payment();
        p.currency = "JPY".into();
        p.amount = 10_998;
        p.allocations = vec![Allocation { invoice_id: "1001".into(), amount: 10_998 }];
        let r = gp(p, settings()).expect("maps").expect("doc");
        assert_eq!((r.amount, r.applies[0].amount, r.currency.as_str()), (10_998, 10_998, "JPY"));
    }
}
