//! taUpdateCreateCustomerRcd (RM00101 + its primary address in RM00102) and
//! taCreateInternetAddresses (SY01200).

use super::Ctx;
use super::params::Args;
use crate::date::now_timestamp;
use crate::db::{Address, Db, Tx};
use crate::model::Customer;
use crate::rules::{self, GpError};
use crate::service::customer_setup::check_setup;
use crate::service::{OpError, OpResult};

/// Creates a customer, or with `UpdateIfExists` = 1 (eConnect's default) updates the members
/// passed and keeps the others (INFERRED).
pub(super) async fn customer(ctx: &Ctx<'_>, tx: &mut Tx, args: &Args) -> OpResult<()> {
    let mut errors = Vec::new();
    let raw = args.text("CUSTNMBR", &mut errors).unwrap_or_default();
    let id = rules::customer_id(&raw, &ctx.service.rules).map_err(OpError::from)?;
    let company = ctx.company.id;
    let existing = stored(tx, company, &id).await?;
    if existing.is_some() && args.int("UpdateIfExists", &mut errors).unwrap_or(1) == 0 {
        return Err(GpError::CustomerExists { id }.into());
    }
    let now = now_timestamp();
    let mut c = existing.clone().unwrap_or_else(|| Customer {
        id: id.clone(),
        is_active: true,
        created: now.clone(),
        ..Customer::default()
    });
    c.modified = now;
    let mut set = |field: &mut Option<String>, name| {
        if let Some(v) = args.text(name, &mut errors) {
            *field = Some(v);
        }
    };
    set(&mut c.name, "CUSTNAME");
    set(&mut c.shortname, "SHRTNAME");
    set(&mut c.statement_name, "STMTNAME");
    set(&mut c.class_id, "CUSTCLAS");
    set(&mut c.payment_terms_id, "PYMTRMID");
    set(&mut c.currency_id, "CURNCYID");
    if let Some(v) = args.int("HOLD", &mut errors) {
        c.is_on_hold = v != 0;
    }
    if let Some(v) = args.int("INACTIVE", &mut errors) {
        c.is_active = v == 0;
    }
    let rules = &ctx.service.rules;
    check_setup(tx, company, rules, c.class_id.as_deref(), c.payment_terms_id.as_deref(), &mut errors).await?;
    if let Some(cur) = args.text("CURNCYID", &mut errors)
        && ctx.service.db.currency(company, &cur).await?.is_none()
    {
        errors.push(GpError::CurrencyMissing { iso: cur });
    }
    let address = address(tx, company, &id, args, &mut errors).await?;
    if !errors.is_empty() {
        return Err(OpError::Rejected(errors));
    }
    Db::put_customer(tx, company, &c).await?;
    if let Some(a) = address {
        Db::put_address(tx, company, &id, &a, true).await?;
    }
    ctx.service.counters.customer_written();
    Ok(())
}

/// The customer's primary address with the members passed applied, if any address member was
/// passed (ADRSCODE defaults to `PRIMARY`); its tax schedule must exist (7023).
async fn address(
    tx: &mut Tx,
    company: i32,
    id: &str,
    args: &Args,
    errors: &mut Vec<GpError>,
) -> sqlx::Result<Option<Address>> {
    const MEMBERS: &[&str] = &[
        "ADRSCODE", "CNTCPRSN", "ADDRESS1", "ADDRESS2", "ADDRESS3", "CITY", "STATE", "ZIPCODE", "COUNTRY", "PHNUMBR1",
        "TAXSCHID",
    ];
    if !MEMBERS.iter().any(|m| args.has(m)) {
        return Ok(None);
    }
    let code = args.text("ADRSCODE", errors);
    let mut a = Db::primary_address(tx, company, id).await?.filter(|a| code.as_ref().is_none_or(|c| *c == a.code));
    let mut a =
        a.take().unwrap_or_else(|| Address { code: code.unwrap_or_else(|| "PRIMARY".into()), ..Address::default() });
    for (field, name) in [
        (&mut a.contact, "CNTCPRSN"),
        (&mut a.line1, "ADDRESS1"),
        (&mut a.line2, "ADDRESS2"),
        (&mut a.line3, "ADDRESS3"),
        (&mut a.city, "CITY"),
        (&mut a.state, "STATE"),
        (&mut a.zip, "ZIPCODE"),
        (&mut a.country, "COUNTRY"),
        (&mut a.phone1, "PHNUMBR1"),
        (&mut a.tax_schedule, "TAXSCHID"),
    ] {
        if let Some(v) = args.text(name, errors) {
            *field = Some(v);
        }
    }
    if let Some(s) = &a.tax_schedule
        && !Db::tax_schedule_exists(tx, company, s).await?
    {
        errors.push(GpError::TaxScheduleMissing { id: s.clone() });
    }
    Ok(Some(a))
}

/// The stored customer, read inside the transaction (a customer created earlier in it counts).
pub(super) async fn stored(tx: &mut Tx, company: i32, id: &str) -> sqlx::Result<Option<Customer>> {
    Db::customer_in(tx, company, id).await
}

/// taCreateInternetAddresses: Master_Type `CUS`, an existing customer; INET1 / EmailToAddress.
pub(super) async fn internet(ctx: &Ctx<'_>, tx: &mut Tx, args: &Args) -> OpResult<()> {
    let mut errors = Vec::new();
    let master_type = args.text("Master_Type", &mut errors).unwrap_or_default();
    let id = args.text("Master_ID", &mut errors).unwrap_or_default();
    let code = args.text("ADRSCODE", &mut errors).unwrap_or_default();
    let inet1 = args.text("INET1", &mut errors);
    let email_to = args.text("EmailToAddress", &mut errors);
    if master_type != "CUS" {
        errors.push(GpError::MasterTypeInvalid { value: master_type });
    } else if stored(tx, ctx.company.id, &id).await?.is_none() {
        errors.push(GpError::CustomerMissing { customer: id.clone() });
    }
    if !errors.is_empty() {
        return Err(OpError::Rejected(errors));
    }
    let key = ("CUS", id.as_str(), code.as_str());
    Db::put_internet(tx, ctx.company.id, key, inet1.as_deref(), email_to.as_deref()).await?;
    Ok(())
}
