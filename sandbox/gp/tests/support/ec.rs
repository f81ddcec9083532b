//! eConnect procedures called on the backend directly (no TDS): values, sessions and the
//! parameter lists of the receivables documents.

use gp_sandbox::Sandbox;
use gp_sandbox::econnect::EconnectSession;
use gp_sandbox::tds::backend::{ProcOutcome, ResultSet, Session, SqlValue};

pub type Params = Vec<(&'static str, SqlValue)>;

pub fn t(s: &str) -> SqlValue {
    SqlValue::Text(s.to_string())
}

/// A decimal as the executor sends it (scale = the digits written).
pub fn n(s: &str) -> SqlValue {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    SqlValue::Decimal { units: format!("{whole}{frac}").parse().unwrap(), scale: frac.len() as u8 }
}

pub fn i(v: i64) -> SqlValue {
    SqlValue::Int(v)
}

pub async fn session(sb: &Sandbox) -> EconnectSession {
    sb.econnect_backend().session("TWO").await.unwrap()
}

/// Runs a procedure outside a transaction (its own); the outcome, SQL errors panic.
pub async fn call(s: &mut EconnectSession, proc: &str, list: &[(&str, SqlValue)]) -> ProcOutcome {
    let params: Vec<(String, SqlValue)> = list.iter().map(|(k, v)| (format!("@I_v{k}"), v.clone())).collect();
    s.call(proc, &params).await.unwrap_or_else(|e| panic!("{proc}: {e:?}"))
}

/// `error_state` of a call.
pub async fn state(s: &mut EconnectSession, proc: &str, list: &[(&str, SqlValue)]) -> i32 {
    call(s, proc, list).await.error_state
}

pub async fn query(s: &mut EconnectSession, sql: &str, params: &[SqlValue]) -> ResultSet {
    s.query(sql, params).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"))
}

pub fn customer(id: &str) -> Params {
    vec![("CUSTNMBR", t(id)), ("CUSTNAME", t("Settle Customer"))]
}

/// taRMTransaction of RMDTYPAL `kind` (1 invoice, 3 debit memo, 7 credit memo), GP's
/// distributions (CREATEDIST default 1).
pub fn sale(kind: i64, number: &str, cust: &str, batch: &str, date: &str, amount: &str) -> Params {
    vec![
        ("RMDTYPAL", i(kind)),
        ("DOCNUMBR", t(number)),
        ("DOCDATE", t(date)),
        ("BACHNUMB", t(batch)),
        ("CUSTNMBR", t(cust)),
        ("DOCAMNT", n(amount)),
        ("SLSAMNT", n(amount)),
    ]
}

/// A check receipt (taRMCashReceiptInsert) with its GL posting date.
pub fn receipt(number: &str, cust: &str, batch: &str, date: &str, amount: &str, glpost: &str) -> Params {
    vec![
        ("CUSTNMBR", t(cust)),
        ("DOCNUMBR", t(number)),
        ("DOCDATE", t(date)),
        ("ORTRXAMT", n(amount)),
        ("GLPOSTDT", t(glpost)),
        ("BACHNUMB", t(batch)),
        ("CSHRCTYP", i(0)),
    ]
}

/// taRMApply from (type, number) to (type, number).
pub fn apply(from: (i64, &str), to: (i64, &str), amount: &str) -> Params {
    vec![
        ("APTODCNM", t(to.1)),
        ("APFRDCNM", t(from.1)),
        ("APPTOAMT", n(amount)),
        ("APFRDCTY", i(from.0)),
        ("APTODCTY", i(to.0)),
    ]
}

/// taRMVoidTransaction (VOIDSTTS 1) of a credit document.
pub fn void(kind: i64, number: &str, cust: &str, date: &str) -> Params {
    vec![
        ("CUSTNMBR", t(cust)),
        ("DOCNUMBR", t(number)),
        ("VOIDSTTS", i(1)),
        ("RMDTYPAL", i(kind)),
        ("VOIDDATE", t(date)),
        ("GLPOSTDT", t(date)),
    ]
}

/// taCreateUpdateBatchHeaderRcd of a Receivables batch (ORIGIN from the source).
pub fn batch_header(id: &str, source: &str, glpost: Option<&str>) -> Params {
    let origin = if source == "RM_Cash" { 2 } else { 1 };
    let mut p = vec![
        ("BACHNUMB", t(id)),
        ("SERIES", i(3)),
        ("BCHSOURC", t(source)),
        ("DOCAMT", n("0")),
        ("ORIGIN", i(origin)),
        ("NUMOFTRX", i(0)),
    ];
    if let Some(d) = glpost {
        p.push(("GLPOSTDT", t(d)));
    }
    p
}

/// Replaces (or adds) one parameter.
pub fn with(mut p: Params, name: &'static str, value: SqlValue) -> Params {
    p.retain(|(k, _)| *k != name);
    p.push((name, value));
    p
}

pub const APPLIES: &str = "SELECT APTODCTY, APTODCNM, APPTOAMT, WROFAMNT FROM RM20201 WHERE APFRDCTY = @P1 AND APFRDCNM = @P2 ORDER BY APTODCTY, APTODCNM";
pub const NEXT_OPEN_PERIOD: &str = "SELECT TOP 1 PERIODDT, PERIODID, YEAR1 FROM SY40100 WHERE SERIES = 0 AND FORIGIN = 1 AND PSERIES_2 = 0 AND PERIODDT > @P1 ORDER BY PERIODDT";
pub const DOCUMENT_OPEN: &str = "SELECT RMDTYPAL, DOCNUMBR, CUSTNMBR, DOCDATE, BACHNUMB, CURNCYID, ORTRXAMT, CURTRXAM, VOIDSTTS FROM RM20101 WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2";
pub const CUSTOMER_DOCUMENTS: &str =
    "SELECT RMDTYPAL, DOCNUMBR, DCSTATUS FROM RM00401 WHERE CUSTNMBR = @P1 ORDER BY RMDTYPAL, DOCNUMBR";

/// Money as the queries answer it (5 decimals).
pub fn m5(units: i128) -> SqlValue {
    SqlValue::Decimal { units, scale: 5 }
}
