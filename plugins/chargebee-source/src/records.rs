//! Chargebee resources (API v2 JSON) → canonical `source-record`s.
//!
//! Amounts stay integers in minor units; timestamps become "YYYY-MM-DD" (UTC). Transactions are
//! the awkward part: Chargebee keeps payments, refunds, reversals and card authorizations in one
//! list, while the canonical `payment` has no type or status, so [`disposition`] decides what a
//! transaction means for the ledger (README: "Payments and refunds").

use ml_connector_sdk::money;
use ml_connector_sdk::source::ml_connector::plugin::types::{
    Address, Allocation, CreditNote, Customer, Invoice, InvoiceLine, Payment, RecordBody, RecordKind, SourceRecord,
};
use serde_json::Value;

use crate::json::Obj;

/// The Chargebee resource behind a record kind: its JSON key and its API collection.
pub fn resource_key(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Customer => "customer",
        RecordKind::Invoice => "invoice",
        RecordKind::Payment => "transaction",
        RecordKind::CreditNote => "credit_note",
    }
}

pub fn collection(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Customer => "customers",
        RecordKind::Invoice => "invoices",
        RecordKind::Payment => "transactions",
        RecordKind::CreditNote => "credit_notes",
    }
}

/// What one Chargebee resource becomes.
#[derive(Debug)]
pub enum Parsed {
    Record(Box<SourceRecord>),
    /// The resource has no ledger meaning (an authorization, a payment still in progress ...).
    Skipped {
        id: String,
        why: String,
    },
}

/// The resource out of a retrieve response (`{"invoice": {...}}`) or a list item (same shape;
/// customers may carry a sibling `card`, which we ignore).
pub fn from_envelope(kind: RecordKind, envelope: &Value) -> Result<Parsed, String> {
    let key = resource_key(kind);
    let resource = envelope.get(key).ok_or_else(|| format!("Chargebee response has no {key} object"))?;
    parse(kind, resource)
}

pub fn parse(kind: RecordKind, resource: &Value) -> Result<Parsed, String> {
    let key = resource_key(kind);
    let o = Obj::new(key, resource)?;
    let id = o.str("id")?;
    let o = Obj { what: format!("{key} {id}"), map: o.map };
    let deleted = o.bool("deleted")?;
    // resource_version (ms) orders versions; records changed before 2016 lack it, so fall back
    // to updated_at (s) scaled to ms, which sorts consistently with it.
    let version = match o.opt_int("resource_version")? {
        Some(v) => v,
        None => o.opt_int("updated_at")?.unwrap_or(0).saturating_mul(1000),
    };
    let body = match kind {
        RecordKind::Customer => RecordBody::Customer(customer(&o, &id)?),
        RecordKind::Invoice => RecordBody::Invoice(invoice(&o, &id)?),
        RecordKind::CreditNote => RecordBody::CreditNote(credit_note(&o, &id)?),
        RecordKind::Payment => match disposition(&o)? {
            Disposition::Skip(why) => return Ok(Parsed::Skipped { id, why }),
            Disposition::Ledger { sign, reversed } => {
                return Ok(Parsed::Record(Box::new(SourceRecord {
                    kind,
                    id: id.clone(),
                    version,
                    deleted: deleted || reversed,
                    body: RecordBody::Payment(payment(&o, &id, sign)?),
                })));
            }
        },
    };
    Ok(Parsed::Record(Box::new(SourceRecord { kind, id, version, deleted, body })))
}

/// A line-item-paginated invoice/credit note (`line_items_next_offset`): its lines are not all
/// there, so a list item of it cannot stand in for a retrieve.
pub fn lines_truncated(resource: &Value) -> Option<String> {
    resource.get("line_items_next_offset").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

fn customer(o: &Obj, id: &str) -> Result<Customer, String> {
    let net_term_days = o.opt_int("net_term_days")?.unwrap_or(0);
    Ok(Customer {
        id: id.to_string(),
        email: o.opt_str("email")?,
        company: o.opt_str("company")?,
        first_name: o.opt_str("first_name")?,
        last_name: o.opt_str("last_name")?,
        currency: o.opt_str("preferred_currency_code")?,
        billing_address: match o.opt_obj("billing_address")? {
            Some(a) => Some(address(&a)?),
            None => None,
        },
        net_term_days: i32::try_from(net_term_days)
            .map_err(|_| format!("{}: net_term_days {net_term_days} is out of range", o.what))?,
        phone: None,
        custom_fields: Vec::new(),
    })
}

fn address(a: &Obj) -> Result<Address, String> {
    // The canonical address has two street lines; Chargebee has three.
    let line2 = match (a.opt_str("line2")?, a.opt_str("line3")?) {
        (Some(l2), Some(l3)) => Some(format!("{l2}, {l3}")),
        (l2, l3) => l2.or(l3),
    };
    Ok(Address {
        line1: a.opt_str("line1")?,
        line2,
        city: a.opt_str("city")?,
        // The code ("CA") is what ledgers store; the name only when no code was given.
        state: a.opt_str("state_code")?.or(a.opt_str("state")?),
        country: a.opt_str("country")?,
        zip: a.opt_str("zip")?,
    })
}

fn invoice(o: &Obj, id: &str) -> Result<Invoice, String> {
    let currency = o.str("currency_code")?;
    let lines = lines(o, id, &currency)?;
    Ok(Invoice {
        id: id.to_string(),
        customer_id: o.str("customer_id")?,
        date: document_date(o)?,
        due_date: o.opt_date("due_date")?,
        status: o.str("status")?,
        sub_total: o.int("sub_total")?,
        discount: discounts(o)?,
        tax: o.amount("tax")?,
        total: o.int("total")?,
        amount_paid: o.amount("amount_paid")?,
        amount_due: o.amount("amount_due")?,
        po_number: o.opt_str("po_number")?,
        lines,
        currency,
        price_type: "tax_exclusive".into(),
        exchange_rate: None,
        round_off: 0,
        line_taxes: Vec::new(),
    })
}

/// Pending invoices may not have a `date` yet; `generated_at` is the next best.
fn document_date(o: &Obj) -> Result<String, String> {
    match o.opt_date("date")? {
        Some(d) => Ok(d),
        None => o.opt_date("generated_at")?.ok_or_else(|| format!("{}: neither date nor generated_at is set", o.what)),
    }
}

/// Document-level discounts: the `discounts[]` amounts (coupons, promotional credits ...).
fn discounts(o: &Obj) -> Result<i64, String> {
    let mut sum = 0i64;
    for (n, d) in o.array("discounts")?.iter().enumerate() {
        let d = Obj::new(format!("{} discount #{n}", o.what), d)?;
        sum = sum.checked_add(d.int("amount")?).ok_or_else(|| format!("{}: discounts overflow", o.what))?;
    }
    Ok(sum)
}

fn lines(o: &Obj, doc_id: &str, currency: &str) -> Result<Vec<InvoiceLine>, String> {
    let mut out = Vec::new();
    for (n, item) in o.array("line_items")?.iter().enumerate() {
        let raw = Obj::new(format!("{} line #{n}", o.what), item)?;
        // Line ids are optional in the API types; a stable stand-in keeps lines addressable.
        let id = raw.opt_str("id")?.unwrap_or_else(|| format!("{doc_id}-line-{}", n + 1));
        let li = Obj { what: format!("{} line {id}", o.what), map: raw.map };
        let mut description = li.opt_str("description")?.unwrap_or_default();
        let quantity = match li.opt_int("quantity")? {
            Some(q) => q,
            None => match li.opt_str("quantity_in_decimal")? {
                None => 1,
                Some(text) => match whole_quantity(&text) {
                    Some(q) => q,
                    // The canonical quantity is whole units; the exact one rides in the text.
                    None => {
                        description = format!("{description} (quantity {text})");
                        1
                    }
                },
            },
        };
        let unit_amount = amount_or_decimal(&li, "unit_amount", currency)?;
        let amount = match li.opt_int("amount")? {
            Some(a) => a,
            None => match li.opt_str("amount_in_decimal")? {
                Some(text) => {
                    money::from_decimal(&text, currency).map_err(|e| format!("{}: amount_in_decimal: {e}", li.what))?
                }
                None => unit_amount.checked_mul(quantity).ok_or_else(|| format!("{}: amount overflows", li.what))?,
            },
        };
        out.push(InvoiceLine {
            id,
            description,
            quantity,
            unit_amount,
            amount,
            discount: li.amount("discount_amount")?,
            tax: li.amount("tax_amount")?,
            entity_type: li.str("entity_type")?,
            entity_id: li.opt_str("entity_id")?,
        });
    }
    Ok(out)
}

/// With multi-decimal pricing Chargebee may give only `<field>_in_decimal` (major units, string).
fn amount_or_decimal(li: &Obj, field: &str, currency: &str) -> Result<i64, String> {
    if let Some(v) = li.opt_int(field)? {
        return Ok(v);
    }
    match li.opt_str(&format!("{field}_in_decimal"))? {
        Some(text) => money::from_decimal(&text, currency).map_err(|e| format!("{}: {field}_in_decimal: {e}", li.what)),
        None => Err(format!("{}: field {field} is missing", li.what)),
    }
}

fn whole_quantity(text: &str) -> Option<i64> {
    let (int, frac) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if frac.chars().all(|c| c == '0') { int.parse().ok() } else { None }
}

fn credit_note(o: &Obj, id: &str) -> Result<CreditNote, String> {
    let currency = o.str("currency_code")?;
    // Credit notes carry no top-level `tax` in API v2; `taxes[]` holds the per-tax amounts.
    let tax = match o.opt_int("tax")? {
        Some(t) => t,
        None => {
            let mut sum = 0i64;
            for (n, t) in o.array("taxes")?.iter().enumerate() {
                let t = Obj::new(format!("{} tax #{n}", o.what), t)?;
                sum = sum.checked_add(t.int("amount")?).ok_or_else(|| format!("{}: taxes overflow", o.what))?;
            }
            sum
        }
    };
    let mut allocations = Vec::new();
    for (n, a) in o.array("allocations")?.iter().enumerate() {
        let a = Obj::new(format!("{} allocation #{n}", o.what), a)?;
        allocations.push(Allocation { invoice_id: a.str("invoice_id")?, amount: a.int("allocated_amount")? });
    }
    Ok(CreditNote {
        id: id.to_string(),
        customer_id: o.str("customer_id")?,
        date: document_date(o)?,
        reference_invoice_id: o.opt_str("reference_invoice_id")?,
        credit_type: o.str("type")?,
        // The site's own reason code is the more specific; reason_code is Chargebee's enum.
        reason: o.opt_str("create_reason_code")?.or(o.opt_str("reason_code")?),
        sub_total: o.int("sub_total")?,
        tax,
        total: o.int("total")?,
        allocations,
        currency,
        discount: 0,
        round_off: 0,
        price_type: "tax_exclusive".into(),
        exchange_rate: None,
        line_taxes: Vec::new(),
        lines: Vec::new(),
    })
}

/// What a Chargebee transaction means for receivables.
#[derive(Debug, PartialEq)]
pub enum Disposition {
    /// Money moved: a payment (sign +1) or money returned (refund / reversal, sign -1).
    /// `reversed` = it had moved but no longer stands (voided, late failure): a deleted record.
    Ledger {
        sign: i64,
        reversed: bool,
    },
    Skip(String),
}

pub fn disposition(o: &Obj) -> Result<Disposition, String> {
    let txn_type = o.str("type")?;
    let status = o.opt_str("status")?.unwrap_or_else(|| "success".into());
    let sign = match txn_type.as_str() {
        "payment" => 1,
        "refund" | "payment_reversal" => -1,
        "authorization" => return Ok(Disposition::Skip("a card authorization moves no money".into())),
        other => return Ok(Disposition::Skip(format!("transaction type {other} is not a payment or refund"))),
    };
    Ok(match status.as_str() {
        "success" => Disposition::Ledger { sign, reversed: false },
        "voided" | "late_failure" => Disposition::Ledger { sign, reversed: true },
        other => Disposition::Skip(format!("{txn_type} with status {other} has moved no money (yet)")),
    })
}

fn payment(o: &Obj, id: &str, sign: i64) -> Result<Payment, String> {
    let amount = o.int("amount")?;
    let mut allocations = Vec::new();
    for (n, l) in o.array("linked_invoices")?.iter().enumerate() {
        let l = Obj::new(format!("{} linked invoice #{n}", o.what), l)?;
        allocations.push(Allocation { invoice_id: l.str("invoice_id")?, amount: sign * l.int("applied_amount")? });
    }
    // A refund's own reference number is rare; the payment it returns is what a reader needs.
    let reference = match sign {
        1 => o.opt_str("reference_number")?.or(o.opt_str("id_at_gateway")?),
        _ => {
            o.opt_str("reference_number")?.or(o.opt_str("refunded_txn_id")?).or(o.opt_str("reference_transaction_id")?)
        }
    };
    Ok(Payment {
        id: id.to_string(),
        customer_id: o.str("customer_id")?,
        currency: o.str("currency_code")?,
        date: o.date("date")?,
        amount: sign * amount,
        method: o.str("payment_method")?,
        reference,
        allocations,
        card_brand: None,
        exchange_rate: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(kind: RecordKind, v: Value) -> SourceRecord {
        match from_envelope(kind, &v).expect("parses") {
            Parsed::Record(r) => *r,
            Parsed::Skipped { id, why } => panic!("{id} skipped: {why}"),
        }
    }

    /// Shaped like chargebee-objects.md §3.2 (retrieve response envelope).
    fn invoice_json() -> Value {
        json!({"invoice": {
            "id": "inv_1042", "customer_id": "cus_acme", "subscription_id": "sub_9", "recurring": true,
            "status": "payment_due", "price_type": "tax_exclusive", "date": 1_700_000_000, "due_date": 1_702_592_000,
            "net_term_days": 30, "currency_code": "USD", "exchange_rate": 1.0,
            "total": 11_435, "sub_total": 11_000, "tax": 935, "amount_paid": 1_000, "amount_adjusted": 0,
            "write_off_amount": 0, "credits_applied": 0, "amount_due": 10_435, "po_number": "PO-77",
            "updated_at": 1_700_000_100, "resource_version": 1_700_000_100_123i64, "deleted": false, "object": "invoice",
            "first_invoice": false, "term_finalized": true, "is_gifted": false,
            "line_items": [
                {"id": "li_1", "date_from": 1_700_000_000, "date_to": 1_702_592_000, "unit_amount": 5_000, "quantity": 2,
                 "amount": 10_000, "pricing_model": "per_unit", "is_taxed": true, "tax_amount": 850, "tax_rate": 8.5,
                 "discount_amount": 500, "item_level_discount_amount": 500, "description": "Pro plan",
                 "entity_type": "plan_item_price", "entity_id": "pro-USD-monthly", "customer_id": "cus_acme", "object": "line_item"},
                {"id": "li_2", "date_from": 1_700_000_000, "date_to": 1_700_000_000, "unit_amount": 1_000, "quantity": 1,
                 "amount": 1_000, "is_taxed": true, "tax_amount": 85, "discount_amount": 0,
                 "description": "Setup", "entity_type": "adhoc", "object": "line_item"}
            ],
            "discounts": [{"amount": 500, "description": "WELCOME10", "entity_type": "item_level_coupon", "entity_id": "WELCOME10", "object": "discount"}],
            "taxes": [{"name": "CA", "amount": 935, "object": "tax"}],
            "linked_payments": [{"txn_id": "txn_1", "applied_amount": 1_000, "applied_at": 1_700_000_050, "txn_status": "success"}],
            "billing_address": {"first_name": "Ada", "line1": "1 Main St", "city": "Springfield", "state_code": "CA", "country": "US", "zip": "94000", "object": "billing_address"}
        }})
    }

    #[test]
    fn invoice_maps_every_field() {
        let r = record(RecordKind::Invoice, invoice_json());
        assert_eq!((r.id.as_str(), r.version, r.deleted), ("inv_1042", 1_700_000_100_123, false));
        let RecordBody::Invoice(i) = r.body else { panic!("not an invoice") };
        assert_eq!(i.customer_id, "cus_acme");
        assert_eq!(i.currency, "USD");
        assert_eq!(i.date, "2023-11-14");
        assert_eq!(i.due_date.as_deref(), Some("2023-12-14"));
        assert_eq!(i.status, "payment_due");
        assert_eq!(
            (i.sub_total, i.discount, i.tax, i.total, i.amount_paid, i.amount_due),
            (11_000, 500, 935, 11_435, 1_000, 10_435)
        );
        assert_eq!(i.po_number.as_deref(), Some("PO-77"));
        assert_eq!(i.lines.len(), 2);
        let l = &i.lines[0];
        assert_eq!(
            (l.id.as_str(), l.description.as_str(), l.quantity, l.unit_amount, l.amount, l.discount, l.tax),
            ("li_1", "Pro plan", 2, 5_000, 10_000, 500, 850)
        );
        assert_eq!((l.entity_type.as_str(), l.entity_id.as_deref()), ("plan_item_price", Some("pro-USD-monthly")));
        assert_eq!(i.lines[1].entity_id, None);
    }

    #[test]
    fn a_float_amount_is_refused_with_its_field() {
        let mut v = invoice_json();
        v["invoice"]["total"] = json!(114.35);
        let err = from_envelope(RecordKind::Invoice, &v).expect_err("float refused");
        assert!(err.contains("invoice inv_1042") && err.contains("total") && err.contains("114.35"), "{err}");
        let mut v = invoice_json();
        v["invoice"]["line_items"][1]["tax_amount"] = json!(85.5);
        let err = from_envelope(RecordKind::Invoice, &v).expect_err("float refused");
        assert!(err.contains("line li_2") && err.contains("tax_amount"), "{err}");
    }

    #[test]
    fn decimal_quantities_and_prices() {
        let mut v = invoice_json();
        let li = &mut v["invoice"]["line_items"][1];
        li.as_object_mut().expect("object").remove("quantity");
        li.as_object_mut().expect("object").remove("unit_amount");
        li["quantity_in_decimal"] = json!("1.5");
        li["unit_amount_in_decimal"] = json!("6.66");
        let RecordBody::Invoice(i) = record(RecordKind::Invoice, v).body else { panic!() };
        assert_eq!((i.lines[1].quantity, i.lines[1].unit_amount), (1, 666));
        assert_eq!(i.lines[1].description, "Setup (quantity 1.5)");
        assert_eq!(whole_quantity("3.000"), Some(3));
    }

    #[test]
    fn customer_maps_currency_and_address() {
        let v = json!({"customer": {
            "id": "cus_acme", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.test", "company": "Acme Ltd",
            "preferred_currency_code": "EUR", "auto_collection": "off", "net_term_days": 30, "allow_direct_debit": false,
            "created_at": 1_690_000_000, "updated_at": 1_700_000_000, "resource_version": 1_700_000_000_555i64, "deleted": false,
            "promotional_credits": 0, "unbilled_charges": 0, "refundable_credits": 0, "excess_payments": 0, "object": "customer",
            "billing_address": {"line1": "1 Main St", "line2": "Floor 2", "line3": "Suite 5", "city": "Berlin", "state": "Berlin", "country": "DE", "zip": "10115", "object": "billing_address"}
        }, "card": {"status": "valid"}});
        let r = record(RecordKind::Customer, v);
        assert_eq!(r.version, 1_700_000_000_555);
        let RecordBody::Customer(c) = r.body else { panic!() };
        assert_eq!(c.currency.as_deref(), Some("EUR"));
        assert_eq!(
            (c.first_name.as_deref(), c.last_name.as_deref(), c.company.as_deref()),
            (Some("Ada"), Some("Lovelace"), Some("Acme Ltd"))
        );
        assert_eq!(c.net_term_days, 30);
        let a = c.billing_address.expect("address");
        assert_eq!(
            (a.line1.as_deref(), a.line2.as_deref(), a.state.as_deref(), a.country.as_deref()),
            (Some("1 Main St"), Some("Floor 2, Suite 5"), Some("Berlin"), Some("DE"))
        );
    }

    #[test]
    fn deleted_resource_is_a_deleted_record() {
        let v = json!({"customer": {"id": "cus_gone", "auto_collection": "on", "net_term_days": 0, "created_at": 1, "updated_at": 1_700_000_000, "deleted": true}});
        let r = record(RecordKind::Customer, v);
        assert!(r.deleted);
        assert_eq!(r.version, 1_700_000_000_000, "updated_at stands in for a missing resource_version");
    }

    fn txn(t: &str, status: &str) -> Value {
        json!({"transaction": {
            "id": "txn_1", "customer_id": "cus_acme", "type": t, "status": status, "payment_method": "check",
            "gateway": "not_applicable", "currency_code": "USD", "amount": 7_500, "date": 1_700_086_400,
            "reference_number": "CHK-1001", "refunded_txn_id": "txn_0", "resource_version": 5, "deleted": false, "object": "transaction",
            "linked_invoices": [
                {"invoice_id": "inv_1", "applied_amount": 5_000, "applied_at": 1_700_086_400, "invoice_status": "paid"},
                {"invoice_id": "inv_2", "applied_amount": 2_500, "applied_at": 1_700_086_400, "invoice_status": "payment_due"}
            ]
        }})
    }

    #[test]
    fn payment_with_allocations() {
        let r = record(RecordKind::Payment, txn("payment", "success"));
        assert!(!r.deleted);
        let RecordBody::Payment(p) = r.body else { panic!() };
        assert_eq!(
            (p.amount, p.method.as_str(), p.reference.as_deref(), p.date.as_str()),
            (7_500, "check", Some("CHK-1001"), "2023-11-15")
        );
        let alloc: Vec<(&str, i64)> = p.allocations.iter().map(|a| (a.invoice_id.as_str(), a.amount)).collect();
        assert_eq!(alloc, [("inv_1", 5_000), ("inv_2", 2_500)]);
    }

    #[test]
    fn refunds_are_negative_payments_and_noise_is_skipped() {
        let RecordBody::Payment(p) = record(RecordKind::Payment, txn("refund", "success")).body else { panic!() };
        assert_eq!(p.amount, -7_500);
        assert_eq!(p.allocations[0].amount, -5_000);
        assert!(record(RecordKind::Payment, txn("payment", "voided")).deleted);
        for (t, s) in [("authorization", "success"), ("payment", "failure"), ("payment", "in_progress")] {
            assert!(matches!(from_envelope(RecordKind::Payment, &txn(t, s)), Ok(Parsed::Skipped { .. })), "{t}/{s}");
        }
    }

    #[test]
    fn credit_note_with_reference_and_allocations() {
        let v = json!({"credit_note": {
            "id": "CN-7", "customer_id": "cus_acme", "reference_invoice_id": "inv_1042", "type": "adjustment", "reason_code": "product_unsatisfactory",
            "status": "adjusted", "date": 1_700_172_800, "price_type": "tax_exclusive", "currency_code": "USD",
            "total": 1_085, "amount_allocated": 1_085, "amount_refunded": 0, "amount_available": 0, "sub_total": 1_000,
            "resource_version": 9, "updated_at": 1_700_172_800, "deleted": false, "object": "credit_note",
            "line_items": [{"id": "li_9", "date_from": 1, "date_to": 1, "unit_amount": 1_000, "quantity": 1, "amount": 1_000, "is_taxed": true,
                            "tax_amount": 85, "description": "Refund setup", "entity_type": "adhoc", "object": "line_item"}],
            "taxes": [{"name": "CA", "amount": 85}],
            "allocations": [{"invoice_id": "inv_1042", "allocated_amount": 1_085, "allocated_at": 1_700_172_800, "invoice_status": "payment_due"}]
        }});
        let RecordBody::CreditNote(c) = record(RecordKind::CreditNote, v).body else { panic!() };
        assert_eq!(c.reference_invoice_id.as_deref(), Some("inv_1042"));
        assert_eq!((c.credit_type.as_str(), c.reason.as_deref()), ("adjustment", Some("product_unsatisfactory")));
        assert_eq!((c.sub_total, c.tax, c.total, c.date.as_str()), (1_000, 85, 1_085, "2023-11-16"));
        assert_eq!((c.allocations[0].invoice_id.as_str(), c.allocations[0].amount), ("inv_1042", 1_085));
    }
}
