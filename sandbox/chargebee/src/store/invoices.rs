//! Invoice mutations: create (lines, item discounts, per-line tax, totals), void, delete, and
//! the due-date job's status refresh; plus the status rule every amount change goes through.

use super::{InvoiceInput, Kind, LineInput, SandboxError, SiteData, check_currency, round_half_up_div, snapshot};
use crate::model::{Customer, Discount, Invoice, LineItem, LineItemTax, Tax, exchange_rate_of};

/// One tax a line pays: (tax_name, juris type, juris name, juris code, basis points).
type Component = (String, Option<&'static str>, Option<&'static str>, Option<&'static str>, u32);

/// How a line's tax rate splits into the taxes Chargebee reports. US "Sales tax" (the seed's
/// California customers) is state 6 % + Los Angeles county 0.25 % + city for the rest; any
/// other tax is one component named like the invoice's tax.
fn components(tax_name: &str, rate_bp: u32) -> Vec<Component> {
    if tax_name == "Sales tax" && rate_bp > 625 {
        return vec![
            ("CA State Tax".into(), Some("state"), Some("California"), Some("06"), 600),
            ("CA County Tax".into(), Some("county"), Some("Los Angeles"), Some("037"), 25),
            ("CA City Tax".into(), Some("city"), Some("Los Angeles"), Some("44000"), rate_bp - 625),
        ];
    }
    vec![(tax_name.to_string(), None, None, None, rate_bp)]
}

/// Cash rounding of the total, in minor units (AUD: to 5 cents, as Australian invoices are);
/// none for other currencies.
fn rounding_step(currency: &str) -> Option<i64> {
    (currency == "AUD").then_some(5)
}

/// An invoice's lines as Chargebee reports them: the line items and, beside them, the item
/// discounts and per-line taxes that point back at a line by id.
#[derive(Default)]
struct BuiltLines {
    line_items: Vec<LineItem>,
    discounts: Vec<Discount>,
    line_taxes: Vec<LineItemTax>,
}

/// Refuses a line Chargebee would: non-positive quantity, negative amounts, or a discount
/// larger than the line.
fn check_line(l: &LineInput) -> Result<i64, SandboxError> {
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
    Ok(amount)
}

/// The invoice-level tax summary: one entry per tax name of the line taxes, in first-seen order
/// (Σ = the invoice's tax), if any tax was charged.
fn tax_summary(line_taxes: &[LineItemTax], tax_name: &str, tax: i64) -> Vec<Tax> {
    let mut out: Vec<Tax> = Vec::new();
    if tax <= 0 {
        return out;
    }
    for t in line_taxes.iter().filter(|t| t.tax_amount > 0) {
        match out.iter_mut().find(|x| x.name == t.tax_name) {
            Some(x) => x.amount += t.tax_amount,
            None => out.push(Tax {
                name: t.tax_name.clone(),
                amount: t.tax_amount,
                description: Some(if t.tax_name == tax_name { tax_name.into() } else { t.tax_name.clone() }),
                object: "tax".into(),
            }),
        }
    }
    out
}

impl SiteData {
    pub fn create_invoice(&mut self, input: InvoiceInput, at_ms: i64) -> Result<Invoice, SandboxError> {
        let cix = self.need(Kind::Customer, &input.customer_id)?;
        let customer = self.customers[cix].clone();
        if customer.deleted {
            return Err(SandboxError::Invalid(format!("customer {} is deleted", customer.id)));
        }
        if input.lines.is_empty() {
            return Err(SandboxError::Invalid("an invoice needs at least one line".into()));
        }
        let currency =
            input.currency_code.clone().or(customer.preferred_currency_code.clone()).unwrap_or_else(|| "USD".into());
        check_currency(&currency)?;
        let (version, secs) = self.next_version(at_ms);
        let date = input.date.unwrap_or(secs);
        let net_term_days = input.net_term_days.unwrap_or(customer.net_term_days);
        let id = self.next_invoice_number.to_string();
        self.next_invoice_number += 1;
        let lines = self.build_lines(&input, &customer.id, date)?;

        let sub_total: i64 = lines.line_items.iter().map(|l| l.amount).sum();
        let discount_total: i64 = lines.line_items.iter().map(|l| l.discount_amount).sum();
        let tax: i64 = lines.line_items.iter().map(|l| l.tax_amount).sum();
        let unrounded = sub_total - discount_total + tax;
        let total = match rounding_step(&currency) {
            Some(step) => round_half_up_div(unrounded, step) * step,
            None => unrounded,
        };
        let round_off_amount = total - unrounded;
        let taxes = tax_summary(&lines.line_taxes, &input.tax_name, tax);
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
            exchange_rate: exchange_rate_of(&currency),
            currency_code: currency,
            total,
            amount_paid: 0,
            amount_adjusted: 0,
            write_off_amount: 0,
            credits_applied: 0,
            amount_due: total,
            sub_total,
            tax,
            round_off_amount,
            updated_at: secs,
            resource_version: version,
            generated_at: date,
            first_invoice,
            term_finalized: true,
            is_gifted: false,
            deleted: false,
            line_items: lines.line_items,
            discounts: lines.discounts,
            line_item_taxes: lines.line_taxes,
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

    /// Prices every input line: amount = unit × quantity, tax on amount − discount at the
    /// line's rate, per tax component (see [`components`]), each rounded half up.
    fn build_lines(&mut self, input: &InvoiceInput, customer_id: &str, date: i64) -> Result<BuiltLines, SandboxError> {
        let mut built = BuiltLines::default();
        for l in &input.lines {
            let amount = check_line(l)?;
            let taxable = amount - l.discount_amount;
            let line_id = self.random_id("li_");
            let mut tax_amount = 0;
            if l.tax_rate_bp > 0 {
                for (tax_name, juris_type, juris_name, juris_code, bp) in components(&input.tax_name, l.tax_rate_bp) {
                    let part = round_half_up_div(taxable * i64::from(bp), 10_000);
                    tax_amount += part;
                    built.line_taxes.push(LineItemTax {
                        line_item_id: line_id.clone(),
                        tax_name,
                        tax_rate: f64::from(bp) / 100.0,
                        taxable_amount: taxable,
                        tax_amount: part,
                        tax_juris_type: juris_type.map(str::to_string),
                        tax_juris_name: juris_name.map(str::to_string),
                        tax_juris_code: juris_code.map(str::to_string),
                        object: "line_item_tax".into(),
                    });
                }
            }
            let rate = f64::from(l.tax_rate_bp) / 100.0;
            if l.discount_amount > 0 {
                built.discounts.push(Discount {
                    amount: l.discount_amount,
                    description: format!("Discount on {}", l.description),
                    entity_type: "item_level_discount".into(),
                    line_item_id: Some(line_id.clone()),
                    object: "discount".into(),
                });
            }
            built.line_items.push(LineItem {
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
                customer_id: customer_id.into(),
                object: "line_item".into(),
            });
        }
        Ok(built)
    }

    /// Re-derives status after an amount changed and stamps the new version.
    pub(super) fn touch_invoice(&mut self, ix: usize, version: i64, secs: i64) {
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
