//! Canonical records shaped like what chargebee-source produces from the reference objects, and
//! a complete settings block, for the tests.

use crate::wit::*;

pub fn settings() -> Vec<(String, String)> {
    [
        ("chargebee.api_base", "https://acme.chargebee.com"),
        ("map.account.receivables", "000-1200-00"),
        ("map.account.sales", "000-4000-00"),
        ("map.account.tax", "000-2100-00"),
        ("map.account.discount", "000-4100-00"),
        ("map.checkbook", "FIRST NATIONAL"),
        ("map.tax.Sales Tax", "USSALES"),
        ("map.card.visa", "VISA"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `base` with `extra` set (replacing a key already there).
pub fn with(mut base: Vec<(String, String)>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    for (k, v) in extra {
        base.retain(|(key, _)| key != k);
        base.push((k.to_string(), v.to_string()));
    }
    base
}

/// `base` without `key`.
pub fn without(mut base: Vec<(String, String)>, key: &str) -> Vec<(String, String)> {
    base.retain(|(k, _)| k != key);
    base
}

pub fn customer() -> Customer {
    Customer {
        id: "ACME-001".into(),
        email: Some("ap@acme.example".into()),
        company: Some("Acme Corporation".into()),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        currency: Some("USD".into()),
        billing_address: Some(Address {
            line1: Some("1 Main St".into()),
            line2: Some("Building 7, ".repeat(8)),
            city: Some("Springfield".into()),
            state: Some("IL".into()),
            country: Some("US".into()),
            zip: Some("12345".into()),
        }),
        net_term_days: 30,
        phone: Some(" +1 217 555 0100 ".into()),
        custom_fields: Vec::new(),
    }
}

/// A line without discount; amount = unit × quantity.
pub fn line(
    id: &str,
    description: &str,
    quantity: i64,
    unit: i64,
    tax: i64,
    entity_type: &str,
    entity_id: Option<&str>,
) -> InvoiceLine {
    InvoiceLine {
        id: id.into(),
        description: description.into(),
        quantity,
        unit_amount: unit,
        amount: unit * quantity,
        discount: 0,
        tax,
        entity_type: entity_type.into(),
        entity_id: entity_id.map(str::to_string),
    }
}

/// A line tax named "Sales Tax" (mapped by [`settings`]) at 8.5 %.
pub fn line_tax(line: &str, taxable: i64, amount: i64) -> LineTax {
    LineTax {
        line_id: Some(line.into()),
        name: "Sales Tax".into(),
        jurisdiction_type: None,
        jurisdiction_name: None,
        jurisdiction_code: None,
        rate: "8.5".into(),
        taxable,
        amount,
    }
}

/// 2 × 50.00 plan with a 5.00 coupon and a 10.00 setup fee; tax 9.35; total 114.35.
pub fn invoice() -> Invoice {
    Invoice {
        id: "1001".into(),
        customer_id: "ACME-001".into(),
        currency: "USD".into(),
        date: "2023-11-14".into(),
        due_date: Some("2023-12-14".into()),
        status: "paid".into(),
        sub_total: 11_000,
        discount: 500,
        tax: 935,
        total: 11_435,
        amount_paid: 11_435,
        amount_due: 0,
        po_number: Some("PO-2023-0042".into()),
        lines: vec![
            InvoiceLine {
                discount: 500,
                ..line("li_1", "Pro plan", 2, 5_000, 850, "plan_item_price", Some("pro-USD-monthly"))
            },
            line("li_2", "Setup fee", 1, 1_000, 85, "charge_item_price", Some("setup-USD")),
        ],
        price_type: "tax_exclusive".into(),
        exchange_rate: None,
        round_off: 0,
        line_taxes: vec![line_tax("li_1", 10_000, 850), line_tax("li_2", 1_000, 85)],
        // 2023-11-14T22:13:20Z
        timestamp: 1_700_000_000,
        voided_at: None,
    }
}

pub fn payment() -> Payment {
    Payment {
        id: "txn_AzZlGJSqHd1Xc2Ae".into(),
        customer_id: "ACME-001".into(),
        currency: "USD".into(),
        date: "2023-11-15".into(),
        amount: 11_435,
        method: "card".into(),
        reference: Some("ch_3NkTqs2eZvKYlo2C".into()),
        allocations: vec![Allocation { invoice_id: "1001".into(), amount: 11_435, applied_at: 0 }],
        card_brand: Some("visa".into()),
        exchange_rate: None,
        // 2023-11-15T12:00:00Z
        timestamp: 1_700_049_600,
        credit_notes: Vec::new(),
        voided_at: None,
    }
}

pub fn credit_note() -> CreditNote {
    CreditNote {
        id: "CN-17".into(),
        customer_id: "ACME-001".into(),
        currency: "USD".into(),
        date: "2023-11-16".into(),
        reference_invoice_id: Some("1001".into()),
        credit_type: "adjustment".into(),
        reason: Some("Product Unsatisfactory".into()),
        sub_total: 1_000,
        tax: 85,
        total: 1_085,
        allocations: vec![Allocation { invoice_id: "1001".into(), amount: 1_085, applied_at: 0 }],
        discount: 0,
        round_off: 0,
        price_type: "tax_exclusive".into(),
        exchange_rate: None,
        line_taxes: vec![line_tax("li_9", 1_000, 85)],
        lines: Vec::new(),
        // 2023-11-16T09:00:00Z
        timestamp: 1_700_125_200,
        refunded: 0,
    }
}

fn record(kind: RecordKind, id: &str, body: RecordBody) -> SourceRecord {
    SourceRecord { kind, id: id.into(), version: 1_700_000_000_000, deleted: false, body }
}

pub fn record_customer(c: Customer) -> SourceRecord {
    record(RecordKind::Customer, &c.id.clone(), RecordBody::Customer(c))
}

pub fn record_invoice(i: Invoice) -> SourceRecord {
    record(RecordKind::Invoice, &i.id.clone(), RecordBody::Invoice(i))
}

pub fn record_payment(p: Payment) -> SourceRecord {
    record(RecordKind::Payment, &p.id.clone(), RecordBody::Payment(p))
}

pub fn record_credit_note(c: CreditNote) -> SourceRecord {
    record(RecordKind::CreditNote, &c.id.clone(), RecordBody::CreditNote(c))
}
