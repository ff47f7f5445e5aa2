//! What a request must be before any handler sees it: for this server, on this machine.
//!
//! A web page in the user's browser can send requests to `127.0.0.1`: a form or a
//! `text/plain` POST needs no permission (no CORS preflight), and a page whose host name
//! resolves to 127.0.0.1 after it loaded (DNS rebinding) can even read the answers. So:
//! - the `Host` header must name this server as the browser reached it — `127.0.0.1`,
//!   `localhost` or `[::1]` with the port — unless `--host` listens beyond this machine (then
//!   any name the machine is reached by is fine): else 421;
//! - a request that changes something (POST, DELETE) must not come from another site's page:
//!   an `Origin` header, when there is one, must be this server's (else 403), and a POST must
//!   say `Content-Type: application/json`, which a page of another site cannot send without
//!   the server's permission (else 415).

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api::ApiError;

/// Which host names requests may carry.
#[derive(Clone, Debug)]
pub struct Hosts {
    /// `host:port` values accepted; `None` accepts any (the server listens beyond this
    /// machine).
    allowed: Option<Vec<String>>,
}

impl Hosts {
    /// For a server listening on `address`.
    pub fn for_address(address: std::net::SocketAddr) -> Self {
        if !address.ip().is_loopback() {
            return Self { allowed: None };
        }
        let port = address.port();
        let mut allowed: Vec<String> = ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .map(|h| format!("{h}:{port}"))
            .collect();
        allowed.push(address.to_string());
        Self {
            allowed: Some(allowed),
        }
    }

    fn accepts(&self, host: &str) -> bool {
        match &self.allowed {
            None => true,
            Some(list) => list.iter().any(|h| h.eq_ignore_ascii_case(host)),
        }
    }
}

/// Refuses requests for another host, and changes sent by another site's page.
pub async fn guard(State(hosts): State<Hosts>, request: Request, next: Next) -> Response {
    match refusal(&hosts, &request) {
        Some(refused) => refused.into_response(),
        None => next.run(request).await,
    }
}

fn refusal(hosts: &Hosts, request: &Request) -> Option<ApiError> {
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let Some(host) = host.filter(|h| hosts.accepts(h)) else {
        return Some(ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "this server answers only requests for its own address (the Host header names another); open the URL it printed",
        ));
    };
    let changes = matches!(
        *request.method(),
        Method::POST | Method::DELETE | Method::PUT | Method::PATCH
    );
    if !changes {
        return None;
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let own = origin
            .to_str()
            .ok()
            .and_then(|o| o.strip_prefix("http://"))
            .is_some_and(|o| o.eq_ignore_ascii_case(host));
        if !own {
            return Some(ApiError::new(
                StatusCode::FORBIDDEN,
                "changes come only from this server's own pages (the request's Origin is another site)",
            ));
        }
    }
    if *request.method() == Method::POST {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .and_then(|c| c.split(';').next())
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Some(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "a POST carries JSON: send `Content-Type: application/json`",
            ));
        }
    }
    None
}
