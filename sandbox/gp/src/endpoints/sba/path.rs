//! SBA URLs: parsing `/GPService/Tenants(<tenant>)/Companies(<name>)/<Area>/<Collection>(<key>)`
//! and routing a method and resource to the GP Web Services operation it stands for.

use hyper::Method;
use percent_encoding::percent_decode_str;

use crate::model::DocType;

/// A parsed SBA URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbaPath {
    pub tenant: String,
    /// `None` for `…/Companies` itself.
    pub company: Option<String>,
    /// Segments after the company, e.g. `["Sales", "Customers"]`.
    pub resource: Vec<String>,
    /// Key inside the last segment's parens, split at `;`.
    pub key: Option<Vec<String>>,
}

/// Splits `Name(inner)` where `inner` may itself contain balanced parens.
fn split_parens(s: &str) -> Option<(&str, &str, &str)> {
    let open = s.find('(')?;
    let mut depth = 0usize;
    for (i, c) in s[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    let close = open + i;
                    return Some((&s[..open], &s[open + 1..close], &s[close + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses an SBA request path. Everything is %-decoded first (clients encode the parens).
pub fn parse_path(raw: &str) -> Option<SbaPath> {
    let decoded = percent_decode_str(raw).decode_utf8().ok()?;
    let path = decoded.trim_start_matches('/');
    let (root, rest) = path.split_once('/')?;
    if !root.eq_ignore_ascii_case("gpservice") {
        return None;
    }
    let (tenants, tenant, rest) = split_parens(rest)?;
    if !tenants.eq_ignore_ascii_case("Tenants") {
        return None;
    }
    let rest = rest.strip_prefix('/')?;
    let rest = strip_json_suffix(rest);
    if rest.eq_ignore_ascii_case("Companies") {
        return Some(SbaPath { tenant: tenant.to_string(), company: None, resource: vec![], key: None });
    }
    let (companies, company, rest) = split_parens(rest)?;
    if !companies.eq_ignore_ascii_case("Companies") {
        return None;
    }
    let rest = rest.trim_start_matches('/');
    let mut resource: Vec<String> = rest.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
    let mut key = None;
    if let Some(last) = resource.last_mut()
        && let Some((name, inner, tail)) = split_parens(last)
    {
        if !tail.is_empty() {
            return None;
        }
        key = Some(inner.split(';').map(|k| k.trim().trim_matches('\'').to_string()).collect());
        *last = name.to_string();
    }
    Some(SbaPath { tenant: tenant.to_string(), company: Some(company.to_string()), resource, key })
}

fn strip_json_suffix(s: &str) -> &str {
    let n = s.len();
    if n >= 5 && s.is_char_boundary(n - 5) && s[n - 5..].eq_ignore_ascii_case(".json") { &s[..n - 5] } else { s }
}

/// What a route resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resource {
    Customers,
    Documents(DocType),
    Batches,
}

pub(super) fn resource(segments: &[String]) -> Option<Resource> {
    let [area, collection] = segments else {
        return None;
    };
    if !area.eq_ignore_ascii_case("Sales") {
        return None;
    }
    Some(match collection.to_ascii_lowercase().as_str() {
        "customers" => Resource::Customers,
        "receivablesinvoices" => Resource::Documents(DocType::Invoice),
        "receivablescreditmemos" => Resource::Documents(DocType::CreditMemo),
        "receivablesdebitmemos" => Resource::Documents(DocType::DebitMemo),
        "cashreceipts" => Resource::Documents(DocType::CashReceipt),
        "batches" => Resource::Batches,
        _ => return None,
    })
}

/// WSDL type name of a document resource.
pub(super) fn document_type_name(doc_type: DocType) -> &'static str {
    match doc_type {
        DocType::Invoice => "ReceivablesInvoice",
        DocType::DebitMemo => "ReceivablesDebitMemo",
        DocType::CreditMemo => "ReceivablesCreditMemo",
        DocType::CashReceipt => "CashReceipt",
    }
}

pub(super) fn path_collection(doc_type: DocType) -> &'static str {
    match doc_type {
        DocType::Invoice => "Sales/ReceivablesInvoices",
        DocType::DebitMemo => "Sales/ReceivablesDebitMemos",
        DocType::CreditMemo => "Sales/ReceivablesCreditMemos",
        DocType::CashReceipt => "Sales/CashReceipts",
    }
}

/// The SOAP operation an SBA call corresponds to (for counters and fault rules).
pub(super) fn operation(method: &Method, res: Resource, keyed: bool) -> Option<&'static str> {
    Some(match (method.as_str(), res, keyed) {
        ("GET", Resource::Customers, false) => "GetCustomerList",
        ("GET", Resource::Customers, true) => "GetCustomerByKey",
        ("POST", Resource::Customers, false) => "CreateCustomer",
        ("PATCH", Resource::Customers, true) => "UpdateCustomer",
        ("POST", Resource::Documents(DocType::Invoice), false) => "CreateReceivablesInvoice",
        ("POST", Resource::Documents(DocType::CreditMemo), false) => "CreateReceivablesCreditMemo",
        ("POST", Resource::Documents(DocType::DebitMemo), false) => "CreateReceivablesDebitMemo",
        ("POST", Resource::Documents(DocType::CashReceipt), false) => "CreateCashReceipt",
        ("GET", Resource::Documents(DocType::Invoice), true) => "GetReceivablesInvoiceByKey",
        ("GET", Resource::Documents(DocType::CreditMemo), true) => "GetReceivablesCreditMemoByKey",
        ("GET", Resource::Documents(DocType::DebitMemo), true) => "GetReceivablesDebitMemoByKey",
        ("GET", Resource::Documents(DocType::CashReceipt), true) => "GetCashReceiptByKey",
        ("GET", Resource::Documents(_), false) => "GetReceivablesDocumentList",
        ("GET", Resource::Batches, true) => "GetBatchByKey",
        ("GET", Resource::Batches, false) => "GetBatchList",
        _ => return None,
    })
}

/// What an SBA request under a company resolves to: the GP Web Services operation it stands for
/// (the name counters and fault rules use) and, for POST/PATCH, the WSDL type its `Payload`
/// must be. `None`: no such resource or method (the endpoint answers 404 / 405).
pub fn route(method: &Method, path: &SbaPath) -> Option<(&'static str, Option<&'static str>)> {
    let res = resource(&path.resource)?;
    let op = operation(method, res, path.key.is_some())?;
    let payload = match (method.as_str(), res) {
        ("POST" | "PATCH", Resource::Customers) => Some("Customer"),
        ("POST", Resource::Documents(t)) => Some(document_type_name(t)),
        _ => None,
    };
    Some((op, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_world_paths() {
        let p = parse_path(
            "/gpservice/Tenants%28DefaultTenant%29/Companies%28COMPA%C3%91IA%20DE%20PRUEBA%29/Sales/Customers.json",
        )
        .unwrap();
        assert_eq!(p.tenant, "DefaultTenant");
        assert_eq!(p.company.as_deref(), Some("COMPAÑIA DE PRUEBA"));
        assert_eq!(p.resource, ["Sales", "Customers"]);
        assert_eq!(p.key, None);
        let p = parse_path("/GPService/Tenants(DefaultTenant)/Companies(Transcontinental%20Capital%20Corportation%20(Bermuda)%20LTD)/Sales/Batches(RM_Sales;B1)").unwrap();
        assert_eq!(p.company.as_deref(), Some("Transcontinental Capital Corportation (Bermuda) LTD"));
        assert_eq!(p.key, Some(vec!["RM_Sales".to_string(), "B1".to_string()]));
        let p =
            parse_path("/GPService/Tenants(DefaultTenant)/Companies(Fabrikam,%20Inc.)/Sales/Customers(AARONFIT0001)")
                .unwrap();
        assert_eq!(p.key, Some(vec!["AARONFIT0001".to_string()]));
        assert!(parse_path("/other/Tenants(x)/Companies(y)/Sales/Customers").is_none());
        assert_eq!(parse_path("/GPService/Tenants(DefaultTenant)/Companies.json").unwrap().company, None);
    }
}
