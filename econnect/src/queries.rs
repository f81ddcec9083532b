//! The read queries of docs/econnect.md: names as the WIT enum spells them, SQL text exactly as
//! the table gives it (one line, single spaces), parameter kinds, answer columns. A test reads
//! the table out of the doc so the two cannot drift.

use chrono::NaiveDateTime;
use tiberius::ToSql;

use crate::error::EconnectError;
use crate::value;

/// How a query's text parameter is read and sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// NVARCHAR, as given.
    Text,
    /// INTN (i32).
    Int,
    /// `YYYY-MM-DD` → DATETIME2 at midnight.
    Date,
}

macro_rules! queries {
    ($($variant:ident $name:literal [$($kind:ident),*] [$($col:literal),*] $sql:literal;)*) => {
        /// The read queries (the WIT `query-name` enum).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum QueryName { $($variant),* }

        impl QueryName {
            pub const ALL: &'static [QueryName] = &[$(QueryName::$variant),*];

            /// The WIT name, e.g. `customer-email`.
            pub fn name(self) -> &'static str {
                match self { $(QueryName::$variant => $name),* }
            }

            /// The SQL text, exactly as docs/econnect.md gives it.
            pub fn sql(self) -> &'static str {
                match self { $(QueryName::$variant => $sql),* }
            }

            /// `@P1…` in order.
            pub fn params(self) -> &'static [ParamKind] {
                match self { $(QueryName::$variant => &[$(ParamKind::$kind),*]),* }
            }

            /// The answer's columns, in order.
            pub fn columns(self) -> &'static [&'static str] {
                match self { $(QueryName::$variant => &[$($col),*]),* }
            }
        }
    };
}

queries! {
    Customer "customer" [Text]
        ["CUSTNMBR", "CUSTNAME", "SHRTNAME", "CUSTCLAS", "CURNCYID", "PYMTRMID", "ADRSCODE", "ADDRESS1", "ADDRESS2", "CITY", "STATE", "ZIP", "COUNTRY", "PHONE1", "INACTIVE", "HOLD"]
        "SELECT CUSTNMBR, CUSTNAME, SHRTNAME, CUSTCLAS, CURNCYID, PYMTRMID, ADRSCODE, ADDRESS1, ADDRESS2, CITY, STATE, ZIP, COUNTRY, PHONE1, INACTIVE, HOLD FROM RM00101 WHERE CUSTNMBR = @P1";
    CustomerEmail "customer-email" [Text, Text] ["INET1"]
        "SELECT INET1 FROM SY01200 WHERE Master_Type = 'CUS' AND Master_ID = @P1 AND ADRSCODE = @P2";
    SalesWork "sales-work" [Int, Text]
        ["RMDTYPAL", "DOCNUMBR", "CUSTNMBR", "DOCDATE", "BACHNUMB", "BCHSOURC", "CURNCYID", "DOCAMNT", "SLSAMNT", "TRDISAMT", "FRTAMNT", "MISCAMNT", "TAXAMNT", "DOCDESCR", "CSTPONBR", "TAXSCHID"]
        "SELECT RMDTYPAL, DOCNUMBR, CUSTNMBR, DOCDATE, BACHNUMB, BCHSOURC, CURNCYID, DOCAMNT, SLSAMNT, TRDISAMT, FRTAMNT, MISCAMNT, TAXAMNT, DOCDESCR, CSTPONBR, TAXSCHID FROM RM10301 WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2";
    ReceiptWork "receipt-work" [Text]
        ["DOCNUMBR", "CUSTNMBR", "DOCDATE", "BACHNUMB", "BCHSOURC", "CURNCYID", "ORTRXAMT", "CSHRCTYP", "CHEKBKID", "CHEKNMBR", "CRCARDID", "TRXDSCRN"]
        "SELECT DOCNUMBR, CUSTNMBR, DOCDATE, BACHNUMB, BCHSOURC, CURNCYID, ORTRXAMT, CSHRCTYP, CHEKBKID, CHEKNMBR, CRCARDID, TRXDSCRN FROM RM10201 WHERE DOCNUMBR = @P1";
    DocumentOpen "document-open" [Int, Text]
        ["RMDTYPAL", "DOCNUMBR", "CUSTNMBR", "DOCDATE", "BACHNUMB", "CURNCYID", "ORTRXAMT", "CURTRXAM", "VOIDSTTS"]
        "SELECT RMDTYPAL, DOCNUMBR, CUSTNMBR, DOCDATE, BACHNUMB, CURNCYID, ORTRXAMT, CURTRXAM, VOIDSTTS FROM RM20101 WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2";
    DocumentHistory "document-history" [Int, Text]
        ["RMDTYPAL", "DOCNUMBR", "CUSTNMBR", "DOCDATE", "BACHNUMB", "CURNCYID", "ORTRXAMT", "CURTRXAM", "VOIDSTTS"]
        "SELECT RMDTYPAL, DOCNUMBR, CUSTNMBR, DOCDATE, BACHNUMB, CURNCYID, ORTRXAMT, CURTRXAM, VOIDSTTS FROM RM30101 WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2";
    CustomerDocuments "customer-documents" [Text] ["RMDTYPAL", "DOCNUMBR", "DCSTATUS"]
        "SELECT RMDTYPAL, DOCNUMBR, DCSTATUS FROM RM00401 WHERE CUSTNMBR = @P1 ORDER BY RMDTYPAL, DOCNUMBR";
    Distributions "distributions" [Int, Text] ["SEQNUMBR", "DISTTYPE", "ACTNUMST", "DEBITAMT", "CRDTAMNT", "DistRef"]
        "SELECT SEQNUMBR, DISTTYPE, ACTNUMST, DEBITAMT, CRDTAMNT, DistRef FROM RM10101 INNER JOIN GL00105 ON GL00105.ACTINDX = RM10101.DSTINDX WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2 ORDER BY SEQNUMBR";
    TaxDetails "tax-details" [Int, Text] ["TAXDTLID", "TAXAMNT", "STAXAMNT", "TDTTXSLS"]
        "SELECT TAXDTLID, TAXAMNT, STAXAMNT, TDTTXSLS FROM RM10601 WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2 ORDER BY TAXDTLID";
    Batch "batch" [Text, Text] ["BACHNUMB", "BCHSOURC", "BCHSTTUS", "MKDTOPST", "NUMOFTRX", "BCHTOTAL"]
        "SELECT BACHNUMB, BCHSOURC, BCHSTTUS, MKDTOPST, NUMOFTRX, BCHTOTAL FROM SY00500 WHERE BACHNUMB = @P1 AND BCHSOURC = @P2";
    FiscalPeriod "fiscal-period" [Date] ["PERIODID", "YEAR1", "PSERIES_2"]
        "SELECT PERIODID, YEAR1, PSERIES_2 FROM SY40100 WHERE SERIES = 0 AND FORIGIN = 1 AND PERIODDT <= @P1 AND PERDENDT >= @P1";
    Currency "currency" [Text] ["CURNCYID", "ISOCURRC", "DECPLCUR"]
        "SELECT CURNCYID, ISOCURRC, DECPLCUR FROM DYNAMICS..MC40200 WHERE CURNCYID = @P1";
    FunctionalCurrency "functional-currency" [] ["FUNLCURR", "DEFSLSTP"]
        "SELECT FUNLCURR, DEFSLSTP FROM MC40000";
    ExchangeRate "exchange-rate" [Text, Text, Date] ["XCHGRATE", "EXCHDATE", "EXPNDATE", "EXGTBLID"]
        "SELECT TOP 1 XCHGRATE, EXCHDATE, EXPNDATE, MC00100.EXGTBLID FROM DYNAMICS..MC00100 INNER JOIN MC40301 ON MC40301.EXGTBLID = MC00100.EXGTBLID WHERE MC40301.CURNCYID = @P1 AND MC40301.RATETPID = @P2 AND EXCHDATE <= @P3 AND (EXPNDATE >= @P3 OR EXPNDATE = '19000101') ORDER BY EXCHDATE DESC";
    Checkbook "checkbook" [Text] ["CHEKBKID", "CURNCYID", "INACTIVE"]
        "SELECT CHEKBKID, CURNCYID, INACTIVE FROM CM00100 WHERE CHEKBKID = @P1";
    GlAccount "gl-account" [Text] ["ACTINDX", "ACTNUMST"]
        "SELECT ACTINDX, ACTNUMST FROM GL00105 WHERE ACTNUMST = @P1";
    TaxDetail "tax-detail" [Text] ["TAXDTLID", "TXDTLPCT", "ACTINDX"]
        "SELECT TAXDTLID, TXDTLPCT, ACTINDX FROM TX00201 WHERE TAXDTLID = @P1";
    TaxSchedule "tax-schedule" [Text] ["TAXSCHID", "TAXDTLID"]
        "SELECT TAXSCHID, TAXDTLID FROM TX00102 WHERE TAXSCHID = @P1 ORDER BY TAXDTLID";
    CustomerClass "customer-class" [Text] ["CLASSID"]
        "SELECT CLASSID FROM RM00201 WHERE CLASSID = @P1";
    PaymentTerms "payment-terms" [Text] ["PYMTRMID"]
        "SELECT PYMTRMID FROM SY03300 WHERE PYMTRMID = @P1";
    CardName "card-name" [Text] ["CARDNAME"]
        "SELECT CARDNAME FROM SY03100 WHERE CARDNAME = @P1";
    Company "company" [Text] ["CMPANYID", "INTERID", "CMPNYNAM"]
        "SELECT CMPANYID, INTERID, CMPNYNAM FROM DYNAMICS..SY01500 WHERE CMPNYNAM = @P1";
    ErrorText "error-text" [Int] ["ErrorDesc"]
        "SELECT ErrorDesc FROM DYNAMICS..taErrorCode WHERE ErrorCode = @P1";
    Applies "applies" [Int, Text] ["APTODCTY", "APTODCNM", "APPTOAMT", "WROFAMNT"]
        "SELECT APTODCTY, APTODCNM, APPTOAMT, WROFAMNT FROM RM20201 WHERE APFRDCTY = @P1 AND APFRDCNM = @P2 ORDER BY APTODCTY, APTODCNM";
    NextOpenPeriod "next-open-period" [Date] ["PERIODDT", "PERIODID", "YEAR1"]
        "SELECT TOP 1 PERIODDT, PERIODID, YEAR1 FROM SY40100 WHERE SERIES = 0 AND FORIGIN = 1 AND PSERIES_2 = 0 AND PERIODDT > @P1 ORDER BY PERIODDT";
}

impl QueryName {
    pub fn from_name(name: &str) -> Option<QueryName> {
        QueryName::ALL.iter().copied().find(|q| q.name() == name)
    }
}

impl std::fmt::Display for QueryName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A query parameter, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryParam {
    Text(String),
    Int(i32),
    Date(NaiveDateTime),
}

impl ToSql for QueryParam {
    fn to_sql(&self) -> tiberius::ColumnData<'_> {
        match self {
            QueryParam::Text(s) => tiberius::ColumnData::String(Some(std::borrow::Cow::Borrowed(s.as_str()))),
            QueryParam::Int(v) => v.to_sql(),
            QueryParam::Date(d) => d.to_sql(),
        }
    }
}

/// `params` read per the query's kinds; `Invalid` names the query and parameter at fault.
pub fn parse_params(query: QueryName, params: &[String]) -> Result<Vec<QueryParam>, EconnectError> {
    let kinds = query.params();
    if params.len() != kinds.len() {
        return Err(EconnectError::Invalid(format!(
            "query {query} takes {} parameter(s), got {}",
            kinds.len(),
            params.len()
        )));
    }
    kinds
        .iter()
        .zip(params)
        .enumerate()
        .map(|(i, (kind, text))| {
            let bad = |why: String| EconnectError::Invalid(format!("query {query} @P{}: {why}", i + 1));
            Ok(match kind {
                ParamKind::Text => QueryParam::Text(text.clone()),
                ParamKind::Int => {
                    QueryParam::Int(text.trim().parse::<i32>().map_err(|_| bad(format!("{text:?} is not an int")))?)
                }
                ParamKind::Date => {
                    let d = value::date(text).map_err(bad)?;
                    if d.time() != chrono::NaiveTime::MIN {
                        return Err(bad(format!("{text:?} is not a date (YYYY-MM-DD)")));
                    }
                    QueryParam::Date(d)
                }
            })
        })
        .collect()
}

/// A query's answer: column names, then each row's values as text (numbers in decimal notation
/// with the scale SQL Server sent — GP's 5 decimals kept — dates `YYYY-MM-DD`, text with its
/// trailing blanks removed), `None` for NULL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}
