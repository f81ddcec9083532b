//! From a query string to a [`ListQuery`]: each parameter a list accepts is parsed by a
//! small named function; anything else is refused (with `strict_params`) in Chargebee's 400
//! shape, naming the parameter.

use super::filter::{Cond, Filter, Operand};
use super::{Direction, FieldType, ListQuery, ResourceSpec};
use crate::error::ApiError;

/// Splits `name[op]` or `name[sub][op]` (brackets already percent-decoded): the last bracket
/// group is the operator, the rest the field (`relationship[parent_id]`, `einvoice[status]`).
fn split_key(key: &str) -> Option<(&str, &str)> {
    let inner = key.strip_suffix(']')?;
    let open = inner.rfind('[')?;
    let (name, op) = (&inner[..open], &inner[open + 1..]);
    if name.is_empty() || op.is_empty() || op.contains(']') || name.starts_with('[') {
        return None;
    }
    Some((name, op))
}

/// `["a","b"]`, `['a', 'b']`, `[1,2]`, `["1","2"]` → elements without quotes.
fn parse_list(param: &str, raw: &str) -> Result<Vec<String>, ApiError> {
    let inner = raw
        .trim()
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .ok_or_else(|| ApiError::bad_param(param, "invalid value, expected a list like [\"a\",\"b\"]"))?;
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for part in inner.split(',') {
        let p = part.trim();
        let unquoted = p
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .or_else(|| p.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
            .unwrap_or(p);
        out.push(unquoted.to_string());
    }
    Ok(out)
}

fn parse_int(param: &str, raw: &str) -> Result<i64, ApiError> {
    raw.trim()
        .parse::<i64>()
        .map_err(|_| ApiError::bad_param(param, &format!("invalid value {raw:?}, expected an integer")))
}

fn parse_bool(param: &str, raw: &str) -> Result<bool, ApiError> {
    match raw.trim() {
        "true" | "True" | "TRUE" => Ok(true),
        "false" | "False" | "FALSE" => Ok(false),
        _ => Err(ApiError::bad_param(param, &format!("invalid value {raw:?}, expected true or false"))),
    }
}

fn operand(param: &str, ty: FieldType, raw: &str) -> Result<Operand, ApiError> {
    Ok(match ty {
        FieldType::Str | FieldType::Enum => Operand::Str(raw.to_string()),
        FieldType::Number | FieldType::Timestamp => Operand::Int(parse_int(param, raw)?),
        FieldType::Bool => Operand::Bool(parse_bool(param, raw)?),
    })
}

fn between(param: &str, raw: &str) -> Result<Cond, ApiError> {
    let items = parse_list(param, raw)?;
    let [a, b] = items.as_slice() else {
        return Err(ApiError::bad_param(param, "invalid value, expected [from,to]"));
    };
    let (a, b) = (parse_int(param, a)?, parse_int(param, b)?);
    if a > b {
        return Err(ApiError::bad_param(param, "the first value must not exceed the second"));
    }
    Ok(Cond::Between(a, b))
}

fn parse_limit(value: &str) -> Result<usize, ApiError> {
    let n = value
        .trim()
        .parse::<i64>()
        .map_err(|_| ApiError::bad_param("limit", "invalid value, expected an integer from 1 to 100"))?;
    if !(1..=100).contains(&n) {
        return Err(ApiError::bad_param(
            "limit",
            if n < 1 { "cannot be less than 1" } else { "cannot be more than 100" },
        ));
    }
    Ok(n as usize)
}

/// `sort_by[asc|desc]=<field>`, only the fields the resource sorts by.
fn parse_sort(spec: &ResourceSpec, key: &str, value: &str) -> Result<(&'static str, Direction), ApiError> {
    let dir = if key.ends_with("[asc]") { Direction::Asc } else { Direction::Desc };
    let Some(field) = spec.sorts.iter().find(|f| **f == value) else {
        return Err(ApiError::bad_param(
            key,
            &format!("{value:?} is not a sortable attribute of {} (supported: {})", spec.key, spec.sorts.join(", ")),
        ));
    };
    Ok((field, dir))
}

/// The condition of `key` = `field[op]` on a field of type `ty`; `op` already checked.
fn condition(key: &str, op: &str, ty: FieldType, value: &str) -> Result<Cond, ApiError> {
    Ok(match op {
        "is" => Cond::Is(operand(key, ty, value)?),
        "is_not" => Cond::IsNot(operand(key, ty, value)?),
        "starts_with" => Cond::StartsWith(value.to_string()),
        "is_present" => Cond::Present(parse_bool(key, value)?),
        "in" | "not_in" => {
            let items = parse_list(key, value)?.iter().map(|i| operand(key, ty, i)).collect::<Result<Vec<_>, _>>()?;
            if op == "in" { Cond::In(items) } else { Cond::NotIn(items) }
        }
        "lt" | "before" => Cond::Lt(parse_int(key, value)?),
        "lte" => Cond::Lte(parse_int(key, value)?),
        "gt" | "after" => Cond::Gt(parse_int(key, value)?),
        "gte" => Cond::Gte(parse_int(key, value)?),
        // INFERRED: `on` = the UTC day containing the given timestamp.
        "on" => {
            let day = parse_int(key, value)?.div_euclid(86_400) * 86_400;
            Cond::Between(day, day + 86_399)
        }
        "between" => between(key, value)?,
        _ => return Err(ApiError::bad_param(key, "unsupported operator")),
    })
}

/// The field of `field[op]` if the resource filters on it, with its type.
fn filter_field(filters: &'static [(&'static str, FieldType)], name: &str) -> Option<(&'static str, FieldType)> {
    filters.iter().find(|(f, _)| *f == name).copied()
}

/// A refusal for a parameter the resource does not take, in Chargebee's 400 shape.
fn unsupported(key: &str) -> ApiError {
    ApiError::bad_param(key, "is not a supported parameter")
}

/// `field[op]=value` → a filter; `Ok(None)`: not a filter of this resource and `strict` is off.
fn parse_filter(spec: &ResourceSpec, key: &str, value: &str, strict: bool) -> Result<Option<Filter>, ApiError> {
    let Some((name, op)) = split_key(key) else {
        return if strict { Err(unsupported(key)) } else { Ok(None) };
    };
    let Some((field, ty)) = filter_field(spec.filters, name) else {
        if strict {
            return Err(ApiError::bad_param(key, &format!("{name} is not a filter of {} lists", spec.key)));
        }
        return Ok(None);
    };
    check_operator(key, name, op, ty)?;
    Ok(Some(Filter { field, cond: condition(key, op, ty, value)? }))
}

fn check_operator(key: &str, name: &str, op: &str, ty: FieldType) -> Result<(), ApiError> {
    if ty.ops().contains(&op) {
        return Ok(());
    }
    Err(ApiError::bad_param(
        key,
        &format!("operator {op} is not supported for {name} (supported: {})", ty.ops().join(", ")),
    ))
}

/// A deprecated plain parameter that stands for one filter (`start_time` → occurred_at ≥).
fn parse_alias(spec: &ResourceSpec, key: &str, value: &str) -> Option<Result<Filter, ApiError>> {
    let &(_, name, op) = spec.aliases.iter().find(|(alias, _, _)| *alias == key)?;
    let (field, ty) = filter_field(spec.filters, name)?;
    Some(condition(key, op, ty, value).map(|cond| Filter { field, cond }))
}

impl ListQuery {
    /// `strict`: refuse parameters the resource does not support instead of ignoring them.
    pub fn parse(spec: &ResourceSpec, pairs: &[(String, String)], strict: bool) -> Result<Self, ApiError> {
        let mut q = ListQuery { limit: 10, cursor: None, sort: None, include_deleted: false, filters: Vec::new() };
        for (key, value) in pairs {
            let key = key.as_str();
            match key {
                "limit" => q.limit = parse_limit(value)?,
                "offset" if !value.is_empty() => q.cursor = Some(parse_offset(value)?),
                "offset" => {}
                "include_deleted" if spec.include_deleted => q.include_deleted = parse_bool(key, value)?,
                "sort_by[asc]" | "sort_by[desc]" => q.sort = Some(parse_sort(spec, key, value)?),
                _ => {
                    let filter = match parse_alias(spec, key, value) {
                        Some(f) => Some(f?),
                        None => parse_filter(spec, key, value, strict)?,
                    };
                    q.filters.extend(filter);
                }
            }
        }
        Ok(q)
    }
}

/// Checks a retrieve's parameters: invoices and credit notes take `line_items_limit` (a
/// positive integer), `line_items_offset` and `line_item[<field>][<op>]` filters; the other
/// resources none. With `strict` off anything else is ignored.
///
/// The sandbox never pages or filters line items (its invoices are short and every line is
/// the invoice's customer's), so the accepted values change nothing in the answer.
pub fn check_retrieve(spec: &ResourceSpec, pairs: &[(String, String)], strict: bool) -> Result<(), ApiError> {
    for (key, value) in pairs {
        let key = key.as_str();
        match key {
            "line_items_limit" if spec.retrieve_params.contains(&key) => {
                // INFERRED: only the type and a lower bound are checked; no maximum is published.
                if parse_int(key, value)? < 1 {
                    return Err(ApiError::bad_param(key, "cannot be less than 1"));
                }
            }
            _ if spec.retrieve_params.contains(&key) => {}
            _ => check_line_item_filter(spec, key, value, strict)?,
        }
    }
    Ok(())
}

/// `line_item[customer_id][is]=…` on a retrieve: a known field and operator with a valid value.
fn check_line_item_filter(spec: &ResourceSpec, key: &str, value: &str, strict: bool) -> Result<(), ApiError> {
    let known = key
        .strip_prefix("line_item[")
        .and_then(split_key_rest)
        .and_then(|(name, op)| filter_field(spec.line_item_filters, name).map(|(_, ty)| (name, op, ty)));
    match known {
        Some((name, op, ty)) => {
            check_operator(key, name, op, ty)?;
            condition(key, op, ty, value).map(|_| ())
        }
        None if strict => Err(unsupported(key)),
        None => Ok(()),
    }
}

/// `customer_id][is]` (what follows `line_item[`) → (`customer_id`, `is`).
fn split_key_rest(rest: &str) -> Option<(&str, &str)> {
    let (name, op) = rest.split_once("][")?;
    let op = op.strip_suffix(']')?;
    (!name.is_empty() && !op.is_empty() && !op.contains('[') && !op.contains(']')).then_some((name, op))
}

fn parse_offset(raw: &str) -> Result<(i64, usize), ApiError> {
    let bad = || ApiError::bad_param("offset", "invalid value; pass back next_offset unchanged");
    let v: serde_json::Value = serde_json::from_str(raw).map_err(|_| bad())?;
    let arr = v.as_array().ok_or_else(bad)?;
    let [k, i] = arr.as_slice() else {
        return Err(bad());
    };
    let k = k.as_str().and_then(|s| s.parse::<i64>().ok()).ok_or_else(bad)?;
    let i = i.as_str().and_then(|s| s.parse::<usize>().ok()).ok_or_else(bad)?;
    Ok((k, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_values_in_all_three_sdk_encodings() {
        let node = parse_list("p", r#"["customer_created","invoice_generated"]"#).unwrap();
        let python = parse_list("p", "['customer_created', 'invoice_generated']").unwrap();
        let go = parse_list("p", r#"["1700000000","1700000100"]"#).unwrap();
        assert_eq!(node, python);
        assert_eq!(go, vec!["1700000000", "1700000100"]);
        assert_eq!(parse_list("p", "[1700000000,1700000100]").unwrap(), go);
        assert!(parse_list("p", "customer_created").is_err());
    }

    #[test]
    fn keys_split_into_field_and_operator() {
        assert_eq!(split_key("updated_at[after]"), Some(("updated_at", "after")));
        assert_eq!(split_key("relationship[parent_id][is]"), Some(("relationship[parent_id]", "is")));
        assert_eq!(split_key("include_deleted"), None);
        assert_eq!(split_key("[is]"), None);
        assert_eq!(split_key_rest("customer_id][is]"), Some(("customer_id", "is")));
        assert_eq!(split_key_rest("customer_id]"), None);
    }

    #[test]
    fn offsets_round_trip_and_reject_garbage() {
        assert_eq!(parse_offset(r#"["1700000000","42"]"#).unwrap(), (1_700_000_000, 42));
        assert!(parse_offset("42").is_err());
        assert!(parse_offset(r#"["x","1"]"#).is_err());
    }
}
