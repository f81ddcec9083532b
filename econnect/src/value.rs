//! An element's text → the typed value sent for its parameter, checked against the SQL type
//! the procedure declares (so SQL Server never truncates or rounds what the document says).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use tiberius::ToSql;
use tiberius::numeric::Numeric;

use crate::procs::SqlType;

/// A parameter's value, as it travels: text → NVARCHAR, integers → INTN, amounts and rates →
/// NUMERIC with their declared scale, dates → DATETIME2 (tiberius' chrono encoding).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    U8(u8),
    I16(i16),
    I32(i32),
    /// The unscaled value and the scale: `12.5` at scale 5 is `(1_250_000, 5)`.
    Numeric(i128, u8),
    DateTime(NaiveDateTime),
}

impl ToSql for Value {
    fn to_sql(&self) -> tiberius::ColumnData<'_> {
        match self {
            Value::Text(s) => tiberius::ColumnData::String(Some(std::borrow::Cow::Borrowed(s.as_str()))),
            Value::U8(v) => v.to_sql(),
            Value::I16(v) => v.to_sql(),
            Value::I32(v) => v.to_sql(),
            // The scale is 5 or 7 (the catalog's), under tiberius' limit of 37.
            Value::Numeric(v, scale) => tiberius::ColumnData::Numeric(Some(Numeric::new_with_scale(*v, *scale))),
            Value::DateTime(d) => d.to_sql(),
        }
    }
}

/// The text of a value of `ty`, checked. `Err` says why, for an `invalid` naming the element.
pub fn convert(ty: SqlType, text: &str) -> Result<Value, String> {
    match ty {
        SqlType::Char(n) | SqlType::VarChar(n) => {
            let len = text.chars().count();
            if len > usize::from(n) {
                return Err(format!("{len} characters; {ty} holds at most {n}"));
            }
            Ok(Value::Text(text.to_string()))
        }
        SqlType::TinyInt => int::<u8>(text, ty).map(Value::U8),
        SqlType::SmallInt => int::<i16>(text, ty).map(Value::I16),
        SqlType::Int => int::<i32>(text, ty).map(Value::I32),
        SqlType::Numeric(scale) => numeric(text, scale).map(|v| Value::Numeric(v, scale)),
        SqlType::DateTime => date(text).map(Value::DateTime),
    }
}

fn int<T: std::str::FromStr>(text: &str, ty: SqlType) -> Result<T, String> {
    let t = text.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not an integer"));
    }
    t.parse::<T>().map_err(|_| format!("{text} is out of range for {ty}"))
}

/// `[-]digits[.digits]` as an unscaled integer at `scale` decimals, within numeric(19, scale).
/// More decimals than the scale are refused unless they are zeros (nothing is rounded).
pub fn numeric(text: &str, scale: u8) -> Result<i128, String> {
    let t = text.trim();
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int_part, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int_part.is_empty() || !digits(int_part) || !digits(frac) || (body.contains('.') && frac.is_empty()) {
        return Err(format!("{text:?} is not a decimal number"));
    }
    let scale_n = usize::from(scale);
    let (kept, extra) = frac.split_at(frac.len().min(scale_n));
    if extra.bytes().any(|b| b != b'0') {
        return Err(format!("{text} has more than {scale} decimals (numeric(19,{scale}))"));
    }
    let int_digits = int_part.trim_start_matches('0');
    let max_int = 19 - scale_n;
    if int_digits.len() > max_int {
        return Err(format!("{text} is out of range for numeric(19,{scale}) (at most {max_int} integer digits)"));
    }
    let mut v: i128 = 0;
    for b in int_digits.bytes().chain(kept.bytes()).chain(std::iter::repeat_n(b'0', scale_n - kept.len())) {
        v = v * 10 + i128::from(b - b'0');
    }
    Ok(if negative { -v } else { v })
}

/// `YYYY-MM-DD` (midnight) or `YYYY-MM-DDTHH:MM:SS`, within SQL Server's `datetime` range.
pub fn date(text: &str) -> Result<NaiveDateTime, String> {
    let t = text.trim();
    let parsed = if t.len() == 10 {
        NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().map(|d| d.and_time(NaiveTime::MIN))
    } else if t.len() == 19 {
        NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok()
    } else {
        None
    };
    let d = parsed.ok_or_else(|| format!("{text:?} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)"))?;
    if d.date() < NaiveDate::from_ymd_opt(1753, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err(format!("{text} is before 1753-01-01, out of range for datetime"));
    }
    Ok(d)
}

/// An unscaled numeric as decimal text with all its `scale` decimals (`1250000`, 5 → `12.50000`).
pub fn numeric_text(value: i128, scale: u8) -> String {
    let digits = value.unsigned_abs().to_string();
    let scale = usize::from(scale);
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int_part, frac) = padded.split_at(padded.len() - scale);
    let sign = if value < 0 { "-" } else { "" };
    if frac.is_empty() { format!("{sign}{int_part}") } else { format!("{sign}{int_part}.{frac}") }
}
