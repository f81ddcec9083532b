//! SOAP documents and customers checked against the company's set-up like eConnect's: the same
//! refusals (numbers) for distributions, taxes, classes, terms, cards, rates and policies.

// Test helpers: a failed step should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::*;

fn dist(kind: i64, account: &str, debit: &str, credit: &str) -> String {
    format!(
        "<ReceivablesDistribution><DistributionTypeKey><Id>{kind}</Id></DistributionTypeKey><GLAccountKey><Id>{account}</Id><IsEncrypted>false</IsEncrypted></GLAccountKey>\
         <DebitAmount xsi:type=\"MoneyAmount\"><Value>{debit}</Value><DecimalDigits>2</DecimalDigits></DebitAmount>\
         <CreditAmount xsi:type=\"MoneyAmount\"><Value>{credit}</Value><DecimalDigits>2</DecimalDigits></CreditAmount></ReceivablesDistribution>"
    )
}

/// An invoice of 100 (+ `tax`) with `members` spliced in before `BatchKey` (WSDL order:
/// TaxScheduleKey, CurrencyKey, Taxes, Distributions come after CustomerKey).
async fn invoice(c: &mut Client, number: &str, tax: Option<&str>, after_customer: &str) -> Answer {
    let date = open_date();
    let mut doc = Doc::new(number, "LEDGER", &date, "100.00");
    doc.tax = tax;
    let xml = doc
        .sales_xml("receivablesInvoice")
        .replace("</receivablesInvoice>", &format!("{after_customer}</receivablesInvoice>"));
    c.soap("CreateReceivablesInvoice", &format!("{xml}{}{}", context(FABRIKAM), policy())).await
}

/// A Customer with `members` right after Name (ClassKey, PaymentTermsKey come before PostResultsTo).
fn customer(id: &str, members: &str) -> String {
    customer_xml(id, "N", "").replace("<Name>N</Name>", &format!("<Name>N</Name>{members}"))
}

async fn refused_with(c: &mut Client, a: &Answer, id: &str) {
    assert_eq!(a.status, 500, "{a:?}");
    let log = fault_log_id(&a.body).unwrap_or_else(|| panic!("{id}: {a:?}"));
    let r = c.soap("GetLoggedValidationResultByKey", &format!("<logId>{log}</logId>{}", context(FABRIKAM))).await;
    assert!(r.body.contains(&format!("<Id>{id}</Id>")), "expected {id}: {}", r.body);
}

#[tokio::test]
async fn soap_documents_are_checked_like_econnect() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    assert_eq!(create_customer(&mut c, "LEDGER", "Ledger").await.status, 200);
    let balanced = format!(
        "<Distributions>{}{}</Distributions>",
        dist(3, "000-1200-00", "100.00", "0"),
        dist(9, "000-4100-00", "0", "100.00")
    );
    let a = invoice(&mut c, "L-OK", None, &balanced).await;
    assert_eq!(a.status, 200, "{a:?}");
    let unbalanced = format!(
        "<Distributions>{}{}</Distributions>",
        dist(3, "000-1200-00", "100.00", "0"),
        dist(9, "000-4100-00", "0", "90.00")
    );
    let a = invoice(&mut c, "L-1", None, &unbalanced).await;
    refused_with(&mut c, &a, "9031").await;
    let unknown = format!(
        "<Distributions>{}{}</Distributions>",
        dist(3, "000-1200-00", "100.00", "0"),
        dist(9, "999-0000-00", "0", "100.00")
    );
    let a = invoice(&mut c, "L-2", None, &unknown).await;
    refused_with(&mut c, &a, "716").await;
    let taxes = "<Taxes><ReceivablesTax><TaxAmount><Value>5.00</Value><DecimalDigits>2</DecimalDigits></TaxAmount><Key><TaxDetailKey><Id>USASTCITY-6*</Id></TaxDetailKey></Key></ReceivablesTax></Taxes>";
    let a = invoice(&mut c, "L-3", Some("6.00"), taxes).await;
    refused_with(&mut c, &a, "712").await;
    let a = invoice(&mut c, "L-4", None, "<CurrencyKey><ISOCode>CAD</ISOCode></CurrencyKey>").await;
    assert_eq!(a.status, 200, "this year has a CAD rate: {a:?}");
    let next = format!("{}-03-15T00:00:00", this_year() + 1);
    let doc = Doc { iso: Some("CAD"), ..Doc::new("L-5", "LEDGER", &next, "1.00") };
    let a = create_invoice(&mut c, &doc).await;
    refused_with(&mut c, &a, "9039").await;
    let bad_policy = "<policy><Key><Id>11111111-2222-3333-4444-555555555555</Id></Key></policy>";
    let xml = Doc::new("L-6", "LEDGER", &open_date(), "1.00").sales_xml("receivablesInvoice");
    let a = c.soap("CreateReceivablesInvoice", &format!("{xml}{}{bad_policy}", context(FABRIKAM))).await;
    refused_with(&mut c, &a, "9041").await;
    assert_eq!(invoices(&sb).await, 2);
}

#[tokio::test]
async fn soap_customers_and_receipts_refer_to_setup() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    let body = customer("C-CLASS", "<ClassKey><Id>NOPE</Id></ClassKey>");
    let a = c.soap("CreateCustomer", &format!("{body}{}{}", context(FABRIKAM), policy())).await;
    refused_with(&mut c, &a, "9036").await;
    let body = customer("C-TERMS", "<PaymentTermsKey><Id>Net 999</Id></PaymentTermsKey>");
    let a = c.soap("CreateCustomer", &format!("{body}{}{}", context(FABRIKAM), policy())).await;
    refused_with(&mut c, &a, "9037").await;
    assert_eq!(create_customer(&mut c, "PAYER", "Payer").await.status, 200);
    let date = open_date();
    let receipt = Doc::new("R-CARD", "PAYER", &date, "10.00")
        .receipt_xml()
        .replace("<BatchKey>", "<PaymentCardTypeKey><Id>Diners</Id></PaymentCardTypeKey><BatchKey>");
    let a = c.soap("CreateCashReceipt", &format!("{receipt}{}{}", context(FABRIKAM), policy())).await;
    refused_with(&mut c, &a, "9038").await;
}
