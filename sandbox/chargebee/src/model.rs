//! Chargebee API v2 resources as they appear on the wire (the subset the connector reads).
//!
//! Field names, JSON types and units follow `shared/reference/chargebee-objects.md`: amounts are
//! integers in the currency's minor unit, timestamps Unix seconds, `resource_version`
//! milliseconds; optional attributes are omitted rather than `null`; every object carries
//! `object`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The site's base currency: every document's `exchange_rate` converts to it.
pub const BASE_CURRENCY: &str = "USD";

/// Units of the base currency per unit of `currency` (what Chargebee sends as `exchange_rate`),
/// fixed per currency so the data is deterministic; 6 decimals like Chargebee's.
pub fn exchange_rate_of(currency: &str) -> f64 {
    let per_usd: f64 = match currency {
        "EUR" => 0.92,
        "GBP" => 0.79,
        "AUD" => 1.52,
        "JPY" => 150.0,
        "CAD" => 1.37,
        "CHF" => 0.88,
        _ => 1.0,
    };
    ((1.0 / per_usd) * 1e6).round() / 1e6
}

/// ISO 4217 exponent: how many minor units make one major unit (10^exponent).
pub fn minor_unit_exponent(currency: &str) -> Option<u32> {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" => Some(0),
        "USD" | "EUR" | "GBP" | "AUD" | "CAD" | "NZD" | "CHF" | "SEK" | "NOK" | "DKK" | "SGD" | "INR" | "ZAR"
        | "MXN" | "BRL" => Some(2),
        "KWD" | "BHD" | "OMR" | "JOD" | "TND" => Some(3),
        _ => None,
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default = "billing_address_object")]
    pub object: String,
}

fn billing_address_object() -> String {
    "billing_address".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_currency_code: Option<String>,
    /// `on` | `off`
    pub auto_collection: String,
    pub net_term_days: i32,
    pub allow_direct_debit: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub resource_version: i64,
    pub deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<BillingAddress>,
    pub promotional_credits: i64,
    pub refundable_credits: i64,
    pub excess_payments: i64,
    pub unbilled_charges: i64,
    /// Custom fields (`cf_*`), at the top level of the object as Chargebee sends them.
    #[serde(flatten, default)]
    pub custom_fields: BTreeMap<String, String>,
    pub object: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    pub id: String,
    pub date_from: i64,
    pub date_to: i64,
    pub unit_amount: i64,
    pub quantity: i32,
    /// unit_amount × quantity, before discounts and tax.
    pub amount: i64,
    pub discount_amount: i64,
    pub tax_amount: i64,
    pub is_taxed: bool,
    /// Percent, e.g. 8.25.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_rate: Option<f64>,
    pub pricing_model: String,
    pub description: String,
    /// adhoc | plan_item_price | addon_item_price | charge_item_price | …
    pub entity_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    pub customer_id: String,
    pub object: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItemTax {
    pub line_item_id: String,
    pub tax_name: String,
    pub tax_rate: f64,
    pub taxable_amount: i64,
    pub tax_amount: i64,
    /// country | federal | state | county | city | special | …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_juris_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_juris_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_juris_code: Option<String>,
    pub object: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discount {
    pub amount: i64,
    pub description: String,
    /// item_level_discount | document_level_discount | …
    pub entity_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_item_id: Option<String>,
    pub object: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tax {
    pub name: String,
    pub amount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub object: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedPayment {
    pub txn_id: String,
    pub applied_amount: i64,
    pub applied_at: i64,
    pub txn_status: String,
    pub txn_date: i64,
    pub txn_amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedCredit {
    pub cn_id: String,
    pub applied_amount: i64,
    pub applied_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cn_reason_code: Option<String>,
    pub cn_date: i64,
    pub cn_status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCreditNote {
    pub cn_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cn_reason_code: Option<String>,
    pub cn_date: i64,
    pub cn_total: i64,
    pub cn_status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub customer_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    pub recurring: bool,
    /// paid | posted | payment_due | not_paid | voided | pending
    pub status: String,
    pub price_type: String,
    pub date: i64,
    pub due_date: i64,
    pub net_term_days: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided_at: Option<i64>,
    pub exchange_rate: f64,
    pub currency_code: String,
    pub total: i64,
    pub amount_paid: i64,
    pub amount_adjusted: i64,
    pub write_off_amount: i64,
    pub credits_applied: i64,
    pub amount_due: i64,
    pub sub_total: i64,
    pub tax: i64,
    /// total − (sub_total − discounts + tax): cash rounding of the total.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub round_off_amount: i64,
    pub updated_at: i64,
    pub resource_version: i64,
    pub generated_at: i64,
    pub first_invoice: bool,
    pub term_finalized: bool,
    pub is_gifted: bool,
    pub deleted: bool,
    pub line_items: Vec<LineItem>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discounts: Vec<Discount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_item_taxes: Vec<LineItemTax>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<Tax>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linked_payments: Vec<LinkedPayment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_credits: Vec<AppliedCredit>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustment_credit_notes: Vec<IssuedCreditNote>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issued_credit_notes: Vec<IssuedCreditNote>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<BillingAddress>,
    pub object: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedInvoice {
    pub invoice_id: String,
    pub applied_amount: i64,
    pub applied_at: i64,
    pub invoice_date: i64,
    pub invoice_total: i64,
    pub invoice_status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedCreditNote {
    pub cn_id: String,
    pub applied_amount: i64,
    pub applied_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cn_reason_code: Option<String>,
    pub cn_date: i64,
    pub cn_total: i64,
    pub cn_status: String,
    pub cn_reference_invoice_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedRefund {
    pub txn_id: String,
    pub txn_status: String,
    pub txn_date: i64,
    pub txn_amount: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    pub id: String,
    pub customer_id: String,
    /// cash | check | bank_transfer | card | direct_debit | other | …
    pub payment_method: String,
    /// not_applicable for offline payments.
    pub gateway: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_at_gateway: Option<String>,
    /// authorization | payment | refund | payment_reversal
    #[serde(rename = "type")]
    pub kind: String,
    pub date: i64,
    pub currency_code: String,
    pub amount: i64,
    pub amount_unused: i64,
    /// in_progress | success | voided | failure | …
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refunded_txn_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked_card_number: Option<String>,
    /// JSON text; for card payments `{"card":{"brand":…,"last4":…}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method_details: Option<String>,
    pub exchange_rate: f64,
    /// When a payment was voided (status `voided`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voided_at: Option<i64>,
    pub updated_at: i64,
    pub resource_version: i64,
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linked_invoices: Vec<LinkedInvoice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linked_credit_notes: Vec<LinkedCreditNote>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linked_refunds: Vec<LinkedRefund>,
    pub object: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub invoice_id: String,
    pub allocated_amount: i64,
    pub allocated_at: i64,
    pub invoice_date: i64,
    pub invoice_status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditNoteRefund {
    pub txn_id: String,
    pub applied_amount: i64,
    pub applied_at: i64,
    pub txn_status: String,
    pub txn_date: i64,
    pub txn_amount: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditNote {
    pub id: String,
    pub customer_id: String,
    pub reference_invoice_id: String,
    /// adjustment | refundable | store
    #[serde(rename = "type")]
    pub kind: String,
    pub reason_code: String,
    /// adjusted | refunded | refund_due | voided
    pub status: String,
    pub date: i64,
    pub price_type: String,
    pub currency_code: String,
    /// The reference invoice's rate (INFERRED: the reference lists no `exchange_rate` on credit
    /// notes; the emulator sends it so a connector can book them at Chargebee's rate).
    pub exchange_rate: f64,
    pub total: i64,
    pub amount_allocated: i64,
    pub amount_refunded: i64,
    pub amount_available: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refunded_at: Option<i64>,
    pub generated_at: i64,
    pub updated_at: i64,
    pub resource_version: i64,
    pub sub_total: i64,
    pub deleted: bool,
    pub line_items: Vec<LineItem>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discounts: Vec<Discount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_item_taxes: Vec<LineItemTax>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<Tax>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allocations: Vec<Allocation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linked_refunds: Vec<CreditNoteRefund>,
    pub object: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub occurred_at: i64,
    /// api | admin_console | scheduled_job | system | …
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub object: String,
    pub api_version: String,
    /// not_configured | scheduled | succeeded | re_scheduled | failed | …
    pub webhook_status: String,
    pub event_type: String,
    /// `{"invoice": {...}, "customer": {...}}`: snapshots as of the event.
    pub content: serde_json::Map<String, serde_json::Value>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}
