//! The amounts of an invoice or credit memo from Chargebee's, checked, never repaired.
//!
//! Chargebee's identities (chargebee-objects.md §3.2/§3.4; the WIT records):
//! - tax exclusive: `total = sub_total − Σ discounts + tax + round_off_amount`, with
//!   `sub_total = Σ line amounts` (before discount and tax);
//! - tax inclusive (`price_type = tax_inclusive`): line amounts, and so `sub_total`, already
//!   include their tax, so `total = sub_total − Σ discounts + round_off_amount`. INFERRED: the
//!   reference names `price_type` but not this identity; it is Chargebee's documented meaning of
//!   tax-inclusive prices, and a document that does not satisfy it is refused at `….total`.
//!
//! GP: `sales` is net of tax (sub-total − tax when inclusive), `trade-discount` is the discount,
//! `misc` a positive round-off; a negative round-off (GP amounts are ≥ 0) is added to the trade
//! discount instead; then `total = sales − trade-discount + misc + tax` is Chargebee's total.

use crate::common::{checked_sum, money, non_negative};
use crate::settings::Settings;
use crate::wit::{InvoiceLine, LineTax};
use crate::{MappingError, err};

/// What a document says, for `doc` = "invoice" | "credit-note" (field names in errors).
pub struct Source<'a> {
    pub doc: &'a str,
    pub lines: &'a [InvoiceLine],
    /// Invoices must have lines summing to the sub-total; credit notes may come without lines.
    pub lines_required: bool,
    pub sub_total: i64,
    pub discount: i64,
    pub tax: i64,
    pub round_off: i64,
    pub total: i64,
    pub price_type: &'a str,
    pub line_taxes: &'a [LineTax],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amounts {
    pub sales: i64,
    /// Chargebee's discounts.
    pub discount: i64,
    /// A negative round-off, as a positive amount (part of the GP trade discount).
    pub round_down: i64,
    /// = discount + round_down.
    pub trade_discount: i64,
    /// A positive round-off.
    pub misc: i64,
    pub tax: i64,
    pub total: i64,
    pub inclusive: bool,
    /// Each line's sales amount: its amount, less its share of the tax when inclusive.
    pub line_sales: Vec<i64>,
}

pub fn amounts(d: &Source, iso: &str) -> Result<Amounts, MappingError> {
    let doc = d.doc;
    let inclusive = match d.price_type {
        "tax_exclusive" | "" => false,
        "tax_inclusive" => true,
        other => return Err(err(&format!("{doc}.price-type"), format!("unknown price type {other:?}"))),
    };
    for (n, line) in d.lines.iter().enumerate() {
        non_negative(line.amount, &format!("{doc}.lines[{n}].amount"), iso)?;
    }
    let lines_sum = checked_sum(d.lines.iter().map(|l| l.amount), &format!("{doc}.lines"))?;
    if (d.lines_required || !d.lines.is_empty()) && lines_sum != d.sub_total {
        return Err(err(
            &format!("{doc}.sub-total"),
            format!(
                "the {} line amounts sum to {} but the sub-total is {}",
                d.lines.len(),
                money(lines_sum, iso),
                money(d.sub_total, iso)
            ),
        ));
    }
    let sub_total = non_negative(d.sub_total, &format!("{doc}.sub-total"), iso)?;
    let discount = non_negative(d.discount, &format!("{doc}.discount"), iso)?;
    let tax = non_negative(d.tax, &format!("{doc}.tax"), iso)?;
    let overflow = || err(&format!("{doc}.total"), "the amounts overflow");
    let added_tax = if inclusive { 0 } else { tax };
    let expected = sub_total
        .checked_sub(discount)
        .and_then(|v| v.checked_add(added_tax))
        .and_then(|v| v.checked_add(d.round_off))
        .ok_or_else(overflow)?;
    if d.total != expected {
        let tax_part = if inclusive {
            format!(" (tax {} included)", money(tax, iso))
        } else {
            format!(" + tax {}", money(tax, iso))
        };
        let round_part =
            if d.round_off != 0 { format!(" + round-off {}", money(d.round_off, iso)) } else { String::new() };
        return Err(err(
            &format!("{doc}.total"),
            format!(
                "total {} ≠ sub-total {} − discount {}{tax_part}{round_part} = {}",
                money(d.total, iso),
                money(sub_total, iso),
                money(discount, iso),
                money(expected, iso)
            ),
        ));
    }
    let total = non_negative(d.total, &format!("{doc}.total"), iso)?;
    let sales = if inclusive {
        sub_total.checked_sub(tax).filter(|s| *s >= 0).ok_or_else(|| {
            err(
                &format!("{doc}.tax"),
                format!("tax {} exceeds the tax-inclusive sub-total {}", money(tax, iso), money(sub_total, iso)),
            )
        })?
    } else {
        sub_total
    };
    let misc = d.round_off.max(0);
    let round_down = d.round_off.checked_neg().ok_or_else(overflow)?.max(0);
    let trade_discount = discount.checked_add(round_down).ok_or_else(overflow)?;
    let line_sales = if inclusive {
        let shares = crate::tax::per_line(d.lines, d.line_taxes, tax, &format!("{doc}.line-taxes"))?;
        let mut out = Vec::with_capacity(d.lines.len());
        for (n, (line, share)) in d.lines.iter().zip(shares).enumerate() {
            let net = line.amount.checked_sub(share).filter(|v| *v >= 0).ok_or_else(|| {
                err(
                    &format!("{doc}.lines[{n}].tax"),
                    format!(
                        "the line's tax {} exceeds its tax-inclusive amount {}",
                        money(share, iso),
                        money(line.amount, iso)
                    ),
                )
            })?;
            out.push(net);
        }
        out
    } else {
        d.lines.iter().map(|l| l.amount).collect()
    };
    Ok(Amounts { sales, discount, round_down, trade_discount, misc, tax, total, inclusive, line_sales })
}

/// Sales (or returns) amounts per GL account in first-seen order, or per line with the line's
/// description as reference; `fixed` sends every line to one account (credit memo returns).
/// Lines are `(line, its sales amount)`; zero amounts are left out. Without lines the whole
/// `sales` goes to `fixed`, else to `map.account.sales`.
pub fn sales_split(
    s: &Settings,
    doc: &str,
    lines: &[InvoiceLine],
    line_sales: &[i64],
    sales: i64,
    per_line: bool,
    fixed: Option<&str>,
) -> Result<Vec<(String, i64, Option<String>)>, MappingError> {
    let mut out: Vec<(String, i64, Option<String>)> = Vec::new();
    if lines.is_empty() {
        if sales != 0 {
            let account = match fixed {
                Some(a) => a.to_string(),
                None => s.account("map.account.sales", &format!("for the {doc}'s sales distribution"))?,
            };
            out.push((account, sales, None));
        }
        return Ok(out);
    }
    for (n, (line, &amount)) in lines.iter().zip(line_sales).enumerate().filter(|(_, (_, a))| **a != 0) {
        let account = match fixed {
            Some(a) => a.to_string(),
            None => sales_account(s, doc, n, line)?,
        };
        if per_line {
            out.push((account, amount, Some(line.description.clone())));
        } else if let Some(slot) = out.iter_mut().find(|(a, _, _)| *a == account) {
            slot.1 = checked_sum([slot.1, amount], &format!("{doc}.lines"))?;
        } else {
            out.push((account, amount, None));
        }
    }
    Ok(out)
}

/// `map.account.sales.item.<entity-id>`, else `map.account.sales.type.<entity-type>`, else
/// `map.account.sales`.
fn sales_account(s: &Settings, doc: &str, n: usize, line: &InvoiceLine) -> Result<String, MappingError> {
    if let Some(id) = &line.entity_id
        && let Some(a) = s.account_opt(&format!("map.account.sales.item.{id}"))?
    {
        return Ok(a);
    }
    if let Some(a) = s.account_opt(&format!("map.account.sales.type.{}", line.entity_type))? {
        return Ok(a);
    }
    s.account(
        "map.account.sales",
        &format!(
            "for the sales distribution of {doc} line {n} ({} {})",
            line.entity_type,
            line.entity_id.as_deref().unwrap_or("")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn src<'a>(
        lines: &'a [InvoiceLine],
        taxes: &'a [LineTax],
        v: (i64, i64, i64, i64, i64),
        price_type: &'a str,
    ) -> Source<'a> {
        Source {
            doc: "invoice",
            lines,
            lines_required: true,
            sub_total: v.0,
            discount: v.1,
            tax: v.2,
            round_off: v.3,
            total: v.4,
            price_type,
            line_taxes: taxes,
        }
    }

    #[test]
    fn exclusive_with_round_off_up_and_down() {
        let lines = [line("li_1", "A", 1, 10_000, 0, "adhoc", None)];
        let a = amounts(&src(&lines, &[], (10_000, 0, 770, 3, 10_773), "tax_exclusive"), "CHF").expect("ok");
        assert_eq!((a.sales, a.trade_discount, a.misc, a.tax, a.total), (10_000, 0, 3, 770, 10_773));
        let a = amounts(&src(&lines, &[], (10_000, 500, 770, -2, 10_268), "tax_exclusive"), "CHF").expect("ok");
        assert_eq!((a.sales, a.discount, a.round_down, a.trade_discount, a.misc), (10_000, 500, 2, 502, 0));
        assert_eq!(a.total, a.sales - a.trade_discount + a.misc + a.tax);
        let e = amounts(&src(&lines, &[], (10_000, 0, 770, 3, 10_770), "tax_exclusive"), "CHF").expect_err("off");
        assert_eq!(e.field, "invoice.total");
        assert!(e.message.contains("round-off 0.03 CHF"), "{}", e.message);
    }

    #[test]
    fn inclusive_sales_are_net_of_tax_per_line() {
        let lines = [line("li_1", "A", 1, 11_900, 0, "adhoc", None), line("li_2", "B", 1, 1_070, 0, "adhoc", None)];
        let taxes = [
            LineTax {
                line_id: Some("li_1".into()),
                name: "VAT".into(),
                jurisdiction_type: None,
                jurisdiction_name: None,
                jurisdiction_code: None,
                rate: "19.0".into(),
                taxable: 10_000,
                amount: 1_900,
            },
            LineTax {
                line_id: Some("li_2".into()),
                name: "VAT 7".into(),
                jurisdiction_type: None,
                jurisdiction_name: None,
                jurisdiction_code: None,
                rate: "7.0".into(),
                taxable: 1_000,
                amount: 70,
            },
        ];
        let a = amounts(&src(&lines, &taxes, (12_970, 0, 1_970, 0, 12_970), "tax_inclusive"), "EUR").expect("ok");
        assert_eq!((a.sales, a.tax, a.total, a.line_sales.as_slice()), (11_000, 1_970, 12_970, &[10_000, 1_000][..]));
        assert_eq!(a.total, a.sales - a.trade_discount + a.misc + a.tax);
        // The exclusive identity does not hold for an inclusive document.
        let e = amounts(&src(&lines, &taxes, (12_970, 0, 1_970, 0, 14_940), "tax_inclusive"), "EUR").expect_err("?");
        assert_eq!(e.field, "invoice.total");
        assert_eq!(
            amounts(&src(&lines, &taxes, (12_970, 0, 1_970, 0, 12_970), "gross"), "EUR").expect_err("?").field,
            "invoice.price-type"
        );
    }
}
