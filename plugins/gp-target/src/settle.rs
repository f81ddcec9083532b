//! Applies and voids as the settle step asks for them (the WIT's `apply` and `void-doc`), and
//! the decisions that make them exactly-once: an apply carries Chargebee's cumulative totals
//! between two documents, GP's applied amount is read first, and only the difference is written
//! ([`to_apply`]). Pure; `crate::econnect::settle` runs them over eConnect.

use ml_connector_sdk::money::to_decimal;

use crate::model::DocKind;
use crate::transport::Failure;

/// A credit document (cash receipt, credit memo) applied to a debit document (invoice, debit
/// memo); `amount` and `write_off` are Chargebee's totals between the two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Apply {
    pub from: DocKind,
    pub from_number: String,
    pub to: DocKind,
    pub to_number: String,
    /// CUSTNMBR; empty = resolve `customer_source`.
    pub customer: String,
    pub customer_source: String,
    /// ISO 4217.
    pub currency: String,
    pub amount: i64,
    pub write_off: i64,
    /// APPLYDATE.
    pub date: String,
}

impl Apply {
    /// GP applies cash receipts and credit memos to invoices and debit memos.
    pub fn check_kinds(&self) -> Result<(), Failure> {
        let from_ok = matches!(self.from, DocKind::CashReceipt | DocKind::CreditMemo);
        if !from_ok || !self.to.is_debit() {
            return Err(Failure::Permanent(format!(
                "GP applies a cash receipt or credit memo to an invoice or debit memo, not a {:?} to a {:?}",
                self.from, self.to
            )));
        }
        Ok(())
    }

    pub fn label(&self) -> String {
        format!("apply {:?} {} → {:?} {}", self.from, self.from_number, self.to, self.to_number)
    }
}

/// A posted cash receipt or credit memo to void (VOIDSTTS 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Void {
    pub kind: DocKind,
    pub number: String,
    pub customer: String,
    pub customer_source: String,
    /// VOIDDATE.
    pub date: String,
    pub description: Option<String>,
}

/// A GP batch (the WIT's `batch-key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRef {
    pub source: String,
    pub id: String,
}

/// What settle did (the WIT's `settle-outcome`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    Written(String),
    AlreadyDone,
    Unposted(BatchRef),
    Nothing(String),
}

/// What is applied between two documents: APPTOAMT and WROFAMNT summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    pub amount: i64,
    pub write_off: i64,
}

/// What to write for Chargebee's totals against GP's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToApply {
    Nothing,
    /// The difference: APPTOAMT, WROFAMNT.
    Write(Applied),
}

/// Chargebee's totals − GP's: nothing when equal; the difference when GP holds less; refused
/// when GP holds more (only a person can unapply in GP) or when only a write-off is missing
/// (GP refuses an apply of 0).
pub fn to_apply(chargebee: Applied, gp: Applied, currency: &str) -> Result<ToApply, Failure> {
    let diff = Applied { amount: chargebee.amount - gp.amount, write_off: chargebee.write_off - gp.write_off };
    let money = |m: i64| to_decimal(m, currency);
    if diff == Applied::default() {
        return Ok(ToApply::Nothing);
    }
    if diff.amount < 0 || diff.write_off < 0 {
        return Err(Failure::Rejected(format!(
            "GP holds more applied than Chargebee ({} + write-off {} in GP, {} + write-off {} in Chargebee); unapply in GP by hand",
            money(gp.amount),
            money(gp.write_off),
            money(chargebee.amount),
            money(chargebee.write_off)
        )));
    }
    if diff.amount == 0 {
        return Err(Failure::Rejected(format!(
            "only a write-off of {} is missing and GP refuses an apply of 0: write it off in GP by hand",
            money(diff.write_off)
        )));
    }
    Ok(ToApply::Write(diff))
}

/// "applied 12.00 of 40.00; GP held 28.00" (+ the write-off when there is one).
pub fn applied_text(diff: Applied, chargebee: Applied, gp: Applied, currency: &str) -> String {
    let money = |m: i64| to_decimal(m, currency);
    let mut t = format!("applied {} of {}; GP held {}", money(diff.amount), money(chargebee.amount), money(gp.amount));
    if chargebee.write_off != 0 {
        t += &format!(
            "; write-off {} of {}; GP held {}",
            money(diff.write_off),
            money(chargebee.write_off),
            money(gp.write_off)
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(amount: i64, write_off: i64) -> Applied {
        Applied { amount, write_off }
    }

    #[test]
    fn only_the_difference_is_applied_and_more_in_gp_is_refused() {
        assert_eq!(to_apply(a(4000, 0), a(2800, 0), "USD"), Ok(ToApply::Write(a(1200, 0))));
        assert_eq!(to_apply(a(4000, 0), a(0, 0), "USD"), Ok(ToApply::Write(a(4000, 0))));
        assert_eq!(to_apply(a(4000, 5), a(4000, 5), "USD"), Ok(ToApply::Nothing));
        assert_eq!(to_apply(a(4000, 5), a(1000, 0), "USD"), Ok(ToApply::Write(a(3000, 5))));
        assert!(matches!(
            to_apply(a(1000, 0), a(2800, 0), "USD"),
            Err(Failure::Rejected(m)) if m.contains("GP holds more applied than Chargebee") && m.contains("unapply in GP by hand") && m.contains("28.00")
        ));
        assert!(matches!(to_apply(a(1000, 0), a(1000, 5), "USD"), Err(Failure::Rejected(_))));
        assert!(
            matches!(to_apply(a(1000, 5), a(1000, 0), "USD"), Err(Failure::Rejected(m)) if m.contains("write-off"))
        );
        assert_eq!(applied_text(a(1200, 0), a(4000, 0), a(2800, 0), "USD"), "applied 12.00 of 40.00; GP held 28.00");
        assert_eq!(
            applied_text(a(1200, 5), a(4000, 5), a(2800, 0), "USD"),
            "applied 12.00 of 40.00; GP held 28.00; write-off 0.05 of 0.05; GP held 0.00"
        );
    }

    #[test]
    fn only_credit_documents_apply_to_debit_documents() {
        let ok = Apply {
            from: DocKind::CreditMemo,
            from_number: "CM-1".into(),
            to: DocKind::DebitMemo,
            to_number: "DM-1".into(),
            customer: "ACME".into(),
            customer_source: String::new(),
            currency: "USD".into(),
            amount: 1,
            write_off: 0,
            date: "2025-11-25".into(),
        };
        assert_eq!(ok.check_kinds(), Ok(()));
        assert!(Apply { to: DocKind::CashReceipt, ..ok.clone() }.check_kinds().is_err());
        assert!(Apply { from: DocKind::Invoice, ..ok }.check_kinds().is_err());
    }
}
