//! Stand-in source for host tests: Chargebee-shaped webhooks in, records fetched over the host's
//! `http` capability from `settings.api_base` with the granted `api-key` secret.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ml_connector_sdk::source::exports::ml_connector::plugin::source_api::{
    Guest, PollMode, PollPage, PollRequest, Polled, SourceError, Webhook,
};
use ml_connector_sdk::source::ml_connector::plugin::http::{self, HttpError, Method, Request};
use ml_connector_sdk::source::ml_connector::plugin::types::*;
use ml_connector_sdk::source::ml_connector::plugin::{audit, secrets, settings};
use serde_json::Value;

struct StandinSource;

fn kind_of(event_type: &str) -> Option<RecordKind> {
    Some(match event_type.split('_').next()? {
        "invoice" => RecordKind::Invoice,
        "payment" => RecordKind::Payment,
        "credit" => RecordKind::CreditNote,
        "customer" => RecordKind::Customer,
        _ => return None,
    })
}

fn kind_name(k: RecordKind) -> &'static str {
    match k {
        RecordKind::Invoice => "invoice",
        RecordKind::Payment => "payment",
        RecordKind::CreditNote => "credit_note",
        RecordKind::Customer => "customer",
    }
}

fn http_error(e: HttpError) -> SourceError {
    match e {
        HttpError::RateLimited(after) => SourceError::RateLimited(after),
        HttpError::Denied(why) => SourceError::Permanent(format!("denied: {why}")),
        HttpError::Timeout => SourceError::Transient("timeout".into()),
        HttpError::Connect(e) | HttpError::Protocol(e) => SourceError::Transient(e),
    }
}

fn str_field(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or_default().to_string()
}

impl Guest for StandinSource {
    fn intake(hook: Webhook) -> Result<Vec<Trigger>, SourceError> {
        let ev: Value = serde_json::from_slice(&hook.body).map_err(|e| SourceError::BadWebhook(e.to_string()))?;
        let event_type = str_field(&ev, "event_type");
        let kind = kind_of(&event_type)
            .ok_or_else(|| SourceError::BadWebhook(format!("unsupported event type {event_type:?}")))?;
        let content = ev
            .get("content")
            .and_then(|c| c.as_object())
            .and_then(|o| o.values().next())
            .cloned()
            .unwrap_or(Value::Null);
        let resource_id = str_field(&content, "id");
        if resource_id.is_empty() {
            return Err(SourceError::BadWebhook("content has no resource id".into()));
        }
        Ok(vec![Trigger {
            event_id: Some(str_field(&ev, "id")).filter(|s| !s.is_empty()),
            event_type,
            kind,
            resource_id,
            occurred_at: ev.get("occurred_at").and_then(Value::as_i64).unwrap_or(0),
        }])
    }

    fn fetch(trigger: Trigger) -> Result<Vec<SourceRecord>, SourceError> {
        let base =
            settings::get("api_base").ok_or_else(|| SourceError::Permanent("setting api_base missing".into()))?;
        let key = secrets::lookup("api-key").map_err(|e| SourceError::Permanent(format!("{e:?}")))?;
        let url = format!("{base}/records/{}/{}", kind_name(trigger.kind), trigger.resource_id);
        let resp = http::send(
            &Request { method: Method::Get, url, headers: vec![], body: None, timeout_ms: Some(5_000) },
            Some(&key),
        )
        .map_err(http_error)?;
        if resp.status == 404 {
            return Err(SourceError::NotFound(trigger.resource_id));
        }
        if resp.status != 200 {
            return Err(SourceError::Transient(format!("status {}", resp.status)));
        }
        let v: Value = serde_json::from_slice(&resp.body).map_err(|e| SourceError::Transient(e.to_string()))?;
        audit::append("fetch", audit::Outcome::Info, &format!("stand-in fetched {}", trigger.resource_id));
        let id = str_field(&v, "id");
        let currency = str_field(&v, "currency");
        let date = str_field(&v, "date");
        let total = v.get("total").and_then(Value::as_i64).unwrap_or(0);
        let body = match trigger.kind {
            RecordKind::Customer => RecordBody::Customer(Customer {
                id: id.clone(),
                email: Some(str_field(&v, "email")),
                company: Some(str_field(&v, "company")),
                first_name: None,
                last_name: None,
                currency: Some(currency),
                billing_address: None,
                net_term_days: 0,
                phone: None,
                custom_fields: Vec::new(),
            }),
            _ => RecordBody::Invoice(Invoice {
                id: id.clone(),
                customer_id: str_field(&v, "customer_id"),
                currency,
                date,
                due_date: None,
                status: "paid".into(),
                sub_total: total,
                discount: 0,
                tax: 0,
                total,
                amount_paid: total,
                amount_due: 0,
                po_number: None,
                lines: vec![InvoiceLine {
                    id: format!("{id}-1"),
                    description: "stand-in line".into(),
                    quantity: 1,
                    unit_amount: total,
                    amount: total,
                    discount: 0,
                    tax: 0,
                    entity_type: "adhoc".into(),
                    entity_id: None,
                }],
                price_type: "tax_exclusive".into(),
                exchange_rate: None,
                round_off: 0,
                line_taxes: Vec::new(),
                timestamp: 0,
                voided_at: None,
            }),
        };
        Ok(vec![SourceRecord {
            kind: trigger.kind,
            id,
            version: v.get("version").and_then(Value::as_i64).unwrap_or(0),
            deleted: false,
            body,
        }])
    }

    /// No listing API: a backfill page is the one invoice named by the `poll_invoice` setting
    /// (for reconciliation tests), fetched as a webhook's trigger would be.
    fn poll(req: PollRequest) -> Result<PollPage, SourceError> {
        let backfill = req.cursor.is_none() && req.mode == PollMode::Backfill;
        let Some(id) = settings::get("poll_invoice").filter(|_| backfill) else {
            return Ok(PollPage { items: vec![], next_cursor: None });
        };
        let trigger = Trigger {
            event_id: None,
            event_type: "poll".into(),
            kind: RecordKind::Invoice,
            resource_id: id,
            occurred_at: 0,
        };
        let items = Self::fetch(trigger.clone())?
            .into_iter()
            .map(|rec| Polled { trigger: trigger.clone(), fetched: Some(rec) })
            .collect();
        Ok(PollPage { items, next_cursor: None })
    }
}

ml_connector_sdk::export_source!(StandinSource);
