//! Chargebee resources (API v2 JSON) → canonical `source-record`s.
//!
//! Amounts stay integers in minor units; timestamps become "YYYY-MM-DD" (UTC). Transactions are
//! the awkward part: Chargebee keeps payments, refunds, reversals and card authorizations in one
//! list, while the canonical `payment` has no type or status, so [`disposition`] decides what a
//! transaction means for the ledger (README: "Payments and refunds").

use ml_connector_sdk::source::ml_connector::plugin::types::{
    Address, Allocation, CreditAllocation, Customer, Payment, RecordBody, RecordKind, SourceRecord,
};
use serde_json::Value;

use crate::documents::{credit_note, invoice};
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
                    body: RecordBody::Payment(payment(&o, &id, sign, reversed)?),
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
        phone: o.opt_str("phone")?,
        custom_fields: custom_fields(o),
    })
}

/// The `cf_*` attributes as text, in key order: strings as they are, numbers and booleans in
/// their JSON spelling, anything else as JSON text; null is left out.
fn custom_fields(o: &Obj) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = o
        .map
        .iter()
        .filter(|(k, v)| k.starts_with("cf_") && !v.is_null())
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect();
    out.sort();
    out
}

/// The card brand of a card transaction: `payment_method_details` is a JSON string whose card
/// part names the brand (`{"card":{"brand":"visa",…}}`; INFERRED — the reference lists the field
/// as a string without its content). Absent or unreadable → none (the mapper then needs
/// `map.card.default`).
fn card_brand(o: &Obj) -> Result<Option<String>, String> {
    let Some(details) = o.opt_str("payment_method_details")? else {
        return Ok(None);
    };
    let Ok(v) = serde_json::from_str::<Value>(&details) else {
        return Ok(None);
    };
    let brand = v.get("card").and_then(|c| c.get("brand")).or_else(|| v.get("brand")).and_then(Value::as_str);
    Ok(brand.map(str::trim).filter(|b| !b.is_empty()).map(str::to_string))
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

/// `reversed`: voided or failed late; `voided_at`, else (late failures carry none in the
/// reference) `updated_at`, the change that undid it (INFERRED).
fn payment(o: &Obj, id: &str, sign: i64, reversed: bool) -> Result<Payment, String> {
    let amount = o.int("amount")?;
    let mut allocations = Vec::new();
    for (n, l) in o.array("linked_invoices")?.iter().enumerate() {
        let l = Obj::new(format!("{} linked invoice #{n}", o.what), l)?;
        allocations.push(Allocation {
            invoice_id: l.str("invoice_id")?,
            amount: sign * l.int("applied_amount")?,
            applied_at: l.opt_int("applied_at")?.unwrap_or(0),
        });
    }
    // A refund pays out refundable credit notes; a payment carries none.
    let mut credit_notes = Vec::new();
    if sign < 0 {
        for (n, l) in o.array("linked_credit_notes")?.iter().enumerate() {
            let l = Obj::new(format!("{} linked credit note #{n}", o.what), l)?;
            credit_notes.push(CreditAllocation {
                credit_note_id: l.str("cn_id")?,
                amount: l.int("applied_amount")?,
                applied_at: l.opt_int("applied_at")?.unwrap_or(0),
            });
        }
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
        card_brand: card_brand(o)?,
        exchange_rate: o.opt_rate("exchange_rate")?,
        timestamp: o.int("date")?,
        credit_notes,
        voided_at: match reversed {
            true => o.opt_int("voided_at")?.or(o.opt_int("updated_at")?),
            false => None,
        },
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
    fn instants_application_times_and_void_times() {
        let RecordBody::Payment(p) = record(RecordKind::Payment, txn("payment", "success")).body else { panic!() };
        assert_eq!((p.timestamp, p.voided_at), (1_700_086_400, None));
        assert_eq!(p.allocations.iter().map(|a| a.applied_at).collect::<Vec<_>>(), [1_700_086_400, 1_700_086_400]);
        assert!(p.credit_notes.is_empty());
        let mut v = txn("payment", "voided");
        v["transaction"]["voided_at"] = json!(1_700_200_000);
        v["transaction"]["updated_at"] = json!(1_700_200_005);
        let r = record(RecordKind::Payment, v.clone());
        let RecordBody::Payment(p) = r.body else { panic!() };
        assert!(r.deleted);
        assert_eq!(p.voided_at, Some(1_700_200_000));
        // A late failure without voided_at: the change that undid it.
        v["transaction"]["status"] = json!("late_failure");
        v["transaction"].as_object_mut().expect("object").remove("voided_at");
        let RecordBody::Payment(p) = record(RecordKind::Payment, v).body else { panic!() };
        assert_eq!(p.voided_at, Some(1_700_200_005));
    }

    #[test]
    fn a_refund_names_the_credit_notes_it_pays_out() {
        let mut v = txn("refund", "success");
        v["transaction"]["linked_credit_notes"] = json!([
            {"cn_id": "CN-8", "applied_amount": 7_000, "applied_at": 1_700_090_000, "cn_date": 1_700_080_000,
             "cn_total": 7_000, "cn_status": "refunded", "cn_reference_invoice_id": "inv_1"},
            {"cn_id": "CN-9", "applied_amount": 500, "applied_at": 1_700_090_001, "cn_status": "refunded"}
        ]);
        let RecordBody::Payment(p) = record(RecordKind::Payment, v.clone()).body else { panic!() };
        let links: Vec<_> =
            p.credit_notes.iter().map(|c| (c.credit_note_id.as_str(), c.amount, c.applied_at)).collect();
        assert_eq!(links, [("CN-8", 7_000, 1_700_090_000), ("CN-9", 500, 1_700_090_001)], "positive amounts");
        v["transaction"]["linked_credit_notes"][1]["applied_amount"] = json!(5.5);
        assert!(from_envelope(RecordKind::Payment, &v).expect_err("float").contains("applied_amount"));
    }

    #[test]
    fn customer_phone_and_custom_fields_in_key_order() {
        let v = json!({"customer": {
            "id": "cus_acme", "phone": "+1 217 555 0100", "auto_collection": "off", "net_term_days": 0, "created_at": 1,
            "deleted": false, "cf_gp_number": "ACMECORP0001", "cf_account_manager": "Ada", "cf_seats": 12, "cf_vip": true,
            "cf_empty": null, "cfx_not_custom": "x", "object": "customer"
        }});
        let RecordBody::Customer(c) = record(RecordKind::Customer, v).body else { panic!() };
        assert_eq!(c.phone.as_deref(), Some("+1 217 555 0100"));
        let cf: Vec<(&str, &str)> = c.custom_fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            cf,
            [("cf_account_manager", "Ada"), ("cf_gp_number", "ACMECORP0001"), ("cf_seats", "12"), ("cf_vip", "true")]
        );
    }

    #[test]
    fn card_brand_and_exchange_rate_of_a_payment() {
        let mut v = txn("payment", "success");
        let t = &mut v["transaction"];
        t["payment_method"] = json!("card");
        t["currency_code"] = json!("EUR");
        t["exchange_rate"] = json!(1.0834);
        t["masked_card_number"] = json!("************4242");
        t["payment_method_details"] = json!(r#"{"card":{"brand":"visa","funding_type":"credit","last4":"4242"}}"#);
        let RecordBody::Payment(p) = record(RecordKind::Payment, v.clone()).body else { panic!() };
        assert_eq!(
            (p.method.as_str(), p.card_brand.as_deref(), p.exchange_rate.as_deref()),
            ("card", Some("visa"), Some("1.0834"))
        );
        v["transaction"]["payment_method_details"] = json!("not json");
        let RecordBody::Payment(p) = record(RecordKind::Payment, v.clone()).body else { panic!() };
        assert_eq!(p.card_brand, None);
        v["transaction"].as_object_mut().expect("object").remove("payment_method_details");
        let RecordBody::Payment(p) = record(RecordKind::Payment, v).body else { panic!() };
        assert_eq!(p.card_brand, None);
        let RecordBody::Payment(p) = record(RecordKind::Payment, txn("payment", "success")).body else { panic!() };
        assert_eq!((p.card_brand, p.exchange_rate), (None, None));
    }
}
