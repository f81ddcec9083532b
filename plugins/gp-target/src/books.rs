//! What the target reads of GP's books before it writes: the Sales series' fiscal period of a
//! date, the first open period after it, and a batch's size. eConnect reads them (the
//! `fiscal-period`, `next-open-period` and `batch` queries); GP Web Services and SBA cannot, so a
//! SOAP/SBA connection reads them through its `econnect` grant when it has one ([`Books`] is then
//! `crate::econnect::Econnect` over the host's `econnect`), and otherwise lets GP decide on create.
//!
//! The decisions are here, once: the GL posting date under `gp.closed_period` ([`posting_date`])
//! and the batch a document goes to under `gp.closed_period` and `gp.batch.max_documents`
//! ([`batch_for`]). Pure: the books are a trait, so they test natively.

use crate::model::{Doc, DocKind};
use crate::transport::Failure;

/// GP's text for a document dated in a closed period (KB 933357).
pub const PERIOD_CLOSED: &str = "The fiscal period that contains the document date is closed.";

/// GP's batch ids are char(15).
pub const BATCH_ID_MAX: usize = 15;

/// Continuation batches `-02` … `-99` under `gp.batch.max_documents`.
pub const MAX_SEQUENCE: u32 = 99;

/// `gp.closed_period`: what a document, apply or void dated in a closed Sales period does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClosedPeriod {
    /// `period-closed`: the host parks it until GP's period is open again (default).
    #[default]
    Wait,
    /// Written with the GL posting date = the first day of the first open Sales period after
    /// it, the document date kept (and, for invoices and memos, into a batch of that date).
    NextOpenPeriod,
}

/// The writing rules the settings give (`gp.closed_period`, `gp.batch.max_documents`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    pub closed_period: ClosedPeriod,
    /// None: no cap.
    pub max_documents: Option<u32>,
}

/// A date's Sales period (SY40100, `PSERIES_2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Open,
    Closed,
    /// No period set up for the date (GP refuses the year).
    Missing,
}

/// A batch as SY00500 holds it (unposted: GP deletes a batch header when it posts it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// NUMOFTRX.
    pub documents: u32,
    /// BCHTOTAL, GP's decimal text.
    pub total: String,
}

/// GP's books as far as a write needs them.
pub trait Books {
    fn period(&self, date: &str) -> Result<Period, Failure>;
    /// The first day of the first open Sales period starting after `date`; none when GP has none.
    fn next_open_period(&self, date: &str) -> Result<Option<String>, Failure>;
    /// The unposted batch; none when GP has no such batch (never created, or posted).
    fn batch(&self, source: &str, id: &str) -> Result<Option<Batch>, Failure>;
}

/// The GL posting date for something dated `date` (`what` names it on the timeline): none = the
/// date itself. Without books (SOAP/SBA without an `econnect` grant) GP decides on create. An
/// open period → none; no period → `period-closed` (resumes once GP has the year); a closed one
/// → `period-closed` under `wait`, the next open period's first day under `next_open_period`
/// (noted on the record's timeline), `period-closed` when GP has no open period after it.
pub fn posting_date(
    books: Option<&dyn Books>,
    closed: ClosedPeriod,
    date: &str,
    what: &str,
    note: &dyn Fn(&str),
) -> Result<Option<String>, Failure> {
    let Some(books) = books else { return Ok(None) };
    match books.period(date)? {
        Period::Open => Ok(None),
        Period::Missing => {
            Err(Failure::PeriodClosed(format!("A fiscal period has not been set up for the document date {date}")))
        }
        Period::Closed if closed == ClosedPeriod::Wait => Err(Failure::PeriodClosed(PERIOD_CLOSED.into())),
        Period::Closed => match books.next_open_period(date)? {
            Some(p) => {
                note(&format!(
                    "{what}: period of {date} closed: GL posting date {p} (next open period), document date kept"
                ));
                Ok(Some(p))
            }
            None => Err(Failure::PeriodClosed(format!(
                "{PERIOD_CLOSED} GP has no open Sales period after {date} (gp.closed_period = next_open_period)"
            ))),
        },
    }
}

/// The suffix of a batch of invoices/memos moved to another posting date: `P` + the posting
/// date's month (`CB231130-INV` → `CB231130-INVP12`). GLPOSTDT is per batch, so these documents
/// cannot share the batch of their document date.
pub fn period_suffix(gl_date: &str) -> String {
    format!("P{}", gl_date.get(5..7).unwrap_or("00"))
}

/// `-02` … `-99`.
pub fn sequence_suffix(n: u32) -> String {
    format!("-{n:02}")
}

fn suffixed(base: &str, suffix: &str, setting: &str) -> Result<String, Failure> {
    if base.chars().count() + suffix.chars().count() > BATCH_ID_MAX {
        return Err(Failure::Permanent(format!(
            "batch id {base:?} cannot take the suffix {suffix:?} ({setting}) within GP's {BATCH_ID_MAX} characters: shorten the mapper's map.batch.* pattern"
        )));
    }
    Ok(format!("{base}{suffix}"))
}

/// The batch `doc` goes to: its own, with the posting-period suffix when its GL posting date
/// was moved (invoices and memos; a receipt carries GLPOSTDT itself), then — under
/// `gp.batch.max_documents`, when the books can be read — the first of it, `-02`, `-03` … that
/// holds fewer documents than the cap (a retry after an ambiguous write may pick the next one:
/// GP's duplicate check spans every batch, so the look-up finds the document).
pub fn batch_for(books: Option<&dyn Books>, rules: &Rules, doc: &Doc) -> Result<String, Failure> {
    let base = match &doc.gl_date {
        Some(gl) if doc.kind != DocKind::CashReceipt => {
            suffixed(&doc.batch, &period_suffix(gl), "gp.closed_period = next_open_period")?
        }
        _ => doc.batch.clone(),
    };
    let (Some(max), Some(books)) = (rules.max_documents, books) else { return Ok(base) };
    for n in 1..=MAX_SEQUENCE {
        let id = if n == 1 { base.clone() } else { suffixed(&base, &sequence_suffix(n), "gp.batch.max_documents")? };
        match books.batch(doc.kind.batch_source(), &id)? {
            Some(b) if b.documents >= max => continue,
            _ => return Ok(id),
        }
    }
    Err(Failure::Rejected(format!(
        "batch {base} and its continuations -02 … -{MAX_SEQUENCE} each hold {max} documents (gp.batch.max_documents): post them in GP"
    )))
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Books held in memory: periods by first day, closed flags, batches.
    #[derive(Default)]
    pub struct Ledger {
        /// (first day, last day, closed)
        pub periods: Vec<(&'static str, &'static str, bool)>,
        pub batches: Vec<(&'static str, u32)>,
    }

    impl Books for Ledger {
        fn period(&self, date: &str) -> Result<Period, Failure> {
            Ok(match self.periods.iter().find(|(a, b, _)| *a <= date && date <= *b) {
                None => Period::Missing,
                Some((_, _, true)) => Period::Closed,
                Some(_) => Period::Open,
            })
        }
        fn next_open_period(&self, date: &str) -> Result<Option<String>, Failure> {
            Ok(self.periods.iter().find(|(a, _, closed)| *a > date && !closed).map(|p| p.0.to_string()))
        }
        fn batch(&self, _source: &str, id: &str) -> Result<Option<Batch>, Failure> {
            Ok(self.batches.iter().find(|b| b.0 == id).map(|b| Batch { documents: b.1, total: "0".into() }))
        }
    }

    pub fn november_closed() -> Ledger {
        Ledger {
            periods: vec![
                ("2025-11-01", "2025-11-30", true),
                ("2025-12-01", "2025-12-31", true),
                ("2026-01-01", "2026-01-31", false),
            ],
            ..Ledger::default()
        }
    }

    #[test]
    fn a_closed_period_waits_or_moves_to_the_next_open_one() {
        let books = november_closed();
        let notes = RefCell::new(vec![]);
        let note = |m: &str| notes.borrow_mut().push(m.to_string());
        let wait = posting_date(Some(&books), ClosedPeriod::Wait, "2025-11-30", "invoice CB-1", &note);
        assert_eq!(wait, Err(Failure::PeriodClosed(PERIOD_CLOSED.into())));
        let moved = posting_date(Some(&books), ClosedPeriod::NextOpenPeriod, "2025-11-30", "invoice CB-1", &note);
        assert_eq!(moved, Ok(Some("2026-01-01".into())));
        assert_eq!(
            notes.borrow().as_slice(),
            [
                "invoice CB-1: period of 2025-11-30 closed: GL posting date 2026-01-01 (next open period), document date kept"
            ]
        );
        assert_eq!(posting_date(Some(&books), ClosedPeriod::NextOpenPeriod, "2026-01-05", "x", &note), Ok(None));
        assert!(matches!(
            posting_date(Some(&books), ClosedPeriod::NextOpenPeriod, "2024-01-05", "x", &note),
            Err(Failure::PeriodClosed(m)) if m.contains("not been set up")
        ));
        let none_open = Ledger { periods: vec![("2025-11-01", "2025-11-30", true)], ..Ledger::default() };
        assert!(matches!(
            posting_date(Some(&none_open), ClosedPeriod::NextOpenPeriod, "2025-11-30", "x", &note),
            Err(Failure::PeriodClosed(m)) if m.contains("no open Sales period after 2025-11-30")
        ));
        // Without books GP decides on create.
        assert_eq!(posting_date(None, ClosedPeriod::NextOpenPeriod, "2025-11-30", "x", &note), Ok(None));
    }

    fn invoice(batch: &str) -> Doc {
        Doc::new(DocKind::Invoice, "CB-1", "ACME", batch, "2025-11-30", "USD")
    }

    #[test]
    fn moved_invoices_get_a_batch_of_their_posting_date_and_receipts_keep_theirs() {
        let moved = Doc { gl_date: Some("2026-01-01".into()), ..invoice("CB251130-INV") };
        assert_eq!(batch_for(None, &Rules::default(), &moved), Ok("CB251130-INVP01".into()));
        let receipt = Doc { kind: DocKind::CashReceipt, ..moved.clone() };
        assert_eq!(batch_for(None, &Rules::default(), &receipt), Ok("CB251130-INV".into()));
        let long = Doc { gl_date: Some("2026-01-01".into()), ..invoice("CB20251130-INV") };
        assert!(matches!(batch_for(None, &Rules::default(), &long), Err(Failure::Permanent(m)) if m.contains("P01")));
    }

    #[test]
    fn a_full_batch_continues_in_the_next_sequence() {
        let rules = Rules { max_documents: Some(2), ..Rules::default() };
        let books = Ledger { batches: vec![("CB251130-INV", 2), ("CB251130-INV-02", 2)], ..Ledger::default() };
        assert_eq!(batch_for(Some(&books), &rules, &invoice("CB251130-INV")), Ok("CB251130-INV-03".into()));
        assert_eq!(batch_for(Some(&books), &rules, &invoice("OTHER")), Ok("OTHER".into()));
        let roomy = Rules { max_documents: Some(3), ..Rules::default() };
        assert_eq!(batch_for(Some(&books), &roomy, &invoice("CB251130-INV")), Ok("CB251130-INV".into()));
        // Unreadable books (SOAP without a grant): no cap.
        assert_eq!(batch_for(None, &rules, &invoice("CB251130-INV")), Ok("CB251130-INV".into()));
        let full = Ledger { batches: vec![("CB251130-INVX", 2)], ..Ledger::default() };
        assert!(matches!(
            batch_for(Some(&full), &rules, &invoice("CB251130-INVX")),
            Err(Failure::Permanent(m)) if m.contains("-02") && m.contains("gp.batch.max_documents")
        ));
    }
}
