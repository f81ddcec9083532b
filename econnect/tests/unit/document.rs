use mlc_econnect::value::Value;
use mlc_econnect::{Document, EconnectError};

fn invalid(xml: &str) -> String {
    match Document::parse(xml) {
        Err(EconnectError::Invalid(m)) => m,
        other => panic!("expected invalid, got {other:?}"),
    }
}

fn wrap(inner: &str) -> String {
    format!("<eConnect>{inner}</eConnect>")
}

const TRX: &str = "<taRMTransaction><RMDTYPAL>1</RMDTYPAL><DOCNUMBR>INV1</DOCNUMBR><DOCDATE>2026-11-02</DOCDATE>\
<BACHNUMB>B1</BACHNUMB><CUSTNMBR>C1</CUSTNMBR><DOCAMNT>110</DOCAMNT><SLSAMNT>100</SLSAMNT><TAXAMNT>10</TAXAMNT></taRMTransaction>";

fn dist(seq: i32) -> String {
    format!(
        "<taRMDistribution><RMDTYPAL>1</RMDTYPAL><DOCNUMBR>INV1</DOCNUMBR><CUSTNMBR>C1</CUSTNMBR>\
         <SEQNUMBR>{seq}</SEQNUMBR><DISTTYPE>3</DISTTYPE><ACTNUMST>000-1200-00</ACTNUMST><DEBITAMT>110</DEBITAMT></taRMDistribution>"
    )
}

const TAX: &str = "<taRMTransactionTaxInsert><CUSTNMBR>C1</CUSTNMBR><DOCNUMBR>INV1</DOCNUMBR><RMDTYPAL>1</RMDTYPAL>\
<BACHNUMB>B1</BACHNUMB><TAXDTLID>ST</TAXDTLID><TAXAMNT>10</TAXAMNT><STAXAMNT>10</STAXAMNT><TAXDTSLS>100</TAXDTSLS></taRMTransactionTaxInsert>";

#[test]
fn children_run_before_their_header_whatever_the_xml_order() {
    let xml = wrap(&format!(
        "<RMTransactionType>{TRX}<taRMDistribution_Items>{}{}</taRMDistribution_Items>\
         <taRMTransactionTaxInsert_Items>{TAX}</taRMTransactionTaxInsert_Items></RMTransactionType>",
        dist(1),
        dist(2)
    ));
    let doc = Document::parse(&xml).unwrap();
    assert_eq!(doc.nodes(), ["taRMTransactionTaxInsert", "taRMDistribution", "taRMDistribution", "taRMTransaction"]);
    // _Items rows keep their order.
    let seq = |i: usize| doc.calls[i].params.iter().find(|(p, _)| p.name == "SEQNUMBR").unwrap().1.clone();
    assert_eq!((seq(1), seq(2)), (Value::I32(1), Value::I32(2)));
    assert!(doc.calls.iter().all(|c| c.transaction_type == "RMTransactionType"));
}

#[test]
fn parameters_follow_the_procedures_order_not_the_xmls() {
    let xml = wrap(
        "<RMApplyType><taRMApply><APTODCTY>1</APTODCTY><APPTOAMT>5.5</APPTOAMT><APFRDCNM>PAY1</APFRDCNM>\
         <APTODCNM>INV1</APTODCNM><APFRDCTY>9</APFRDCTY></taRMApply></RMApplyType>",
    );
    let doc = Document::parse(&xml).unwrap();
    let names: Vec<&str> = doc.calls[0].params.iter().map(|(p, _)| p.name).collect();
    assert_eq!(names, ["APTODCNM", "APFRDCNM", "APPTOAMT", "APFRDCTY", "APTODCTY"]);
    assert_eq!(doc.calls[0].params[2].1, Value::Numeric(550_000, 5));
}

#[test]
fn transaction_types_run_in_document_order() {
    let xml = wrap(&format!(
        "<RMCustomerMasterType><taCreateInternetAddresses_Items><taCreateInternetAddresses><Master_Type>CUS</Master_Type>\
         <Master_ID>C1</Master_ID><ADRSCODE>PRIMARY</ADRSCODE><INET1>a@b.example</INET1></taCreateInternetAddresses>\
         </taCreateInternetAddresses_Items><taUpdateCreateCustomerRcd><CUSTNMBR>C1</CUSTNMBR><HOLD>0</HOLD></taUpdateCreateCustomerRcd>\
         </RMCustomerMasterType><RMTransactionType>{TRX}</RMTransactionType>\
         <RMCashReceiptsType><taRMCashReceiptInsert><CUSTNMBR>C1</CUSTNMBR><DOCNUMBR>PAY1</DOCNUMBR><DOCDATE>2026-11-03</DOCDATE>\
         <ORTRXAMT>110</ORTRXAMT><GLPOSTDT>2026-11-03T00:00:00</GLPOSTDT><BACHNUMB>B2</BACHNUMB><CSHRCTYP>2</CSHRCTYP>\
         </taRMCashReceiptInsert></RMCashReceiptsType>\
         <RMVoidTransactionType><taRMVoidTransaction><CUSTNMBR>C1</CUSTNMBR><DOCNUMBR>PAY0</DOCNUMBR><VOIDSTTS>1</VOIDSTTS>\
         <RMDTYPAL>9</RMDTYPAL><VOIDDATE>2026-11-04</VOIDDATE><GLPOSTDT>2026-11-04</GLPOSTDT></taRMVoidTransaction></RMVoidTransactionType>"
    ));
    let doc = Document::parse(&xml).unwrap();
    assert_eq!(
        doc.nodes(),
        [
            "taUpdateCreateCustomerRcd",
            "taCreateInternetAddresses",
            "taRMTransaction",
            "taRMCashReceiptInsert",
            "taRMVoidTransaction"
        ]
    );
}

#[test]
fn entities_cdata_declaration_comments_and_namespaces_are_read() {
    let xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- made by the target -->\n\
        <eConnect xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n  <RMCustomerMasterType>\n    \
        <taUpdateCreateCustomerRcd>\n      <CUSTNMBR>C1</CUSTNMBR>\n      \
        <CUSTNAME>A &amp; B &lt;Ltd&gt; &#233;&#x41; <![CDATA[<x> & y]]></CUSTNAME>\n    </taUpdateCreateCustomerRcd>\n  \
        </RMCustomerMasterType>\n</eConnect>\n";
    let doc = Document::parse(xml).unwrap();
    assert_eq!(doc.calls[0].params[1].1, Value::Text("A & B <Ltd> éA <x> & y".into()));
}

#[test]
fn every_refusal_names_what_is_wrong() {
    let cust = |inner: &str| {
        wrap(&format!(
            "<RMCustomerMasterType><taUpdateCreateCustomerRcd>{inner}</taUpdateCreateCustomerRcd></RMCustomerMasterType>"
        ))
    };
    let trx = |inner: &str| wrap(&format!("<RMTransactionType>{inner}</RMTransactionType>"));
    let apply = |inner: &str| {
        wrap(&format!(
            "<RMApplyType><taRMApply><APTODCNM>I</APTODCNM><APFRDCNM>P</APFRDCNM><APFRDCTY>9</APFRDCTY><APTODCTY>1</APTODCTY>{inner}</taRMApply></RMApplyType>"
        ))
    };
    let cases: Vec<(String, &str)> = vec![
        ("<eConnect><RMCustomerMasterType></eConnect>".into(), "not well-formed"),
        ("<eConnect>".into(), "not well-formed"),
        ("".into(), "no root element"),
        ("<eConnect/><eConnect/>".into(), "second root"),
        ("<!DOCTYPE eConnect [<!ENTITY x \"y\">]><eConnect/>".into(), "DOCTYPE"),
        (cust("<CUSTNMBR>&xxe;</CUSTNMBR>"), "unknown entity &xxe;"),
        ("<Other/>".into(), "not <eConnect>"),
        (wrap(""), "no transaction"),
        (wrap("<SOPTransactionType/>"), "unknown transaction type <SOPTransactionType>"),
        (
            wrap("<RMTransactionType><taCreateCustomerAddress_Items/></RMTransactionType>"),
            "RMTransactionType: unknown node <taCreateCustomerAddress_Items>",
        ),
        (
            trx(&format!("<taRMDistribution_Items>{TAX}</taRMDistribution_Items>{TRX}")),
            "taRMDistribution_Items: unknown node <taRMTransactionTaxInsert>",
        ),
        (trx(""), "RMTransactionType: missing node <taRMTransaction>"),
        (trx(&format!("{TRX}{TRX}")), "<taRMTransaction> appears 2 times"),
        (cust("<CUSTNMBR>C1</CUSTNMBR><FOO>1</FOO>"), "taUpdateCreateCustomerRcd/FOO: unknown element"),
        (cust("<CUSTNAME>x</CUSTNAME>"), "taUpdateCreateCustomerRcd/CUSTNMBR: required, missing"),
        (cust("<CUSTNMBR> </CUSTNMBR>"), "taUpdateCreateCustomerRcd/CUSTNMBR: required, empty"),
        (cust("<CUSTNMBR>C1</CUSTNMBR><CUSTNMBR>C2</CUSTNMBR>"), "CUSTNMBR: given twice"),
        (
            cust("<CUSTNMBR>0123456789ABCDEF</CUSTNMBR>"),
            "taUpdateCreateCustomerRcd/CUSTNMBR: 16 characters; char(15) holds at most 15",
        ),
        (
            cust("<CUSTNMBR>C1</CUSTNMBR><HOLD>256</HOLD>"),
            "taUpdateCreateCustomerRcd/HOLD: 256 is out of range for tinyint",
        ),
        (cust("<CUSTNMBR>C1</CUSTNMBR><HOLD>-1</HOLD>"), "HOLD: -1 is out of range for tinyint"),
        (cust("<CUSTNMBR>C1</CUSTNMBR><HOLD>yes</HOLD>"), "HOLD: \"yes\" is not an integer"),
        (cust("<CUSTNMBR><b>C1</b></CUSTNMBR>"), "CUSTNMBR: holds an element <b>"),
        (cust("<CUSTNMBR a=\"1\">C1</CUSTNMBR>"), "CUSTNMBR: attributes are not supported"),
        (cust("stray<CUSTNMBR>C1</CUSTNMBR>"), "<taUpdateCreateCustomerRcd> holds text \"stray\""),
        (apply("<APPTOAMT>1.123456</APPTOAMT>"), "taRMApply/APPTOAMT: 1.123456 has more than 5 decimals"),
        (
            apply("<APPTOAMT>100000000000000</APPTOAMT>"),
            "taRMApply/APPTOAMT: 100000000000000 is out of range for numeric(19,5)",
        ),
        (apply("<APPTOAMT>1e5</APPTOAMT>"), "APPTOAMT: \"1e5\" is not a decimal number"),
        (
            apply("<APPTOAMT>5</APPTOAMT><APPLYDATE>2026-02-30</APPLYDATE>"),
            "taRMApply/APPLYDATE: \"2026-02-30\" is not a date",
        ),
        (
            apply("<APPTOAMT>5</APPTOAMT><APPLYDATE>2026-11-02 10:00:00</APPLYDATE>"),
            "APPLYDATE: \"2026-11-02 10:00:00\" is not a date",
        ),
        (
            apply("<APPTOAMT>5</APPTOAMT><APPLYDATE>1700-01-01</APPLYDATE>"),
            "APPLYDATE: 1700-01-01 is before 1753-01-01",
        ),
        (apply("<APPTOAMT>5</APPTOAMT><APFRDCTY>2147483648</APFRDCTY>"), "APFRDCTY: given twice"),
        (
            wrap(
                "<RMApplyType><taRMApply><APTODCNM>I</APTODCNM><APFRDCNM>P</APFRDCNM><APPTOAMT>1</APPTOAMT><APFRDCTY>2147483648</APFRDCTY><APTODCTY>1</APTODCTY></taRMApply></RMApplyType>",
            ),
            "taRMApply/APFRDCTY: 2147483648 is out of range for int",
        ),
        (
            trx("<taRMTransaction><RMDTYPAL>40000</RMDTYPAL></taRMTransaction>"),
            "taRMTransaction/RMDTYPAL: 40000 is out of range for smallint",
        ),
        (
            trx(
                "<taRMTransaction><RMDTYPAL>1</RMDTYPAL><DOCNUMBR>I</DOCNUMBR><DOCDATE>2026-11-02</DOCDATE><BACHNUMB>B</BACHNUMB><CUSTNMBR>C</CUSTNMBR><DOCAMNT>1</DOCAMNT><SLSAMNT>1</SLSAMNT><XCHGRATE>1.12345678</XCHGRATE></taRMTransaction>",
            ),
            "taRMTransaction/XCHGRATE: 1.12345678 has more than 7 decimals",
        ),
        (wrap("<RMApplyType a=\"b\"><taRMApply/></RMApplyType>"), "<RMApplyType>: attributes are not supported"),
        (wrap("<RMApplyType><taRMApply><a><b><c/></b></a></taRMApply></RMApplyType>"), "nested deeper than 5"),
    ];
    for (xml, want) in cases {
        let got = invalid(&xml);
        assert!(got.contains(want), "{xml}\n  wanted {want:?}\n  got    {got:?}");
    }
}

#[test]
fn rates_take_seven_decimals_and_dates_two_forms() {
    let xml = wrap(
        "<RMTransactionType><taRMTransaction><RMDTYPAL>1</RMDTYPAL><DOCNUMBR>I</DOCNUMBR><DOCDATE>2026-11-02T00:00:00</DOCDATE>\
         <BACHNUMB>B</BACHNUMB><CUSTNMBR>C</CUSTNMBR><DOCAMNT>-1.5</DOCAMNT><SLSAMNT>0.00001</SLSAMNT><XCHGRATE>1.1234567</XCHGRATE>\
         <DUEDATE>2026-12-02</DUEDATE></taRMTransaction></RMTransactionType>",
    );
    let doc = Document::parse(&xml).unwrap();
    let v = |name: &str| doc.calls[0].params.iter().find(|(p, _)| p.name == name).unwrap().1.clone();
    assert_eq!(v("XCHGRATE"), Value::Numeric(11_234_567, 7));
    assert_eq!(v("DOCAMNT"), Value::Numeric(-150_000, 5));
    assert_eq!(v("SLSAMNT"), Value::Numeric(1, 5));
    let midnight = |d: &str| {
        Value::DateTime(chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap().and_hms_opt(0, 0, 0).unwrap())
    };
    assert_eq!(v("DOCDATE"), midnight("2026-11-02"));
    assert_eq!(v("DUEDATE"), midnight("2026-12-02"));
}

#[test]
fn an_empty_optional_char_element_is_an_empty_string() {
    let xml = wrap(
        "<RMCustomerMasterType><taUpdateCreateCustomerRcd><CUSTNMBR>C1</CUSTNMBR><ADDRESS2/></taUpdateCreateCustomerRcd></RMCustomerMasterType>",
    );
    let doc = Document::parse(&xml).unwrap();
    assert_eq!(doc.calls[0].params[1].1, Value::Text(String::new()));
}

#[test]
fn a_batch_header_is_its_own_transaction_type() {
    let header = "<SMTransactionBatchType><taCreateUpdateBatchHeaderRcd><BACHNUMB>B1</BACHNUMB><SERIES>3</SERIES>\
        <BCHSOURC>RM_Sales</BCHSOURC><DOCAMT>0</DOCAMT><ORIGIN>1</ORIGIN><NUMOFTRX>0</NUMOFTRX>\
        <GLPOSTDT>2026-11-30</GLPOSTDT><BCHCOMNT>Chargebee</BCHCOMNT></taCreateUpdateBatchHeaderRcd></SMTransactionBatchType>";
    let doc = Document::parse(&wrap(&format!("{header}<RMTransactionType>{TRX}</RMTransactionType>"))).unwrap();
    assert_eq!(doc.nodes(), ["taCreateUpdateBatchHeaderRcd", "taRMTransaction"]);
    let names: Vec<&str> = doc.calls[0].params.iter().map(|(p, _)| p.name).collect();
    assert_eq!(names, ["BACHNUMB", "BCHCOMNT", "SERIES", "GLPOSTDT", "BCHSOURC", "DOCAMT", "ORIGIN", "NUMOFTRX"]);
    assert_eq!(doc.calls[0].transaction_type, "SMTransactionBatchType");
    let missing = wrap(
        "<SMTransactionBatchType><taCreateUpdateBatchHeaderRcd><BACHNUMB>B1</BACHNUMB>\
        </taCreateUpdateBatchHeaderRcd></SMTransactionBatchType>",
    );
    assert!(invalid(&missing).contains("SERIES"), "{}", invalid(&missing));
    let unknown = wrap(
        "<SMTransactionBatchType><taCreateUpdateBatchHeaderRcd><BACHNUMB>B1</BACHNUMB><SERIES>3</SERIES>\
        <BCHSOURC>RM_Sales</BCHSOURC><DOCAMT>0</DOCAMT><ORIGIN>1</ORIGIN><NUMOFTRX>0</NUMOFTRX><USERID>sa</USERID>\
        </taCreateUpdateBatchHeaderRcd></SMTransactionBatchType>",
    );
    assert!(invalid(&unknown).contains("USERID"), "{}", invalid(&unknown));
}
