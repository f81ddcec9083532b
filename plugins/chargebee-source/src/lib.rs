//! The Chargebee source component: turns Chargebee webhooks into triggers, re-reads customers,
//! invoices, transactions and credit notes from the Chargebee API v2 as canonical records, and
//! walks the resource lists (backfill) and the events list (gap detection).
//!
//! Everything but the thin glue at the bottom compiles natively and is unit-tested: JSON →
//! canonical in [`records`] and [`documents`], events in [`events`], URLs/filters/errors in [`api`], the opaque poll
//! cursor in [`cursor`], the call sequences in [`flow`] over a [`flow::Transport`].

// The reference-shaped JSON fixtures in the tests are deep for `json!`.
#![cfg_attr(test, recursion_limit = "256")]

pub mod api;
pub mod cursor;
pub mod documents;
pub mod events;
pub mod flow;
pub mod json;
pub mod records;

#[cfg(target_arch = "wasm32")]
mod guest {
    use ml_connector_sdk::source::exports::ml_connector::plugin::source_api::{
        Guest, PollPage, PollRequest, SourceError, Webhook,
    };
    use ml_connector_sdk::source::ml_connector::plugin::http::{self, HttpError, Method, Request, Response};
    use ml_connector_sdk::source::ml_connector::plugin::types::{SourceRecord, Trigger};
    use ml_connector_sdk::source::ml_connector::plugin::{log, secrets, settings};

    use crate::api::{self, Settings};
    use crate::flow::{self, Transport};

    /// Per Chargebee call; the host caps it further.
    const TIMEOUT_MS: u32 = 30_000;

    struct ChargebeeSource;

    /// The host's `http` with the granted API key; the host injects Basic auth only on the
    /// key's bound origin, so a wrong `api_base` fails as `denied`, never leaks the key.
    struct HostHttp {
        key: secrets::Secret,
    }

    impl Transport for HostHttp {
        fn get(&mut self, url: &str) -> Result<Response, HttpError> {
            let req = Request {
                method: Method::Get,
                url: url.to_string(),
                headers: vec![("accept".into(), "application/json".into())],
                body: None,
                timeout_ms: Some(TIMEOUT_MS),
            };
            http::send(&req, Some(&self.key))
        }

        fn note(&mut self, message: &str) {
            log::log(log::Level::Info, message);
        }
    }

    fn connect() -> Result<(Settings, HostHttp), SourceError> {
        let s = Settings::from_lookup(settings::get)?;
        let key = secrets::lookup(api::API_KEY_SECRET).map_err(|e| match e {
            secrets::SecretError::NotGranted(name) => SourceError::Permanent(format!(
                "secret {name} is not granted to this source (grant the Chargebee API key as {})",
                api::API_KEY_SECRET
            )),
        })?;
        Ok((s, HostHttp { key }))
    }

    impl Guest for ChargebeeSource {
        fn intake(hook: Webhook) -> Result<Vec<Trigger>, SourceError> {
            crate::events::intake(&hook.body).map_err(|e| SourceError::BadWebhook(e.0))
        }

        fn fetch(trigger: Trigger) -> Result<Vec<SourceRecord>, SourceError> {
            let (s, mut t) = connect()?;
            flow::fetch(&s, &mut t, &trigger)
        }

        fn poll(req: PollRequest) -> Result<PollPage, SourceError> {
            let (s, mut t) = connect()?;
            flow::poll(&s, &mut t, &req)
        }
    }

    ml_connector_sdk::export_source!(ChargebeeSource);
}
