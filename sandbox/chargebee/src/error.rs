//! Chargebee's error JSON: `message`, `type` (absent for auth errors), `api_error_code`,
//! optional `param`, `http_status_code` (the Go SDK reads the status from the body) and the
//! legacy `error_code` / `error_msg` copies that old clients and the Python SDK still read.

use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub kind: Option<&'static str>,
    pub code: &'static str,
    pub message: String,
    pub param: Option<String>,
}

impl ApiError {
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "message": self.message,
            "api_error_code": self.code,
            "error_code": self.code,
            "error_msg": self.message,
            "http_status_code": self.status,
        });
        if let Some(kind) = self.kind {
            v["type"] = json!(kind);
        }
        if let Some(param) = &self.param {
            v["param"] = json!(param);
            v["error_param"] = json!(param);
        }
        v
    }

    /// 400 param_wrong_value naming the parameter, the way Chargebee words it ("limit : …").
    pub fn bad_param(param: &str, detail: &str) -> Self {
        ApiError {
            status: 400,
            kind: Some("invalid_request"),
            code: "param_wrong_value",
            message: format!("{param} : {detail}"),
            param: Some(param.into()),
        }
    }

    pub fn not_found(resource: &str, id: &str) -> Self {
        ApiError {
            status: 404,
            kind: Some("invalid_request"),
            code: "resource_not_found",
            // INFERRED wording; the code and status are what clients act on.
            message: format!("{resource} not found for id {id}"),
            param: None,
        }
    }

    /// A Chargebee host name (`{site}.chargebee.com`) of no site in this sandbox: 404 with no
    /// type (the reference's pairing for site_not_found; wording INFERRED).
    pub fn site_not_found(site: &str) -> Self {
        ApiError {
            status: 404,
            kind: None,
            code: "site_not_found",
            message: format!("Sorry, we couldn't find the site {site}"),
            param: None,
        }
    }

    pub fn unknown_path() -> Self {
        ApiError {
            status: 404,
            kind: Some("invalid_request"),
            code: "resource_not_found",
            message: "Sorry, we couldn't find that resource".into(),
            param: None,
        }
    }

    pub fn method_not_supported(method: &str) -> Self {
        ApiError {
            status: 405,
            kind: Some("invalid_request"),
            code: "http_method_not_supported",
            message: format!(
                "Sorry, the {method} method is not supported by the sandbox for this URL (it serves the read API)"
            ),
            param: None,
        }
    }

    pub fn authentication(reason: &str) -> Self {
        ApiError {
            status: 401,
            kind: None,
            code: "api_authentication_failed",
            message: format!("Sorry, authentication failed. {reason}"),
            param: None,
        }
    }

    pub fn rate_limited() -> Self {
        ApiError {
            status: 429,
            kind: Some("operation_failed"),
            code: "api_request_limit_exceeded",
            message: "Sorry, access has been blocked temporarily due to request count exceeding acceptable limits. Please try after some time.".into(),
            param: None,
        }
    }

    /// An injected server fault: 500 internal_error, 503 internal_temporary_error; any other
    /// 5xx reuses 500's code with the given status.
    pub fn server_fault(status: u16) -> Self {
        if status == 503 {
            ApiError {
                status,
                kind: Some("operation_failed"),
                code: "internal_temporary_error",
                message: "Sorry, the server is currently unable to handle the request due to a temporary overload or scheduled maintenance. Please retry after sometime.".into(),
                param: None,
            }
        } else {
            ApiError {
                status,
                kind: Some("operation_failed"),
                code: "internal_error",
                message: "Sorry, something went wrong when trying to process the request. If this problem persists, contact us at support@chargebee.com.".into(),
                param: None,
            }
        }
    }
}
