//! Wire compatibility with a different SOAP toolkit: Python zeep, driven only by the real WSDL,
//! authenticating with requests-ntlm (pyspnego's NTLMv2).
//!
//! Runs over plain HTTP and over HTTPS (trusting the sandbox's CA).
//!
//! Needs python3 with zeep and requests-ntlm; they are pip-installed if missing. Without
//! python3 or pip this test FAILS with a message saying what to install: it never passes
//! silently.

// Helpers as well as #[test] fns may stop a test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;
use std::time::Instant;

use gp_sandbox::{GpConfig, GpTls, Sandbox};
use support::*;

fn python() -> String {
    std::env::var("GP_SANDBOX_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn has_modules(py: &str) -> bool {
    Command::new(py).args(["-c", "import zeep, requests_ntlm, lxml"]).status().map(|s| s.success()).unwrap_or(false)
}

fn ensure_toolkit() {
    let py = python();
    let version = Command::new(&py).arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "the zeep cross-toolkit test needs {py} (python 3.9+): install python3 or set GP_SANDBOX_PYTHON"
    );
    if has_modules(&py) {
        return;
    }
    let pip = Command::new(&py)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "zeep>=4.2", "requests-ntlm>=1.2"])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `{py} -m pip`: {e}; install pip, then `pip install zeep requests-ntlm`")
        });
    assert!(
        pip.status.success() && has_modules(&py),
        "`{py} -m pip install zeep requests-ntlm` failed:\n{}\n{}",
        String::from_utf8_lossy(&pip.stdout),
        String::from_utf8_lossy(&pip.stderr)
    );
}

/// Runs the zeep script against `sb` (WSDL from `wsdl`, a file or URL) with `env` set, checks
/// its report and the store.
async fn zeep_against(sb: &Sandbox, wsdl: String, env: Vec<(&'static str, String)>) {
    tokio::task::spawn_blocking(ensure_toolkit).await.unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/zeep/gp_zeep.py");
    let creds = sb.credentials().clone();
    let args = [
        script.to_string(),
        wsdl,
        sb.soap_url(),
        format!("{}\\{}", creds.domain, creds.user),
        creds.password,
        open_date(),
    ];
    let started = Instant::now();
    let out =
        tokio::task::spawn_blocking(move || Command::new(python()).args(&args).envs(env).output().expect("run python"))
            .await
            .unwrap();
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "zeep script failed:\n{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("bad report ({e}): {stdout}"));
    eprintln!("zeep report: {report}; total {elapsed:?}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["companies"], serde_json::json!(["Contoso (Bermuda) Ltd.", "Fabrikam, Inc."]));
    let inv = &report["invoice"];
    assert_eq!(inv["id"], "ZEEP-INV-1");
    assert_eq!(inv["document_amount"], "121.00");
    assert_eq!(inv["remaining"], "100.00", "the receipt's apply reduced the invoice");
    assert_eq!(inv["state"], "Work");
    assert_eq!(inv["batch_source"], "RM_Sales");
    assert_eq!(
        report["duplicate"],
        serde_json::json!(["Document number (DOCNUMBR) already exists in either RM00401, RM10301, RM20101 or RM30101"])
    );
    assert_eq!(sb.control().counters().documents_written, 2);
    assert!(sb.control().customer(FABRIKAM, "ZEEP0001").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zeep_with_the_real_wsdl_and_ntlm() {
    // About zeep and the WSDL: the apply it sends needs the extension and an unposted invoice.
    let sb = start_lenient_applies().await;
    let wsdl = gp_sandbox::schema::default_wsdl_path().display().to_string();
    zeep_against(&sb, wsdl, Vec::new()).await;
}

/// Over HTTPS, the WSDL fetched from the sandbox itself; requests trusts the CA through
/// `REQUESTS_CA_BUNDLE` (verification stays on: the script never passes `verify=False`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zeep_over_https_trusting_the_ca() {
    let rules = gp_sandbox::RulesConfig { allow_apply_to_unposted: true, ..Default::default() };
    let config = GpConfig { tls: Some(GpTls::default()), rmapply_extension: true, rules, ..GpConfig::default() };
    let sb = start_with(config).await;
    assert!(sb.soap_url().starts_with("https://"));
    let ca = sb.ca_file().unwrap().display().to_string();
    zeep_against(&sb, sb.wsdl_url(), vec![("REQUESTS_CA_BUNDLE", ca)]).await;
}
