//! What a caller hands to a mutation: the shapes of a new customer, invoice, payment, credit
//! note or refund, kept apart from the records they become (`crate::model`).

use crate::model::BillingAddress;

/// A new customer. `id: None` → a Chargebee-style random id.
#[derive(Debug, Clone, Default)]
pub struct CustomerInput {
    pub id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub company: Option<String>,
    pub preferred_currency_code: Option<String>,
    pub net_term_days: i32,
    pub auto_collection: bool,
    pub billing_address: Option<BillingAddress>,
    pub phone: Option<String>,
    /// `cf_*` custom fields.
    pub custom_fields: std::collections::BTreeMap<String, String>,
}

/// Changes to a customer; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CustomerUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub company: Option<String>,
    pub preferred_currency_code: Option<String>,
    pub net_term_days: Option<i32>,
    pub auto_collection: Option<bool>,
    pub billing_address: Option<BillingAddress>,
}

/// One invoice line: `amount = unit_amount × quantity`; tax is charged on
/// `amount − discount_amount` at `tax_rate_bp` basis points (825 = 8.25 %), rounded half up.
#[derive(Debug, Clone)]
pub struct LineInput {
    pub description: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub unit_amount: i64,
    pub quantity: i32,
    pub discount_amount: i64,
    pub tax_rate_bp: u32,
}

impl LineInput {
    pub fn adhoc(description: &str, unit_amount: i64, quantity: i32) -> Self {
        LineInput {
            description: description.into(),
            entity_type: "adhoc".into(),
            entity_id: None,
            unit_amount,
            quantity,
            discount_amount: 0,
            tax_rate_bp: 0,
        }
    }

    pub fn tax_bp(mut self, bp: u32) -> Self {
        self.tax_rate_bp = bp;
        self
    }

    pub fn discount(mut self, amount: i64) -> Self {
        self.discount_amount = amount;
        self
    }
}

#[derive(Debug, Clone)]
pub struct InvoiceInput {
    pub customer_id: String,
    /// `None` → the customer's preferred currency, else USD.
    pub currency_code: Option<String>,
    /// Unix seconds; `None` → now.
    pub date: Option<i64>,
    /// `None` → the customer's net_term_days.
    pub net_term_days: Option<i32>,
    pub po_number: Option<String>,
    /// Label of the tax on every taxed line (e.g. "VAT", "GST", "Sales tax").
    pub tax_name: String,
    pub recurring: bool,
    pub lines: Vec<LineInput>,
}

impl InvoiceInput {
    pub fn new(customer_id: &str, lines: Vec<LineInput>) -> Self {
        InvoiceInput {
            customer_id: customer_id.into(),
            currency_code: None,
            date: None,
            net_term_days: None,
            po_number: None,
            tax_name: "Sales tax".into(),
            recurring: false,
            lines,
        }
    }
}

/// An offline payment (Chargebee's "record payment") applied to one or more invoices of one
/// customer; the transaction amount is the sum of the applications.
#[derive(Debug, Clone)]
pub struct PaymentInput {
    pub payment_method: String,
    pub reference_number: Option<String>,
    /// Unix seconds; `None` → now.
    pub date: Option<i64>,
    /// (invoice id, amount applied in minor units)
    pub applications: Vec<(String, i64)>,
}

impl PaymentInput {
    pub fn single(invoice_id: &str, amount: i64) -> Self {
        PaymentInput {
            payment_method: "bank_transfer".into(),
            reference_number: None,
            date: None,
            applications: vec![(invoice_id.into(), amount)],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditNoteKind {
    /// Reduces what the invoice still owes (`allocations`, invoice `amount_adjusted`).
    Adjustment,
    /// Allocated to the invoice's unpaid part first; the rest stays `refund_due`.
    Refundable,
}

#[derive(Debug, Clone)]
pub struct CreditNoteInput {
    pub reference_invoice_id: String,
    pub kind: CreditNoteKind,
    /// write_off | product_unsatisfactory | service_unsatisfactory | order_change | other | …
    pub reason_code: String,
    /// Tax-inclusive total in minor units; split into sub_total and tax in the invoice's ratio.
    pub total: i64,
    pub date: Option<i64>,
}

/// Refund of (part of) an invoice's payments: Chargebee issues a refundable credit note for
/// the amount and a refund transaction against the invoice's latest payment.
#[derive(Debug, Clone)]
pub struct RefundInput {
    pub invoice_id: String,
    pub amount: i64,
    pub reason_code: String,
    pub date: Option<i64>,
}
