//! The read queries of docs/econnect.md, recognised by their text (whitespace collapsed,
//! case-insensitive) and answered from the emulator's tables. `?1` is the session's company,
//! `?2`… are `@P1`…; money columns come back as numeric(19,5), rates as numeric(19,7).

use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row, SqliteConnection};

use crate::date::Date;
use crate::tds::backend::{Column, ColumnType, ResultSet, SqlError, SqlValue};

/// How a column is read from SQLite and typed on the wire.
#[derive(Debug, Clone, Copy)]
enum Col {
    Int,
    Text,
    /// Integer units at 5 decimals (money scaled in SQL).
    Money,
    /// Decimal text at this scale.
    Dec(u8),
    Date,
}

/// 10^(5 − currency digits): minor units → 5-decimal units.
macro_rules! scale {
    ($digits:expr) => {
        concat!(
            "(CASE ",
            $digits,
            " WHEN 0 THEN 100000 WHEN 1 THEN 10000 WHEN 2 THEN 1000 WHEN 3 THEN 100 WHEN 4 THEN 10 ELSE 1 END)"
        )
    };
}

/// Every RM document with its DCSTATUS (1 work, 2 open, 3 history).
macro_rules! all_docs {
    () => {
        "(SELECT *, 1 AS dcstatus FROM rm10301 UNION ALL SELECT *, 1 FROM rm10201 UNION ALL SELECT *, 2 FROM rm20101 \
          UNION ALL SELECT *, 3 FROM rm30101)"
    };
}

struct Query {
    text: &'static str,
    sql: &'static str,
    columns: &'static [(&'static str, Col)],
}

use Col::{Date as D, Dec, Int as I, Money as M, Text as T};

const DOC_COLS: &[(&str, Col)] = &[
    ("RMDTYPAL", I),
    ("DOCNUMBR", T),
    ("CUSTNMBR", T),
    ("DOCDATE", D),
    ("BACHNUMB", T),
    ("CURNCYID", T),
    ("ORTRXAMT", M),
    ("CURTRXAM", M),
    ("VOIDSTTS", I),
];

macro_rules! doc_state_sql {
    ($table:literal) => {
        concat!(
            "SELECT d.rmdtypal, d.docnumbr, d.custnmbr, d.docdate, d.bachnumb, d.curncyid, d.docamnt * ",
            scale!("m.decplcur"),
            ", d.curtrxam * ",
            scale!("m.decplcur"),
            ", COALESCE(e.voidstts, 0) FROM ",
            $table,
            " d LEFT JOIN mc40200 m ON m.company_id = d.company_id AND m.curncyid = d.curncyid \
             LEFT JOIN rm_document_ext e ON e.company_id = d.company_id AND e.rmdtypal = d.rmdtypal AND e.docnumbr = d.docnumbr \
             WHERE d.company_id = ?1 AND d.rmdtypal = ?2 AND d.docnumbr = ?3"
        )
    };
}

const QUERIES: &[Query] = &[
    Query {
        text: "SELECT CUSTNMBR, CUSTNAME, SHRTNAME, CUSTCLAS, CURNCYID, PYMTRMID, ADRSCODE, ADDRESS1, ADDRESS2, CITY, STATE, ZIP, COUNTRY, PHONE1, INACTIVE, HOLD FROM RM00101 WHERE CUSTNMBR = @P1",
        sql: "SELECT c.custnmbr, c.custname, c.shrtname, c.custclas, c.curncyid, c.pymtrmid, a.adrscode, a.address1, \
              a.address2, a.city, a.state, a.zip, a.country, a.phone1, c.inactive, c.hold FROM rm00101 c \
              LEFT JOIN rm00102 a ON a.company_id = c.company_id AND a.custnmbr = c.custnmbr AND a.is_primary = 1 \
              WHERE c.company_id = ?1 AND c.custnmbr = ?2",
        columns: &[
            ("CUSTNMBR", T),
            ("CUSTNAME", T),
            ("SHRTNAME", T),
            ("CUSTCLAS", T),
            ("CURNCYID", T),
            ("PYMTRMID", T),
            ("ADRSCODE", T),
            ("ADDRESS1", T),
            ("ADDRESS2", T),
            ("CITY", T),
            ("STATE", T),
            ("ZIP", T),
            ("COUNTRY", T),
            ("PHONE1", T),
            ("INACTIVE", I),
            ("HOLD", I),
        ],
    },
    Query {
        text: "SELECT INET1 FROM SY01200 WHERE Master_Type = 'CUS' AND Master_ID = @P1 AND ADRSCODE = @P2",
        sql: "SELECT inet1 FROM sy01200 WHERE company_id = ?1 AND master_type = 'CUS' AND master_id = ?2 AND adrscode = ?3",
        columns: &[("INET1", T)],
    },
    Query {
        text: "SELECT RMDTYPAL, DOCNUMBR, CUSTNMBR, DOCDATE, BACHNUMB, BCHSOURC, CURNCYID, DOCAMNT, SLSAMNT, TRDISAMT, FRTAMNT, MISCAMNT, TAXAMNT, DOCDESCR, CSTPONBR, TAXSCHID FROM RM10301 WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2",
        sql: concat!(
            "SELECT d.rmdtypal, d.docnumbr, d.custnmbr, d.docdate, d.bachnumb, d.bchsourc, d.curncyid, d.docamnt * ",
            scale!("m.decplcur"),
            ", d.slsamnt * ",
            scale!("m.decplcur"),
            ", d.trdisamt * ",
            scale!("m.decplcur"),
            ", d.frtamnt * ",
            scale!("m.decplcur"),
            ", d.miscamnt * ",
            scale!("m.decplcur"),
            ", d.taxamnt * ",
            scale!("m.decplcur"),
            ", d.docdescr, d.cstponbr, e.taxschid FROM rm10301 d \
             LEFT JOIN mc40200 m ON m.company_id = d.company_id AND m.curncyid = d.curncyid \
             LEFT JOIN rm_document_ext e ON e.company_id = d.company_id AND e.rmdtypal = d.rmdtypal AND e.docnumbr = d.docnumbr \
             WHERE d.company_id = ?1 AND d.rmdtypal = ?2 AND d.docnumbr = ?3"
        ),
        columns: &[
            ("RMDTYPAL", I),
            ("DOCNUMBR", T),
            ("CUSTNMBR", T),
            ("DOCDATE", D),
            ("BACHNUMB", T),
            ("BCHSOURC", T),
            ("CURNCYID", T),
            ("DOCAMNT", M),
            ("SLSAMNT", M),
            ("TRDISAMT", M),
            ("FRTAMNT", M),
            ("MISCAMNT", M),
            ("TAXAMNT", M),
            ("DOCDESCR", T),
            ("CSTPONBR", T),
            ("TAXSCHID", T),
        ],
    },
    Query {
        text: "SELECT DOCNUMBR, CUSTNMBR, DOCDATE, BACHNUMB, BCHSOURC, CURNCYID, ORTRXAMT, CSHRCTYP, CHEKBKID, CHEKNMBR, CRCARDID, TRXDSCRN FROM RM10201 WHERE DOCNUMBR = @P1",
        sql: concat!(
            "SELECT d.docnumbr, d.custnmbr, d.docdate, d.bachnumb, d.bchsourc, d.curncyid, d.docamnt * ",
            scale!("m.decplcur"),
            ", CASE d.cshrctyp WHEN 'Cash' THEN 1 WHEN 'Payment Card' THEN 2 ELSE 0 END, d.chekbkid, d.cheknmbr, e.crcardid, \
             d.docdescr FROM rm10201 d LEFT JOIN mc40200 m ON m.company_id = d.company_id AND m.curncyid = d.curncyid \
             LEFT JOIN rm_document_ext e ON e.company_id = d.company_id AND e.rmdtypal = d.rmdtypal AND e.docnumbr = d.docnumbr \
             WHERE d.company_id = ?1 AND d.docnumbr = ?2"
        ),
        columns: &[
            ("DOCNUMBR", T),
            ("CUSTNMBR", T),
            ("DOCDATE", D),
            ("BACHNUMB", T),
            ("BCHSOURC", T),
            ("CURNCYID", T),
            ("ORTRXAMT", M),
            ("CSHRCTYP", I),
            ("CHEKBKID", T),
            ("CHEKNMBR", T),
            ("CRCARDID", T),
            ("TRXDSCRN", T),
        ],
    },
    Query {
        text: "SELECT RMDTYPAL, DOCNUMBR, CUSTNMBR, DOCDATE, BACHNUMB, CURNCYID, ORTRXAMT, CURTRXAM, VOIDSTTS FROM RM20101 WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2",
        sql: doc_state_sql!("rm20101"),
        columns: DOC_COLS,
    },
    Query {
        text: "SELECT RMDTYPAL, DOCNUMBR, CUSTNMBR, DOCDATE, BACHNUMB, CURNCYID, ORTRXAMT, CURTRXAM, VOIDSTTS FROM RM30101 WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2",
        sql: doc_state_sql!("rm30101"),
        columns: DOC_COLS,
    },
    Query {
        text: "SELECT RMDTYPAL, DOCNUMBR, DCSTATUS FROM RM00401 WHERE CUSTNMBR = @P1 ORDER BY RMDTYPAL, DOCNUMBR",
        sql: concat!(
            "SELECT rmdtypal, docnumbr, dcstatus FROM ",
            all_docs!(),
            " WHERE company_id = ?1 AND custnmbr = ?2 ORDER BY rmdtypal, docnumbr"
        ),
        columns: &[("RMDTYPAL", I), ("DOCNUMBR", T), ("DCSTATUS", I)],
    },
    Query {
        text: "SELECT SEQNUMBR, DISTTYPE, ACTNUMST, DEBITAMT, CRDTAMNT, DistRef FROM RM10101 INNER JOIN GL00105 ON GL00105.ACTINDX = RM10101.DSTINDX WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2 ORDER BY SEQNUMBR",
        sql: concat!(
            "SELECT l.seqnumbr, l.disttype, g.actnumst, l.debitamt * ",
            scale!("x.digits"),
            ", l.crdtamnt * ",
            scale!("x.digits"),
            ", l.distref FROM rm10101 l JOIN gl00105 g ON g.company_id = l.company_id AND g.actindx = l.dstindx \
             LEFT JOIN (SELECT d.company_id, d.rmdtypal, d.docnumbr, m.decplcur AS digits FROM ",
            all_docs!(),
            " d JOIN mc40200 m ON m.company_id = d.company_id AND m.curncyid = d.curncyid) x \
             ON x.company_id = l.company_id AND x.rmdtypal = l.rmdtypal AND x.docnumbr = l.docnumbr \
             WHERE l.company_id = ?1 AND l.rmdtypal = ?2 AND l.docnumbr = ?3 ORDER BY l.seqnumbr"
        ),
        columns: &[("SEQNUMBR", I), ("DISTTYPE", I), ("ACTNUMST", T), ("DEBITAMT", M), ("CRDTAMNT", M), ("DistRef", T)],
    },
    Query {
        text: "SELECT TAXDTLID, TAXAMNT, STAXAMNT, TDTTXSLS FROM RM10601 WHERE RMDTYPAL = @P1 AND DOCNUMBR = @P2 ORDER BY TAXDTLID",
        sql: concat!(
            "SELECT l.taxdtlid, l.taxamnt * ",
            scale!("x.digits"),
            ", l.staxamnt * ",
            scale!("x.digits"),
            ", l.tdttxsls * ",
            scale!("x.digits"),
            " FROM rm10601 l LEFT JOIN (SELECT d.company_id, d.rmdtypal, d.docnumbr, m.decplcur AS digits FROM ",
            all_docs!(),
            " d JOIN mc40200 m ON m.company_id = d.company_id AND m.curncyid = d.curncyid) x \
             ON x.company_id = l.company_id AND x.rmdtypal = l.rmdtypal AND x.docnumbr = l.docnumbr \
             WHERE l.company_id = ?1 AND l.rmdtypal = ?2 AND l.docnumbr = ?3 ORDER BY l.taxdtlid"
        ),
        columns: &[("TAXDTLID", T), ("TAXAMNT", M), ("STAXAMNT", M), ("TDTTXSLS", M)],
    },
    Query {
        text: "SELECT BACHNUMB, BCHSOURC, BCHSTTUS, MKDTOPST, NUMOFTRX, BCHTOTAL FROM SY00500 WHERE BACHNUMB = @P1 AND BCHSOURC = @P2",
        sql: concat!(
            "SELECT b.bachnumb, b.bchsourc, b.bchsttus, 0, \
             (SELECT COUNT(*) FROM ",
            all_docs!(),
            " d WHERE d.company_id = b.company_id AND d.dcstatus = 1 AND d.bachnumb = b.bachnumb AND d.bchsourc = b.bchsourc), \
             (SELECT COALESCE(SUM(d.docamnt * ",
            scale!("m.decplcur"),
            "), 0) FROM ",
            all_docs!(),
            " d JOIN mc40200 m ON m.company_id = d.company_id AND m.curncyid = d.curncyid \
              WHERE d.company_id = b.company_id AND d.dcstatus = 1 AND d.bachnumb = b.bachnumb AND d.bchsourc = b.bchsourc) \
             FROM sy00500 b WHERE b.company_id = ?1 AND b.bachnumb = ?2 AND b.bchsourc = ?3"
        ),
        columns: &[
            ("BACHNUMB", T),
            ("BCHSOURC", T),
            ("BCHSTTUS", I),
            ("MKDTOPST", I),
            ("NUMOFTRX", I),
            ("BCHTOTAL", M),
        ],
    },
    Query {
        text: "SELECT PERIODID, YEAR1, PSERIES_2 FROM SY40100 WHERE SERIES = 0 AND FORIGIN = 1 AND PERIODDT <= @P1 AND PERDENDT >= @P1",
        sql: "SELECT periodid, year1, pseries_2 FROM sy40100 WHERE company_id = ?1 AND perioddt <= ?2 AND perdendt >= ?2",
        columns: &[("PERIODID", I), ("YEAR1", I), ("PSERIES_2", I)],
    },
    Query {
        text: "SELECT CURNCYID, ISOCURRC, DECPLCUR FROM DYNAMICS..MC40200 WHERE CURNCYID = @P1",
        sql: "SELECT curncyid, isocurrc, decplcur FROM mc40200 WHERE company_id = ?1 AND curncyid = ?2",
        columns: &[("CURNCYID", T), ("ISOCURRC", T), ("DECPLCUR", I)],
    },
    Query {
        text: "SELECT FUNLCURR, DEFSLSTP FROM MC40000",
        sql: "SELECT funlcurr, defslstp FROM mc40000 WHERE company_id = ?1",
        columns: &[("FUNLCURR", T), ("DEFSLSTP", T)],
    },
    Query {
        text: "SELECT TOP 1 XCHGRATE, EXCHDATE, EXPNDATE, MC00100.EXGTBLID FROM DYNAMICS..MC00100 INNER JOIN MC40301 ON MC40301.EXGTBLID = MC00100.EXGTBLID WHERE MC40301.CURNCYID = @P1 AND MC40301.RATETPID = @P2 AND EXCHDATE <= @P3 AND (EXPNDATE >= @P3 OR EXPNDATE = '19000101') ORDER BY EXCHDATE DESC",
        sql: "SELECT r.xchgrate, r.exchdate, r.expndate, r.exgtblid FROM mc00100 r JOIN mc40301 t ON t.exgtblid = r.exgtblid \
              WHERE t.company_id = ?1 AND t.curncyid = ?2 AND t.ratetpid = ?3 AND r.exchdate <= ?4 \
              AND (r.expndate >= ?4 OR r.expndate = '1900-01-01') ORDER BY r.exchdate DESC LIMIT 1",
        columns: &[("XCHGRATE", Dec(7)), ("EXCHDATE", D), ("EXPNDATE", D), ("EXGTBLID", T)],
    },
    Query {
        text: "SELECT CHEKBKID, CURNCYID, INACTIVE FROM CM00100 WHERE CHEKBKID = @P1",
        sql: "SELECT chekbkid, curncyid, 0 FROM cm00100 WHERE company_id = ?1 AND chekbkid = ?2",
        columns: &[("CHEKBKID", T), ("CURNCYID", T), ("INACTIVE", I)],
    },
    Query {
        text: "SELECT ACTINDX, ACTNUMST FROM GL00105 WHERE ACTNUMST = @P1",
        sql: "SELECT actindx, actnumst FROM gl00105 WHERE company_id = ?1 AND actnumst = ?2",
        columns: &[("ACTINDX", I), ("ACTNUMST", T)],
    },
    Query {
        text: "SELECT TAXDTLID, TXDTLPCT, ACTINDX FROM TX00201 WHERE TAXDTLID = @P1",
        sql: "SELECT taxdtlid, txdtlpct, actindx FROM tx00201 WHERE company_id = ?1 AND taxdtlid = ?2",
        columns: &[("TAXDTLID", T), ("TXDTLPCT", Dec(5)), ("ACTINDX", I)],
    },
    Query {
        text: "SELECT TAXSCHID, TAXDTLID FROM TX00102 WHERE TAXSCHID = @P1 ORDER BY TAXDTLID",
        sql: "SELECT taxschid, taxdtlid FROM tx00102 WHERE company_id = ?1 AND taxschid = ?2 ORDER BY taxdtlid",
        columns: &[("TAXSCHID", T), ("TAXDTLID", T)],
    },
    Query {
        text: "SELECT CLASSID FROM RM00201 WHERE CLASSID = @P1",
        sql: "SELECT classid FROM rm00201 WHERE company_id = ?1 AND classid = ?2",
        columns: &[("CLASSID", T)],
    },
    Query {
        text: "SELECT PYMTRMID FROM SY03300 WHERE PYMTRMID = @P1",
        sql: "SELECT pymtrmid FROM sy03300 WHERE company_id = ?1 AND pymtrmid = ?2",
        columns: &[("PYMTRMID", T)],
    },
    Query {
        text: "SELECT CARDNAME FROM SY03100 WHERE CARDNAME = @P1",
        sql: "SELECT cardname FROM sy03100 WHERE company_id = ?1 AND cardname = ?2",
        columns: &[("CARDNAME", T)],
    },
    Query {
        text: "SELECT CMPANYID, INTERID, CMPNYNAM FROM DYNAMICS..SY01500 WHERE CMPNYNAM = @P1",
        sql: "SELECT cmpanyid, interid, cmpnynam FROM sy01500 WHERE ?1 = ?1 AND cmpnynam = ?2",
        columns: &[("CMPANYID", I), ("INTERID", T), ("CMPNYNAM", T)],
    },
    Query {
        text: "SELECT ErrorDesc FROM DYNAMICS..taErrorCode WHERE ErrorCode = @P1",
        sql: "SELECT errordesc FROM ta_error_code WHERE ?1 = ?1 AND errorcode = ?2",
        columns: &[("ErrorDesc", T)],
    },
    // Amounts in the applying document's currency (one row per pair of documents).
    Query {
        text: "SELECT APTODCTY, APTODCNM, APPTOAMT, WROFAMNT FROM RM20201 WHERE APFRDCTY = @P1 AND APFRDCNM = @P2 ORDER BY APTODCTY, APTODCNM",
        sql: concat!(
            "SELECT a.aptodcty, a.aptodcnm, a.appldamt * ",
            scale!("x.digits"),
            ", a.wrofamnt * ",
            scale!("x.digits"),
            " FROM rm20201 a LEFT JOIN (SELECT d.company_id, d.rmdtypal, d.docnumbr, m.decplcur AS digits FROM ",
            all_docs!(),
            " d JOIN mc40200 m ON m.company_id = d.company_id AND m.curncyid = d.curncyid) x \
             ON x.company_id = a.company_id AND x.rmdtypal = a.apfrdcty AND x.docnumbr = a.apfrdcnm \
             WHERE a.company_id = ?1 AND a.apfrdcty = ?2 AND a.apfrdcnm = ?3 ORDER BY a.aptodcty, a.aptodcnm"
        ),
        columns: &[("APTODCTY", I), ("APTODCNM", T), ("APPTOAMT", M), ("WROFAMNT", M)],
    },
    Query {
        text: "SELECT TOP 1 PERIODDT, PERIODID, YEAR1 FROM SY40100 WHERE SERIES = 0 AND FORIGIN = 1 AND PSERIES_2 = 0 AND PERIODDT > @P1 ORDER BY PERIODDT",
        sql: "SELECT perioddt, periodid, year1 FROM sy40100 WHERE company_id = ?1 AND pseries_2 = 0 AND perioddt > ?2 \
              ORDER BY perioddt LIMIT 1",
        columns: &[("PERIODDT", D), ("PERIODID", I), ("YEAR1", I)],
    },
];

/// Whitespace collapsed, upper-cased, trailing `;` dropped.
fn normalize(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ").trim_end_matches(';').trim_end().to_uppercase()
}

/// The texts the endpoint recognises (docs/econnect.md's table), for tests and tools.
pub fn texts() -> impl Iterator<Item = &'static str> {
    QUERIES.iter().map(|q| q.text)
}

pub(super) async fn run(
    conn: &mut SqliteConnection,
    company: i32,
    sql: &str,
    params: &[SqlValue],
) -> Result<ResultSet, SqlError> {
    let wanted = normalize(sql);
    let Some(q) = QUERIES.iter().find(|q| normalize(q.text) == wanted) else {
        let near = sql.split_whitespace().next().unwrap_or_default();
        return Err(SqlError { number: 102, class: 15, state: 1, message: format!("Incorrect syntax near '{near}'.") });
    };
    let mut query = sqlx::query(AssertSqlSafe(q.sql)).bind(company);
    for p in params {
        query = match p {
            SqlValue::Null => query.bind(None::<String>),
            SqlValue::Int(i) => query.bind(*i),
            SqlValue::Text(s) => query.bind(s.trim_end().to_string()),
            SqlValue::Decimal { units, scale } => query.bind(super::params::decimal_text(*units, *scale)),
            SqlValue::DateTime(dt) => query.bind(dt.date().to_string()),
        };
    }
    let rows = query.fetch_all(conn).await.map_err(super::internal)?;
    let columns =
        q.columns.iter().map(|&(name, col)| Column { name: name.to_string(), kind: wire_type(col) }).collect();
    let rows = rows.iter().map(|r| row(r, q.columns)).collect::<Result<_, _>>().map_err(super::internal)?;
    Ok(ResultSet { columns, rows })
}

fn wire_type(col: Col) -> ColumnType {
    match col {
        Col::Int => ColumnType::Int,
        Col::Text => ColumnType::Text { max_chars: 255 },
        Col::Money => ColumnType::Decimal { precision: 19, scale: 5 },
        Col::Dec(scale) => ColumnType::Decimal { precision: 19, scale },
        Col::Date => ColumnType::DateTime,
    }
}

fn row(r: &SqliteRow, columns: &[(&str, Col)]) -> sqlx::Result<Vec<SqlValue>> {
    let mut out = Vec::with_capacity(columns.len());
    for (i, &(_, col)) in columns.iter().enumerate() {
        let value = match col {
            Col::Int => r.try_get::<Option<i64>, _>(i)?.map(SqlValue::Int),
            Col::Text => r.try_get::<Option<String>, _>(i)?.map(SqlValue::Text),
            Col::Money => r.try_get::<Option<i64>, _>(i)?.map(|u| SqlValue::Decimal { units: i128::from(u), scale: 5 }),
            Col::Dec(scale) => r.try_get::<Option<String>, _>(i)?.and_then(|t| decimal(&t, scale)),
            Col::Date => r.try_get::<Option<String>, _>(i)?.and_then(|t| datetime(&t)),
        };
        out.push(value.unwrap_or(SqlValue::Null));
    }
    Ok(out)
}

/// Decimal text at `scale` places.
fn decimal(text: &str, scale: u8) -> Option<SqlValue> {
    let units = crate::money::parse_minor(text, u32::from(scale)).ok()?;
    Some(SqlValue::Decimal { units: i128::from(units), scale })
}

/// An ISO date (`YYYY-MM-DD…`) at midnight.
fn datetime(text: &str) -> Option<SqlValue> {
    let d = Date::parse_iso(text.get(..10)?)?;
    let month = time::Month::try_from(u8::try_from(d.month).ok()?).ok()?;
    let date = time::Date::from_calendar_date(d.year, month, u8::try_from(d.day).ok()?).ok()?;
    Some(SqlValue::DateTime(time::PrimitiveDateTime::new(date, time::Time::MIDNIGHT)))
}
