//! HTTP authentication as IIS does it for GP: NTLM per TCP connection, optional Basic.
//!
//! NTLM authenticates the connection, not the request: the NEGOTIATE → CHALLENGE →
//! AUTHENTICATE exchange and the requests that follow must share one keep-alive connection, so
//! each connection owns a [`ConnAuth`]. A challenge is used at most once, and an AUTHENTICATE
//! on a connection that was never challenged is refused.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hyper::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use rand::Rng as _;

use crate::ntlm::{self, Account, IssuedChallenge, ServerIdentity, VerifyOptions};

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub account: Account,
    pub server: ServerIdentity,
    pub verify: VerifyOptions,
    /// Accept `Authorization: Basic base64(DOMAIN\user:password)` on the SOAP endpoint.
    pub soap_basic: bool,
    /// Accept Basic on SBA (some real SBA hosts enable it next to Windows auth).
    pub sba_basic: bool,
}

/// Authentication state of one TCP connection.
#[derive(Default)]
pub enum ConnAuth {
    #[default]
    Idle,
    Challenged(IssuedChallenge),
    Authenticated {
        user: String,
    },
}

/// What to do with a request.
pub enum AuthOutcome {
    Allowed {
        user: String,
    },
    /// Answer 401 with these `WWW-Authenticate` values.
    Unauthorized(Vec<HeaderValue>),
}

fn offers(allow_basic: bool) -> Vec<HeaderValue> {
    let mut v = vec![HeaderValue::from_static("NTLM")];
    if allow_basic {
        v.push(HeaderValue::from_static("Basic realm=\"GP\""));
    }
    v
}

/// Decides a request's fate and advances the connection's handshake.
pub fn authenticate(cfg: &AuthConfig, state: &mut ConnAuth, headers: &HeaderMap, allow_basic: bool) -> AuthOutcome {
    let refuse = || AuthOutcome::Unauthorized(offers(allow_basic));
    let Some(header) = headers.get(AUTHORIZATION).and_then(|h| h.to_str().ok()) else {
        return match state {
            ConnAuth::Authenticated { user } => AuthOutcome::Allowed { user: user.clone() },
            _ => refuse(),
        };
    };
    let (scheme, token) = header.trim().split_once(' ').unwrap_or((header, ""));
    let token = token.trim();
    if scheme.eq_ignore_ascii_case("Basic") {
        if !allow_basic {
            return refuse();
        }
        return match check_basic(&cfg.account, token) {
            Some(user) => AuthOutcome::Allowed { user },
            None => refuse(),
        };
    }
    // Windows clients may send a raw NTLMSSP token under "Negotiate" too.
    if !(scheme.eq_ignore_ascii_case("NTLM") || scheme.eq_ignore_ascii_case("Negotiate")) {
        return refuse();
    }
    let Ok(msg) = B64.decode(token) else {
        return refuse();
    };
    match ntlm::message_type(&msg) {
        Ok(1) => {
            let mut challenge = [0u8; 8];
            rand::rng().fill(&mut challenge);
            match ntlm::build_challenge(&msg, &cfg.server, challenge) {
                Ok(issued) => {
                    let value = format!("NTLM {}", B64.encode(&issued.challenge));
                    *state = ConnAuth::Challenged(issued);
                    match HeaderValue::from_str(&value) {
                        Ok(v) => AuthOutcome::Unauthorized(vec![v]),
                        Err(_) => refuse(),
                    }
                }
                Err(e) => {
                    tracing::info!(error = %e, "GP sandbox: malformed NTLM NEGOTIATE");
                    refuse()
                }
            }
        }
        Ok(3) => {
            // The challenge is consumed whatever the outcome: a second try needs a new one.
            let ConnAuth::Challenged(issued) = std::mem::take(state) else {
                tracing::info!("GP sandbox: NTLM AUTHENTICATE on a connection that was never challenged");
                return refuse();
            };
            match ntlm::verify(&cfg.account, &issued, &msg, &cfg.verify) {
                Ok(user) => {
                    *state = ConnAuth::Authenticated { user: user.clone() };
                    AuthOutcome::Allowed { user }
                }
                Err(e) => {
                    tracing::info!(error = %e, "GP sandbox: NTLM authentication refused");
                    refuse()
                }
            }
        }
        _ => refuse(),
    }
}

/// `DOMAIN\user:password` (the form real SBA clients send).
fn check_basic(account: &Account, token: &str) -> Option<String> {
    let decoded = String::from_utf8(B64.decode(token).ok()?).ok()?;
    let (who, password) = decoded.split_once(':')?;
    let (domain, user) = who.split_once('\\')?;
    let ok = domain.eq_ignore_ascii_case(&account.domain)
        && user.to_lowercase() == account.user.to_lowercase()
        && password == account.password;
    ok.then(|| user.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> AuthConfig {
        AuthConfig {
            account: Account { domain: "GPDOM".into(), user: "svc".into(), password: "pw".into() },
            server: ServerIdentity {
                nb_domain: "GPDOM".into(),
                nb_computer: "GP".into(),
                dns_domain: "d".into(),
                dns_computer: "c".into(),
            },
            verify: VerifyOptions::default(),
            soap_basic: false,
            sba_basic: true,
        }
    }

    fn basic(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(&format!("Basic {}", B64.encode(v))).unwrap());
        h
    }

    #[test]
    fn basic_only_when_allowed() {
        let c = cfg();
        let mut s = ConnAuth::Idle;
        assert!(matches!(authenticate(&c, &mut s, &basic("gpdom\\SVC:pw"), true), AuthOutcome::Allowed { .. }));
        assert!(matches!(authenticate(&c, &mut s, &basic("GPDOM\\svc:PW"), true), AuthOutcome::Unauthorized(_)));
        assert!(matches!(authenticate(&c, &mut s, &basic("GPDOM\\svc:pw"), false), AuthOutcome::Unauthorized(_)));
        assert!(matches!(authenticate(&c, &mut s, &basic("svc:pw"), true), AuthOutcome::Unauthorized(_)));
        // Basic does not authenticate the connection.
        assert!(matches!(authenticate(&c, &mut s, &HeaderMap::new(), true), AuthOutcome::Unauthorized(_)));
    }

    #[test]
    fn authenticate_without_challenge_is_refused() {
        let c = cfg();
        let mut s = ConnAuth::Idle;
        let mut type3 = b"NTLMSSP\0".to_vec();
        type3.extend_from_slice(&3u32.to_le_bytes());
        type3.resize(88, 0);
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(&format!("NTLM {}", B64.encode(&type3))).unwrap());
        assert!(matches!(authenticate(&c, &mut s, &h, false), AuthOutcome::Unauthorized(_)));
    }
}
