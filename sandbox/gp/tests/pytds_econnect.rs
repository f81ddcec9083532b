//! An independent TDS client (python-tds) against the emulator's real eConnect endpoint: the
//! login is checked, eConnect procedures write the company database in a transaction, GP's
//! refusal comes back in `@O_iErrorState` with its text in `DYNAMICS..taErrorCode`, the read
//! queries answer, and any other SQL is refused. What it wrote is then read over SOAP's view
//! of the same database (the emulator's control API).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use gp_sandbox::{DocType, GpConfig, GpSandbox};

fn python() -> String {
    std::env::var("GP_SANDBOX_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

#[tokio::test]
async fn python_tds_runs_econnect_against_the_emulator() {
    let has_pytds = || std::process::Command::new(python()).args(["-c", "import pytds"]).status();
    if !tokio::task::spawn_blocking(has_pytds).await.unwrap().is_ok_and(|s| s.success()) {
        // `.ci/run` installs python-tds; a developer machine without it is told, not failed.
        eprintln!("SKIPPED: {} cannot `import pytds` (pip install python-tds)", python());
        return;
    }
    let sb = GpSandbox::start(GpConfig::default()).await.unwrap();
    let addr = sb.sql_addr().expect("the SQL endpoint listens by default");
    let login = sb.sql_login().clone();
    let year = time::OffsetDateTime::now_utc().year();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tds_client/pytds_econnect.py");
    let args = [
        script.to_string(),
        "127.0.0.1".into(),
        addr.port().to_string(),
        login.user.clone(),
        login.password.clone(),
        "TWO".into(),
        year.to_string(),
    ];
    let run = move || std::process::Command::new(python()).args(&args).output().expect("run python");
    let out = tokio::time::timeout(Duration::from_secs(60), tokio::task::spawn_blocking(run)).await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "pytds script failed:\n{stdout}\n{stderr}");
    let r: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("bad report ({e}): {stdout}\n{stderr}"));
    eprintln!("pytds report: {r}");

    assert_eq!(r["wrong_login"], 18456, "a wrong password is refused: {r}");
    assert_eq!(r["customer"], serde_json::json!([0, ""]), "{r}");
    assert_eq!(r["invoice"], serde_json::json!([0, ""]), "{r}");
    let number = r["duplicate"][0].as_i64().unwrap();
    assert_ne!(number, 0, "a second document with the same number is refused: {r}");
    let text = r["duplicate_text"][0][0].as_str().unwrap_or_default();
    assert!(text.contains("already exists"), "taErrorCode holds GP's text for {number}: {r}");
    let row = &r["sales_work"][0];
    assert_eq!((row[0].as_i64(), row[1].as_str(), row[2].as_str()), (Some(1), Some("PYTDS-INV-1"), Some("PYTDS-001")));
    // NUMERIC(19,5) 250.00000; pytds normalises Decimals ("250").
    assert_eq!(row[7].as_str().unwrap().parse::<f64>().unwrap(), 250.0, "DOCAMNT {row}");
    assert_eq!(r["customer_row"][0][1], "Python TDS Ltd");
    assert!(r["other_sql"].as_i64().is_some_and(|n| n != 0), "other SQL is refused: {r}");

    // What pytds committed is GP's: the same database SOAP and SBA serve.
    let companies = sb.control().companies().await.unwrap();
    let fabrikam = companies.iter().find(|c| c.name == "Fabrikam, Inc.").unwrap();
    let invoices = sb.control().documents_of(fabrikam.id, DocType::Invoice).await.unwrap();
    let inv = invoices.iter().find(|d| d.number == "PYTDS-INV-1").expect("the invoice is in GP");
    assert_eq!((inv.customer_id.as_str(), inv.amounts.document), ("PYTDS-001", 25_000));
    sb.shutdown().await;
}
