//! The sandbox's own HTTP controls under `/_sandbox/` (not GP's): post a batch, close or open
//! a fiscal period. Same listener and account as SOAP/SBA (NTLM, or Basic when either GP
//! endpoint accepts it), JSON answers, usable from curl:
//!
//! ```text
//! POST /_sandbox/companies/{id}/batches/{source}/{batch}/post     → {"result":"posted",…} | {"result":"refused",…}
//! POST /_sandbox/companies/{id}/periods/{year}/{period}/close     → {"company":…,"closed":true}
//! POST /_sandbox/companies/{id}/periods/{year}/{period}/open      → {"company":…,"closed":false}
//! ```

use hyper::http::request::Parts;
use hyper::{Method, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use crate::server::{HttpResponse, Reply, Shared, response};
use crate::service::OpError;

/// Path prefix of the controls (lower case; matched case-insensitively).
pub const PREFIX: &str = "/_sandbox";

/// What a control path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    PostBatch { company: i32, source: String, batch: String },
    Period { company: i32, year: i32, period: u32, closed: bool },
}

/// Parses a control path (segments percent-decoded: batch ids may hold spaces).
pub fn parse(path: &str) -> Option<Action> {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        [root, "companies", id, "batches", source, batch, "post"] if root.eq_ignore_ascii_case("_sandbox") => {
            Some(Action::PostBatch { company: id.parse().ok()?, source: source.to_string(), batch: batch.to_string() })
        }
        [root, "companies", id, "periods", year, period, verb] if root.eq_ignore_ascii_case("_sandbox") => {
            let closed = match *verb {
                "close" => true,
                "open" => false,
                _ => return None,
            };
            Some(Action::Period {
                company: id.parse().ok()?,
                year: year.parse().ok()?,
                period: period.parse().ok()?,
                closed,
            })
        }
        _ => None,
    }
}

fn answer(status: StatusCode, body: &Value) -> Reply {
    Reply::Respond(json(status, body))
}

fn json(status: StatusCode, body: &Value) -> HttpResponse {
    response(status, "application/json; charset=utf-8", body.to_string())
}

fn failure(e: &OpError) -> Reply {
    let status = match e {
        OpError::Rejected(errors) => {
            StatusCode::from_u16(errors.first().map_or(400, |e| e.http_status())).unwrap_or(StatusCode::BAD_REQUEST)
        }
        OpError::System(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    answer(status, &json!({ "error": e.to_string() }))
}

/// Serves an authenticated control request.
pub async fn handle(shared: &Shared, parts: &Parts) -> Reply {
    let Some(action) = parse(parts.uri.path()) else {
        return answer(
            StatusCode::NOT_FOUND,
            &json!({ "error": format!("no sandbox control at {}", parts.uri.path()) }),
        );
    };
    if parts.method != Method::POST {
        return answer(StatusCode::METHOD_NOT_ALLOWED, &json!({ "error": "sandbox controls take POST" }));
    }
    let svc = &shared.service;
    match action {
        Action::PostBatch { company, source, batch } => match svc.post_batch(company, &batch, &source).await {
            // Refused posting is an answer, not a failure of the control: 409 with the journal.
            Ok(outcome) => {
                let status = if outcome.is_posted() { StatusCode::OK } else { StatusCode::CONFLICT };
                let mut body = serde_json::to_value(&outcome).unwrap_or(Value::Null);
                if let Value::Object(m) = &mut body {
                    m.insert("company".into(), json!(company));
                    m.insert("batch".into(), json!(batch));
                    m.insert("source".into(), json!(source));
                }
                answer(status, &body)
            }
            Err(e) => failure(&e),
        },
        Action::Period { company, year, period, closed } => {
            match svc.db.set_period_closed(company, year, period, closed).await {
                Ok(true) => answer(
                    StatusCode::OK,
                    &json!({ "company": company, "year": year, "period": period, "closed": closed }),
                ),
                Ok(false) => answer(
                    StatusCode::NOT_FOUND,
                    &json!({ "error": format!("company {company} has no fiscal period {year}/{period}") }),
                ),
                Err(e) => failure(&OpError::from(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_control_paths() {
        assert_eq!(
            parse("/_sandbox/companies/-1/batches/RM_Sales/MLC%20B1/post"),
            Some(Action::PostBatch { company: -1, source: "RM_Sales".into(), batch: "MLC B1".into() })
        );
        assert_eq!(
            parse("/_sandbox/companies/-1/periods/2026/3/close"),
            Some(Action::Period { company: -1, year: 2026, period: 3, closed: true })
        );
        assert_eq!(parse("/_sandbox/companies/-1/periods/2026/3/shut"), None);
        assert_eq!(parse("/_sandbox/companies/x/batches/RM_Sales/B/post"), None);
    }
}
