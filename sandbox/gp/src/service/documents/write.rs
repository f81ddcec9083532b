//! Writing a new document under SQLite's write lock: the duplicate-number check, the applies
//! checked against the balances as they are now, the batch, the document.

use super::super::{OpError, OpResult, Service};
use crate::db::Db;
use crate::ledger::{self, Lines};
use crate::model::{Apply, Company, DocType, Document, TxState};
use crate::money::format_minor;
use crate::rules::GpError;

/// What an apply's target invoice looks like inside the write: remaining amount, customer,
/// currency and state.
type Target = (i64, String, String, TxState);

impl Service {
    /// The write itself, under SQLite's write lock: duplicate check, apply checks against the
    /// balances as they are now, batch creation, document and applies.
    pub(super) async fn insert_document(
        &self,
        company: &Company,
        mut doc: Document,
        applies: &[Apply],
        lines: &Lines,
    ) -> OpResult<Document> {
        let mut tx = self.db.begin_write().await?;
        let scope = (!self.rules.doc_number_unique_across_types).then_some(doc.doc_type);
        if Db::doc_number_taken(&mut tx, company.id, &doc.number, scope).await? {
            return Err(GpError::DuplicateDocument { number: doc.number }.into());
        }
        let (checked, mut errors) = ledger::check(&mut tx, company, &self.rules, &doc, lines).await?;
        for a in applies {
            let target = Db::balance_in_tx(&mut tx, company.id, DocType::Invoice, &a.to_number).await?;
            match self.apply_refusal(&doc, a, target) {
                Some(refused) => errors.push(refused),
                // Later applies in the same request see the reduced balance.
                None => {
                    let from = (doc.doc_type, doc.number.as_str());
                    let to = (DocType::Invoice, a.to_number.as_str());
                    Db::apply(&mut tx, company.id, from, to, a.amount_minor).await?;
                }
            }
        }
        if Service::batch_busy(&mut tx, company.id, &doc.batch_id, &doc.batch_source).await? {
            errors.insert(0, GpError::BatchBusy { id: doc.batch_id.clone() });
        }
        if !errors.is_empty() {
            return Err(OpError::Rejected(errors));
        }
        let checkbook = doc.checkbook_id.clone();
        Db::ensure_batch(&mut tx, company.id, &doc.batch_id, &doc.batch_source, checkbook.as_deref()).await?;
        doc.remaining -= applies.iter().map(|a| a.amount_minor).sum::<i64>();
        Db::insert_document(&mut tx, company.id, &doc).await?;
        ledger::store(&mut tx, company.id, &doc, lines, &checked).await?;
        tx.commit().await?;
        self.activity.touch(company.id, &doc.batch_id, &doc.batch_source);
        self.counters.document_written();
        Ok(doc)
    }

    /// Why GP would refuse to apply `doc` to the target invoice, if it would: the invoice must
    /// exist (posted, unless the rules allow work documents), belong to the same customer, be
    /// in the same currency and have at least the amount left.
    fn apply_refusal(&self, doc: &Document, a: &Apply, target: Option<Target>) -> Option<GpError> {
        let number = a.to_number.clone();
        let Some((remaining, owner, currency_id, state)) = target else {
            return Some(GpError::ApplyTargetMissing { number });
        };
        let digits = doc.currency.decimal_digits;
        if state == TxState::Work && !self.rules.allow_apply_to_unposted {
            Some(GpError::ApplyTargetUnposted { number })
        } else if owner != doc.customer_id {
            Some(GpError::ApplyCustomer { number, owner, customer: doc.customer_id.clone() })
        } else if currency_id != doc.currency.currency_id {
            Some(GpError::ApplyCurrency { number, target: currency_id, applying: doc.currency.currency_id.clone() })
        } else if a.amount_minor > remaining {
            Some(GpError::ApplyExceedsBalance {
                number,
                amount: format_minor(a.amount_minor, digits),
                remaining: format_minor(remaining, digits),
            })
        } else {
            None
        }
    }
}
