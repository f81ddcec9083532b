//! What a Customer refers to in the company's set-up (class RM00201, payment terms SY03300),
//! and its `Addresses` written as RM00102 rows with their e-mail in SY01200 — the rows
//! eConnect's procedures write, so every interface reads the same customer.

use sqlx::SqliteConnection;

use super::members::text;
use crate::db::{Address, Db};
use crate::model::Customer;
use crate::rules::{GpError, RulesConfig};

/// Refusals for an unknown class or payment terms (unless the rules allow unknown ids).
pub(crate) async fn check_setup(
    conn: &mut SqliteConnection,
    company: i32,
    rules: &RulesConfig,
    class: Option<&str>,
    terms: Option<&str>,
    errors: &mut Vec<GpError>,
) -> sqlx::Result<()> {
    if rules.allow_unknown_setup_ids {
        return Ok(());
    }
    if let Some(id) = class
        && !Db::class_exists(conn, company, id).await?
    {
        errors.push(GpError::ClassMissing { id: id.to_string() });
    }
    if let Some(id) = terms
        && !Db::terms_exist(conn, company, id).await?
    {
        errors.push(GpError::PaymentTermsMissing { id: id.to_string() });
    }
    Ok(())
}

/// Writes a Web Services customer's addresses (the first is the primary one) and e-mails.
pub(super) async fn write_addresses(conn: &mut SqliteConnection, company: i32, c: &Customer) -> sqlx::Result<()> {
    let Some(list) = &c.addresses else {
        return Ok(());
    };
    for (i, a) in list.all("CustomerAddress").enumerate() {
        let Some(code) = text(a, &["Key", "Id"]) else {
            continue;
        };
        let address = Address {
            code: code.clone(),
            contact: text(a, &["ContactPerson"]),
            line1: text(a, &["Line1"]),
            line2: text(a, &["Line2"]),
            line3: text(a, &["Line3"]),
            city: text(a, &["City"]),
            state: text(a, &["State"]),
            zip: text(a, &["PostalCode"]),
            country: text(a, &["CountryRegion"]),
            phone1: text(a, &["Phone1", "Value"]),
            tax_schedule: text(a, &["TaxScheduleKey", "Id"]),
        };
        Db::put_address(conn, company, &c.id, &address, i == 0).await?;
        if let Some(email) = text(a, &["InternetAddresses", "EmailToAddress"]) {
            let key = ("CUS", c.id.as_str(), code.as_str());
            Db::put_internet(conn, company, key, Some(&email), Some(&email)).await?;
        }
    }
    Ok(())
}
