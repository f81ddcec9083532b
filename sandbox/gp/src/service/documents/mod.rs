//! Receivables documents (invoices, credit memos, cash receipts): create, get by key, list.
//!
//! A create reads the document member by member ([`reader`], every refusal collected, as GP
//! reports them all at once), then writes it under SQLite's write lock with its applies
//! ([`write`]).

mod lines;
mod reader;
mod write;

use super::members::text;
use super::{ApplyRequest, OpError, OpResult, Service};
use crate::date::now_timestamp;
use crate::model::{Company, DocType, Document, TxState};
use crate::node::Node;
use crate::objects;
use reader::DocumentReader;

impl Service {
    /// Creates an invoice, credit memo or cash receipt from its WSDL object. `applies` carry
    /// the applies of a cash receipt or credit memo (see README: how applies are sent).
    pub async fn create_document(
        &self,
        company: &Company,
        doc_type: DocType,
        node: &Node,
        applies: &[ApplyRequest],
    ) -> OpResult<Document> {
        // The checks run in this order so the errors come in the order GP lists them.
        let mut r = DocumentReader::new(self, company, doc_type, node);
        let number = r.number();
        let (customer_id, customer) = r.customer().await?;
        let batch_id = r.batch_id();
        let date = r.date();
        let posting_date = r.posting_date();
        let currency = r.currency(customer.as_ref()).await?;
        let texts = r.texts();
        let checkbook_id = r.checkbook(currency.as_ref()).await?;
        let Some(currency) = currency else {
            return Err(OpError::Rejected(r.errors));
        };
        let amounts = r.amounts(&currency);
        let mut lines = lines::read(&mut r.errors, node, doc_type, &currency);
        lines.glpost_date = posting_date;
        let applies = r.applies(applies, &currency, amounts.document);
        let (Some(number), Some(customer_id), Some(batch_id), true) =
            (number, customer_id, batch_id, r.errors.is_empty())
        else {
            return Err(OpError::Rejected(r.errors));
        };
        let is_cash = doc_type == DocType::CashReceipt;
        let now = now_timestamp();
        let doc = Document {
            doc_type,
            number,
            customer_name: customer.and_then(|c| c.name),
            customer_id,
            date,
            batch_id,
            batch_source: doc_type.batch_source().to_string(),
            currency,
            amounts,
            remaining: amounts.document,
            description: texts.description,
            po_number: texts.po_number,
            checkbook_id,
            cash_type: is_cash.then(|| text(node, &["Type"]).unwrap_or_else(|| "Check".to_string())),
            check_number: texts.check_number,
            distributions: node.get("Distributions").filter(|d| !d.is_nil()).cloned(),
            state: TxState::Work,
            gl_posting_date: None,
            void: None,
            created: now.clone(),
            modified: now,
        };
        self.insert_document(company, doc, &applies, &lines).await
    }

    pub async fn get_document(&self, company: &Company, doc_type: DocType, number: &str) -> OpResult<Option<Node>> {
        Ok(self.db.document(company.id, doc_type, number).await?.map(|d| objects::document(company.id, &d)))
    }

    pub async fn document_list(&self, company: &Company, criteria: Option<&Node>) -> OpResult<Node> {
        let crit = |name| criteria.and_then(|c| c.get(name));
        let items = self
            .db
            .documents(company.id)
            .await?
            .into_iter()
            .filter(|d| objects::string_restriction_matches(crit("DocumentId"), &d.number))
            .filter(|d| objects::string_restriction_matches(crit("CustomerId"), &d.customer_id))
            .filter(|d| objects::string_restriction_matches(crit("BatchId"), &d.batch_id))
            .filter(|d| objects::date_restriction_matches(crit("Date"), d.date))
            .filter(|d| {
                objects::enum_restriction_matches(crit("Type"), "ReceivablesDocumentType", d.doc_type.wsdl_name())
            })
            .filter(|d| {
                objects::enum_restriction_matches(
                    crit("TransactionState"),
                    "ReceivablesTransactionState",
                    d.state.wsdl_name(),
                )
            })
            .map(|d| objects::document_summary(company.id, &d))
            .collect::<Vec<_>>();
        Ok(Node::list("ReceivablesDocumentSummary", items))
    }
}
