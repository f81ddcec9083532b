//! RPC parameter values: TYPE_INFO (MS-TDS §2.2.5.4–6) and TYPE_VARBYTE decoding into
//! [`SqlValue`]. Integers, bits, NUMERIC/DECIMAL, floats and money (as decimals), the four
//! character types (PLP `(MAX)` included; `varchar` bytes read as Latin-1), DATETIME, DATETIM4,
//! DATE and DATETIME2. Anything else is refused by type id.

use super::backend::SqlValue;
use super::wire::{Malformed, Parse, Reader, malformed, utf16_to_string};

/// Why a parameter could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamFault {
    /// A TYPE_INFO id this endpoint does not decode (binary, GUID, TIME, XML, UDT…).
    UnknownType(u8),
    Bad(Malformed),
}

impl From<Malformed> for ParamFault {
    fn from(m: Malformed) -> Self {
        ParamFault::Bad(m)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Bit,
    Float,
    Money,
    DateTime,
    Decimal { scale: u8 },
    Text { unicode: bool },
    Date,
    DateTime2 { scale: u8 },
}

/// How the value's length is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Len {
    Fixed(usize),
    Byte,
    Short,
    Plp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TypeInfo {
    kind: Kind,
    len: Len,
}

fn fixed(id: u8) -> Option<TypeInfo> {
    let (kind, n) = match id {
        0x30 => (Kind::Int, 1),
        0x34 => (Kind::Int, 2),
        0x38 => (Kind::Int, 4),
        0x7F => (Kind::Int, 8),
        0x32 => (Kind::Bit, 1),
        0x3B => (Kind::Float, 4),
        0x3E => (Kind::Float, 8),
        0x7A => (Kind::Money, 4),
        0x3C => (Kind::Money, 8),
        0x3A => (Kind::DateTime, 4),
        0x3D => (Kind::DateTime, 8),
        _ => return None,
    };
    Some(TypeInfo { kind, len: Len::Fixed(n) })
}

fn read_type_info(r: &mut Reader) -> Result<TypeInfo, ParamFault> {
    let id = r.u8("TYPE_INFO")?;
    if let Some(t) = fixed(id) {
        return Ok(t);
    }
    let byte_len = |kind| TypeInfo { kind, len: Len::Byte };
    let info = match id {
        0x26 | 0x68 | 0x6D | 0x6E | 0x6F => {
            r.u8("TYPE_INFO length")?;
            let kind = match id {
                0x26 => Kind::Int,
                0x68 => Kind::Bit,
                0x6D => Kind::Float,
                0x6E => Kind::Money,
                _ => Kind::DateTime,
            };
            byte_len(kind)
        }
        0x6A | 0x6C => {
            r.u8("DECIMALN length")?;
            let _precision = r.u8("DECIMALN precision")?;
            let scale = r.u8("DECIMALN scale")?;
            if scale > 38 {
                return Err(Malformed(format!("DECIMALN scale {scale}")).into());
            }
            byte_len(Kind::Decimal { scale })
        }
        0x28 => byte_len(Kind::Date),
        0x2A => {
            let scale = r.u8("DATETIME2N scale")?;
            if scale > 7 {
                return Err(Malformed(format!("DATETIME2N scale {scale}")).into());
            }
            byte_len(Kind::DateTime2 { scale })
        }
        0xE7 | 0xEF | 0xA7 | 0xAF => {
            let max = r.u16_le("character max length")?;
            r.skip(5, "collation")?;
            let len = if max == 0xFFFF { Len::Plp } else { Len::Short };
            TypeInfo { kind: Kind::Text { unicode: matches!(id, 0xE7 | 0xEF) }, len }
        }
        other => return Err(ParamFault::UnknownType(other)),
    };
    Ok(info)
}

/// The value's bytes, or None for NULL.
fn read_bytes(r: &mut Reader, len: Len) -> Parse<Option<Vec<u8>>> {
    match len {
        Len::Fixed(n) => Ok(Some(r.take(n, "fixed-length value")?.to_vec())),
        Len::Byte => match r.u8("value length")? {
            0 => Ok(None),
            n => Ok(Some(r.take(n as usize, "value")?.to_vec())),
        },
        Len::Short => match r.u16_le("value length")? {
            0xFFFF => Ok(None),
            n => Ok(Some(r.take(n as usize, "value")?.to_vec())),
        },
        Len::Plp => read_plp(r),
    }
}

/// PLP: a total length (all ones = NULL, …FE = unknown), then chunks up to a zero-length one.
fn read_plp(r: &mut Reader) -> Parse<Option<Vec<u8>>> {
    if r.u64_le("PLP length")? == u64::MAX {
        return Ok(None);
    }
    let mut out = Vec::new();
    loop {
        let chunk = r.u32_le("PLP chunk length")? as usize;
        if chunk == 0 {
            return Ok(Some(out));
        }
        out.extend_from_slice(r.take(chunk, "PLP chunk")?);
    }
}

fn le_int(bytes: &[u8]) -> Parse<i64> {
    Ok(match bytes.len() {
        1 => i64::from(bytes[0]),
        2 => i64::from(i16::from_le_bytes([bytes[0], bytes[1]])),
        4 => i64::from(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
        8 => i64::from_le_bytes(bytes.try_into().map_err(|_| Malformed("int".into()))?),
        n => return malformed(format!("integer of {n} bytes")),
    })
}

fn le_uint(bytes: &[u8]) -> u128 {
    bytes.iter().rev().fold(0u128, |acc, b| (acc << 8) | u128::from(*b))
}

/// A float as the shortest decimal that reads back as the same float.
fn float_value(bytes: &[u8]) -> Parse<SqlValue> {
    let f = match bytes.len() {
        4 => f64::from(f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
        8 => f64::from_le_bytes(bytes.try_into().map_err(|_| Malformed("float".into()))?),
        n => return malformed(format!("float of {n} bytes")),
    };
    if !f.is_finite() {
        return malformed("float is not finite");
    }
    parse_decimal(&f.to_string()).ok_or_else(|| Malformed(format!("float {f} out of NUMERIC range")))
}

/// `-12.345` → Decimal { units: -12345, scale: 3 } (at most 38 digits).
pub fn parse_decimal(text: &str) -> Option<SqlValue> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let frac = frac.trim_end_matches('0');
    let all = format!("{int}{frac}");
    if all.is_empty() || all.trim_start_matches('0').len() > 38 || !all.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let units: i128 = all.parse().ok()?;
    let scale = u8::try_from(frac.len()).ok().filter(|s| *s <= 38)?;
    Some(SqlValue::Decimal { units: if negative { -units } else { units }, scale })
}

fn money_value(bytes: &[u8]) -> Parse<SqlValue> {
    let units = match bytes.len() {
        4 => i64::from(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
        8 => {
            let high = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            let low = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
            (i64::from(high) << 32) | i64::from(low)
        }
        n => return malformed(format!("money of {n} bytes")),
    };
    Ok(SqlValue::Decimal { units: i128::from(units), scale: 4 })
}

fn decimal_value(bytes: &[u8], scale: u8) -> Parse<SqlValue> {
    let Some((sign, magnitude)) = bytes.split_first().filter(|(_, m)| !m.is_empty() && m.len() <= 16) else {
        return malformed(format!("DECIMALN value of {} bytes", bytes.len()));
    };
    let units = i128::try_from(le_uint(magnitude)).map_err(|_| Malformed("DECIMALN magnitude".into()))?;
    Ok(SqlValue::Decimal { units: if *sign == 0 { -units } else { units }, scale })
}

fn day_zero(year: i32) -> Parse<time::Date> {
    time::Date::from_calendar_date(year, time::Month::January, 1).map_err(|e| Malformed(e.to_string()))
}

fn plus(date: time::Date, days: i64, nanos: u64) -> Parse<SqlValue> {
    let out_of_range = || Malformed(format!("date {days} days from {date} out of range"));
    let date = date.checked_add(time::Duration::days(days)).ok_or_else(out_of_range)?;
    let time = time::Time::MIDNIGHT + time::Duration::nanoseconds(i64::try_from(nanos).map_err(|_| out_of_range())?);
    Ok(SqlValue::DateTime(time::PrimitiveDateTime::new(date, time)))
}

fn datetime_value(bytes: &[u8]) -> Parse<SqlValue> {
    let (days, nanos) = match bytes.len() {
        4 => {
            let days = u16::from_le_bytes([bytes[0], bytes[1]]);
            let minutes = u16::from_le_bytes([bytes[2], bytes[3]]);
            (i64::from(days), u64::from(minutes) * 60 * 1_000_000_000)
        }
        8 => {
            let days = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            let ticks = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
            (i64::from(days), u64::from(ticks) * 10_000_000 / 3)
        }
        n => return malformed(format!("datetime of {n} bytes")),
    };
    if nanos >= 86_400 * 1_000_000_000 {
        return malformed("datetime time of day past midnight");
    }
    plus(day_zero(1900)?, days, nanos)
}

fn date2_value(bytes: &[u8], scale: Option<u8>) -> Parse<SqlValue> {
    let Some(split) = bytes.len().checked_sub(3) else {
        return malformed(format!("date of {} bytes", bytes.len()));
    };
    let (time_bytes, date_bytes) = bytes.split_at(split);
    let days = le_uint(date_bytes) as i64;
    let nanos = match scale {
        None if time_bytes.is_empty() => 0,
        None => return malformed("DATEN value longer than 3 bytes"),
        Some(s) => {
            if time_bytes.len() != [3, 3, 3, 4, 4, 5, 5, 5][usize::from(s.min(7))] {
                return malformed(format!("DATETIME2 time of {} bytes at scale {s}", time_bytes.len()));
            }
            let units = le_uint(time_bytes) as u64;
            units.saturating_mul(10u64.pow(9 - u32::from(s.min(7))))
        }
    };
    if nanos >= 86_400 * 1_000_000_000 {
        return malformed("DATETIME2 time of day past midnight");
    }
    plus(day_zero(1)?, days, nanos)
}

fn text_value(bytes: &[u8], unicode: bool) -> Parse<SqlValue> {
    if unicode {
        return Ok(SqlValue::Text(utf16_to_string(bytes, "NVARCHAR value")?));
    }
    Ok(SqlValue::Text(bytes.iter().map(|b| char::from(*b)).collect()))
}

fn interpret(kind: Kind, bytes: &[u8]) -> Parse<SqlValue> {
    match kind {
        Kind::Int => Ok(SqlValue::Int(le_int(bytes)?)),
        Kind::Bit => Ok(SqlValue::Int(i64::from(bytes.iter().any(|b| *b != 0)))),
        Kind::Float => float_value(bytes),
        Kind::Money => money_value(bytes),
        Kind::DateTime => datetime_value(bytes),
        Kind::Decimal { scale } => decimal_value(bytes, scale),
        Kind::Text { unicode } => text_value(bytes, unicode),
        Kind::Date => date2_value(bytes, None),
        Kind::DateTime2 { scale } => date2_value(bytes, Some(scale)),
    }
}

/// TYPE_INFO then the value.
pub fn read_typed_value(r: &mut Reader) -> Result<SqlValue, ParamFault> {
    let info = read_type_info(r)?;
    match read_bytes(r, info.len)? {
        None => Ok(SqlValue::Null),
        Some(bytes) => Ok(interpret(info.kind, &bytes)?),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn decode(bytes: &[u8]) -> Result<SqlValue, ParamFault> {
        read_typed_value(&mut Reader::new(bytes))
    }

    #[test]
    fn ints_and_nulls() {
        assert_eq!(decode(&[0x26, 4, 4, 0xFE, 0xFF, 0xFF, 0xFF]), Ok(SqlValue::Int(-2)));
        assert_eq!(decode(&[0x26, 4, 0]), Ok(SqlValue::Null));
        assert_eq!(decode(&[0x30, 200]), Ok(SqlValue::Int(200)));
        assert_eq!(decode(&[0x68, 1, 1, 1]), Ok(SqlValue::Int(1)));
    }

    #[test]
    fn numeric_and_float() {
        let v = decode(&[0x6C, 9, 19, 5, 9, 0, 0xD0, 0x12, 0x13, 0, 0, 0, 0, 0]).unwrap();
        assert_eq!(v, SqlValue::Decimal { units: -1_250_000, scale: 5 });
        let mut f = vec![0x6D, 8, 8];
        f.extend_from_slice(&0.1f64.to_le_bytes());
        assert_eq!(decode(&f), Ok(SqlValue::Decimal { units: 1, scale: 1 }));
        assert_eq!(parse_decimal("100"), Some(SqlValue::Decimal { units: 100, scale: 0 }));
    }

    #[test]
    fn text_plain_and_plp() {
        let mut v = vec![0xE7, 0x40, 0x1F, 0, 0, 0, 0, 0, 4, 0, b'O', 0, b'K', 0];
        assert_eq!(decode(&v), Ok(SqlValue::Text("OK".into())));
        v = vec![0xE7, 0xFF, 0xFF, 0, 0, 0, 0, 0];
        v.extend_from_slice(&u64::MAX.wrapping_sub(1).to_le_bytes());
        v.extend_from_slice(&[2, 0, 0, 0, b'A', 0, 2, 0, 0, 0, b'B', 0, 0, 0, 0, 0]);
        assert_eq!(decode(&v), Ok(SqlValue::Text("AB".into())));
        assert_eq!(decode(&[0xA7, 10, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]), Ok(SqlValue::Null));
    }

    #[test]
    fn dates() {
        // 2024-01-31 = day 738915 since 0001-01-01; DATETIME2(7) at 00:00:01.
        let days = 738_915u32.to_le_bytes();
        let mut v = vec![0x2A, 7, 8];
        v.extend_from_slice(&10_000_000u64.to_le_bytes()[..5]);
        v.extend_from_slice(&days[..3]);
        let SqlValue::DateTime(dt) = decode(&v).unwrap() else { panic!() };
        assert_eq!(dt.to_string(), "2024-01-31 0:00:01.0");
        let mut d = vec![0x28, 3];
        d.extend_from_slice(&days[..3]);
        assert!(matches!(decode(&d), Ok(SqlValue::DateTime(_))));
        let dt4 = decode(&[0x3D, 1, 0, 0, 0, 44, 1, 0, 0]).unwrap();
        assert_eq!(dt4, plus(day_zero(1900).unwrap(), 1, 1_000_000_000).unwrap());
    }

    #[test]
    fn unknown_and_truncated() {
        assert_eq!(decode(&[0x24, 16]), Err(ParamFault::UnknownType(0x24)));
        assert!(matches!(decode(&[0x26, 4, 4, 1]), Err(ParamFault::Bad(_))));
        assert!(matches!(decode(&[0x6C, 17, 38, 40]), Err(ParamFault::Bad(_))));
    }
}
