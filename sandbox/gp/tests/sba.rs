//! SBA REST/JSON: create and get each object type, errors, odd company names.

// Helpers as well as #[test] fns may stop a test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use support::*;

fn company_path(name: &str) -> String {
    // Encode like real clients: spaces and commas %-encoded, parens literal.
    let enc = name.replace(' ', "%20").replace(',', "%2C");
    format!("/GPService/Tenants(DefaultTenant)/Companies({enc})")
}

async fn get(c: &mut Client, path: &str, auth: &str) -> Answer {
    c.json(Method::GET, path, None, auth).await
}

async fn post(c: &mut Client, path: &str, body: Value, auth: &str) -> Answer {
    c.json(Method::POST, path, Some(body), auth).await
}

fn payload(a: &Answer) -> Value {
    let v: Value = serde_json::from_str(&a.body).unwrap_or_else(|e| panic!("{e}: {a:?}"));
    v["Payload"].clone()
}

#[tokio::test]
async fn create_and_get_every_type() {
    let sb = start_lenient_applies().await;
    let auth = basic(sb.credentials());
    let mut c = Client::connect(&sb).await;
    let base = company_path("Contoso (Bermuda) Ltd.");
    let date = open_date();

    let a = c
        .json(Method::POST, &format!("{base}/Sales/Customers.json"), Some(json!({"Payload": {"Key": {"Id": "SBA-CUST"}, "Name": "SBA Customer", "CurrencyKey": {"ISOCode": "GBP"}}})), &auth)
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    assert_eq!(payload(&a)["Name"], "SBA Customer");
    assert_eq!(
        a.headers.get("location").unwrap(),
        "/GPService/Tenants(DefaultTenant)/Companies(Contoso%20(Bermuda)%20Ltd.)/Sales/Customers(SBA-CUST)"
    );

    let a = c
        .json(
            Method::PATCH,
            &format!("{base}/Sales/Customers(SBA-CUST)"),
            Some(json!({"Payload": {"Name": "SBA Customer Ltd"}})),
            &auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let a = get(&mut c, &format!("{base}/Sales/Customers(SBA-CUST).json"), &auth).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let cust = payload(&a);
    assert_eq!(cust["Name"], "SBA Customer Ltd");
    assert_eq!(cust["CurrencyKey"]["ISOCode"], "GBP");
    assert_eq!(cust["IsActive"], true);
    let a = get(&mut c, &format!("{base}/Sales/Customers"), &auth).await;
    assert_eq!(payload(&a).as_array().unwrap().len(), 1, "{a:?}");

    let invoice = json!({"Payload": {
        "Key": {"Id": "SBA-INV-1"}, "Date": date, "CustomerKey": {"Id": "SBA-CUST"},
        "BatchKey": {"Id": "SBA-SALES"}, "SalesAmount": {"Value": 250.5}, "TaxAmount": {"Value": "20.04"},
        "DocumentAmount": {"Value": 270.54}, "CurrencyKey": {"ISOCode": "GBP"}, "Description": "via SBA"
    }});
    let a = post(&mut c, &format!("{base}/Sales/ReceivablesInvoices"), invoice, &auth).await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    // Decimals come back as JSON numbers with the currency's digits.
    assert!(
        a.body.contains("\"DocumentAmount\":{\"Currency\":\"GBP\",\"Value\":270.54,\"DecimalDigits\":2}"),
        "{}",
        a.body
    );
    let a = get(&mut c, &format!("{base}/Sales/ReceivablesInvoices(SBA-INV-1)"), &auth).await;
    assert_eq!(payload(&a)["SalesAmount"]["Value"], json!(250.50));

    let memo = json!({"Payload": {
        "Key": {"Id": "SBA-CM-1"}, "Date": date, "CustomerKey": {"Id": "SBA-CUST"}, "BatchKey": {"Id": "SBA-SALES"},
        "SalesAmount": {"Value": 20}, "CurrencyKey": {"ISOCode": "GBP"}
    }, "Applies": [{"APTODCNM": "SBA-INV-1", "APPTOAMT": 20}]});
    let a = post(&mut c, &format!("{base}/Sales/ReceivablesCreditMemos"), memo, &auth).await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    let a = get(&mut c, &format!("{base}/Sales/ReceivablesCreditMemos(SBA-CM-1)"), &auth).await;
    assert_eq!(payload(&a)["Type"], "Credit Memo");

    let receipt = json!({"Payload": {
        "Key": {"Id": "SBA-PMT-1"}, "Date": date, "CustomerKey": {"Id": "SBA-CUST"}, "BatchKey": {"Id": "SBA-CASH"},
        "Amount": {"Value": 100}, "Type": "Check", "BankAccountKey": {"Id": "LONDON BANK"}, "CurrencyKey": {"ISOCode": "GBP"}
    }, "Applies": [{"APTODCNM": "SBA-INV-1", "APPTOAMT": "100.00"}]});
    let a = post(&mut c, &format!("{base}/Sales/CashReceipts"), receipt, &auth).await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    let a = get(&mut c, &format!("{base}/Sales/CashReceipts(SBA-PMT-1)"), &auth).await;
    assert_eq!(payload(&a)["BankAccountKey"]["Id"], "LONDON BANK");

    let a = get(&mut c, &format!("{base}/Sales/ReceivablesInvoices(SBA-INV-1)"), &auth).await;
    assert_eq!(payload(&a)["CurrentDocumentAmount"]["Value"], json!(150.54));

    let a = get(&mut c, &format!("{base}/Sales/Batches(RM_Cash;SBA-CASH)"), &auth).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(payload(&a)["NumberOfTransactions"], 1);
    let a = get(&mut c, &format!("{base}/Sales/Batches"), &auth).await;
    assert_eq!(payload(&a).as_array().unwrap().len(), 2);

    // The same documents are visible in the company with the parens in its name only.
    assert_eq!(sb.control().documents(2).await.unwrap().len(), 3);
    assert!(sb.control().documents(FABRIKAM).await.unwrap().is_empty());
    assert_eq!(sb.control().counters().calls.get("sba:CreateReceivablesInvoice"), Some(&1));
}

#[tokio::test]
async fn errors_carry_gp_messages_and_http_status() {
    let sb = start().await;
    let auth = basic(sb.credentials());
    let mut c = Client::connect(&sb).await;
    let base = company_path("Fabrikam, Inc.");
    let date = open_date();
    let inv = |id: &str, cust: &str| json!({"Payload": {"Key": {"Id": id}, "Date": date, "CustomerKey": {"Id": cust}, "BatchKey": {"Id": "B"}, "SalesAmount": {"Value": 1}}});

    let a = c.json(Method::POST, &format!("{base}/Sales/ReceivablesInvoices"), Some(inv("E-1", "GHOST")), &auth).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_str(&a.body).unwrap();
    let err = &v["Error"]["ValidationResult"]["Errors"][0];
    assert_eq!(err["Id"], "221");
    assert_eq!(err["Message"], "The Customer Number (CUSTNMBR) does not exist in the Customer Master Table - RM00101");

    let cust = json!({"Payload": {"Key": {"Id": "REAL"}, "Name": "Real"}});
    assert_eq!(
        c.json(Method::POST, &format!("{base}/Sales/Customers"), Some(cust.clone()), &auth).await.status,
        StatusCode::CREATED
    );
    assert_eq!(post(&mut c, &format!("{base}/Sales/Customers"), cust, &auth).await.status, StatusCode::CONFLICT);
    assert_eq!(
        c.json(Method::POST, &format!("{base}/Sales/ReceivablesInvoices"), Some(inv("E-2", "REAL")), &auth)
            .await
            .status,
        StatusCode::CREATED
    );
    let a = c.json(Method::POST, &format!("{base}/Sales/ReceivablesInvoices"), Some(inv("E-2", "REAL")), &auth).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert!(a.body.contains("already exists in either RM00401"), "{a:?}");

    assert_eq!(
        get(&mut c, &format!("{base}/Sales/ReceivablesInvoices(NOPE)"), &auth).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&mut c, &format!("{}/Sales/Customers", company_path("No Such Co")), &auth).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get(&mut c, "/GPService/Tenants(Other)/Companies", &auth).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        c.json(Method::DELETE, &format!("{base}/Sales/Customers(REAL)"), None, &auth).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    // Not wrapped in Payload, unknown member.
    let a = c.json(Method::POST, &format!("{base}/Sales/Customers"), Some(json!({"Key": {"Id": "X"}})), &auth).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("Payload"));
    let a = c
        .json(
            Method::POST,
            &format!("{base}/Sales/Customers"),
            Some(json!({"Payload": {"Key": {"Id": "X"}, "Email": "a@b"}})),
            &auth,
        )
        .await;
    assert!(a.status == StatusCode::BAD_REQUEST && a.body.contains("Email"), "{a:?}");
    // %-encoded parens and lower-case gpservice.
    let a = get(
        &mut c,
        "/gpservice/Tenants%28DefaultTenant%29/Companies%28Fabrikam%2C%20Inc.%29/Sales/Customers%28REAL%29",
        &auth,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    // Injected system fault.
    sb.control().inject(gp_sandbox::FaultRule::once("GetCustomerByKey", gp_sandbox::FaultKind::SystemFault));
    let a = get(&mut c, &format!("{base}/Sales/Customers(REAL)"), &auth).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(a.body.contains("unhandled system exception"));
    assert_eq!(invoices(&sb).await, 1);
}
