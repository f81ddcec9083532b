//! The settle step over eConnect, whatever `gp.endpoint` is (GP Web Services and SBA cannot
//! apply or void receivables documents): applies and voids between POSTED documents, each
//! checked against what GP holds first, and whether GP has posted a batch.

use super::read::write_failure;
use super::{Econnect, Query, Standing, doc};
use crate::books::{Books, Rules, posting_date};
use crate::model::DocKind;
use crate::numbers::{self, Store};
use crate::settle::{Applied, Apply, Settled, ToApply, Void, applied_text, to_apply};
use crate::transport::{Failure, Transport};

/// What GP holds applied from `a.from` to `a.to` (the `applies` query: the credit document's
/// RM20201 rows; a void removes them).
pub fn held(ec: &Econnect, a: &Apply) -> Result<Applied, Failure> {
    let params = [a.from.rmdtypal().to_string(), a.from_number.clone()];
    let rows = ec.query(Query::Applies, &params)?;
    let mut sum = Applied::default();
    for i in 0..rows.len() {
        let same_type = rows.text(i, "APTODCTY") == a.to.rmdtypal().to_string();
        if same_type && rows.text(i, "APTODCNM").eq_ignore_ascii_case(&a.to_number) {
            sum.amount += super::read::minor(&rows, i, "APPTOAMT", &a.currency)?;
            sum.write_off += super::read::minor(&rows, i, "WROFAMNT", &a.currency)?;
        }
    }
    Ok(sum)
}

/// Both documents must be posted (GP applies posted documents): the first that is not →
/// `unposted(batch)`, absent → `missing-dependency`; a posted one of another customer → `rejected`.
fn both_posted(ec: &Econnect, a: &Apply, customer: &str) -> Result<Option<Settled>, Failure> {
    for (kind, number) in [(a.from, &a.from_number), (a.to, &a.to_number)] {
        match ec.standing(kind, number)? {
            Standing::Absent => {
                return Err(Failure::MissingDependency(format!("{}: {kind:?} {number} is not in GP yet", a.label())));
            }
            Standing::Unposted(batch) => return Ok(Some(Settled::Unposted(batch))),
            Standing::Posted { customer: theirs, .. } if !theirs.eq_ignore_ascii_case(customer) => {
                return Err(Failure::Rejected(format!(
                    "{}: GP's {kind:?} {number} belongs to customer {theirs}, not {customer}",
                    a.label()
                )));
            }
            Standing::Posted { .. } => {}
        }
    }
    Ok(None)
}

/// Apply what GP does not hold yet of Chargebee's totals (`settle::to_apply`): equal →
/// `already-done`; GP holds more → `rejected`; less → one `taRMApply` of the difference. After an
/// ambiguous failure GP's applied amount is read again before answering: the apply is written
/// at most once, whatever crashes in between (every attempt reads GP first).
pub fn apply(ec: &Econnect, store: &dyn Store, rules: &Rules, a: &Apply) -> Result<Settled, Failure> {
    a.check_kinds()?;
    let customer = numbers::resolve(store, &a.customer, &a.customer_source)?;
    if let Some(wait) = both_posted(ec, a, &customer)? {
        return Ok(wait);
    }
    let chargebee = Applied { amount: a.amount, write_off: a.write_off };
    let gp = held(ec, a)?;
    let ToApply::Write(diff) = to_apply(chargebee, gp, &a.currency)? else { return Ok(Settled::AlreadyDone) };
    let gl_date = posting_date(Some(ec), rules.closed_period, &a.date, &a.label(), &|m| ec.note(m))?;
    let xml = doc::apply(a, diff, gl_date.as_deref().unwrap_or(&a.date));
    let text = applied_text(diff, chargebee, gp, &a.currency);
    match ec.sql.execute(&xml).map_err(write_failure) {
        Ok(()) => Ok(Settled::Written(text)),
        Err(Failure::Ambiguous(m)) => {
            ec.note(&format!("{}: {m}; reading GP's applied amount before answering", a.label()));
            match held(ec, a)? {
                now if now == chargebee => Ok(Settled::Written(text)),
                now if now == gp => {
                    Err(Failure::Transient(format!("{}: not in GP after an unanswered apply; will retry", a.label())))
                }
                now => Err(Failure::Transient(format!(
                    "{}: GP's applied amount changed to {} while applying; will read it again",
                    a.label(),
                    ml_connector_sdk::money::to_decimal(now.amount, &a.currency)
                ))),
            }
        }
        // GP's refusal (over the remaining balance, another customer or currency …): its
        // number and text; the transaction was rolled back, nothing was written.
        Err(Failure::Duplicate(m)) => Err(Failure::Rejected(m)),
        Err(e) => Err(e),
    }
}

/// Void a posted cash receipt or credit memo (VOIDSTTS 1): absent in GP → `nothing`; unposted →
/// `unposted(batch)`; voided already → `already-done`. GP's customer of the document is used
/// when the void's cannot be resolved (it never reached GP through this connection's numbers).
pub fn void(ec: &Econnect, store: &dyn Store, rules: &Rules, v: &Void) -> Result<Settled, Failure> {
    if !matches!(v.kind, DocKind::CashReceipt | DocKind::CreditMemo) {
        return Err(Failure::Permanent(format!(
            "GP voids cash receipts and credit memos (taRMVoidTransaction), not a {:?}",
            v.kind
        )));
    }
    let label = format!("void {:?} {}", v.kind, v.number);
    let theirs = match ec.standing(v.kind, &v.number)? {
        Standing::Absent => return Ok(Settled::Nothing("never reached GP".into())),
        Standing::Unposted(batch) => return Ok(Settled::Unposted(batch)),
        Standing::Posted { voided: true, .. } => return Ok(Settled::AlreadyDone),
        Standing::Posted { customer, .. } => customer,
    };
    let customer = match numbers::resolve(store, &v.customer, &v.customer_source) {
        Ok(c) if !c.eq_ignore_ascii_case(&theirs) => {
            return Err(Failure::Rejected(format!("{label}: GP's document belongs to customer {theirs}, not {c}")));
        }
        _ => theirs,
    };
    let gl_date = posting_date(Some(ec), rules.closed_period, &v.date, &label, &|m| ec.note(m))?;
    let xml = doc::void(v, &customer, gl_date.as_deref().unwrap_or(&v.date));
    let written = || Settled::Written(format!("voided {:?} {} on {}", v.kind, v.number, v.date));
    match ec.sql.execute(&xml).map_err(write_failure) {
        Ok(()) => Ok(written()),
        Err(Failure::Ambiguous(m)) => {
            ec.note(&format!("{label}: {m}; reading GP's document before answering"));
            match ec.standing(v.kind, &v.number)? {
                Standing::Posted { voided: true, .. } => Ok(written()),
                _ => Err(Failure::Transient(format!("{label}: not voided in GP after an unanswered void; will retry"))),
            }
        }
        Err(Failure::Rejected(m)) if m.contains("already voided") => Ok(Settled::AlreadyDone),
        Err(Failure::Duplicate(m)) => Err(Failure::Rejected(m)),
        Err(e) => Err(e),
    }
}

/// GP deletes a batch header when it posts the batch: no `batch` row → posted.
pub fn batch_posted(ec: &Econnect, source: &str, id: &str) -> Result<bool, Failure> {
    Ok(ec.batch(source, id)?.is_none())
}
