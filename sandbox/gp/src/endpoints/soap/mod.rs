//! GP Web Services, legacy endpoint: SOAP 1.1 document/literal wrapped over HTTP, as
//! `DynamicsGPService.asmx` serves it.
//!
//! Requests are read against the WSDL (any prefixes, `xsi:nil`, `xsi:type`), answered with
//! elements in WSDL order, and refused the way GP refuses: a validation fault whose detail
//! holds a log GUID (resolved by GetLoggedValidationResultByKey), or the generic system fault.

mod envelope;
mod ops;

use bytes::Bytes;
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};

use crate::codec::XmlReader;
use crate::faults::FaultKind;
use crate::schema::{EMBEDDED_WSDL, NS_GP, WsdlSource};
use crate::server::{Reply, Shared, plain, response};
use crate::xmldom;

pub use envelope::{GENERIC_SYSTEM_MESSAGE, SOAP_ENV};
pub use ops::{APPLY_EXTENSION_ID, OPERATIONS, applies_from_extensions};

/// Where the legacy endpoint lives on a GP Web Services host.
pub const PATH: &str = "/DynamicsGPWebServices/DynamicsGPService.asmx";

pub async fn handle(shared: &Shared, parts: &Parts, body: Bytes) -> Reply {
    let query = parts.uri.query().unwrap_or_default();
    if parts.method == Method::GET {
        if query.eq_ignore_ascii_case("wsdl") {
            return Reply::Respond(wsdl(shared).await);
        }
        return Reply::Respond(plain(
            StatusCode::OK,
            "Dynamics GP Web Services (sandbox). Append ?wsdl for the contract.",
        ));
    }
    if parts.method != Method::POST {
        return Reply::Respond(plain(StatusCode::METHOD_NOT_ALLOWED, "405 - use POST for SOAP calls"));
    }
    let request = match read_request(shared, parts, &body) {
        Ok(r) => r,
        Err(fault) => return Reply::Respond(*fault),
    };
    let op = request.operation.clone();
    let render_fault = |f: &FaultKind| match f {
        FaultKind::HttpStatus(code) => plain(
            StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "injected HTTP error (GP sandbox)",
        ),
        _ => envelope::system_fault(),
    };
    shared.paced(&op, &op, render_fault, async { ops::execute(shared, &request).await }).await
}

/// A SOAP call, read and checked against the WSDL.
pub struct SoapRequest {
    pub operation: String,
    /// The operation's wrapper element as a value tree (`customer`, `context`, `policy`…).
    pub body: crate::node::Node,
}

fn read_request(shared: &Shared, parts: &Parts, body: &[u8]) -> Result<SoapRequest, Box<crate::server::HttpResponse>> {
    let text = std::str::from_utf8(body).map_err(|_| boxed_client_fault("The request is not UTF-8 text."))?;
    let action = parts.headers.get("soapaction").and_then(|v| v.to_str().ok());
    read_envelope(&shared.schema, shared.strict_schema, text, action)
        .map_err(|e| Box::new(envelope::fault(e.code, &e.message)))
}

/// Why a SOAP request is not the contract: the fault code and message the endpoint answers
/// with (`soap:Client`, or `soap:VersionMismatch` for a non-SOAP-1.1 envelope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeError {
    pub code: &'static str,
    pub message: String,
}

impl std::fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Reads a SOAP request exactly as the endpoint does before executing it: a SOAP 1.1 envelope,
/// the operation element in the GP namespace, the SOAPAction (if given) matching it, an
/// emulated operation, and every member checked against the WSDL (names, namespaces, order,
/// required members, simple values; unknown members refused when `strict`). Public so a
/// client's tests can validate the envelopes they send without a server.
pub fn read_envelope(
    schema: &crate::schema::Schema,
    strict: bool,
    text: &str,
    soap_action: Option<&str>,
) -> Result<SoapRequest, EnvelopeError> {
    let client = |message: String| EnvelopeError { code: "soap:Client", message };
    let root = xmldom::parse(text).map_err(|e| client(format!("Server was unable to read request. {e}")))?;
    if !root.is(SOAP_ENV, "Envelope") {
        return Err(EnvelopeError {
            code: "soap:VersionMismatch",
            message: format!("Expected a SOAP 1.1 Envelope ({SOAP_ENV}), found {}", root.name),
        });
    }
    let op_el = root
        .child(SOAP_ENV, "Body")
        .and_then(|b| b.children.first())
        .ok_or_else(|| client("The SOAP Body is missing or empty.".into()))?;
    let operation = op_el.name.local.clone();
    if op_el.name.ns.as_deref() != Some(NS_GP) {
        return Err(client(format!(
            "Server did not recognize the request element {}: it must be in namespace {NS_GP}.",
            op_el.name
        )));
    }
    // ASMX routes by SOAPAction when one is sent; a mismatch is refused, not guessed at.
    if let Some(action) = soap_action {
        let action = action.trim().trim_matches('"');
        let expected = format!("{NS_GP}/{operation}");
        if !action.is_empty() && action != expected {
            return Err(client(format!(
                "Server did not recognize the value of HTTP Header SOAPAction: {action}. Expected {expected}."
            )));
        }
    }
    if !OPERATIONS.contains(&operation.as_str()) {
        let known = schema.element(NS_GP, &operation).is_some();
        let why = if known {
            "is in the WSDL but not emulated by this sandbox"
        } else {
            "is not a GP Web Services operation"
        };
        return Err(client(format!("Operation {operation} {why}. Emulated: {OPERATIONS:?}")));
    }
    let field = schema
        .element(NS_GP, &operation)
        .ok_or_else(|| client(format!("Operation {operation} is missing from the WSDL")))?;
    let reader = XmlReader { schema, strict };
    let body = reader.read(op_el, field, &operation).map_err(|v| {
        client(format!("Server was unable to read request. There is an error in the XML document: {v}"))
    })?;
    Ok(SoapRequest { operation, body })
}

fn boxed_client_fault(message: &str) -> Box<crate::server::HttpResponse> {
    Box::new(envelope::client_fault(message))
}

/// Serves the WSDL the schema was read from: the compiled-in copy without a copy, a file read
/// per request (1.7 MB is not worth keeping in memory for the rare `?wsdl`).
async fn wsdl(shared: &Shared) -> crate::server::HttpResponse {
    let path = match &shared.schema.source {
        WsdlSource::Embedded => {
            return response(StatusCode::OK, "text/xml; charset=utf-8", Bytes::from_static(EMBEDDED_WSDL.as_bytes()));
        }
        WsdlSource::File(path) => path,
    };
    match tokio::fs::read(path).await {
        Ok(bytes) => response(StatusCode::OK, "text/xml; charset=utf-8", bytes),
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "GP sandbox: cannot read WSDL");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "the sandbox cannot read its WSDL file")
        }
    }
}
