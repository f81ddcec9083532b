//! The site's event log: what each mutation appends, and the webhook sender's status reports.

use serde_json::{Map, Value};

use super::{Kind, SiteData};
use crate::model::Event;

impl SiteData {
    pub(super) fn emit(&mut self, occurred_at: i64, event_type: &str, content: Vec<(&str, Value)>) -> String {
        let id = self.random_id("ev_");
        let mut map = Map::new();
        for (k, v) in content {
            map.insert(k.to_string(), v);
        }
        self.index.insert((Kind::Event, id.clone()), self.events.len());
        self.events.push(Event {
            id: id.clone(),
            occurred_at,
            source: self.event_source.clone(),
            user: Some("sandbox_full_access_key".into()),
            object: "event".into(),
            api_version: "v2".into(),
            webhook_status: "not_configured".into(),
            event_type: event_type.into(),
            content: map,
        });
        id
    }

    /// Sets an event's webhook_status (the webhook sender reports back here).
    pub fn set_webhook_status(&mut self, event_id: &str, status: &str) {
        if let Some(ix) = self.find(Kind::Event, event_id) {
            self.events[ix].webhook_status = status.into();
        }
    }
}
