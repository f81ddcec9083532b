//! GP tax details (RM10601 rows) from Chargebee's `line_item_taxes[]`: each line tax maps to a
//! GP tax detail id (`map.tax.<tax_name>`, else `map.tax.<tax_juris_name>`, else
//! `map.tax.<tax_juris_code>`), line taxes mapped to one id are summed (amount and taxable
//! sales), and the details must add up to the document's tax to the minor unit. A document with
//! tax but no line taxes takes `map.tax.default` for the whole tax.

use crate::common::{checked_sum, money, non_negative};
use crate::settings::{Settings, TAX_DETAIL_MAX};
use crate::wit::{LineTax, TaxDetail};
use crate::{MappingError, err};

/// The GP tax detail id of one Chargebee line tax.
fn detail_id(s: &Settings, t: &LineTax) -> Result<String, MappingError> {
    let candidates = [Some(t.name.as_str()), t.jurisdiction_name.as_deref(), t.jurisdiction_code.as_deref()];
    for name in candidates.into_iter().flatten().map(str::trim).filter(|n| !n.is_empty()) {
        if let Some(id) = s.gp_key(&format!("map.tax.{name}"), TAX_DETAIL_MAX)? {
            return Ok(id);
        }
    }
    let juris: Vec<String> =
        [&t.jurisdiction_name, &t.jurisdiction_code].into_iter().flatten().map(|j| format!("map.tax.{j}")).collect();
    Err(err(
        &format!("map.tax.{}", t.name),
        format!(
            "no GP tax detail for Chargebee tax {:?}{}: set map.tax.{}{} to a GP tax detail id (TAXDTLID, ≤ {TAX_DETAIL_MAX})",
            t.name,
            t.jurisdiction_type.as_deref().map(|j| format!(" ({j} jurisdiction)")).unwrap_or_default(),
            t.name,
            if juris.is_empty() { String::new() } else { format!(" (or {})", juris.join(" or ")) },
        ),
    ))
}

/// The GL account of a tax detail: `map.account.tax.<TAXDTLID>`, else (explicit distributions)
/// `map.account.tax` — required when the detail has an amount. With GP's default distributions
/// only a per-detail account is sent (none = the tax detail's own account).
pub fn detail_account(
    s: &Settings,
    id: &str,
    amount: i64,
    explicit: bool,
    doc: &str,
) -> Result<Option<String>, MappingError> {
    if let Some(a) = s.account_opt(&format!("map.account.tax.{id}"))? {
        return Ok(Some(a));
    }
    if !explicit {
        return Ok(None);
    }
    if amount == 0 {
        return s.account_opt("map.account.tax");
    }
    s.account(
        "map.account.tax",
        &format!("for the {doc}'s tax distribution of tax detail {id} (or set map.account.tax.{id})"),
    )
    .map(Some)
}

/// Tax details of a document (`doc` = "invoice" | "credit-note") with tax `tax`; `taxable` is
/// the taxable sales of a `map.tax.default` detail.
pub fn details(
    s: &Settings,
    doc: &str,
    line_taxes: &[LineTax],
    tax: i64,
    taxable: i64,
    iso: &str,
    explicit: bool,
) -> Result<Vec<TaxDetail>, MappingError> {
    let field = format!("{doc}.line-taxes");
    let mut out: Vec<TaxDetail> = Vec::new();
    if line_taxes.is_empty() {
        if tax == 0 {
            return Ok(out);
        }
        let id = s.gp_key("map.tax.default", TAX_DETAIL_MAX)?.ok_or_else(|| {
            err(
                "map.tax.default",
                format!(
                    "the {doc} has tax {} but Chargebee sent no line_item_taxes to name its GP tax details; set map.tax.default to the GP tax detail id (TAXDTLID) for such documents",
                    money(tax, iso)
                ),
            )
        })?;
        let account = detail_account(s, &id, tax, explicit, doc)?;
        out.push(TaxDetail { id, amount: tax, taxable_sales: taxable, account });
        return Ok(out);
    }
    for (n, t) in line_taxes.iter().enumerate() {
        non_negative(t.amount, &format!("{field}[{n}].amount"), iso)?;
        non_negative(t.taxable, &format!("{field}[{n}].taxable"), iso)?;
        let id = detail_id(s, t)?;
        match out.iter_mut().find(|d| d.id == id) {
            Some(d) => {
                d.amount = checked_sum([d.amount, t.amount], &field)?;
                d.taxable_sales = checked_sum([d.taxable_sales, t.taxable], &field)?;
            }
            None => out.push(TaxDetail { id, amount: t.amount, taxable_sales: t.taxable, account: None }),
        }
    }
    let sum = checked_sum(out.iter().map(|d| d.amount), &field)?;
    if sum != tax {
        return Err(err(
            &field,
            format!(
                "the {} line taxes sum to {} but the {doc}'s tax is {}",
                line_taxes.len(),
                money(sum, iso),
                money(tax, iso)
            ),
        ));
    }
    for d in &mut out {
        d.account = detail_account(s, &d.id, d.amount, explicit, doc)?;
    }
    Ok(out)
}

/// Each line's share of the document tax, for tax-inclusive lines: the line taxes that name the
/// line (`line_item_id`), or the line's own `tax` when Chargebee sent no line taxes; what is
/// left (document-level line taxes, rounding) goes to the last line with an amount.
pub fn per_line(
    lines: &[crate::wit::InvoiceLine],
    line_taxes: &[LineTax],
    tax: i64,
    field: &str,
) -> Result<Vec<i64>, MappingError> {
    let mut shares = Vec::with_capacity(lines.len());
    for line in lines {
        let share = if line_taxes.is_empty() {
            line.tax
        } else {
            checked_sum(
                line_taxes.iter().filter(|t| t.line_id.as_deref() == Some(line.id.as_str())).map(|t| t.amount),
                field,
            )?
        };
        shares.push(share);
    }
    let assigned = checked_sum(shares.iter().copied(), field)?;
    let rest = tax.checked_sub(assigned).ok_or_else(|| err(field, "the amounts overflow"))?;
    if rest != 0 {
        let last = lines.iter().rposition(|l| l.amount != 0).or(lines.len().checked_sub(1));
        if let Some(i) = last {
            shares[i] = checked_sum([shares[i], rest], field)?;
        }
    }
    Ok(shares)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn lt(line: &str, name: &str, juris: Option<(&str, &str, &str)>, taxable: i64, amount: i64) -> LineTax {
        LineTax {
            line_id: Some(line.into()),
            name: name.into(),
            jurisdiction_type: juris.map(|j| j.0.into()),
            jurisdiction_name: juris.map(|j| j.1.into()),
            jurisdiction_code: juris.map(|j| j.2.into()),
            rate: "6.0".into(),
            taxable,
            amount,
        }
    }

    fn s(extra: &[(&str, &str)]) -> Settings {
        Settings::parse(&with(settings(), extra)).expect("settings")
    }

    #[test]
    fn lookup_by_name_then_jurisdiction_name_then_code() {
        let t = lt("li_1", "CA State Tax", Some(("state", "California", "06")), 10_000, 600);
        assert_eq!(detail_id(&s(&[("map.tax.CA State Tax", "CA-ST")]), &t).ok().as_deref(), Some("CA-ST"));
        assert_eq!(detail_id(&s(&[("map.tax.California", "CA-JUR")]), &t).ok().as_deref(), Some("CA-JUR"));
        assert_eq!(detail_id(&s(&[("map.tax.06", "CA-CODE")]), &t).ok().as_deref(), Some("CA-CODE"));
        let e = detail_id(&s(&[]), &t).expect_err("unmapped");
        assert_eq!(e.field, "map.tax.CA State Tax");
        assert!(e.message.contains("map.tax.California") && e.message.contains("map.tax.06"), "{}", e.message);
        assert_eq!(detail_id(&s(&[("map.tax.06", "SIXTEEN-CHARS-ID")]), &t).expect_err("long").field, "map.tax.06");
    }

    #[test]
    fn details_group_sum_and_must_equal_the_tax() {
        let taxes = [
            lt("li_1", "VAT", None, 10_000, 1_900),
            lt("li_2", "VAT", None, 1_000, 190),
            lt("li_2", "Reduced VAT", None, 500, 35),
        ];
        let cfg = s(&[
            ("map.tax.VAT", "DE-VAT19"),
            ("map.tax.Reduced VAT", "DE-VAT7"),
            ("map.account.tax.DE-VAT7", "000-2110-00"),
        ]);
        let d = details(&cfg, "invoice", &taxes, 2_125, 0, "EUR", true).expect("details");
        let got: Vec<_> = d.iter().map(|d| (d.id.as_str(), d.amount, d.taxable_sales, d.account.as_deref())).collect();
        assert_eq!(got, [("DE-VAT19", 2_090, 11_000, Some("000-2100-00")), ("DE-VAT7", 35, 500, Some("000-2110-00"))]);
        assert_eq!(
            details(&cfg, "invoice", &taxes, 2_126, 0, "EUR", true).expect_err("off").field,
            "invoice.line-taxes"
        );
        // GP's default distributions: only per-detail accounts are sent.
        let d = details(&cfg, "invoice", &taxes, 2_125, 0, "EUR", false).expect("details");
        assert_eq!((d[0].account.as_deref(), d[1].account.as_deref()), (None, Some("000-2110-00")));
        let mut neg = taxes.to_vec();
        neg[1].amount = -190;
        assert_eq!(
            details(&cfg, "credit-note", &neg, 1_745, 0, "EUR", true).expect_err("neg").field,
            "credit-note.line-taxes[1].amount"
        );
    }

    #[test]
    fn no_line_taxes_uses_the_default_detail() {
        assert!(details(&s(&[]), "invoice", &[], 0, 0, "USD", true).expect("ok").is_empty());
        assert_eq!(details(&s(&[]), "invoice", &[], 935, 10_500, "USD", true).expect_err("?").field, "map.tax.default");
        let d = details(&s(&[("map.tax.default", "USSALES")]), "invoice", &[], 935, 10_500, "USD", true).expect("ok");
        let got: Vec<_> = d.iter().map(|d| (d.id.as_str(), d.amount, d.taxable_sales, d.account.as_deref())).collect();
        assert_eq!(got, [("USSALES", 935, 10_500, Some("000-2100-00"))]);
        let e = details(&s(&[("map.tax.default", "USSALES")]), "invoice", &[], 935, 0, "USD", true);
        assert!(e.is_ok());
        let no_account =
            Settings::parse(&without(with(settings(), &[("map.tax.default", "USSALES")]), "map.account.tax"))
                .expect("s");
        assert_eq!(details(&no_account, "invoice", &[], 935, 0, "USD", true).expect_err("?").field, "map.account.tax");
    }

    #[test]
    fn per_line_shares_follow_line_ids_and_the_rest_goes_last() {
        let lines = vec![line("li_1", "A", 1, 1_190, 0, "adhoc", None), line("li_2", "B", 1, 119, 0, "adhoc", None)];
        let mut taxes = vec![lt("li_1", "VAT", None, 1_000, 190)];
        taxes.push(LineTax { line_id: None, ..lt("x", "VAT", None, 100, 19) });
        assert_eq!(per_line(&lines, &taxes, 209, "f").ok(), Some(vec![190, 19]));
        let mut own = lines.clone();
        own[0].tax = 190;
        own[1].tax = 18;
        assert_eq!(per_line(&own, &[], 209, "f").ok(), Some(vec![190, 19]), "rounding remainder to the last line");
    }
}
