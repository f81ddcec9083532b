//! The `target` world's export: WIT values ↔ the target's model, then the flows in `client`.

use ml_connector_sdk::target::exports::ml_connector::plugin::target_api::{
    Guest, LedgerBalance, TargetError, WriteOutcome,
};
use ml_connector_sdk::target::ml_connector::plugin::types::{
    Apply, BatchKey, CashReceipt, CreditMemo, DocKind as WitKind, GpCustomer, LedgerDoc, ReceiptType,
    ReceivablesInvoice,
};

use crate::client::{self, config};
use crate::model::{Doc, DocKind, Party};

struct GpTarget;

fn party(c: &GpCustomer) -> Party {
    Party {
        id: c.id.clone(),
        name: c.name.clone(),
        short_name: c.short_name.clone(),
        currency: c.currency.clone(),
        email: c.email.clone(),
    }
}

fn receipt_type(t: ReceiptType) -> &'static str {
    match t {
        ReceiptType::Check => "Check",
        ReceiptType::Cash => "Cash",
        ReceiptType::PaymentCard => "Payment Card",
    }
}

fn wit_receipt_type(t: &str) -> ReceiptType {
    match t {
        "Check" => ReceiptType::Check,
        "Payment Card" => ReceiptType::PaymentCard,
        _ => ReceiptType::Cash,
    }
}

fn to_doc(d: &LedgerDoc) -> Option<Doc> {
    let applies = |a: &[Apply]| a.iter().map(|x| (x.invoice_number.clone(), x.amount)).collect();
    let blank = |kind, number: &str, customer: &str, batch: &BatchKey, date: &str, currency: &str| {
        Doc::new(kind, number, customer, &batch.id, date, currency)
    };
    Some(match d {
        LedgerDoc::Customer(_) => return None,
        LedgerDoc::Invoice(i) => Doc {
            sales: i.sales,
            discount: i.trade_discount,
            freight: i.freight,
            misc: i.misc,
            tax: i.tax,
            total: i.total,
            description: i.description.clone(),
            po: i.customer_po.clone(),
            ..blank(DocKind::Invoice, &i.number, &i.customer_id, &i.batch, &i.date, &i.currency)
        },
        LedgerDoc::CreditMemo(c) => Doc {
            sales: c.sales,
            tax: c.tax,
            total: c.total,
            description: c.description.clone(),
            applies: applies(&c.applies),
            ..blank(DocKind::CreditMemo, &c.number, &c.customer_id, &c.batch, &c.date, &c.currency)
        },
        LedgerDoc::CashReceipt(r) => Doc {
            total: r.amount,
            description: r.description.clone(),
            checkbook: Some(r.checkbook.clone()),
            receipt_type: receipt_type(r.receipt_type).into(),
            check_number: r.check_card_number.clone(),
            applies: applies(&r.applies),
            ..blank(DocKind::CashReceipt, &r.number, &r.customer_id, &r.batch, &r.date, &r.currency)
        },
    })
}

fn to_ledger(d: Doc) -> LedgerDoc {
    let source = if d.kind == DocKind::CashReceipt { "RM_Cash" } else { "RM_Sales" };
    let batch = BatchKey { source: source.into(), id: d.batch.clone() };
    match d.kind {
        DocKind::Invoice => LedgerDoc::Invoice(ReceivablesInvoice {
            number: d.number,
            customer_source_id: String::new(),
            customer_id: d.customer,
            batch,
            date: d.date,
            currency_id: d.currency.clone(),
            exchange: None,
            currency: d.currency,
            sales: d.sales,
            trade_discount: d.discount,
            freight: d.freight,
            misc: d.misc,
            tax: d.tax,
            total: d.total,
            description: d.description,
            customer_po: d.po,
            distributions: vec![],
            tax_schedule: None,
            tax_details: vec![],
        }),
        DocKind::CreditMemo => LedgerDoc::CreditMemo(CreditMemo {
            number: d.number,
            customer_source_id: String::new(),
            customer_id: d.customer,
            batch,
            date: d.date,
            currency_id: d.currency.clone(),
            exchange: None,
            currency: d.currency,
            sales: d.sales,
            trade_discount: d.discount,
            misc: d.misc,
            tax: d.tax,
            total: d.total,
            description: d.description,
            applies: vec![],
            distributions: vec![],
            tax_schedule: None,
            tax_details: vec![],
        }),
        DocKind::CashReceipt => LedgerDoc::CashReceipt(CashReceipt {
            number: d.number,
            customer_source_id: String::new(),
            customer_id: d.customer,
            batch,
            date: d.date,
            currency_id: d.currency.clone(),
            exchange: None,
            currency: d.currency,
            amount: d.total,
            checkbook: d.checkbook.unwrap_or_default(),
            receipt_type: wit_receipt_type(&d.receipt_type),
            check_card_number: d.check_number,
            card_name: None,
            description: d.description,
            applies: vec![],
            distributions: vec![],
        }),
    }
}

fn wit_kind(kind: DocKind) -> WitKind {
    match kind {
        DocKind::Invoice => WitKind::Invoice,
        DocKind::CreditMemo => WitKind::CreditMemo,
        DocKind::CashReceipt => WitKind::CashReceipt,
    }
}

impl Guest for GpTarget {
    fn ensure_customer(customer: GpCustomer) -> Result<WriteOutcome, TargetError> {
        client::ensure_customer(&config()?, &party(&customer))
    }

    fn write_document(doc: LedgerDoc) -> Result<WriteOutcome, TargetError> {
        let gp = config()?;
        match (&doc, to_doc(&doc)) {
            (LedgerDoc::Customer(c), _) => client::ensure_customer(&gp, &party(c)),
            (_, Some(d)) => client::write(&gp, &d),
            (_, None) => Err(TargetError::Permanent("unsupported document".into())),
        }
    }

    fn find_document(kind: WitKind, number: String) -> Result<Option<LedgerDoc>, TargetError> {
        let gp = config()?;
        let kind = match kind {
            WitKind::Invoice => DocKind::Invoice,
            WitKind::CreditMemo => DocKind::CreditMemo,
            WitKind::CashReceipt => DocKind::CashReceipt,
            WitKind::Customer => return Err(TargetError::Permanent("find-document does not look up customers".into())),
        };
        Ok(client::find(&gp, kind, &number)?.map(to_ledger))
    }

    /// Neither GP Web Services nor (as far as is known) SBA exposes a fiscal-calendar read: a
    /// closed period shows as GP's own error on create (mapped to `period-closed`). So this says
    /// "open" and the host's periodic re-check retries parked documents, which GP refuses again
    /// while the period is closed.
    fn fiscal_period_open(_date: String) -> Result<bool, TargetError> {
        Ok(true)
    }

    fn list_documents(customer_id: String) -> Result<Vec<LedgerBalance>, TargetError> {
        let gp = config()?;
        Ok(client::list(&gp, &customer_id)?
            .into_iter()
            .map(|h| LedgerBalance {
                kind: wit_kind(h.doc.kind),
                number: h.doc.number,
                customer_id: h.doc.customer,
                currency: h.doc.currency,
                date: h.doc.date,
                amount: h.doc.total,
                remaining: h.remaining,
            })
            .collect())
    }
}

ml_connector_sdk::export_target!(GpTarget);
