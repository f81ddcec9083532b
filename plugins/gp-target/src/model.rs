//! The target's own view of GP documents, independent of the wire (SOAP or SBA) and of the WIT
//! bindings, so the idempotency decisions are plain functions that test natively.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Invoice,
    CreditMemo,
    CashReceipt,
    /// RMDTYPAL 3: a refund paid out (a refundable credit memo is applied to it).
    DebitMemo,
}

impl DocKind {
    /// GP's RMDTYPAL: invoice 1, debit memo 3, credit memo 7, cash receipt 9.
    pub fn rmdtypal(self) -> i32 {
        match self {
            DocKind::Invoice => 1,
            DocKind::DebitMemo => 3,
            DocKind::CreditMemo => 7,
            DocKind::CashReceipt => 9,
        }
    }

    pub fn from_rmdtypal(n: i32) -> Option<DocKind> {
        match n {
            1 => Some(DocKind::Invoice),
            3 => Some(DocKind::DebitMemo),
            7 => Some(DocKind::CreditMemo),
            9 => Some(DocKind::CashReceipt),
            _ => None,
        }
    }

    /// GP's batch source: receipts `RM_Cash`, every other document `RM_Sales`.
    pub fn batch_source(self) -> &'static str {
        if self == DocKind::CashReceipt { "RM_Cash" } else { "RM_Sales" }
    }

    /// A debit document (what credit documents are applied to).
    pub fn is_debit(self) -> bool {
        matches!(self, DocKind::Invoice | DocKind::DebitMemo)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub zip: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    /// CUSTNMBR; empty on arrival = allocated by `numbers`.
    pub id: String,
    /// The Chargebee customer id (empty when GP's copy was read).
    pub source_id: String,
    pub name: String,
    pub short_name: Option<String>,
    /// ISO 4217 (SOAP and SBA name currencies so).
    pub currency: String,
    /// GP's CURNCYID (eConnect names currencies so); may be empty on GP's SOAP/SBA copy.
    pub currency_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub class_id: Option<String>,
    pub payment_terms: Option<String>,
    pub address: Option<Address>,
}

/// The customer fields the connector owns: the only ones it ever writes on an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owned {
    Name,
    Email,
    Phone,
    Address,
    Class,
    Terms,
    Currency,
}

/// Owned fields where `ours` says something GP's copy does not; empty = nothing to update. A
/// field we leave empty (`None`) is GP's to keep, never cleared.
pub fn customer_changes(ours: &Party, theirs: &Party) -> Vec<Owned> {
    let differs = |a: &Option<String>, b: &Option<String>| {
        a.as_deref().is_some_and(|a| !a.trim().eq_ignore_ascii_case(b.as_deref().unwrap_or_default().trim()))
    };
    let mut out = Vec::new();
    if ours.name.trim() != theirs.name.trim() {
        out.push(Owned::Name);
    }
    if differs(&ours.email, &theirs.email) {
        out.push(Owned::Email);
    }
    if differs(&ours.phone, &theirs.phone) {
        out.push(Owned::Phone);
    }
    if ours.address.as_ref().is_some_and(|a| !same_address(a, theirs.address.as_ref())) {
        out.push(Owned::Address);
    }
    if differs(&ours.class_id, &theirs.class_id) {
        out.push(Owned::Class);
    }
    if differs(&ours.payment_terms, &theirs.payment_terms) {
        out.push(Owned::Terms);
    }
    let currency_differs = if !ours.currency_id.is_empty() && !theirs.currency_id.is_empty() {
        !ours.currency_id.trim().eq_ignore_ascii_case(theirs.currency_id.trim())
    } else {
        !ours.currency.trim().eq_ignore_ascii_case(theirs.currency.trim())
    };
    if currency_differs {
        out.push(Owned::Currency);
    }
    out
}

fn same_address(ours: &Address, theirs: Option<&Address>) -> bool {
    let empty = Address::default();
    let t = theirs.unwrap_or(&empty);
    let eq = |a: &Option<String>, b: &Option<String>| {
        a.as_deref().unwrap_or_default().trim() == b.as_deref().unwrap_or_default().trim()
    };
    eq(&ours.line1, &t.line1)
        && eq(&ours.line2, &t.line2)
        && eq(&ours.city, &t.city)
        && eq(&ours.state, &t.state)
        && eq(&ours.country, &t.country)
        && eq(&ours.zip, &t.zip)
}

/// GP distribution types (DISTTYPE), as the WIT's distribution-kind documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistKind {
    Cash,
    Receivables,
    Writeoff,
    Other,
    Sales,
    TradeDiscount,
    Freight,
    Misc,
    Tax,
    Returns,
}

impl DistKind {
    /// The DISTTYPE on a document of `kind`: the sales-returns offset of a credit memo is GP's
    /// CRMEMO (19) — RETURNS (17) belongs to return documents (RMDTYPAL 8), which the connector
    /// never writes; GP's allowed-types table lists 19, not 17, for credit memos.
    pub fn disttype_on(self, kind: DocKind) -> i32 {
        match (self, kind) {
            (DistKind::Returns, DocKind::CreditMemo) => 19,
            _ => self.disttype(),
        }
    }

    pub fn disttype(self) -> i32 {
        match self {
            DistKind::Cash => 1,
            DistKind::Receivables => 3,
            DistKind::Writeoff => 4,
            DistKind::Other => 8,
            DistKind::Sales => 9,
            DistKind::TradeDiscount => 10,
            DistKind::Freight => 11,
            DistKind::Misc => 12,
            DistKind::Tax => 13,
            DistKind::Returns => 17,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dist {
    pub kind: DistKind,
    /// GL account number (ACTNUMST).
    pub account: String,
    pub debit: i64,
    pub credit: i64,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxLine {
    /// TAXDTLID.
    pub id: String,
    pub amount: i64,
    pub taxable: i64,
    pub account: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// Decimal text, ≤ 7 places.
    pub rate: String,
    pub date: String,
    pub rate_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    pub kind: DocKind,
    pub number: String,
    /// CUSTNMBR; empty on arrival = resolve `customer_source` (see `numbers`).
    pub customer: String,
    pub customer_source: String,
    pub batch: String,
    /// YYYY-MM-DD
    pub date: String,
    /// ISO 4217.
    pub currency: String,
    /// GP's CURNCYID (eConnect's name for the currency).
    pub currency_id: String,
    pub exchange: Option<Exchange>,
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
    /// SY03100 CARDNAME of a payment-card receipt.
    pub card_name: Option<String>,
    pub tax_schedule: Option<String>,
    pub taxes: Vec<TaxLine>,
    pub distributions: Vec<Dist>,
    /// The GL posting date when it is not the document date (`gp.closed_period =
    /// next_open_period` moved it into the first open period); none = the document date.
    pub gl_date: Option<String>,
    /// GP's copy carries only the document amount (eConnect's open/history tables): sales and
    /// tax are not compared.
    pub totals_only: bool,
}

impl Doc {
    /// A document with its identity and no amounts or options yet.
    pub fn new(kind: DocKind, number: &str, customer: &str, batch: &str, date: &str, currency: &str) -> Doc {
        Doc {
            kind,
            number: number.into(),
            customer: customer.into(),
            customer_source: String::new(),
            batch: batch.into(),
            date: date.into(),
            currency: currency.into(),
            currency_id: String::new(),
            exchange: None,
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
            card_name: None,
            tax_schedule: None,
            taxes: vec![],
            distributions: vec![],
            gl_date: None,
            totals_only: false,
        }
    }

    /// The GL posting date GP is given: the moved one, else the document date.
    pub fn posting_date(&self) -> &str {
        self.gl_date.as_deref().unwrap_or(&self.date)
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
    if ours.kind != DocKind::CashReceipt && !theirs.totals_only {
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
    /// The batch is being posted (or in use): nothing was written; retry with backoff.
    BatchBusy(String),
    Rejected(String),
}

/// GP's texts for a batch that cannot take documents now: the client's "Batch is marked for
/// posting by another user." (KB 850289, the emulator's 9046) and its siblings for a batch being
/// posted, edited or held by another user (texts of GP's batch-activity messages).
pub fn is_batch_busy(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("batch")
        && (m.contains("marked for posting")
            || m.contains("being posted")
            || m.contains("in use")
            || m.contains("being edited")
            || m.contains("by another user"))
}

/// Classify GP's message for a refused create.
pub fn classify_refusal(message: &str) -> AfterFailure {
    let m = message.to_ascii_lowercase();
    if m.contains("already exists in either") || m.contains("duplicate document") {
        AfterFailure::LookUp { ambiguous: false }
    } else if is_batch_busy(message) {
        AfterFailure::BatchBusy(message.to_string())
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
        for busy in [
            "Batch is marked for posting by another user.",
            "Batch CB251125-INV is being posted",
            "This batch is in use by another user",
        ] {
            assert!(matches!(classify_refusal(busy), AfterFailure::BatchBusy(_)), "{busy}");
        }
        assert!(!is_batch_busy("Batch CB1 has source RM_Cash; this document needs a RM_Sales batch"));
    }
}
