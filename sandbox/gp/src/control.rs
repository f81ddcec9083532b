//! The test and demo handle: look into the emulated GP and change how it behaves, without
//! going through SOAP or SBA.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::faults::{CounterSnapshot, FaultKind, FaultRule, Overload};
use crate::model::{AppliedRecord, Batch, Checkbook, Company, Currency, Customer, DocType, Document, TxState};
use crate::server::Shared;
use crate::service::posting::PostOutcome;

/// Cheap to clone; valid while the sandbox runs.
#[derive(Clone)]
pub struct Control {
    pub(crate) shared: Arc<Shared>,
}

impl Control {
    fn db(&self) -> &crate::db::Db {
        &self.shared.service.db
    }

    // ---- inspection ------------------------------------------------------------------------

    pub async fn companies(&self) -> anyhow::Result<Vec<Company>> {
        Ok(self.db().companies().await?)
    }

    /// Every company's (id, company database name INTERID, name), as DYNAMICS..SY01500 lists them.
    pub async fn company_databases(&self) -> anyhow::Result<Vec<(i32, String, String)>> {
        Ok(self.db().company_databases().await?)
    }

    /// Every RM document of a company, in work, open and history.
    pub async fn documents(&self, company: i32) -> anyhow::Result<Vec<Document>> {
        Ok(self.db().documents(company).await?)
    }

    /// The company's documents of one type.
    pub async fn documents_of(&self, company: i32, doc_type: DocType) -> anyhow::Result<Vec<Document>> {
        Ok(self.documents(company).await?.into_iter().filter(|d| d.doc_type == doc_type).collect())
    }

    /// Sets up a card name (SY03100, Cards window), as a GP administrator does; it posts to
    /// the cash account.
    pub async fn add_card_name(&self, company: i32, name: &str) -> anyhow::Result<()> {
        use crate::db::SeedValue::{Int, Text};
        let sql = "INSERT OR IGNORE INTO sy03100 (company_id, cardname, actindx) VALUES (?, ?, ?)";
        let values = [Int(i64::from(company)), Text(name), Int(crate::reference::ACCOUNT_CASH)];
        Ok(self.db().seed_row(sql, &values).await?)
    }

    /// The exchange rate (XCHGRATE) a document was booked at; none for functional-currency ones.
    pub async fn document_rate(&self, company: i32, doc_type: DocType, number: &str) -> anyhow::Result<Option<String>> {
        Ok(self.db().document_rate(company, doc_type.rmdtypal(), number).await?)
    }

    pub async fn document(&self, company: i32, doc_type: DocType, number: &str) -> anyhow::Result<Option<Document>> {
        Ok(self.db().document(company, doc_type, number).await?)
    }

    pub async fn customers(&self, company: i32) -> anyhow::Result<Vec<Customer>> {
        Ok(self.db().customers(company).await?)
    }

    pub async fn customer(&self, company: i32, id: &str) -> anyhow::Result<Option<Customer>> {
        Ok(self.db().customer(company, id).await?)
    }

    pub async fn batches(&self, company: i32) -> anyhow::Result<Vec<Batch>> {
        Ok(self.db().batches(company).await?)
    }

    pub async fn applies(&self, company: i32) -> anyhow::Result<Vec<AppliedRecord>> {
        Ok(self.db().applies(company).await?)
    }

    /// Calls per operation, concurrency high-water mark, documents written…
    pub fn counters(&self) -> CounterSnapshot {
        self.shared.counters.snapshot()
    }

    pub fn reset_counters(&self) {
        self.shared.counters.reset();
    }

    // ---- GP state ----------------------------------------------------------------------------

    /// Closes or reopens the Sales series of a fiscal period (GP: Fiscal Periods Setup).
    pub async fn set_period_closed(&self, company: i32, year: i32, period: u32, closed: bool) -> anyhow::Result<()> {
        if !self.db().set_period_closed(company, year, period, closed).await? {
            bail!("company {company} has no fiscal period {year}/{period}");
        }
        Ok(())
    }

    /// Closes the Sales series of a fiscal period.
    pub async fn close_period(&self, company: i32, year: i32, period: u32) -> anyhow::Result<()> {
        self.set_period_closed(company, year, period, true).await
    }

    /// Reopens the Sales series of a fiscal period.
    pub async fn open_period(&self, company: i32, year: i32, period: u32) -> anyhow::Result<()> {
        self.set_period_closed(company, year, period, false).await
    }

    /// Posts a batch as GP's Series Post does: every document work → open (RM20101, DCSTATUS 2,
    /// posting date today), unposted applies become posted, the batch header is deleted. A
    /// batch with a document in a closed period or with unbalanced distributions is refused
    /// and stays unposted ([`PostOutcome::Refused`]); an unknown batch is an error.
    pub async fn post_batch(&self, company: i32, id: &str, source: &str) -> anyhow::Result<PostOutcome> {
        self.shared.service.post_batch(company, id, source).await.map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Test hook: posting holds each batch busy (BCHSTTUS marked) this long before it checks
    /// and moves the documents, so a write into it can be tried meanwhile. Zero: no pause.
    pub fn set_posting_pause(&self, pause: Duration) {
        self.shared.service.activity.set_pause(pause);
    }

    /// Sets a batch's SY00500 BCHSTTUS directly (0 available, 1 marked/being posted); false if
    /// there is no such batch.
    pub async fn set_batch_status(&self, company: i32, id: &str, source: &str, status: i64) -> anyhow::Result<bool> {
        Ok(self.db().set_batch_status(company, id, source, status).await?)
    }

    /// RM00401 DCSTATUS and the posting date of a posted document; `None` while unposted.
    pub async fn posting_status(
        &self,
        company: i32,
        doc_type: DocType,
        number: &str,
    ) -> anyhow::Result<Option<(i64, String)>> {
        Ok(self.db().posting_status(company, doc_type, number).await?)
    }

    /// Moves a document to open (as if a GP user posted its batch) or history, or back.
    pub async fn set_document_state(
        &self,
        company: i32,
        doc_type: DocType,
        number: &str,
        state: TxState,
    ) -> anyhow::Result<()> {
        if !self.db().move_document(company, doc_type, number, state).await? {
            bail!("company {company} has no {} {number}", doc_type.label());
        }
        Ok(())
    }

    /// Creates a batch header explicitly (documents also create theirs on first use).
    pub async fn create_batch(
        &self,
        company: i32,
        id: &str,
        source: &str,
        comment: Option<&str>,
    ) -> anyhow::Result<bool> {
        if !matches!(source, "RM_Sales" | "RM_Cash") {
            bail!("batch source must be RM_Sales or RM_Cash, not {source}");
        }
        Ok(self.db().create_batch(company, id, source, comment, None).await?)
    }

    pub async fn add_company(
        &self,
        company: &Company,
        currencies: &[Currency],
        checkbooks: &[Checkbook],
    ) -> anyhow::Result<()> {
        let interid = crate::reference::derive_interid(company);
        crate::seed::add_company(self.db(), company, &interid, currencies, checkbooks)
            .await
            .with_context(|| format!("adding company {}", company.id))
    }

    pub async fn add_currency(&self, company: i32, currency: &Currency) -> anyhow::Result<()> {
        Ok(self.db().insert_currency(company, currency).await?)
    }

    // ---- behaviour ---------------------------------------------------------------------------

    pub fn set_latency(&self, latency: Duration) {
        self.shared.pacing.set_latency(latency);
    }

    /// `None` removes the ceiling.
    pub fn set_ceiling(&self, ceiling: Option<usize>, overload: Overload) {
        self.shared.pacing.set_ceiling(ceiling, overload);
    }

    pub fn inject(&self, rule: FaultRule) {
        self.shared.faults.inject(rule);
    }

    /// Faults a share of all calls at random (seeded by the config's seed).
    pub fn set_random_faults(&self, rate: f64, kinds: Vec<FaultKind>) {
        self.shared.faults.set_random(rate, kinds);
    }

    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }
}
