//! The default Chargebee → GP mapper component (world `mapper`): a canonical Chargebee record and
//! the connection's `map.*` settings in, GP ledger documents out. Pure: no state, no calls out,
//! one `log` line per record.
//!
//! Everything but the glue at the bottom compiles natively and is unit-tested: the settings in
//! [`settings`], GP ids/document numbers/batch ids in [`ids`], one module per record kind, and the
//! helpers they share in [`common`]. See README.md for the settings and every decision.

pub mod amounts;
pub mod apply;
pub mod common;
pub mod credit_note;
pub mod customer;
pub mod days;
pub mod exchange;
pub mod ids;
pub mod invoice;
pub mod payment;
pub mod refund;
pub mod reversal;
pub mod settings;
pub mod tax;

pub use ml_connector_sdk::mapper::exports::ml_connector::plugin::mapper_api::MappingError;
pub use ml_connector_sdk::mapper::ml_connector::plugin::types as wit;

use settings::Settings;
use wit::{LedgerDoc, RecordBody, RecordKind, SourceRecord};

/// A mapping error at `field` (a record field such as `invoice.total`, or a setting's key).
pub fn err(field: &str, message: impl Into<String>) -> MappingError {
    MappingError { field: field.to_string(), message: message.into() }
}

/// Maps one record. Deleted records map to no documents (GP keeps what it has; see README),
/// except payments: a deleted payment was voided or failed late, and its receipt is voided.
pub fn map_record(rec: &SourceRecord, settings: &[(String, String)]) -> Result<Vec<LedgerDoc>, MappingError> {
    let s = Settings::parse(settings)?;
    let kind_matches = matches!(
        (rec.kind, &rec.body),
        (RecordKind::Customer, RecordBody::Customer(_))
            | (RecordKind::Invoice, RecordBody::Invoice(_))
            | (RecordKind::Payment, RecordBody::Payment(_))
            | (RecordKind::CreditNote, RecordBody::CreditNote(_))
    );
    if !kind_matches {
        return Err(err(
            "record.kind",
            format!("record {} says {:?} but carries a different body (a source component bug)", rec.id, rec.kind),
        ));
    }
    if rec.deleted {
        return match &rec.body {
            RecordBody::Payment(p) => payment::void(p, &s),
            _ => Ok(Vec::new()),
        };
    }
    match &rec.body {
        RecordBody::Customer(c) => customer::map(c, &s),
        RecordBody::Invoice(i) => invoice::map(i, &s),
        RecordBody::Payment(p) => payment::map(p, &s),
        RecordBody::CreditNote(c) => credit_note::map(c, &s),
    }
}

/// The one debug line logged per record.
pub fn summary(rec: &SourceRecord, result: &Result<Vec<LedgerDoc>, MappingError>) -> String {
    let kind = match rec.kind {
        RecordKind::Customer => "customer",
        RecordKind::Invoice => "invoice",
        RecordKind::Payment => "payment",
        RecordKind::CreditNote => "credit-note",
    };
    let what = format!("{kind} {} v{}", rec.id, rec.version);
    match result {
        Err(e) => format!("{what}: mapping error at {}: {}", e.field, e.message),
        Ok(docs) if docs.is_empty() => format!("{what}: no documents{}", if rec.deleted { " (deleted)" } else { "" }),
        Ok(docs) => {
            let names: Vec<String> = docs
                .iter()
                .map(|d| match d {
                    LedgerDoc::Customer(c) => format!("customer {}", c.id),
                    LedgerDoc::Invoice(i) => format!("invoice {} ({})", i.number, i.batch.id),
                    LedgerDoc::CashReceipt(r) => format!("cash receipt {} ({})", r.number, r.batch.id),
                    LedgerDoc::CreditMemo(m) => format!("credit memo {} ({})", m.number, m.batch.id),
                    LedgerDoc::DebitMemo(m) => format!("debit memo {} ({})", m.number, m.batch.id),
                    LedgerDoc::Apply(a) => format!("apply {} → {} {}", a.from_number, a.to_number, a.amount),
                    LedgerDoc::Void(v) => format!("void {}", v.number),
                })
                .collect();
            format!("{what} → {}", names.join(", "))
        }
    }
}

/// The component's export. Off (`default-features = false`) when another mapper builds on this
/// crate's mapping as a library, e.g. a tenant's own mapper that post-processes the documents.
#[cfg(all(target_arch = "wasm32", feature = "component"))]
mod guest {
    use ml_connector_sdk::mapper::exports::ml_connector::plugin::mapper_api::{Guest, MappingError};
    use ml_connector_sdk::mapper::ml_connector::plugin::log;
    use ml_connector_sdk::mapper::ml_connector::plugin::types::{LedgerDoc, SourceRecord};

    struct GpMapper;

    impl Guest for GpMapper {
        fn map(rec: SourceRecord, settings: Vec<(String, String)>) -> Result<Vec<LedgerDoc>, MappingError> {
            let out = crate::map_record(&rec, &settings);
            log::log(log::Level::Debug, &crate::summary(&rec, &out));
            out
        }
    }

    ml_connector_sdk::export_mapper!(GpMapper);
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod scenarios;

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::*;

    #[test]
    fn deleted_records_map_to_nothing_but_a_deleted_payment_voids_its_receipt() {
        for mut rec in [record_customer(customer()), record_invoice(invoice()), record_credit_note(credit_note())] {
            assert!(
                !map_record(&rec, &settings()).expect("maps").is_empty(),
                "{:?} maps to something when live",
                rec.kind
            );
            rec.deleted = true;
            assert!(map_record(&rec, &settings()).expect("maps").is_empty());
            assert!(summary(&rec, &Ok(vec![])).contains("(deleted)"));
        }
        let mut rec = record_payment(payment());
        rec.deleted = true;
        let out = map_record(&rec, &settings());
        assert!(matches!(out.as_deref(), Ok([LedgerDoc::Void(_)])), "{out:?}");
        assert_eq!(summary(&rec, &out), "payment txn_AzZlGJSqHd1Xc2Ae v1700000000000 → void TXN_AZZLGJ.81HLZ8LKF");
    }

    /// The apply documents of a mapping.
    fn applies_of(docs: &[LedgerDoc]) -> Vec<&wit::Apply> {
        docs.iter().filter_map(|d| if let LedgerDoc::Apply(a) = d { Some(a) } else { None }).collect()
    }

    #[test]
    fn every_document_names_the_customer_and_invoice_as_their_own_mappings_do() {
        // Ids that need the hashed form, under a prefixed scheme.
        let s = with(settings(), &[("map.customer.prefix", "CB"), ("map.invoice.prefix", "I")]);
        let (cus, inv_id) = ("cus_AzZlGJSqHd1Xc2Ae", "inv_2023-11-0001-renewal");
        let customer_id = match map_record(&record_customer(wit::Customer { id: cus.into(), ..customer() }), &s)
            .expect("customer")
            .pop()
        {
            Some(LedgerDoc::Customer(c)) => c.id,
            other => panic!("{other:?}"),
        };
        let invoice = match map_record(
            &record_invoice(wit::Invoice { id: inv_id.into(), customer_id: cus.into(), ..invoice() }),
            &s,
        )
        .expect("invoice")
        .pop()
        {
            Some(LedgerDoc::Invoice(i)) => i,
            other => panic!("{other:?}"),
        };
        assert_eq!(invoice.customer_id, customer_id);
        let allocations = vec![wit::Allocation { invoice_id: inv_id.into(), amount: 1_000, applied_at: 0 }];
        let pay = wit::Payment { customer_id: cus.into(), allocations: allocations.clone(), ..payment() };
        let docs = map_record(&record_payment(pay), &s).expect("payment");
        let Some(LedgerDoc::CashReceipt(r)) = docs.first() else { panic!("{docs:?}") };
        assert_eq!(r.customer_id, customer_id);
        let a = applies_of(&docs);
        assert_eq!(
            (a.len(), a[0].to_number.as_str(), a[0].from_number.as_str()),
            (1, invoice.number.as_str(), r.number.as_str())
        );
        assert_eq!(a[0].customer_id, customer_id);
        let note = wit::CreditNote { customer_id: cus.into(), allocations, ..credit_note() };
        let docs = map_record(&record_credit_note(note), &s).expect("credit note");
        let Some(LedgerDoc::CreditMemo(m)) = docs.first() else { panic!("{docs:?}") };
        assert_eq!(m.customer_id, customer_id);
        let a = applies_of(&docs);
        assert_eq!(
            (a.len(), a[0].to_number.as_str(), a[0].from_number.as_str()),
            (1, invoice.number.as_str(), m.number.as_str())
        );
        // A refund applies from the credit memo the credit note mapping produced.
        let refund = wit::Payment {
            id: "txn_refund".into(),
            customer_id: cus.into(),
            amount: -500,
            credit_notes: vec![wit::CreditAllocation { credit_note_id: "CN-17".into(), amount: 500, applied_at: 0 }],
            ..payment()
        };
        let docs =
            map_record(&record_payment(refund), &with(s, &[("map.account.cash", "000-1100-00")])).expect("refund");
        let Some(LedgerDoc::DebitMemo(d)) = docs.first() else { panic!("{docs:?}") };
        let a = applies_of(&docs);
        assert_eq!((a[0].from_number.as_str(), a[0].to_number.as_str()), (m.number.as_str(), d.number.as_str()));
    }

    #[test]
    fn kind_and_body_must_agree() {
        let mut rec = record_invoice(invoice());
        rec.kind = RecordKind::Payment;
        assert_eq!(map_record(&rec, &settings()).expect_err("mismatch").field, "record.kind");
    }

    #[test]
    fn unknown_setting_fails_every_record() {
        let mut s = settings();
        s.push(("map.acount.tax".into(), "2100".into()));
        assert_eq!(map_record(&record_customer(customer()), &s).expect_err("typo").field, "map.acount.tax");
    }

    #[test]
    fn summary_names_the_documents() {
        let rec = record_invoice(invoice());
        let line = summary(&rec, &map_record(&rec, &settings()));
        assert_eq!(line, "invoice 1001 v1700000000000 → invoice 1001 (CB231114-INV)");
        let e = Err(err("invoice.total", "off"));
        assert_eq!(summary(&rec, &e), "invoice 1001 v1700000000000: mapping error at invoice.total: off");
    }
}
