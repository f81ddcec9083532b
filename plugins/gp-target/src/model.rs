//! The target's own view of GP documents, independent of the wire (SOAP or SBA) and of the WIT
//! bindings, so the idempotency decisions are plain functions that test natively.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Invoice,
    CreditMemo,
    CashReceipt,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub id: String,
    pub name: String,
    pub short_name: Option<String>,
    pub currency: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    pub kind: DocKind,
    pub number: String,
    pub customer: String,
    pub batch: String,
    /// YYYY-MM-DD
    pub date: String,
    pub currency: String,
    pub sales: i64,
    pub discount: i64,
    pub freight: i64,
    pub misc: i64,
    pub tax: i64,
    /// Document amount (receipts: the amount).
    pub total: i64,
    pub description: Option<String>,
    pub po: Option<String>,
    pub checkbook: Option<String>,
    /// Check | Cash | Payment Card (receipts; the WSDL enum)
    pub receipt_type: String,
    pub check_number: Option<String>,
    /// (invoice number, amount)
    pub applies: Vec<(String, i64)>,
}

impl Doc {
    /// A document with its identity and no amounts, options or applies yet.
    pub fn new(kind: DocKind, number: &str, customer: &str, batch: &str, date: &str, currency: &str) -> Doc {
        Doc {
            kind,
            number: number.into(),
            customer: customer.into(),
            batch: batch.into(),
            date: date.into(),
            currency: currency.into(),
            sales: 0,
            discount: 0,
            freight: 0,
            misc: 0,
            tax: 0,
            total: 0,
            description: None,
            po: None,
            checkbook: None,
            receipt_type: String::new(),
            check_number: None,
            applies: vec![],
        }
    }
}

/// Fields where GP's copy differs from ours; empty = the same document. Compares what
/// identifies a document's effect on the ledger (customer, date, currency, amounts), not
/// what GP fills in or may normalise (descriptions, batch timestamps).
pub fn differences(ours: &Doc, theirs: &Doc) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |name: &str, a: String, b: String| {
        if !a.eq_ignore_ascii_case(&b) {
            out.push(format!("{name}: ours {a:?}, GP {b:?}"));
        }
    };
    check("customer", ours.customer.clone(), theirs.customer.clone());
    check("date", ours.date.clone(), theirs.date.clone());
    check("currency", ours.currency.clone(), theirs.currency.clone());
    check("amount", ours.total.to_string(), theirs.total.to_string());
    if ours.kind != DocKind::CashReceipt {
        check("sales", ours.sales.to_string(), theirs.sales.to_string());
        check("tax", ours.tax.to_string(), theirs.tax.to_string());
    }
    out
}

/// What to do after GP refused or failed a create.
#[derive(Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Look the document up: it may be ours (duplicate number, or an ambiguous failure).
    LookUp {
        ambiguous: bool,
    },
    PeriodClosed(String),
    MissingDependency(String),
    Rejected(String),
}

/// Classify GP's message for a refused create.
pub fn classify_refusal(message: &str) -> AfterFailure {
    let m = message.to_ascii_lowercase();
    if m.contains("already exists in either") || m.contains("duplicate document") {
        AfterFailure::LookUp { ambiguous: false }
    } else if m.contains("fiscal period") && m.contains("closed") {
        AfterFailure::PeriodClosed(message.to_string())
    } else if (m.contains("custnmbr") && m.contains("does not exist"))
        || (m.contains("aptodcnm") && m.contains("does not exist"))
    {
        AfterFailure::MissingDependency(message.to_string())
    } else {
        AfterFailure::Rejected(message.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Doc {
        Doc {
            sales: 1000,
            tax: 80,
            total: 1080,
            ..Doc::new(DocKind::Invoice, "CB-INV-1", "ACME", "CB261125-INV", "2026-11-25", "USD")
        }
    }

    #[test]
    fn same_document_has_no_differences_and_changes_are_named() {
        let a = doc();
        let mut b = doc();
        b.description = Some("GP's own text".into());
        assert!(differences(&a, &b).is_empty());
        b.total = 1081;
        b.customer = "OTHER".into();
        let d = differences(&a, &b);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.iter().any(|x| x.starts_with("amount")) && d.iter().any(|x| x.starts_with("customer")));
    }

    #[test]
    fn refusals_are_classified() {
        assert_eq!(
            classify_refusal(
                "Document number (DOCNUMBR) already exists in either RM00401, RM10301, RM20101 or RM30101"
            ),
            AfterFailure::LookUp { ambiguous: false }
        );
        assert!(matches!(
            classify_refusal("The fiscal period that contains the document date is closed."),
            AfterFailure::PeriodClosed(_)
        ));
        assert!(matches!(
            classify_refusal("The Customer Number (CUSTNMBR) does not exist in the Customer Master Table - RM00101"),
            AfterFailure::MissingDependency(_)
        ));
        assert!(matches!(
            classify_refusal("Apply To Document Number (APTODCNM) X does not exist as an invoice"),
            AfterFailure::MissingDependency(_)
        ));
        assert!(matches!(classify_refusal("Document Amount is incorrect"), AfterFailure::Rejected(_)));
    }
}
