//! WIT values ↔ the target's model.

use ml_connector_sdk::target::exports::ml_connector::plugin::target_api::{SettleOutcome, TargetError, WriteOutcome};
use ml_connector_sdk::target::ml_connector::plugin::types::{
    Address as WitAddress, Apply as WitApply, BatchKey, CashReceipt, CreditMemo, Distribution, DistributionKind,
    DocKind as WitKind, Exchange as WitExchange, GpCustomer, LedgerDoc, ReceiptType, ReceivablesInvoice, TaxDetail,
    VoidDoc,
};

use crate::flows::Outcome;
use crate::model::{Address, Dist, DistKind, Doc, DocKind, Exchange, Party, TaxLine};
use crate::settle::{Apply, BatchRef, Settled, Void};
use crate::transport::Failure;

pub fn party(c: &GpCustomer) -> Party {
    Party {
        id: c.id.clone(),
        source_id: c.source_id.clone(),
        name: c.name.clone(),
        short_name: c.short_name.clone(),
        currency: c.currency.clone(),
        currency_id: c.currency_id.clone(),
        email: c.email.clone(),
        phone: c.phone.clone(),
        class_id: c.class_id.clone(),
        payment_terms: c.payment_terms.clone(),
        address: c.address.as_ref().map(address),
    }
}

fn address(a: &WitAddress) -> Address {
    Address {
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        state: a.state.clone(),
        country: a.country.clone(),
        zip: a.zip.clone(),
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

fn dist_kind(k: DistributionKind) -> DistKind {
    match k {
        DistributionKind::Receivables => DistKind::Receivables,
        DistributionKind::Sales => DistKind::Sales,
        DistributionKind::Tax => DistKind::Tax,
        DistributionKind::TradeDiscount => DistKind::TradeDiscount,
        DistributionKind::Cash => DistKind::Cash,
        DistributionKind::Writeoff => DistKind::Writeoff,
        DistributionKind::Other => DistKind::Other,
        DistributionKind::Freight => DistKind::Freight,
        DistributionKind::Misc => DistKind::Misc,
        DistributionKind::Returns => DistKind::Returns,
    }
}

fn dists(d: &[Distribution]) -> Vec<Dist> {
    d.iter()
        .map(|r| Dist {
            kind: dist_kind(r.kind),
            account: r.account.clone(),
            debit: r.debit,
            credit: r.credit,
            reference: r.reference.clone(),
        })
        .collect()
}

fn taxes(t: &[TaxDetail]) -> Vec<TaxLine> {
    t.iter()
        .map(|t| TaxLine { id: t.id.clone(), amount: t.amount, taxable: t.taxable_sales, account: t.account.clone() })
        .collect()
}

fn exchange(x: &Option<WitExchange>) -> Option<Exchange> {
    x.as_ref().map(|x| Exchange { rate: x.rate.clone(), date: x.date.clone(), rate_type: x.rate_type.clone() })
}

/// The common part of a document: identity, customer, currency.
struct Head<'a> {
    number: &'a str,
    customer: &'a str,
    source: &'a str,
    batch: &'a BatchKey,
    date: &'a str,
    currency: &'a str,
    currency_id: &'a str,
    exchange: &'a Option<WitExchange>,
}

fn blank(kind: DocKind, h: Head<'_>) -> Doc {
    Doc {
        customer_source: h.source.into(),
        currency_id: h.currency_id.into(),
        exchange: exchange(h.exchange),
        ..Doc::new(kind, h.number, h.customer, &h.batch.id, h.date, h.currency)
    }
}

/// An invoice or debit memo (the same WIT record).
fn debit_document(kind: DocKind, i: &ReceivablesInvoice) -> Doc {
    Doc {
        sales: i.sales,
        discount: i.trade_discount,
        freight: i.freight,
        misc: i.misc,
        tax: i.tax,
        total: i.total,
        description: i.description.clone(),
        po: i.customer_po.clone(),
        tax_schedule: i.tax_schedule.clone(),
        taxes: taxes(&i.tax_details),
        distributions: dists(&i.distributions),
        ..blank(
            kind,
            Head {
                number: &i.number,
                customer: &i.customer_id,
                source: &i.customer_source_id,
                batch: &i.batch,
                date: &i.date,
                currency: &i.currency,
                currency_id: &i.currency_id,
                exchange: &i.exchange,
            },
        )
    }
}

/// A document for `write-document`; none for customers, applies and voids (not documents).
pub fn to_doc(d: &LedgerDoc) -> Option<Doc> {
    Some(match d {
        LedgerDoc::Customer(_) | LedgerDoc::Apply(_) | LedgerDoc::Void(_) => return None,
        LedgerDoc::DebitMemo(i) => debit_document(DocKind::DebitMemo, i),
        LedgerDoc::Invoice(i) => debit_document(DocKind::Invoice, i),
        LedgerDoc::CreditMemo(c) => Doc {
            sales: c.sales,
            discount: c.trade_discount,
            misc: c.misc,
            tax: c.tax,
            total: c.total,
            description: c.description.clone(),
            tax_schedule: c.tax_schedule.clone(),
            taxes: taxes(&c.tax_details),
            distributions: dists(&c.distributions),
            ..blank(
                DocKind::CreditMemo,
                Head {
                    number: &c.number,
                    customer: &c.customer_id,
                    source: &c.customer_source_id,
                    batch: &c.batch,
                    date: &c.date,
                    currency: &c.currency,
                    currency_id: &c.currency_id,
                    exchange: &c.exchange,
                },
            )
        },
        LedgerDoc::CashReceipt(r) => Doc {
            total: r.amount,
            description: r.description.clone(),
            checkbook: Some(r.checkbook.clone()),
            receipt_type: receipt_type(r.receipt_type).into(),
            check_number: r.check_card_number.clone(),
            card_name: r.card_name.clone(),
            distributions: dists(&r.distributions),
            ..blank(
                DocKind::CashReceipt,
                Head {
                    number: &r.number,
                    customer: &r.customer_id,
                    source: &r.customer_source_id,
                    batch: &r.batch,
                    date: &r.date,
                    currency: &r.currency,
                    currency_id: &r.currency_id,
                    exchange: &r.exchange,
                },
            )
        },
    })
}

/// A document GP holds, as the WIT's `ledger-doc` (taxes and distributions are not read back).
pub fn to_ledger(d: Doc) -> LedgerDoc {
    let batch = BatchKey { source: d.kind.batch_source().into(), id: d.batch.clone() };
    let exchange = d.exchange.map(|x| WitExchange { rate: x.rate, date: x.date, rate_type: x.rate_type });
    let debit = d.kind;
    match d.kind {
        DocKind::Invoice | DocKind::DebitMemo => {
            let i = ReceivablesInvoice {
                number: d.number,
                customer_source_id: String::new(),
                customer_id: d.customer,
                batch,
                date: d.date,
                currency_id: d.currency_id,
                exchange,
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
                tax_schedule: d.tax_schedule,
                tax_details: vec![],
            };
            if debit == DocKind::DebitMemo { LedgerDoc::DebitMemo(i) } else { LedgerDoc::Invoice(i) }
        }
        DocKind::CreditMemo => LedgerDoc::CreditMemo(CreditMemo {
            number: d.number,
            customer_source_id: String::new(),
            customer_id: d.customer,
            batch,
            date: d.date,
            currency_id: d.currency_id,
            exchange,
            currency: d.currency,
            sales: d.sales,
            trade_discount: d.discount,
            misc: d.misc,
            tax: d.tax,
            total: d.total,
            description: d.description,
            distributions: vec![],
            tax_schedule: d.tax_schedule,
            tax_details: vec![],
        }),
        DocKind::CashReceipt => LedgerDoc::CashReceipt(CashReceipt {
            number: d.number,
            customer_source_id: String::new(),
            customer_id: d.customer,
            batch,
            date: d.date,
            currency_id: d.currency_id,
            exchange,
            currency: d.currency,
            amount: d.total,
            checkbook: d.checkbook.unwrap_or_default(),
            receipt_type: wit_receipt_type(&d.receipt_type),
            check_card_number: d.check_number,
            card_name: d.card_name,
            description: d.description,
            distributions: vec![],
        }),
    }
}

pub fn wit_kind(kind: DocKind) -> WitKind {
    match kind {
        DocKind::Invoice => WitKind::Invoice,
        DocKind::DebitMemo => WitKind::DebitMemo,
        DocKind::CreditMemo => WitKind::CreditMemo,
        DocKind::CashReceipt => WitKind::CashReceipt,
    }
}

/// A WIT document kind as the model's; customers are not documents.
pub fn kind(k: WitKind) -> Option<DocKind> {
    match k {
        WitKind::Invoice => Some(DocKind::Invoice),
        WitKind::DebitMemo => Some(DocKind::DebitMemo),
        WitKind::CreditMemo => Some(DocKind::CreditMemo),
        WitKind::CashReceipt => Some(DocKind::CashReceipt),
        WitKind::Customer => None,
    }
}

fn document_kind(k: WitKind, what: &str) -> Result<DocKind, Failure> {
    kind(k).ok_or_else(|| Failure::Permanent(format!("{what}: a customer is not a receivables document")))
}

pub fn apply(a: &WitApply) -> Result<Apply, Failure> {
    Ok(Apply {
        from: document_kind(a.from_kind, "apply from")?,
        from_number: a.from_number.clone(),
        to: document_kind(a.to_kind, "apply to")?,
        to_number: a.to_number.clone(),
        customer: a.customer_id.clone(),
        customer_source: a.customer_source_id.clone(),
        currency: a.currency.clone(),
        amount: a.amount,
        write_off: a.write_off,
        date: a.date.clone(),
    })
}

pub fn void(v: &VoidDoc) -> Result<Void, Failure> {
    Ok(Void {
        kind: document_kind(v.kind, "void")?,
        number: v.number.clone(),
        customer: v.customer_id.clone(),
        customer_source: v.customer_source_id.clone(),
        date: v.date.clone(),
        description: v.description.clone(),
    })
}

pub fn settled(s: Settled) -> SettleOutcome {
    match s {
        Settled::Written(m) => SettleOutcome::Written(m),
        Settled::AlreadyDone => SettleOutcome::AlreadyDone,
        Settled::Unposted(b) => SettleOutcome::Unposted(BatchKey { source: b.source, id: b.id }),
        Settled::Nothing(m) => SettleOutcome::Nothing(m),
    }
}

pub fn batch_ref(b: &BatchKey) -> BatchRef {
    BatchRef { source: b.source.clone(), id: b.id.clone() }
}

pub fn outcome(o: Outcome) -> WriteOutcome {
    match o {
        Outcome::Created => WriteOutcome::Created,
        Outcome::Updated => WriteOutcome::Updated,
        Outcome::AlreadyPresent => WriteOutcome::AlreadyPresent,
    }
}

pub fn error(f: Failure) -> TargetError {
    match f {
        Failure::Ambiguous(m) | Failure::Transient(m) => TargetError::Transient(m),
        Failure::Duplicate(m) | Failure::Rejected(m) => TargetError::Rejected(m),
        Failure::PeriodClosed(m) => TargetError::PeriodClosed(m),
        Failure::Conflict(m) => TargetError::Conflict(m),
        Failure::MissingDependency(m) => TargetError::MissingDependency(m),
        Failure::Permanent(m) => TargetError::Permanent(m),
    }
}
