//! Chargebee API v2 on the wire: connection settings, request URLs with Chargebee's filter
//! encodings, and HTTP outcomes → `source-error`.

use ml_connector_sdk::source::exports::ml_connector::plugin::source_api::SourceError;
use ml_connector_sdk::source::ml_connector::plugin::http::{HttpError, Response};
use serde_json::Value;

/// The guest name of the granted Chargebee API key (scheme basic-api-key, bound to api_base).
pub const API_KEY_SECRET: &str = "chargebee-api-key";
pub const SETTING_API_BASE: &str = "chargebee.api_base";
pub const SETTING_FETCH_EVENT: &str = "chargebee.fetch_event";
pub const SETTING_PAGE_SIZE: &str = "chargebee.page_size";

/// Chargebee's list `limit` range.
pub const MAX_PAGE_SIZE: u32 = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `https://{site}.chargebee.com`, no trailing slash, no `/api/v2`.
    pub api_base: String,
    /// Read the event by id before the resource (2 calls a fetch) instead of trusting the trigger's ids.
    pub fetch_event: bool,
    pub page_size: u32,
}

impl Settings {
    /// From the connection's settings; a bad value is a permanent error naming the key.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, SourceError> {
        let bad = |key: &str, why: String| SourceError::Permanent(format!("connection setting {key}: {why}"));
        let api_base = get(SETTING_API_BASE)
            .ok_or_else(|| bad(SETTING_API_BASE, "missing (e.g. https://acme.chargebee.com)".into()))?;
        let api_base = api_base.trim().trim_end_matches('/').trim_end_matches("/api/v2").to_string();
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) || api_base.len() <= "https://".len()
        {
            return Err(bad(
                SETTING_API_BASE,
                format!("{api_base:?} is not an http(s) origin like https://acme.chargebee.com"),
            ));
        }
        let fetch_event = match get(SETTING_FETCH_EVENT).as_deref().map(str::trim) {
            None | Some("") | Some("false") => false,
            Some("true") => true,
            Some(other) => return Err(bad(SETTING_FETCH_EVENT, format!("{other:?} is not true or false"))),
        };
        let page_size = match get(SETTING_PAGE_SIZE) {
            None => MAX_PAGE_SIZE,
            Some(text) => match text.trim().parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => return Err(bad(SETTING_PAGE_SIZE, format!("{text:?} is not a number from 1 to {MAX_PAGE_SIZE}"))),
            },
        };
        Ok(Settings { api_base, fetch_event, page_size })
    }

    pub fn retrieve_url(&self, collection: &str, id: &str) -> String {
        format!("{}/api/v2/{collection}/{}", self.api_base, encode(id))
    }

    /// A retrieve continuing an invoice's/credit note's paginated line items.
    pub fn line_items_url(&self, collection: &str, id: &str, offset: &str) -> String {
        let query =
            Query::default().param("line_items_limit", &MAX_PAGE_SIZE.to_string()).param("line_items_offset", offset);
        format!("{}{}", self.retrieve_url(collection, id), query.finish())
    }

    /// One page of a resource list by `updated_at` for backfill.
    pub fn list_url(&self, collection: &str, window: Window, offset: Option<&str>) -> String {
        // Credit notes can only be sorted by date (the API refuses updated_at there); the walk
        // still covers exactly the updated_at window, only the order within it differs.
        let sort = if collection == "credit_notes" { "date" } else { "updated_at" };
        let query = Query::default()
            .param("limit", &self.page_size.to_string())
            .opt("offset", offset)
            .param("include_deleted", "true")
            .window("updated_at", window)
            .param("sort_by[asc]", sort);
        format!("{}/api/v2/{collection}{}", self.api_base, query.finish())
    }

    /// One page of the events walk for gap detection.
    pub fn events_url(&self, window: Window, event_types: &str, offset: Option<&str>) -> String {
        let query = Query::default()
            .param("limit", &self.page_size.to_string())
            .opt("offset", offset)
            .window("occurred_at", window)
            .param("event_type[in]", event_types)
            .param("sort_by[asc]", "occurred_at");
        format!("{}/api/v2/events{}", self.api_base, query.finish())
    }
}

/// A poll window: changes at/after `since`, before `until` (unix seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

#[derive(Default)]
struct Query(Vec<String>);

impl Query {
    fn param(mut self, key: &str, value: &str) -> Self {
        self.0.push(format!("{}={}", encode(key), encode(value)));
        self
    }
    fn opt(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.param(key, v),
            None => self,
        }
    }
    /// Chargebee's `[after]` is strictly after, so "at/after since" is `[after]=since-1`.
    fn window(self, field: &str, w: Window) -> Self {
        let after = w.since.map(|s| (s - 1).to_string());
        let before = w.until.map(|u| u.to_string());
        self.opt(&format!("{field}[after]"), after.as_deref()).opt(&format!("{field}[before]"), before.as_deref())
    }
    fn finish(self) -> String {
        if self.0.is_empty() { String::new() } else { format!("?{}", self.0.join("&")) }
    }
}

/// Percent-encoding of a path segment or query component: everything but RFC 3986 unreserved
/// characters, so `[`/`]` go out as `%5B`/`%5D` like every Chargebee SDK sends them.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The host's transport errors. A credential used off its bound origin comes back as `denied`:
/// that is configuration, so never worth retrying.
pub fn from_http_error(e: HttpError, what: &str) -> SourceError {
    match e {
        HttpError::Denied(why) => SourceError::Permanent(format!(
            "{what}: the host denied the request ({why}); check the connection's allow_http and the API key's origin"
        )),
        HttpError::Timeout => SourceError::Transient(format!("{what}: Chargebee did not answer in time")),
        HttpError::Connect(why) => SourceError::Transient(format!("{what}: cannot connect to Chargebee: {why}")),
        HttpError::RateLimited(after) => SourceError::RateLimited(after),
        HttpError::Protocol(why) => SourceError::Transient(format!("{what}: {why}")),
    }
}

/// A non-2xx response → `source-error`, with Chargebee's `api_error_code` and message.
pub fn from_status(resp: &Response, what: &str) -> SourceError {
    let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    let code = body.get("api_error_code").and_then(Value::as_str).unwrap_or("");
    let message = body.get("message").and_then(Value::as_str).unwrap_or("");
    let detail = match (code, message) {
        ("", "") => format!("{what}: Chargebee answered HTTP {}", resp.status),
        (code, message) => format!("{what}: Chargebee answered HTTP {} {code}: {message}", resp.status),
    };
    match resp.status {
        404 if code == "site_not_found" => {
            SourceError::Permanent(format!("{detail} (check the connection's site and region: {SETTING_API_BASE})"))
        }
        404 => SourceError::NotFound(detail),
        429 => SourceError::RateLimited(retry_after_ms(&resp.headers)),
        401 => SourceError::Permanent(format!(
            "{detail} (the API key was refused: rotate or re-enter the {API_KEY_SECRET} secret)"
        )),
        403 => SourceError::Permanent(format!("{detail} (the API key lacks read access to this resource)")),
        s if s >= 500 => SourceError::Transient(detail),
        300..=399 => SourceError::Permanent(format!(
            "{detail} redirecting elsewhere (the host follows no redirects; check {SETTING_API_BASE})"
        )),
        _ => SourceError::Permanent(detail),
    }
}

/// Retry-After (seconds, the form Chargebee uses, or an HTTP date) → ms, as the SDK reads it.
fn retry_after_ms(headers: &[(String, String)]) -> Option<u64> {
    let (_, v) = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))?;
    ml_connector_sdk::retry_after::retry_after_ms(v, std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, SourceError> {
        Settings::from_lookup(|k| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| v.to_string()))
    }

    fn acme() -> Settings {
        settings(&[(SETTING_API_BASE, "https://acme.chargebee.com/")]).expect("valid")
    }

    #[test]
    fn settings_defaults_and_refusals() {
        let s = acme();
        assert_eq!((s.api_base.as_str(), s.fetch_event, s.page_size), ("https://acme.chargebee.com", false, 100));
        let s = settings(&[
            (SETTING_API_BASE, "http://127.0.0.1:9/api/v2"),
            (SETTING_FETCH_EVENT, "true"),
            (SETTING_PAGE_SIZE, "7"),
        ])
        .expect("valid");
        assert_eq!((s.api_base.as_str(), s.fetch_event, s.page_size), ("http://127.0.0.1:9", true, 7));
        for bad in [
            vec![],
            vec![(SETTING_API_BASE, "acme.chargebee.com")],
            vec![(SETTING_API_BASE, "https://a.chargebee.com"), (SETTING_PAGE_SIZE, "0")],
            vec![(SETTING_API_BASE, "https://a.chargebee.com"), (SETTING_PAGE_SIZE, "101")],
            vec![(SETTING_API_BASE, "https://a.chargebee.com"), (SETTING_FETCH_EVENT, "yes")],
        ] {
            assert!(matches!(settings(&bad), Err(SourceError::Permanent(_))), "{bad:?}");
        }
    }

    #[test]
    fn retrieve_urls_escape_ids() {
        let s = acme();
        assert_eq!(s.retrieve_url("invoices", "inv_1"), "https://acme.chargebee.com/api/v2/invoices/inv_1");
        assert_eq!(
            s.retrieve_url("credit_notes", "CN/7 x"),
            "https://acme.chargebee.com/api/v2/credit_notes/CN%2F7%20x"
        );
        assert_eq!(
            s.line_items_url("invoices", "inv_1", "[\"5\"]"),
            "https://acme.chargebee.com/api/v2/invoices/inv_1?line_items_limit=100&line_items_offset=%5B%225%22%5D"
        );
    }

    #[test]
    fn list_filters_use_chargebee_encodings() {
        let s = acme();
        let w = Window { since: Some(1_700_000_000), until: Some(1_700_086_400) };
        assert_eq!(
            s.list_url("invoices", w, None),
            "https://acme.chargebee.com/api/v2/invoices?limit=100&include_deleted=true&updated_at%5Bafter%5D=1699999999&updated_at%5Bbefore%5D=1700086400&sort_by%5Basc%5D=updated_at"
        );
        assert_eq!(
            s.list_url("credit_notes", Window::default(), Some("[\"1630848839000\",\"42903379\"]")),
            "https://acme.chargebee.com/api/v2/credit_notes?limit=100&offset=%5B%221630848839000%22%2C%2242903379%22%5D&include_deleted=true&sort_by%5Basc%5D=date"
        );
        assert_eq!(
            s.events_url(
                Window { since: Some(10), until: None },
                "[\"invoice_generated\",\"customer_created\"]",
                Some("o1")
            ),
            "https://acme.chargebee.com/api/v2/events?limit=100&offset=o1&occurred_at%5Bafter%5D=9&event_type%5Bin%5D=%5B%22invoice_generated%22%2C%22customer_created%22%5D&sort_by%5Basc%5D=occurred_at"
        );
    }

    fn resp(status: u16, body: &str, headers: &[(&str, &str)]) -> Response {
        Response {
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn statuses_map_to_source_errors() {
        let not_found = r#"{"message":"Sorry, we couldn't find that resource","type":"invalid_request","api_error_code":"resource_not_found","http_status_code":404}"#;
        match from_status(&resp(404, not_found, &[]), "GET invoices/inv_9") {
            SourceError::NotFound(m) => assert!(m.contains("resource_not_found") && m.contains("inv_9"), "{m}"),
            other => panic!("{other:?}"),
        }
        let site = r#"{"message":"site not found","api_error_code":"site_not_found","http_status_code":404}"#;
        assert!(matches!(from_status(&resp(404, site, &[]), "x"), SourceError::Permanent(_)));
        let limited = r#"{"message":"limit","type":"operation_failed","api_error_code":"api_request_limit_exceeded","http_status_code":429}"#;
        assert!(matches!(
            from_status(&resp(429, limited, &[("Retry-After", "3")]), "x"),
            SourceError::RateLimited(Some(3000))
        ));
        assert!(matches!(from_status(&resp(429, limited, &[]), "x"), SourceError::RateLimited(None)));
        assert!(matches!(
            from_status(&resp(401, r#"{"api_error_code":"api_authentication_failed","message":"bad key"}"#, &[]), "x"),
            SourceError::Permanent(_)
        ));
        assert!(matches!(from_status(&resp(403, "", &[]), "x"), SourceError::Permanent(_)));
        assert!(matches!(from_status(&resp(500, "<html>oops</html>", &[]), "x"), SourceError::Transient(_)));
        assert!(matches!(
            from_status(&resp(503, r#"{"api_error_code":"site_read_only_mode","message":"ro"}"#, &[]), "x"),
            SourceError::Transient(_)
        ));
        assert!(matches!(
            from_status(&resp(400, r#"{"api_error_code":"param_wrong_value","message":"bad"}"#, &[]), "x"),
            SourceError::Permanent(_)
        ));
    }

    #[test]
    fn transport_errors_map_to_source_errors() {
        assert!(matches!(from_http_error(HttpError::Denied("origin".into()), "x"), SourceError::Permanent(_)));
        assert!(matches!(from_http_error(HttpError::Timeout, "x"), SourceError::Transient(_)));
        assert!(matches!(from_http_error(HttpError::Connect("refused".into()), "x"), SourceError::Transient(_)));
        assert!(matches!(
            from_http_error(HttpError::RateLimited(Some(1500)), "x"),
            SourceError::RateLimited(Some(1500))
        ));
    }
}
