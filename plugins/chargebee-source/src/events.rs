//! Chargebee events (webhook bodies and `GET /events` items) → triggers.
//!
//! Only ids are taken from an event: the resource itself is always re-read from the API, because
//! webhooks arrive duplicated, out of order and unsigned.

use ml_connector_sdk::source::ml_connector::plugin::types::{RecordKind, Trigger};
use serde_json::Value;

use crate::json::Obj;

/// The event types this source acts on, with the record kind and the `content` key holding the
/// resource. `payment_refunded` points at the refund transaction (see README: refunds);
/// `payment_failed` and `transaction_updated`/`_deleted` at a transaction that may have been
/// voided or failed late (a declined attempt is fetched and skipped).
pub const ACCEPTED: [(&str, RecordKind, &str); 11] = [
    ("customer_created", RecordKind::Customer, "customer"),
    ("customer_changed", RecordKind::Customer, "customer"),
    ("invoice_generated", RecordKind::Invoice, "invoice"),
    ("invoice_updated", RecordKind::Invoice, "invoice"),
    ("payment_succeeded", RecordKind::Payment, "transaction"),
    ("payment_refunded", RecordKind::Payment, "transaction"),
    ("payment_failed", RecordKind::Payment, "transaction"),
    ("transaction_updated", RecordKind::Payment, "transaction"),
    ("transaction_deleted", RecordKind::Payment, "transaction"),
    ("credit_note_created", RecordKind::CreditNote, "credit_note"),
    ("credit_note_updated", RecordKind::CreditNote, "credit_note"),
];

/// What an event type means to us; none = not a type this source acts on.
pub fn accepted(event_type: &str) -> Option<(RecordKind, &'static str)> {
    ACCEPTED.iter().find(|(t, _, _)| *t == event_type).map(|(_, kind, key)| (*kind, *key))
}

/// The `event_type[in]` filter value: a JSON array, as the Node and Go SDKs send it.
pub fn accepted_filter() -> String {
    let names: Vec<String> = ACCEPTED.iter().map(|(t, _, _)| format!("\"{t}\"")).collect();
    format!("[{}]", names.join(","))
}

/// A structurally broken event (not JSON, missing id/type/time/content, or an accepted type
/// whose content lacks the resource id).
#[derive(Debug, PartialEq)]
pub struct Malformed(pub String);

/// Parse one event. `Ok(None)` = a well-formed event of a type we ignore.
pub fn trigger_of(event: &Value) -> Result<Option<Trigger>, Malformed> {
    let ev = Obj::new("event", event).map_err(Malformed)?;
    let id = ev.str("id").map_err(Malformed)?;
    let ev = Obj { what: format!("event {id}"), map: ev.map };
    let event_type = ev.str("event_type").map_err(Malformed)?;
    let occurred_at = ev.int("occurred_at").map_err(Malformed)?;
    let content = ev
        .opt_obj("content")
        .map_err(Malformed)?
        .ok_or_else(|| Malformed(format!("event {id}: field content is missing")))?;
    // The v1 content shape differs; Chargebee lets each webhook endpoint choose its version.
    if let Some(version) = ev.opt_str("api_version").map_err(Malformed)?
        && version != "v2"
    {
        return Err(Malformed(format!(
            "event {id} uses API version {version}; configure the Chargebee webhook endpoint with API version v2"
        )));
    }
    let Some((kind, key)) = accepted(&event_type) else {
        return Ok(None);
    };
    let resource = content
        .opt_obj(key)
        .map_err(Malformed)?
        .ok_or_else(|| Malformed(format!("event {id} ({event_type}): content has no {key}")))?;
    let resource_id = resource.str("id").map_err(Malformed)?;
    Ok(Some(Trigger { event_id: Some(id), event_type, kind, resource_id, occurred_at }))
}

/// Parse a webhook body (the bare event object Chargebee POSTs).
pub fn intake(body: &[u8]) -> Result<Vec<Trigger>, Malformed> {
    let event: Value = serde_json::from_slice(body).map_err(|e| Malformed(format!("webhook body is not JSON: {e}")))?;
    Ok(trigger_of(&event)?.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Shaped like the reference's webhook body: the bare event, snake_case content keys.
    fn payment_succeeded() -> Value {
        json!({
            "id": "ev_16BPgETyVrQbiGhA",
            "occurred_at": 1_700_000_123,
            "source": "api",
            "user": "full_access_key_v1",
            "object": "event",
            "api_version": "v2",
            "event_type": "payment_succeeded",
            "webhook_status": "scheduled",
            "content": {
                "transaction": {"id": "txn_AzZhUGSPAkLskJQo", "customer_id": "cus_1", "type": "payment", "amount": 5000, "object": "transaction"},
                "invoice": {"id": "inv_1", "object": "invoice"},
                "customer": {"id": "cus_1", "object": "customer"}
            }
        })
    }

    #[test]
    fn accepted_event_becomes_trigger_with_ids_only() {
        let body = serde_json::to_vec(&payment_succeeded()).expect("json");
        let t = intake(&body).expect("parses");
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].event_id.as_deref(), Some("ev_16BPgETyVrQbiGhA"));
        assert_eq!(t[0].event_type, "payment_succeeded");
        assert!(matches!(t[0].kind, RecordKind::Payment));
        assert_eq!(t[0].resource_id, "txn_AzZhUGSPAkLskJQo");
        assert_eq!(t[0].occurred_at, 1_700_000_123);
    }

    #[test]
    fn each_accepted_type_takes_its_content_key() {
        for (event_type, kind, key) in ACCEPTED {
            let ev = json!({"id": "ev_1", "occurred_at": 1, "event_type": event_type, "content": {key: {"id": "r_1"}, "customer": {"id": "cus_other"}}});
            let t = trigger_of(&ev).expect("parses").expect("accepted");
            assert_eq!(t.kind, kind);
            assert_eq!(t.resource_id, if key == "customer" { "cus_other" } else { "r_1" });
        }
    }

    #[test]
    fn other_types_are_ignored_not_errors() {
        let ev = json!({"id": "ev_2", "occurred_at": 1, "event_type": "subscription_created", "content": {"subscription": {"id": "sub_1"}}});
        assert!(intake(&serde_json::to_vec(&ev).expect("json")).expect("well-formed").is_empty());
    }

    #[test]
    fn malformed_bodies_are_refused() {
        for body in [
            &b"not json"[..],
            br#"[]"#,
            br#"{"event_type":"invoice_generated","occurred_at":1,"content":{"invoice":{"id":"inv_1"}}}"#,
            br#"{"id":"ev_1","occurred_at":1,"content":{"invoice":{"id":"inv_1"}}}"#,
            br#"{"id":"ev_1","event_type":"invoice_generated","content":{"invoice":{"id":"inv_1"}}}"#,
            br#"{"id":"ev_1","event_type":"invoice_generated","occurred_at":1.5,"content":{"invoice":{"id":"inv_1"}}}"#,
            br#"{"id":"ev_1","event_type":"invoice_generated","occurred_at":1}"#,
            br#"{"id":"ev_1","event_type":"invoice_generated","occurred_at":1,"content":{"credit_note":{"id":"cn_1"}}}"#,
            br#"{"id":"ev_1","event_type":"invoice_generated","occurred_at":1,"content":{"invoice":{}}}"#,
            br#"{"id":"ev_1","event_type":"invoice_generated","occurred_at":1,"api_version":"v1","content":{"invoice":{"id":"inv_1"}}}"#,
        ] {
            assert!(intake(body).is_err(), "accepted {}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn filter_is_a_json_array_of_the_accepted_types() {
        let v: Vec<String> = serde_json::from_str(&accepted_filter()).expect("JSON array");
        assert_eq!(v.len(), 11);
        for t in ["payment_refunded", "payment_failed", "transaction_updated", "transaction_deleted"] {
            assert!(v.contains(&t.to_string()), "{t}");
        }
    }
}
