//! List parameters as the official SDKs put them on the wire, and the filtering, sorting and
//! keyset paging Chargebee applies.
//!
//! `attr[op]=value` filters; `in`/`not_in`/`between` values arrive as JSON (Node:
//! `["a","b"]`, `[1700000000,1700000100]`), JSON with quoted numbers (Go) or Python repr
//! (`['a', 'b']`); all three parse. `limit` 1–100 (default 10); `offset` is the opaque
//! `next_offset` of the previous page: `["<sort key>","<seq>"]` text like Chargebee's own,
//! so pages stay exact while records change (an updated record moves behind the cursor
//! instead of shifting every later page).

use crate::error::ApiError;
use crate::model::{CreditNote, Customer, Event, Invoice, Transaction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Str,
    Enum,
    Number,
    Timestamp,
    Bool,
}

impl FieldType {
    fn ops(self) -> &'static [&'static str] {
        match self {
            FieldType::Str => &["is", "is_not", "starts_with", "is_present", "in", "not_in"],
            FieldType::Enum => &["is", "is_not", "is_present", "in", "not_in"],
            FieldType::Number => &["is", "is_not", "lt", "lte", "gt", "gte", "between", "is_present"],
            FieldType::Timestamp => &["after", "before", "on", "between", "is_present"],
            FieldType::Bool => &["is", "is_present"],
        }
    }
}

/// A field's value on one record; `None` from [`Listed::field`] = attribute absent.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    Str(&'a str),
    Int(i64),
    Bool(bool),
}

pub struct ResourceSpec {
    /// `invoice` — the key of each list item and of a retrieve response.
    pub key: &'static str,
    pub filters: &'static [(&'static str, FieldType)],
    pub sorts: &'static [&'static str],
    pub include_deleted: bool,
}

/// A resource that can be listed.
pub trait Listed: serde::Serialize {
    fn spec() -> &'static ResourceSpec;
    fn field(&self, name: &str) -> Option<FieldValue<'_>>;
    fn id(&self) -> &str;
    fn is_deleted(&self) -> bool;
}

use FieldType::*;

static CUSTOMER: ResourceSpec = ResourceSpec {
    key: "customer",
    filters: &[
        ("id", Str),
        ("first_name", Str),
        ("last_name", Str),
        ("email", Str),
        ("company", Str),
        ("auto_collection", Enum),
        ("created_at", Timestamp),
        ("updated_at", Timestamp),
    ],
    sorts: &["created_at", "updated_at"],
    include_deleted: true,
};

static INVOICE: ResourceSpec = ResourceSpec {
    key: "invoice",
    filters: &[
        ("id", Str),
        ("customer_id", Str),
        ("status", Enum),
        ("price_type", Enum),
        ("date", Timestamp),
        ("paid_at", Timestamp),
        ("updated_at", Timestamp),
        ("voided_at", Timestamp),
        ("total", Number),
        ("amount_paid", Number),
        ("amount_adjusted", Number),
        ("credits_applied", Number),
        ("amount_due", Number),
        ("recurring", Bool),
    ],
    sorts: &["date", "updated_at"],
    include_deleted: true,
};

static TRANSACTION: ResourceSpec = ResourceSpec {
    key: "transaction",
    filters: &[
        ("id", Str),
        ("customer_id", Str),
        ("reference_number", Str),
        ("id_at_gateway", Str),
        ("payment_method", Enum),
        ("gateway", Enum),
        ("type", Enum),
        ("status", Enum),
        ("date", Timestamp),
        ("updated_at", Timestamp),
        ("amount", Number),
    ],
    sorts: &["date", "updated_at"],
    include_deleted: true,
};

static CREDIT_NOTE: ResourceSpec = ResourceSpec {
    key: "credit_note",
    filters: &[
        ("id", Str),
        ("customer_id", Str),
        ("reference_invoice_id", Str),
        ("type", Enum),
        ("reason_code", Enum),
        ("status", Enum),
        ("price_type", Enum),
        ("date", Timestamp),
        ("updated_at", Timestamp),
        ("total", Number),
        ("amount_allocated", Number),
        ("amount_refunded", Number),
        ("amount_available", Number),
    ],
    // Chargebee sorts credit notes by date only (every SDK's schema agrees).
    sorts: &["date"],
    include_deleted: true,
};

static EVENT: ResourceSpec = ResourceSpec {
    key: "event",
    filters: &[
        ("id", Str),
        ("webhook_status", Enum),
        ("event_type", Enum),
        ("source", Enum),
        ("occurred_at", Timestamp),
    ],
    sorts: &["occurred_at"],
    include_deleted: false,
};

fn s(v: &Option<String>) -> Option<FieldValue<'_>> {
    v.as_deref().map(FieldValue::Str)
}

impl Listed for Customer {
    fn spec() -> &'static ResourceSpec {
        &CUSTOMER
    }
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "id" => FieldValue::Str(&self.id),
            "first_name" => return s(&self.first_name),
            "last_name" => return s(&self.last_name),
            "email" => return s(&self.email),
            "company" => return s(&self.company),
            "auto_collection" => FieldValue::Str(&self.auto_collection),
            "created_at" => FieldValue::Int(self.created_at),
            "updated_at" => FieldValue::Int(self.updated_at),
            _ => return None,
        })
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn is_deleted(&self) -> bool {
        self.deleted
    }
}

impl Listed for Invoice {
    fn spec() -> &'static ResourceSpec {
        &INVOICE
    }
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "id" => FieldValue::Str(&self.id),
            "customer_id" => FieldValue::Str(&self.customer_id),
            "status" => FieldValue::Str(&self.status),
            "price_type" => FieldValue::Str(&self.price_type),
            "date" => FieldValue::Int(self.date),
            "paid_at" => return self.paid_at.map(FieldValue::Int),
            "updated_at" => FieldValue::Int(self.updated_at),
            "voided_at" => return self.voided_at.map(FieldValue::Int),
            "total" => FieldValue::Int(self.total),
            "amount_paid" => FieldValue::Int(self.amount_paid),
            "amount_adjusted" => FieldValue::Int(self.amount_adjusted),
            "credits_applied" => FieldValue::Int(self.credits_applied),
            "amount_due" => FieldValue::Int(self.amount_due),
            "recurring" => FieldValue::Bool(self.recurring),
            _ => return None,
        })
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn is_deleted(&self) -> bool {
        self.deleted
    }
}

impl Listed for Transaction {
    fn spec() -> &'static ResourceSpec {
        &TRANSACTION
    }
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "id" => FieldValue::Str(&self.id),
            "customer_id" => FieldValue::Str(&self.customer_id),
            "reference_number" => return s(&self.reference_number),
            "id_at_gateway" => return s(&self.id_at_gateway),
            "payment_method" => FieldValue::Str(&self.payment_method),
            "gateway" => FieldValue::Str(&self.gateway),
            "type" => FieldValue::Str(&self.kind),
            "status" => FieldValue::Str(&self.status),
            "date" => FieldValue::Int(self.date),
            "updated_at" => FieldValue::Int(self.updated_at),
            "amount" => FieldValue::Int(self.amount),
            _ => return None,
        })
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn is_deleted(&self) -> bool {
        self.deleted
    }
}

impl Listed for CreditNote {
    fn spec() -> &'static ResourceSpec {
        &CREDIT_NOTE
    }
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "id" => FieldValue::Str(&self.id),
            "customer_id" => FieldValue::Str(&self.customer_id),
            "reference_invoice_id" => FieldValue::Str(&self.reference_invoice_id),
            "type" => FieldValue::Str(&self.kind),
            "reason_code" => FieldValue::Str(&self.reason_code),
            "status" => FieldValue::Str(&self.status),
            "price_type" => FieldValue::Str(&self.price_type),
            "date" => FieldValue::Int(self.date),
            "updated_at" => FieldValue::Int(self.updated_at),
            "total" => FieldValue::Int(self.total),
            "amount_allocated" => FieldValue::Int(self.amount_allocated),
            "amount_refunded" => FieldValue::Int(self.amount_refunded),
            "amount_available" => FieldValue::Int(self.amount_available),
            _ => return None,
        })
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn is_deleted(&self) -> bool {
        self.deleted
    }
}

impl Listed for Event {
    fn spec() -> &'static ResourceSpec {
        &EVENT
    }
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "id" => FieldValue::Str(&self.id),
            "webhook_status" => FieldValue::Str(&self.webhook_status),
            "event_type" => FieldValue::Str(&self.event_type),
            "source" => FieldValue::Str(&self.source),
            "occurred_at" => FieldValue::Int(self.occurred_at),
            _ => return None,
        })
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn is_deleted(&self) -> bool {
        false
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Str(String),
    Int(i64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Is(Operand),
    IsNot(Operand),
    StartsWith(String),
    In(Vec<Operand>),
    NotIn(Vec<Operand>),
    Lt(i64),
    Lte(i64),
    Gt(i64),
    Gte(i64),
    /// Inclusive at both ends (INFERRED).
    Between(i64, i64),
    Present(bool),
}

#[derive(Debug, Clone)]
struct Filter {
    field: &'static str,
    cond: Cond,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Asc,
    Desc,
}

/// A parsed list request.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub limit: usize,
    cursor: Option<(i64, usize)>,
    sort: Option<(&'static str, Direction)>,
    include_deleted: bool,
    filters: Vec<Filter>,
}

/// A page of records (by index) and the offset of the next one, if any.
pub struct Page {
    pub indices: Vec<usize>,
    pub next_offset: Option<String>,
}

/// Splits `name[op]` (brackets already percent-decoded).
fn split_key(key: &str) -> Option<(&str, &str)> {
    let open = key.find('[')?;
    let rest = key.get(open + 1..)?.strip_suffix(']')?;
    if rest.contains('[') || rest.contains(']') {
        return None;
    }
    Some((&key[..open], rest))
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

impl ListQuery {
    /// `strict`: refuse parameters the resource does not support instead of ignoring them.
    pub fn parse(spec: &ResourceSpec, pairs: &[(String, String)], strict: bool) -> Result<Self, ApiError> {
        let mut q = ListQuery { limit: 10, cursor: None, sort: None, include_deleted: false, filters: Vec::new() };
        for (key, value) in pairs {
            let key = key.as_str();
            match key {
                "limit" => {
                    let n = value.trim().parse::<i64>().map_err(|_| {
                        ApiError::bad_param("limit", "invalid value, expected an integer from 1 to 100")
                    })?;
                    if !(1..=100).contains(&n) {
                        return Err(ApiError::bad_param(
                            "limit",
                            if n < 1 { "cannot be less than 1" } else { "cannot be more than 100" },
                        ));
                    }
                    q.limit = n as usize;
                }
                "offset" => {
                    if !value.is_empty() {
                        q.cursor = Some(parse_offset(value)?);
                    }
                }
                "include_deleted" if spec.include_deleted => {
                    q.include_deleted = parse_bool(key, value)?;
                }
                "sort_by[asc]" | "sort_by[desc]" => {
                    let dir = if key.ends_with("[asc]") { Direction::Asc } else { Direction::Desc };
                    let Some(field) = spec.sorts.iter().find(|f| **f == value.as_str()) else {
                        return Err(ApiError::bad_param(
                            key,
                            &format!(
                                "{value:?} is not a sortable attribute of {} (supported: {})",
                                spec.key,
                                spec.sorts.join(", ")
                            ),
                        ));
                    };
                    q.sort = Some((field, dir));
                }
                _ => {
                    let Some((name, op)) = split_key(key) else {
                        if strict {
                            return Err(ApiError::bad_param(key, "is not a supported parameter"));
                        }
                        continue;
                    };
                    let Some(&(field, ty)) = spec.filters.iter().find(|(f, _)| *f == name) else {
                        if strict {
                            return Err(ApiError::bad_param(
                                key,
                                &format!("{name} is not a filter of {} lists", spec.key),
                            ));
                        }
                        continue;
                    };
                    if !ty.ops().contains(&op) {
                        return Err(ApiError::bad_param(
                            key,
                            &format!("operator {op} is not supported for {name} (supported: {})", ty.ops().join(", ")),
                        ));
                    }
                    let cond = match op {
                        "is" => Cond::Is(operand(key, ty, value)?),
                        "is_not" => Cond::IsNot(operand(key, ty, value)?),
                        "starts_with" => Cond::StartsWith(value.clone()),
                        "is_present" => Cond::Present(parse_bool(key, value)?),
                        "in" | "not_in" => {
                            let items = parse_list(key, value)?
                                .iter()
                                .map(|i| operand(key, ty, i))
                                .collect::<Result<Vec<_>, _>>()?;
                            if op == "in" { Cond::In(items) } else { Cond::NotIn(items) }
                        }
                        "lt" => Cond::Lt(parse_int(key, value)?),
                        "lte" => Cond::Lte(parse_int(key, value)?),
                        "gt" | "after" => Cond::Gt(parse_int(key, value)?),
                        "gte" => Cond::Gte(parse_int(key, value)?),
                        "before" => Cond::Lt(parse_int(key, value)?),
                        // INFERRED: `on` = the UTC day containing the given timestamp.
                        "on" => {
                            let day = parse_int(key, value)?.div_euclid(86_400) * 86_400;
                            Cond::Between(day, day + 86_399)
                        }
                        "between" => between(key, value)?,
                        _ => unreachable_op(key)?,
                    };
                    q.filters.push(Filter { field, cond });
                }
            }
        }
        Ok(q)
    }

    fn matches<T: Listed>(&self, r: &T) -> bool {
        if r.is_deleted() && !self.include_deleted {
            return false;
        }
        self.filters.iter().all(|f| cond_holds(&f.cond, r.field(f.field)))
    }

    fn sort_key<T: Listed>(&self, r: &T, seq: usize) -> i64 {
        match self.sort {
            Some((field, _)) => match r.field(field) {
                Some(FieldValue::Int(v)) => v,
                _ => 0,
            },
            None => seq as i64,
        }
    }

    /// Filters, orders and cuts one page out of `records` (in creation order).
    pub fn page<T: Listed>(&self, records: &[T]) -> Page {
        let desc = matches!(self.sort, Some((_, Direction::Desc)));
        let mut keyed: Vec<(i64, usize)> = records
            .iter()
            .enumerate()
            .filter(|(_, r)| self.matches(*r))
            .map(|(i, r)| (self.sort_key(r, i), i))
            .collect();
        keyed.sort_unstable();
        if desc {
            keyed.reverse();
        }
        let start = match self.cursor {
            None => 0,
            Some(c) => keyed.partition_point(|k| if desc { *k >= c } else { *k <= c }),
        };
        let rest = &keyed[start.min(keyed.len())..];
        let take = rest.len().min(self.limit);
        let page = &rest[..take];
        let next_offset = (rest.len() > take).then(|| page.last().map(|(k, i)| format!("[\"{k}\",\"{i}\"]"))).flatten();
        Page { indices: page.iter().map(|(_, i)| *i).collect(), next_offset }
    }
}

fn unreachable_op(key: &str) -> Result<Cond, ApiError> {
    Err(ApiError::bad_param(key, "unsupported operator"))
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

fn operand_eq(a: &Operand, v: &FieldValue<'_>) -> bool {
    match (a, v) {
        (Operand::Str(a), FieldValue::Str(b)) => a == b,
        (Operand::Int(a), FieldValue::Int(b)) => a == b,
        (Operand::Bool(a), FieldValue::Bool(b)) => a == b,
        _ => false,
    }
}

fn cond_holds(cond: &Cond, value: Option<FieldValue<'_>>) -> bool {
    let Some(v) = value else {
        return matches!(cond, Cond::Present(false) | Cond::IsNot(_) | Cond::NotIn(_));
    };
    let int = match v {
        FieldValue::Int(i) => Some(i),
        _ => None,
    };
    match cond {
        Cond::Is(a) => operand_eq(a, &v),
        Cond::IsNot(a) => !operand_eq(a, &v),
        Cond::StartsWith(p) => matches!(v, FieldValue::Str(s) if s.starts_with(p.as_str())),
        Cond::In(list) => list.iter().any(|a| operand_eq(a, &v)),
        Cond::NotIn(list) => !list.iter().any(|a| operand_eq(a, &v)),
        Cond::Lt(n) => int.is_some_and(|i| i < *n),
        Cond::Lte(n) => int.is_some_and(|i| i <= *n),
        Cond::Gt(n) => int.is_some_and(|i| i > *n),
        Cond::Gte(n) => int.is_some_and(|i| i >= *n),
        Cond::Between(a, b) => int.is_some_and(|i| *a <= i && i <= *b),
        Cond::Present(p) => *p,
    }
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
    fn offsets_round_trip_and_reject_garbage() {
        assert_eq!(parse_offset(r#"["1700000000","42"]"#).unwrap(), (1_700_000_000, 42));
        assert!(parse_offset("42").is_err());
        assert!(parse_offset(r#"["x","1"]"#).is_err());
    }
}
