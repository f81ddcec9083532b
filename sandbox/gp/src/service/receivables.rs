//! GetCustomerReceivablesSummaryByKey: a customer's balance and aging as GP's Customer
//! Summary shows them, computed from posted (open) documents and posted applies only — an
//! unposted document or an apply involving one does not count until its batch posts.
//!
//! Aging (INFERRED, GP's defaults in Receivables Management Setup): by **document date** (the
//! emulator keeps no due date), four periods Current (0–30 days), 31–60, 61–90, 91 and over
//! in Period1–4 (Period5–7 unused, zero); unapplied payments and credit memos are not aged
//! ("Age Unapplied Credit Amounts" unmarked): they reduce the current period.

use super::{OpResult, Service};
use crate::date::Date;
use crate::db::OpenItem;
use crate::model::{Company, Currency, DocType};
use crate::node::Node;
use crate::objects::{key, money};

/// Upper bounds (days old, inclusive) of the aging periods before the last one.
const PERIOD_ENDS: [i64; 3] = [30, 60, 90];

/// A customer's posted balance, aged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Aging {
    /// Period1..Period7 amounts, minor units.
    pub periods: [i64; 7],
    /// Σ remaining debit documents − Σ unapplied credit documents.
    pub balance: i64,
    /// Unapplied cash receipts and credit memos (included, negative, in Period1).
    pub unapplied_credits: i64,
}

fn is_credit(t: DocType) -> bool {
    matches!(t, DocType::CreditMemo | DocType::CashReceipt)
}

/// Ages the open items as of `today`.
pub fn age(items: &[OpenItem], today: Date) -> Aging {
    let mut a = Aging::default();
    for item in items {
        let remaining = item.amount - item.posted_applied;
        if is_credit(item.doc_type) {
            a.unapplied_credits += remaining;
            a.periods[0] -= remaining;
            a.balance -= remaining;
            continue;
        }
        let days = today.days() - item.date.days();
        let period = PERIOD_ENDS.iter().position(|end| days <= *end).unwrap_or(PERIOD_ENDS.len());
        a.periods[period] += remaining;
        a.balance += remaining;
    }
    a
}

impl Service {
    /// The CustomerReceivablesSummary of a customer, or `None` if there is no such customer.
    pub async fn receivables_summary(&self, co: &Company, customer: &str) -> OpResult<Option<Node>> {
        let Some(c) = self.db.customer(co.id, customer).await? else {
            return Ok(None);
        };
        let currency_id = c.currency_id.clone().unwrap_or_else(|| co.functional_currency.clone());
        let currency = match self.db.currency(co.id, &currency_id).await? {
            Some(cur) => cur,
            None => Currency { currency_id, iso_code: String::new(), decimal_digits: 2 },
        };
        let items = self.db.open_items(co.id, &c.id).await?;
        let today = Date::today();
        let a = age(&items, today);
        let mut aging = Node::tree();
        for (i, amount) in a.periods.iter().enumerate() {
            aging = aging.with(&format!("Period{}Amount", i + 1), money(*amount, &currency));
        }
        aging = aging.with("LastAgedDate", today.xml()).with("BalanceAmount", money(a.balance, &currency));
        let last_payment = items.iter().filter(|i| i.doc_type == DocType::CashReceipt).max_by_key(|i| i.date);
        let last = items.iter().max_by_key(|i| i.date);
        Ok(Some(
            Node::tree()
                .with("Key", key(co.id, &c.id))
                .with("Aging", aging)
                .with_opt("LastPaymentAmount", last_payment.map(|p| money(p.amount, &currency)))
                .with("LastPaymentDate", last_payment.map_or(Node::Nil, |p| Node::text(p.date.xml())))
                .with("LastStatementDate", Node::Nil)
                .with_opt("LastTransactionAmount", last.map(|t| money(t.amount, &currency)))
                .with("LastTransactionDate", last.map_or(Node::Nil, |t| Node::text(t.date.xml()))),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(doc_type: DocType, days_old: i64, amount: i64, applied: i64) -> OpenItem {
        OpenItem {
            doc_type,
            number: format!("D{days_old}"),
            date: Date::from_days(20_000 - days_old),
            currency_id: "Z-US$".into(),
            amount,
            posted_applied: applied,
        }
    }

    #[test]
    fn ages_by_document_date_and_nets_unapplied_credits() {
        let today = Date::from_days(20_000);
        let items = [
            item(DocType::Invoice, 0, 100, 0),
            item(DocType::Invoice, 30, 50, 20),
            item(DocType::Invoice, 31, 70, 0),
            item(DocType::DebitMemo, 90, 40, 0),
            item(DocType::Invoice, 91, 10, 0),
            item(DocType::Invoice, -5, 5, 0),
            item(DocType::CashReceipt, 2, 60, 20),
            item(DocType::CreditMemo, 100, 15, 15),
        ];
        let a = age(&items, today);
        assert_eq!(a.periods, [100 + 30 + 5 - 40, 70, 40, 10, 0, 0, 0]);
        assert_eq!(a.unapplied_credits, 40);
        assert_eq!(a.balance, 100 + 30 + 70 + 40 + 10 + 5 - 40);
    }
}
