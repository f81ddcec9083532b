//! SOAP 1.1 envelopes and faults as an ASMX service writes them.

use std::fmt::Write as _;

use hyper::StatusCode;

use crate::codec::{PREFIXES, XmlWriter};
use crate::node::Node;
use crate::schema::{NS_GP, Schema};
use crate::server::{HttpResponse, response};
use crate::xmldom::{NS_XS, NS_XSI, escape};

pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// GP's text for every system exception (details go to the server's exception log only).
pub const GENERIC_SYSTEM_MESSAGE: &str =
    "The application encountered an unhandled system exception. Contact your system administrator for details.";

fn open_envelope(out: &mut String) {
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"{SOAP_ENV}\" xmlns:xsi=\"{NS_XSI}\" xmlns:xsd=\"{NS_XS}\""
    );
    for (ns, prefix) in PREFIXES {
        let _ = write!(out, " xmlns:{prefix}=\"{ns}\"");
    }
    out.push_str("><soap:Body>");
}

const CLOSE: &str = "</soap:Body></soap:Envelope>";

fn xml(status: StatusCode, body: String) -> HttpResponse {
    response(status, "text/xml; charset=utf-8", body)
}

/// `<{op}Response>` holding `<{op}Result>` when the operation returns something.
pub fn success(schema: &Schema, operation: &str, result: Option<&Node>) -> HttpResponse {
    let mut out = String::with_capacity(1024);
    open_envelope(&mut out);
    let _ = write!(out, "<{operation}Response xmlns=\"{NS_GP}\">");
    if let Some(result) = result {
        let wrapper = schema.element(NS_GP, &format!("{operation}Response"));
        let field = wrapper.and_then(|w| match schema.resolve(&w.ty) {
            Some(crate::schema::Resolved::Complex(ct)) => schema.fields(&ct).into_iter().next(),
            _ => None,
        });
        if let Some(field) = field {
            XmlWriter { schema }.write(&mut out, &field, Some(result));
        }
    }
    let _ = write!(out, "</{operation}Response>");
    out.push_str(CLOSE);
    xml(StatusCode::OK, out)
}

/// A SOAP fault; `detail` is inner XML for `<detail>`.
fn fault_with_detail(code: &str, message: &str, detail: &str) -> HttpResponse {
    let mut out = String::new();
    open_envelope(&mut out);
    let _ = write!(
        out,
        "<soap:Fault><faultcode>{code}</faultcode><faultstring>{}</faultstring><detail>{detail}</detail></soap:Fault>",
        escape(message)
    );
    out.push_str(CLOSE);
    // SOAP 1.1 over HTTP: every fault is a 500.
    xml(StatusCode::INTERNAL_SERVER_ERROR, out)
}

pub fn fault(code: &str, message: &str) -> HttpResponse {
    fault_with_detail(code, message, "")
}

/// The request itself is wrong (not well-formed, not the contract).
pub fn client_fault(message: &str) -> HttpResponse {
    fault("soap:Client", message)
}

/// GP's system exception: generic text, no `<Message>` in the detail.
pub fn system_fault() -> HttpResponse {
    fault("soap:Server", GENERIC_SYSTEM_MESSAGE)
}

/// GP's validation exception: the detail's `<Message>` is the log id to pass to
/// GetLoggedValidationResultByKey (un-namespaced, as GP's samples look it up by local name).
pub fn validation_fault(log_id: &str, messages: &str) -> HttpResponse {
    fault_with_detail("soap:Server", messages, &format!("<Message>{}</Message>", escape(log_id)))
}
