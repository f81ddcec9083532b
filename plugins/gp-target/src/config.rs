//! The connection's choice of protocol: reads `gp.*` settings into a [`Gp`] holding the
//! [`Protocol`] the flows use. Kept apart from `wire` so the protocol modules (`soap`, `sba`)
//! import the shared types without `wire` importing them back.

use crate::sba::Sba;
use crate::soap::Soap;
use crate::wire::Protocol;

/// Where and how to reach GP, from the connection's settings.
pub struct Gp {
    pub protocol: Box<dyn Protocol>,
    pub timeout_ms: u32,
}

/// Reads the settings through `get`: `gp.endpoint` = `soap` (default; `gp.soap_url`,
/// `gp.company_id` = `-1`) | `sba` (`gp.sba_url`, the company URL); `gp.timeout_ms` (30000).
pub fn config_from(get: impl Fn(&str) -> Option<String>) -> Result<Gp, String> {
    let required =
        |key: &str| get(key).filter(|v| !v.trim().is_empty()).ok_or_else(|| format!("setting {key} is missing"));
    let protocol: Box<dyn Protocol> = match get("gp.endpoint").as_deref().map(str::trim).unwrap_or("soap") {
        "soap" => Box::new(Soap {
            url: required("gp.soap_url")?,
            company: get("gp.company_id").unwrap_or_else(|| "-1".into()),
        }),
        "sba" => Box::new(Sba::new(&required("gp.sba_url")?)),
        other => {
            return Err(format!(
                "gp.endpoint {other:?}: expected soap (GP Web Services) or sba (Service Based Architecture)"
            ));
        }
    };
    let timeout_ms = get("gp.timeout_ms").and_then(|t| t.parse().ok()).unwrap_or(30_000);
    Ok(Gp { protocol, timeout_ms })
}
