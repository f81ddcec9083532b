//! What the emulated GP stores: companies, currencies, checkbooks, customers, batches and RM
//! documents, in GP's own terms (RMDTYPAL, BCHSOURC, work/open/history).

use crate::date::Date;
use crate::node::Node;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub id: i32,
    pub name: String,
    /// GP currency id of the functional currency (e.g. `Z-US$`).
    pub functional_currency: String,
    /// Checkbook used for cash receipts that name none (RM setup default).
    pub default_checkbook: Option<String>,
}

/// A GP currency (MC40200) with the ISO code Web Services names it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency {
    pub currency_id: String,
    pub iso_code: String,
    pub decimal_digits: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkbook {
    pub id: String,
    pub currency_id: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Customer {
    pub id: String,
    pub name: Option<String>,
    pub shortname: Option<String>,
    pub statement_name: Option<String>,
    pub class_id: Option<String>,
    pub currency_id: Option<String>,
    pub payment_terms_id: Option<String>,
    pub comment1: Option<String>,
    pub comment2: Option<String>,
    pub user_defined1: Option<String>,
    pub user_defined2: Option<String>,
    pub tax_registration: Option<String>,
    pub is_active: bool,
    pub is_on_hold: bool,
    /// The Addresses member as received (ArrayOfCustomerAddress), kept verbatim.
    pub addresses: Option<Node>,
    pub created: String,
    pub modified: String,
}

/// RM document types (RMDTYPAL) the emulator handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocType {
    Invoice,
    DebitMemo,
    CreditMemo,
    CashReceipt,
}

impl DocType {
    pub fn rmdtypal(self) -> i64 {
        match self {
            Self::Invoice => 1,
            Self::DebitMemo => 3,
            Self::CreditMemo => 7,
            Self::CashReceipt => 9,
        }
    }

    pub fn from_rmdtypal(v: i64) -> Option<Self> {
        match v {
            1 => Some(Self::Invoice),
            3 => Some(Self::DebitMemo),
            7 => Some(Self::CreditMemo),
            9 => Some(Self::CashReceipt),
            _ => None,
        }
    }

    /// ReceivablesDocumentType enumeration value.
    pub fn wsdl_name(self) -> &'static str {
        match self {
            Self::Invoice => "Invoice",
            Self::DebitMemo => "Debit Memo",
            Self::CreditMemo => "Credit Memo",
            Self::CashReceipt => "Cash Receipt",
        }
    }

    pub fn batch_source(self) -> &'static str {
        match self {
            Self::Invoice | Self::DebitMemo | Self::CreditMemo => "RM_Sales",
            Self::CashReceipt => "RM_Cash",
        }
    }

    /// Name used in messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Invoice => "Receivables invoice",
            Self::DebitMemo => "Receivables debit memo",
            Self::CreditMemo => "Receivables credit memo",
            Self::CashReceipt => "Cash receipt",
        }
    }
}

/// Which table a document is in: work (unposted), open (posted) or history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxState {
    Work,
    Open,
    History,
}

impl TxState {
    pub fn wsdl_name(self) -> &'static str {
        match self {
            Self::Work => "Work",
            Self::Open => "Open",
            Self::History => "History",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub id: String,
    pub source: String,
    pub comment: Option<String>,
    pub checkbook_id: Option<String>,
    pub created: String,
    pub transactions: i64,
    /// Sum of document amounts, in minor units of `currency`, when all documents share one.
    pub total_minor: i64,
    pub currency: Option<Currency>,
}

/// Amounts of an RM document in minor units of its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amounts {
    pub sales: i64,
    pub trade_discount: i64,
    pub freight: i64,
    pub misc: i64,
    pub tax: i64,
    pub cost: i64,
    /// DOCAMNT (for a cash receipt, ORTRXAMT).
    pub document: i64,
}

impl Amounts {
    /// GP's rule: DOCAMNT = SLSAMNT - TRDISAMT + FRTAMNT + MISCAMNT + TAXAMNT.
    pub fn computed_document(&self) -> i64 {
        self.sales - self.trade_discount + self.freight + self.misc + self.tax
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub doc_type: DocType,
    pub number: String,
    pub customer_id: String,
    pub customer_name: Option<String>,
    pub date: Date,
    pub batch_id: String,
    pub batch_source: String,
    pub currency: Currency,
    pub amounts: Amounts,
    /// CURTRXAM: what is left to apply (invoice: unpaid; receipt/credit memo: unapplied).
    pub remaining: i64,
    pub description: Option<String>,
    pub po_number: Option<String>,
    pub checkbook_id: Option<String>,
    /// Check | Cash | Payment Card.
    pub cash_type: Option<String>,
    pub check_number: Option<String>,
    pub distributions: Option<Node>,
    pub state: TxState,
    /// The GL posting date GP checks the fiscal period against (GeneralLedgerPostingDate):
    /// the document's own (receipt GLPOSTDT, WSDL `GeneralLedgerPostingDate`), else its
    /// batch's, else the document date. `None` until read back from the store.
    pub gl_posting_date: Option<Date>,
    /// Set once the document is voided (taRMVoidTransaction, VoidCashReceipt).
    pub void: Option<VoidInfo>,
    pub created: String,
    pub modified: String,
}

/// RM20101 VOIDSTTS and VOIDDATE of a voided document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoidInfo {
    /// 1 void (2 NSF and 3 waived are not emulated).
    pub status: i64,
    pub date: Option<Date>,
}

/// An apply carried by a new cash receipt or credit memo (the RMApply extension), to an
/// invoice or debit memo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Apply {
    pub to_type: DocType,
    pub to_number: String,
    pub amount_minor: i64,
}

/// One RM20201 row: what a credit document is applied to (one row per pair of documents;
/// later applies between the same two add to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRecord {
    pub from_type: DocType,
    pub from_number: String,
    pub to_type: DocType,
    pub to_number: String,
    pub amount_minor: i64,
    /// WROFAMNT: written off the apply-to document with the apply.
    pub write_off_minor: i64,
}
