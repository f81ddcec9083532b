//! SBA responses: `{"Payload": …}` written from the WSDL type, `201` with `Location`, and the
//! error body (`{"Error": {"Status", "Message", "ValidationResult"}}`).

use hyper::StatusCode;
use hyper::header::{HeaderValue, LOCATION};

use crate::codec::JsonCodec;
use crate::endpoints::soap::GENERIC_SYSTEM_MESSAGE;
use crate::faults::FaultKind;
use crate::model::Company;
use crate::node::Node;
use crate::rules::GpError;
use crate::schema::{FieldType, NS_GP};
use crate::server::{HttpResponse, Shared, response};
use crate::service::OpError;
use crate::xmldom::ExpandedName;

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

pub(super) fn simple_error(status: StatusCode, message: &str) -> HttpResponse {
    let body = serde_json::json!({ "Error": { "Status": status.as_u16(), "Message": message } });
    json(status, body.to_string())
}

pub(super) fn system_error() -> HttpResponse {
    simple_error(StatusCode::INTERNAL_SERVER_ERROR, GENERIC_SYSTEM_MESSAGE)
}

pub(super) fn render_fault(f: &FaultKind) -> HttpResponse {
    match f {
        FaultKind::HttpStatus(code) => simple_error(
            StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "injected HTTP error (GP sandbox)",
        ),
        _ => system_error(),
    }
}

pub(super) fn op_error(e: OpError, object_type: &str) -> HttpResponse {
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

pub(super) fn payload(shared: &Shared, status: StatusCode, type_name: &str, node: &Node) -> HttpResponse {
    let mut out = String::from("{\"Payload\":");
    JsonCodec { schema: &shared.schema, strict: shared.strict_schema }.write(
        &mut out,
        &FieldType::Named(ExpandedName::new(NS_GP, type_name)),
        node,
    );
    out.push('}');
    json(status, out)
}

/// 200 with one object, or 404 naming what was not found.
pub(super) fn one(
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

/// 201 with the stored object and its Location (absolute path of the new resource).
pub(super) fn created(
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
