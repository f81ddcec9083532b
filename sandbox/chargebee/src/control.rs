//! The test/demo handle: read every record, mutate data the way Chargebee does, seed, steer
//! rate limits and faults, read counters, and build webhook senders.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::SiteInfo;
use crate::limits::{FaultRule, SiteCounters};
use crate::model::{CreditNote, Customer, Event, Invoice, Transaction};
use crate::seed::{self, SeedSpec, SeedSummary};
use crate::server::{Shared, Site, lock};
use crate::store::*;
use crate::webhook::{WebhookConfig, WebhookSender};

/// Cheap to clone; all clones drive the same sandbox.
#[derive(Clone)]
pub struct Control {
    pub(crate) shared: Arc<Shared>,
}

impl Control {
    pub fn sites(&self) -> Vec<SiteInfo> {
        self.shared.sites.iter().map(|s| s.info.clone()).collect()
    }

    fn site(&self, name: &str) -> Result<&Site, SandboxError> {
        self.shared.site(name).ok_or_else(|| SandboxError::UnknownSite(name.into()))
    }

    fn with_data<R>(&self, site: &str, f: impl FnOnce(&mut SiteData, i64) -> R) -> Result<R, SandboxError> {
        let now = self.shared.now_ms();
        let s = self.site(site)?;
        let mut data = lock(&s.data);
        Ok(f(&mut data, now))
    }

    // ---- clock ------------------------------------------------------------------------

    /// Fixes "now" for mutations (Unix seconds); `None` returns to the system clock.
    pub fn set_clock(&self, unix_seconds: Option<i64>) {
        *lock(&self.shared.clock) = unix_seconds.map(|s| s * 1000);
    }

    /// Moves a fixed clock forward (no-op on the system clock).
    pub fn advance_clock(&self, by: Duration) {
        if let Some(ms) = lock(&self.shared.clock).as_mut() {
            *ms += by.as_millis() as i64;
        }
    }

    /// `source` recorded on the events appended next (api, admin_console, scheduled_job, …).
    pub fn set_event_source(&self, site: &str, source: &str) -> Result<(), SandboxError> {
        self.with_data(site, |d, _| d.event_source = source.into())
    }

    // ---- read everything --------------------------------------------------------------

    pub fn customers(&self, site: &str) -> Result<Vec<Customer>, SandboxError> {
        self.with_data(site, |d, _| d.customers.clone())
    }

    pub fn invoices(&self, site: &str) -> Result<Vec<Invoice>, SandboxError> {
        self.with_data(site, |d, _| d.invoices.clone())
    }

    pub fn transactions(&self, site: &str) -> Result<Vec<Transaction>, SandboxError> {
        self.with_data(site, |d, _| d.transactions.clone())
    }

    pub fn credit_notes(&self, site: &str) -> Result<Vec<CreditNote>, SandboxError> {
        self.with_data(site, |d, _| d.credit_notes.clone())
    }

    pub fn events(&self, site: &str) -> Result<Vec<Event>, SandboxError> {
        self.with_data(site, |d, _| d.events.clone())
    }

    pub fn invoice(&self, site: &str, id: &str) -> Result<Invoice, SandboxError> {
        self.with_data(site, |d, _| d.find(Kind::Invoice, id).map(|i| d.invoices[i].clone()))?
            .ok_or_else(|| SandboxError::NotFound { kind: "invoice", id: id.into() })
    }

    // ---- mutations --------------------------------------------------------------------

    pub fn create_customer(&self, site: &str, input: CustomerInput) -> Result<Customer, SandboxError> {
        self.with_data(site, |d, now| d.create_customer(input, now))?
    }

    pub fn update_customer(&self, site: &str, id: &str, update: CustomerUpdate) -> Result<Customer, SandboxError> {
        self.with_data(site, |d, now| d.update_customer(id, update, now))?
    }

    pub fn delete_customer(&self, site: &str, id: &str) -> Result<Customer, SandboxError> {
        self.with_data(site, |d, now| d.delete_customer(id, now))?
    }

    pub fn create_invoice(&self, site: &str, input: InvoiceInput) -> Result<Invoice, SandboxError> {
        self.with_data(site, |d, now| d.create_invoice(input, now))?
    }

    pub fn void_invoice(&self, site: &str, id: &str) -> Result<Invoice, SandboxError> {
        self.with_data(site, |d, now| d.void_invoice(id, now))?
    }

    pub fn delete_invoice(&self, site: &str, id: &str) -> Result<Invoice, SandboxError> {
        self.with_data(site, |d, now| d.delete_invoice(id, now))?
    }

    pub fn record_payment(&self, site: &str, input: PaymentInput) -> Result<Transaction, SandboxError> {
        self.with_data(site, |d, now| d.record_payment(input, now))?
    }

    /// Voids a successful payment: status `voided`, `voided_at`, its invoices due again;
    /// `transaction_updated` and `invoice_updated` (see README).
    pub fn void_payment(&self, site: &str, txn_id: &str) -> Result<Transaction, SandboxError> {
        self.with_data(site, |d, now| d.reverse_payment(txn_id, PaymentReversal::Void, now))?
    }

    /// A successful payment fails late (e.g. a returned direct debit): status `late_failure`,
    /// its invoices due again; `payment_failed` (see README).
    pub fn fail_payment_late(&self, site: &str, txn_id: &str) -> Result<Transaction, SandboxError> {
        self.with_data(site, |d, now| d.reverse_payment(txn_id, PaymentReversal::LateFailure, now))?
    }

    pub fn refund(&self, site: &str, input: RefundInput) -> Result<Transaction, SandboxError> {
        self.with_data(site, |d, now| d.refund(input, now))?
    }

    pub fn create_credit_note(&self, site: &str, input: CreditNoteInput) -> Result<CreditNote, SandboxError> {
        self.with_data(site, |d, now| d.create_credit_note(input, now))?
    }

    /// Fills a site with generated, deterministic billing history (see [`SeedSpec`]).
    pub fn seed(&self, site: &str, spec: &SeedSpec) -> Result<SeedSummary, SandboxError> {
        self.with_data(site, |d, now| seed::apply(d, spec, now))?
    }

    // ---- limits, faults, counters -----------------------------------------------------

    pub fn counters(&self, site: &str) -> Result<SiteCounters, SandboxError> {
        Ok(lock(&self.site(site)?.gate).counters.clone())
    }

    /// 401s served (missing header, unknown key, a key at another region's origin).
    pub fn auth_refused(&self) -> u64 {
        self.shared.refused_unknown.load(Ordering::Relaxed)
    }

    /// Zeroes every counter and empties the rate windows.
    pub fn reset_counters(&self) {
        for s in &self.shared.sites {
            let mut g = lock(&s.gate);
            g.counters = SiteCounters::default();
            g.limiter.reset();
        }
        self.shared.refused_unknown.store(0, Ordering::Relaxed);
    }

    /// Changes a site's limit per window (and empties its window).
    pub fn set_limit(&self, site: &str, limit: u32) -> Result<(), SandboxError> {
        let mut g = lock(&self.site(site)?.gate);
        g.limiter.limit = limit.max(1);
        g.limiter.reset();
        Ok(())
    }

    /// Sends (or stops sending) `Retry-After` with 429s.
    pub fn set_retry_after(&self, on: bool) {
        self.shared.retry_after.store(on, Ordering::Relaxed);
    }

    pub fn inject(&self, rule: FaultRule) {
        lock(&self.shared.behaviour).faults.push(rule);
    }

    /// The next `n` requests (optionally only under `path_prefix`) get `status` (500/503…).
    pub fn fail_next(&self, n: u32, status: u16, path_prefix: Option<&str>) {
        let mut rule = FaultRule::status(status).times(n);
        rule.path_prefix = path_prefix.map(str::to_string);
        self.inject(rule);
    }

    /// The next `n` requests (optionally only under `path_prefix`) get no response at all.
    pub fn drop_next(&self, n: u32, path_prefix: Option<&str>) {
        let mut rule = FaultRule::drop_connection().times(n);
        rule.path_prefix = path_prefix.map(str::to_string);
        self.inject(rule);
    }

    /// Fixed latency before every answer (optionally only under `path_prefix`); zero removes it.
    pub fn set_latency(&self, delay: Duration, path_prefix: Option<&str>) {
        lock(&self.shared.behaviour).latency = crate::server::latency(delay, path_prefix);
    }

    pub fn clear_faults(&self) {
        let mut b = lock(&self.shared.behaviour);
        b.faults.clear();
        b.latency = None;
    }

    /// Faults not yet used up.
    pub fn pending_faults(&self) -> Vec<FaultRule> {
        lock(&self.shared.behaviour).faults.clone()
    }

    // ---- webhooks ---------------------------------------------------------------------

    /// A sender that POSTs this site's events to `config.url`.
    pub fn webhooks(&self, site: &str, config: WebhookConfig) -> Result<WebhookSender, SandboxError> {
        self.site(site)?;
        Ok(WebhookSender::new(self.clone(), site.into(), config))
    }

    pub(crate) fn set_webhook_status(&self, site: &str, event_id: &str, status: &str) {
        let _ = self.with_data(site, |d, _| d.set_webhook_status(event_id, status));
    }
}
