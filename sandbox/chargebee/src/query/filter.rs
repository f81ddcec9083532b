//! A parsed filter condition and whether a record's field value satisfies it.

use super::FieldValue;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Operand {
    Str(String),
    Int(i64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cond {
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
pub(super) struct Filter {
    pub field: &'static str,
    pub cond: Cond,
}

fn operand_eq(a: &Operand, v: &FieldValue<'_>) -> bool {
    match (a, v) {
        (Operand::Str(a), FieldValue::Str(b)) => a == b,
        (Operand::Int(a), FieldValue::Int(b)) => a == b,
        (Operand::Bool(a), FieldValue::Bool(b)) => a == b,
        _ => false,
    }
}

/// An absent attribute satisfies only "is not present", `is_not` and `not_in`.
pub(super) fn cond_holds(cond: &Cond, value: Option<FieldValue<'_>>) -> bool {
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
