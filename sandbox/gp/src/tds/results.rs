//! Result sets and output parameters on the wire: COLMETADATA (7.2+ layout, ULONG UserType),
//! ROW, RETURNVALUE, and each [`ColumnType`]'s TYPE_INFO and value encoding: INTN(4),
//! NUMERICN(p, s), NVARCHAR(n) with the server collation, DATETIMN(8).

use super::backend::{Column, ColumnType, ResultSet, SqlError, SqlValue};
use super::tokens::{COLLATION, TOKEN_COLMETADATA, TOKEN_RETURNVALUE, TOKEN_ROW};
use super::wire::Put;

const INTN: u8 = 0x26;
const NUMERICN: u8 = 0x6C;
const NVARCHAR: u8 = 0xE7;
const DATETIMN: u8 = 0x6F;
/// Column flags: nullable.
const FLAG_NULLABLE: u16 = 0x0001;

fn conversion(number: i32, message: String) -> SqlError {
    SqlError { number, class: 16, state: 1, message }
}

/// NUMERICN's value length for a precision (sign byte included).
fn numeric_len(precision: u8) -> u8 {
    match precision {
        0..=9 => 5,
        10..=19 => 9,
        20..=28 => 13,
        _ => 17,
    }
}

fn text_max_bytes(max_chars: u16) -> u16 {
    max_chars.clamp(1, 4000) * 2
}

fn type_info(out: &mut Vec<u8>, kind: ColumnType) {
    match kind {
        ColumnType::Int => out.extend_from_slice(&[INTN, 4]),
        ColumnType::Decimal { precision, scale } => {
            let precision = precision.clamp(1, 38);
            out.extend_from_slice(&[NUMERICN, numeric_len(precision), precision, scale.min(precision)]);
        }
        ColumnType::Text { max_chars } => {
            out.put_u8(NVARCHAR);
            out.put_u16(text_max_bytes(max_chars));
            out.extend_from_slice(&COLLATION);
        }
        ColumnType::DateTime => out.extend_from_slice(&[DATETIMN, 8]),
    }
}

pub fn col_metadata(out: &mut Vec<u8>, columns: &[Column]) {
    out.put_u8(TOKEN_COLMETADATA);
    out.put_u16(columns.len() as u16);
    for column in columns {
        out.put_u32(0); // UserType
        out.put_u16(FLAG_NULLABLE);
        type_info(out, column.kind);
        out.put_b_varchar(&column.name);
    }
}

/// 10^`exp` (None past i128).
pub fn pow10(exp: u32) -> Option<i128> {
    10i128.checked_pow(exp)
}

/// `units` × 10^-`from` at scale `to`, rounding half away from zero.
pub fn rescale(units: i128, from: u8, to: u8) -> Option<i128> {
    if to >= from {
        return units.checked_mul(pow10(u32::from(to - from))?);
    }
    let div = pow10(u32::from(from - to))?;
    let (q, r) = (units / div, units % div);
    let round = if r.unsigned_abs() * 2 >= div.unsigned_abs() { units.signum() } else { 0 };
    q.checked_add(round)
}

/// A decimal as SQL Server prints it (`-12.50000`).
pub fn decimal_text(units: i128, scale: u8) -> String {
    let digits = units.unsigned_abs().to_string();
    let sign = if units < 0 { "-" } else { "" };
    let scale = scale as usize;
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

fn datetime_text(dt: &time::PrimitiveDateTime) -> String {
    let (d, t) = (dt.date(), dt.time());
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        d.year(),
        u8::from(d.month()),
        d.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn int_value(out: &mut Vec<u8>, v: &SqlValue) -> Result<(), SqlError> {
    let n = match v {
        SqlValue::Int(n) => *n,
        SqlValue::Decimal { units, scale } => {
            let whole = rescale(*units, *scale, 0).filter(|w| rescale(*w, 0, *scale) == Some(*units));
            whole.and_then(|w| i64::try_from(w).ok()).ok_or_else(|| overflow("int"))?
        }
        other => return Err(conversion(245, format!("Conversion failed when converting {other:?} to data type int."))),
    };
    let n = i32::try_from(n).map_err(|_| overflow("int"))?;
    out.put_u8(4);
    out.put_i32(n);
    Ok(())
}

fn overflow(kind: &str) -> SqlError {
    conversion(8115, format!("Arithmetic overflow error converting expression to data type {kind}."))
}

fn decimal_value(out: &mut Vec<u8>, precision: u8, scale: u8, v: &SqlValue) -> Result<(), SqlError> {
    let (precision, scale) = (precision.clamp(1, 38), scale.min(precision.clamp(1, 38)));
    let units = match v {
        SqlValue::Int(n) => rescale(i128::from(*n), 0, scale),
        SqlValue::Decimal { units, scale: s } => rescale(*units, *s, scale),
        other => {
            return Err(conversion(8114, format!("Error converting {other:?} to data type numeric.")));
        }
    };
    let units = units
        .filter(|u| pow10(u32::from(precision)).is_some_and(|limit| u.unsigned_abs() < limit.unsigned_abs()))
        .ok_or_else(|| overflow("numeric"))?;
    let len = numeric_len(precision);
    out.put_u8(len);
    out.put_u8(u8::from(units >= 0));
    out.extend_from_slice(&units.unsigned_abs().to_le_bytes()[..usize::from(len) - 1]);
    Ok(())
}

fn text_value(out: &mut Vec<u8>, max_chars: u16, v: &SqlValue) -> Result<(), SqlError> {
    let text = match v {
        SqlValue::Text(s) => s.clone(),
        SqlValue::Int(n) => n.to_string(),
        SqlValue::Decimal { units, scale } => decimal_text(*units, *scale),
        SqlValue::DateTime(dt) => datetime_text(dt),
        SqlValue::Null => String::new(),
    };
    let units: Vec<u16> = text.encode_utf16().collect();
    if units.len() * 2 > usize::from(text_max_bytes(max_chars)) {
        return Err(conversion(2628, format!("String or binary data would be truncated: '{text}'.")));
    }
    out.put_u16((units.len() * 2) as u16);
    units.iter().for_each(|u| out.put_u16(*u));
    Ok(())
}

/// DATETIME: days since 1900-01-01 and 1/300-second ticks since midnight.
pub fn datetime_parts(dt: &time::PrimitiveDateTime) -> Option<(i32, u32)> {
    let epoch = time::Date::from_calendar_date(1900, time::Month::January, 1).ok()?;
    let mut days = i32::try_from((dt.date() - epoch).whole_days()).ok()?;
    let nanos = u64::try_from((dt.time() - time::Time::MIDNIGHT).whole_nanoseconds()).ok()?;
    let mut ticks = ((nanos * 300 + 500_000_000) / 1_000_000_000) as u32;
    if ticks >= 300 * 86_400 {
        ticks = 0;
        days += 1;
    }
    Some((days, ticks))
}

fn datetime_value(out: &mut Vec<u8>, v: &SqlValue) -> Result<(), SqlError> {
    let SqlValue::DateTime(dt) = v else {
        return Err(conversion(241, format!("Conversion failed when converting {v:?} to datetime.")));
    };
    let (days, ticks) = datetime_parts(dt).ok_or_else(|| overflow("datetime"))?;
    out.put_u8(8);
    out.put_i32(days);
    out.put_u32(ticks);
    Ok(())
}

/// One value of a column of type `kind` (TYPE_VARBYTE).
pub fn value(out: &mut Vec<u8>, kind: ColumnType, v: &SqlValue) -> Result<(), SqlError> {
    if matches!(v, SqlValue::Null) {
        match kind {
            ColumnType::Text { .. } => out.put_u16(0xFFFF),
            _ => out.put_u8(0),
        }
        return Ok(());
    }
    match kind {
        ColumnType::Int => int_value(out, v),
        ColumnType::Decimal { precision, scale } => decimal_value(out, precision, scale, v),
        ColumnType::Text { max_chars } => text_value(out, max_chars, v),
        ColumnType::DateTime => datetime_value(out, v),
    }
}

/// COLMETADATA + one ROW per row; returns the row count. A row whose width differs from the
/// columns, or a value its column cannot carry, is an error (nothing of the set is sent).
pub fn result_set(out: &mut Vec<u8>, rs: &ResultSet) -> Result<u64, SqlError> {
    let mut buf = Vec::new();
    col_metadata(&mut buf, &rs.columns);
    for row in &rs.rows {
        if row.len() != rs.columns.len() {
            let message = format!("row has {} values for {} columns", row.len(), rs.columns.len());
            return Err(conversion(50000, message));
        }
        buf.put_u8(TOKEN_ROW);
        for (column, v) in rs.columns.iter().zip(row) {
            value(&mut buf, column.kind, v)?;
        }
    }
    out.extend_from_slice(&buf);
    Ok(rs.rows.len() as u64)
}

/// RETURNVALUE of an RPC's OUTPUT parameter (`ordinal` = its 0-based position in the request).
pub fn return_value(
    out: &mut Vec<u8>,
    ordinal: u16,
    name: &str,
    kind: ColumnType,
    v: &SqlValue,
) -> Result<(), SqlError> {
    let mut buf = vec![TOKEN_RETURNVALUE];
    buf.put_u16(ordinal);
    buf.put_b_varchar(name);
    buf.put_u8(0x01); // an OUTPUT parameter
    buf.put_u32(0);
    buf.put_u16(FLAG_NULLABLE);
    type_info(&mut buf, kind);
    value(&mut buf, kind, v)?;
    out.extend_from_slice(&buf);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn rescales_with_rounding() {
        assert_eq!(rescale(12345, 3, 5), Some(1_234_500));
        assert_eq!(rescale(12345, 3, 1), Some(123));
        assert_eq!(rescale(12355, 3, 1), Some(124));
        assert_eq!(rescale(-12355, 3, 1), Some(-124));
        assert_eq!(decimal_text(-5, 5), "-0.00005");
        assert_eq!(decimal_text(1_250_000, 5), "12.50000");
    }

    #[test]
    fn numeric_and_int_values() {
        let mut out = Vec::new();
        value(&mut out, ColumnType::Decimal { precision: 19, scale: 5 }, &SqlValue::Decimal { units: -125, scale: 1 })
            .unwrap();
        assert_eq!(out, [9, 0, 0xD0, 0x12, 0x13, 0, 0, 0, 0, 0]);
        out.clear();
        assert!(value(&mut out, ColumnType::Int, &SqlValue::Int(1 << 40)).is_err());
        value(&mut out, ColumnType::Int, &SqlValue::Null).unwrap();
        assert_eq!(out, [0]);
    }

    #[test]
    fn datetime_ticks() {
        let dt = time::PrimitiveDateTime::new(
            time::Date::from_calendar_date(1900, time::Month::January, 2).unwrap(),
            time::Time::from_hms(0, 0, 1).unwrap(),
        );
        assert_eq!(datetime_parts(&dt), Some((1, 300)));
    }
}
