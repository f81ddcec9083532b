//! Customer mutations: create, update, delete; each emits the matching customer_* event.

use super::{CustomerInput, CustomerUpdate, Kind, SandboxError, SiteData, check_currency, snapshot};
use crate::model::Customer;

impl SiteData {
    pub fn create_customer(&mut self, input: CustomerInput, at_ms: i64) -> Result<Customer, SandboxError> {
        let id = match input.id {
            Some(id) => id,
            None => self.random_id(""),
        };
        if id.is_empty() || self.find(Kind::Customer, &id).is_some() {
            return Err(SandboxError::Invalid(format!("customer id {id:?} is empty or already in use")));
        }
        if let Some(c) = &input.preferred_currency_code {
            check_currency(c)?;
        }
        let (version, secs) = self.next_version(at_ms);
        let customer = Customer {
            id: id.clone(),
            first_name: input.first_name,
            last_name: input.last_name,
            email: input.email,
            company: input.company,
            phone: input.phone,
            preferred_currency_code: input.preferred_currency_code,
            auto_collection: if input.auto_collection { "on" } else { "off" }.into(),
            net_term_days: input.net_term_days,
            allow_direct_debit: false,
            created_at: secs,
            updated_at: secs,
            resource_version: version,
            deleted: false,
            billing_address: input.billing_address,
            promotional_credits: 0,
            refundable_credits: 0,
            excess_payments: 0,
            unbilled_charges: 0,
            custom_fields: input.custom_fields,
            object: "customer".into(),
        };
        self.index.insert((Kind::Customer, id), self.customers.len());
        self.customers.push(customer.clone());
        self.emit(secs, "customer_created", vec![("customer", snapshot(&customer))]);
        Ok(customer)
    }

    pub fn update_customer(&mut self, id: &str, update: CustomerUpdate, at_ms: i64) -> Result<Customer, SandboxError> {
        let ix = self.need(Kind::Customer, id)?;
        if let Some(c) = &update.preferred_currency_code {
            check_currency(c)?;
        }
        let (version, secs) = self.next_version(at_ms);
        let c = &mut self.customers[ix];
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = update.$f { c.$f = Some(v); } )* };
        }
        set!(first_name, last_name, email, company, preferred_currency_code, billing_address);
        if let Some(n) = update.net_term_days {
            c.net_term_days = n;
        }
        if let Some(on) = update.auto_collection {
            c.auto_collection = if on { "on" } else { "off" }.into();
        }
        c.updated_at = secs;
        c.resource_version = version;
        let customer = c.clone();
        self.emit(secs, "customer_changed", vec![("customer", snapshot(&customer))]);
        Ok(customer)
    }

    pub fn delete_customer(&mut self, id: &str, at_ms: i64) -> Result<Customer, SandboxError> {
        let ix = self.need(Kind::Customer, id)?;
        let (version, secs) = self.next_version(at_ms);
        let c = &mut self.customers[ix];
        c.deleted = true;
        c.updated_at = secs;
        c.resource_version = version;
        let customer = c.clone();
        self.emit(secs, "customer_deleted", vec![("customer", snapshot(&customer))]);
        Ok(customer)
    }
}
