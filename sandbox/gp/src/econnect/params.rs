//! The receivables procedures' parameters (docs/econnect.md) and reading a call's values:
//! unknown procedure 2812, unknown parameter 8145, missing required parameter 201 — SQL-level
//! errors, as SQL Server raises them before the procedure runs.

use std::collections::HashMap;

use crate::date::Date;
use crate::money::{AmountError, parse_minor};
use crate::rules::GpError;
use crate::tds::backend::{SqlError, SqlValue};

/// A parameter's declared SQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Char(usize),
    Int,
    Num,
    Date,
}

use Kind::{Char, Date as Dt, Int, Num};

/// (name without `@I_v`, type, required).
type Param = (&'static str, Kind, bool);

const CUSTOMER: &[Param] = &[
    ("CUSTNMBR", Char(15), true),
    ("CUSTNAME", Char(64), false),
    ("SHRTNAME", Char(15), false),
    ("STMTNAME", Char(64), false),
    ("CUSTCLAS", Char(15), false),
    ("ADRSCODE", Char(15), false),
    ("CNTCPRSN", Char(60), false),
    ("ADDRESS1", Char(60), false),
    ("ADDRESS2", Char(60), false),
    ("ADDRESS3", Char(60), false),
    ("CITY", Char(35), false),
    ("STATE", Char(29), false),
    ("ZIPCODE", Char(10), false),
    ("COUNTRY", Char(60), false),
    ("PHNUMBR1", Char(21), false),
    ("TAXSCHID", Char(15), false),
    ("PYMTRMID", Char(20), false),
    ("CURNCYID", Char(15), false),
    ("HOLD", Int, false),
    ("INACTIVE", Int, false),
    ("UseCustomerClass", Int, false),
    ("UpdateIfExists", Int, false),
];
const INTERNET: &[Param] = &[
    ("Master_Type", Char(3), true),
    ("Master_ID", Char(30), true),
    ("ADRSCODE", Char(15), true),
    ("INET1", Char(200), false),
    ("EmailToAddress", Char(8000), false),
];
const DISTRIBUTION: &[Param] = &[
    ("RMDTYPAL", Int, true),
    ("DOCNUMBR", Char(20), true),
    ("CUSTNMBR", Char(15), true),
    ("SEQNUMBR", Int, false),
    ("DISTTYPE", Int, true),
    ("DistRef", Char(30), false),
    ("ACTNUMST", Char(75), false),
    ("DEBITAMT", Num, false),
    ("CRDTAMNT", Num, false),
];
const TAX: &[Param] = &[
    ("CUSTNMBR", Char(15), true),
    ("DOCNUMBR", Char(20), true),
    ("RMDTYPAL", Int, true),
    ("BACHNUMB", Char(15), true),
    ("TAXDTLID", Char(15), true),
    ("TAXAMNT", Num, true),
    ("STAXAMNT", Num, true),
    ("TAXDTSLS", Num, true),
    ("ACTNUMST", Char(75), false),
    ("SEQNUMBR", Int, false),
];
const TRANSACTION: &[Param] = &[
    ("RMDTYPAL", Int, true),
    ("DOCNUMBR", Char(20), true),
    ("DOCDATE", Dt, true),
    ("BACHNUMB", Char(15), true),
    ("CUSTNMBR", Char(15), true),
    ("DOCAMNT", Num, true),
    ("SLSAMNT", Num, true),
    ("DOCDESCR", Char(30), false),
    ("CSTPONBR", Char(20), false),
    ("TAXSCHID", Char(15), false),
    ("TRDISAMT", Num, false),
    ("FRTAMNT", Num, false),
    ("MISCAMNT", Num, false),
    ("TAXAMNT", Num, false),
    ("PYMTRMID", Char(20), false),
    ("DUEDATE", Dt, false),
    ("CURNCYID", Char(15), false),
    ("XCHGRATE", Num, false),
    ("RATETPID", Char(15), false),
    ("EXCHDATE", Dt, false),
    ("CREATEDIST", Int, false),
];
const CASH_RECEIPT: &[Param] = &[
    ("CUSTNMBR", Char(15), true),
    ("DOCNUMBR", Char(20), true),
    ("DOCDATE", Dt, true),
    ("ORTRXAMT", Num, true),
    ("GLPOSTDT", Dt, true),
    ("BACHNUMB", Char(15), true),
    ("CSHRCTYP", Int, true),
    ("CHEKBKID", Char(15), false),
    ("CHEKNMBR", Char(20), false),
    ("CRCARDID", Char(15), false),
    ("TRXDSCRN", Char(30), false),
    ("CURNCYID", Char(15), false),
    ("XCHGRATE", Num, false),
    ("RATETPID", Char(15), false),
    ("EXCHDATE", Dt, false),
    ("CREATEDIST", Int, false),
];
const APPLY: &[Param] = &[
    ("APTODCNM", Char(21), true),
    ("APFRDCNM", Char(21), true),
    ("APPTOAMT", Num, true),
    ("APFRDCTY", Int, true),
    ("APTODCTY", Int, true),
    ("DISTKNAM", Num, false),
    ("WROFAMNT", Num, false),
    ("APPLYDATE", Dt, false),
    ("GLPOSTDT", Dt, false),
];
const VOID: &[Param] = &[
    ("CUSTNMBR", Char(15), true),
    ("DOCNUMBR", Char(20), true),
    ("VOIDSTTS", Int, true),
    ("RMDTYPAL", Int, true),
    ("VOIDDATE", Dt, true),
    ("GLPOSTDT", Dt, true),
];

/// eConnect.xsd's element order; types INFERRED from SY00500 (SERIES/ORIGIN smallint).
const BATCH_HEADER: &[Param] = &[
    ("BACHNUMB", Char(15), true),
    ("BCHCOMNT", Char(60), false),
    ("SERIES", Int, true),
    ("GLPOSTDT", Dt, false),
    ("BCHSOURC", Char(15), true),
    ("DOCAMT", Num, true),
    ("ORIGIN", Int, true),
    ("NUMOFTRX", Int, true),
    ("CHEKBKID", Char(15), false),
    ("POSTTOGL", Int, false),
];

/// The emulated procedures and their parameter lists.
pub const PROCEDURES: &[(&str, &[Param])] = &[
    ("taUpdateCreateCustomerRcd", CUSTOMER),
    ("taCreateInternetAddresses", INTERNET),
    ("taRMDistribution", DISTRIBUTION),
    ("taRMTransactionTaxInsert", TAX),
    ("taRMTransaction", TRANSACTION),
    ("taRMCashReceiptInsert", CASH_RECEIPT),
    ("taRMApply", APPLY),
    ("taRMVoidTransaction", VOID),
    ("taCreateUpdateBatchHeaderRcd", BATCH_HEADER),
];

fn sql_error(number: i32, class: u8, message: String) -> SqlError {
    SqlError { number, class, state: 1, message }
}

/// A call's input values by parameter name (without `@I_v`), checked against the signature.
#[derive(Debug)]
pub struct Args {
    pub procedure: &'static str,
    values: HashMap<&'static str, SqlValue>,
}

impl Args {
    /// Matches names case-insensitively (SQL Server's default collation does); NULL counts as
    /// not supplied for required parameters only when the parameter is absent.
    pub fn parse(procedure: &str, params: &[(String, SqlValue)]) -> Result<Args, SqlError> {
        let bare = procedure.trim().trim_start_matches("dbo.").trim_start_matches("[dbo].");
        let Some(&(name, signature)) = PROCEDURES.iter().find(|(n, _)| n.eq_ignore_ascii_case(bare)) else {
            return Err(sql_error(2812, 16, format!("Could not find stored procedure '{procedure}'.")));
        };
        let mut values = HashMap::new();
        for (raw, value) in params {
            let stem = raw.trim_start_matches('@');
            let declared = stem
                .get(..3)
                .filter(|p| p.eq_ignore_ascii_case("I_v"))
                .and_then(|_| signature.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(&stem[3..])));
            let Some(&(param, _, _)) = declared else {
                return Err(sql_error(8145, 16, format!("{raw} is not a parameter for procedure {name}.")));
            };
            values.insert(param, value.clone());
        }
        if let Some((missing, _, _)) = signature.iter().find(|(n, _, req)| *req && !values.contains_key(n)) {
            let message =
                format!("Procedure or function '{name}' expects parameter '@I_v{missing}', which was not supplied.");
            return Err(sql_error(201, 16, message));
        }
        Ok(Args { procedure: name, values })
    }

    fn kind(&self, name: &str) -> Option<Kind> {
        PROCEDURES.iter().find(|(n, _)| *n == self.procedure)?.1.iter().find(|p| p.0 == name).map(|p| p.1)
    }

    fn value(&self, name: &str) -> Option<&SqlValue> {
        self.values.get(name).filter(|v| **v != SqlValue::Null)
    }

    pub fn has(&self, name: &str) -> bool {
        self.value(name).is_some()
    }

    /// A char parameter, trailing blanks trimmed, empty = absent; longer than declared → refused.
    pub fn text(&self, name: &'static str, errors: &mut Vec<GpError>) -> Option<String> {
        let s = match self.value(name)? {
            SqlValue::Text(s) => s.trim_end().to_string(),
            SqlValue::Int(i) => i.to_string(),
            SqlValue::Decimal { units, scale } => decimal_text(*units, *scale),
            SqlValue::DateTime(dt) => dt.date().to_string(),
            SqlValue::Null => return None,
        };
        if let Some(Kind::Char(max)) = self.kind(name)
            && s.chars().count() > max
        {
            errors.push(GpError::TooLong { property: name, field: name, max, value: s.clone() });
        }
        (!s.is_empty()).then_some(s)
    }

    pub fn int(&self, name: &'static str, errors: &mut Vec<GpError>) -> Option<i64> {
        match self.value(name)? {
            SqlValue::Int(i) => Some(*i),
            SqlValue::Text(s) => s.trim().parse().ok().or_else(|| bad(errors, name, s)),
            SqlValue::Decimal { units, scale } => {
                let f = 10i128.pow(u32::from(*scale));
                (units % f == 0)
                    .then(|| (units / f) as i64)
                    .or_else(|| bad(errors, name, &decimal_text(*units, *scale)))
            }
            other => bad(errors, name, &format!("{other:?}")),
        }
    }

    /// An amount in minor units of a currency with `digits` decimals (more decimals than that,
    /// beyond trailing zeros, are refused as GP's currency set-up would round them).
    pub fn amount(&self, name: &'static str, digits: u32, errors: &mut Vec<GpError>) -> Option<i64> {
        let text = self.decimal(name)?;
        match parse_minor(&text, digits) {
            Ok(v) if v < 0 => {
                errors.push(GpError::Negative { property: name });
                None
            }
            Ok(v) => Some(v),
            Err(AmountError::TooPrecise { digits }) => {
                let e = GpError::TooPrecise { property: name, value: text, currency: String::new(), digits };
                errors.push(e);
                None
            }
            Err(_) => bad(errors, name, &text),
        }
    }

    /// A numeric parameter as decimal text.
    pub fn decimal(&self, name: &str) -> Option<String> {
        Some(match self.value(name)? {
            SqlValue::Decimal { units, scale } => decimal_text(*units, *scale),
            SqlValue::Int(i) => i.to_string(),
            SqlValue::Text(s) => s.trim().to_string(),
            _ => return None,
        })
    }

    pub fn date(&self, name: &'static str, errors: &mut Vec<GpError>) -> Option<Date> {
        match self.value(name)? {
            SqlValue::DateTime(dt) => Date::new(dt.year(), u32::from(u8::from(dt.month())), u32::from(dt.day())),
            SqlValue::Text(s) => Date::parse_iso(s.trim().get(..10).unwrap_or(s)).or_else(|| bad(errors, name, s)),
            other => bad(errors, name, &format!("{other:?}")),
        }
    }
}

fn bad<T>(errors: &mut Vec<GpError>, name: &'static str, value: &str) -> Option<T> {
    errors.push(GpError::BadAmount { property: name, value: value.to_string() });
    None
}

/// `units` × 10^-`scale` as decimal text.
pub fn decimal_text(units: i128, scale: u8) -> String {
    let f = 10i128.pow(u32::from(scale));
    let sign = if units < 0 { "-" } else { "" };
    let (whole, frac) = (units.abs() / f, units.abs() % f);
    match scale {
        0 => format!("{sign}{whole}"),
        s => format!("{sign}{whole}.{frac:0width$}", width = usize::from(s)),
    }
}
