//! fetch and poll over an abstract GET, so the whole call sequence runs natively in tests; the
//! wasm glue (lib.rs) plugs in the host's `http` capability with the granted API key.

use ml_connector_sdk::source::exports::ml_connector::plugin::source_api::{
    PollMode, PollPage, PollRequest, Polled, SourceError,
};
use ml_connector_sdk::source::ml_connector::plugin::http::{HttpError, Response};
use ml_connector_sdk::source::ml_connector::plugin::types::{RecordKind, SourceRecord, Trigger};
use serde_json::Value;

use crate::api::{self, Settings, Window};
use crate::cursor::{BACKFILL_ORDER, Cursor};
use crate::events;
use crate::records::{self, Parsed};

/// One authenticated GET to the Chargebee origin.
pub trait Transport {
    fn get(&mut self, url: &str) -> Result<Response, HttpError>;
    /// Something worth a line in the host log (skipped resources, odd events).
    fn note(&mut self, _message: &str) {}
}

/// GET and decode JSON; `what` names the call in errors ("GET invoices/inv_1").
fn get_json(t: &mut dyn Transport, url: &str, what: &str) -> Result<Value, SourceError> {
    let resp = t.get(url).map_err(|e| api::from_http_error(e, what))?;
    if !(200..300).contains(&resp.status) {
        return Err(api::from_status(&resp, what));
    }
    // A 2xx that is not Chargebee JSON (a proxy's page, a truncated body) is worth a retry.
    serde_json::from_slice(&resp.body)
        .map_err(|e| SourceError::Transient(format!("{what}: Chargebee's answer is not JSON: {e}")))
}

/// A resource Chargebee returned that we cannot read is not going to improve with retries.
fn unreadable(what: &str, e: String) -> SourceError {
    SourceError::Permanent(format!("{what}: {e}"))
}

pub fn fetch(s: &Settings, t: &mut dyn Transport, trigger: &Trigger) -> Result<Vec<SourceRecord>, SourceError> {
    let (kind, resource_id) = match (&trigger.event_id, s.fetch_event) {
        (Some(event_id), true) => {
            let what = format!("GET events/{event_id}");
            let body = get_json(t, &s.retrieve_url("events", event_id), &what)?;
            let event = body.get("event").ok_or_else(|| unreadable(&what, "no event object in the answer".into()))?;
            match events::trigger_of(event).map_err(|e| unreadable(&what, e.0))? {
                Some(from_api) => (from_api.kind, from_api.resource_id),
                None => {
                    return Err(SourceError::Permanent(format!("{what}: event type is not one this source handles")));
                }
            }
        }
        _ => (trigger.kind, trigger.resource_id.clone()),
    };
    let collection = records::collection(kind);
    let what = format!("GET {collection}/{resource_id}");
    let mut body = get_json(t, &s.retrieve_url(collection, &resource_id), &what)?;
    if matches!(kind, RecordKind::Invoice | RecordKind::CreditNote) {
        complete_lines(s, t, kind, &resource_id, &mut body)?;
    }
    match records::from_envelope(kind, &body).map_err(|e| unreadable(&what, e))? {
        Parsed::Record(r) => Ok(vec![*r]),
        Parsed::Skipped { id, why } => {
            t.note(&format!("{collection}/{id} skipped: {why}"));
            Ok(vec![])
        }
    }
}

/// Follow `line_items_next_offset` until the document has all its lines.
fn complete_lines(
    s: &Settings,
    t: &mut dyn Transport,
    kind: RecordKind,
    id: &str,
    body: &mut Value,
) -> Result<(), SourceError> {
    let key = records::resource_key(kind);
    let collection = records::collection(kind);
    while let Some(offset) = body.get(key).and_then(records::lines_truncated) {
        let what = format!("GET {collection}/{id} (more line items)");
        let more = get_json(t, &s.line_items_url(collection, id, &offset), &what)?;
        let more = more.get(key).ok_or_else(|| unreadable(&what, format!("no {key} object in the answer")))?;
        let extra = more.get("line_items").and_then(Value::as_array).cloned().unwrap_or_default();
        let doc = body
            .get_mut(key)
            .and_then(Value::as_object_mut)
            .ok_or_else(|| unreadable(&what, format!("{key} is not an object")))?;
        if extra.is_empty() {
            // Guard against an offset that never advances.
            return Err(SourceError::Transient(format!(
                "{what}: Chargebee gave a line item offset but no further lines"
            )));
        }
        if let Some(Value::Array(lines)) = doc.get_mut("line_items") {
            lines.extend(extra);
        } else {
            doc.insert("line_items".into(), Value::Array(extra));
        }
        match more.get("line_items_next_offset") {
            Some(next) => doc.insert("line_items_next_offset".into(), next.clone()),
            None => doc.remove("line_items_next_offset"),
        };
    }
    Ok(())
}

pub fn poll(s: &Settings, t: &mut dyn Transport, req: &PollRequest) -> Result<PollPage, SourceError> {
    let cursor = match &req.cursor {
        Some(text) => Some(Cursor::decode(text).map_err(SourceError::Permanent)?),
        None => None,
    };
    let window = Window { since: req.since, until: req.until };
    match req.mode {
        PollMode::Backfill => {
            let (phase, offset) = match cursor {
                None => (BACKFILL_ORDER[0], None),
                Some(Cursor::Backfill { phase, offset }) => (phase, offset),
                Some(Cursor::Events { .. }) => {
                    return Err(SourceError::Permanent("an events cursor was passed to a backfill poll".into()));
                }
            };
            backfill_page(s, t, window, phase, offset)
        }
        PollMode::Events => {
            let offset = match cursor {
                None => None,
                Some(Cursor::Events { offset }) => offset,
                Some(Cursor::Backfill { .. }) => {
                    return Err(SourceError::Permanent("a backfill cursor was passed to an events poll".into()));
                }
            };
            events_page(s, t, window, offset)
        }
    }
}

/// The `list` array and `next_offset` of a list answer.
fn list_of<'a>(body: &'a Value, what: &str) -> Result<(&'a [Value], Option<String>), SourceError> {
    let list = body
        .get("list")
        .and_then(Value::as_array)
        .ok_or_else(|| unreadable(what, "the answer has no list array".into()))?;
    let next = body.get("next_offset").and_then(Value::as_str).filter(|o| !o.is_empty()).map(str::to_string);
    Ok((list, next))
}

fn backfill_page(
    s: &Settings,
    t: &mut dyn Transport,
    window: Window,
    phase: RecordKind,
    offset: Option<String>,
) -> Result<PollPage, SourceError> {
    let collection = records::collection(phase);
    let what = format!("GET {collection} (backfill)");
    let body = get_json(t, &s.list_url(collection, window, offset.as_deref()), &what)?;
    let (list, next_offset) = list_of(&body, &what)?;
    let key = records::resource_key(phase);
    let mut items = Vec::with_capacity(list.len());
    for entry in list {
        let resource = entry.get(key).ok_or_else(|| unreadable(&what, format!("a list item has no {key} object")))?;
        let occurred_at = resource.get("updated_at").and_then(Value::as_i64).unwrap_or(0);
        // A document with paginated line items is incomplete here: its job fetches it whole.
        let fetched = if records::lines_truncated(resource).is_some() {
            None
        } else {
            match records::parse(phase, resource).map_err(|e| unreadable(&what, e))? {
                Parsed::Record(r) => Some(*r),
                Parsed::Skipped { id, why } => {
                    t.note(&format!("{collection}/{id} skipped: {why}"));
                    continue;
                }
            }
        };
        let resource_id = match &fetched {
            Some(r) => r.id.clone(),
            None => resource
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| unreadable(&what, format!("a {key} has no id")))?,
        };
        let trigger = Trigger { event_id: None, event_type: "backfill".into(), kind: phase, resource_id, occurred_at };
        items.push(Polled { trigger, fetched });
    }
    let next_cursor = Cursor::after_backfill_page(phase, next_offset).map(|c| c.encode());
    Ok(PollPage { items, next_cursor })
}

fn events_page(
    s: &Settings,
    t: &mut dyn Transport,
    window: Window,
    offset: Option<String>,
) -> Result<PollPage, SourceError> {
    let what = "GET events (gap check)";
    let body = get_json(t, &s.events_url(window, &events::accepted_filter(), offset.as_deref()), what)?;
    let (list, next_offset) = list_of(&body, what)?;
    let mut items = Vec::with_capacity(list.len());
    for entry in list {
        let event = entry.get("event").ok_or_else(|| unreadable(what, "a list item has no event object".into()))?;
        // One odd event must not stall gap detection for every event behind it.
        match events::trigger_of(event) {
            Ok(Some(trigger)) => items.push(Polled { trigger, fetched: None }),
            Ok(None) => {}
            Err(e) => t.note(&format!("events walk: skipped an unreadable event: {}", e.0)),
        }
    }
    let next_cursor = next_offset.map(|offset| Cursor::Events { offset: Some(offset) }.encode());
    Ok(PollPage { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::VecDeque;

    /// Answers queued per call, and every URL asked for.
    #[derive(Default)]
    struct Scripted {
        answers: VecDeque<Result<Response, HttpError>>,
        urls: Vec<String>,
        notes: Vec<String>,
    }

    impl Scripted {
        fn json(mut self, status: u16, body: Value) -> Self {
            self.answers.push_back(Ok(Response {
                status,
                headers: vec![],
                body: serde_json::to_vec(&body).expect("json"),
            }));
            self
        }
    }

    impl Transport for Scripted {
        fn get(&mut self, url: &str) -> Result<Response, HttpError> {
            self.urls.push(url.to_string());
            self.answers.pop_front().expect("an answer is scripted for every call")
        }
        fn note(&mut self, message: &str) {
            self.notes.push(message.to_string());
        }
    }

    fn settings(fetch_event: bool) -> Settings {
        Settings { api_base: "https://acme.chargebee.com".into(), fetch_event, page_size: 2 }
    }

    fn trigger(kind: RecordKind, id: &str) -> Trigger {
        Trigger { event_id: Some("ev_1".into()), event_type: "x".into(), kind, resource_id: id.into(), occurred_at: 1 }
    }

    fn customer(id: &str, updated_at: i64) -> Value {
        json!({"id": id, "auto_collection": "on", "net_term_days": 0, "allow_direct_debit": false, "created_at": 1, "updated_at": updated_at, "resource_version": updated_at * 1000, "deleted": false, "object": "customer"})
    }

    #[test]
    fn fetch_reads_the_resource_not_the_trigger_body() {
        let mut t = Scripted::default().json(200, json!({"customer": customer("cus_1", 1_700_000_000)}));
        let recs = fetch(&settings(false), &mut t, &trigger(RecordKind::Customer, "cus_1")).expect("fetched");
        assert_eq!(t.urls, ["https://acme.chargebee.com/api/v2/customers/cus_1"]);
        assert_eq!((recs.len(), recs[0].version), (1, 1_700_000_000_000));
    }

    #[test]
    fn fetch_event_mode_takes_ids_from_the_api_event() {
        let event = json!({"event": {"id": "ev_1", "occurred_at": 5, "event_type": "customer_changed", "api_version": "v2", "content": {"customer": {"id": "cus_real"}}}});
        let mut t = Scripted::default().json(200, event).json(200, json!({"customer": customer("cus_real", 7)}));
        let recs = fetch(&settings(true), &mut t, &trigger(RecordKind::Customer, "cus_claimed")).expect("fetched");
        assert_eq!(
            t.urls,
            ["https://acme.chargebee.com/api/v2/events/ev_1", "https://acme.chargebee.com/api/v2/customers/cus_real"]
        );
        assert_eq!(recs[0].id, "cus_real");
    }

    #[test]
    fn fetch_maps_errors() {
        let nf = json!({"message": "Sorry, we couldn't find that resource", "type": "invalid_request", "api_error_code": "resource_not_found", "http_status_code": 404});
        let mut t = Scripted::default().json(404, nf);
        assert!(matches!(
            fetch(&settings(false), &mut t, &trigger(RecordKind::Invoice, "inv_9")),
            Err(SourceError::NotFound(_))
        ));
        let mut t = Scripted::default();
        t.answers.push_back(Err(HttpError::RateLimited(Some(2000))));
        assert!(matches!(
            fetch(&settings(false), &mut t, &trigger(RecordKind::Invoice, "inv_9")),
            Err(SourceError::RateLimited(Some(2000)))
        ));
        let mut t = Scripted::default().json(200, json!({"invoice": {"id": "inv_9", "total": 1.5}}));
        assert!(matches!(
            fetch(&settings(false), &mut t, &trigger(RecordKind::Invoice, "inv_9")),
            Err(SourceError::Permanent(_))
        ));
    }

    #[test]
    fn fetch_follows_paginated_line_items() {
        let line = |id: &str| json!({"id": id, "date_from": 1, "date_to": 1, "unit_amount": 100, "quantity": 1, "amount": 100, "description": id, "entity_type": "adhoc", "is_taxed": false});
        let head = json!({"invoice": {"id": "inv_1", "customer_id": "c", "status": "paid", "date": 1, "currency_code": "USD", "total": 200, "sub_total": 200, "tax": 0,
            "line_items": [line("li_1")], "line_items_next_offset": "[\"2\"]"}});
        let rest = json!({"invoice": {"id": "inv_1", "line_items": [line("li_2")]}});
        let mut t = Scripted::default().json(200, head).json(200, rest);
        let recs = fetch(&settings(false), &mut t, &trigger(RecordKind::Invoice, "inv_1")).expect("fetched");
        assert_eq!(t.urls.len(), 2);
        assert!(
            t.urls[1].ends_with("/invoices/inv_1?line_items_limit=100&line_items_offset=%5B%222%22%5D"),
            "{}",
            t.urls[1]
        );
        let ml_connector_sdk::source::ml_connector::plugin::types::RecordBody::Invoice(i) = &recs[0].body else {
            panic!()
        };
        assert_eq!(i.lines.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), ["li_1", "li_2"]);
    }

    #[test]
    fn backfill_pages_through_phases_and_resumes_from_cursor() {
        let mut t = Scripted::default()
            .json(200, json!({"list": [{"customer": customer("cus_1", 10), "card": {}}, {"customer": customer("cus_2", 11)}], "next_offset": "[\"11000\",\"2\"]"}))
            .json(200, json!({"list": [{"customer": customer("cus_3", 12)}]}));
        let req =
            |cursor: Option<String>| PollRequest { mode: PollMode::Backfill, cursor, since: Some(10), until: Some(20) };
        let p1 = poll(&settings(false), &mut t, &req(None)).expect("page 1");
        assert_eq!(p1.items.len(), 2);
        assert!(
            p1.items
                .iter()
                .all(|i| i.fetched.is_some() && i.trigger.event_id.is_none() && i.trigger.event_type == "backfill")
        );
        let c1 = p1.next_cursor.expect("more");
        let p2 = poll(&settings(false), &mut t, &req(Some(c1))).expect("page 2");
        assert_eq!(p2.items[0].trigger.resource_id, "cus_3");
        assert_eq!(
            Cursor::decode(&p2.next_cursor.expect("next phase")),
            Ok(Cursor::Backfill { phase: RecordKind::Invoice, offset: None })
        );
        assert_eq!(
            t.urls[0],
            "https://acme.chargebee.com/api/v2/customers?limit=2&include_deleted=true&updated_at%5Bafter%5D=9&updated_at%5Bbefore%5D=20&sort_by%5Basc%5D=updated_at"
        );
        assert!(t.urls[1].contains("offset=%5B%2211000%22%2C%222%22%5D"), "{}", t.urls[1]);
        let mut t = Scripted::default().json(200, json!({"list": []}));
        let last = Cursor::Backfill { phase: RecordKind::CreditNote, offset: None }.encode();
        assert!(poll(&settings(false), &mut t, &req(Some(last))).expect("last").next_cursor.is_none());
    }

    #[test]
    fn backfill_skips_non_ledger_transactions() {
        let txn = |id: &str, ty: &str| json!({"transaction": {"id": id, "customer_id": "c", "type": ty, "status": "success", "payment_method": "card", "gateway": "stripe", "currency_code": "USD", "amount": 100, "date": 1, "deleted": false}});
        let mut t =
            Scripted::default().json(200, json!({"list": [txn("txn_a", "authorization"), txn("txn_p", "payment")]}));
        let cursor = Cursor::Backfill { phase: RecordKind::Payment, offset: None }.encode();
        let p = poll(
            &settings(false),
            &mut t,
            &PollRequest { mode: PollMode::Backfill, cursor: Some(cursor), since: None, until: None },
        )
        .expect("page");
        assert_eq!(p.items.iter().map(|i| i.trigger.resource_id.as_str()).collect::<Vec<_>>(), ["txn_p"]);
        assert_eq!(t.notes.len(), 1);
    }

    #[test]
    fn events_walk_yields_keyed_triggers_without_records() {
        let ev = |id: &str, ty: &str, key: &str| json!({"event": {"id": id, "occurred_at": 100, "event_type": ty, "api_version": "v2", "content": {key: {"id": format!("r_{id}")}}}});
        let mut t = Scripted::default().json(
            200,
            json!({"list": [ev("ev_1", "invoice_generated", "invoice"), ev("ev_2", "subscription_created", "subscription"), ev("ev_3", "credit_note_created", "credit_note")], "next_offset": "o2"}),
        );
        let p = poll(
            &settings(false),
            &mut t,
            &PollRequest { mode: PollMode::Events, cursor: None, since: Some(50), until: Some(200) },
        )
        .expect("page");
        assert_eq!(
            p.items.iter().map(|i| i.trigger.event_id.clone().unwrap_or_default()).collect::<Vec<_>>(),
            ["ev_1", "ev_3"]
        );
        assert!(p.items.iter().all(|i| i.fetched.is_none()));
        assert!(
            t.urls[0].contains(
                "occurred_at%5Bafter%5D=49&occurred_at%5Bbefore%5D=200&event_type%5Bin%5D=%5B%22customer_created%22"
            ),
            "{}",
            t.urls[0]
        );
        assert_eq!(Cursor::decode(&p.next_cursor.expect("more")), Ok(Cursor::Events { offset: Some("o2".into()) }));
        let wrong = PollRequest {
            mode: PollMode::Backfill,
            cursor: Some(Cursor::Events { offset: None }.encode()),
            since: None,
            until: None,
        };
        assert!(matches!(poll(&settings(false), &mut Scripted::default(), &wrong), Err(SourceError::Permanent(_))));
    }
}
