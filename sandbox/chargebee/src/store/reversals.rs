//! Payments undone after they succeeded: voided (status `voided`, `voided_at`) or failed late
//! (status `late_failure`, e.g. a direct debit returned days later). Either way the money is
//! taken back off every invoice the payment was applied to, so those invoices are due again.

use serde_json::Value;

use super::{Kind, SandboxError, SiteData, snapshot};
use crate::model::Transaction;

/// How a successful payment is undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentReversal {
    /// Status `voided` with `voided_at`; event `transaction_updated` (INFERRED, see README).
    Void,
    /// Status `late_failure`, no `voided_at` (INFERRED); event `payment_failed`.
    LateFailure,
}

impl SiteData {
    /// Undoes payment `txn_id`: its applications are taken back off its invoices (`amount_paid`
    /// down, `amount_due` up, status re-derived, `paid_at` cleared while something is due, the
    /// invoice's `linked_payments` entry kept with the new `txn_status`), and the transaction's
    /// status changes. Chargebee refuses (here: `Invalid`) anything but a successful, live,
    /// unrefunded payment (INFERRED for the refunded case: a refund would have nothing to return).
    pub fn reverse_payment(
        &mut self,
        txn_id: &str,
        how: PaymentReversal,
        at_ms: i64,
    ) -> Result<Transaction, SandboxError> {
        let tix = self.need(Kind::Transaction, txn_id)?;
        let t = &self.transactions[tix];
        if t.kind != "payment" || t.status != "success" || t.deleted || !t.linked_refunds.is_empty() {
            return Err(SandboxError::Invalid(format!(
                "transaction {txn_id} ({} {}{}) is not a successful, unrefunded payment; Chargebee refuses to void it",
                t.kind,
                t.status,
                if t.linked_refunds.is_empty() { "" } else { ", refunded" }
            )));
        }
        let status = match how {
            PaymentReversal::Void => "voided",
            PaymentReversal::LateFailure => "late_failure",
        };
        let links: Vec<(String, i64)> =
            t.linked_invoices.iter().map(|l| (l.invoice_id.clone(), l.applied_amount)).collect();
        let (version, secs) = self.next_version(at_ms);
        let mut touched = Vec::new();
        for (invoice_id, applied) in &links {
            let ix = self.need(Kind::Invoice, invoice_id)?;
            let inv = &mut self.invoices[ix];
            inv.amount_paid -= applied;
            inv.amount_due += applied;
            if inv.amount_due > 0 {
                inv.paid_at = None;
            }
            for p in inv.linked_payments.iter_mut().filter(|p| p.txn_id == txn_id) {
                p.txn_status = status.into();
            }
            self.touch_invoice(ix, version, secs);
            touched.push(ix);
        }
        let t = &mut self.transactions[tix];
        t.status = status.into();
        t.voided_at = (how == PaymentReversal::Void).then_some(secs);
        t.updated_at = secs;
        t.resource_version = version;
        for (link, &ix) in t.linked_invoices.iter_mut().zip(&touched) {
            link.invoice_status = self.invoices[ix].status.clone();
        }
        let txn = t.clone();
        self.emit_reversal(&txn, how, &touched, secs);
        Ok(txn)
    }

    /// INFERRED (chargebee-objects.md lists the event types, not which one a void sends): a void
    /// sends `transaction_updated` {transaction} and `invoice_updated` per invoice; a late
    /// failure `payment_failed` {transaction, invoice (the first), customer} and
    /// `invoice_updated` for further invoices, as a successful payment does.
    fn emit_reversal(&mut self, txn: &Transaction, how: PaymentReversal, invoices: &[usize], secs: i64) {
        let rest = match (how, invoices.split_first()) {
            (PaymentReversal::LateFailure, Some((&first, rest))) => {
                let customer = self.customer_of(&txn.customer_id).map(|c| snapshot(&c)).unwrap_or(Value::Null);
                let content = vec![
                    ("transaction", snapshot(txn)),
                    ("invoice", snapshot(&self.invoices[first])),
                    ("customer", customer),
                ];
                self.emit(secs, "payment_failed", content);
                rest
            }
            _ => {
                self.emit(secs, "transaction_updated", vec![("transaction", snapshot(txn))]);
                invoices
            }
        };
        for &ix in rest {
            let inv = snapshot(&self.invoices[ix]);
            self.emit(secs, "invoice_updated", vec![("invoice", inv)]);
        }
    }
}
