//! Reading and writing [`Node`]s against the WSDL schema, as SOAP XML and as SBA JSON.
//!
//! Reading checks what GP's contract says: member names, their namespaces and order, required
//! members, simple-value lexical forms, `xsi:type` derivation. Real GP (ASMX XmlSerializer)
//! silently drops members it does not recognise — a misspelt or misplaced element simply never
//! reaches GP — so by default the emulator refuses them loudly instead (`strict`); with
//! `strict = false` it drops them the way GP does.

mod json;
mod xml;

use crate::schema::{Builtin, Field, Resolved};

pub use json::JsonCodec;
pub use xml::{PREFIXES, XmlReader, XmlWriter};

/// A request that does not follow the contract. `path` names the member (`customer/Key/Id`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct Violation {
    pub path: String,
    pub message: String,
}

fn violation(path: &str, message: impl Into<String>) -> Violation {
    Violation { path: path.to_string(), message: message.into() }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_string() } else { format!("{path}/{name}") }
}

/// Checks a simple value's lexical form.
fn check_simple(path: &str, value: &str, resolved: &Resolved<'_>) -> Result<(), Violation> {
    let v = value.trim();
    let ok = match resolved {
        Resolved::Builtin(Builtin::Int | Builtin::Long | Builtin::Short) => v.parse::<i64>().is_ok(),
        Resolved::Builtin(Builtin::Decimal) => is_decimal(v),
        Resolved::Builtin(Builtin::Boolean) => matches!(v, "true" | "false" | "1" | "0"),
        Resolved::Builtin(Builtin::DateTime) => crate::date::parse_datetime(v).is_some(),
        Resolved::Enumeration(values) => values.iter().any(|e| e == v),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let expected = match resolved {
        Resolved::Enumeration(values) => format!("one of {values:?}"),
        Resolved::Builtin(b) => format!("{b:?}"),
        Resolved::Complex(_) => "a complex value".to_string(),
    };
    Err(violation(path, format!("{value:?} is not {expected}")))
}

fn is_decimal(v: &str) -> bool {
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    let mut parts = digits.splitn(2, '.');
    let int = parts.next().unwrap_or_default();
    let frac = parts.next().unwrap_or_default();
    !(int.is_empty() && frac.is_empty())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// A member that must be present. Missing nillable members are read as nil — exactly what
/// XmlSerializer does, and harmless — but a missing non-nillable value member (a
/// MoneyAmount's Value, a CompanyKey's Id) would silently become 0 in GP, so it is refused.
fn required(f: &Field) -> bool {
    f.min > 0 && !f.nillable
}
