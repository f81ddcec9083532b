//! The connection's `gp.*` settings: which transport, where, and which company. Pure, so the
//! rules (a company is required, never a silent default) test natively.

/// How to reach GP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// GP Web Services (`gp.soap_url`).
    Soap { url: String },
    /// Service Based Architecture (`gp.sba_url`: the company is in the URL).
    Sba { url: String },
    /// eConnect through the host's `econnect` grant (the database is the grant's).
    Econnect,
}

/// Which company: by name (`gp.company`, resolved by each transport) or, on SOAP, by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Company {
    Name(String),
    Id(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub endpoint: Endpoint,
    /// None only for SBA (its URL names the company).
    pub company: Option<Company>,
    /// `gp.database`: the company database (INTERID) the eConnect grant connects to, checked
    /// against `gp.company`'s.
    pub database: Option<String>,
    pub timeout_ms: u32,
}

const COMPANY_MISSING: &str =
    "setting gp.company is missing: the GP company's name as GP shows it, e.g. \"Fabrikam, Inc.\"";

/// Reads the settings through `get`: `gp.endpoint` = `soap` (default) | `sba` | `econnect`;
/// `gp.soap_url` / `gp.sba_url`; `gp.company` (required for soap and econnect; soap also takes
/// `gp.company_id`); `gp.database` (econnect, optional); `gp.timeout_ms` (30000).
pub fn settings_from(get: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
    let value = |key: &str| get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let required = |key: &str| value(key).ok_or_else(|| format!("setting {key} is missing"));
    let endpoint = match value("gp.endpoint").as_deref().unwrap_or("soap") {
        "soap" => Endpoint::Soap { url: required("gp.soap_url")? },
        "sba" => Endpoint::Sba { url: required("gp.sba_url")? },
        "econnect" => Endpoint::Econnect,
        other => {
            return Err(format!(
                "gp.endpoint {other:?}: expected soap (GP Web Services), sba (Service Based Architecture) or econnect"
            ));
        }
    };
    let company = match (&endpoint, value("gp.company"), value("gp.company_id")) {
        (_, Some(name), _) => Some(Company::Name(name)),
        (Endpoint::Soap { .. }, None, Some(id)) => Some(Company::Id(id)),
        (Endpoint::Sba { .. }, None, _) => None,
        _ => return Err(COMPANY_MISSING.into()),
    };
    let timeout_ms = value("gp.timeout_ms").and_then(|t| t.parse().ok()).unwrap_or(30_000);
    Ok(Settings { endpoint, company, database: value("gp.database"), timeout_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Settings, String> {
        settings_from(|k| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn a_company_is_required_and_never_defaulted() {
        let err = from(&[("gp.soap_url", "http://gp/soap")]).err().unwrap_or_default();
        assert!(err.contains("gp.company"), "{err}");
        assert!(from(&[("gp.endpoint", "econnect")]).is_err_and(|e| e.contains("gp.company")));
        assert!(from(&[("gp.endpoint", "econnect"), ("gp.company_id", "-1")]).is_err());
        let s = from(&[("gp.soap_url", "http://gp/soap"), ("gp.company_id", "-1")]);
        assert_eq!(s.map(|s| s.company), Ok(Some(Company::Id("-1".into()))));
        let s = from(&[("gp.endpoint", "econnect"), ("gp.company", "Fabrikam, Inc."), ("gp.database", "TWO")]);
        assert_eq!(
            s.map(|s| (s.endpoint, s.company, s.database)),
            Ok((Endpoint::Econnect, Some(Company::Name("Fabrikam, Inc.".into())), Some("TWO".into())))
        );
        assert!(from(&[("gp.endpoint", "sba"), ("gp.sba_url", "http://gp/c")]).is_ok_and(|s| s.company.is_none()));
        assert!(from(&[("gp.endpoint", "odata")]).is_err_and(|e| e.contains("odata")));
    }
}
