//! The WSDL's business objects (Customer, ReceivablesInvoice, CashReceipt, Batch…) as [`Node`]
//! trees, to and from the stored model. SOAP and SBA share these, so both front ends see one
//! object model and one set of rules.

use crate::date::Date;
use crate::model::{Batch, Company, Currency, Customer, DocType, Document};
use crate::money::format_minor;
use crate::node::Node;

/// `{CompanyKey: {Id}, Id}`, the shape of every GreatPlainsKey with a plain id.
pub fn key(company: i32, id: &str) -> Node {
    Node::tree().with("CompanyKey", Node::tree().with("Id", company)).with("Id", id)
}

pub fn money(minor: i64, currency: &Currency) -> Node {
    Node::tree()
        .with("Currency", currency.iso_code.as_str())
        .with("Value", format_minor(minor, currency.decimal_digits))
        .with("DecimalDigits", currency.decimal_digits as i64)
}

pub fn currency_key(company: i32, currency: &Currency) -> Node {
    Node::tree().with("CompanyKey", Node::tree().with("Id", company)).with("ISOCode", currency.iso_code.as_str())
}

pub fn batch_key(company: i32, source: &str, id: &str, created: &str) -> Node {
    Node::tree()
        .with("CompanyKey", Node::tree().with("Id", company))
        .with("Source", source)
        .with("Id", id)
        .with("CreatedDateTime", created)
}

pub fn company(c: &Company) -> Node {
    Node::tree().with("Key", Node::tree().with("Id", c.id)).with("Name", c.name.as_str())
}

fn opt_key(company: i32, id: &Option<String>) -> Option<Node> {
    id.as_deref().map(|i| key(company, i))
}

pub fn customer(company: i32, c: &Customer, currency: Option<&Currency>) -> Node {
    Node::tree()
        .with("Key", key(company, &c.id))
        .with("IsOnHold", c.is_on_hold)
        .with("IsActive", c.is_active)
        .with_opt("Name", c.name.as_ref())
        .with_opt("Shortname", c.shortname.as_ref())
        .with_opt("StatementName", c.statement_name.as_ref())
        .with_opt("ClassKey", opt_key(company, &c.class_id))
        .with_opt("Comment1", c.comment1.as_ref())
        .with_opt("Comment2", c.comment2.as_ref())
        .with_opt("PaymentTermsKey", opt_key(company, &c.payment_terms_id))
        .with_opt("TaxRegistrationNumber", c.tax_registration.as_ref())
        .with_opt("CurrencyKey", currency.map(|cur| currency_key(company, cur)))
        .with("CreatedDate", c.created.as_str())
        .with("ModifiedDate", c.modified.as_str())
        .with("LastModifiedDate", c.modified.as_str())
        .with_opt("UserDefined1", c.user_defined1.as_ref())
        .with_opt("UserDefined2", c.user_defined2.as_ref())
        .with_opt("Addresses", c.addresses.clone())
}

pub fn customer_summary(company: i32, c: &Customer) -> Node {
    Node::tree()
        .with("Key", key(company, &c.id))
        .with_opt("Name", c.name.as_ref())
        .with("IsActive", c.is_active)
        .with("IsOnHold", c.is_on_hold)
        .with_opt("CustomerClassKey", opt_key(company, &c.class_id))
        .with("CreatedDate", c.created.as_str())
        .with("ModifiedDate", c.modified.as_str())
        .with("LastModifiedDate", c.modified.as_str())
}

/// ReceivablesInvoice / ReceivablesDebitMemo / ReceivablesCreditMemo (members of
/// ReceivablesDocument) or CashReceipt.
pub fn document(company: i32, d: &Document) -> Node {
    let cur = &d.currency;
    let batch = batch_key(company, &d.batch_source, &d.batch_id, &d.created);
    let posting_date = d.gl_posting_date.unwrap_or(d.date);
    let void_date = d.void.and_then(|v| v.date).map_or(Node::Nil, |v| Node::text(v.xml()));
    if d.doc_type == DocType::CashReceipt {
        return Node::tree()
            .with("CustomerKey", key(company, &d.customer_id))
            .with("Key", key(company, &d.number))
            .with_opt("CheckCardNumber", d.check_number.as_ref())
            .with("BatchKey", batch)
            .with_opt("Type", d.cash_type.as_ref())
            .with_opt("BankAccountKey", opt_key(company, &d.checkbook_id))
            .with("Date", d.date.xml())
            .with("GeneralLedgerPostingDate", posting_date.xml())
            .with("ModifiedDate", d.modified.as_str())
            .with("Amount", money(d.amounts.document, cur))
            .with_opt("Description", d.description.as_ref())
            .with("CurrencyKey", currency_key(company, cur))
            .with("IsVoided", d.void.is_some())
            .with("VoidDate", void_date)
            .with_opt("Distributions", d.distributions.clone());
    }
    let a = &d.amounts;
    Node::tree()
        .with("Key", key(company, &d.number))
        .with("Type", d.doc_type.wsdl_name())
        .with("Date", d.date.xml())
        .with("DocumentAmount", money(a.document, cur))
        .with("SalesAmount", money(a.sales, cur))
        .with_opt("Description", d.description.as_ref())
        .with_opt("CustomerPONumber", d.po_number.as_ref())
        .with("CostAmount", money(a.cost, cur))
        .with("TradeDiscountAmount", money(a.trade_discount, cur))
        .with("FreightAmount", money(a.freight, cur))
        .with("MiscellaneousAmount", money(a.misc, cur))
        .with("TaxAmount", money(a.tax, cur))
        .with_opt("CustomerName", d.customer_name.as_ref())
        .with("TransactionState", d.state.wsdl_name())
        .with("GeneralLedgerPostingDate", posting_date.xml())
        .with("CurrentDocumentAmount", money(d.remaining, cur))
        .with("IsDeleted", false)
        .with("IsVoided", d.void.is_some())
        .with("VoidDate", void_date)
        .with("ModifiedDate", d.modified.as_str())
        .with("BatchKey", batch)
        .with("CustomerKey", key(company, &d.customer_id))
        .with("CurrencyKey", currency_key(company, cur))
        .with_opt("Distributions", d.distributions.clone())
}

pub fn document_summary(company: i32, d: &Document) -> Node {
    let cur = &d.currency;
    Node::tree()
        .with("Key", key(company, &d.number))
        .with("CustomerKey", key(company, &d.customer_id))
        .with_opt("CustomerPONumber", d.po_number.as_ref())
        .with_opt("CustomerName", d.customer_name.as_ref())
        .with("Date", d.date.xml())
        .with("CurrencyKey", currency_key(company, cur))
        .with("BatchKey", batch_key(company, &d.batch_source, &d.batch_id, &d.created))
        .with("TradeDiscountAmount", money(d.amounts.trade_discount, cur))
        .with("FreightAmount", money(d.amounts.freight, cur))
        .with("MiscellaneousAmount", money(d.amounts.misc, cur))
        .with("TaxAmount", money(d.amounts.tax, cur))
        .with("DocumentAmount", money(d.amounts.document, cur))
        .with("ModifiedDate", d.modified.as_str())
        .with("TransactionState", d.state.wsdl_name())
        .with("Type", d.doc_type.wsdl_name())
}

pub fn batch(company: i32, b: &Batch) -> Node {
    Node::tree()
        .with("Key", batch_key(company, &b.source, &b.id, &b.created))
        .with("NumberOfTransactions", b.transactions)
        .with("Frequency", "Single Use")
        .with_opt("Comment", b.comment.as_ref())
        .with_opt("Total", b.currency.as_ref().map(|c| money(b.total_minor, c)))
        .with_opt("CurrencyKey", b.currency.as_ref().map(|c| currency_key(company, c)))
        .with_opt("BankAccountKey", opt_key(company, &b.checkbook_id))
}

/// Evaluates a GP string restriction (Like/Between/List) against a value. An absent
/// restriction matches everything. `Like` uses SQL wildcards (`%`, `_`), as GP's does.
pub fn string_restriction_matches(restriction: Option<&Node>, value: &str) -> bool {
    let Some(r) = restriction.filter(|r| !r.is_nil()) else {
        return true;
    };
    let s = |name| r.str_at(&[name]);
    if let Some(v) = s("EqualValue")
        && value != v
    {
        return false;
    }
    if let Some(v) = s("NotEqualValue")
        && value == v
    {
        return false;
    }
    if let Some(items) = r.at(&["Items"])
        && !items.all("string").any(|i| i.as_str() == Some(value))
    {
        return false;
    }
    use std::cmp::Ordering::{Equal, Greater, Less};
    let bounds: [(&str, &[std::cmp::Ordering]); 4] =
        [("From", &[Greater, Equal]), ("To", &[Less, Equal]), ("GreaterThan", &[Greater]), ("LessThan", &[Less])];
    for (name, allowed) in bounds {
        if let Some(bound) = s(name)
            && !allowed.contains(&value.cmp(bound))
        {
            return false;
        }
    }
    match s("Like") {
        Some(pattern) => like(pattern, value),
        None => true,
    }
}

fn like(pattern: &str, value: &str) -> bool {
    fn go(p: &[char], v: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('%', rest)) => (0..=v.len()).any(|i| go(rest, &v[i..])),
            Some(('_', rest)) => !v.is_empty() && go(rest, &v[1..]),
            Some((c, rest)) => v.first().is_some_and(|x| x.eq_ignore_ascii_case(c)) && go(rest, &v[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    go(&p, &v)
}

/// Evaluates a date restriction (BetweenRestrictionOfNullableOfDateTime).
pub fn date_restriction_matches(restriction: Option<&Node>, value: Date) -> bool {
    let Some(r) = restriction.filter(|r| !r.is_nil()) else {
        return true;
    };
    let d = |name| r.str_at(&[name]).and_then(crate::date::parse_datetime);
    d("EqualValue").is_none_or(|x| value == x)
        && d("NotEqualValue").is_none_or(|x| value != x)
        && d("From").is_none_or(|x| value >= x)
        && d("To").is_none_or(|x| value <= x)
        && d("GreaterThan").is_none_or(|x| value > x)
        && d("LessThan").is_none_or(|x| value < x)
}

/// Evaluates an enumeration list restriction (EqualValue / NotEqualValue / Items).
pub fn enum_restriction_matches(restriction: Option<&Node>, item_name: &str, value: &str) -> bool {
    let Some(r) = restriction.filter(|r| !r.is_nil()) else {
        return true;
    };
    r.str_at(&["EqualValue"]).is_none_or(|v| v == value)
        && r.str_at(&["NotEqualValue"]).is_none_or(|v| v != value)
        && r.at(&["Items"]).is_none_or(|items| items.all(item_name).any(|i| i.as_str() == Some(value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restrictions() {
        let like_r = Node::tree().with("Like", "INV%");
        assert!(string_restriction_matches(Some(&like_r), "INV-001"));
        assert!(!string_restriction_matches(Some(&like_r), "CR-001"));
        let between = Node::tree().with("From", "B").with("To", "D");
        assert!(string_restriction_matches(Some(&between), "C"));
        assert!(!string_restriction_matches(Some(&between), "E"));
        assert!(string_restriction_matches(None, "x"));
        let items = Node::tree().with("Items", Node::list("string", ["A".into(), "B".into()]));
        assert!(string_restriction_matches(Some(&items), "B") && !string_restriction_matches(Some(&items), "C"));
    }
}
