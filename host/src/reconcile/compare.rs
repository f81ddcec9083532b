//! The comparison itself, pure: what Chargebee says GP should hold (an [`Expectation`]) against
//! what GP holds ([`HeldDoc`]s) → lines per (GP customer, currency), per-document differences
//! and exceptions.

use std::collections::{BTreeMap, BTreeSet};

use ml_connector_sdk::money::to_decimal;

use super::model::{
    ApplyLink, Difference, DifferenceKind, DocKey, DocType, Exception, ExpectedDoc, HeldDoc, Line, LineStatus,
    RecordBalance,
};

/// Chargebee's side, as the tenant's mapper carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectation {
    pub docs: BTreeMap<DocKey, ExpectedDoc>,
    pub balances: Vec<RecordBalance>,
    pub applies: Vec<ApplyLink>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    pub lines: Vec<Line>,
    pub differences: Vec<Difference>,
    pub exceptions: Vec<Exception>,
}

type LineKey = (String, String);

fn line_key(customer: &str, currency: &str) -> LineKey {
    (customer.to_string(), currency.to_ascii_uppercase())
}

fn line<'a>(lines: &'a mut BTreeMap<LineKey, Line>, customer: &str, currency: &str) -> &'a mut Line {
    lines.entry(line_key(customer, currency)).or_insert_with(|| Line {
        customer: customer.to_string(),
        currency: currency.to_ascii_uppercase(),
        status: LineStatus::Ok,
        chargebee: Default::default(),
        gp: Default::default(),
        difference: 0,
        exceptions: Default::default(),
    })
}

/// Compares. `strict`: documents in GP no Chargebee record maps to count in GP's totals and
/// as differences; otherwise they are exceptions, shown apart.
pub fn compare(expected: &Expectation, held: &[HeldDoc], strict: bool) -> Comparison {
    let mut out = Comparison::default();
    let mut lines = BTreeMap::new();
    for b in &expected.balances {
        let c = &mut line(&mut lines, &b.customer, &b.currency).chargebee;
        c.amount_due += b.amount_due;
        c.unapplied_cash += b.unapplied_cash;
        c.unused_credits += b.unused_credits;
    }
    let held_by_key: BTreeMap<DocKey, &HeldDoc> = held.iter().map(|h| ((h.doc_type, h.number.clone()), h)).collect();
    for h in held_by_key.values() {
        let mapped = expected.docs.contains_key(&(h.doc_type, h.number.clone()));
        let l = line(&mut lines, &h.customer, &h.currency);
        if mapped || strict {
            add_held(l, h);
        }
        if !mapped {
            l.exceptions.count += 1;
            l.exceptions.open_balance += h.open();
            if strict {
                out.differences.push(hand_entered(h));
            }
            out.exceptions.push((*h).clone());
        }
    }
    for (key, e) in &expected.docs {
        out.differences.extend(check_doc(e, held_by_key.get(key).copied(), &expected.applies, &held_by_key));
    }
    out.lines = lines.into_values().map(|l| finish(l, &out.differences)).collect();
    out
}

fn add_held(l: &mut Line, h: &HeldDoc) {
    let remaining = if h.voided { 0 } else { h.remaining };
    let g = &mut l.gp;
    match h.doc_type {
        DocType::Invoice | DocType::DebitMemo => g.amount_due += remaining,
        DocType::CashReceipt => g.unapplied_cash += remaining,
        DocType::CreditMemo => g.unapplied_credits += remaining,
    }
    g.unposted += usize::from(!h.posted);
}

/// Net figures, the difference, and the status from the line's document differences.
fn finish(mut l: Line, differences: &[Difference]) -> Line {
    let c = &mut l.chargebee;
    c.net_due = c.amount_due - c.unapplied_cash - c.unused_credits;
    let g = &mut l.gp;
    g.open_balance = g.amount_due - g.unapplied_cash - g.unapplied_credits;
    l.difference = l.gp.open_balance - l.chargebee.net_due;
    let key = line_key(&l.customer, &l.currency);
    let mine: Vec<&Difference> = differences.iter().filter(|d| line_key(&d.customer, &d.currency) == key).collect();
    let all_pending = mine.iter().all(|d| d.kind.is_pending());
    l.status = match (mine.is_empty(), all_pending) {
        (true, _) if l.parts_equal() => LineStatus::Ok,
        (false, true) => LineStatus::Pending,
        _ => LineStatus::Differs,
    };
    l
}

fn hand_entered(h: &HeldDoc) -> Difference {
    Difference {
        customer: h.customer.clone(),
        currency: h.currency.to_ascii_uppercase(),
        doc_type: h.doc_type,
        number: h.number.clone(),
        kind: DifferenceKind::HandEntered,
        record: None,
        what: format!(
            "in GP, no Chargebee record maps to it ({} {}, remaining {})",
            h.doc_type.name(),
            to_decimal(h.amount, &h.currency),
            to_decimal(h.remaining, &h.currency)
        ),
    }
}

/// One expected document against GP's copy.
fn check_doc(
    e: &ExpectedDoc,
    h: Option<&HeldDoc>,
    applies: &[ApplyLink],
    held: &BTreeMap<DocKey, &HeldDoc>,
) -> Vec<Difference> {
    let diff = |kind, what: String| Difference {
        customer: e.customer.clone(),
        currency: e.currency.to_ascii_uppercase(),
        doc_type: e.doc_type,
        number: e.number.clone(),
        kind,
        record: Some(e.record.clone()),
        what,
    };
    let Some(h) = h else {
        return vec![diff(DifferenceKind::MissingInGp, "missing in GP".into())];
    };
    let money = |v: i64| to_decimal(v, &e.currency);
    let mut out = Vec::new();
    if e.amount.is_some_and(|a| a != h.amount)
        || !h.currency.eq_ignore_ascii_case(&e.currency)
        || h.customer != e.customer
    {
        let says = e.amount.map_or("?".to_string(), money);
        out.push(diff(
            DifferenceKind::Mismatch,
            format!(
                "GP holds {} {} for {}, Chargebee says {says} {} for {}",
                to_decimal(h.amount, &h.currency),
                h.currency,
                h.customer,
                e.currency,
                e.customer
            ),
        ));
    }
    match (e.voided, h.voided) {
        (true, true) => {}
        (true, false) if !h.posted => out.push(diff(
            DifferenceKind::VoidPending,
            format!("void pending: {} {} unposted", e.doc_type.name(), e.number),
        )),
        (true, false) => out.push(diff(
            DifferenceKind::Voided,
            format!("voided in Chargebee, live in GP (remaining {})", money(h.remaining)),
        )),
        (false, true) => out.push(diff(DifferenceKind::Voided, "voided in GP, live in Chargebee".into())),
        (false, false) => {
            if let Some(r) = e.remaining
                && r != h.remaining
            {
                let amounts = format!("GP remaining {}, Chargebee {}", money(h.remaining), money(r));
                let unposted = unposted_around((e.doc_type, e.number.clone()), applies, held);
                out.push(if unposted.is_empty() {
                    diff(DifferenceKind::Remaining, format!("remaining: {amounts}"))
                } else {
                    let names: Vec<String> = unposted.into_iter().collect();
                    diff(
                        DifferenceKind::ApplyPending,
                        format!("apply pending: {} unposted ({amounts})", names.join(", ")),
                    )
                });
            }
        }
    }
    out
}

/// The document itself and the documents it is applied with, those GP holds unposted (GP
/// applies posted documents; the connector applies once they are).
fn unposted_around(key: DocKey, applies: &[ApplyLink], held: &BTreeMap<DocKey, &HeldDoc>) -> BTreeSet<String> {
    let mut around = vec![key.clone()];
    for a in applies {
        if a.from == key {
            around.push(a.to.clone());
        } else if a.to == key {
            around.push(a.from.clone());
        }
    }
    around
        .iter()
        .filter_map(|k| held.get(k))
        .filter(|h| !h.posted)
        .map(|h| format!("{} {}", h.doc_type.name(), h.number))
        .collect()
}
