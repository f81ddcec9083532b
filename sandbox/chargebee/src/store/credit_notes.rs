//! Credit notes against an invoice: adjustment (reduces what is owed) or refundable (applied
//! to the unpaid part, the rest refund_due); the tax-inclusive total is split in the
//! invoice's tax ratio.

use super::{CreditNoteInput, CreditNoteKind, Kind, SandboxError, SiteData, round_half_up_div, snapshot};
use crate::model::{
    Allocation, AppliedCredit, CreditNote, Discount, Invoice, IssuedCreditNote, LineItem, LineItemTax, Tax,
};

/// A credit note's amounts: the tax-inclusive total split into sub_total and tax in the
/// invoice's ratio, and the rate that split implies (percent, two decimals).
struct CreditSplit {
    /// Net of discount: what the tax is charged on.
    net: i64,
    /// The invoice's discount share: the credited line is `net + discount`, less a discount.
    discount: i64,
    tax: i64,
    tax_rate: Option<f64>,
}

impl CreditSplit {
    fn of(total: i64, inv: &Invoice) -> Self {
        let tax = round_half_up_div(total * inv.tax, inv.total.max(1));
        let sub_total = total - tax;
        let inv_discount: i64 = inv.discounts.iter().map(|d| d.amount).sum();
        let inv_net = inv.sub_total - inv_discount;
        let discount =
            if inv_discount > 0 && inv_net > 0 { round_half_up_div(sub_total * inv_discount, inv_net) } else { 0 };
        let tax_rate = if sub_total > 0 && tax > 0 {
            Some((tax as f64 * 10_000.0 / sub_total as f64).round() / 100.0)
        } else {
            None
        };
        CreditSplit { net: sub_total, discount, tax, tax_rate }
    }
}

/// Refuses what Chargebee refuses: more than the invoice has not yet credited, a voided or
/// deleted invoice, an adjustment larger than what is still due.
fn check_credit_note(input: &CreditNoteInput, inv: &Invoice) -> Result<(), SandboxError> {
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
    Ok(())
}

/// The single flat-fee line a credit note carries (its amount before the discount share), with
/// its discount, and its tax split over the invoice's taxes in their proportions (the last
/// takes the rounding), each with the jurisdiction the invoice's line taxes had.
fn credit_lines(
    split: &CreditSplit,
    line_id: &str,
    inv: &Invoice,
    date: i64,
) -> (LineItem, Vec<Discount>, Vec<LineItemTax>, Vec<Tax>) {
    let amount = split.net + split.discount;
    let discounts = if split.discount > 0 {
        vec![Discount {
            amount: split.discount,
            description: format!("Discount share of invoice {}", inv.id),
            entity_type: "document_level_discount".into(),
            line_item_id: None,
            object: "discount".into(),
        }]
    } else {
        Vec::new()
    };
    let line = LineItem {
        id: line_id.into(),
        date_from: date,
        date_to: date,
        unit_amount: amount,
        quantity: 1,
        amount,
        discount_amount: split.discount,
        tax_amount: split.tax,
        is_taxed: split.tax > 0,
        tax_rate: split.tax_rate,
        pricing_model: "flat_fee".into(),
        description: format!("Credit for invoice {}", inv.id),
        entity_type: "adhoc".into(),
        entity_id: None,
        customer_id: inv.customer_id.clone(),
        object: "line_item".into(),
    };
    if split.tax == 0 {
        return (line, discounts, Vec::new(), Vec::new());
    }
    let fallback = [Tax { name: "Sales tax".into(), amount: inv.tax, description: None, object: "tax".into() }];
    let inv_taxes = if inv.taxes.is_empty() { &fallback[..] } else { &inv.taxes[..] };
    let (mut line_taxes, mut taxes) = (Vec::new(), Vec::new());
    let mut left = split.tax;
    for (n, t) in inv_taxes.iter().enumerate() {
        let part = if n + 1 == inv_taxes.len() {
            left
        } else {
            round_half_up_div(split.tax * t.amount, inv.tax.max(1)).min(left)
        };
        left -= part;
        let like = inv.line_item_taxes.iter().find(|l| l.tax_name == t.name);
        let rate = match like {
            Some(l) => l.tax_rate,
            None => split.tax_rate.unwrap_or(0.0),
        };
        line_taxes.push(LineItemTax {
            line_item_id: line_id.into(),
            tax_name: t.name.clone(),
            tax_rate: rate,
            taxable_amount: split.net,
            tax_amount: part,
            tax_juris_type: like.and_then(|l| l.tax_juris_type.clone()),
            tax_juris_name: like.and_then(|l| l.tax_juris_name.clone()),
            tax_juris_code: like.and_then(|l| l.tax_juris_code.clone()),
            object: "line_item_tax".into(),
        });
        taxes.push(Tax { name: t.name.clone(), amount: part, description: None, object: "tax".into() });
    }
    (line, discounts, line_taxes, taxes)
}

impl SiteData {
    pub fn create_credit_note(&mut self, input: CreditNoteInput, at_ms: i64) -> Result<CreditNote, SandboxError> {
        let (cn, _) = self.credit_note_inner(input, at_ms, true, true)?;
        Ok(cn)
    }

    /// Builds and stores a credit note and updates the invoice; emits credit_note_created and
    /// invoice_updated when `emit` is set. `allocate`: apply it to what the invoice still owes.
    pub(super) fn credit_note_inner(
        &mut self,
        input: CreditNoteInput,
        at_ms: i64,
        emit: bool,
        allocate: bool,
    ) -> Result<(CreditNote, usize), SandboxError> {
        let iix = self.need(Kind::Invoice, &input.reference_invoice_id)?;
        let inv = self.invoices[iix].clone();
        check_credit_note(&input, &inv)?;
        let (version, secs) = self.next_version(at_ms);
        let date = input.date.unwrap_or(secs);
        let split = CreditSplit::of(input.total, &inv);
        let id = format!("CN-{}", self.next_credit_note_number);
        self.next_credit_note_number += 1;
        let line_id = self.random_id("li_");
        let (line, discounts, line_item_taxes, taxes) = credit_lines(&split, &line_id, &inv, date);
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
            status: if input.total - allocate > 0 { "refund_due" } else { "adjusted" }.into(),
            date,
            price_type: "tax_exclusive".into(),
            currency_code: inv.currency_code.clone(),
            exchange_rate: inv.exchange_rate,
            total: input.total,
            amount_allocated: allocate,
            amount_refunded: 0,
            amount_available: input.total - allocate,
            refunded_at: None,
            generated_at: date,
            updated_at: secs,
            resource_version: version,
            sub_total: split.net + split.discount,
            deleted: false,
            line_items: vec![line],
            discounts,
            line_item_taxes,
            taxes,
            allocations: Vec::new(),
            linked_refunds: Vec::new(),
            object: "credit_note".into(),
        };
        self.credit_invoice(iix, &cn, input.kind, version);
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

    /// The invoice's side of a new credit note: listed as adjustment or issued, its allocated
    /// part taken off what is due (adjusted, or applied as credit), status re-derived.
    fn credit_invoice(&mut self, iix: usize, cn: &CreditNote, kind: CreditNoteKind, version: i64) {
        let (allocate, secs) = (cn.amount_allocated, cn.updated_at);
        let inv = &mut self.invoices[iix];
        let issued = IssuedCreditNote {
            cn_id: cn.id.clone(),
            cn_reason_code: Some(cn.reason_code.clone()),
            cn_date: cn.date,
            cn_total: cn.total,
            cn_status: cn.status.clone(),
        };
        match kind {
            CreditNoteKind::Adjustment => {
                inv.amount_adjusted += allocate;
                inv.adjustment_credit_notes.push(issued);
            }
            CreditNoteKind::Refundable => {
                inv.issued_credit_notes.push(issued);
                if allocate > 0 {
                    inv.credits_applied += allocate;
                    inv.applied_credits.push(AppliedCredit {
                        cn_id: cn.id.clone(),
                        applied_amount: allocate,
                        applied_at: secs,
                        cn_reason_code: Some(cn.reason_code.clone()),
                        cn_date: cn.date,
                        cn_status: cn.status.clone(),
                    });
                }
            }
        }
        inv.amount_due -= allocate;
        self.touch_invoice(iix, version, secs);
    }
}
