//! One entry point for every HTTP function: a function declares its routes
//! once ([`Routes`]: route key → adapter) and [`serve`] does the rest, the
//! same way for all of them: the route key read as API Gateway writes it,
//! the caller read from the verified claims, an unknown route answered as a
//! problem, every error rendered as problem+json, and the one log line.
//!
//! The table is also what the dev gateway routes by, so the local API and
//! the functions cannot disagree on which routes exist.

use std::future::Future;
use std::pin::Pin;

use lambda_http::{Body, Request, Response};

use super::{claims, route_of, HttpResult, Invocation, Problem};
use crate::auth::{AuthConfig, Caller};

/// What the edge needs from the application it serves (the composition
/// root, above this layer, provides it).
pub trait Edge: Sync {
    /// How callers are read from the verified claims.
    fn auth(&self) -> &AuthConfig;
    /// The DynamoDB requests made so far, which each request's log line
    /// reports the difference of.
    fn dynamodb_requests(&self) -> u64;
}

/// What an adapter's answer is while it is being computed.
pub type Answer<'a> = Pin<Box<dyn Future<Output = HttpResult> + Send + 'a>>;

/// An adapter of a route served to a verified caller.
pub type Adapter<A> = for<'a> fn(&'a A, &'a Request, &'a Caller) -> Answer<'a>;

/// How a route is answered.
pub enum Handler<A: 'static> {
    /// Without a token: template.yaml gives the route no authoriser.
    Public(fn(&Request) -> HttpResult),
    /// To the caller the verified claims name (401 without one).
    Caller(Adapter<A>),
}

/// One route: its key as API Gateway and template.yaml write it
/// (`"GET /v1/tenants/{id}"`), and how it is answered.
pub struct Route<A: 'static> {
    pub key: &'static str,
    pub handler: Handler<A>,
}

/// A route answered by an async adapter taking `(app, request, caller)`:
/// `route!("GET /v1/tenants/{id}" => adapters::get)`.
#[macro_export]
macro_rules! route {
    ($key:expr => $adapter:path) => {
        $crate::http::serve::Route {
            key: $key,
            handler: $crate::http::serve::Handler::Caller(|app, req, caller| {
                ::std::boxed::Box::pin($adapter(app, req, caller))
            }),
        }
    };
}

/// Every route one function serves.
pub struct Routes<A: 'static> {
    /// The function's name, as template.yaml's resources are named.
    pub function: &'static str,
    pub routes: &'static [Route<A>],
}

impl<A> Routes<A> {
    /// Every route key, in the table's order.
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.routes.iter().map(|r| r.key)
    }

    /// The route keys served without a token.
    pub fn public(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.routes
            .iter()
            .filter(|r| matches!(r.handler, Handler::Public(_)))
            .map(|r| r.key)
    }

    /// The route API Gateway matched, by its route key (`ANY` in the table
    /// stands for every method, as in API Gateway).
    pub fn find(&self, route_key: &str) -> Option<&Route<A>> {
        let (method, path) = parse(route_key)?;
        self.routes
            .iter()
            .find(|r| parse(r.key).is_some_and(|(m, p)| p == path && (m == method || m == "ANY")))
    }

    /// The problem for a route key the table lacks (a template that routes
    /// here a route this function does not serve): 404 `unknown_route`,
    /// naming the methods the path is served with, if any.
    fn unknown(&self, route_key: &str) -> Problem {
        let function = self.function;
        let methods: Vec<&str> = match parse(route_key) {
            Some((_, path)) => self
                .routes
                .iter()
                .filter_map(|r| parse(r.key).filter(|(_, p)| *p == path).map(|(m, _)| m))
                .collect(),
            None => Vec::new(),
        };
        match methods.as_slice() {
            [] => Problem::unknown_route(format!("route '{route_key}' is not served by the {function} function")),
            served => Problem::unknown_route(format!(
                "route '{route_key}' is not served by the {function} function (its path is served for {})",
                served.join(", ")
            )),
        }
    }
}

/// A route key's method and path, as API Gateway writes it (`"GET /v1/x"`);
/// `None` for `$default` or anything else without both.
fn parse(route_key: &str) -> Option<(&str, &str)> {
    let (method, path) = route_key.split_once(' ')?;
    (!method.is_empty() && path.starts_with('/')).then_some((method, path))
}

/// Answers one request with the function's `routes`. Never fails: every
/// error is a problem+json response, and every request is logged once.
pub async fn serve<A: Edge>(app: &A, routes: &Routes<A>, req: Request) -> Response<Body> {
    let invocation = Invocation::begin(app);
    let result = dispatch(app, routes, &req).await;
    invocation.end(app, &req, result)
}

async fn dispatch<A: Edge>(app: &A, routes: &Routes<A>, req: &Request) -> HttpResult {
    let route_key = route_of(req)?;
    let route = routes.find(route_key);
    if let Some(Route {
        handler: Handler::Public(answer),
        ..
    }) = route
    {
        return answer(req);
    }
    // The caller before the route: a request without one is 401 wherever it goes.
    let caller = claims::caller(req, app.auth())?;
    match route {
        Some(Route {
            handler: Handler::Caller(adapter),
            ..
        }) => adapter(app, req, &caller).await,
        _ => Err(routes.unknown(route_key)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nothing;

    async fn ok(_: &Nothing, _: &Request, _: &Caller) -> HttpResult {
        Ok(super::super::response::no_content())
    }

    fn public(_: &Request) -> HttpResult {
        Ok(super::super::response::no_content())
    }

    static ROUTES: Routes<Nothing> = Routes {
        function: "test",
        routes: &[
            crate::route!("GET /v1/things/{id}" => ok),
            crate::route!("PUT /v1/things/{id}" => ok),
            Route {
                key: "GET /v1/open",
                handler: Handler::Public(public),
            },
        ],
    };

    #[test]
    fn finds_routes_by_their_key_and_names_the_methods_of_a_path() {
        assert!(ROUTES.find("GET /v1/things/{id}").is_some());
        assert!(ROUTES.find("DELETE /v1/things/{id}").is_none());
        assert!(ROUTES.find("$default").is_none());
        assert_eq!(ROUTES.public().collect::<Vec<_>>(), ["GET /v1/open"]);
        assert_eq!(ROUTES.keys().count(), 3);
        let problem = ROUTES.unknown("DELETE /v1/things/{id}");
        assert_eq!(problem.status.as_u16(), 404);
        assert_eq!(problem.code, crate::Code::UnknownRoute);
        assert!(problem.detail.contains("GET, PUT"), "{}", problem.detail);
        let problem = ROUTES.unknown("GET /v1/elsewhere");
        assert!(
            problem.detail.ends_with("is not served by the test function"),
            "{}",
            problem.detail
        );
    }
}
