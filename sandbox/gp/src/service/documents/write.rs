//! Writing a new document under SQLite's write lock: the batch's state, the duplicate-number
//! check, the ledger's checks, the document, then its applies (the RMApply extension) checked
//! by the same code as eConnect's taRMApply ([`super::super::settle`]).

use super::super::settle::ApplyOrder;
use super::super::{OpError, OpResult, Service};
use crate::db::Db;
use crate::ledger::{self, Lines};
use crate::model::{Apply, Company, Document};
use crate::rules::GpError;

impl Service {
    /// The write itself, under SQLite's write lock. A batch being posted is refused alone
    /// (9046: retry once the batch is posted); otherwise every refusal comes back at once.
    pub(super) async fn insert_document(
        &self,
        company: &Company,
        mut doc: Document,
        applies: &[Apply],
        lines: &Lines,
    ) -> OpResult<Document> {
        let mut tx = self.db.begin_write().await?;
        if Service::batch_busy(&mut tx, company.id, &doc.batch_id, &doc.batch_source).await? {
            return Err(GpError::BatchBusy { id: doc.batch_id.clone() }.into());
        }
        let scope = (!self.rules.doc_number_unique_across_types).then_some(doc.doc_type);
        if Db::doc_number_taken(&mut tx, company.id, &doc.number, scope).await? {
            return Err(GpError::DuplicateDocument { number: doc.number }.into());
        }
        let (checked, mut errors) = ledger::check(&mut tx, company, &self.rules, &doc, lines).await?;
        let posting_date = ledger::posting_date(&mut tx, company.id, &doc, lines).await?;
        // Written before its applies are checked, inside the transaction: an apply reads the
        // applying document like any other; a refusal rolls everything back.
        let checkbook = doc.checkbook_id.clone();
        Db::ensure_batch(&mut tx, company.id, &doc.batch_id, &doc.batch_source, checkbook.as_deref()).await?;
        Db::insert_document(&mut tx, company.id, &doc).await?;
        ledger::store(&mut tx, company.id, &doc, lines, &checked).await?;
        for a in applies {
            let order = ApplyOrder {
                from: (doc.doc_type, doc.number.clone()),
                to: (a.to_type, a.to_number.clone()),
                amount: a.amount_minor,
                write_off: 0,
                date: Some(doc.date),
                posting_date: Some(posting_date),
            };
            match self.apply_in_tx(&mut tx, company, &order).await {
                Ok(()) => doc.remaining -= a.amount_minor,
                Err(OpError::Rejected(refused)) => errors.extend(refused),
                Err(e) => return Err(e),
            }
        }
        if !errors.is_empty() {
            return Err(OpError::Rejected(errors));
        }
        tx.commit().await?;
        self.activity.touch(company.id, &doc.batch_id, &doc.batch_source);
        self.counters.document_written();
        doc.gl_posting_date = Some(posting_date);
        Ok(doc)
    }
}
