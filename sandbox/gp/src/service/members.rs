//! Reading members of a WSDL object: text with trailing blanks trimmed and empty as absent,
//! .NET's unset value-typed members (DateTime.MinValue) as absent, money in a currency.

use crate::date::{Date, parse_datetime};
use crate::model::Currency;
use crate::money::{AmountError, parse_minor};
use crate::node::Node;
use crate::rules::GpError;

pub(super) fn text(node: &Node, path: &[&str]) -> Option<String> {
    node.str_at(path).map(|s| s.trim_end().to_string()).filter(|s| !s.is_empty())
}

pub(super) fn flag(node: &Node, name: &str) -> Option<bool> {
    node.str_at(&[name]).map(|v| matches!(v, "true" | "1"))
}

/// A date member; .NET's DateTime.MinValue (an unset value-typed member) counts as absent.
pub(super) fn date(node: &Node, name: &str) -> Option<Date> {
    node.str_at(&[name]).and_then(parse_datetime).filter(|d| !d.is_dotnet_min())
}

/// A `MoneyAmount` member in the document's currency, as minor units; `None` (with the refusal
/// in `errors`) if it is absent, nil, negative, too precise or in another currency.
pub(super) fn amount(
    errors: &mut Vec<GpError>,
    node: &Node,
    property: &'static str,
    currency: &Currency,
) -> Option<i64> {
    let money = node.get(property).filter(|m| !m.is_nil())?;
    if let Some(cur) = money.str_at(&["Currency"]).filter(|c| !c.is_empty())
        && !cur.eq_ignore_ascii_case(&currency.iso_code)
    {
        errors.push(GpError::AmountCurrency { property, found: cur.to_string(), expected: currency.iso_code.clone() });
    }
    let value = money.str_at(&["Value"])?;
    match parse_minor(value, currency.decimal_digits) {
        Ok(v) if v < 0 => {
            errors.push(GpError::Negative { property });
            None
        }
        Ok(v) => Some(v),
        Err(AmountError::TooPrecise { digits }) => {
            errors.push(GpError::TooPrecise {
                property,
                value: value.to_string(),
                currency: currency.iso_code.clone(),
                digits,
            });
            None
        }
        Err(_) => {
            errors.push(GpError::BadAmount { property, value: value.to_string() });
            None
        }
    }
}
