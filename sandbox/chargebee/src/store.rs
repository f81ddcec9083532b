//! One site's billing data and the mutations that change it the way Chargebee does: every
//! change bumps `resource_version` (ms, strictly increasing per site) and `updated_at`, and
//! appends an event whose `content` is a snapshot of the resources as of that change.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};

use crate::model::*;

/// What went wrong with a [`crate::Control`] mutation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error("no site named {0:?} in this sandbox")]
    UnknownSite(String),
    #[error("no {kind} with id {id:?}")]
    NotFound { kind: &'static str, id: String },
    #[error("{0}")]
    Invalid(String),
}

/// A new customer. `id: None` → a Chargebee-style random id.
#[derive(Debug, Clone, Default)]
pub struct CustomerInput {
    pub id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub company: Option<String>,
    pub preferred_currency_code: Option<String>,
    pub net_term_days: i32,
    pub auto_collection: bool,
    pub billing_address: Option<BillingAddress>,
}

/// Changes to a customer; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CustomerUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub company: Option<String>,
    pub preferred_currency_code: Option<String>,
    pub net_term_days: Option<i32>,
    pub auto_collection: Option<bool>,
    pub billing_address: Option<BillingAddress>,
}

/// One invoice line: `amount = unit_amount × quantity`; tax is charged on
/// `amount − discount_amount` at `tax_rate_bp` basis points (825 = 8.25 %), rounded half up.
#[derive(Debug, Clone)]
pub struct LineInput {
    pub description: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub unit_amount: i64,
    pub quantity: i32,
    pub discount_amount: i64,
    pub tax_rate_bp: u32,
}

impl LineInput {
    pub fn adhoc(description: &str, unit_amount: i64, quantity: i32) -> Self {
        LineInput {
            description: description.into(),
            entity_type: "adhoc".into(),
            entity_id: None,
            unit_amount,
            quantity,
            discount_amount: 0,
            tax_rate_bp: 0,
        }
    }

    pub fn tax_bp(mut self, bp: u32) -> Self {
        self.tax_rate_bp = bp;
        self
    }

    pub fn discount(mut self, amount: i64) -> Self {
        self.discount_amount = amount;
        self
    }
}

#[derive(Debug, Clone)]
pub struct InvoiceInput {
    pub customer_id: String,
    /// `None` → the customer's preferred currency, else USD.
    pub currency_code: Option<String>,
    /// Unix seconds; `None` → now.
    pub date: Option<i64>,
    /// `None` → the customer's net_term_days.
    pub net_term_days: Option<i32>,
    pub po_number: Option<String>,
    /// Label of the tax on every taxed line (e.g. "VAT", "GST", "Sales tax").
    pub tax_name: String,
    pub recurring: bool,
    pub lines: Vec<LineInput>,
}

impl InvoiceInput {
    pub fn new(customer_id: &str, lines: Vec<LineInput>) -> Self {
        InvoiceInput {
            customer_id: customer_id.into(),
            currency_code: None,
            date: None,
            net_term_days: None,
            po_number: None,
            tax_name: "Sales tax".into(),
            recurring: false,
            lines,
        }
    }
}

/// An offline payment (Chargebee's "record payment") applied to one or more invoices of one
/// customer; the transaction amount is the sum of the applications.
#[derive(Debug, Clone)]
pub struct PaymentInput {
    pub payment_method: String,
    pub reference_number: Option<String>,
    /// Unix seconds; `None` → now.
    pub date: Option<i64>,
    /// (invoice id, amount applied in minor units)
    pub applications: Vec<(String, i64)>,
}

impl PaymentInput {
    pub fn single(invoice_id: &str, amount: i64) -> Self {
        PaymentInput {
            payment_method: "bank_transfer".into(),
            reference_number: None,
            date: None,
            applications: vec![(invoice_id.into(), amount)],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditNoteKind {
    /// Reduces what the invoice still owes (`allocations`, invoice `amount_adjusted`).
    Adjustment,
    /// Allocated to the invoice's unpaid part first; the rest stays `refund_due`.
    Refundable,
}

#[derive(Debug, Clone)]
pub struct CreditNoteInput {
    pub reference_invoice_id: String,
    pub kind: CreditNoteKind,
    /// write_off | product_unsatisfactory | service_unsatisfactory | order_change | other | …
    pub reason_code: String,
    /// Tax-inclusive total in minor units; split into sub_total and tax in the invoice's ratio.
    pub total: i64,
    pub date: Option<i64>,
}

/// Refund of (part of) an invoice's payments: Chargebee issues a refundable credit note for
/// the amount and a refund transaction against the invoice's latest payment.
#[derive(Debug, Clone)]
pub struct RefundInput {
    pub invoice_id: String,
    pub amount: i64,
    pub reason_code: String,
    pub date: Option<i64>,
}

const ID_ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Which resource list an id belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Customer,
    Invoice,
    Transaction,
    CreditNote,
    Event,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Customer => "customer",
            Kind::Invoice => "invoice",
            Kind::Transaction => "transaction",
            Kind::CreditNote => "credit_note",
            Kind::Event => "event",
        }
    }
}

/// All data of one site. Records keep their creation order (`seq` = index), which is the
/// default list order and the tie-breaker of every sort.
pub struct SiteData {
    pub customers: Vec<Customer>,
    pub invoices: Vec<Invoice>,
    pub transactions: Vec<Transaction>,
    pub credit_notes: Vec<CreditNote>,
    pub events: Vec<Event>,
    index: HashMap<(Kind, String), usize>,
    next_invoice_number: u64,
    next_credit_note_number: u64,
    last_version: i64,
    rng: StdRng,
    /// `source` of the events this site appends next.
    pub event_source: String,
}

fn round_half_up_div(n: i64, d: i64) -> i64 {
    // n ≥ 0, d > 0 in every caller: amounts here are never negative.
    (n * 2 + d) / (d * 2)
}

fn snapshot<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl SiteData {
    pub fn new(seed: u64) -> Self {
        SiteData {
            customers: Vec::new(),
            invoices: Vec::new(),
            transactions: Vec::new(),
            credit_notes: Vec::new(),
            events: Vec::new(),
            index: HashMap::new(),
            next_invoice_number: 1001,
            next_credit_note_number: 1,
            last_version: 0,
            rng: StdRng::seed_from_u64(seed),
            event_source: "api".into(),
        }
    }

    fn random_id(&mut self, prefix: &str) -> String {
        let mut s = String::from(prefix);
        for _ in 0..16 {
            let i = self.rng.random_range(0..ID_ALPHABET.len());
            s.push(char::from(ID_ALPHABET[i]));
        }
        s
    }

    /// Strictly increasing per site, so two changes never share a resource_version.
    fn next_version(&mut self, at_ms: i64) -> (i64, i64) {
        let v = at_ms.max(self.last_version + 1);
        self.last_version = v;
        (v, v.div_euclid(1000))
    }

    pub fn find(&self, kind: Kind, id: &str) -> Option<usize> {
        self.index.get(&(kind, id.to_string())).copied()
    }

    fn need(&self, kind: Kind, id: &str) -> Result<usize, SandboxError> {
        self.find(kind, id).ok_or_else(|| SandboxError::NotFound { kind: kind.noun(), id: id.into() })
    }

    fn emit(&mut self, occurred_at: i64, event_type: &str, content: Vec<(&str, Value)>) -> String {
        let id = self.random_id("ev_");
        let mut map = Map::new();
        for (k, v) in content {
            map.insert(k.to_string(), v);
        }
        self.index.insert((Kind::Event, id.clone()), self.events.len());
        self.events.push(Event {
            id: id.clone(),
            occurred_at,
            source: self.event_source.clone(),
            user: Some("sandbox_full_access_key".into()),
            object: "event".into(),
            api_version: "v2".into(),
            webhook_status: "not_configured".into(),
            event_type: event_type.into(),
            content: map,
        });
        id
    }

    // ---- customers --------------------------------------------------------------------

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

    // ---- invoices ---------------------------------------------------------------------

    pub fn create_invoice(&mut self, input: InvoiceInput, at_ms: i64) -> Result<Invoice, SandboxError> {
        let cix = self.need(Kind::Customer, &input.customer_id)?;
        let customer = self.customers[cix].clone();
        if customer.deleted {
            return Err(SandboxError::Invalid(format!("customer {} is deleted", customer.id)));
        }
        if input.lines.is_empty() {
            return Err(SandboxError::Invalid("an invoice needs at least one line".into()));
        }
        let currency = input.currency_code.or(customer.preferred_currency_code.clone()).unwrap_or_else(|| "USD".into());
        check_currency(&currency)?;
        let (version, secs) = self.next_version(at_ms);
        let date = input.date.unwrap_or(secs);
        let net_term_days = input.net_term_days.unwrap_or(customer.net_term_days);
        let id = self.next_invoice_number.to_string();
        self.next_invoice_number += 1;

        let mut line_items = Vec::new();
        let mut discounts = Vec::new();
        let mut line_taxes = Vec::new();
        for l in &input.lines {
            if l.quantity <= 0 || l.unit_amount < 0 || l.discount_amount < 0 {
                return Err(SandboxError::Invalid(format!(
                    "line {:?}: quantity must be positive and amounts non-negative",
                    l.description
                )));
            }
            let amount = l.unit_amount * i64::from(l.quantity);
            if l.discount_amount > amount {
                return Err(SandboxError::Invalid(format!(
                    "line {:?}: discount {} exceeds the line amount {amount}",
                    l.description, l.discount_amount
                )));
            }
            let taxable = amount - l.discount_amount;
            let tax_amount = round_half_up_div(taxable * i64::from(l.tax_rate_bp), 10_000);
            let line_id = self.random_id("li_");
            let rate = f64::from(l.tax_rate_bp) / 100.0;
            if l.discount_amount > 0 {
                discounts.push(Discount {
                    amount: l.discount_amount,
                    description: format!("Discount on {}", l.description),
                    entity_type: "item_level_discount".into(),
                    line_item_id: Some(line_id.clone()),
                    object: "discount".into(),
                });
            }
            if l.tax_rate_bp > 0 {
                line_taxes.push(LineItemTax {
                    line_item_id: line_id.clone(),
                    tax_name: input.tax_name.clone(),
                    tax_rate: rate,
                    taxable_amount: taxable,
                    tax_amount,
                    object: "line_item_tax".into(),
                });
            }
            line_items.push(LineItem {
                id: line_id,
                date_from: date,
                date_to: date,
                unit_amount: l.unit_amount,
                quantity: l.quantity,
                amount,
                discount_amount: l.discount_amount,
                tax_amount,
                is_taxed: l.tax_rate_bp > 0,
                tax_rate: (l.tax_rate_bp > 0).then_some(rate),
                pricing_model: if l.entity_type == "adhoc" { "flat_fee" } else { "per_unit" }.into(),
                description: l.description.clone(),
                entity_type: l.entity_type.clone(),
                entity_id: l.entity_id.clone(),
                customer_id: customer.id.clone(),
                object: "line_item".into(),
            });
        }
        let sub_total: i64 = line_items.iter().map(|l| l.amount).sum();
        let discount_total: i64 = line_items.iter().map(|l| l.discount_amount).sum();
        let tax: i64 = line_items.iter().map(|l| l.tax_amount).sum();
        let total = sub_total - discount_total + tax;
        let taxes = if tax > 0 {
            vec![Tax {
                name: input.tax_name.clone(),
                amount: tax,
                description: Some(input.tax_name.clone()),
                object: "tax".into(),
            }]
        } else {
            Vec::new()
        };
        let first_invoice = !self.invoices.iter().any(|i| i.customer_id == customer.id && !i.deleted);
        let mut invoice = Invoice {
            id: id.clone(),
            customer_id: customer.id.clone(),
            po_number: input.po_number,
            recurring: input.recurring,
            status: String::new(),
            price_type: "tax_exclusive".into(),
            date,
            due_date: date + i64::from(net_term_days) * 86_400,
            net_term_days,
            paid_at: None,
            voided_at: None,
            exchange_rate: 1.0,
            currency_code: currency,
            total,
            amount_paid: 0,
            amount_adjusted: 0,
            write_off_amount: 0,
            credits_applied: 0,
            amount_due: total,
            sub_total,
            tax,
            updated_at: secs,
            resource_version: version,
            generated_at: date,
            first_invoice,
            term_finalized: true,
            is_gifted: false,
            deleted: false,
            line_items,
            discounts,
            line_item_taxes: line_taxes,
            taxes,
            linked_payments: Vec::new(),
            applied_credits: Vec::new(),
            adjustment_credit_notes: Vec::new(),
            issued_credit_notes: Vec::new(),
            billing_address: customer.billing_address.clone(),
            object: "invoice".into(),
        };
        settle(&mut invoice, &customer, secs);
        self.index.insert((Kind::Invoice, id), self.invoices.len());
        self.invoices.push(invoice.clone());
        self.emit(secs, "invoice_generated", vec![("invoice", snapshot(&invoice))]);
        Ok(invoice)
    }

    fn customer_of(&self, customer_id: &str) -> Option<Customer> {
        self.find(Kind::Customer, customer_id).map(|i| self.customers[i].clone())
    }

    /// Re-derives status after an amount changed and stamps the new version.
    fn touch_invoice(&mut self, ix: usize, version: i64, secs: i64) {
        let customer = self.customer_of(&self.invoices[ix].customer_id);
        let inv = &mut self.invoices[ix];
        if let Some(c) = customer {
            settle(inv, &c, secs);
        }
        inv.updated_at = secs;
        inv.resource_version = version;
    }

    pub fn void_invoice(&mut self, id: &str, at_ms: i64) -> Result<Invoice, SandboxError> {
        let ix = self.need(Kind::Invoice, id)?;
        let inv = &self.invoices[ix];
        if inv.amount_paid > 0 || inv.credits_applied > 0 || inv.status == "voided" {
            return Err(SandboxError::Invalid(format!(
                "invoice {id} has payments or credits applied (or is voided already); Chargebee refuses to void it"
            )));
        }
        let (version, secs) = self.next_version(at_ms);
        let inv = &mut self.invoices[ix];
        inv.status = "voided".into();
        inv.voided_at = Some(secs);
        inv.amount_due = 0;
        inv.updated_at = secs;
        inv.resource_version = version;
        let invoice = inv.clone();
        self.emit(secs, "invoice_updated", vec![("invoice", snapshot(&invoice))]);
        Ok(invoice)
    }

    pub fn delete_invoice(&mut self, id: &str, at_ms: i64) -> Result<Invoice, SandboxError> {
        let ix = self.need(Kind::Invoice, id)?;
        let (version, secs) = self.next_version(at_ms);
        let inv = &mut self.invoices[ix];
        inv.deleted = true;
        inv.updated_at = secs;
        inv.resource_version = version;
        let invoice = inv.clone();
        self.emit(secs, "invoice_deleted", vec![("invoice", snapshot(&invoice))]);
        Ok(invoice)
    }

    /// What Chargebee's daily job does when a due date passes: re-derive the status of an
    /// unpaid invoice; emits invoice_updated only if it changed.
    pub fn refresh_invoice_status(&mut self, id: &str, at_ms: i64) -> Result<Option<Invoice>, SandboxError> {
        let ix = self.need(Kind::Invoice, id)?;
        let mut probe = self.invoices[ix].clone();
        let Some(customer) = self.customer_of(&probe.customer_id) else {
            return Ok(None);
        };
        settle(&mut probe, &customer, at_ms.div_euclid(1000));
        if probe.status == self.invoices[ix].status {
            return Ok(None);
        }
        let (version, secs) = self.next_version(at_ms);
        self.touch_invoice(ix, version, secs);
        let invoice = self.invoices[ix].clone();
        self.emit(secs, "invoice_updated", vec![("invoice", snapshot(&invoice))]);
        Ok(Some(invoice))
    }

    // ---- payments ---------------------------------------------------------------------

    pub fn record_payment(&mut self, input: PaymentInput, at_ms: i64) -> Result<Transaction, SandboxError> {
        let Some((first_invoice_id, _)) = input.applications.first() else {
            return Err(SandboxError::Invalid("a payment must apply to an invoice".into()));
        };
        let first = self.need(Kind::Invoice, first_invoice_id)?;
        let customer_id = self.invoices[first].customer_id.clone();
        let currency = self.invoices[first].currency_code.clone();
        let mut ixs = Vec::new();
        for (invoice_id, amount) in &input.applications {
            let ix = self.need(Kind::Invoice, invoice_id)?;
            let inv = &self.invoices[ix];
            if inv.customer_id != customer_id || inv.currency_code != currency {
                return Err(SandboxError::Invalid(format!(
                    "invoice {invoice_id} belongs to another customer or currency than {first_invoice_id}"
                )));
            }
            if *amount <= 0 || *amount > inv.amount_due || inv.status == "voided" || inv.deleted {
                return Err(SandboxError::Invalid(format!(
                    "cannot apply {amount} to invoice {invoice_id} (status {}, amount_due {})",
                    inv.status, inv.amount_due
                )));
            }
            if ixs.contains(&ix) {
                return Err(SandboxError::Invalid(format!("invoice {invoice_id} appears twice in one payment")));
            }
            ixs.push(ix);
        }
        let (version, secs) = self.next_version(at_ms);
        let date = input.date.unwrap_or(secs);
        let txn_id = self.random_id("txn_");
        let amount: i64 = input.applications.iter().map(|(_, a)| a).sum();
        let mut linked_invoices = Vec::new();
        for (&ix, (_, applied)) in ixs.iter().zip(&input.applications) {
            let inv = &mut self.invoices[ix];
            inv.amount_paid += applied;
            inv.amount_due -= applied;
            inv.linked_payments.push(LinkedPayment {
                txn_id: txn_id.clone(),
                applied_amount: *applied,
                applied_at: secs,
                txn_status: "success".into(),
                txn_date: date,
                txn_amount: amount,
            });
            self.touch_invoice(ix, version, secs);
            let inv = &self.invoices[ix];
            linked_invoices.push(LinkedInvoice {
                invoice_id: inv.id.clone(),
                applied_amount: *applied,
                applied_at: secs,
                invoice_date: inv.date,
                invoice_total: inv.total,
                invoice_status: inv.status.clone(),
            });
        }
        let txn = Transaction {
            id: txn_id.clone(),
            customer_id: customer_id.clone(),
            payment_method: input.payment_method,
            gateway: "not_applicable".into(),
            reference_number: input.reference_number,
            id_at_gateway: None,
            kind: "payment".into(),
            date,
            currency_code: currency,
            amount,
            amount_unused: 0,
            status: "success".into(),
            refunded_txn_id: None,
            exchange_rate: 1.0,
            updated_at: secs,
            resource_version: version,
            deleted: false,
            linked_invoices,
            linked_credit_notes: Vec::new(),
            linked_refunds: Vec::new(),
            object: "transaction".into(),
        };
        self.index.insert((Kind::Transaction, txn_id), self.transactions.len());
        self.transactions.push(txn.clone());
        let customer = self.customer_of(&customer_id).map(|c| snapshot(&c)).unwrap_or(Value::Null);
        // INFERRED: payment_succeeded carries the first invoice; further invoices the payment
        // touched get their own invoice_updated event.
        self.emit(
            secs,
            "payment_succeeded",
            vec![
                ("transaction", snapshot(&txn)),
                ("invoice", snapshot(&self.invoices[ixs[0]])),
                ("customer", customer),
            ],
        );
        for &ix in &ixs[1..] {
            let inv = snapshot(&self.invoices[ix]);
            self.emit(secs, "invoice_updated", vec![("invoice", inv)]);
        }
        Ok(txn)
    }

    // ---- credit notes and refunds -----------------------------------------------------

    pub fn create_credit_note(&mut self, input: CreditNoteInput, at_ms: i64) -> Result<CreditNote, SandboxError> {
        let (cn, _) = self.credit_note_inner(input, at_ms, true, true)?;
        Ok(cn)
    }

    /// Builds and stores a credit note and updates the invoice; emits credit_note_created and
    /// invoice_updated when `emit` is set. `allocate`: apply it to what the invoice still owes.
    fn credit_note_inner(
        &mut self,
        input: CreditNoteInput,
        at_ms: i64,
        emit: bool,
        allocate: bool,
    ) -> Result<(CreditNote, usize), SandboxError> {
        let iix = self.need(Kind::Invoice, &input.reference_invoice_id)?;
        let inv = self.invoices[iix].clone();
        let already: i64 = inv.adjustment_credit_notes.iter().chain(&inv.issued_credit_notes).map(|c| c.cn_total).sum();
        if input.total <= 0 || input.total > inv.total - already {
            return Err(SandboxError::Invalid(format!(
                "credit note total {} must be positive and at most what invoice {} has not yet credited ({})",
                input.total,
                inv.id,
                inv.total - already
            )));
        }
        if inv.status == "voided" || inv.deleted {
            return Err(SandboxError::Invalid(format!("invoice {} is voided or deleted", inv.id)));
        }
        if input.kind == CreditNoteKind::Adjustment && input.total > inv.amount_due {
            return Err(SandboxError::Invalid(format!(
                "an adjustment credit note cannot exceed invoice {}'s amount_due {} (use a refundable one)",
                inv.id, inv.amount_due
            )));
        }
        let (version, secs) = self.next_version(at_ms);
        let date = input.date.unwrap_or(secs);
        // Split the tax-inclusive total in the invoice's tax ratio.
        let base = inv.total.max(1);
        let tax = round_half_up_div(input.total * inv.tax, base);
        let sub_total = input.total - tax;
        let id = format!("CN-{}", self.next_credit_note_number);
        self.next_credit_note_number += 1;
        let line_id = self.random_id("li_");
        let tax_rate = if sub_total > 0 && tax > 0 {
            Some((tax as f64 * 10_000.0 / sub_total as f64).round() / 100.0)
        } else {
            None
        };
        let line = LineItem {
            id: line_id.clone(),
            date_from: date,
            date_to: date,
            unit_amount: sub_total,
            quantity: 1,
            amount: sub_total,
            discount_amount: 0,
            tax_amount: tax,
            is_taxed: tax > 0,
            tax_rate,
            pricing_model: "flat_fee".into(),
            description: format!("Credit for invoice {}", inv.id),
            entity_type: "adhoc".into(),
            entity_id: None,
            customer_id: inv.customer_id.clone(),
            object: "line_item".into(),
        };
        let tax_name = inv.taxes.first().map(|t| t.name.clone()).unwrap_or_else(|| "Sales tax".into());
        let allocate = if allocate { input.total.min(inv.amount_due) } else { 0 };
        let mut cn = CreditNote {
            id: id.clone(),
            customer_id: inv.customer_id.clone(),
            reference_invoice_id: inv.id.clone(),
            kind: match input.kind {
                CreditNoteKind::Adjustment => "adjustment",
                CreditNoteKind::Refundable => "refundable",
            }
            .into(),
            reason_code: input.reason_code.clone(),
            status: String::new(),
            date,
            price_type: "tax_exclusive".into(),
            currency_code: inv.currency_code.clone(),
            total: input.total,
            amount_allocated: allocate,
            amount_refunded: 0,
            amount_available: input.total - allocate,
            refunded_at: None,
            generated_at: date,
            updated_at: secs,
            resource_version: version,
            sub_total,
            deleted: false,
            line_items: vec![line],
            line_item_taxes: if tax > 0 {
                vec![LineItemTax {
                    line_item_id: line_id,
                    tax_name: tax_name.clone(),
                    tax_rate: tax_rate.unwrap_or(0.0),
                    taxable_amount: sub_total,
                    tax_amount: tax,
                    object: "line_item_tax".into(),
                }]
            } else {
                Vec::new()
            },
            taxes: if tax > 0 {
                vec![Tax { name: tax_name, amount: tax, description: None, object: "tax".into() }]
            } else {
                Vec::new()
            },
            allocations: Vec::new(),
            linked_refunds: Vec::new(),
            object: "credit_note".into(),
        };
        cn.status = if cn.amount_available > 0 { "refund_due" } else { "adjusted" }.into();

        let inv = &mut self.invoices[iix];
        let issued = IssuedCreditNote {
            cn_id: id.clone(),
            cn_reason_code: Some(input.reason_code.clone()),
            cn_date: date,
            cn_total: input.total,
            cn_status: cn.status.clone(),
        };
        match input.kind {
            CreditNoteKind::Adjustment => {
                inv.amount_adjusted += allocate;
                inv.adjustment_credit_notes.push(issued);
            }
            CreditNoteKind::Refundable => {
                inv.issued_credit_notes.push(issued);
                if allocate > 0 {
                    inv.credits_applied += allocate;
                    inv.applied_credits.push(AppliedCredit {
                        cn_id: id.clone(),
                        applied_amount: allocate,
                        applied_at: secs,
                        cn_reason_code: Some(input.reason_code.clone()),
                        cn_date: date,
                        cn_status: cn.status.clone(),
                    });
                }
            }
        }
        inv.amount_due -= allocate;
        self.touch_invoice(iix, version, secs);
        if allocate > 0 {
            let inv = &self.invoices[iix];
            cn.allocations.push(Allocation {
                invoice_id: inv.id.clone(),
                allocated_amount: allocate,
                allocated_at: secs,
                invoice_date: inv.date,
                invoice_status: inv.status.clone(),
            });
        }
        self.index.insert((Kind::CreditNote, id), self.credit_notes.len());
        self.credit_notes.push(cn.clone());
        if emit {
            self.emit(secs, "credit_note_created", vec![("credit_note", snapshot(&cn))]);
            let inv = snapshot(&self.invoices[iix]);
            self.emit(secs, "invoice_updated", vec![("invoice", inv)]);
        }
        Ok((cn, iix))
    }

    pub fn refund(&mut self, input: RefundInput, at_ms: i64) -> Result<Transaction, SandboxError> {
        let iix = self.need(Kind::Invoice, &input.invoice_id)?;
        let inv = &self.invoices[iix];
        let refunded_so_far: i64 = inv
            .linked_payments
            .iter()
            .filter_map(|p| self.find(Kind::Transaction, &p.txn_id))
            .flat_map(|t| self.transactions[t].linked_refunds.iter())
            .map(|r| r.txn_amount)
            .sum();
        if input.amount <= 0 || input.amount > inv.amount_paid - refunded_so_far {
            return Err(SandboxError::Invalid(format!(
                "refund {} must be positive and at most the unrefunded payments on invoice {} ({})",
                input.amount,
                inv.id,
                inv.amount_paid - refunded_so_far
            )));
        }
        let Some(payment_id) = inv.linked_payments.last().map(|p| p.txn_id.clone()) else {
            return Err(SandboxError::Invalid(format!("invoice {} has no payment to refund", inv.id)));
        };
        let pix = self.need(Kind::Transaction, &payment_id)?;
        // Not allocated to the invoice: all of it is refunded.
        let (mut cn, _) = self.credit_note_inner(
            CreditNoteInput {
                reference_invoice_id: input.invoice_id.clone(),
                kind: CreditNoteKind::Refundable,
                reason_code: input.reason_code.clone(),
                total: input.amount,
                date: input.date,
            },
            at_ms,
            false,
            false,
        )?;
        let (version, secs) = self.next_version(at_ms);
        let date = input.date.unwrap_or(secs);
        let txn_id = self.random_id("txn_");
        let payment = &self.transactions[pix];
        let refund_amount = cn.amount_available;
        let txn = Transaction {
            id: txn_id.clone(),
            customer_id: payment.customer_id.clone(),
            payment_method: payment.payment_method.clone(),
            gateway: payment.gateway.clone(),
            reference_number: None,
            id_at_gateway: None,
            kind: "refund".into(),
            date,
            currency_code: payment.currency_code.clone(),
            amount: refund_amount,
            amount_unused: 0,
            status: "success".into(),
            refunded_txn_id: Some(payment.id.clone()),
            exchange_rate: 1.0,
            updated_at: secs,
            resource_version: version,
            deleted: false,
            linked_invoices: Vec::new(),
            linked_credit_notes: vec![LinkedCreditNote {
                cn_id: cn.id.clone(),
                applied_amount: refund_amount,
                applied_at: secs,
                cn_reason_code: Some(cn.reason_code.clone()),
                cn_date: cn.date,
                cn_total: cn.total,
                cn_status: "refunded".into(),
                cn_reference_invoice_id: cn.reference_invoice_id.clone(),
            }],
            linked_refunds: Vec::new(),
            object: "transaction".into(),
        };
        let payment = &mut self.transactions[pix];
        payment.linked_refunds.push(LinkedRefund {
            txn_id: txn_id.clone(),
            txn_status: "success".into(),
            txn_date: date,
            txn_amount: refund_amount,
        });
        payment.updated_at = secs;
        payment.resource_version = version;

        cn.amount_refunded += refund_amount;
        cn.amount_available -= refund_amount;
        cn.status = "refunded".into();
        cn.refunded_at = Some(secs);
        cn.updated_at = secs;
        cn.resource_version = version;
        cn.linked_refunds.push(CreditNoteRefund {
            txn_id: txn_id.clone(),
            applied_amount: refund_amount,
            applied_at: secs,
            txn_status: "success".into(),
            txn_date: date,
            txn_amount: refund_amount,
        });
        let cnix = self.need(Kind::CreditNote, &cn.id)?;
        self.credit_notes[cnix] = cn.clone();
        let inv = &mut self.invoices[iix];
        for issued in &mut inv.issued_credit_notes {
            if issued.cn_id == cn.id {
                issued.cn_status = "refunded".into();
            }
        }
        inv.updated_at = secs;
        inv.resource_version = version;

        self.index.insert((Kind::Transaction, txn_id), self.transactions.len());
        self.transactions.push(txn.clone());
        let customer = self.customer_of(&txn.customer_id).map(|c| snapshot(&c)).unwrap_or(Value::Null);
        self.emit(secs, "credit_note_created", vec![("credit_note", snapshot(&cn))]);
        self.emit(
            secs,
            "payment_refunded",
            vec![
                ("transaction", snapshot(&txn)),
                ("invoice", snapshot(&self.invoices[iix])),
                ("credit_note", snapshot(&cn)),
                ("customer", customer),
            ],
        );
        Ok(txn)
    }

    /// Sets an event's webhook_status (the webhook sender reports back here).
    pub fn set_webhook_status(&mut self, event_id: &str, status: &str) {
        if let Some(ix) = self.find(Kind::Event, event_id) {
            self.events[ix].webhook_status = status.into();
        }
    }
}

fn check_currency(code: &str) -> Result<(), SandboxError> {
    minor_unit_exponent(code)
        .map(|_| ())
        .ok_or_else(|| SandboxError::Invalid(format!("currency {code:?} is not one the sandbox knows")))
}

/// Chargebee's invoice status from its amounts: paid when nothing is due; posted while the
/// due date is ahead; then payment_due (auto collection on) or not_paid (off).
/// INFERRED: statuses are derived at change time; the sandbox runs no job that moves a posted
/// invoice to payment_due when its due date passes.
fn settle(inv: &mut Invoice, customer: &Customer, now: i64) {
    if inv.status == "voided" {
        return;
    }
    if inv.amount_due <= 0 {
        inv.status = "paid".into();
        if inv.paid_at.is_none() && inv.amount_paid > 0 {
            inv.paid_at = Some(now);
        }
    } else if inv.due_date > now {
        inv.status = "posted".into();
    } else if customer.auto_collection == "on" {
        inv.status = "payment_due".into();
    } else {
        inv.status = "not_paid".into();
    }
}
