//! The listable resources: which filters (and their types), sorts and extra parameters
//! Chargebee accepts on each, and how a record answers a filter on one of its fields.

use crate::model::{CreditNote, Customer, Event, Invoice, Transaction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Str,
    Enum,
    Number,
    Timestamp,
    Bool,
}

impl FieldType {
    pub(crate) fn ops(self) -> &'static [&'static str] {
        match self {
            FieldType::Str => &["is", "is_not", "starts_with", "is_present", "in", "not_in"],
            FieldType::Enum => &["is", "is_not", "is_present", "in", "not_in"],
            FieldType::Number => &["is", "is_not", "lt", "lte", "gt", "gte", "between", "is_present"],
            FieldType::Timestamp => &["after", "before", "on", "between", "is_present"],
            FieldType::Bool => &["is", "is_present"],
        }
    }
}

/// A field's value on one record; `None` from [`Listed::field`] = attribute absent.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    Str(&'a str),
    Int(i64),
    Bool(bool),
}

pub struct ResourceSpec {
    /// `invoice` — the key of each list item and of a retrieve response.
    pub key: &'static str,
    pub filters: &'static [(&'static str, FieldType)],
    pub sorts: &'static [&'static str],
    pub include_deleted: bool,
    /// Deprecated plain parameters the SDKs still offer, each the same as one filter:
    /// `(parameter, field, operator)`, e.g. events' `start_time` = `occurred_at[gte]`.
    pub aliases: &'static [(&'static str, &'static str, &'static str)],
    /// Plain parameters a retrieve of this resource accepts (besides `line_item[…]` filters).
    pub retrieve_params: &'static [&'static str],
    /// `line_item[<field>][<op>]` filters a retrieve accepts (invoices, credit notes).
    pub line_item_filters: &'static [(&'static str, FieldType)],
}

/// A resource that can be listed.
pub trait Listed: serde::Serialize {
    fn spec() -> &'static ResourceSpec;
    fn field(&self, name: &str) -> Option<FieldValue<'_>>;
    fn id(&self) -> &str;
    fn is_deleted(&self) -> bool;
}

use FieldType::*;

// Filter and sort fields are the SDKs' `ListInputParam`s and sort schemas
// (shared/reference/chargebee-objects.md §4.4). Fields the sandbox's records do not carry
// (subscription_id, channel, phone, …) are accepted and compare as absent attributes, as
// they would on a site that never set them.

static CUSTOMER: ResourceSpec = ResourceSpec {
    key: "customer",
    filters: &[
        ("id", Str),
        ("first_name", Str),
        ("last_name", Str),
        ("email", Str),
        ("company", Str),
        ("phone", Str),
        ("business_entity_id", Str),
        ("relationship[parent_id]", Str),
        ("relationship[payment_owner_id]", Str),
        ("relationship[invoice_owner_id]", Str),
        ("auto_collection", Enum),
        ("taxability", Enum),
        ("offline_payment_method", Enum),
        ("channel", Enum),
        ("auto_close_invoices", Bool),
        ("created_at", Timestamp),
        ("updated_at", Timestamp),
    ],
    sorts: &["created_at", "updated_at"],
    include_deleted: true,
    aliases: &[],
    retrieve_params: &[],
    line_item_filters: &[],
};

static INVOICE: ResourceSpec = ResourceSpec {
    key: "invoice",
    filters: &[
        ("id", Str),
        ("subscription_id", Str),
        ("customer_id", Str),
        ("payment_owner", Str),
        ("void_reason_code", Str),
        ("status", Enum),
        ("price_type", Enum),
        ("dunning_status", Enum),
        ("channel", Enum),
        ("einvoice[status]", Enum),
        ("date", Timestamp),
        ("paid_at", Timestamp),
        ("updated_at", Timestamp),
        ("voided_at", Timestamp),
        ("total", Number),
        ("amount_paid", Number),
        ("amount_adjusted", Number),
        ("credits_applied", Number),
        ("amount_due", Number),
        ("recurring", Bool),
    ],
    sorts: &["date", "updated_at"],
    include_deleted: true,
    // INFERRED: the deprecated `paid_on_after` means paid_at[after].
    aliases: &[("paid_on_after", "paid_at", "after")],
    retrieve_params: &["line_items_limit", "line_items_offset"],
    line_item_filters: &[("subscription_id", Str), ("customer_id", Str)],
};

static TRANSACTION: ResourceSpec = ResourceSpec {
    key: "transaction",
    filters: &[
        ("id", Str),
        ("customer_id", Str),
        ("subscription_id", Str),
        ("payment_source_id", Str),
        ("gateway_account_id", Str),
        ("reference_number", Str),
        ("id_at_gateway", Str),
        ("payment_method", Enum),
        ("gateway", Enum),
        ("type", Enum),
        ("status", Enum),
        ("date", Timestamp),
        ("updated_at", Timestamp),
        ("amount", Number),
        ("amount_capturable", Number),
    ],
    sorts: &["date", "updated_at"],
    include_deleted: true,
    aliases: &[],
    retrieve_params: &[],
    line_item_filters: &[],
};

static CREDIT_NOTE: ResourceSpec = ResourceSpec {
    key: "credit_note",
    filters: &[
        ("id", Str),
        ("customer_id", Str),
        ("subscription_id", Str),
        ("reference_invoice_id", Str),
        ("create_reason_code", Str),
        ("type", Enum),
        ("reason_code", Enum),
        ("status", Enum),
        ("price_type", Enum),
        ("channel", Enum),
        ("einvoice[status]", Enum),
        ("date", Timestamp),
        ("voided_at", Timestamp),
        ("updated_at", Timestamp),
        ("total", Number),
        ("amount_allocated", Number),
        ("amount_refunded", Number),
        ("amount_available", Number),
    ],
    // Chargebee sorts credit notes by date only (every SDK's schema agrees).
    sorts: &["date"],
    include_deleted: true,
    aliases: &[],
    retrieve_params: &["line_items_limit", "line_items_offset"],
    line_item_filters: &[("subscription_id", Str), ("customer_id", Str)],
};

static EVENT: ResourceSpec = ResourceSpec {
    key: "event",
    filters: &[
        ("id", Str),
        ("webhook_status", Enum),
        ("event_type", Enum),
        ("source", Enum),
        ("occurred_at", Timestamp),
    ],
    sorts: &["occurred_at"],
    // The SDK types leave include_deleted off events, but production Chargebee accepts it
    // there and ETL clients (tap-chargebee and its kin) send it on every list call; events
    // are never deleted, so it changes nothing.
    include_deleted: true,
    // INFERRED: the deprecated start_time / end_time bound occurred_at inclusively.
    aliases: &[("start_time", "occurred_at", "gte"), ("end_time", "occurred_at", "lte")],
    retrieve_params: &[],
    line_item_filters: &[],
};

fn s(v: &Option<String>) -> Option<FieldValue<'_>> {
    v.as_deref().map(FieldValue::Str)
}

impl Listed for Customer {
    fn spec() -> &'static ResourceSpec {
        &CUSTOMER
    }
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "id" => FieldValue::Str(&self.id),
            "first_name" => return s(&self.first_name),
            "last_name" => return s(&self.last_name),
            "email" => return s(&self.email),
            "company" => return s(&self.company),
            "auto_collection" => FieldValue::Str(&self.auto_collection),
            "created_at" => FieldValue::Int(self.created_at),
            "updated_at" => FieldValue::Int(self.updated_at),
            _ => return None,
        })
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn is_deleted(&self) -> bool {
        self.deleted
    }
}

impl Listed for Invoice {
    fn spec() -> &'static ResourceSpec {
        &INVOICE
    }
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "id" => FieldValue::Str(&self.id),
            "customer_id" => FieldValue::Str(&self.customer_id),
            "status" => FieldValue::Str(&self.status),
            "price_type" => FieldValue::Str(&self.price_type),
            "date" => FieldValue::Int(self.date),
            "paid_at" => return self.paid_at.map(FieldValue::Int),
            "updated_at" => FieldValue::Int(self.updated_at),
            "voided_at" => return self.voided_at.map(FieldValue::Int),
            "total" => FieldValue::Int(self.total),
            "amount_paid" => FieldValue::Int(self.amount_paid),
            "amount_adjusted" => FieldValue::Int(self.amount_adjusted),
            "credits_applied" => FieldValue::Int(self.credits_applied),
            "amount_due" => FieldValue::Int(self.amount_due),
            "recurring" => FieldValue::Bool(self.recurring),
            _ => return None,
        })
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn is_deleted(&self) -> bool {
        self.deleted
    }
}

impl Listed for Transaction {
    fn spec() -> &'static ResourceSpec {
        &TRANSACTION
    }
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "id" => FieldValue::Str(&self.id),
            "customer_id" => FieldValue::Str(&self.customer_id),
            "reference_number" => return s(&self.reference_number),
            "id_at_gateway" => return s(&self.id_at_gateway),
            "payment_method" => FieldValue::Str(&self.payment_method),
            "gateway" => FieldValue::Str(&self.gateway),
            "type" => FieldValue::Str(&self.kind),
            "status" => FieldValue::Str(&self.status),
            "date" => FieldValue::Int(self.date),
            "updated_at" => FieldValue::Int(self.updated_at),
            "amount" => FieldValue::Int(self.amount),
            _ => return None,
        })
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn is_deleted(&self) -> bool {
        self.deleted
    }
}

impl Listed for CreditNote {
    fn spec() -> &'static ResourceSpec {
        &CREDIT_NOTE
    }
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "id" => FieldValue::Str(&self.id),
            "customer_id" => FieldValue::Str(&self.customer_id),
            "reference_invoice_id" => FieldValue::Str(&self.reference_invoice_id),
            "type" => FieldValue::Str(&self.kind),
            "reason_code" => FieldValue::Str(&self.reason_code),
            "status" => FieldValue::Str(&self.status),
            "price_type" => FieldValue::Str(&self.price_type),
            "date" => FieldValue::Int(self.date),
            "updated_at" => FieldValue::Int(self.updated_at),
            "total" => FieldValue::Int(self.total),
            "amount_allocated" => FieldValue::Int(self.amount_allocated),
            "amount_refunded" => FieldValue::Int(self.amount_refunded),
            "amount_available" => FieldValue::Int(self.amount_available),
            _ => return None,
        })
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn is_deleted(&self) -> bool {
        self.deleted
    }
}

impl Listed for Event {
    fn spec() -> &'static ResourceSpec {
        &EVENT
    }
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "id" => FieldValue::Str(&self.id),
            "webhook_status" => FieldValue::Str(&self.webhook_status),
            "event_type" => FieldValue::Str(&self.event_type),
            "source" => FieldValue::Str(&self.source),
            "occurred_at" => FieldValue::Int(self.occurred_at),
            _ => return None,
        })
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn is_deleted(&self) -> bool {
        false
    }
}
