//! GP Web Services over NTLM: every operation, GP's faults and GP's rules.

mod support;

use gp_sandbox::{DocType, TxState};
use hyper::StatusCode;
use support::*;

#[tokio::test]
async fn every_operation_round_trips() {
    let sb = start_lenient_applies().await;
    let mut c = Client::login(&sb).await;
    let date = open_date();

    let a = c
        .soap("GetPolicyByOperation", &format!("<operation>CreateReceivablesInvoice</operation>{}", context(FABRIKAM)))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert!(a.body.contains("<RootBusinessObjectName>ReceivablesInvoice</RootBusinessObjectName>"), "{}", a.body);

    let a = c
        .soap(
            "GetCompanyList",
            &format!("<criteria><Name><Like>Contoso%</Like></Name></criteria>{}", context(FABRIKAM)),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert!(a.body.contains("Contoso (Bermuda) Ltd.") && !a.body.contains("Fabrikam"), "{}", a.body);

    let extra = "<CurrencyKey><ISOCode>USD</ISOCode></CurrencyKey>";
    let a = c
        .soap(
            "CreateCustomer",
            &format!(
                "{}{}{}",
                customer_xml("AARONFIT0001", "Aaron Fitz Electrical", extra),
                context(FABRIKAM),
                policy()
            ),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert!(a.body.contains("<CreateCustomerResponse"), "{}", a.body);

    let a = c
        .soap(
            "UpdateCustomer",
            &format!(
                "{}{}{}",
                customer_xml("AARONFIT0001", "Aaron Fitz Electric Ltd", ""),
                context(FABRIKAM),
                policy()
            ),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");

    let a = c.soap("GetCustomerByKey", &format!("<key><Id>AARONFIT0001</Id></key>{}", context(FABRIKAM))).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(tag(&a.body, "Name"), Some("Aaron Fitz Electric Ltd"));
    assert!(a.body.contains("<ISOCode>USD</ISOCode>"));
    // Members come in WSDL order, with nil for the unset value-typed ones.
    let order = ["<Key>", "<IsOnHold>", "<IsActive>", "<Name>", "<CurrencyKey>", "<CreatedDate>", "<Addresses"];
    let pos: Vec<usize> = order.iter().filter_map(|t| a.body.find(t)).collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "order {pos:?} in {}", a.body);
    assert!(a.body.contains("<Priority xsi:nil=\"true\" />"));

    let a = c
        .soap(
            "GetCustomerList",
            &format!(
                "<criteria><Id><EqualValue>AARONFIT0001</EqualValue></Id><Scope>Return All</Scope></criteria>{}",
                context(FABRIKAM)
            ),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert!(a.body.contains("<CustomerSummary>"));

    let mut inv = Doc::new("INV-0001", "AARONFIT0001", &date, "100.00");
    inv.tax = Some("8.25");
    inv.document = Some("108.25");
    inv.description = Some("Subscription March");
    let a = create_invoice(&mut c, &inv).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");

    let a = c.soap("GetReceivablesInvoiceByKey", &format!("<key><Id>INV-0001</Id></key>{}", context(FABRIKAM))).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert!(a.body.contains("<DocumentAmount><Currency>USD</Currency><Value>108.25</Value><DecimalDigits>2</DecimalDigits></DocumentAmount>"), "{}", a.body);
    assert!(a.body.contains("<TransactionState>Work</TransactionState>"));
    assert!(a.body.contains("<Source>RM_Sales</Source>"));

    let mut receipt = Doc::new("PMT-0001", "AARONFIT0001", &date, "50.00");
    let ext = apply_extension("INV-0001", "50.00");
    receipt.extensions = &ext;
    let a = create_receipt(&mut c, &receipt).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let a = c.soap("GetCashReceiptByKey", &format!("<key><Id>PMT-0001</Id></key>{}", context(FABRIKAM))).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert!(
        a.body
            .contains("<BankAccountKey><CompanyKey><d:Id>-1</d:Id></CompanyKey><Id>UPTOWN TRUST</Id></BankAccountKey>"),
        "{}",
        a.body
    );

    let mut memo = Doc::new("CM-0001", "AARONFIT0001", &date, "10.00");
    let ext = apply_extension("INV-0001", "10.00");
    memo.extensions = &ext;
    let a = create_credit_memo(&mut c, &memo).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let a = c.soap("GetReceivablesCreditMemoByKey", &format!("<key><Id>CM-0001</Id></key>{}", context(FABRIKAM))).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert!(a.body.contains("<Type>Credit Memo</Type>"));

    // Both applies reduced the invoice: 108.25 - 50 - 10.
    let a = c.soap("GetReceivablesInvoiceByKey", &format!("<key><Id>INV-0001</Id></key>{}", context(FABRIKAM))).await;
    assert!(a.body.contains("<CurrentDocumentAmount><Currency>USD</Currency><Value>48.25</Value>"), "{}", a.body);

    let a = c.soap("GetBatchByKey", &format!("<key><Source>RM_Sales</Source><Id>SANDBOX-B1</Id><CreatedDateTime>0001-01-01T00:00:00</CreatedDateTime></key>{}", context(FABRIKAM))).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(tag(&a.body, "NumberOfTransactions"), Some("2"));
    assert!(a.body.contains("<Total><Currency>USD</Currency><Value>118.25</Value>"), "{}", a.body);

    let a = c
        .soap(
            "GetBatchList",
            &format!("<criteria><Source><EqualValue>RM_Cash</EqualValue></Source></criteria>{}", context(FABRIKAM)),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body.matches("<Batch>").count(), 1, "{}", a.body);

    let a = c.soap("GetReceivablesDocumentList", &format!("<criteria><CustomerId><EqualValue>AARONFIT0001</EqualValue></CustomerId><Scope>Return All</Scope></criteria>{}", context(FABRIKAM))).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body.matches("<ReceivablesDocumentSummary>").count(), 3, "{}", a.body);
    assert!(a.body.contains("<Type>Cash Receipt</Type>"));

    let counts = sb.control().counters();
    assert_eq!(counts.documents_written, 3);
    assert_eq!(counts.calls.get("CreateReceivablesInvoice"), Some(&1));
    sb.shutdown().await;
}

#[tokio::test]
async fn duplicate_document_number_is_error_190_across_work_open_and_history() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    create_customer(&mut c, "DUPCUST", "Dup Customer").await;
    let date = open_date();
    assert_eq!(create_invoice(&mut c, &Doc::new("INV-DUP", "DUPCUST", &date, "10.00")).await.status, StatusCode::OK);
    let a = create_invoice(&mut c, &Doc::new("INV-DUP", "DUPCUST", &date, "10.00")).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    let msgs = validation_messages(&mut c, &a.body).await;
    assert_eq!(msgs, ["Document number (DOCNUMBR) already exists in either RM00401, RM10301, RM20101 or RM30101"]);

    // Posted (open) and history documents still block the number.
    sb.control().set_document_state(FABRIKAM, DocType::Invoice, "INV-DUP", TxState::History).await.unwrap();
    let a = create_invoice(&mut c, &Doc::new("INV-DUP", "DUPCUST", &date, "10.00")).await;
    assert!(a.body.contains("already exists in either RM00401"), "{}", a.body);
    let docs = sb.control().documents_of(FABRIKAM, DocType::Invoice).await.unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].state, TxState::History);
}

#[tokio::test]
async fn closed_period_fault_has_gps_exact_message_and_reopening_fixes_it() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    create_customer(&mut c, "PERIODS", "Period Tester").await;
    let last_year = format!("{}-06-30T00:00:00", this_year() - 1);
    let a = create_invoice(&mut c, &Doc::new("INV-OLD", "PERIODS", &last_year, "1.00")).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        validation_messages(&mut c, &a.body).await,
        ["The fiscal period that contains the document date is closed."]
    );

    let this_may = format!("{}-05-10T00:00:00", this_year());
    sb.control().set_period_closed(FABRIKAM, this_year(), 5, true).await.unwrap();
    let a = create_invoice(&mut c, &Doc::new("INV-MAY", "PERIODS", &this_may, "1.00")).await;
    assert_eq!(
        validation_messages(&mut c, &a.body).await,
        ["The fiscal period that contains the document date is closed."]
    );
    sb.control().set_period_closed(FABRIKAM, this_year(), 5, false).await.unwrap();
    assert_eq!(create_invoice(&mut c, &Doc::new("INV-MAY", "PERIODS", &this_may, "1.00")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn validation_fault_guid_resolves_to_errors_with_gp_members() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    let a = create_invoice(&mut c, &Doc::new("INV-X", "NOSUCHCUST", &open_date(), "5.00")).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(a.body.contains("<faultcode>soap:Server</faultcode>"));
    let id = fault_log_id(&a.body).expect("detail/Message holds the log id");
    assert_eq!(id.len(), 36, "a GUID: {id}");
    let r = c.soap("GetLoggedValidationResultByKey", &format!("<logId>{id}</logId>{}", context(FABRIKAM))).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let b = &r.body;
    let expected = "<ValidationError><ObjectType>Microsoft.Dynamics.GP.ReceivablesInvoice</ObjectType><PropertyNames><string>CustomerKey</string></PropertyNames><Message>The Customer Number (CUSTNMBR) does not exist in the Customer Master Table - RM00101</Message><Id>221</Id></ValidationError>";
    assert!(b.contains(expected), "{b}");
}

#[tokio::test]
async fn system_exception_is_generic() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    sb.control().inject(gp_sandbox::FaultRule::once("GetCompanyList", gp_sandbox::FaultKind::SystemFault));
    let a = c.soap("GetCompanyList", &context(FABRIKAM)).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(a.body.contains(
        "The application encountered an unhandled system exception. Contact your system administrator for details."
    ));
    assert!(fault_log_id(&a.body).is_none(), "no <Message> in a system fault's detail");
}

#[tokio::test]
async fn customer_id_rules() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    for bad in ["lowercase", "O'BRIEN", "SIXTEEN-CHARS-XX", "A/B"] {
        let a = create_customer(&mut c, bad, "Bad").await;
        assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR, "{bad}");
        let msgs = validation_messages(&mut c, &a.body).await;
        assert!(msgs[0].starts_with("Customer Number (CUSTNMBR)"), "{bad}: {msgs:?}");
    }
    assert_eq!(create_customer(&mut c, "GOOD ID-1.2_3", "Good").await.status, StatusCode::OK);
    let a = create_customer(&mut c, "GOOD ID-1.2_3", "Again").await;
    assert!(validation_messages(&mut c, &a.body).await[0].contains("already exists"));
    // Currency must exist (eConnect 483).
    let a = c
        .soap(
            "CreateCustomer",
            &format!(
                "{}{}{}",
                customer_xml("CURR", "C", "<CurrencyKey><ISOCode>CHF</ISOCode></CurrencyKey>"),
                context(FABRIKAM),
                policy()
            ),
        )
        .await;
    assert_eq!(validation_messages(&mut c, &a.body).await, ["The Currency ID does not exist in MC40200"]);
    // Name longer than 64.
    let long = "N".repeat(65);
    let a = create_customer(&mut c, "LONGNAME", &long).await;
    assert!(validation_messages(&mut c, &a.body).await[0].contains("longer than 64"));
    assert_eq!(sb.control().customers(FABRIKAM).await.unwrap().len(), 1);
}

#[tokio::test]
async fn field_lengths_amounts_and_precision() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    create_customer(&mut c, "LENS", "Lengths").await;
    let date = open_date();
    // DOCNUMBR: 17 for RM sales documents, 20 for cash receipts.
    assert_eq!(
        create_invoice(&mut c, &Doc::new("INV-0123456789-17", "LENS", &date, "1.00")).await.status,
        StatusCode::OK
    );
    let a = create_invoice(&mut c, &Doc::new("INV-0123456789-018", "LENS", &date, "1.00")).await;
    assert!(validation_messages(&mut c, &a.body).await[0].contains("(DOCNUMBR) is longer than 17"));
    assert_eq!(
        create_receipt(&mut c, &Doc::new("PMT-0123456789-00020", "LENS", &date, "1.00")).await.status,
        StatusCode::OK
    );
    let mut d = Doc::new("INV-B", "LENS", &date, "1.00");
    d.batch = "BATCH-0123456789";
    let a = create_invoice(&mut c, &d).await;
    assert!(validation_messages(&mut c, &a.body).await[0].contains("(BACHNUMB) is longer than 15"));
    let mut d = Doc::new("INV-D", "LENS", &date, "1.00");
    let desc = "D".repeat(31);
    d.description = Some(&desc);
    let a = create_invoice(&mut c, &d).await;
    assert!(validation_messages(&mut c, &a.body).await[0].contains("(DOCDESCR) is longer than 30"));
    // DOCAMNT must add up (eConnect 621).
    let mut d = Doc::new("INV-SUM", "LENS", &date, "100.00");
    d.tax = Some("5.00");
    d.document = Some("100.00");
    let a = create_invoice(&mut c, &d).await;
    assert_eq!(
        validation_messages(&mut c, &a.body).await,
        ["Document Amount is incorrect - (DOCAMNT <> SLSAMNT - TRDISAMT + FRTAMNT + MISCAMNT + TAXAMNT)"]
    );
    // More decimals than the currency has: refused, not rounded. JPY has none.
    let a = create_invoice(&mut c, &Doc::new("INV-PREC", "LENS", &date, "1.005")).await;
    assert!(validation_messages(&mut c, &a.body).await[0].contains("more decimal places than currency USD allows (2)"));
    let mut d = Doc::new("INV-JPY", "LENS", &date, "100.5");
    d.iso = Some("JPY");
    let a = create_invoice(&mut c, &d).await;
    assert!(validation_messages(&mut c, &a.body).await[0].contains("JPY allows (0)"));
    let mut d = Doc::new("INV-JPY", "LENS", &date, "1500");
    d.iso = Some("JPY");
    assert_eq!(create_invoice(&mut c, &d).await.status, StatusCode::OK);
    let jpy = sb.control().document(FABRIKAM, DocType::Invoice, "INV-JPY").await.unwrap().unwrap();
    assert_eq!((jpy.amounts.document, jpy.currency.currency_id.as_str()), (1500, "Z-YEN"));
    let usd = sb.control().document(FABRIKAM, DocType::Invoice, "INV-0123456789-17").await.unwrap().unwrap();
    assert_eq!(usd.amounts.sales, 100, "stored in cents");
}

#[tokio::test]
async fn apply_rules() {
    let sb = start_with_extension().await;
    let mut c = Client::login(&sb).await;
    let date = open_date();
    create_customer(&mut c, "PAYER", "Payer").await;
    create_customer(&mut c, "OTHER", "Other").await;
    assert_eq!(create_invoice(&mut c, &Doc::new("INV-A", "PAYER", &date, "100.00")).await.status, StatusCode::OK);
    assert_eq!(create_invoice(&mut c, &Doc::new("INV-O", "OTHER", &date, "100.00")).await.status, StatusCode::OK);
    let mut eur = Doc::new("INV-EUR", "PAYER", &date, "100.00");
    eur.iso = Some("EUR");
    assert_eq!(create_invoice(&mut c, &eur).await.status, StatusCode::OK);
    // GP applies to posted documents.
    assert!(sb.control().post_batch(FABRIKAM, "SANDBOX-B1", "RM_Sales").await.unwrap().is_posted());

    let try_receipt =
        |number: &'static str, to: &'static str, amount: &'static str, total: &'static str| (number, to, amount, total);
    let cases = [
        (try_receipt("PMT-1", "NOPE", "10.00", "10.00"), "does not exist as an invoice"),
        (try_receipt("PMT-2", "INV-O", "10.00", "10.00"), "belongs to customer OTHER"),
        (try_receipt("PMT-3", "INV-EUR", "10.00", "10.00"), "is in currency Z-EURO"),
        (try_receipt("PMT-4", "INV-A", "150.00", "200.00"), "exceeds the remaining amount 100.00"),
        (try_receipt("PMT-5", "INV-A", "60.00", "50.00"), "more than the applying document's amount 50.00"),
    ];
    for ((number, to, amount, total), expected) in cases {
        let mut r = Doc::new(number, "PAYER", &date, total);
        let ext = apply_extension(to, amount);
        r.extensions = &ext;
        let a = create_receipt(&mut c, &r).await;
        assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR, "{number}");
        let msgs = validation_messages(&mut c, &a.body).await;
        assert!(msgs.iter().any(|m| m.contains(expected)), "{number}: {msgs:?}");
    }
    assert!(
        sb.control().documents_of(FABRIKAM, DocType::CashReceipt).await.unwrap().is_empty(),
        "refused receipts wrote nothing"
    );

    // A good apply, then one that would overdraw what is left.
    let mut r = Doc::new("PMT-OK", "PAYER", &date, "70.00");
    let ext = apply_extension("INV-A", "70.00");
    r.extensions = &ext;
    assert_eq!(create_receipt(&mut c, &r).await.status, StatusCode::OK);
    let mut m = Doc::new("CM-OVER", "PAYER", &date, "40.00");
    let ext = apply_extension("INV-A", "40.00");
    m.extensions = &ext;
    let a = create_credit_memo(&mut c, &m).await;
    assert!(validation_messages(&mut c, &a.body).await[0].contains("exceeds the remaining amount 30.00"));
    let inv = sb.control().document(FABRIKAM, DocType::Invoice, "INV-A").await.unwrap().unwrap();
    assert_eq!(inv.remaining, 3000);
    let applies = sb.control().applies(FABRIKAM).await.unwrap();
    assert_eq!(applies.len(), 1);
    assert_eq!((applies[0].to_number.as_str(), applies[0].amount_minor), ("INV-A", 7000));
}

#[tokio::test]
async fn contract_violations_are_client_faults() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    // Unknown member.
    let a =
        c.soap("GetCompanyList", &format!("<criteria><Nickname>x</Nickname></criteria>{}", context(FABRIKAM))).await;
    assert!(a.body.contains("<faultcode>soap:Client</faultcode>") && a.body.contains("Nickname"), "{}", a.body);
    // Context member in the wrong namespace.
    let bad_ctx = "<context><OrganizationKey xsi:type=\"CompanyKey\"><Id>-1</Id></OrganizationKey></context>";
    let a = c.soap("GetCompanyList", bad_ctx).await;
    assert!(a.body.contains("must be in namespace http://schemas.microsoft.com/dynamics/2006/01"), "{}", a.body);
    // Out of order: Name before Key.
    let a = c
        .soap(
            "CreateCustomer",
            &format!("<customer><Name>N</Name><Key><Id>ORDER</Id></Key></customer>{}{}", context(FABRIKAM), policy()),
        )
        .await;
    assert!(a.body.contains("out of WSDL order"), "{}", a.body);
    // SOAPAction must name the operation in the body.
    let a = c.soap_raw("CreateCustomer", &envelope("GetCompanyList", &context(FABRIKAM))).await;
    assert!(a.body.contains("did not recognize the value of HTTP Header SOAPAction"), "{}", a.body);
    // Not emulated.
    let a = c.soap("GetVendorByKey", &context(FABRIKAM)).await;
    assert!(a.body.contains("not emulated"), "{}", a.body);
    // Other prefixes, explicit nils and the abstract OrganizationKey without xsi:type.
    let odd = format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:g="{NS_GP}" xmlns:k="{NS_DYN}"><s:Body><g:GetCustomerList><g:criteria i:nil="true"/><g:context><k:OrganizationKey i:type="k:CompanyKey"><k:Id>-1</k:Id></k:OrganizationKey><k:CultureName i:nil="true"/><k:CurrencyType>Local</k:CurrencyType></g:context></g:GetCustomerList></s:Body></s:Envelope>"#
    );
    let a = c.soap_raw("GetCustomerList", &odd).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let no_type = format!(
        "<context><OrganizationKey xmlns=\"{NS_DYN}\"><Id>-1</Id></OrganizationKey><CurrencyType xmlns=\"{NS_DYN}\">Local</CurrencyType></context>"
    );
    let a = c.soap("GetCustomerList", &no_type).await;
    assert!(a.body.contains("abstract type"), "{}", a.body);
    // Missing policy on a create.
    let a = c.soap("CreateCustomer", &format!("{}{}", customer_xml("NOPOL", "N", ""), context(FABRIKAM))).await;
    assert!(validation_messages(&mut c, &a.body).await[0].contains("GetPolicyByOperation"));
}

#[tokio::test]
async fn wsdl_is_served() {
    let sb = start().await;
    let mut c = Client::login(&sb).await;
    let a = c.send(hyper::Method::GET, &format!("{}?wsdl", gp_sandbox::soap::PATH), &[], "").await.unwrap();
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.len() > 1_000_000 && a.body.contains("NtlmAuthentication"));
}
