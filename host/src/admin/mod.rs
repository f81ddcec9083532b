//! The admin plane: its own listener (loopback by default, never the webhook port), every
//! request with a bearer token (`ml-connector token create`), checked against the names the
//! host answers to (a foreign `Host` header is refused: DNS rebinding). A token has a scope
//! (read < operate < admin) and may be limited to one connection: a tenant's token sees only
//! its connection (403 otherwise). Actions that change something are audited with the
//! token's name. The routes are in [`api`].

pub mod api;
pub mod tokens;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use crate::app::App;
use crate::intake::error;
pub use tokens::Scope;

/// Who is asking: the token that authenticated the request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub scope: Scope,
    /// The one connection the token may see, if it is a tenant's.
    pub connection: Option<String>,
}

/// A 403 and why.
#[derive(Debug)]
pub struct Forbidden(String);

impl axum::response::IntoResponse for Forbidden {
    fn into_response(self) -> Response {
        error(StatusCode::FORBIDDEN, self.0)
    }
}

impl Caller {
    /// Refused unless the token's scope reaches `need`.
    pub fn require(&self, need: Scope) -> Result<(), Forbidden> {
        if self.scope >= need {
            return Ok(());
        }
        Err(Forbidden(format!("token {:?} has scope {}, this needs {need}", self.name, self.scope)))
    }

    /// Refused unless the token may see `connection`.
    pub fn may_see(&self, connection: &str) -> Result<(), Forbidden> {
        match &self.connection {
            Some(own) if own != connection => {
                Err(Forbidden(format!("token {:?} is limited to connection {own:?}", self.name)))
            }
            _ => Ok(()),
        }
    }
}

pub fn router(app: Arc<App>) -> Router {
    api::routes()
        .layer(axum::middleware::from_fn_with_state(app.clone(), authenticate))
        .layer(axum::middleware::from_fn_with_state(app.clone(), known_host))
        .with_state(app)
}

/// The `Host` header must name this host (`[admin] names`), port aside.
async fn known_host(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let host = req.headers().get("host").and_then(|h| h.to_str().ok()).unwrap_or_default();
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    if app.config.admin.names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        return next.run(req).await;
    }
    error(StatusCode::MISDIRECTED_REQUEST, format!("this admin plane does not answer to host {host:?} ([admin] names)"))
}

/// A live bearer token, or 401.
async fn authenticate(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .unwrap_or_default();
    let token = match bearer {
        "" => None,
        t => match app.store.token_by_hash(&tokens::digest(t)).await {
            Ok(t) => t,
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
        },
    };
    let Some(token) = token else {
        let mut r = error(StatusCode::UNAUTHORIZED, "a bearer token is needed (ml-connector token create)");
        r.headers_mut().insert("www-authenticate", axum::http::HeaderValue::from_static("Bearer"));
        return r;
    };
    let Some(scope) = Scope::parse(&token.scope) else {
        return error(StatusCode::FORBIDDEN, format!("token {:?} has an unknown scope", token.name));
    };
    if let Err(e) = app.store.token_used(&token.name).await {
        tracing::warn!("noting the use of token {}: {e:#}", token.name);
    }
    req.extensions_mut().insert(Caller { name: token.name, scope, connection: token.connection });
    next.run(req).await
}
