//! eConnect's answers: the read queries' rows (docs/econnect.md: columns by name, values as
//! text) into the model, and `econnect-error` into the flows' [`Failure`].

use ml_connector_sdk::money::from_decimal;

use super::{EcError, Rows};
use crate::model::{Address, AfterFailure, Doc, DocKind, Party, classify_refusal};
use crate::transport::Failure;

impl Rows {
    fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.eq_ignore_ascii_case(name))
    }

    /// Row `row`'s value of column `name`, trimmed; none when NULL, empty or absent.
    pub fn get(&self, row: usize, name: &str) -> Option<String> {
        let v = self.rows.get(row)?.get(self.col(name)?)?.as_deref()?.trim();
        (!v.is_empty()).then(|| v.to_string())
    }

    /// Whether the answer has the column (e.g. CURTRXAM: an open or history row).
    pub fn col_exists(&self, name: &str) -> bool {
        self.col(name).is_some()
    }

    pub fn text(&self, row: usize, name: &str) -> String {
        self.get(row, name).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// A `numeric(19,5)` value in minor units of `iso` (GP pads with zeros; more real digits than
/// the currency has is an error).
pub fn minor(rows: &Rows, row: usize, name: &str, iso: &str) -> Result<i64, Failure> {
    match rows.get(row, name) {
        None => Ok(0),
        Some(v) => from_decimal(&v, iso).map_err(|e| Failure::Transient(format!("GP's {name}: {e}"))),
    }
}

/// A `datetime` as `YYYY-MM-DD`.
fn day(rows: &Rows, row: usize, name: &str) -> String {
    rows.text(row, name).chars().take(10).collect()
}

/// RM00101 (query `customer`) and the PRIMARY address's e-mail (query `customer-email`).
pub fn customer(rows: &Rows, email: Option<String>) -> Option<Party> {
    let id = rows.get(0, "CUSTNMBR")?;
    let address = Address {
        line1: rows.get(0, "ADDRESS1"),
        line2: rows.get(0, "ADDRESS2"),
        city: rows.get(0, "CITY"),
        state: rows.get(0, "STATE"),
        country: rows.get(0, "COUNTRY"),
        zip: rows.get(0, "ZIP"),
    };
    Some(Party {
        id,
        name: rows.text(0, "CUSTNAME"),
        short_name: rows.get(0, "SHRTNAME"),
        currency_id: rows.text(0, "CURNCYID"),
        class_id: rows.get(0, "CUSTCLAS"),
        payment_terms: rows.get(0, "PYMTRMID"),
        phone: rows.get(0, "PHONE1"),
        address: (address != Address::default()).then_some(address),
        email,
        ..Party::default()
    })
}

/// A document from its work row (`sales-work`: every amount; `receipt-work`) or its open or
/// history row (`document-open`/`-history`: the document amount only). `iso` is the ISO code of
/// its CURNCYID.
pub fn document(kind: DocKind, rows: &Rows, iso: &str) -> Result<Option<Doc>, Failure> {
    let Some(number) = rows.get(0, "DOCNUMBR") else { return Ok(None) };
    let mut d = Doc {
        currency_id: rows.text(0, "CURNCYID"),
        ..Doc::new(kind, &number, &rows.text(0, "CUSTNMBR"), &rows.text(0, "BACHNUMB"), &day(rows, 0, "DOCDATE"), iso)
    };
    if rows.col("SLSAMNT").is_some() {
        d.total = minor(rows, 0, "DOCAMNT", iso)?;
        d.sales = minor(rows, 0, "SLSAMNT", iso)?;
        d.discount = minor(rows, 0, "TRDISAMT", iso)?;
        d.freight = minor(rows, 0, "FRTAMNT", iso)?;
        d.misc = minor(rows, 0, "MISCAMNT", iso)?;
        d.tax = minor(rows, 0, "TAXAMNT", iso)?;
        d.description = rows.get(0, "DOCDESCR");
        d.po = rows.get(0, "CSTPONBR");
        d.tax_schedule = rows.get(0, "TAXSCHID");
    } else {
        d.total = minor(rows, 0, "ORTRXAMT", iso)?;
        d.totals_only = kind != DocKind::CashReceipt;
    }
    if rows.col("CSHRCTYP").is_some() {
        d.receipt_type = match rows.text(0, "CSHRCTYP").as_str() {
            "0" => "Check",
            "2" => "Payment Card",
            _ => "Cash",
        }
        .into();
        d.checkbook = rows.get(0, "CHEKBKID");
        d.check_number = rows.get(0, "CHEKNMBR");
        d.card_name = rows.get(0, "CRCARDID");
        d.description = rows.get(0, "TRXDSCRN");
    }
    Ok(Some(d))
}

/// What an `econnect-error` of a write means for the flows: eConnect's refusal as
/// "eConnect error N: text (node)" classified like GP's messages (a taken number → look up),
/// `transient` → ambiguous (look up), everything else permanent (`invalid` is our bug).
pub fn write_failure(e: EcError) -> Failure {
    match e {
        EcError::Refused { node, number, text, details } => {
            let mut message = format!("eConnect error {number}: {text} ({node})");
            for (n, t) in details.iter().filter(|(n, _)| *n != number) {
                message += &format!("; {n}: {t}");
            }
            let all = format!("{text} {}", details.iter().map(|d| d.1.as_str()).collect::<Vec<_>>().join(" "));
            if number == DUPLICATE_DOCUMENT || is_taken(&all) {
                return Failure::Duplicate(message);
            }
            if number == BATCH_BUSY {
                return Failure::Transient(format!("{message}; retrying after GP has posted the batch"));
            }
            match classify_refusal(&all) {
                AfterFailure::LookUp { .. } => Failure::Duplicate(message),
                AfterFailure::BatchBusy(_) => {
                    Failure::Transient(format!("{message}; retrying after GP has posted the batch"))
                }
                AfterFailure::PeriodClosed(_) => Failure::PeriodClosed(message),
                AfterFailure::MissingDependency(_) => Failure::MissingDependency(message),
                AfterFailure::Rejected(_) => Failure::Rejected(message),
            }
        }
        EcError::Transient(m) => Failure::Ambiguous(format!("eConnect: {m}")),
        EcError::Invalid(m) => Failure::Permanent(format!("eConnect refused our document as not valid (a bug): {m}")),
        EcError::Denied(m) => Failure::Permanent(format!("eConnect denied: {m}")),
        EcError::Server(m) => Failure::Permanent(format!("SQL Server: {m}")),
    }
}

/// eConnect's number for "Document number (DOCNUMBR) already exists in either RM00401,
/// RM10301, RM20101 or RM30101" (gp-wire-shapes; the emulator's `DuplicateDocument`).
pub const DUPLICATE_DOCUMENT: i32 = 190;

/// The GP emulator's number for "Batch is marked for posting by another user." (GP client
/// text, KB 850289; eConnect's own number is not public). The text is recognised too
/// (`model::is_batch_busy`), whatever the number.
pub const BATCH_BUSY: i32 = 9046;

/// A refusal saying the key is taken (a document number, or a customer number on create).
fn is_taken(text: &str) -> bool {
    text.contains("already exists") && (text.contains("DOCNUMBR") || text.contains("CUSTNMBR"))
}

/// A read's failure: retry later unless nothing will change.
pub fn read_failure(e: EcError) -> Failure {
    match e {
        EcError::Transient(m) => Failure::Transient(format!("eConnect: {m}")),
        EcError::Refused { node, number, text, .. } => {
            Failure::Transient(format!("eConnect error {number}: {text} ({node})"))
        }
        other => write_failure(other),
    }
}
