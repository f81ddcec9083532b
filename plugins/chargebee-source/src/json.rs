//! Typed reads of Chargebee JSON with errors that name the object, the field and what was wrong.
//!
//! Chargebee amounts are integers in minor units and timestamps are integer unix seconds; a float
//! (or a string) in one of those fields means the response is not what we think it is, so it is
//! refused rather than rounded.

use serde_json::{Map, Value};

/// A JSON object with the name it is reported under ("invoice inv_1", "line item li_2 of invoice inv_1").
pub struct Obj<'a> {
    pub what: String,
    pub map: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    pub fn new(what: impl Into<String>, value: &'a Value) -> Result<Obj<'a>, String> {
        let what = what.into();
        let map = value.as_object().ok_or_else(|| format!("{what} is not a JSON object"))?;
        Ok(Obj { what, map })
    }

    /// Present and not JSON null.
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    pub fn str(&self, field: &str) -> Result<String, String> {
        self.opt_str(field)?.ok_or_else(|| format!("{}: field {field} is missing", self.what))
    }

    /// A string field; absent, null and "" all read as none (Chargebee omits empty optionals).
    pub fn opt_str(&self, field: &str) -> Result<Option<String>, String> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("{}: field {field} should be a string, found {other}", self.what)),
        }
    }

    pub fn bool(&self, field: &str) -> Result<bool, String> {
        match self.get(field) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(format!("{}: field {field} should be true/false, found {other}", self.what)),
        }
    }

    /// An integer field, refusing floats: `12.5` or `12.0` in an amount is not minor units.
    pub fn opt_int(&self, field: &str) -> Result<Option<i64>, String> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) => Ok(Some(i)),
                None => Err(format!(
                    "{}: field {field} is {n}, not an integer; Chargebee amounts are integers in minor units and timestamps integer unix seconds (refusing to round)",
                    self.what
                )),
            },
            Some(other) => Err(format!("{}: field {field} should be an integer, found {other}", self.what)),
        }
    }

    /// A rate (`exchange_rate`, `tax_rate`): a JSON number as the shortest decimal text that reads
    /// back as the same number (`1.0834`, not `1.08339999…`; `1.0` → `1`), never an exponent. A
    /// string holding a plain decimal is taken as it is (tap-chargebee types some rates as text).
    pub fn opt_rate(&self, field: &str) -> Result<Option<String>, String> {
        let text = match self.get(field) {
            None => return Ok(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(f) if f.is_finite() && f >= 0.0 => format!("{f}"),
                _ => return Err(format!("{}: field {field} is {n}, not a usable rate", self.what)),
            },
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(other) => return Err(format!("{}: field {field} should be a number, found {other}", self.what)),
        };
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(format!("{}: field {field} is {text:?}, not a decimal rate", self.what));
        }
        Ok(Some(text))
    }

    pub fn int(&self, field: &str) -> Result<i64, String> {
        self.opt_int(field)?.ok_or_else(|| format!("{}: field {field} is missing", self.what))
    }

    /// An amount in minor units; absent = 0 (Chargebee omits zero optional amounts).
    pub fn amount(&self, field: &str) -> Result<i64, String> {
        Ok(self.opt_int(field)?.unwrap_or(0))
    }

    /// A unix-seconds timestamp as "YYYY-MM-DD" (UTC).
    pub fn date(&self, field: &str) -> Result<String, String> {
        Ok(ml_connector_sdk::dates::iso_date(self.int(field)?))
    }

    pub fn opt_date(&self, field: &str) -> Result<Option<String>, String> {
        Ok(self.opt_int(field)?.map(ml_connector_sdk::dates::iso_date))
    }

    /// An array of objects; absent = empty.
    pub fn array(&self, field: &str) -> Result<&'a [Value], String> {
        match self.get(field) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(format!("{}: field {field} should be an array, found {other}", self.what)),
        }
    }

    pub fn opt_obj(&self, field: &str) -> Result<Option<Obj<'a>>, String> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => Obj::new(format!("{}.{field}", self.what), v).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_refuse_floats_and_strings() {
        let v = json!({"total": 12.5, "tax": 100.0, "sub_total": "100", "amount_paid": 153});
        let o = Obj::new("invoice inv_1", &v).expect("object");
        let err = o.amount("total").expect_err("float refused");
        assert!(err.contains("invoice inv_1") && err.contains("total") && err.contains("12.5"), "{err}");
        assert!(o.amount("tax").is_err(), "100.0 is a float on the wire");
        assert!(o.amount("sub_total").is_err());
        assert_eq!(o.amount("amount_paid"), Ok(153));
        assert_eq!(o.amount("amount_due"), Ok(0));
    }

    #[test]
    fn rates_are_shortest_decimal_text() {
        let v = json!({"a": 1.0834, "b": 1.0, "c": 0.1, "d": 150, "e": "1.25", "f": -1.0, "g": "1e3", "h": 0.0000001, "i": 0.30000000000000004});
        let o = Obj::new("invoice x", &v).expect("object");
        assert_eq!(o.opt_rate("a"), Ok(Some("1.0834".into())));
        assert_eq!(o.opt_rate("b"), Ok(Some("1".into())));
        assert_eq!(o.opt_rate("c"), Ok(Some("0.1".into())));
        assert_eq!(o.opt_rate("d"), Ok(Some("150".into())));
        assert_eq!(o.opt_rate("e"), Ok(Some("1.25".into())));
        assert_eq!(o.opt_rate("h"), Ok(Some("0.0000001".into())));
        assert_eq!(o.opt_rate("i"), Ok(Some("0.30000000000000004".into())), "the number Chargebee sent, exactly");
        assert!(o.opt_rate("f").is_err());
        assert!(o.opt_rate("g").is_err());
        assert_eq!(o.opt_rate("missing"), Ok(None));
    }

    #[test]
    fn strings_and_dates() {
        let v = json!({"id": "x", "po_number": "", "email": null, "date": 1_700_000_000});
        let o = Obj::new("invoice x", &v).expect("object");
        assert_eq!(o.str("id"), Ok("x".into()));
        assert_eq!(o.opt_str("po_number"), Ok(None));
        assert_eq!(o.opt_str("email"), Ok(None));
        assert!(o.str("customer_id").expect_err("missing").contains("customer_id"));
        assert_eq!(o.date("date"), Ok("2023-11-14".into()));
    }
}
