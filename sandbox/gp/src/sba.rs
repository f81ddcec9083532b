//! GP Service Based Architecture (REST/JSON), as far as public material shows it — and every
//! SBA shape this sandbox assumes, in this one module.
//!
//! Known from real traffic: the base path `/GPService/Tenants(<tenant>)/Companies(<name>)/…`
//! (case-insensitive, parens sometimes %-encoded, company names that contain parens), request
//! bodies wrapped in `{"Payload": {…}}` with PascalCase members, `.json` suffix for JSON, POST
//! to create (key not in the URL), PATCH to update, composite keys as `(a;b)`.
//!
//! NOT public, decided here (see README "SBA"): the resource paths below for customers,
//! receivables documents, cash receipts and batches; members identical to the WSDL objects
//! (so `ArrayOfX` become JSON arrays, decimals are JSON numbers); responses `{"Payload": …}`;
//! the error body; applies as an `Applies` array beside `Payload`.
//!
//! | method | path (after `Companies(<name>)/`)           | operation                     |
//! |--------|----------------------------------------------|-------------------------------|
//! | GET    | `Sales/Customers`                            | GetCustomerList               |
//! | POST   | `Sales/Customers`                            | CreateCustomer                |
//! | GET    | `Sales/Customers(<id>)`                      | GetCustomerByKey              |
//! | PATCH  | `Sales/Customers(<id>)`                      | UpdateCustomer                |
//! | POST   | `Sales/ReceivablesInvoices`                  | CreateReceivablesInvoice      |
//! | GET    | `Sales/ReceivablesInvoices[(<id>)]`          | GetReceivablesInvoiceByKey / list |
//! | POST   | `Sales/ReceivablesCreditMemos`               | CreateReceivablesCreditMemo   |
//! | GET    | `Sales/ReceivablesCreditMemos[(<id>)]`       | GetReceivablesCreditMemoByKey / list |
//! | POST   | `Sales/CashReceipts`                         | CreateCashReceipt             |
//! | GET    | `Sales/CashReceipts[(<id>)]`                 | GetCashReceiptByKey / list    |
//! | GET    | `Sales/Batches`, `Sales/Batches(<source>;<id>)` or `(<id>)` | GetBatchList / GetBatchByKey |
//! | GET    | `…/Tenants(<tenant>)/Companies`              | GetCompanyList                |

use bytes::Bytes;
use hyper::header::{HeaderValue, LOCATION};
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};
use percent_encoding::percent_decode_str;

use crate::codec::JsonCodec;
use crate::faults::FaultKind;
use crate::model::{Company, DocType};
use crate::node::Node;
use crate::rules::GpError;
use crate::schema::{FieldType, NS_GP};
use crate::server::{HttpResponse, Reply, Shared, response};
use crate::service::{ApplyRequest, OpError};
use crate::soap::GENERIC_SYSTEM_MESSAGE;
use crate::xmldom::ExpandedName;

/// Top-level member beside `Payload` (so the payload stays a pure WSDL object) that carries
/// applies, with eConnect taRMApply names: `"Applies": [{"APTODCNM": "INV-1", "APPTOAMT": 25.00}]`.
pub const APPLIES_MEMBER: &str = "Applies";

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

fn json(status: StatusCode, body: String) -> HttpResponse {
    response(status, "application/json; charset=utf-8", body)
}

/// The error body: `{"Error": {"Status", "Message", "ValidationResult": {"Errors": [...]}}}`,
/// the ValidationError members as SOAP's GetLoggedValidationResultByKey returns them.
fn error_body(status: u16, errors: &[GpError], object_type: &str) -> HttpResponse {
    let message = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
    let items: Vec<serde_json::Value> = errors
        .iter()
        .map(|e| {
            serde_json::json!({
                "ObjectType": object_type,
                "PropertyNames": e.properties(),
                "Message": e.to_string(),
                "Id": e.code().to_string(),
            })
        })
        .collect();
    let body = serde_json::json!({
        "Error": { "Status": status, "Message": message, "ValidationResult": { "Errors": items, "Warnings": [] } }
    });
    json(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), body.to_string())
}

fn simple_error(status: StatusCode, message: &str) -> HttpResponse {
    let body = serde_json::json!({ "Error": { "Status": status.as_u16(), "Message": message } });
    json(status, body.to_string())
}

fn system_error() -> HttpResponse {
    simple_error(StatusCode::INTERNAL_SERVER_ERROR, GENERIC_SYSTEM_MESSAGE)
}

/// What a route resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    Customers,
    Documents(DocType),
    Batches,
}

fn resource(segments: &[String]) -> Option<Resource> {
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
        "cashreceipts" => Resource::Documents(DocType::CashReceipt),
        "batches" => Resource::Batches,
        _ => return None,
    })
}

/// WSDL type name of a document resource.
fn document_type_name(doc_type: DocType) -> &'static str {
    match doc_type {
        DocType::Invoice => "ReceivablesInvoice",
        DocType::CreditMemo => "ReceivablesCreditMemo",
        DocType::CashReceipt => "CashReceipt",
    }
}

/// The SOAP operation an SBA call corresponds to (for counters and fault rules).
fn operation(method: &Method, res: Resource, keyed: bool) -> Option<&'static str> {
    Some(match (method.as_str(), res, keyed) {
        ("GET", Resource::Customers, false) => "GetCustomerList",
        ("GET", Resource::Customers, true) => "GetCustomerByKey",
        ("POST", Resource::Customers, false) => "CreateCustomer",
        ("PATCH", Resource::Customers, true) => "UpdateCustomer",
        ("POST", Resource::Documents(DocType::Invoice), false) => "CreateReceivablesInvoice",
        ("POST", Resource::Documents(DocType::CreditMemo), false) => "CreateReceivablesCreditMemo",
        ("POST", Resource::Documents(DocType::CashReceipt), false) => "CreateCashReceipt",
        ("GET", Resource::Documents(DocType::Invoice), true) => "GetReceivablesInvoiceByKey",
        ("GET", Resource::Documents(DocType::CreditMemo), true) => "GetReceivablesCreditMemoByKey",
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

pub async fn handle(shared: &Shared, parts: &Parts, body: Bytes) -> Reply {
    let Some(path) = parse_path(parts.uri.path()) else {
        return Reply::Respond(simple_error(
            StatusCode::NOT_FOUND,
            "not an SBA path: expected /GPService/Tenants(<tenant>)/Companies(<company>)/<Area>/<Collection>",
        ));
    };
    if !path.tenant.eq_ignore_ascii_case(&shared.tenant) {
        return Reply::Respond(simple_error(StatusCode::NOT_FOUND, &format!("tenant {} does not exist", path.tenant)));
    }
    let Some(company_name) = path.company.clone() else {
        if parts.method != Method::GET {
            return Reply::Respond(simple_error(StatusCode::METHOD_NOT_ALLOWED, "Companies is read-only"));
        }
        let work = async {
            match shared.service.company_list(None).await {
                Ok(list) => payload(shared, StatusCode::OK, "ArrayOfCompany", &list),
                Err(e) => op_error(e, "Microsoft.Dynamics.GP.Company"),
            }
        };
        return shared.paced("GetCompanyList", "sba:GetCompanyList", render_fault, work).await;
    };
    let Some(res) = resource(&path.resource) else {
        return Reply::Respond(simple_error(
            StatusCode::NOT_FOUND,
            &format!("no SBA resource {}", path.resource.join("/")),
        ));
    };
    let Some(op) = operation(&parts.method, res, path.key.is_some()) else {
        return Reply::Respond(simple_error(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{} is not supported on {}", parts.method, path.resource.join("/")),
        ));
    };
    let label = format!("sba:{op}");
    let work = async {
        let company = match shared.service.company_by_name(&company_name).await {
            Ok(c) => c,
            Err(e) => return op_error(e, "Microsoft.Dynamics.GP.Company"),
        };
        execute(shared, &company, &parts.method, res, path.key.as_deref(), &body).await
    };
    shared.paced(op, &label, render_fault, work).await
}

fn render_fault(f: &FaultKind) -> HttpResponse {
    match f {
        FaultKind::HttpStatus(code) => simple_error(
            StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "injected HTTP error (GP sandbox)",
        ),
        _ => system_error(),
    }
}

fn op_error(e: OpError, object_type: &str) -> HttpResponse {
    match e {
        OpError::Rejected(errors) => {
            let status = errors.iter().map(GpError::http_status).max().unwrap_or(400);
            error_body(status, &errors, object_type)
        }
        OpError::System(e) => {
            tracing::error!(error = format!("{e:#}"), "GP sandbox SBA system exception");
            system_error()
        }
    }
}

fn payload(shared: &Shared, status: StatusCode, type_name: &str, node: &Node) -> HttpResponse {
    let mut out = String::from("{\"Payload\":");
    JsonCodec { schema: &shared.schema, strict: shared.strict_schema }.write(
        &mut out,
        &FieldType::Named(ExpandedName::new(NS_GP, type_name)),
        node,
    );
    out.push('}');
    json(status, out)
}

/// Reads `{"Payload": {…}}` (and `Applies` beside it) as a WSDL object of `type_name`, exactly
/// as the endpoint does; returns it and the applies. Public, with [`route`], so a client's tests
/// can validate the requests they send without a server.
pub fn read_payload(
    schema: &crate::schema::Schema,
    strict: bool,
    body: &[u8],
    type_name: &str,
) -> Result<(Node, Vec<ApplyRequest>), GpError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| GpError::Contract(format!("request body is not JSON: {e}")))?;
    let serde_json::Value::Object(mut top) = value else {
        return Err(GpError::Contract("request body must be a JSON object {\"Payload\": {…}}".into()));
    };
    let Some(serde_json::Value::Object(payload)) = top.remove("Payload") else {
        return Err(GpError::Contract("request body must be {\"Payload\": {…}} (an object under \"Payload\")".into()));
    };
    let mut applies = Vec::new();
    if let Some(list) = top.remove(APPLIES_MEMBER) {
        let serde_json::Value::Array(items) = list else {
            return Err(GpError::Contract(format!("{APPLIES_MEMBER} must be an array")));
        };
        for item in items {
            let to = item.get("APTODCNM").and_then(|v| v.as_str()).map(str::to_string);
            let amount = item.get("APPTOAMT").map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            match (to, amount) {
                (Some(to_number), Some(amount)) => applies.push(ApplyRequest { to_number, amount }),
                _ => {
                    return Err(GpError::Contract(format!("each of {APPLIES_MEMBER} needs APTODCNM and APPTOAMT")));
                }
            }
        }
    }
    if let Some(other) = top.keys().next() {
        return Err(GpError::Contract(format!(
            "unknown top-level member {other:?}: only Payload and {APPLIES_MEMBER}"
        )));
    }
    let codec = JsonCodec { schema, strict };
    let node = codec
        .read(&serde_json::Value::Object(payload), &FieldType::Named(ExpandedName::new(NS_GP, type_name)), "Payload")
        .map_err(|v| GpError::Contract(v.to_string()))?;
    Ok((node, applies))
}

async fn execute(
    shared: &Shared,
    company: &Company,
    method: &Method,
    res: Resource,
    key: Option<&[String]>,
    body: &[u8],
) -> HttpResponse {
    let svc = &shared.service;
    let object_type = match res {
        Resource::Customers => "Microsoft.Dynamics.GP.Customer",
        Resource::Documents(t) => match t {
            DocType::Invoice => "Microsoft.Dynamics.GP.ReceivablesInvoice",
            DocType::CreditMemo => "Microsoft.Dynamics.GP.ReceivablesCreditMemo",
            DocType::CashReceipt => "Microsoft.Dynamics.GP.CashReceipt",
        },
        Resource::Batches => "Microsoft.Dynamics.GP.Batch",
    };
    let fail = |e: OpError| op_error(e, object_type);
    let first_key = key.and_then(|k| k.last()).cloned().unwrap_or_default();
    match (method.as_str(), res) {
        ("GET", Resource::Customers) if key.is_some() => {
            let found = svc.get_customer(company, &first_key).await;
            one(shared, found, "Customer", "Customer", first_key, fail)
        }
        ("GET", Resource::Customers) => match svc.customer_list(company, None).await {
            Ok(list) => payload(shared, StatusCode::OK, "ArrayOfCustomerSummary", &list),
            Err(e) => fail(e),
        },
        ("POST", Resource::Customers) => {
            let (node, _) = match read_payload(&shared.schema, shared.strict_schema, body, "Customer") {
                Ok(p) => p,
                Err(e) => return fail(e.into()),
            };
            if let Err(e) = svc.create_customer(company, &node).await {
                return fail(e);
            }
            let id = node.str_at(&["Key", "Id"]).unwrap_or_default().to_string();
            created(
                shared,
                company,
                svc.get_customer(company, &id).await,
                "Customer",
                &format!("Sales/Customers({id})"),
            )
        }
        ("PATCH", Resource::Customers) => {
            let (mut node, _) = match read_payload(&shared.schema, shared.strict_schema, body, "Customer") {
                Ok(p) => p,
                Err(e) => return fail(e.into()),
            };
            match node.str_at(&["Key", "Id"]) {
                Some(id) if id != first_key => {
                    return fail(
                        GpError::Contract(format!("Payload Key.Id {id} differs from the URL key {first_key}")).into(),
                    );
                }
                Some(_) => {}
                None => set_key(&mut node, &first_key),
            }
            if let Err(e) = svc.update_customer(company, &node).await {
                return fail(e);
            }
            let found = svc.get_customer(company, &first_key).await;
            one(shared, found, "Customer", "Customer", first_key, fail)
        }
        ("POST", Resource::Documents(doc_type)) => {
            let type_name = document_type_name(doc_type);
            let (node, applies) = match read_payload(&shared.schema, shared.strict_schema, body, type_name) {
                Ok(p) => p,
                Err(e) => return fail(e.into()),
            };
            match svc.create_document(company, doc_type, &node, &applies).await {
                Ok(doc) => {
                    let collection = path_collection(doc_type);
                    created(
                        shared,
                        company,
                        svc.get_document(company, doc_type, &doc.number).await,
                        type_name,
                        &format!("{collection}({})", doc.number),
                    )
                }
                Err(e) => fail(e),
            }
        }
        ("GET", Resource::Documents(doc_type)) if key.is_some() => {
            let found = svc.get_document(company, doc_type, &first_key).await;
            one(shared, found, document_type_name(doc_type), doc_type.label(), first_key, fail)
        }
        ("GET", Resource::Documents(doc_type)) => {
            let criteria = Node::tree().with("Type", Node::tree().with("EqualValue", doc_type.wsdl_name()));
            match svc.document_list(company, Some(&criteria)).await {
                Ok(list) => payload(shared, StatusCode::OK, "ArrayOfReceivablesDocumentSummary", &list),
                Err(e) => fail(e),
            }
        }
        ("GET", Resource::Batches) if key.is_some() => {
            let (source, id) = match key.unwrap_or_default() {
                [source, id] => (Some(source.as_str()), id.clone()),
                _ => (None, first_key.clone()),
            };
            let found = svc.get_batch(company, source, &id).await;
            one(shared, found, "Batch", "Batch", id, fail)
        }
        ("GET", Resource::Batches) => match svc.batch_list(company, None).await {
            Ok(list) => payload(shared, StatusCode::OK, "ArrayOfBatch", &list),
            Err(e) => fail(e),
        },
        _ => simple_error(StatusCode::METHOD_NOT_ALLOWED, "method not supported on this resource"),
    }
}

/// 200 with one object, or 404 naming what was not found.
fn one(
    shared: &Shared,
    found: Result<Option<Node>, OpError>,
    type_name: &str,
    kind: &'static str,
    id: String,
    fail: impl Fn(OpError) -> HttpResponse,
) -> HttpResponse {
    match found {
        Ok(Some(n)) => payload(shared, StatusCode::OK, type_name, &n),
        Ok(None) => fail(GpError::NotFound { kind, id }.into()),
        Err(e) => fail(e),
    }
}

fn path_collection(doc_type: DocType) -> &'static str {
    match doc_type {
        DocType::Invoice => "Sales/ReceivablesInvoices",
        DocType::CreditMemo => "Sales/ReceivablesCreditMemos",
        DocType::CashReceipt => "Sales/CashReceipts",
    }
}

fn set_key(node: &mut Node, id: &str) {
    if let Node::Tree(members) = node {
        members.insert(0, ("Key".to_string(), Node::tree().with("Id", id)));
    }
}

/// 201 with the stored object and its Location (absolute path of the new resource).
fn created(
    shared: &Shared,
    company: &Company,
    found: Result<Option<Node>, OpError>,
    type_name: &str,
    resource: &str,
) -> HttpResponse {
    match found {
        Ok(Some(n)) => {
            let mut r = payload(shared, StatusCode::CREATED, type_name, &n);
            let encode = |s: &str| percent_encoding::utf8_percent_encode(s, LOCATION_SET).to_string();
            let location = format!(
                "/GPService/Tenants({})/Companies({})/{}",
                shared.tenant,
                encode(&company.name),
                encode(resource)
            );
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(LOCATION, v);
            }
            r
        }
        Ok(None) => system_error(),
        Err(e) => op_error(e, "Microsoft.Dynamics.GP.BusinessObject"),
    }
}

/// What a Location path escapes: everything but unreserved characters, path separators and the
/// parens/semicolon SBA keys are written with.
const LOCATION_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/')
    .remove(b'(')
    .remove(b')')
    .remove(b';');

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
