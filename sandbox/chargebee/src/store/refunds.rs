//! Refunds: Chargebee issues a refundable credit note for the amount and a refund transaction
//! against the invoice's latest payment, and links the three records to each other.

use serde_json::Value;

use super::{CreditNoteInput, CreditNoteKind, Kind, RefundInput, SandboxError, SiteData, snapshot};
use crate::model::{CreditNote, CreditNoteRefund, LinkedCreditNote, LinkedRefund, Transaction};

impl SiteData {
    pub fn refund(&mut self, input: RefundInput, at_ms: i64) -> Result<Transaction, SandboxError> {
        let iix = self.need(Kind::Invoice, &input.invoice_id)?;
        let pix = self.check_refund(&input, iix)?;
        // Not allocated to the invoice: all of it is refunded.
        let (mut cn, _) = self.credit_note_inner(
            CreditNoteInput {
                reference_invoice_id: input.invoice_id.clone(),
                kind: CreditNoteKind::Refundable,
                reason_code: input.reason_code.clone(),
                total: input.amount,
                date: input.date,
            },
            at_ms,
            false,
            false,
        )?;
        let (version, secs) = self.next_version(at_ms);
        let date = input.date.unwrap_or(secs);
        let txn_id = self.random_id("txn_");
        let txn = refund_transaction(&self.transactions[pix], &cn, txn_id.clone(), date, version);
        let refund = txn.amount;
        let payment = &mut self.transactions[pix];
        payment.linked_refunds.push(LinkedRefund {
            txn_id: txn_id.clone(),
            txn_status: "success".into(),
            txn_date: date,
            txn_amount: refund,
        });
        payment.updated_at = secs;
        payment.resource_version = version;
        mark_refunded(&mut cn, &txn);
        let cnix = self.need(Kind::CreditNote, &cn.id)?;
        self.credit_notes[cnix] = cn.clone();
        let inv = &mut self.invoices[iix];
        for issued in &mut inv.issued_credit_notes {
            if issued.cn_id == cn.id {
                issued.cn_status = "refunded".into();
            }
        }
        inv.updated_at = secs;
        inv.resource_version = version;

        self.index.insert((Kind::Transaction, txn_id), self.transactions.len());
        self.transactions.push(txn.clone());
        let customer = self.customer_of(&txn.customer_id).map(|c| snapshot(&c)).unwrap_or(Value::Null);
        self.emit(secs, "credit_note_created", vec![("credit_note", snapshot(&cn))]);
        self.emit(
            secs,
            "payment_refunded",
            vec![
                ("transaction", snapshot(&txn)),
                ("invoice", snapshot(&self.invoices[iix])),
                ("credit_note", snapshot(&cn)),
                ("customer", customer),
            ],
        );
        Ok(txn)
    }

    /// At most the invoice's payments not yet refunded; returns the payment a refund goes
    /// against (the invoice's latest).
    fn check_refund(&self, input: &RefundInput, iix: usize) -> Result<usize, SandboxError> {
        let inv = &self.invoices[iix];
        let refunded_so_far: i64 = inv
            .linked_payments
            .iter()
            .filter_map(|p| self.find(Kind::Transaction, &p.txn_id))
            .flat_map(|t| self.transactions[t].linked_refunds.iter())
            .map(|r| r.txn_amount)
            .sum();
        if input.amount <= 0 || input.amount > inv.amount_paid - refunded_so_far {
            return Err(SandboxError::Invalid(format!(
                "refund {} must be positive and at most the unrefunded payments on invoice {} ({})",
                input.amount,
                inv.id,
                inv.amount_paid - refunded_so_far
            )));
        }
        let Some(payment_id) = inv.linked_payments.last().map(|p| p.txn_id.clone()) else {
            return Err(SandboxError::Invalid(format!("invoice {} has no payment to refund", inv.id)));
        };
        self.need(Kind::Transaction, &payment_id)
    }
}

/// The `type: refund` transaction for credit note `cn`, against `payment`.
fn refund_transaction(payment: &Transaction, cn: &CreditNote, id: String, date: i64, version: i64) -> Transaction {
    let secs = version.div_euclid(1000);
    let amount = cn.amount_available;
    Transaction {
        id,
        customer_id: payment.customer_id.clone(),
        payment_method: payment.payment_method.clone(),
        gateway: payment.gateway.clone(),
        reference_number: None,
        id_at_gateway: None,
        kind: "refund".into(),
        date,
        currency_code: payment.currency_code.clone(),
        amount,
        amount_unused: 0,
        status: "success".into(),
        refunded_txn_id: Some(payment.id.clone()),
        masked_card_number: payment.masked_card_number.clone(),
        payment_method_details: payment.payment_method_details.clone(),
        exchange_rate: payment.exchange_rate,
        updated_at: secs,
        resource_version: version,
        voided_at: None,
        deleted: false,
        linked_invoices: Vec::new(),
        linked_credit_notes: vec![LinkedCreditNote {
            cn_id: cn.id.clone(),
            applied_amount: amount,
            applied_at: secs,
            cn_reason_code: Some(cn.reason_code.clone()),
            cn_date: cn.date,
            cn_total: cn.total,
            cn_status: "refunded".into(),
            cn_reference_invoice_id: cn.reference_invoice_id.clone(),
        }],
        linked_refunds: Vec::new(),
        object: "transaction".into(),
    }
}

/// The credit note's side of a refund: all of what was available is now refunded.
fn mark_refunded(cn: &mut CreditNote, txn: &Transaction) {
    cn.amount_refunded += txn.amount;
    cn.amount_available -= txn.amount;
    cn.status = "refunded".into();
    cn.refunded_at = Some(txn.updated_at);
    cn.updated_at = txn.updated_at;
    cn.resource_version = txn.resource_version;
    cn.linked_refunds.push(CreditNoteRefund {
        txn_id: txn.id.clone(),
        applied_amount: txn.amount,
        applied_at: txn.updated_at,
        txn_status: "success".into(),
        txn_date: txn.date,
        txn_amount: txn.amount,
    });
}
