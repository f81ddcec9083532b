//! Pacing and injected faults: ceiling, latency, lost responses, hangs, 5xx.

mod support;

use std::time::{Duration, Instant};

use gp_sandbox::{DocType, FaultKind, FaultRule, GpConfig, Overload};
use hyper::StatusCode;
use support::*;

async fn seeded_customer(sb: &gp_sandbox::Sandbox) {
    let mut c = Client::login(sb).await;
    assert_eq!(create_customer(&mut c, "LOAD", "Load").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_ceiling_queues_and_is_counted() {
    let sb =
        start_with(GpConfig { latency: Duration::from_millis(150), ceiling: Some(2), ..GpConfig::default() }).await;
    seeded_customer(&sb).await;
    sb.control().reset_counters();
    let date = open_date();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let mut c = Client::login(&sb).await;
        let date = date.clone();
        tasks.push(tokio::spawn(async move {
            create_invoice(&mut c, &Doc::new(&format!("INV-C{i}"), "LOAD", &date, "1.00")).await.status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let counters = sb.control().counters();
    assert_eq!(counters.max_in_flight, 2, "{counters:?}");
    assert_eq!(counters.documents_written, 6);
    assert_eq!(counters.calls.get("CreateReceivablesInvoice"), Some(&6));
    // 6 calls, 2 at a time, 150 ms each: at least three rounds.
    assert!(started.elapsed() >= Duration::from_millis(440), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_ceiling_can_reject_with_503() {
    let sb = start_with(GpConfig { latency: Duration::from_millis(300), ..GpConfig::default() }).await;
    seeded_customer(&sb).await;
    sb.control().set_ceiling(Some(1), Overload::Reject);
    let mut a = Client::login(&sb).await;
    let mut b = Client::login(&sb).await;
    let first = tokio::spawn(async move { a.soap("GetCompanyList", &context(FABRIKAM)).await.status });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = b.soap("GetCompanyList", &context(FABRIKAM)).await.status;
    assert_eq!(second, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    assert_eq!(sb.control().counters().rejected_overload, 1);
}

#[tokio::test]
async fn commit_then_lost_response_leaves_exactly_one_document() {
    let sb = start().await;
    seeded_customer(&sb).await;
    let mut c = Client::login(&sb).await;
    sb.control().inject(FaultRule::once("CreateReceivablesInvoice", FaultKind::LostResponse));
    let doc_date = open_date();
    let doc = Doc::new("INV-LOST", "LOAD", &doc_date, "42.00");
    let body = envelope(
        "CreateReceivablesInvoice",
        &format!("{}{}{}", doc.sales_xml("receivablesInvoice"), context(FABRIKAM), policy()),
    );
    let err = c
        .send(
            hyper::Method::POST,
            gp_sandbox::soap::PATH,
            &[("soapaction", format!("\"{NS_GP}/CreateReceivablesInvoice\""))],
            &body,
        )
        .await
        .expect_err("the connection is reset without a response");
    let detail = format!("{err:?}");
    assert!(detail.contains("ConnectionReset") || err.is_incomplete_message(), "{detail}");
    assert_eq!(invoices(&sb).await, 1);

    // The client retries on a new connection: GP says 190, and still one document.
    let mut retry = Client::login(&sb).await;
    let a = create_invoice(&mut retry, &doc).await;
    assert!(a.body.contains("<Message>"), "{a:?}");
    assert_eq!(
        validation_messages(&mut retry, &a.body).await[0],
        "Document number (DOCNUMBR) already exists in either RM00401, RM10301, RM20101 or RM30101"
    );
    assert_eq!(invoices(&sb).await, 1);
    assert_eq!(sb.control().counters().documents_written, 1);
}

#[tokio::test]
async fn hang_outlasts_the_client_timeout_and_writes_nothing() {
    let sb = start().await;
    seeded_customer(&sb).await;
    let mut c = Client::login(&sb).await;
    sb.control().inject(FaultRule::once("CreateReceivablesInvoice", FaultKind::Hang(Duration::from_secs(30))));
    let doc_date = open_date();
    let doc = Doc::new("INV-HANG", "LOAD", &doc_date, "1.00");
    let call = create_invoice(&mut c, &doc);
    assert!(
        tokio::time::timeout(Duration::from_millis(500), call).await.is_err(),
        "the call must hang past the client timeout"
    );
    assert!(sb.control().documents_of(FABRIKAM, DocType::Invoice).await.unwrap().is_empty());
    // Shutdown does not wait for the hang to finish.
    let t = Instant::now();
    sb.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn hang_after_commit_and_injected_http_status() {
    let sb = start().await;
    seeded_customer(&sb).await;
    let mut c = Client::login(&sb).await;
    sb.control().inject(FaultRule {
        operation: Some("CreateReceivablesInvoice".into()),
        kind: FaultKind::HttpStatus(503),
        times: 2,
    });
    let doc_date = open_date();
    for _ in 0..2 {
        let a = create_invoice(&mut c, &Doc::new("INV-503", "LOAD", &doc_date, "1.00")).await;
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    }
    assert!(sb.control().documents_of(FABRIKAM, DocType::Invoice).await.unwrap().is_empty());
    sb.control()
        .inject(FaultRule::once("CreateReceivablesInvoice", FaultKind::HangAfterCommit(Duration::from_secs(30))));
    let doc = Doc::new("INV-HAC", "LOAD", &doc_date, "1.00");
    let call = create_invoice(&mut c, &doc);
    assert!(tokio::time::timeout(Duration::from_millis(500), call).await.is_err());
    assert_eq!(invoices(&sb).await, 1);
    assert_eq!(sb.control().counters().faults_injected, 3);
}

#[tokio::test]
async fn latency_applies_per_call() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    sb.control().set_latency(Duration::from_millis(200));
    let t = Instant::now();
    assert_eq!(c.soap("GetCompanyList", &context(FABRIKAM)).await.status, StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(200));
}
