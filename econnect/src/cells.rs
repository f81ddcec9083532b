//! A result cell as the text a guest gets: integers in decimal, numerics with the scale SQL
//! Server sent (GP's 5 or 7 decimals kept: `12.50000`), dates `YYYY-MM-DD` (GP dates carry no
//! time), text with trailing blanks removed (GP's char columns are blank-padded), NULL → `None`.

use chrono::{NaiveDate, NaiveDateTime};
use tiberius::{ColumnData, FromSql};

use crate::value::numeric_text;

pub fn text(cell: &ColumnData<'static>) -> Option<String> {
    match cell {
        ColumnData::U8(v) => v.map(|v| v.to_string()),
        ColumnData::I16(v) => v.map(|v| v.to_string()),
        ColumnData::I32(v) => v.map(|v| v.to_string()),
        ColumnData::I64(v) => v.map(|v| v.to_string()),
        ColumnData::F32(v) => v.map(|v| v.to_string()),
        ColumnData::F64(v) => v.map(|v| v.to_string()),
        ColumnData::Bit(v) => v.map(|v| if v { "1" } else { "0" }.to_string()),
        ColumnData::String(v) => v.as_ref().map(|s| s.trim_end_matches(' ').to_string()),
        ColumnData::Guid(v) => v.map(|g| g.to_string()),
        ColumnData::Binary(v) => v.as_ref().map(|b| b.iter().map(|x| format!("{x:02x}")).collect()),
        ColumnData::Numeric(v) => v.map(|n| numeric_text(n.value(), n.scale())),
        ColumnData::Xml(v) => v.as_ref().map(|x| x.to_string()),
        ColumnData::Date(_) => date_of(NaiveDate::from_sql(cell)),
        ColumnData::DateTime(_) | ColumnData::SmallDateTime(_) | ColumnData::DateTime2(_) => {
            date_of(NaiveDateTime::from_sql(cell).map(|d| d.map(|d| d.date())))
        }
        ColumnData::Time(_) => chrono::NaiveTime::from_sql(cell).ok().flatten().map(|t| t.to_string()),
        ColumnData::DateTimeOffset(_) => {
            chrono::DateTime::<chrono::Utc>::from_sql(cell).ok().flatten().map(|d| d.date_naive().to_string())
        }
    }
}

fn date_of(d: tiberius::Result<Option<NaiveDate>>) -> Option<String> {
    d.ok().flatten().map(|d| d.format("%Y-%m-%d").to_string())
}

/// An integer cell (any width), for the wrapper's `rc` and `error_state`.
pub fn int(cell: &ColumnData<'static>) -> Option<i64> {
    match cell {
        ColumnData::U8(v) => v.map(i64::from),
        ColumnData::I16(v) => v.map(i64::from),
        ColumnData::I32(v) => v.map(i64::from),
        ColumnData::I64(v) => *v,
        ColumnData::Numeric(Some(n)) if n.scale() == 0 => i64::try_from(n.value()).ok(),
        _ => None,
    }
}
