//! Request headers a guest may not set, and the ceiling on a server's `Retry-After`: the parts of
//! `http` that bound what a guest and a remote can make the host do (shared by the reqwest and
//! the NTLM paths).

use std::time::Duration;

/// Headers the host owns. Connection management and framing (a guest's `transfer-encoding` or
/// `content-length` could smuggle a second request past the origin check), the host name (the
/// allowlist judged the URL's), proxy credentials, protocol switches. The list of
/// wasmtime-wasi-http's default forbidden headers, plus `content-length` and every `proxy-*`.
const FORBIDDEN: [&str; 11] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "transfer-encoding",
    "upgrade",
    "host",
    "http2-settings",
    "content-length",
];

/// Why a guest may not send header `name`, if it may not. `with_credential`: the host injects
/// the credential's `authorization` (or authenticates the connection, for NTLM), so the guest's
/// own would replace or contradict it.
pub fn forbidden_header(name: &str, with_credential: bool) -> Option<String> {
    let lower = name.trim().to_ascii_lowercase();
    let owned = FORBIDDEN.contains(&lower.as_str()) || lower.starts_with("proxy-");
    if owned {
        return Some(format!("header {name:?} is set by the host, not by a component"));
    }
    if with_credential && lower == "authorization" {
        return Some(format!("header {name:?} is injected by the host from the credential"));
    }
    None
}

/// The first forbidden header of a request, as the reason for `denied`.
pub fn check_headers(headers: &[(String, String)], with_credential: bool) -> Result<(), String> {
    headers.iter().find_map(|(name, _)| forbidden_header(name, with_credential)).map_or(Ok(()), Err)
}

/// The default ceiling on a 429's `Retry-After` (`[host] max_retry_after_s`).
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// A server's Retry-After (ms), at most `max`: a hostile or broken server's
/// `Retry-After: 999999999` must not park a key or a job for decades.
pub fn cap_retry_after(ms: Option<u64>, max: Duration) -> Option<u64> {
    let max_ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    ms.map(|ms| ms.min(max_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_headers_any_case() {
        for h in [
            "Connection",
            "KEEP-ALIVE",
            "te",
            "Transfer-Encoding",
            "upgrade",
            "Host",
            "http2-settings",
            "Content-Length",
            "Proxy-Authorization",
            "proxy-foo",
            " host",
        ] {
            assert!(forbidden_header(h, false).is_some(), "{h}");
        }
        assert!(forbidden_header("Authorization", true).is_some());
        assert!(forbidden_header("authorization", false).is_none(), "a component's own auth to an allowed origin");
        for h in ["content-type", "accept", "soapaction", "x-proxy"] {
            assert!(forbidden_header(h, true).is_none(), "{h}");
        }
    }

    #[test]
    fn retry_after_is_capped() {
        let max = Duration::from_secs(3600);
        assert_eq!(cap_retry_after(Some(999_999_999_000), max), Some(3_600_000));
        assert_eq!(cap_retry_after(Some(7_000), max), Some(7_000));
        assert_eq!(cap_retry_after(None, max), None);
    }
}
