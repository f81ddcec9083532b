//! A WSDL document's lines for the ledger: `Distributions`, `Taxes`, `TaxScheduleKey`,
//! `PaymentTermsKey`, a receipt's `PaymentCardTypeKey`. The exchange rate comes from the rate
//! table (Web Services' receivables objects carry no rate member).

use super::super::members::{amount, text};
use crate::ledger::{DistLine, Lines, TaxLine};
use crate::model::{Currency, DocType};
use crate::node::Node;
use crate::rules::GpError;

pub(super) fn read(errors: &mut Vec<GpError>, node: &Node, doc_type: DocType, currency: &Currency) -> Lines {
    let distributions = node.get("Distributions").filter(|d| !d.is_nil()).map(|list| {
        let item = if doc_type == DocType::CashReceipt { "CashReceiptDistribution" } else { "ReceivablesDistribution" };
        list.all(item).map(|d| distribution(errors, d, currency)).collect::<Vec<_>>()
    });
    let taxes = match node.get("Taxes").filter(|t| !t.is_nil()) {
        Some(list) => list.all("ReceivablesTax").map(|t| tax(errors, t, currency)).collect(),
        None => Vec::new(),
    };
    let is_cash = doc_type == DocType::CashReceipt;
    Lines {
        distributions: distributions.filter(|d| !d.is_empty()),
        taxes,
        tax_schedule: text(node, &["TaxScheduleKey", "Id"]),
        payment_terms: text(node, &["PaymentTermsKey", "Id"]),
        card_name: if is_cash { text(node, &["PaymentCardTypeKey", "Id"]) } else { None },
        ..Lines::default()
    }
}

fn distribution(errors: &mut Vec<GpError>, d: &Node, currency: &Currency) -> DistLine {
    let dist_type = text(d, &["DistributionTypeKey", "Id"]).and_then(|t| t.parse().ok());
    if dist_type.is_none() {
        errors.push(GpError::Required { property: "Distributions" });
    }
    DistLine {
        seq: text(d, &["Key", "SequenceNumber"]).and_then(|s| s.parse().ok()),
        dist_type: dist_type.unwrap_or(0),
        account: text(d, &["GLAccountKey", "Id"]),
        account_index: None,
        debit: amount(errors, d, "DebitAmount", currency).unwrap_or(0),
        credit: amount(errors, d, "CreditAmount", currency).unwrap_or(0),
        reference: text(d, &["Reference"]),
    }
}

fn tax(errors: &mut Vec<GpError>, t: &Node, currency: &Currency) -> TaxLine {
    let detail_id = text(t, &["Key", "TaxDetailKey", "Id"]);
    if detail_id.is_none() {
        errors.push(GpError::Required { property: "Taxes" });
    }
    TaxLine {
        detail_id: detail_id.unwrap_or_default(),
        tax: amount(errors, t, "TaxAmount", currency).unwrap_or(0),
        sales_tax: amount(errors, t, "SalesTaxAmount", currency).unwrap_or(0),
        taxable_sales: amount(errors, t, "TaxableAmount", currency).unwrap_or(0),
        account: text(t, &["GLAccountKey", "Id"]),
    }
}
