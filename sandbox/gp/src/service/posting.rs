//! Posting a receivables batch as GP's Series Post does, and the auto-post trigger.
//!
//! GP posts a batch in steps: the batch is marked (SY00500 BCHSTTUS, [`BATCH_POSTING`]) so no
//! one writes into it, each document is checked (fiscal period open, distributions balanced —
//! what GP's posting journal reports), and only if every document passes do they all move
//! work → open (RM20101, DCSTATUS 2, posting date) and the batch header is deleted. A batch
//! that fails stays unposted and available, with the errors reported.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{OpResult, Service};
use crate::date::Date;
use crate::db::posting::BATCH_AVAILABLE;
use crate::money::format_minor;
use crate::rules::GpError;

/// One batch: company, BACHNUMB, BCHSOURC.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BatchRef {
    pub company: i32,
    pub id: String,
    pub source: String,
}

/// When each batch was last written to (for auto-post), and an optional pause while a batch
/// is held busy (a test hook: a write into a batch being posted must be refused).
#[derive(Debug, Default)]
pub struct BatchActivity {
    last_write: Mutex<HashMap<BatchRef, Instant>>,
    pause: Mutex<Duration>,
}

impl BatchActivity {
    pub fn touch(&self, company: i32, id: &str, source: &str) {
        if let Ok(mut m) = self.last_write.lock() {
            m.insert(BatchRef { company, id: id.to_string(), source: source.to_string() }, Instant::now());
        }
    }

    /// Removes and returns the batches last written at least `quiet` ago.
    pub fn take_quiet(&self, quiet: Duration) -> Vec<BatchRef> {
        let Ok(mut m) = self.last_write.lock() else {
            return Vec::new();
        };
        let due: Vec<BatchRef> = m.iter().filter(|(_, t)| t.elapsed() >= quiet).map(|(b, _)| b.clone()).collect();
        for b in &due {
            m.remove(b);
        }
        due
    }

    pub fn set_pause(&self, pause: Duration) {
        if let Ok(mut p) = self.pause.lock() {
            *p = pause;
        }
    }

    fn pause(&self) -> Duration {
        self.pause.lock().map(|p| *p).unwrap_or_default()
    }
}

/// One reason a batch did not post, as GP's posting journal lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostError {
    /// The document concerned, if the error is about one.
    pub document: Option<String>,
    /// ValidationError.Id-style number ([`GpError::code`]).
    pub code: u32,
    pub message: String,
}

/// What posting a batch did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PostOutcome {
    /// Every document moved to open; the batch is gone.
    Posted { documents: Vec<String>, posting_date: String },
    /// Nothing moved; the batch stays unposted.
    Refused { errors: Vec<PostError> },
}

impl PostOutcome {
    pub fn is_posted(&self) -> bool {
        matches!(self, Self::Posted { .. })
    }
}

fn refusal(document: Option<&str>, e: GpError) -> PostError {
    PostError { document: document.map(str::to_string), code: e.code(), message: e.to_string() }
}

impl Service {
    /// Posts one batch (see the module docs). An unknown batch is `GpError::NotFound`; a batch
    /// already being posted is refused with GP's batch-in-use error.
    pub async fn post_batch(&self, company: i32, id: &str, source: &str) -> OpResult<PostOutcome> {
        self.company(company).await?;
        match self.db.claim_batch(company, id, source).await? {
            None => return Err(GpError::NotFound { kind: "Batch", id: format!("{id} ({source})") }.into()),
            Some(BATCH_AVAILABLE) => {}
            Some(_) => {
                return Ok(PostOutcome::Refused { errors: vec![refusal(None, GpError::BatchBusy { id: id.into() })] });
            }
        }
        let result = self.post_claimed(company, id, source).await;
        let posted = matches!(result, Ok(PostOutcome::Posted { .. }));
        if !posted {
            // Failed or refused: the batch is available again (GP's posting journal, then
            // the batch back in Batch Entry).
            self.db.set_batch_status(company, id, source, BATCH_AVAILABLE).await?;
        }
        result
    }

    async fn post_claimed(&self, company: i32, id: &str, source: &str) -> OpResult<PostOutcome> {
        let pause = self.activity.pause();
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        let co = self.company(company).await?;
        let digits = self.db.currency(company, &co.functional_currency).await?.map_or(2, |c| c.decimal_digits);
        let mut errors = Vec::new();
        for d in self.db.batch_documents(company, id, source).await? {
            let doc = Some(d.number.as_str());
            // GP checks the period of the GL posting date, not of the document date.
            let posting = d.posting_date;
            match self.db.period_closed(company, posting).await? {
                Some(false) => {}
                Some(true) => errors.push(refusal(doc, GpError::PeriodClosed { date: posting.iso() })),
                None => errors.push(refusal(doc, GpError::PeriodMissing { date: posting.iso() })),
            }
            if d.distribution_lines == 0 {
                errors.push(refusal(doc, GpError::DistributionsRequired));
            } else if d.debits != d.credits {
                let (debits, credits) = (format_minor(d.debits, digits), format_minor(d.credits, digits));
                errors.push(refusal(doc, GpError::DistributionsUnbalanced { debits, credits }));
            }
        }
        if !errors.is_empty() {
            return Ok(PostOutcome::Refused { errors });
        }
        let today = Date::today();
        let moved = self.db.post_batch_documents(company, id, source, today).await?;
        Ok(PostOutcome::Posted { documents: moved.into_iter().map(|(_, n)| n).collect(), posting_date: today.iso() })
    }

    /// Whether the batch is being posted (a write into it is refused).
    pub(crate) async fn batch_busy(tx: &mut crate::db::Tx, company: i32, id: &str, source: &str) -> OpResult<bool> {
        let status = crate::db::Db::batch_status_in_tx(tx, company, id, source).await?;
        Ok(status.is_some_and(|s| s != BATCH_AVAILABLE))
    }
}

/// Auto-post: posts each batch `quiet` after its last write, until `shutdown`.
pub async fn auto_post(
    service: std::sync::Arc<Service>,
    quiet: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let tick = (quiet / 4).clamp(Duration::from_millis(5), Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        for b in service.activity.take_quiet(quiet) {
            match service.post_batch(b.company, &b.id, &b.source).await {
                Ok(outcome) => {
                    tracing::info!(company = b.company, batch = %b.id, source = %b.source, ?outcome, "GP sandbox auto-post")
                }
                Err(e) => tracing::warn!(company = b.company, batch = %b.id, error = %e, "GP sandbox auto-post failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::posting::BATCH_POSTING;

    #[test]
    fn quiet_batches_are_taken_once() {
        let a = BatchActivity::default();
        a.touch(1, "B", "RM_Sales");
        assert!(a.take_quiet(Duration::from_secs(60)).is_empty());
        let due = a.take_quiet(Duration::ZERO);
        assert_eq!(due, [BatchRef { company: 1, id: "B".into(), source: "RM_Sales".into() }]);
        assert!(a.take_quiet(Duration::ZERO).is_empty());
    }

    #[test]
    fn busy_status_is_marked() {
        assert_ne!(BATCH_POSTING, BATCH_AVAILABLE);
    }
}
