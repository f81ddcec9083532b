//! Offline payments (Chargebee's "record payment"): one transaction applied to one or more
//! invoices of one customer and currency, with the links both ways and payment_succeeded.

use serde_json::Value;

use super::{Kind, PaymentInput, SandboxError, SiteData, snapshot};
use crate::model::{LinkedInvoice, LinkedPayment, Transaction, exchange_rate_of};

/// Brands a card payment is made with, picked from the transaction id (deterministic).
const CARD_BRANDS: &[(&str, &str)] =
    &[("visa", "4242"), ("mastercard", "4444"), ("american_express", "0005"), ("visa", "1881"), ("discover", "1117")];

/// Card details of a `card` payment: (masked number, payment_method_details JSON text).
fn card_details(txn_id: &str) -> (String, String) {
    let pick = txn_id.bytes().map(usize::from).sum::<usize>() % CARD_BRANDS.len();
    let (brand, last4) = CARD_BRANDS[pick];
    let details = serde_json::json!({"card": {"brand": brand, "funding_type": "credit", "last4": last4}});
    (format!("************{last4}"), details.to_string())
}

/// Where a payment goes, once checked: the invoices' indices in application order.
struct Applications {
    customer_id: String,
    currency: String,
    invoices: Vec<usize>,
}

impl SiteData {
    pub fn record_payment(&mut self, input: PaymentInput, at_ms: i64) -> Result<Transaction, SandboxError> {
        let Applications { customer_id, currency, invoices: ixs } = self.check_applications(&input)?;
        let (version, secs) = self.next_version(at_ms);
        let date = input.date.unwrap_or(secs);
        let txn_id = self.random_id("txn_");
        let amount: i64 = input.applications.iter().map(|(_, a)| a).sum();
        let mut linked_invoices = Vec::new();
        for (&ix, (_, applied)) in ixs.iter().zip(&input.applications) {
            let link = LinkedPayment {
                txn_id: txn_id.clone(),
                applied_amount: *applied,
                applied_at: secs,
                txn_status: "success".into(),
                txn_date: date,
                txn_amount: amount,
            };
            linked_invoices.push(self.apply_payment(ix, link, version));
        }
        let rate = exchange_rate_of(&currency);
        let card = (input.payment_method == "card").then(|| card_details(&txn_id));
        let txn = Transaction {
            id: txn_id.clone(),
            customer_id: customer_id.clone(),
            gateway: if card.is_some() { "chargebee_payments" } else { "not_applicable" }.into(),
            id_at_gateway: card.as_ref().map(|_| format!("ch_{}", txn_id.trim_start_matches("txn_"))),
            masked_card_number: card.as_ref().map(|c| c.0.clone()),
            payment_method_details: card.map(|c| c.1),
            payment_method: input.payment_method,
            reference_number: input.reference_number,
            kind: "payment".into(),
            date,
            currency_code: currency,
            amount,
            amount_unused: 0,
            status: "success".into(),
            refunded_txn_id: None,
            exchange_rate: rate,
            updated_at: secs,
            resource_version: version,
            voided_at: None,
            deleted: false,
            linked_invoices,
            linked_credit_notes: Vec::new(),
            linked_refunds: Vec::new(),
            object: "transaction".into(),
        };
        self.index.insert((Kind::Transaction, txn_id), self.transactions.len());
        self.transactions.push(txn.clone());
        let customer = self.customer_of(&customer_id).map(|c| snapshot(&c)).unwrap_or(Value::Null);
        // INFERRED: payment_succeeded carries the first invoice; further invoices the payment
        // touched get their own invoice_updated event.
        self.emit(
            secs,
            "payment_succeeded",
            vec![
                ("transaction", snapshot(&txn)),
                ("invoice", snapshot(&self.invoices[ixs[0]])),
                ("customer", customer),
            ],
        );
        for &ix in &ixs[1..] {
            let inv = snapshot(&self.invoices[ix]);
            self.emit(secs, "invoice_updated", vec![("invoice", inv)]);
        }
        Ok(txn)
    }

    /// A payment attempt on an invoice that the gateway declined: a `payment` transaction with
    /// status `failure`, nothing applied to the invoice (its amount due is unchanged), and a
    /// `payment_failed` event with the transaction, the invoice and the customer (chargebee-
    /// objects.md §events; linked_invoices left empty: INFERRED).
    pub fn record_failed_payment(
        &mut self,
        invoice_id: &str,
        amount: i64,
        method: &str,
        at_ms: i64,
    ) -> Result<Transaction, SandboxError> {
        let ix = self.need(Kind::Invoice, invoice_id)?;
        let inv = &self.invoices[ix];
        if amount <= 0 || inv.status == "voided" || inv.deleted {
            return Err(SandboxError::Invalid(format!("invoice {invoice_id} has nothing to pay")));
        }
        let (customer_id, currency) = (inv.customer_id.clone(), inv.currency_code.clone());
        let (version, secs) = self.next_version(at_ms);
        let txn_id = self.random_id("txn_");
        let card = (method == "card").then(|| card_details(&txn_id));
        let txn = Transaction {
            id: txn_id.clone(),
            customer_id: customer_id.clone(),
            gateway: "chargebee_payments".into(),
            id_at_gateway: Some(format!("ch_{}", txn_id.trim_start_matches("txn_"))),
            masked_card_number: card.as_ref().map(|c| c.0.clone()),
            payment_method_details: card.map(|c| c.1),
            payment_method: method.into(),
            reference_number: None,
            kind: "payment".into(),
            date: secs,
            exchange_rate: exchange_rate_of(&currency),
            currency_code: currency,
            amount,
            amount_unused: 0,
            status: "failure".into(),
            refunded_txn_id: None,
            updated_at: secs,
            resource_version: version,
            voided_at: None,
            deleted: false,
            linked_invoices: Vec::new(),
            linked_credit_notes: Vec::new(),
            linked_refunds: Vec::new(),
            object: "transaction".into(),
        };
        self.index.insert((Kind::Transaction, txn_id), self.transactions.len());
        self.transactions.push(txn.clone());
        let customer = self.customer_of(&customer_id).map(|c| snapshot(&c)).unwrap_or(Value::Null);
        self.emit(
            secs,
            "payment_failed",
            vec![("transaction", snapshot(&txn)), ("invoice", snapshot(&self.invoices[ix])), ("customer", customer)],
        );
        Ok(txn)
    }

    /// Refuses what Chargebee refuses: no invoice, invoices of different customers or
    /// currencies, more than is due, a voided or deleted invoice, the same invoice twice.
    fn check_applications(&self, input: &PaymentInput) -> Result<Applications, SandboxError> {
        let Some((first_invoice_id, _)) = input.applications.first() else {
            return Err(SandboxError::Invalid("a payment must apply to an invoice".into()));
        };
        let first = self.need(Kind::Invoice, first_invoice_id)?;
        let customer_id = self.invoices[first].customer_id.clone();
        let currency = self.invoices[first].currency_code.clone();
        let mut ixs = Vec::new();
        for (invoice_id, amount) in &input.applications {
            let ix = self.need(Kind::Invoice, invoice_id)?;
            let inv = &self.invoices[ix];
            if inv.customer_id != customer_id || inv.currency_code != currency {
                return Err(SandboxError::Invalid(format!(
                    "invoice {invoice_id} belongs to another customer or currency than {first_invoice_id}"
                )));
            }
            if *amount <= 0 || *amount > inv.amount_due || inv.status == "voided" || inv.deleted {
                return Err(SandboxError::Invalid(format!(
                    "cannot apply {amount} to invoice {invoice_id} (status {}, amount_due {})",
                    inv.status, inv.amount_due
                )));
            }
            if ixs.contains(&ix) {
                return Err(SandboxError::Invalid(format!("invoice {invoice_id} appears twice in one payment")));
            }
            ixs.push(ix);
        }
        Ok(Applications { customer_id, currency, invoices: ixs })
    }

    /// Applies one part of a payment to invoice `ix` (paid, due, status) and returns the
    /// transaction's link to it as of after the change.
    fn apply_payment(&mut self, ix: usize, link: LinkedPayment, version: i64) -> LinkedInvoice {
        let (applied, secs) = (link.applied_amount, link.applied_at);
        let inv = &mut self.invoices[ix];
        inv.amount_paid += applied;
        inv.amount_due -= applied;
        inv.linked_payments.push(link);
        self.touch_invoice(ix, version, secs);
        let inv = &self.invoices[ix];
        LinkedInvoice {
            invoice_id: inv.id.clone(),
            applied_amount: applied,
            applied_at: secs,
            invoice_date: inv.date,
            invoice_total: inv.total,
            invoice_status: inv.status.clone(),
        }
    }
}
