//! List criteria (`…Restriction` members) for the restriction kinds [`crate::objects`] does not
//! cover: booleans and integers.

use crate::node::Node;

pub(super) fn bool_restriction_matches(r: Option<&Node>, value: bool) -> bool {
    let Some(r) = r.filter(|r| !r.is_nil()) else {
        return true;
    };
    let b = |name| r.str_at(&[name]).map(|v| matches!(v, "true" | "1"));
    b("EqualValue").is_none_or(|x| x == value) && b("NotEqualValue").is_none_or(|x| x != value)
}

pub(super) fn int_restriction_matches(r: Option<&Node>, value: i32) -> bool {
    let Some(r) = r.filter(|r| !r.is_nil()) else {
        return true;
    };
    let n = |name| r.str_at(&[name]).and_then(|v| v.trim().parse::<i32>().ok());
    n("EqualValue").is_none_or(|x| x == value)
        && n("NotEqualValue").is_none_or(|x| x != value)
        && n("From").is_none_or(|x| value >= x)
        && n("To").is_none_or(|x| value <= x)
        && n("GreaterThan").is_none_or(|x| value > x)
        && n("LessThan").is_none_or(|x| value < x)
}
