//! Posting as GP's Series Post does: work → open, the batch deleted, a busy batch refusing
//! writes, unbalanced or closed-period batches staying unposted; auto-post; the /_sandbox/
//! HTTP controls; the receivables summary GP computes from posted documents and applies.

// Test helpers: a failed step should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use gp_sandbox::date::Date;
use gp_sandbox::{DocType, GpConfig, PostOutcome, RulesConfig, TxState};
use support::*;

/// A date `days` before today, as xs:dateTime.
fn days_ago(days: i64) -> String {
    Date::from_days(Date::today().days() - days).xml()
}

/// Reopens last year's periods (closed in the seed) so documents may be dated up to a year back.
async fn open_last_year(sb: &gp_sandbox::Sandbox) {
    for p in 1..=12 {
        sb.control().open_period(FABRIKAM, this_year() - 1, p).await.unwrap();
    }
}

/// `<member>…<Value>v</Value>` of a MoneyAmount member.
fn amount(xml: &str, member: &str) -> String {
    let i = xml.find(&format!("<{member}>")).unwrap_or_else(|| panic!("no {member} in {xml}"));
    tag(&xml[i..], "Value").unwrap().to_string()
}

async fn summary(c: &mut Client, customer: &str) -> String {
    let a = c
        .soap("GetCustomerReceivablesSummaryByKey", &format!("<key><Id>{customer}</Id></key>{}", context(FABRIKAM)))
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    a.body
}

/// The response reads back against the WSDL (strict: member names, order, required members).
fn assert_matches_wsdl(body: &str, operation: &str) {
    use gp_sandbox::codec::XmlReader;
    let schema = gp_sandbox::schema::Schema::embedded().unwrap();
    let env = gp_sandbox::xmldom::parse(body).unwrap();
    let body_el = env.children.iter().find(|c| c.name.local == "Body").unwrap();
    let resp = body_el.children.first().unwrap();
    let field = schema.element(NS_GP, &format!("{operation}Response")).unwrap();
    XmlReader { schema: &schema, strict: true }.read(resp, field, operation).unwrap();
}

fn posted(outcome: &PostOutcome) -> Vec<String> {
    match outcome {
        PostOutcome::Posted { documents, .. } => documents.clone(),
        PostOutcome::Refused { errors } => panic!("refused: {errors:?}"),
    }
}

fn refused_codes(outcome: &PostOutcome) -> Vec<u32> {
    match outcome {
        PostOutcome::Refused { errors } => errors.iter().map(|e| e.code).collect(),
        PostOutcome::Posted { .. } => panic!("posted: {outcome:?}"),
    }
}

#[tokio::test]
async fn posting_moves_work_to_open_deletes_the_batch_and_the_summary_follows() {
    let sb = start_with_extension().await;
    let mut c = Client::login(&sb).await;
    open_last_year(&sb).await;
    assert_eq!(create_customer(&mut c, "AGED", "Aged Customer").await.status, 200);
    // One invoice per aging period: current, 31-60, 61-90, 91 and over.
    for (number, days, sales) in
        [("AG-0", 3, "100.00"), ("AG-45", 45, "40.00"), ("AG-75", 75, "20.00"), ("AG-120", 120, "10.00")]
    {
        let date = days_ago(days);
        let doc = Doc { batch: "AGE-S", ..Doc::new(number, "AGED", &date, sales) };
        assert_eq!(create_invoice(&mut c, &doc).await.status, 200);
    }
    // Nothing posted: GP's summary counts nothing.
    let s = summary(&mut c, "AGED").await;
    assert_eq!(amount(&s, "BalanceAmount"), "0.00", "{s}");
    assert_matches_wsdl(&s, "GetCustomerReceivablesSummaryByKey");

    let out = sb.control().post_batch(FABRIKAM, "AGE-S", "RM_Sales").await.unwrap();
    assert_eq!(posted(&out).len(), 4);
    let inv = sb.control().document(FABRIKAM, DocType::Invoice, "AG-0").await.unwrap().unwrap();
    assert_eq!(inv.state, TxState::Open);
    let (dcstatus, postdate) = sb.control().posting_status(FABRIKAM, DocType::Invoice, "AG-0").await.unwrap().unwrap();
    assert_eq!((dcstatus, postdate), (2, Date::today().iso()));
    let batches = sb.control().batches(FABRIKAM).await.unwrap();
    assert!(batches.iter().all(|b| b.id != "AGE-S"), "posted batch deleted: {batches:?}");
    // A receipt of 30 applying 25 to the posted AG-45, in its own (cash) batch.
    let date = days_ago(1);
    let ext = apply_extension("AG-45", "25.00");
    let receipt = Doc { batch: "AGE-C", extensions: &ext, ..Doc::new("AG-R1", "AGED", &date, "30.00") };
    assert_eq!(create_receipt(&mut c, &receipt).await.status, 200);

    // Invoices posted, the receipt (and so its apply) not yet.
    let s = summary(&mut c, "AGED").await;
    assert_eq!(amount(&s, "BalanceAmount"), "170.00");
    assert_eq!(
        ["Period1Amount", "Period2Amount", "Period3Amount", "Period4Amount", "Period5Amount"].map(|p| amount(&s, p)),
        ["100.00", "40.00", "20.00", "10.00", "0.00"]
    );

    posted(&sb.control().post_batch(FABRIKAM, "AGE-C", "RM_Cash").await.unwrap());
    let applies = sb.control().applies(FABRIKAM).await.unwrap();
    assert_eq!(applies.len(), 1);
    // 170 − 25 applied − 5 unapplied on the receipt (not aged: current period).
    let s = summary(&mut c, "AGED").await;
    assert_eq!(amount(&s, "BalanceAmount"), "140.00");
    assert_eq!(
        ["Period1Amount", "Period2Amount", "Period3Amount", "Period4Amount"].map(|p| amount(&s, p)),
        ["95.00", "15.00", "20.00", "10.00"]
    );
    assert_eq!(amount(&s, "LastPaymentAmount"), "30.00");
    assert_matches_wsdl(&s, "GetCustomerReceivablesSummaryByKey");
    // The by-key read shows the remaining amount after the apply.
    let a = c.soap("GetReceivablesInvoiceByKey", &format!("<key><Id>AG-45</Id></key>{}", context(FABRIKAM))).await;
    assert_eq!(amount(&a.body, "CurrentDocumentAmount"), "15.00");
    assert_eq!(tag(&a.body, "TransactionState"), Some("Open"));

    let a =
        c.soap("GetCustomerReceivablesSummaryByKey", &format!("<key><Id>NOBODY</Id></key>{}", context(FABRIKAM))).await;
    assert_eq!(a.status, 500, "unknown customer: {a:?}");
}

#[tokio::test]
async fn a_batch_with_unbalanced_distributions_does_not_post() {
    let rules = RulesConfig { skip_distribution_checks: true, ..RulesConfig::default() };
    let sb = start_with(GpConfig { rules, ..GpConfig::default() }).await;
    let mut c = Client::login(&sb).await;
    assert_eq!(create_customer(&mut c, "UNBAL", "Unbalanced").await.status, 200);
    let dist = |kind: i64, account: &str, debit: &str, credit: &str| {
        format!(
            "<ReceivablesDistribution><DistributionTypeKey><Id>{kind}</Id></DistributionTypeKey><GLAccountKey><Id>{account}</Id><IsEncrypted>false</IsEncrypted></GLAccountKey>\
             <DebitAmount xsi:type=\"MoneyAmount\"><Value>{debit}</Value><DecimalDigits>2</DecimalDigits></DebitAmount><CreditAmount xsi:type=\"MoneyAmount\"><Value>{credit}</Value><DecimalDigits>2</DecimalDigits></CreditAmount></ReceivablesDistribution>"
        )
    };
    let dists = format!(
        "<Distributions>{}{}</Distributions>",
        dist(3, "000-1200-00", "100.00", "0"),
        dist(9, "000-4100-00", "0", "90.00")
    );
    let date = open_date();
    let good = Doc { batch: "UNBAL-B", ..Doc::new("UB-OK", "UNBAL", &date, "100.00") };
    assert_eq!(create_invoice(&mut c, &good).await.status, 200);
    let xml = Doc { batch: "UNBAL-B", ..Doc::new("UB-1", "UNBAL", &date, "100.00") }
        .sales_xml("receivablesInvoice")
        .replace("</receivablesInvoice>", &format!("{dists}</receivablesInvoice>"));
    let a = c.soap("CreateReceivablesInvoice", &format!("{xml}{}{}", context(FABRIKAM), policy())).await;
    assert_eq!(a.status, 200, "stored as sent (lenient): {a:?}");

    let out = sb.control().post_batch(FABRIKAM, "UNBAL-B", "RM_Sales").await.unwrap();
    assert_eq!(refused_codes(&out), [9031]);
    let PostOutcome::Refused { errors } = &out else { unreachable!() };
    assert_eq!(errors[0].document.as_deref(), Some("UB-1"));
    for n in ["UB-OK", "UB-1"] {
        let d = sb.control().document(FABRIKAM, DocType::Invoice, n).await.unwrap().unwrap();
        assert_eq!(d.state, TxState::Work, "nothing of a refused batch posts");
    }
    assert!(sb.control().batches(FABRIKAM).await.unwrap().iter().any(|b| b.id == "UNBAL-B"));
    // Still available (not left busy): posting again reports the same journal.
    let again = sb.control().post_batch(FABRIKAM, "UNBAL-B", "RM_Sales").await.unwrap();
    assert_eq!(refused_codes(&again), [9031]);
    assert!(sb.control().post_batch(FABRIKAM, "NO-SUCH", "RM_Sales").await.is_err());
}

#[tokio::test]
async fn a_write_into_a_batch_being_posted_is_refused() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    assert_eq!(create_customer(&mut c, "BUSY", "Busy").await.status, 200);
    let date = open_date();
    let first = Doc { batch: "BUSY-B", ..Doc::new("BZ-1", "BUSY", &date, "10.00") };
    assert_eq!(create_invoice(&mut c, &first).await.status, 200);

    sb.control().set_posting_pause(Duration::from_millis(800));
    let control = sb.control().clone();
    let posting = tokio::spawn(async move { control.post_batch(FABRIKAM, "BUSY-B", "RM_Sales").await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = Doc { batch: "BUSY-B", ..Doc::new("BZ-2", "BUSY", &date, "10.00") };
    let a = create_invoice(&mut c, &second).await;
    assert_eq!(validation_messages(&mut c, &a.body).await, ["Batch is marked for posting by another user."]);
    let twice = sb.control().post_batch(FABRIKAM, "BUSY-B", "RM_Sales").await.unwrap();
    assert_eq!(refused_codes(&twice), [9046]);

    let out = posting.await.unwrap().unwrap();
    assert_eq!(posted(&out), ["BZ-1"]);
    sb.control().set_posting_pause(Duration::ZERO);
    // After posting the batch is gone; the same batch id starts a new batch.
    assert_eq!(create_invoice(&mut c, &second).await.status, 200);
    assert_eq!(sb.control().document(FABRIKAM, DocType::Invoice, "BZ-2").await.unwrap().unwrap().state, TxState::Work);

    // The status can also be held directly.
    assert!(sb.control().set_batch_status(FABRIKAM, "BUSY-B", "RM_Sales", 1).await.unwrap());
    let third = Doc { batch: "BUSY-B", ..Doc::new("BZ-3", "BUSY", &date, "10.00") };
    assert_eq!(create_invoice(&mut c, &third).await.status, 500);
}

#[tokio::test]
async fn auto_post_posts_a_batch_after_its_last_write() {
    let config = GpConfig { auto_post_after: Some(Duration::from_millis(150)), ..GpConfig::default() };
    let sb = start_with(config).await;
    let mut c = Client::login(&sb).await;
    assert_eq!(create_customer(&mut c, "AUTO", "Auto").await.status, 200);
    let date = open_date();
    assert_eq!(
        create_invoice(&mut c, &Doc { batch: "AUTO-B", ..Doc::new("AU-1", "AUTO", &date, "5.00") }).await.status,
        200
    );
    let state = || async { sb.control().document(FABRIKAM, DocType::Invoice, "AU-1").await.unwrap().unwrap().state };
    assert_eq!(state().await, TxState::Work, "not before the quiet time");
    let mut waited = 0;
    while state().await != TxState::Open {
        assert!(waited < 5000, "auto-post within 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 50;
    }
    assert!(sb.control().batches(FABRIKAM).await.unwrap().iter().all(|b| b.id != "AUTO-B"));
}

#[tokio::test]
async fn sandbox_controls_over_http_need_the_account() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    assert_eq!(create_customer(&mut c, "HTTPC", "Http Control").await.status, 200);
    let may = format!("{}-05-10T00:00:00", this_year());
    assert_eq!(
        create_invoice(&mut c, &Doc { batch: "HTTP B1", ..Doc::new("HC-1", "HTTPC", &may, "7.00") }).await.status,
        200
    );

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let base = sb.control_url();
    let creds = sb.credentials().clone();
    let user = format!("{}\\{}", creds.domain, creds.user);
    let post_url = format!("{base}/companies/-1/batches/RM_Sales/HTTP%20B1/post");
    let close_url = format!("{base}/companies/-1/periods/{}/5/close", this_year());
    let open_url = format!("{base}/companies/-1/periods/{}/5/open", this_year());

    let r = http.post(&post_url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http.post(&post_url).basic_auth(&user, Some("wrong")).send().await.unwrap();
    assert_eq!(r.status(), 401);

    let r = http.post(&close_url).basic_auth(&user, Some(&creds.password)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["closed"], true);
    let r = http.post(&post_url).basic_auth(&user, Some(&creds.password)).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["result"], "refused");
    assert_eq!(v["errors"][0]["code"], 9001);
    assert_eq!(v["errors"][0]["message"], "The fiscal period that contains the document date is closed.");

    let r = http.post(&open_url).basic_auth(&user, Some(&creds.password)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http.get(&post_url).basic_auth(&user, Some(&creds.password)).send().await.unwrap();
    assert_eq!(r.status(), 405);

    // curl, as a person would.
    // (off the runtime thread: the sandbox serves on this test's runtime)
    let (login, url) = (format!("{user}:{}", creds.password), post_url.clone());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("curl").args(["-s", "-m", "10", "-X", "POST", "-u", &login, &url]).output()
    })
    .await
    .unwrap()
    .expect("curl runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["result"], "posted", "{v}");
    assert_eq!(v["documents"], serde_json::json!(["HC-1"]));
    let r = http.post(&post_url).basic_auth(&user, Some(&creds.password)).send().await.unwrap();
    assert_eq!(r.status(), 404, "the posted batch is gone");
}

#[tokio::test]
async fn applies_to_unposted_documents_are_refused_by_default() {
    let sb = start_with_extension().await;
    let mut c = Client::login(&sb).await;
    assert_eq!(create_customer(&mut c, "STRICT", "Strict").await.status, 200);
    let date = open_date();
    assert_eq!(
        create_invoice(&mut c, &Doc { batch: "STR-S", ..Doc::new("ST-1", "STRICT", &date, "50.00") }).await.status,
        200
    );
    let ext = apply_extension("ST-1", "20.00");
    let receipt = Doc { batch: "STR-C", extensions: &ext, ..Doc::new("ST-R1", "STRICT", &date, "20.00") };
    let a = create_receipt(&mut c, &receipt).await;
    let messages = validation_messages(&mut c, &a.body).await;
    assert!(messages[0].contains("is not posted"), "{messages:?}");
    posted(&sb.control().post_batch(FABRIKAM, "STR-S", "RM_Sales").await.unwrap());
    assert_eq!(create_receipt(&mut c, &receipt).await.status, 200, "applies to a posted invoice");
}

#[tokio::test]
async fn rmapply_extension_refused_unless_installed() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    assert_eq!(create_customer(&mut c, "NOEXT", "No Extension").await.status, 200);
    let date = open_date();
    assert_eq!(create_invoice(&mut c, &Doc::new("NE-1", "NOEXT", &date, "50.00")).await.status, 200);
    let ext = apply_extension("NE-1", "20.00");
    let receipt = Doc { extensions: &ext, ..Doc::new("NE-R1", "NOEXT", &date, "20.00") };
    let a = create_receipt(&mut c, &receipt).await;
    assert_eq!(
        validation_messages(&mut c, &a.body).await,
        ["Extension RMApply is not installed on this GP Web Services instance"]
    );
    let plain = Doc::new("NE-R2", "NOEXT", &date, "20.00");
    assert_eq!(create_receipt(&mut c, &plain).await.status, 200, "a receipt without applies is fine");
}
