//! What reconciliation compares and what it reports: plain data, no calls. Field names are the
//! JSON output's (`--format json`), so renaming one is a breaking change for its readers.

use serde::Serialize;

use crate::bindings::types::DocKind;

/// A GP receivables document type (customers are not documents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocType {
    Invoice,
    DebitMemo,
    CashReceipt,
    CreditMemo,
}

impl DocType {
    /// The WIT kind's document type; none for a customer.
    pub fn of(kind: DocKind) -> Option<DocType> {
        Some(match kind {
            DocKind::Invoice => DocType::Invoice,
            DocKind::DebitMemo => DocType::DebitMemo,
            DocKind::CashReceipt => DocType::CashReceipt,
            DocKind::CreditMemo => DocType::CreditMemo,
            DocKind::Customer => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            DocType::Invoice => "invoice",
            DocType::DebitMemo => "debit memo",
            DocType::CashReceipt => "cash receipt",
            DocType::CreditMemo => "credit memo",
        }
    }

    /// Invoices and debit memos are owed by the customer; receipts and credit memos are owed
    /// to them.
    pub fn is_debit(self) -> bool {
        matches!(self, DocType::Invoice | DocType::DebitMemo)
    }
}

/// A GP document's identity: GP numbers documents per type.
pub type DocKey = (DocType, String);

/// One GP document as Chargebee (through the tenant's mapper) says GP should hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedDoc {
    pub doc_type: DocType,
    pub number: String,
    /// GP customer number (resolved when the mapper left it to the target).
    pub customer: String,
    pub currency: String,
    /// Document amount; none when only a void names the document.
    pub amount: Option<i64>,
    /// What GP should have left unapplied once it holds Chargebee's applies; none = not
    /// known from this record (not checked).
    pub remaining: Option<i64>,
    /// Chargebee voided it: GP should hold it voided.
    pub voided: bool,
    /// The Chargebee record behind it (`payment/txn_1`).
    pub record: String,
}

/// One GP document as GP holds it (`list-documents`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldDoc {
    pub doc_type: DocType,
    pub number: String,
    pub customer: String,
    pub currency: String,
    pub amount: i64,
    pub remaining: i64,
    pub posted: bool,
    pub voided: bool,
}

impl HeldDoc {
    /// What it adds to the customer's open balance: debit documents count positive, credit
    /// documents negative, voided documents nothing.
    pub fn open(&self) -> i64 {
        match (self.voided, self.doc_type.is_debit()) {
            (true, _) => 0,
            (false, true) => self.remaining,
            (false, false) => -self.remaining,
        }
    }
}

/// An apply the mapper asked for (written by the settle step once GP posted both documents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyLink {
    pub from: DocKey,
    pub to: DocKey,
}

/// What one Chargebee record contributes to its (GP customer, currency) line, in Chargebee's
/// own terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordBalance {
    pub customer: String,
    pub currency: String,
    pub amount_due: i64,
    pub unapplied_cash: i64,
    pub unused_credits: i64,
}

/// Chargebee's side of one line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ChargebeeTotals {
    /// Σ invoices' `amount-due` (voided and deleted invoices excluded), plus refunds not paid
    /// out of a credit note.
    pub amount_due: i64,
    /// Σ successful, non-deleted payments' amount − Σ their allocations.
    pub unapplied_cash: i64,
    /// Σ credit notes' total − Σ allocations − `refunded` (deleted ones excluded).
    pub unused_credits: i64,
    /// amount due − unapplied cash − unused credits.
    pub net_due: i64,
}

/// GP's side of one line (exceptions excluded unless `--strict`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GpTotals {
    /// Σ remaining of invoices and debit memos.
    pub amount_due: i64,
    /// Σ remaining of cash receipts.
    pub unapplied_cash: i64,
    /// Σ remaining of credit memos.
    pub unapplied_credits: i64,
    /// amount due − unapplied cash − unapplied credits (voided documents count 0).
    pub open_balance: i64,
    /// Documents still in an unposted batch.
    pub unposted: usize,
}

/// Hand-entered documents of a line, shown apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ExceptionTotals {
    pub count: usize,
    /// What they add to GP's open balance.
    pub open_balance: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// Every part equal.
    Ok,
    /// Parts differ only by applies or voids GP cannot take until a batch is posted.
    Pending,
    Differs,
}

impl LineStatus {
    pub fn label(self) -> &'static str {
        match self {
            LineStatus::Ok => "ok",
            LineStatus::Pending => "pending",
            LineStatus::Differs => "DIFFERS",
        }
    }
}

/// One (GP customer, currency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub customer: String,
    pub currency: String,
    pub status: LineStatus,
    pub chargebee: ChargebeeTotals,
    pub gp: GpTotals,
    /// GP open balance − Chargebee net due.
    pub difference: i64,
    pub exceptions: ExceptionTotals,
}

impl Line {
    /// Chargebee's and GP's parts all agree.
    pub fn parts_equal(&self) -> bool {
        let (c, g) = (&self.chargebee, &self.gp);
        c.amount_due == g.amount_due
            && c.unapplied_cash == g.unapplied_cash
            && c.unused_credits == g.unapplied_credits
            && c.net_due == g.open_balance
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// No GP document has the number.
    MissingInGp,
    /// GP holds another amount, customer or currency.
    Mismatch,
    /// GP's remaining differs from Chargebee's (nothing unposted explains it).
    Remaining,
    /// Chargebee voided it, GP holds it live (posted) — or the other way round.
    Voided,
    /// GP's remaining differs, and the apply waits for a batch to be posted.
    ApplyPending,
    /// Chargebee voided it, and the void waits for its batch to be posted.
    VoidPending,
    /// In GP, no Chargebee record maps to it (a difference only under `--strict`).
    HandEntered,
}

impl DifferenceKind {
    /// Waits for GP's posting: the connector settles it by itself.
    pub fn is_pending(self) -> bool {
        matches!(self, DifferenceKind::ApplyPending | DifferenceKind::VoidPending)
    }
}

/// One document that does not match, and the Chargebee record behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub customer: String,
    pub currency: String,
    pub doc_type: DocType,
    pub number: String,
    pub kind: DifferenceKind,
    pub record: Option<String>,
    pub what: String,
}

/// A document in GP that no Chargebee record maps to (keyed by hand in GP, most likely).
pub type Exception = HeldDoc;

/// A record the mapper refused (it is parked in the pipeline too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmappable {
    pub record: String,
    pub why: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Hand-entered documents counted as differences.
    pub strict: bool,
    /// `is_clean()`, for readers of the JSON.
    pub clean: bool,
    pub records_read: usize,
    pub lines: Vec<Line>,
    pub differences: Vec<Difference>,
    pub exceptions: Vec<Exception>,
    pub unmappable: Vec<Unmappable>,
}

impl Report {
    /// Nothing differs but what waits for GP's posting (hand-entered documents differ only
    /// under `--strict`).
    pub fn is_clean(&self) -> bool {
        self.lines.iter().all(|l| l.status != LineStatus::Differs)
            && self.differences.iter().all(|d| d.kind.is_pending())
    }

    /// Clean, and nothing waits for GP's posting either.
    pub fn is_settled(&self) -> bool {
        self.is_clean() && self.lines.iter().all(|l| l.status == LineStatus::Ok) && self.differences.is_empty()
    }

    /// Differences that are not pending.
    pub fn real_differences(&self) -> usize {
        self.differences.iter().filter(|d| !d.kind.is_pending()).count()
    }
}
