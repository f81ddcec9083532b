//! SBA request bodies: `{"Payload": {…}}` read as a WSDL object, applies beside it.

use crate::codec::JsonCodec;
use crate::node::Node;
use crate::rules::GpError;
use crate::schema::{FieldType, NS_GP};
use crate::service::ApplyRequest;
use crate::xmldom::ExpandedName;

/// Top-level member beside `Payload` (so the payload stays a pure WSDL object) that carries
/// applies, with eConnect taRMApply names: `"Applies": [{"APTODCNM": "INV-1", "APPTOAMT": 25.00}]`.
pub const APPLIES_MEMBER: &str = "Applies";

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
            let to_type = match item.get("APTODCTY") {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(other) => Some(other.to_string()),
            };
            let to_type = ApplyRequest::to_type_from(to_type.as_deref())?;
            match (to, amount) {
                (Some(to_number), Some(amount)) => applies.push(ApplyRequest { to_type, to_number, amount }),
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

pub(super) fn set_key(node: &mut Node, id: &str) {
    if let Node::Tree(members) = node {
        members.insert(0, ("Key".to_string(), Node::tree().with("Id", id)));
    }
}
