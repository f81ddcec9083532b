//! Chargebee invoices and credit notes (API v2 JSON) → canonical records: lines (with decimal
//! quantities and prices), discounts, line taxes, price type, exchange rate and round-off.

use ml_connector_sdk::money;
use ml_connector_sdk::source::ml_connector::plugin::types::{Allocation, CreditNote, Invoice, InvoiceLine, LineTax};

use crate::json::Obj;

pub(crate) fn invoice(o: &Obj, id: &str) -> Result<Invoice, String> {
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
        price_type: price_type(o)?,
        exchange_rate: o.opt_rate("exchange_rate")?,
        round_off: o.amount("round_off_amount")?,
        line_taxes: line_taxes(o)?,
        timestamp: document_instant(o)?,
        voided_at: o.opt_int("voided_at")?,
    })
}

/// `tax_exclusive` | `tax_inclusive`; required by the API, taken as exclusive when absent.
fn price_type(o: &Obj) -> Result<String, String> {
    Ok(o.opt_str("price_type")?.unwrap_or_else(|| "tax_exclusive".into()))
}

/// `line_item_taxes[]`: one tax on one line (or the document when `line_item_id` is absent).
fn line_taxes(o: &Obj) -> Result<Vec<LineTax>, String> {
    let mut out = Vec::new();
    for (n, t) in o.array("line_item_taxes")?.iter().enumerate() {
        let t = Obj::new(format!("{} line item tax #{n}", o.what), t)?;
        out.push(LineTax {
            line_id: t.opt_str("line_item_id")?,
            name: t.str("tax_name")?,
            jurisdiction_type: t.opt_str("tax_juris_type")?,
            jurisdiction_name: t.opt_str("tax_juris_name")?,
            jurisdiction_code: t.opt_str("tax_juris_code")?,
            rate: t.opt_rate("tax_rate")?.unwrap_or_else(|| "0".into()),
            taxable: t.int("taxable_amount")?,
            amount: t.int("tax_amount")?,
        });
    }
    Ok(out)
}

/// Pending invoices may not have a `date` yet; `generated_at` is the next best.
fn document_instant(o: &Obj) -> Result<i64, String> {
    match o.opt_int("date")? {
        Some(d) => Ok(d),
        None => o.opt_int("generated_at")?.ok_or_else(|| format!("{}: neither date nor generated_at is set", o.what)),
    }
}

/// The UTC day of [`document_instant`].
fn document_date(o: &Obj) -> Result<String, String> {
    Ok(ml_connector_sdk::dates::iso_date(document_instant(o)?))
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

pub(crate) fn credit_note(o: &Obj, id: &str) -> Result<CreditNote, String> {
    let currency = o.str("currency_code")?;
    let lines = lines(o, id, &currency)?;
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
        allocations.push(Allocation {
            invoice_id: a.str("invoice_id")?,
            amount: a.int("allocated_amount")?,
            applied_at: a.opt_int("allocated_at")?.unwrap_or(0),
        });
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
        discount: discounts(o)?,
        round_off: o.amount("round_off_amount")?,
        price_type: price_type(o)?,
        // Not in the reference's credit_note field list; read when Chargebee sends it.
        exchange_rate: o.opt_rate("exchange_rate")?,
        line_taxes: line_taxes(o)?,
        lines,
        timestamp: document_instant(o)?,
        refunded: o.amount("amount_refunded")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Parsed, from_envelope};
    use ml_connector_sdk::source::ml_connector::plugin::types::{RecordBody, RecordKind, SourceRecord};
    use serde_json::Value;
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
        assert_eq!((i.timestamp, i.voided_at), (1_700_000_000, None));
    }

    #[test]
    fn voided_invoice_and_refunded_credit_note() {
        let mut v = invoice_json();
        v["invoice"]["status"] = json!("voided");
        v["invoice"]["voided_at"] = json!(1_700_100_000);
        let RecordBody::Invoice(i) = record(RecordKind::Invoice, v.clone()).body else { panic!() };
        assert_eq!((i.status.as_str(), i.voided_at), ("voided", Some(1_700_100_000)));
        // A pending invoice without a date: generated_at is its instant and its day.
        let o = v["invoice"].as_object_mut().expect("object");
        o.remove("date");
        o.insert("generated_at".into(), json!(1_699_999_000));
        let RecordBody::Invoice(i) = record(RecordKind::Invoice, v).body else { panic!() };
        assert_eq!((i.timestamp, i.date.as_str()), (1_699_999_000, "2023-11-14"));
        let cn = json!({"credit_note": {"id": "CN-9", "customer_id": "c", "type": "refundable", "status": "refunded",
            "date": 1_700_172_800, "currency_code": "USD", "total": 500, "sub_total": 500, "amount_refunded": 500,
            "deleted": false}});
        let RecordBody::CreditNote(c) = record(RecordKind::CreditNote, cn).body else { panic!() };
        assert_eq!((c.refunded, c.timestamp), (500, 1_700_172_800));
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
        assert_eq!((c.timestamp, c.allocations[0].applied_at, c.refunded), (1_700_172_800, 1_700_172_800, 0));
    }

    #[test]
    fn invoice_taxes_rate_round_off_and_price_type() {
        let mut v = invoice_json();
        let inv = &mut v["invoice"];
        inv["currency_code"] = json!("EUR");
        inv["exchange_rate"] = json!(1.0834);
        inv["price_type"] = json!("tax_inclusive");
        inv["round_off_amount"] = json!(-2);
        inv["line_item_taxes"] = json!([
            {"line_item_id": "li_1", "tax_name": "CA State Tax", "tax_rate": 6.0, "taxable_amount": 9_500, "tax_amount": 570,
             "is_partial_tax_applied": false, "is_non_compliance_tax": false, "prorated_taxable_amount": 9500.0,
             "tax_juris_type": "state", "tax_juris_name": "California", "tax_juris_code": "06", "object": "line_item_tax"},
            {"line_item_id": "li_1", "tax_name": "LA County Tax", "tax_rate": 2.75, "taxable_amount": 9_500, "tax_amount": 261,
             "tax_juris_type": "county", "tax_juris_name": "Los Angeles", "tax_juris_code": "037"},
            {"tax_name": "Doc fee tax", "tax_rate": 0, "taxable_amount": 0, "tax_amount": 0}
        ]);
        let RecordBody::Invoice(i) = record(RecordKind::Invoice, v).body else { panic!() };
        assert_eq!(
            (i.price_type.as_str(), i.exchange_rate.as_deref(), i.round_off),
            ("tax_inclusive", Some("1.0834"), -2)
        );
        assert_eq!(i.line_taxes.len(), 3);
        let t = &i.line_taxes[1];
        assert_eq!(
            (t.line_id.as_deref(), t.name.as_str(), t.rate.as_str(), t.taxable, t.amount),
            (Some("li_1"), "LA County Tax", "2.75", 9_500, 261)
        );
        assert_eq!(
            (t.jurisdiction_type.as_deref(), t.jurisdiction_name.as_deref(), t.jurisdiction_code.as_deref()),
            (Some("county"), Some("Los Angeles"), Some("037"))
        );
        assert_eq!(
            (i.line_taxes[0].rate.as_str(), i.line_taxes[2].line_id.as_deref(), i.line_taxes[2].rate.as_str()),
            ("6", None, "0")
        );
        // Defaults when Chargebee leaves them out.
        let mut v = invoice_json();
        let o = v["invoice"].as_object_mut().expect("object");
        o.remove("price_type");
        o.remove("exchange_rate");
        let RecordBody::Invoice(i) = record(RecordKind::Invoice, v).body else { panic!() };
        assert_eq!(
            (i.price_type.as_str(), i.exchange_rate, i.round_off, i.line_taxes.len()),
            ("tax_exclusive", None, 0, 0)
        );
        // A line tax without its amount is not a line tax.
        let mut v = invoice_json();
        v["invoice"]["line_item_taxes"] = json!([{"tax_name": "VAT", "tax_rate": 19.0, "taxable_amount": 100}]);
        assert!(from_envelope(RecordKind::Invoice, &v).expect_err("missing").contains("tax_amount"));
    }

    #[test]
    fn credit_note_discounts_lines_and_taxes() {
        let v = json!({"credit_note": {
            "id": "CN-8", "customer_id": "cus_acme", "reference_invoice_id": "inv_1042", "type": "refundable",
            "status": "refund_due", "date": 1_700_172_800, "price_type": "tax_exclusive", "currency_code": "USD",
            "total": 1_938, "sub_total": 2_000, "round_off_amount": 3, "exchange_rate": 1.0, "deleted": false, "object": "credit_note",
            "line_items": [
                {"id": "li_9", "date_from": 1, "date_to": 1, "unit_amount": 1_000, "quantity": 2, "amount": 2_000, "is_taxed": true,
                 "tax_amount": 135, "discount_amount": 200, "description": "Seats", "entity_type": "addon_item_price",
                 "entity_id": "extra-seat-USD", "object": "line_item"}
            ],
            "discounts": [{"amount": 150, "entity_type": "document_level_coupon", "object": "discount"},
                          {"amount": 50, "entity_type": "promotional_credits", "object": "discount"}],
            "line_item_taxes": [{"line_item_id": "li_9", "tax_name": "Sales Tax", "tax_rate": 7.5, "taxable_amount": 1_800, "tax_amount": 135}],
            "taxes": [{"name": "Sales Tax", "amount": 135}]
        }});
        let RecordBody::CreditNote(c) = record(RecordKind::CreditNote, v).body else { panic!() };
        assert_eq!((c.sub_total, c.discount, c.tax, c.round_off, c.total), (2_000, 200, 135, 3, 1_938));
        assert_eq!(c.total, c.sub_total - c.discount + c.tax + c.round_off);
        assert_eq!((c.price_type.as_str(), c.exchange_rate.as_deref()), ("tax_exclusive", Some("1")));
        let l = &c.lines[0];
        assert_eq!(
            (l.id.as_str(), l.quantity, l.unit_amount, l.amount, l.discount, l.tax, l.entity_id.as_deref()),
            ("li_9", 2, 1_000, 2_000, 200, 135, Some("extra-seat-USD"))
        );
        assert_eq!(
            (c.line_taxes[0].name.as_str(), c.line_taxes[0].taxable, c.line_taxes[0].amount),
            ("Sales Tax", 1_800, 135)
        );
    }
}
