//! The comparison over hand-built expected/held data: what a controller would see.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::compare::{Expectation, compare};
use super::model::*;
use super::output::{CSV_HEADER, Format};

const CUST: &str = "ACME0001";

/// Builds both sides of one customer's USD documents.
#[derive(Default)]
struct Books {
    expected: Expectation,
    held: Vec<HeldDoc>,
}

impl Books {
    /// Chargebee's record: its own figures on the line, and the document it expects.
    fn expect(&mut self, doc_type: DocType, number: &str, amount: i64, remaining: i64) -> &mut Self {
        let mut b = RecordBalance { customer: CUST.into(), currency: "USD".into(), ..Default::default() };
        match doc_type {
            DocType::Invoice | DocType::DebitMemo => b.amount_due = remaining,
            DocType::CashReceipt => b.unapplied_cash = remaining,
            DocType::CreditMemo => b.unused_credits = remaining,
        }
        self.expected.balances.push(b);
        self.expected.docs.insert(
            (doc_type, number.into()),
            ExpectedDoc {
                doc_type,
                number: number.into(),
                customer: CUST.into(),
                currency: "USD".into(),
                amount: Some(amount),
                remaining: Some(remaining),
                voided: false,
                record: format!("record/{number}"),
            },
        );
        self
    }

    fn apply(&mut self, from: (DocType, &str), to: (DocType, &str)) -> &mut Self {
        self.expected.applies.push(ApplyLink { from: (from.0, from.1.into()), to: (to.0, to.1.into()) });
        self
    }

    fn hold(&mut self, doc_type: DocType, number: &str, amount: i64, remaining: i64, posted: bool) -> &mut Self {
        self.held.push(HeldDoc {
            doc_type,
            number: number.into(),
            customer: CUST.into(),
            currency: "USD".into(),
            amount,
            remaining,
            posted,
            voided: false,
        });
        self
    }

    fn report(&self, strict: bool) -> Report {
        let c = compare(&self.expected, &self.held, strict);
        let mut r = Report {
            strict,
            lines: c.lines,
            differences: c.differences,
            exceptions: c.exceptions,
            ..Report::default()
        };
        r.clean = r.is_clean();
        r
    }
}

fn only_line(r: &Report) -> &Line {
    assert_eq!(r.lines.len(), 1, "{r:#?}");
    &r.lines[0]
}

fn kinds(r: &Report) -> Vec<(String, DifferenceKind)> {
    r.differences.iter().map(|d| (d.number.clone(), d.kind)).collect()
}

/// Invoice 100.00 paid 60.00 by a receipt of 90.00 and 40.00 by a credit memo: GP applied
/// both; 30.00 of cash is left unapplied on both sides.
fn settled_books() -> Books {
    let mut b = Books::default();
    b.expect(DocType::Invoice, "INV1", 10_000, 0)
        .expect(DocType::CashReceipt, "RCT1", 9_000, 3_000)
        .expect(DocType::CreditMemo, "CM1", 4_000, 0)
        .apply((DocType::CashReceipt, "RCT1"), (DocType::Invoice, "INV1"))
        .apply((DocType::CreditMemo, "CM1"), (DocType::Invoice, "INV1"))
        .hold(DocType::Invoice, "INV1", 10_000, 0, true)
        .hold(DocType::CashReceipt, "RCT1", 9_000, 3_000, true)
        .hold(DocType::CreditMemo, "CM1", 4_000, 0, true);
    b
}

#[test]
fn balances_equal_after_applies_are_clean_and_settled() {
    let r = settled_books().report(false);
    let l = only_line(&r);
    assert_eq!(l.status, LineStatus::Ok, "{r:#?}");
    assert_eq!(
        l.chargebee,
        ChargebeeTotals { amount_due: 0, unapplied_cash: 3_000, unused_credits: 0, net_due: -3_000 }
    );
    assert_eq!((l.gp.open_balance, l.gp.unapplied_cash, l.gp.unposted, l.difference), (-3_000, 3_000, 0, 0));
    assert!(r.is_clean() && r.is_settled() && r.differences.is_empty(), "{r:#?}");
}

#[test]
fn a_remainder_gp_holds_with_everything_posted_is_a_difference() {
    let mut b = settled_books();
    b.held[0].remaining = 6_000; // the receipt's apply never reached GP
    b.held[1].remaining = 9_000;
    let r = b.report(false);
    assert_eq!(only_line(&r).status, LineStatus::Differs);
    assert_eq!(kinds(&r), vec![("INV1".into(), DifferenceKind::Remaining), ("RCT1".into(), DifferenceKind::Remaining)]);
    assert!(r.differences[0].what.contains("GP remaining 60.00, Chargebee 0.00"), "{}", r.differences[0].what);
    assert!(!r.is_clean());
}

#[test]
fn an_unposted_receipt_makes_the_apply_pending_not_a_difference() {
    let mut b = settled_books();
    b.held[0].remaining = 6_000;
    b.held[1] = HeldDoc { remaining: 9_000, posted: false, ..b.held[1].clone() };
    let r = b.report(false);
    let l = only_line(&r);
    assert_eq!((l.status, l.gp.unposted), (LineStatus::Pending, 1), "{r:#?}");
    assert_eq!(
        kinds(&r),
        vec![("INV1".into(), DifferenceKind::ApplyPending), ("RCT1".into(), DifferenceKind::ApplyPending)]
    );
    // The invoice is posted: the receipt it waits for is named.
    assert!(
        r.differences[0].what.starts_with("apply pending: cash receipt RCT1 unposted"),
        "{}",
        r.differences[0].what
    );
    // The open balance agrees: an apply moves money between parts, not out of the total.
    assert_eq!(l.difference, 0);
    assert!(r.is_clean() && !r.is_settled());
}

#[test]
fn a_missing_document_differs_and_names_its_record() {
    let mut b = settled_books();
    b.held.remove(2);
    let r = b.report(false);
    assert_eq!(kinds(&r), vec![("CM1".into(), DifferenceKind::MissingInGp)]);
    assert_eq!(
        (r.differences[0].what.as_str(), r.differences[0].record.as_deref()),
        ("missing in GP", Some("record/CM1"))
    );
    assert!(!r.is_clean());
}

#[test]
fn hand_entered_documents_are_exceptions_unless_strict() {
    let mut b = settled_books();
    b.hold(DocType::Invoice, "MANUAL-7", 2_500, 2_500, true);
    let r = b.report(false);
    let l = only_line(&r);
    assert_eq!(l.status, LineStatus::Ok);
    assert_eq!((l.exceptions.count, l.exceptions.open_balance), (1, 2_500));
    assert_eq!((l.gp.open_balance, l.gp.amount_due), (-3_000, 0), "left out of GP's totals");
    assert_eq!(r.exceptions.len(), 1);
    assert!(r.differences.is_empty() && r.is_clean());

    let r = b.report(true);
    let l = only_line(&r);
    assert_eq!((l.status, l.gp.open_balance, l.difference), (LineStatus::Differs, -500, 2_500));
    assert_eq!(kinds(&r), vec![("MANUAL-7".into(), DifferenceKind::HandEntered)]);
    assert_eq!(r.differences[0].record, None);
    assert!(!r.is_clean());
}

/// A refundable credit note of 50.00 paid back: Chargebee's credit note is refunded in full
/// (nothing unused) and the refund is covered by it (nothing due); GP holds the credit memo
/// applied to the refund's debit memo.
fn refund_books(cm_remaining: i64, dm_remaining: i64, posted: bool) -> Books {
    let mut b = Books::default();
    b.expect(DocType::CreditMemo, "CM9", 5_000, 0)
        .expect(DocType::DebitMemo, "DM9", 5_000, 0)
        .apply((DocType::CreditMemo, "CM9"), (DocType::DebitMemo, "DM9"))
        .hold(DocType::CreditMemo, "CM9", 5_000, cm_remaining, true)
        .hold(DocType::DebitMemo, "DM9", 5_000, dm_remaining, posted);
    b
}

#[test]
fn a_refund_applied_in_full_nets_to_zero() {
    let r = refund_books(0, 0, true).report(false);
    let l = only_line(&r);
    assert_eq!((l.status, l.chargebee.net_due, l.gp.open_balance), (LineStatus::Ok, 0, 0), "{r:#?}");
    assert!(r.is_settled());

    // Not applied yet, the debit memo unposted: pending, and the open balance already agrees.
    let r = refund_books(5_000, 5_000, false).report(false);
    let l = only_line(&r);
    assert_eq!((l.status, l.difference), (LineStatus::Pending, 0), "{r:#?}");
    assert!(r.differences.iter().all(|d| d.kind == DifferenceKind::ApplyPending && d.what.contains("debit memo DM9")));

    // Both posted and still not applied: the settle step is behind — a difference.
    let r = refund_books(5_000, 5_000, true).report(false);
    assert_eq!(only_line(&r).status, LineStatus::Differs);
    assert!(!r.is_clean());
}

/// A payment of 30.00 voided in Chargebee (no cash left); the mapper asks GP to void receipt RCT5.
fn voided_receipt_books(voided: bool, posted: bool) -> Books {
    let mut b = Books::default();
    b.expect(DocType::CashReceipt, "RCT5", 3_000, 0).hold(DocType::CashReceipt, "RCT5", 3_000, 3_000, posted);
    b.expected.docs.values_mut().for_each(|d| d.voided = true);
    if voided {
        b.held[0].voided = true;
        b.held[0].remaining = 0;
    }
    b
}

#[test]
fn a_voided_receipt_counts_nothing_once_gp_voided_it() {
    let r = voided_receipt_books(true, true).report(false);
    let l = only_line(&r);
    assert_eq!((l.status, l.gp.unapplied_cash, l.gp.open_balance), (LineStatus::Ok, 0, 0), "{r:#?}");
    assert!(r.is_settled());

    let r = voided_receipt_books(false, false).report(false);
    assert_eq!(only_line(&r).status, LineStatus::Pending);
    assert_eq!(kinds(&r), vec![("RCT5".into(), DifferenceKind::VoidPending)]);
    assert_eq!(r.differences[0].what, "void pending: cash receipt RCT5 unposted");

    let r = voided_receipt_books(false, true).report(false);
    assert_eq!(only_line(&r).status, LineStatus::Differs);
    assert_eq!(kinds(&r), vec![("RCT5".into(), DifferenceKind::Voided)]);
    assert_eq!(only_line(&r).difference, -3_000);
}

#[test]
fn a_voided_gp_document_counts_zero_whatever_its_remaining() {
    let mut b = Books::default();
    b.expect(DocType::Invoice, "INV3", 1_000, 1_000).hold(DocType::Invoice, "INV3", 1_000, 1_000, true);
    b.held[0].voided = true;
    let r = b.report(false);
    assert_eq!((only_line(&r).gp.amount_due, only_line(&r).status), (0, LineStatus::Differs));
    assert_eq!(kinds(&r), vec![("INV3".into(), DifferenceKind::Voided)]);
}

#[test]
fn another_customer_or_amount_in_gp_is_a_mismatch() {
    let mut b = Books::default();
    b.expect(DocType::Invoice, "INV4", 1_000, 1_000).hold(DocType::Invoice, "INV4", 1_200, 1_000, true);
    let r = b.report(false);
    assert_eq!(kinds(&r), vec![("INV4".into(), DifferenceKind::Mismatch)]);
    assert_eq!(r.differences[0].what, "GP holds 12.00 USD for ACME0001, Chargebee says 10.00 USD for ACME0001");
}

#[test]
fn csv_has_one_row_per_line_under_the_documented_header() {
    let mut b = settled_books();
    b.hold(DocType::Invoice, "MANUAL-7", 2_500, 2_500, true);
    let mut out = Vec::new();
    b.report(false).write(Format::Csv, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], CSV_HEADER.join(","));
    assert_eq!(rows[1], "ACME0001,USD,ok,0.00,30.00,0.00,-30.00,0.00,30.00,0.00,-30.00,0.00,0,1,25.00");
    assert_eq!(rows.len(), 2);

    let mut out = Vec::new();
    Report::default().write(Format::Csv, &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap().trim_end(), CSV_HEADER.join(","));
}

#[test]
fn json_names_are_the_documented_ones() {
    let mut b = settled_books();
    b.held[1].posted = false;
    b.held[1].remaining = 9_000;
    let mut out = Vec::new();
    b.report(false).write(Format::Json, &mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["clean"], true);
    let line = &v["lines"][0];
    assert_eq!((line["status"].as_str(), line["gp"]["unposted"].as_u64()), (Some("pending"), Some(1)));
    assert_eq!(line["chargebee"]["net_due"], -3_000);
    for key in ["amount_due", "unapplied_cash", "unapplied_credits", "open_balance"] {
        assert!(line["gp"].get(key).is_some(), "gp.{key}");
    }
    let d = &v["differences"][0];
    assert_eq!((d["kind"].as_str(), d["doc_type"].as_str()), (Some("apply_pending"), Some("cash-receipt")));
}

#[test]
fn the_table_shows_both_sides_pending_applies_and_exceptions_apart() {
    let mut b = settled_books();
    b.held[1] = HeldDoc { remaining: 9_000, posted: false, ..b.held[1].clone() };
    b.held[0].remaining = 6_000;
    b.hold(DocType::Invoice, "MANUAL-7", 2_500, 2_500, true);
    let mut out = Vec::new();
    b.report(false).write(Format::Table, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[1].starts_with("ACME0001        USD Chargebee") && rows[1].contains("-30.00"), "{text}");
    assert!(rows[2].contains(" GP ") && rows[2].contains("25.00 (1)") && rows[2].ends_with("pending"), "{text}");
    assert!(text.contains("apply pending: cash receipt RCT1 unposted"), "{text}");
    assert!(text.contains("exceptions: in GP, no Chargebee record maps to them (not compared)"), "{text}");
    assert!(text.contains("ACME0001 USD invoice MANUAL-7: 25.00, remaining 25.00, posted"), "{text}");
}
