//! Chargebee customer → GP customer (RM00101).

use crate::common::{iso_code, present, truncate};
use crate::ids::{CUSTOMER_ID_MAX, is_gp_safe};
use crate::settings::Settings;
use crate::wit::{Address, Customer, GpCustomer, LedgerDoc};
use crate::{MappingError, err};

/// CUSTNAME.
pub const NAME_MAX: usize = 64;
/// SHRTNAME.
pub const SHORT_NAME_MAX: usize = 15;
/// ADDRESS1-3.
pub const ADDRESS_LINE_MAX: usize = 60;

/// PHNUMBR1.
pub const PHONE_MAX: usize = 21;

/// How GP customer numbers are made (`map.customer.number`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Numbering {
    /// From the Chargebee id by the id scheme (`map.customer.prefix` / `.case`).
    Hashed,
    /// The value of a Chargebee custom field (`cf_…`).
    Field(String),
    /// The target allocates one from the name and keeps it for the Chargebee id.
    Allocated,
}

pub fn numbering(s: &Settings) -> Result<Numbering, MappingError> {
    let key = "map.customer.number";
    match s.get(key) {
        None | Some("hashed") => Ok(Numbering::Hashed),
        Some("allocated") => Ok(Numbering::Allocated),
        Some(v) => match v.strip_prefix("field:").map(str::trim) {
            Some(name) if name.starts_with("cf_") && name.len() > 3 => Ok(Numbering::Field(name.to_string())),
            _ => Err(err(
                key,
                format!(
                    "{v:?} is not one of hashed, allocated, field:<cf_name> (a Chargebee custom field, e.g. field:cf_gp_number)"
                ),
            )),
        },
    }
}

/// The GP customer id by the id scheme (`map.customer.number = hashed`).
pub fn gp_customer_id(s: &Settings, chargebee_id: &str, field: &str) -> Result<String, MappingError> {
    s.scheme("customer", CUSTOMER_ID_MAX)?.gp_id(chargebee_id).map_err(|m| err(field, m))
}

/// The customer id a document carries: the scheme's id when numbering is `hashed`, else empty
/// (the target resolves `customer-source-id` through its customer numbers).
pub fn document_customer_id(s: &Settings, chargebee_id: &str, field: &str) -> Result<String, MappingError> {
    match numbering(s)? {
        Numbering::Hashed => gp_customer_id(s, chargebee_id, field),
        _ if chargebee_id.is_empty() => Err(err(field, "the Chargebee customer id is empty")),
        _ => Ok(String::new()),
    }
}

/// The GP number held in custom field `name`: ≤ 15 characters of 0-9 A-Z space . _ -.
fn number_from_field(c: &Customer, name: &str) -> Result<String, MappingError> {
    let field = format!("customer.custom-fields.{name}");
    let value = c.custom_fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or("");
    if value.is_empty() {
        return Err(err(
            &field,
            format!("customer {} has no {name} (map.customer.number = \"field:{name}\"): fill it in Chargebee", c.id),
        ));
    }
    if value.chars().count() > CUSTOMER_ID_MAX || !value.chars().all(is_gp_safe) {
        return Err(err(
            &field,
            format!(
                "{name} = {value:?} of customer {} is not a GP customer number (≤ {CUSTOMER_ID_MAX} of 0-9 A-Z space . _ -)",
                c.id
            ),
        ));
    }
    Ok(value.to_string())
}

pub fn map(c: &Customer, s: &Settings) -> Result<Vec<LedgerDoc>, MappingError> {
    let id = match numbering(s)? {
        Numbering::Hashed => gp_customer_id(s, &c.id, "customer.id")?,
        _ if c.id.is_empty() => return Err(err("customer.id", "the Chargebee customer id is empty")),
        Numbering::Field(name) => number_from_field(c, &name)?,
        Numbering::Allocated => String::new(),
    };
    let full_name = [present(&c.first_name), present(&c.last_name)].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let name = present(&c.company)
        .map(str::to_string)
        .or_else(|| (!full_name.is_empty()).then_some(full_name))
        .or_else(|| present(&c.email).map(str::to_string))
        .unwrap_or_else(|| c.id.clone());
    let iso = match present(&c.currency) {
        Some(code) => iso_code(code, "customer.currency")?,
        None => iso_code(
            s.required(
                "map.base_currency",
                "for customers without a preferred currency (the Chargebee site's base currency, e.g. USD)",
            )?,
            "map.base_currency",
        )?,
    };
    Ok(vec![LedgerDoc::Customer(GpCustomer {
        id,
        source_id: c.id.clone(),
        name: truncate(&name, NAME_MAX),
        short_name: Some(truncate(&name, SHORT_NAME_MAX).trim_end().to_string()),
        email: present(&c.email).map(str::to_string),
        phone: present(&c.phone).map(|p| truncate(p, PHONE_MAX)),
        currency_id: s.currency(&iso)?,
        currency: iso,
        class_id: s.class_id()?,
        payment_terms: s.payment_terms(c.net_term_days)?,
        address: c.billing_address.as_ref().and_then(address),
    })])
}

/// The billing address with GP's line length; none when it carries nothing.
fn address(a: &Address) -> Option<Address> {
    let keep = |v: &Option<String>| present(v).map(str::to_string);
    let out = Address {
        line1: keep(&a.line1).map(|l| truncate(&l, ADDRESS_LINE_MAX)),
        line2: keep(&a.line2).map(|l| truncate(&l, ADDRESS_LINE_MAX)),
        city: keep(&a.city),
        state: keep(&a.state),
        country: keep(&a.country),
        zip: keep(&a.zip),
    };
    let empty = [&out.line1, &out.line2, &out.city, &out.state, &out.country, &out.zip].iter().all(|v| v.is_none());
    (!empty).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn gp(c: Customer, extra: &[(&str, &str)]) -> Result<GpCustomer, MappingError> {
        let s = Settings::parse(&with(settings(), extra)).expect("settings");
        match map(&c, &s)?.pop() {
            Some(LedgerDoc::Customer(g)) => Ok(g),
            other => panic!("expected a customer, got {other:?}"),
        }
    }

    #[test]
    fn maps_every_field() {
        let g = gp(customer(), &[("map.customer.class_id", "CHARGEBEE"), ("map.payment_terms.30", "NET 30")])
            .expect("maps");
        assert_eq!(g.id, "ACME-001");
        assert_eq!(g.name, "Acme Corporation");
        assert_eq!(g.short_name.as_deref(), Some("Acme Corporatio"));
        assert_eq!(g.email.as_deref(), Some("ap@acme.example"));
        assert_eq!((g.currency.as_str(), g.currency_id.as_str()), ("USD", "USD"));
        assert_eq!((g.source_id.as_str(), g.phone.as_deref()), ("ACME-001", Some("+1 217 555 0100")));
        assert_eq!(g.class_id.as_deref(), Some("CHARGEBEE"));
        assert_eq!(g.payment_terms.as_deref(), Some("NET 30"));
        let a = g.address.expect("address");
        assert_eq!(
            (a.line1.as_deref(), a.city.as_deref(), a.zip.as_deref()),
            (Some("1 Main St"), Some("Springfield"), Some("12345"))
        );
        assert_eq!(a.line2.map(|l| l.chars().count()), Some(ADDRESS_LINE_MAX));
    }

    #[test]
    fn name_falls_back_company_then_person_then_email_then_id() {
        let mut c = customer();
        c.company = Some("  ".into());
        assert_eq!(gp(c.clone(), &[]).expect("maps").name, "Ada Lovelace");
        c.first_name = None;
        assert_eq!(gp(c.clone(), &[]).expect("maps").name, "Lovelace");
        c.last_name = None;
        assert_eq!(gp(c.clone(), &[]).expect("maps").name, "ap@acme.example");
        c.email = None;
        assert_eq!(gp(c.clone(), &[]).expect("maps").name, "ACME-001");
        c.company = Some("É".repeat(80));
        let g = gp(c, &[]).expect("maps");
        assert_eq!(g.name.chars().count(), NAME_MAX);
        assert_eq!(g.email, None);
    }

    #[test]
    fn currency_table_base_currency_and_its_absence() {
        let mut c = customer();
        c.currency = Some("eur".into());
        assert_eq!(gp(c.clone(), &[]).expect("maps").currency, "EUR");
        let g = gp(c.clone(), &[("map.currency.EUR", "Z-EURO")]).expect("maps");
        assert_eq!((g.currency.as_str(), g.currency_id.as_str()), ("EUR", "Z-EURO"));
        c.currency = None;
        assert_eq!(gp(c.clone(), &[("map.base_currency", "GBP")]).expect("maps").currency, "GBP");
        let e = gp(c.clone(), &[]).expect_err("no base currency");
        assert_eq!(e.field, "map.base_currency");
        assert_eq!(gp(c, &[("map.base_currency", "POUND")]).expect_err("bad").field, "map.base_currency");
    }

    #[test]
    fn ids_follow_the_scheme() {
        let mut c = customer();
        c.id = "acme-001".into();
        let g = gp(c.clone(), &[]).expect("maps");
        assert_ne!(g.id, "ACME-001", "lower-case twin of ACME-001 is hashed under case=upper");
        assert_eq!(
            gp(c.clone(), &[("map.customer.case", "lower"), ("map.customer.prefix", "CB-")]).expect("maps").id,
            "CB-ACME-001"
        );
        assert_eq!(
            gp(c.clone(), &[("map.customer.prefix", "cb")]).expect_err("bad prefix").field,
            "map.customer.prefix"
        );
        assert_eq!(gp(c.clone(), &[("map.customer.case", "title")]).expect_err("bad case").field, "map.customer.case");
        c.id = String::new();
        assert_eq!(gp(c, &[]).expect_err("empty id").field, "customer.id");
    }

    #[test]
    fn terms_fall_back_and_empty_address_is_none() {
        let mut c = customer();
        c.net_term_days = 45;
        c.billing_address =
            Some(Address { line1: Some(" ".into()), line2: None, city: None, state: None, country: None, zip: None });
        let g = gp(c, &[("map.payment_terms.30", "NET 30"), ("map.customer.payment_terms", "DUE ON RECEIPT")])
            .expect("maps");
        assert_eq!(g.payment_terms.as_deref(), Some("DUE ON RECEIPT"));
        assert!(g.address.is_none());
    }

    #[test]
    fn numbering_by_custom_field() {
        let mut c = customer();
        c.id = "cus_AzZlGJSqHd1Xc2Ae".into();
        c.custom_fields = vec![("cf_gp_number".into(), " ACMECORP0001 ".into()), ("cf_region".into(), "EMEA".into())];
        let s = [("map.customer.number", "field:cf_gp_number")];
        let g = gp(c.clone(), &s).expect("maps");
        assert_eq!((g.id.as_str(), g.source_id.as_str()), ("ACMECORP0001", "cus_AzZlGJSqHd1Xc2Ae"));
        c.custom_fields[0].1 = "acme corp".into();
        assert_eq!(gp(c.clone(), &s).expect_err("lower case").field, "customer.custom-fields.cf_gp_number");
        c.custom_fields[0].1 = "ACME-CORPORATION-1".into();
        assert_eq!(gp(c.clone(), &s).expect_err("long").field, "customer.custom-fields.cf_gp_number");
        c.custom_fields.remove(0);
        let e = gp(c.clone(), &s).expect_err("missing");
        assert_eq!(e.field, "customer.custom-fields.cf_gp_number");
        assert!(e.message.contains("cus_AzZlGJSqHd1Xc2Ae"), "{}", e.message);
        for bad in ["field:gp_number", "field:", "custom", "hash"] {
            assert_eq!(gp(c.clone(), &[("map.customer.number", bad)]).expect_err(bad).field, "map.customer.number");
        }
    }

    #[test]
    fn numbering_allocated_leaves_the_id_to_the_target() {
        let g = gp(customer(), &[("map.customer.number", "allocated")]).expect("maps");
        assert_eq!((g.id.as_str(), g.source_id.as_str(), g.name.as_str()), ("", "ACME-001", "Acme Corporation"));
        let s = Settings::parse(&with(settings(), &[("map.customer.number", "allocated")])).expect("s");
        assert_eq!(document_customer_id(&s, "ACME-001", "invoice.customer-id").ok(), Some(String::new()));
        assert_eq!(
            document_customer_id(&s, "", "invoice.customer-id").expect_err("empty").field,
            "invoice.customer-id"
        );
        let hashed = Settings::parse(&settings()).expect("s");
        assert_eq!(document_customer_id(&hashed, "ACME-001", "f").ok().as_deref(), Some("ACME-001"));
    }

    #[test]
    fn phone_is_trimmed_and_cut() {
        let mut c = customer();
        c.phone = Some("  ".into());
        assert_eq!(gp(c.clone(), &[]).expect("maps").phone, None);
        c.phone = Some("+49 30 1234567890 ext. 99".into());
        assert_eq!(gp(c, &[]).expect("maps").phone.map(|p| p.chars().count()), Some(PHONE_MAX));
    }
}
