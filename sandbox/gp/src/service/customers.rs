//! Customers (RM00101): CreateCustomer, UpdateCustomer, GetCustomerByKey, GetCustomerList.

use super::criteria::bool_restriction_matches;
use super::customer_setup::{check_setup, write_addresses};
use super::members::{flag, text};
use super::{OpError, OpResult, Service};
use crate::date::now_timestamp;
use crate::db::Db;
use crate::model::{Company, Customer};
use crate::node::Node;
use crate::objects;
use crate::rules::{self, GpError, len};

impl Service {
    /// Reads a Customer object into the stored form, checking ids and lengths.
    async fn customer_input(&self, company: &Company, node: &Node, existing: Option<&Customer>) -> OpResult<Customer> {
        let mut errors = Vec::new();
        let id = self.customer_key(&mut errors, node);
        let mut c =
            existing.cloned().unwrap_or_else(|| Customer { id: id.clone(), is_active: true, ..Customer::default() });
        // Members the caller left out keep their stored value (PATCH semantics for updates).
        macro_rules! take {
            ($field:ident, $path:expr, $prop:literal, $col:literal, $max:expr) => {
                if let Some(v) = text(node, $path) {
                    rules::max_len(&mut errors, $prop, $col, Some(&v), $max);
                    c.$field = Some(v);
                }
            };
        }
        take!(name, &["Name"], "Name", "CUSTNAME", len::CUSTNAME);
        take!(shortname, &["Shortname"], "Shortname", "SHRTNAME", len::SHRTNAME);
        take!(statement_name, &["StatementName"], "StatementName", "STMTNAME", len::STMTNAME);
        take!(class_id, &["ClassKey", "Id"], "ClassKey", "CUSTCLAS", len::CUSTCLAS);
        take!(payment_terms_id, &["PaymentTermsKey", "Id"], "PaymentTermsKey", "PYMTRMID", len::PYMTRMID);
        take!(comment1, &["Comment1"], "Comment1", "COMMENT1", len::COMMENT);
        take!(comment2, &["Comment2"], "Comment2", "COMMENT2", len::COMMENT);
        take!(user_defined1, &["UserDefined1"], "UserDefined1", "USERDEF1", len::USERDEF);
        take!(user_defined2, &["UserDefined2"], "UserDefined2", "USERDEF2", len::USERDEF);
        take!(tax_registration, &["TaxRegistrationNumber"], "TaxRegistrationNumber", "TXRGNNUM", len::TXRGNNUM);
        if let Some(active) = flag(node, "IsActive") {
            c.is_active = active;
        }
        if let Some(hold) = flag(node, "IsOnHold") {
            c.is_on_hold = hold;
        }
        if let Some(iso) = text(node, &["CurrencyKey", "ISOCode"]) {
            match self.db.currency_by_iso(company.id, &iso).await? {
                Some(cur) => c.currency_id = Some(cur.currency_id),
                None => errors.push(GpError::CurrencyMissing { iso }),
            }
        }
        if let Some(addresses) = node.get("Addresses").filter(|a| !a.is_nil()) {
            check_addresses(&mut errors, addresses);
            c.addresses = Some(addresses.clone());
        }
        let mut conn = self.db.acquire().await?;
        let (class, terms) = (c.class_id.as_deref(), c.payment_terms_id.as_deref());
        check_setup(&mut conn, company.id, &self.rules, class, terms, &mut errors).await?;
        if !errors.is_empty() {
            return Err(OpError::Rejected(errors));
        }
        c.id = id;
        Ok(c)
    }

    pub async fn create_customer(&self, company: &Company, node: &Node) -> OpResult<()> {
        let mut c = self.customer_input(company, node, None).await?;
        let now = now_timestamp();
        c.created = now.clone();
        c.modified = now;
        let mut tx = self.db.begin_write().await?;
        if Db::customer_exists(&mut tx, company.id, &c.id).await? {
            return Err(GpError::CustomerExists { id: c.id }.into());
        }
        Db::put_customer(&mut tx, company.id, &c).await?;
        write_addresses(&mut tx, company.id, &c).await?;
        tx.commit().await?;
        self.counters.customer_written();
        Ok(())
    }

    pub async fn update_customer(&self, company: &Company, node: &Node) -> OpResult<()> {
        let id = text(node, &["Key", "Id"]).ok_or(GpError::Required { property: "Key" })?;
        let existing = self.db.customer(company.id, &id).await?.ok_or(GpError::CustomerMissing { customer: id })?;
        let mut c = self.customer_input(company, node, Some(&existing)).await?;
        c.modified = now_timestamp();
        let mut tx = self.db.begin_write().await?;
        Db::put_customer(&mut tx, company.id, &c).await?;
        write_addresses(&mut tx, company.id, &c).await?;
        tx.commit().await?;
        self.counters.customer_written();
        Ok(())
    }

    pub async fn get_customer(&self, company: &Company, id: &str) -> OpResult<Option<Node>> {
        let Some(c) = self.db.customer(company.id, id).await? else {
            return Ok(None);
        };
        let currency = self.currency_for_customer(company, &c).await?;
        Ok(Some(objects::customer(company.id, &c, currency.as_ref())))
    }

    pub async fn customer_list(&self, company: &Company, criteria: Option<&Node>) -> OpResult<Node> {
        let crit = |name| criteria.and_then(|c| c.get(name));
        let items = self
            .db
            .customers(company.id)
            .await?
            .into_iter()
            .filter(|c| objects::string_restriction_matches(crit("Id"), &c.id))
            .filter(|c| objects::string_restriction_matches(crit("Name"), c.name.as_deref().unwrap_or_default()))
            .filter(|c| objects::string_restriction_matches(crit("ClassId"), c.class_id.as_deref().unwrap_or_default()))
            .filter(|c| bool_restriction_matches(crit("IsActive"), c.is_active))
            .filter(|c| bool_restriction_matches(crit("IsOnHold"), c.is_on_hold))
            .map(|c| objects::customer_summary(company.id, &c))
            .collect::<Vec<_>>();
        Ok(Node::list("CustomerSummary", items))
    }

    /// `Key.Id`: required, and a valid GP customer id (upper-cased if the rules say so).
    fn customer_key(&self, errors: &mut Vec<GpError>, node: &Node) -> String {
        match text(node, &["Key", "Id"]).as_deref() {
            None => {
                errors.push(GpError::Required { property: "Key" });
                String::new()
            }
            Some(raw) => rules::customer_id(raw, &self.rules).unwrap_or_else(|e| {
                errors.push(e);
                raw.to_string()
            }),
        }
    }
}

/// Address codes and lines within GP's column lengths (the addresses are stored as sent).
fn check_addresses(errors: &mut Vec<GpError>, addresses: &Node) {
    for a in addresses.all("CustomerAddress") {
        rules::max_len(errors, "Addresses", "ADRSCODE", a.str_at(&["Key", "Id"]), len::ADRSCODE);
        for (line, col) in
            [("Line1", "ADDRESS1"), ("Line2", "ADDRESS2"), ("Line3", "ADDRESS3"), ("ContactPerson", "CNTCPRSN")]
        {
            rules::max_len(errors, "Addresses", col, a.str_at(&[line]), len::ADDRESS_LINE);
        }
    }
}
