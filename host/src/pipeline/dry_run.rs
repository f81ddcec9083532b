//! Dry run: what the write stage would do, compared with what GP holds (read-only look-ups),
//! on the timeline and the record (state "dry-run"); GP is not written.

use std::time::Instant;

use crate::bindings::types::{DocKind, LedgerDoc, SourceRecord};
use crate::timeline::Label;

use super::outcome::{Stage, doc_label};
use super::run::Run;

pub async fn dry_run(run: &Run<'_>, rkey: &str, rec: &SourceRecord, docs: &[LedgerDoc]) -> anyhow::Result<()> {
    let mut lines = Vec::new();
    for doc in docs {
        let t = Instant::now();
        let (kind, number) = match doc {
            LedgerDoc::Customer(c) => {
                lines.push(format!("would ensure customer {}", c.id));
                continue;
            }
            LedgerDoc::Invoice(d) => (DocKind::Invoice, d.number.clone()),
            LedgerDoc::CashReceipt(d) => (DocKind::CashReceipt, d.number.clone()),
            LedgerDoc::CreditMemo(d) => (DocKind::CreditMemo, d.number.clone()),
            LedgerDoc::DebitMemo(d) => (DocKind::DebitMemo, d.number.clone()),
            LedgerDoc::Apply(_) | LedgerDoc::Void(_) => {
                let line = format!("would settle ({}) once GP has posted", doc_label(doc));
                run.audit(Stage::DryRun, Label::Info, rkey, t, &line).await?;
                lines.push(line);
                continue;
            }
        };
        let found = run
            .call(&run.conn.target, rkey, async |store, target| {
                target.ml_connector_plugin_target_api().call_find_document(store, kind, &number).await
            })
            .await?;
        let line = match found {
            Ok(Ok(None)) => format!("would create {}", doc_label(doc)),
            Ok(Ok(Some(theirs))) => match ledger_diff(doc, &theirs) {
                d if d.is_empty() => format!("{} is already in GP, the same", doc_label(doc)),
                d => format!("{} differs from GP: {}", doc_label(doc), d.join("; ")),
            },
            Ok(Err(e)) => format!("{}: GP look-up failed: {e:?}", doc_label(doc)),
            Err(failure) => format!("{}: GP look-up failed: {failure}", doc_label(doc)),
        };
        run.audit(Stage::DryRun, Label::Info, rkey, t, &line).await?;
        lines.push(line);
    }
    run.put(
        rkey,
        rec.version,
        "dry-run",
        Some(serde_json::to_string(rec)?),
        Some(serde_json::to_string(docs)?),
        Some(&lines.join("\n")),
    )
    .await?;
    Ok(())
}

/// (customer, date, currency, amount) of a ledger document.
fn ledger_key(doc: &LedgerDoc) -> Option<(String, String, String, i64)> {
    match doc {
        LedgerDoc::Customer(_) => None,
        LedgerDoc::Invoice(d) => Some((d.customer_id.clone(), d.date.clone(), d.currency.clone(), d.total)),
        LedgerDoc::CashReceipt(d) => Some((d.customer_id.clone(), d.date.clone(), d.currency.clone(), d.amount)),
        LedgerDoc::CreditMemo(d) => Some((d.customer_id.clone(), d.date.clone(), d.currency.clone(), d.total)),
        LedgerDoc::DebitMemo(d) => Some((d.customer_id.clone(), d.date.clone(), d.currency.clone(), d.total)),
        LedgerDoc::Apply(_) | LedgerDoc::Void(_) => None,
    }
}

fn ledger_diff(ours: &LedgerDoc, theirs: &LedgerDoc) -> Vec<String> {
    let (Some(a), Some(b)) = (ledger_key(ours), ledger_key(theirs)) else { return vec!["different kinds".into()] };
    let mut out = Vec::new();
    if a.0 != b.0 {
        out.push(format!("customer {} vs GP {}", a.0, b.0));
    }
    if a.1 != b.1 {
        out.push(format!("date {} vs GP {}", a.1, b.1));
    }
    if !a.2.eq_ignore_ascii_case(&b.2) {
        out.push(format!("currency {} vs GP {}", a.2, b.2));
    }
    if a.3 != b.3 {
        out.push(format!("amount {} vs GP {}", a.3, b.3));
    }
    out
}
