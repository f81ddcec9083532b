//! Applies and voids between documents GP holds: the one set of checks every interface runs
//! (eConnect taRMApply / taRMVoidTransaction, the RMApply extension of SOAP and SBA, Web
//! Services VoidCashReceipt / VoidReceivablesCreditMemo), inside the caller's write.
//!
//! Apply: from a cash receipt or credit memo (posted or not: real integrations apply a receipt
//! of the same eConnect document) to a **posted** invoice or debit memo (unless
//! `allow_apply_to_unposted`), same customer and currency, APPTOAMT > 0, APPTOAMT + WROFAMNT
//! within the apply-to document's remaining amount and APPTOAMT within the apply-from's; the
//! apply's GL posting date in an open Sales period.
//!
//! Void: a **posted** (unless `allow_void_unposted`, INFERRED) cash receipt or credit memo in
//! the functional currency (DOC: not multicurrency), not voided yet, VOIDSTTS 1, VOIDDATE and
//! GLPOSTDT given, the GL posting date in an open Sales period. The void unapplies the
//! document (its RM20201 rows go, the apply-to documents' remaining amounts come back) and
//! leaves its remaining amount 0; it stays in the open table, as GP keeps voided documents
//! until Paid Transaction Removal.

use sqlx::SqliteConnection;

use super::{OpError, OpResult, Service};
use crate::date::Date;
use crate::db::{ApplyRow, Balance, Db};
use crate::ledger;
use crate::model::{Company, DocType, TxState};
use crate::money::format_minor;
use crate::rules::GpError;

/// An apply, amounts read in the documents' currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOrder {
    pub from: (DocType, String),
    pub to: (DocType, String),
    /// APPTOAMT, minor units.
    pub amount: i64,
    /// WROFAMNT, minor units.
    pub write_off: i64,
    /// APPLYDATE (default today).
    pub date: Option<Date>,
    /// GLPOSTDT (default the apply date).
    pub posting_date: Option<Date>,
}

/// A void of a credit document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoidOrder {
    pub doc_type: DocType,
    pub number: String,
    /// CUSTNMBR, when the caller names one (eConnect does; Web Services keys by number).
    pub customer: Option<String>,
    /// VOIDSTTS.
    pub status: i64,
    /// VOIDDATE (required).
    pub date: Option<Date>,
    /// GLPOSTDT (required).
    pub posting_date: Option<Date>,
}

/// The documents an apply goes from and to.
pub fn apply_from_type(t: DocType) -> bool {
    matches!(t, DocType::CashReceipt | DocType::CreditMemo)
}

pub fn apply_to_type(t: DocType) -> bool {
    matches!(t, DocType::Invoice | DocType::DebitMemo)
}

fn article(t: DocType) -> &'static str {
    match t {
        DocType::Invoice => "an invoice",
        DocType::DebitMemo => "a debit memo",
        DocType::CreditMemo => "a credit memo",
        DocType::CashReceipt => "a cash receipt",
    }
}

impl Service {
    /// Checks an apply against the balances as they are now and records it; every refusal
    /// comes back (nothing is written then).
    pub(crate) async fn apply_in_tx(
        &self,
        conn: &mut SqliteConnection,
        company: &Company,
        order: &ApplyOrder,
    ) -> OpResult<()> {
        let (from_type, from_number) = (order.from.0, order.from.1.as_str());
        let (to_type, to_number) = (order.to.0, order.to.1.as_str());
        let Some(from) = Db::balance_in_tx(conn, company.id, from_type, from_number).await? else {
            return Err(GpError::NotFound { kind: from_type.label(), id: from_number.to_string() }.into());
        };
        let to = Db::balance_in_tx(conn, company.id, to_type, to_number).await?;
        let digits = self.db.currency(company.id, &from.currency_id).await?.map_or(2, |c| c.decimal_digits);
        let mut errors: Vec<GpError> = self.apply_refusal(order, &from, to.as_ref(), digits).into_iter().collect();
        let date = order.date.unwrap_or_else(Date::today);
        let posting_date = order.posting_date.unwrap_or(date);
        errors.extend(ledger::period_refusal(conn, company.id, posting_date).await?);
        if !errors.is_empty() {
            return Err(OpError::Rejected(errors));
        }
        let row = ApplyRow {
            from: (from_type, from_number),
            to: (to_type, to_number),
            amount: order.amount,
            write_off: order.write_off,
            date,
            posting_date,
        };
        Db::apply(conn, company.id, &row).await?;
        Ok(())
    }

    /// The first reason GP would refuse the apply, in the order GP checks (INFERRED order).
    fn apply_refusal(&self, order: &ApplyOrder, from: &Balance, to: Option<&Balance>, digits: u32) -> Option<GpError> {
        let number = order.to.1.clone();
        let Some(to) = to else {
            return Some(GpError::ApplyTargetMissing { number, kind: article(order.to.0) });
        };
        let money = |v: i64| format_minor(v, digits);
        let taken = order.amount + order.write_off;
        if from.voided {
            Some(GpError::AlreadyVoided { number: order.from.1.clone() })
        } else if to.state == TxState::Work && !self.rules.allow_apply_to_unposted {
            Some(GpError::ApplyTargetUnposted { number })
        } else if to.customer != from.customer {
            Some(GpError::ApplyCustomer { number, owner: to.customer.clone(), customer: from.customer.clone() })
        } else if to.currency_id != from.currency_id {
            Some(GpError::ApplyCurrency { number, target: to.currency_id.clone(), applying: from.currency_id.clone() })
        } else if order.amount <= 0 {
            Some(GpError::ApplyAmountZero)
        } else if taken > to.remaining {
            Some(GpError::ApplyExceedsBalance { number, amount: money(taken), remaining: money(to.remaining) })
        } else if order.amount > from.remaining {
            Some(GpError::ApplyExceedsDocument { total: money(order.amount), available: money(from.remaining) })
        } else {
            None
        }
    }

    /// Checks a void and carries it out: unapply, remaining 0, VOIDSTTS / VOIDDATE.
    pub(crate) async fn void_in_tx(
        &self,
        conn: &mut SqliteConnection,
        company: &Company,
        order: &VoidOrder,
    ) -> OpResult<()> {
        let number = order.number.clone();
        let balance = Db::balance_in_tx(conn, company.id, order.doc_type, &number).await?;
        let Some(doc) = balance.filter(|b| order.customer.as_ref().is_none_or(|c| *c == b.customer)) else {
            return Err(GpError::NotFound { kind: order.doc_type.label(), id: number }.into());
        };
        let mut errors = Vec::new();
        if order.status != 1 {
            errors.push(GpError::VoidStatusInvalid { value: order.status });
        }
        if order.date.is_none() {
            errors.push(GpError::Required { property: "VOIDDATE" });
        }
        if doc.voided {
            errors.push(GpError::AlreadyVoided { number: number.clone() });
        } else if doc.state == TxState::Work && !self.rules.allow_void_unposted {
            errors.push(GpError::DocumentUnposted { number: number.clone() });
        }
        if doc.currency_id != company.functional_currency {
            errors.push(GpError::VoidMulticurrency { number: number.clone(), currency: doc.currency_id.clone() });
        }
        match order.posting_date {
            Some(d) => errors.extend(ledger::period_refusal(conn, company.id, d).await?),
            None => errors.push(GpError::Required { property: "GLPOSTDT" }),
        }
        if !errors.is_empty() {
            return Err(OpError::Rejected(errors));
        }
        let key = (order.doc_type, number.as_str());
        Db::unapply_from(conn, company.id, key).await?;
        Db::mark_voided(conn, company.id, key, order.status, order.date, order.posting_date).await?;
        Ok(())
    }
}

impl Service {
    /// Web Services' VoidCashReceipt / VoidReceivablesCreditMemo: the key only; void date and
    /// GL posting date are today (INFERRED: the Web Services take no dates), VOIDSTTS 1.
    pub async fn void_document(&self, company: &Company, doc_type: DocType, number: &str) -> OpResult<()> {
        let today = Date::today();
        let order = VoidOrder {
            doc_type,
            number: number.to_string(),
            customer: None,
            status: 1,
            date: Some(today),
            posting_date: Some(today),
        };
        let mut tx = self.db.begin_write().await?;
        self.void_in_tx(&mut tx, company, &order).await?;
        tx.commit().await?;
        Ok(())
    }
}
