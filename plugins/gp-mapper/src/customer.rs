//! Chargebee customer → GP customer (RM00101).

use crate::common::{iso_code, present, truncate};
use crate::ids::CUSTOMER_ID_MAX;
use crate::settings::Settings;
use crate::wit::{Address, Customer, GpCustomer, LedgerDoc};
use crate::{MappingError, err};

/// CUSTNAME.
pub const NAME_MAX: usize = 64;
/// SHRTNAME.
pub const SHORT_NAME_MAX: usize = 15;
/// ADDRESS1-3.
pub const ADDRESS_LINE_MAX: usize = 60;

/// The GP customer id of a Chargebee customer id (also what documents name as their customer).
pub fn gp_customer_id(s: &Settings, chargebee_id: &str, field: &str) -> Result<String, MappingError> {
    s.scheme("customer", CUSTOMER_ID_MAX)?.gp_id(chargebee_id).map_err(|m| err(field, m))
}

pub fn map(c: &Customer, s: &Settings) -> Result<Vec<LedgerDoc>, MappingError> {
    let id = gp_customer_id(s, &c.id, "customer.id")?;
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
        phone: None,
        currency_id: s.currency(&iso)?,
        currency: s.currency(&iso)?,
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
        assert_eq!(g.currency, "USD");
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
        assert_eq!(gp(c.clone(), &[("map.currency.EUR", "Z-EURO")]).expect("maps").currency, "Z-EURO");
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
}
