//! GP's side: the target's `list-documents` per customer, as many customers at once as the
//! connection's pacing allows (the target's connection pool holds GP to that anyway; one at a
//! time would leave it idle). Nothing is written.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt;

use super::model::{DocType, HeldDoc};
use crate::app::{App, Connection};
use crate::bindings::target::exports::ml_connector::plugin::target_api::LedgerBalance;
use crate::bindings::types::{DocKind, LedgerDoc};
use crate::call::{Scope, call_component};

/// Documents a customer's number is looked up by, at most, when the mapper left it to the
/// target (`map.customer.number = allocated` or `field:…`): the first one GP holds names it.
const LOOKUPS_PER_CUSTOMER: usize = 3;

/// Every document of these customers.
pub async fn read(app: &App, conn: &Connection, customers: &BTreeSet<String>) -> anyhow::Result<Vec<HeldDoc>> {
    let id = conn.id();
    let reads = futures_util::stream::iter(customers.iter().cloned())
        .map(|customer| async move {
            call_component(app, id, &conn.target, Scope::default(), async |store, target| {
                target.ml_connector_plugin_target_api().call_list_documents(store, &customer).await
            })
            .await?
            .map_err(|f| anyhow::anyhow!("reading GP documents of {customer}: {f}"))?
            .map_err(|e| anyhow::anyhow!("reading GP documents of {customer}: {e:?}"))
        })
        .buffer_unordered(pacing(conn));
    futures_util::pin_mut!(reads);
    let mut held = Vec::new();
    while let Some(docs) = reads.next().await {
        held.extend(docs?.into_iter().filter_map(held_doc));
    }
    Ok(held)
}

fn pacing(conn: &Connection) -> usize {
    usize::try_from(conn.config.max_in_flight).unwrap_or(1).max(1)
}

fn held_doc(b: LedgerBalance) -> Option<HeldDoc> {
    Some(HeldDoc {
        doc_type: DocType::of(b.kind)?,
        number: b.number,
        customer: b.customer_id,
        currency: b.currency,
        amount: b.amount,
        remaining: b.remaining,
        posted: b.posted,
        voided: b.voided,
    })
}

fn doc_kind(t: DocType) -> DocKind {
    match t {
        DocType::Invoice => DocKind::Invoice,
        DocType::DebitMemo => DocKind::DebitMemo,
        DocType::CashReceipt => DocKind::CashReceipt,
        DocType::CreditMemo => DocKind::CreditMemo,
    }
}

/// GP numbers of Chargebee customers the mapper left to the target, from the customer GP
/// holds one of their documents under (`find-document`). Customers none of whose first
/// documents GP holds stay unresolved (their documents are then missing in GP).
pub async fn numbers(
    app: &App,
    conn: &Connection,
    unresolved: BTreeMap<String, Vec<(DocType, String)>>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let id = conn.id();
    let mut found = BTreeMap::new();
    for (source_id, docs) in unresolved {
        for (doc_type, number) in docs.into_iter().take(LOOKUPS_PER_CUSTOMER) {
            let kind = doc_kind(doc_type);
            let doc = call_component(app, id, &conn.target, Scope::default(), async |store, target| {
                target.ml_connector_plugin_target_api().call_find_document(store, kind, &number).await
            })
            .await?
            .map_err(|f| anyhow::anyhow!("looking up GP {} {number}: {f}", doc_type.name()))?
            .map_err(|e| anyhow::anyhow!("looking up GP {} {number}: {e:?}", doc_type.name()))?;
            if let Some(customer) = doc.as_ref().and_then(customer_of).filter(|c| !c.is_empty()) {
                found.insert(source_id, customer);
                break;
            }
        }
    }
    Ok(found)
}

fn customer_of(doc: &LedgerDoc) -> Option<String> {
    Some(match doc {
        LedgerDoc::Invoice(i) | LedgerDoc::DebitMemo(i) => i.customer_id.clone(),
        LedgerDoc::CashReceipt(r) => r.customer_id.clone(),
        LedgerDoc::CreditMemo(c) => c.customer_id.clone(),
        LedgerDoc::Customer(_) | LedgerDoc::Apply(_) | LedgerDoc::Void(_) => return None,
    })
}
