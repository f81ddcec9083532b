//! The opaque poll cursor: where a walk stands, so a crash mid-walk resumes on the same page.
//!
//! Text form `cb1:<mode>:<phase>:<offset>`; the offset is Chargebee's `next_offset` verbatim
//! (it may contain `:`, so it is last) and empty at the start of a phase.

use ml_connector_sdk::source::ml_connector::plugin::types::RecordKind;

/// Backfill walks customers first: every document needs its customer in the ledger first.
pub const BACKFILL_ORDER: [RecordKind; 4] =
    [RecordKind::Customer, RecordKind::Invoice, RecordKind::Payment, RecordKind::CreditNote];

#[derive(Debug, Clone, PartialEq)]
pub enum Cursor {
    Backfill { phase: RecordKind, offset: Option<String> },
    Events { offset: Option<String> },
}

fn phase_name(kind: RecordKind) -> &'static str {
    crate::records::collection(kind)
}

impl Cursor {
    pub fn encode(&self) -> String {
        match self {
            Cursor::Backfill { phase, offset } => {
                format!("cb1:backfill:{}:{}", phase_name(*phase), offset.as_deref().unwrap_or(""))
            }
            Cursor::Events { offset } => format!("cb1:events::{}", offset.as_deref().unwrap_or("")),
        }
    }

    pub fn decode(text: &str) -> Result<Cursor, String> {
        let bad = || {
            format!("poll cursor {text:?} was not made by this Chargebee source (expected cb1:<mode>:<phase>:<offset>)")
        };
        let mut parts = text.splitn(4, ':');
        let (Some("cb1"), Some(mode), Some(phase), Some(offset)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let offset = Some(offset.to_string()).filter(|o| !o.is_empty());
        match (mode, phase) {
            ("events", "") => Ok(Cursor::Events { offset }),
            ("backfill", phase) => {
                let phase = BACKFILL_ORDER.into_iter().find(|k| phase_name(*k) == phase).ok_or_else(bad)?;
                Ok(Cursor::Backfill { phase, offset })
            }
            _ => Err(bad()),
        }
    }

    /// Where a backfill goes after a page: the same phase's next page, the next phase, or done.
    pub fn after_backfill_page(phase: RecordKind, next_offset: Option<String>) -> Option<Cursor> {
        if next_offset.is_some() {
            return Some(Cursor::Backfill { phase, offset: next_offset });
        }
        let at = BACKFILL_ORDER.iter().position(|k| *k == phase)?;
        BACKFILL_ORDER.get(at + 1).map(|next| Cursor::Backfill { phase: *next, offset: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for c in [
            Cursor::Backfill { phase: RecordKind::Customer, offset: None },
            Cursor::Backfill { phase: RecordKind::Invoice, offset: Some("[\"1630848839000\",\"42903379\"]".into()) },
            Cursor::Backfill { phase: RecordKind::CreditNote, offset: Some("a:b:c".into()) },
            Cursor::Events { offset: None },
            Cursor::Events { offset: Some("o:1".into()) },
        ] {
            assert_eq!(Cursor::decode(&c.encode()), Ok(c.clone()), "{}", c.encode());
        }
    }

    #[test]
    fn foreign_cursors_are_refused() {
        for text in ["", "abc", "cb1:backfill:subscriptions:", "cb2:events::", "cb1:events:invoices:x", "cb1:backfill"]
        {
            assert!(Cursor::decode(text).is_err(), "{text}");
        }
    }

    #[test]
    fn backfill_walks_customers_invoices_payments_credit_notes() {
        let mut phases = vec![];
        let mut at = Some(Cursor::Backfill { phase: RecordKind::Customer, offset: None });
        while let Some(Cursor::Backfill { phase, .. }) = at {
            phases.push(phase_name(phase));
            at = Cursor::after_backfill_page(phase, None);
        }
        assert_eq!(phases, ["customers", "invoices", "transactions", "credit_notes"]);
        assert_eq!(
            Cursor::after_backfill_page(RecordKind::Invoice, Some("n".into())),
            Some(Cursor::Backfill { phase: RecordKind::Invoice, offset: Some("n".into()) })
        );
    }
}
