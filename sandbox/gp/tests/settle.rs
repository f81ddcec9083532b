//! Applies and voids as GP does them, through eConnect (taRMApply, taRMVoidTransaction) and
//! Web Services (VoidCashReceipt): the apply-to document posted, write-offs, voids that
//! unapply, debit memos, and the read queries that show the result.

// Test helpers: a failed step should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use gp_sandbox::tds::backend::SqlValue;
use gp_sandbox::{DocType, GpConfig, RulesConfig};
use support::ec::*;
use support::*;

fn day(month: u32, d: u32) -> String {
    format!("{}-{month:02}-{d:02}", this_year())
}

async fn post(sb: &gp_sandbox::Sandbox, batch: &str, source: &str) {
    let out = sb.control().post_batch(FABRIKAM, batch, source).await.unwrap();
    assert!(out.is_posted(), "{batch}: {out:?}");
}

async fn remaining(sb: &gp_sandbox::Sandbox, t: DocType, number: &str) -> i64 {
    sb.control().document(FABRIKAM, t, number).await.unwrap().unwrap().remaining
}

#[tokio::test]
async fn apply_to_must_be_posted_apply_from_may_be_unposted() {
    let sb = start().await;
    let mut s = session(&sb).await;
    assert_eq!(state(&mut s, "taUpdateCreateCustomerRcd", &customer("AP-CUST")).await, 0);
    let date = day(3, 10);
    assert_eq!(state(&mut s, "taRMTransaction", &sale(1, "AP-INV", "AP-CUST", "AP-S", &date, "100.00")).await, 0);
    assert_eq!(
        state(&mut s, "taRMCashReceiptInsert", &receipt("AP-PMT", "AP-CUST", "AP-C", &date, "80", &date)).await,
        0
    );
    let from_receipt = |amount: &str| apply((9, "AP-PMT"), (1, "AP-INV"), amount);
    assert_eq!(state(&mut s, "taRMApply", &from_receipt("10.00")).await, 9025, "the invoice is unposted");
    post(&sb, "AP-S", "RM_Sales").await;
    // The receipt is still unposted: GP applies it (real integrations do, in one document).
    assert_eq!(state(&mut s, "taRMApply", &from_receipt("30.00")).await, 0);
    // A write-off closes the rest of the invoice; APPTOAMT + WROFAMNT may not exceed it.
    let with_write_off = |amount: &str, w: &str| with(from_receipt(amount), "WROFAMNT", n(w));
    assert_eq!(state(&mut s, "taRMApply", &with_write_off("50.00", "20.01")).await, 9023);
    assert_eq!(state(&mut s, "taRMApply", &with_write_off("50.00", "20.00")).await, 0);
    assert_eq!(remaining(&sb, DocType::Invoice, "AP-INV").await, 0);
    assert_eq!(remaining(&sb, DocType::CashReceipt, "AP-PMT").await, 0);
    // One RM20201 row per pair: the second apply added to the first.
    let rs = query(&mut s, APPLIES, &[i(9), t("AP-PMT")]).await;
    assert_eq!(rs.rows, vec![vec![i(1), t("AP-INV"), m5(8_000_000), m5(2_000_000)]]);
    assert!(query(&mut s, APPLIES, &[i(9), t("NOTHING")]).await.rows.is_empty());
    // Other refusals: zero, over the receipt, unknown documents and types.
    assert_eq!(state(&mut s, "taRMApply", &from_receipt("0")).await, 9026);
    assert_eq!(state(&mut s, "taRMApply", &apply((9, "AP-PMT"), (1, "NOPE"), "1")).await, 9020);
    assert_eq!(state(&mut s, "taRMApply", &apply((9, "NOPE"), (1, "AP-INV"), "1")).await, 9016);
    assert_eq!(state(&mut s, "taRMApply", &apply((1, "AP-INV"), (9, "AP-PMT"), "1")).await, 9042);
    assert_eq!(state(&mut s, "taRMApply", &apply((8, "R"), (1, "AP-INV"), "1")).await, 9042, "returns not emulated");
}

#[tokio::test]
async fn the_switch_allows_applies_to_unposted_documents() {
    let rules = RulesConfig { allow_apply_to_unposted: true, ..RulesConfig::default() };
    let sb = start_with(GpConfig { rules, ..GpConfig::default() }).await;
    let mut s = session(&sb).await;
    assert_eq!(state(&mut s, "taUpdateCreateCustomerRcd", &customer("SW-CUST")).await, 0);
    let date = day(3, 10);
    assert_eq!(state(&mut s, "taRMTransaction", &sale(1, "SW-INV", "SW-CUST", "SW-S", &date, "100.00")).await, 0);
    assert_eq!(state(&mut s, "taRMTransaction", &sale(7, "SW-CM", "SW-CUST", "SW-S", &date, "40.00")).await, 0);
    assert_eq!(state(&mut s, "taRMApply", &apply((7, "SW-CM"), (1, "SW-INV"), "40")).await, 0);
    assert_eq!(remaining(&sb, DocType::Invoice, "SW-INV").await, 6000);
}

#[tokio::test]
async fn an_apply_posts_in_an_open_period_only() {
    let sb = start().await;
    let mut s = session(&sb).await;
    assert_eq!(state(&mut s, "taUpdateCreateCustomerRcd", &customer("PD-CUST")).await, 0);
    let date = day(3, 10);
    assert_eq!(state(&mut s, "taRMTransaction", &sale(1, "PD-INV", "PD-CUST", "PD-S", &date, "100")).await, 0);
    assert_eq!(
        state(&mut s, "taRMCashReceiptInsert", &receipt("PD-PMT", "PD-CUST", "PD-C", &date, "10", &date)).await,
        0
    );
    post(&sb, "PD-S", "RM_Sales").await;
    sb.control().close_period(FABRIKAM, this_year(), 4).await.unwrap();
    let a = with(apply((9, "PD-PMT"), (1, "PD-INV"), "10"), "GLPOSTDT", t(&day(4, 2)));
    assert_eq!(state(&mut s, "taRMApply", &a).await, 9001, "GL posting date in a closed period");
    let a = with(a, "GLPOSTDT", t(&day(5, 2)));
    assert_eq!(state(&mut s, "taRMApply", &a).await, 0);
}

#[tokio::test]
async fn a_void_unapplies_the_receipt_and_leaves_the_balance() {
    let sb = start().await;
    let mut s = session(&sb).await;
    let mut c = Client::login(&sb).await;
    assert_eq!(state(&mut s, "taUpdateCreateCustomerRcd", &customer("VD-CUST")).await, 0);
    let date = day(3, 10);
    assert_eq!(state(&mut s, "taRMTransaction", &sale(1, "VD-INV", "VD-CUST", "VD-S", &date, "100")).await, 0);
    assert_eq!(
        state(&mut s, "taRMCashReceiptInsert", &receipt("VD-PMT", "VD-CUST", "VD-C", &date, "60", &date)).await,
        0
    );
    post(&sb, "VD-S", "RM_Sales").await;
    assert_eq!(state(&mut s, "taRMApply", &apply((9, "VD-PMT"), (1, "VD-INV"), "60")).await, 0);
    let v = void(9, "VD-PMT", "VD-CUST", &day(3, 20));
    assert_eq!(state(&mut s, "taRMVoidTransaction", &v).await, 9048, "posted documents only");
    post(&sb, "VD-C", "RM_Cash").await;
    assert_eq!(balance(&mut c, "VD-CUST").await, "40.00");

    // Refusals first: each leaves the receipt as it was.
    let refusals = [
        (with(v.clone(), "VOIDDATE", SqlValue::Null), 9003),
        (with(v.clone(), "GLPOSTDT", SqlValue::Null), 9003),
        (with(v.clone(), "VOIDSTTS", i(2)), 9050),
        (with(v.clone(), "CUSTNMBR", t("OTHER")), 9016),
        (with(v.clone(), "RMDTYPAL", i(1)), 9042),
    ];
    for (params, expected) in refusals {
        assert_eq!(state(&mut s, "taRMVoidTransaction", &params).await, expected, "{params:?}");
    }
    sb.control().close_period(FABRIKAM, this_year(), 2).await.unwrap();
    let closed = with(v.clone(), "GLPOSTDT", t(&day(2, 27)));
    assert_eq!(state(&mut s, "taRMVoidTransaction", &closed).await, 9001, "the void's GL posting date");
    assert_eq!(remaining(&sb, DocType::Invoice, "VD-INV").await, 4000);

    assert_eq!(state(&mut s, "taRMVoidTransaction", &v).await, 0);
    assert_eq!(state(&mut s, "taRMVoidTransaction", &v).await, 9044);
    // Unapplied: the invoice is owed in full, the receipt has nothing left, the apply is gone.
    assert_eq!(remaining(&sb, DocType::Invoice, "VD-INV").await, 10000);
    assert_eq!(remaining(&sb, DocType::CashReceipt, "VD-PMT").await, 0);
    assert!(query(&mut s, APPLIES, &[i(9), t("VD-PMT")]).await.rows.is_empty());
    let rs = query(&mut s, DOCUMENT_OPEN, &[i(9), t("VD-PMT")]).await;
    assert_eq!(&rs.rows[0][6..], &[m5(6_000_000), m5(0), i(1)], "ORTRXAMT, CURTRXAM, VOIDSTTS");
    // The voided receipt no longer counts: the balance is the invoice.
    assert_eq!(balance(&mut c, "VD-CUST").await, "100.00");
    let a = c.soap("GetCashReceiptByKey", &format!("<key><Id>VD-PMT</Id></key>{}", context(FABRIKAM))).await;
    assert_eq!(
        (tag(&a.body, "IsVoided"), tag(&a.body, "VoidDate")),
        (Some("true"), Some(&*format!("{}T00:00:00", day(3, 20))))
    );
    // A voided receipt applies no more.
    assert_eq!(state(&mut s, "taRMApply", &apply((9, "VD-PMT"), (1, "VD-INV"), "1")).await, 9044);
}

#[tokio::test]
async fn voids_refuse_multicurrency_and_the_switch_allows_unposted() {
    let rules = RulesConfig { allow_void_unposted: true, ..RulesConfig::default() };
    let sb = start_with(GpConfig { rules, ..GpConfig::default() }).await;
    let mut s = session(&sb).await;
    assert_eq!(state(&mut s, "taUpdateCreateCustomerRcd", &customer("VU-CUST")).await, 0);
    let date = day(3, 10);
    assert_eq!(state(&mut s, "taRMTransaction", &sale(7, "VU-CM", "VU-CUST", "VU-S", &date, "25")).await, 0);
    assert_eq!(state(&mut s, "taRMVoidTransaction", &void(7, "VU-CM", "VU-CUST", &date)).await, 0, "unposted, allowed");
    let eur = with(sale(7, "VU-EUR", "VU-CUST", "VU-S", &date, "25"), "CURNCYID", t("Z-EURO"));
    assert_eq!(state(&mut s, "taRMTransaction", &eur).await, 0);
    assert_eq!(state(&mut s, "taRMVoidTransaction", &void(7, "VU-EUR", "VU-CUST", &date)).await, 9051);
}

#[tokio::test]
async fn web_services_void_cash_receipts_and_credit_memos() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    assert_eq!(create_customer(&mut c, "WS-VOID", "Voids").await.status, 200);
    let date = open_date();
    let receipt = Doc { batch: "WSV-C", ..Doc::new("WSV-PMT", "WS-VOID", &date, "30.00") };
    assert_eq!(create_receipt(&mut c, &receipt).await.status, 200);
    let memo = Doc { batch: "WSV-S", ..Doc::new("WSV-CM", "WS-VOID", &date, "12.00") };
    assert_eq!(create_credit_memo(&mut c, &memo).await.status, 200);
    let void_op = |op: &str, number: &str| {
        (op.to_string(), format!("<key><Id>{number}</Id></key>{}{}", context(FABRIKAM), policy()))
    };
    let (op, body) = void_op("VoidCashReceipt", "WSV-PMT");
    let a = c.soap(&op, &body).await;
    assert_eq!(
        validation_messages(&mut c, &a.body).await,
        ["Document WSV-PMT is not posted; GP voids posted documents only"]
    );
    post(&sb, "WSV-C", "RM_Cash").await;
    post(&sb, "WSV-S", "RM_Sales").await;
    assert_eq!(c.soap(&op, &body).await.status, 200);
    let a = c.soap(&op, &body).await;
    assert_eq!(validation_messages(&mut c, &a.body).await, ["Document WSV-PMT is already voided"]);
    let (op, body) = void_op("VoidReceivablesCreditMemo", "WSV-CM");
    assert_eq!(c.soap(&op, &body).await.status, 200);
    let doc = sb.control().document(FABRIKAM, DocType::CreditMemo, "WSV-CM").await.unwrap().unwrap();
    assert_eq!((doc.remaining, doc.void.map(|v| v.status)), (0, Some(1)));
    let (op, body) = void_op("VoidCashReceipt", "NO-SUCH");
    assert_eq!(c.soap(&op, &body).await.status, 500);
}

/// BalanceAmount of the customer's receivables summary.
async fn balance(c: &mut Client, customer: &str) -> String {
    let a = c
        .soap("GetCustomerReceivablesSummaryByKey", &format!("<key><Id>{customer}</Id></key>{}", context(FABRIKAM)))
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    let i = a.body.find("<BalanceAmount>").unwrap();
    tag(&a.body[i..], "Value").unwrap().to_string()
}
