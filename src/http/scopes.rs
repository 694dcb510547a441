//! Which scope each route asks of an API token, in one table so no handler
//! can forget it. A cookie session may do everything; what changes the
//! account itself (password, sessions) needs a session, never a token.

use actix_web::http::Method;

use super::error::{ApiError, ErrorCode};
use crate::domain::{Scope, Scopes};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Any live token (reading who it belongs to).
    AnyToken,
    Needs(Scope),
    /// Only a logged-in browser session.
    SessionOnly,
}

impl Rule {
    pub fn allows(self, scopes: Scopes) -> Result<(), ApiError> {
        match self {
            Rule::AnyToken => Ok(()),
            Rule::Needs(scope) if scopes.contains(scope) => Ok(()),
            Rule::Needs(scope) => Err(ApiError::new(
                ErrorCode::InsufficientScope,
                format!("this API token lacks the `{scope}` scope; create a token that has it"),
            )),
            Rule::SessionOnly => Err(ApiError::new(
                ErrorCode::SessionRequired,
                "this needs a logged-in session; API tokens cannot change the account",
            )),
        }
    }
}

/// The rule for a request to `pattern` (the route's path template, e.g.
/// `/api/v1/jobs/{id}`). Routes not named here refuse tokens.
pub fn rule(method: &Method, pattern: &Option<String>) -> Rule {
    let Some(path) = pattern.as_deref() else {
        return Rule::SessionOnly;
    };
    let reading = method == Method::GET || method == Method::HEAD;
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if path == "/api/v1/me" {
        Rule::AnyToken
    } else if under("/api/v1/posts")
        || under("/api/v1/drafts")
        || under("/api/v1/jobs")
        || under("/api/v1/media")
    {
        Rule::Needs(if reading {
            Scope::PostsRead
        } else {
            Scope::PostsWrite
        })
    } else if under("/api/v1/connections") || path == "/api/v1/platforms" {
        Rule::Needs(Scope::Connections)
    } else if under("/api/v1/tokens") {
        Rule::Needs(Scope::Tokens)
    } else {
        Rule::SessionOnly
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(method: Method, path: &str) -> Rule {
        rule(&method, &Some(path.to_owned()))
    }

    /// Routes a token may never use; anything else must name its scope, so a
    /// new route that falls through to "session only" by accident fails here.
    const SESSION_ONLY: [&str; 14] = [
        "/api/v1/auth/signup",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/password",
        "/api/v1/auth/logout-everywhere",
        "/api/v1/auth/verify-email",
        "/api/v1/auth/resend-verification",
        "/api/v1/auth/forgot-password",
        "/api/v1/auth/reset-password",
        "/api/v1/sessions",
        "/api/v1/sessions/{id}",
        "/api/v1/oauth/{platform}/callback",
        "/oauth/{platform}/client-metadata.json",
        "/api/openapi.json",
    ];

    #[test]
    fn every_route_has_a_deliberate_rule() {
        use Rule::*;
        use Scope::*;
        for endpoint in super::super::endpoints() {
            let p = endpoint.path;
            if of(endpoint.method.clone(), p) == SessionOnly {
                assert!(
                    SESSION_ONLY.contains(&p)
                        || p.starts_with("/health/")
                        || p.starts_with("/dev/")
                        || p == "/metrics",
                    "{} {p} refuses every token: give it a scope or list it here",
                    endpoint.method
                );
            }
        }
        assert_eq!(of(Method::GET, "/api/v1/me"), AnyToken);
        assert_eq!(of(Method::POST, "/api/v1/posts"), Needs(PostsWrite));
        assert_eq!(of(Method::GET, "/api/v1/posts"), Needs(PostsRead));
        assert_eq!(of(Method::PATCH, "/api/v1/posts/{id}"), Needs(PostsWrite));
        assert_eq!(of(Method::GET, "/api/v1/drafts/{id}"), Needs(PostsRead));
        assert_eq!(
            of(Method::POST, "/api/v1/drafts/{id}/publish"),
            Needs(PostsWrite)
        );
        assert_eq!(
            of(Method::GET, "/api/v1/jobs/{id}/events"),
            Needs(PostsRead)
        );
        assert_eq!(
            of(Method::POST, "/api/v1/jobs/{id}/cancel"),
            Needs(PostsWrite)
        );
        assert_eq!(of(Method::DELETE, "/api/v1/media/{id}"), Needs(PostsWrite));
        assert_eq!(
            of(Method::GET, "/api/v1/media/{id}/content"),
            Needs(PostsRead)
        );
        assert_eq!(
            of(Method::POST, "/api/v1/connections/{platform}/authorize"),
            Needs(Connections)
        );
        assert_eq!(of(Method::GET, "/api/v1/platforms"), Needs(Connections));
        assert_eq!(of(Method::POST, "/api/v1/tokens"), Needs(Tokens));
        assert_eq!(of(Method::POST, "/api/v1/auth/password"), SessionOnly);
        assert_eq!(of(Method::DELETE, "/api/v1/sessions/{id}"), SessionOnly);
        assert_eq!(of(Method::POST, "/api/v1/postsmore"), SessionOnly);
        assert_eq!(rule(&Method::GET, &None), SessionOnly);
        assert!(
            Needs(Tokens)
                .allows(Scopes::from_iter(Scope::DEFAULT))
                .is_err()
        );
        assert!(
            Needs(PostsRead)
                .allows(Scopes::from_iter([PostsRead]))
                .is_ok()
        );
        assert!(SessionOnly.allows(Scopes::all()).is_err());
    }
}
