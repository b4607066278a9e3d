//! The route table: every route of every HTTP function, read from the
//! functions' own route tables (what their handlers serve), matched the way
//! API Gateway matches them (a literal segment beats a `{parameter}`).

use shared::http::Routes;
use shared::HttpApp;

/// The Lambda functions behind HTTP routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Tenants,
    Subtenants,
    IdentityProviders,
    Deployments,
}

impl Function {
    pub const ALL: &'static [Function] = &[
        Function::Tenants,
        Function::Subtenants,
        Function::IdentityProviders,
        Function::Deployments,
    ];

    /// The function's name: its crate, binary and template.yaml resource stem.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tenants => "tenants",
            Self::Subtenants => "subtenants",
            Self::IdentityProviders => "identity-providers",
            Self::Deployments => "deployments",
        }
    }

    /// The function's route table: its routes and their adapters.
    pub fn table(self) -> &'static Routes<HttpApp> {
        match self {
            Self::Tenants => &tenants::ROUTES,
            Self::Subtenants => &subtenants::ROUTES,
            Self::IdentityProviders => &identity_providers::ROUTES,
            Self::Deployments => &deployments::ROUTES,
        }
    }

    /// The route keys the function serves (`"GET /v1/tenants/{id}"`).
    pub fn routes(self) -> impl Iterator<Item = &'static str> {
        self.table().keys()
    }

    /// Calls the function's handler, in-process, as Lambda would; its
    /// DynamoDB requests are the function's own (see `shared::store::iam`).
    pub async fn invoke(
        self,
        app: &HttpApp,
        request: lambda_http::Request,
    ) -> lambda_http::Response<lambda_http::Body> {
        let handled = async {
            match self {
                Self::Tenants => tenants::handle(app, request).await,
                Self::Subtenants => subtenants::handle(app, request).await,
                Self::IdentityProviders => identity_providers::handle(app, request).await,
                Self::Deployments => deployments::handle(app, request).await,
            }
        };
        shared::store::iam::as_function(self.name(), handled).await
    }

    /// The function serving `route_key`, if any.
    pub fn of_route(route_key: &str) -> Option<Self> {
        all().find(|(r, _)| *r == route_key).map(|(_, f)| f)
    }
}

/// Routes served without a token (template.yaml gives them no authoriser);
/// the functions' tables mark the same ones public (a test checks).
pub const PUBLIC: &[&str] = &[shared::openapi::ROUTE];

/// A matched route: its key, its function and the decoded path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub route_key: &'static str,
    pub function: Function,
    pub parameters: Vec<(String, String)>,
}

/// Every (route key, function) pair.
pub fn all() -> impl Iterator<Item = (&'static str, Function)> {
    Function::ALL.iter().flat_map(|f| f.routes().map(move |r| (r, *f)))
}

/// Finds the route for a method and a raw (still percent-encoded) path.
pub fn find(method: &str, raw_path: &str) -> Option<Matched> {
    let segments: Vec<&str> = raw_path.trim_start_matches('/').split('/').collect();
    let mut best: Option<(Vec<bool>, Matched)> = None;
    for (route_key, function) in all() {
        let (route_method, template) = route_key.split_once(' ').expect("route keys are 'METHOD /path'");
        if route_method != method {
            continue;
        }
        let Some((literals, parameters)) = match_template(template, &segments) else {
            continue;
        };
        // Most specific wins: compare literal-ness segment by segment.
        if best.as_ref().is_none_or(|(b, _)| literals > *b) {
            best = Some((
                literals,
                Matched {
                    route_key,
                    function,
                    parameters,
                },
            ));
        }
    }
    best.map(|(_, m)| m)
}

/// Which segments matched literally, and the decoded parameters.
type TemplateMatch = (Vec<bool>, Vec<(String, String)>);

fn match_template(template: &str, segments: &[&str]) -> Option<TemplateMatch> {
    let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut literals = Vec::with_capacity(parts.len());
    let mut parameters = Vec::new();
    for (part, segment) in parts.iter().zip(segments) {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if segment.is_empty() {
                return None;
            }
            let decoded = percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .into_owned();
            parameters.push((name.to_owned(), decoded));
            literals.push(false);
        } else if part == segment {
            literals.push(true);
        } else {
            return None;
        }
    }
    Some((literals, parameters))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_parameters_and_decodes_them() {
        let m = find("GET", "/v1/tenants/acme%2Dcorp").unwrap();
        assert_eq!(m.route_key, "GET /v1/tenants/{id}");
        assert_eq!(m.parameters, [("id".to_owned(), "acme-corp".to_owned())]);
        assert_eq!(
            find("POST", "/v1/tenants/acme/retire").unwrap().route_key,
            "POST /v1/tenants/{id}/retire"
        );
    }

    #[test]
    fn the_public_routes_are_those_the_functions_serve_without_a_token() {
        let public: Vec<&str> = Function::ALL.iter().flat_map(|f| f.table().public()).collect();
        assert_eq!(public, PUBLIC);
    }

    #[test]
    fn every_route_is_served_by_one_function_only() {
        let keys: Vec<&str> = all().map(|(r, _)| r).collect();
        let distinct: std::collections::BTreeSet<&str> = keys.iter().copied().collect();
        assert_eq!(keys.len(), distinct.len());
        for (key, function) in all() {
            assert!(function.table().find(key).is_some(), "{key}");
        }
    }

    #[test]
    fn unknown_paths_and_methods_do_not_match() {
        assert!(find("GET", "/v1/nothing").is_none());
        assert!(find("POST", "/v1/tenants/acme").is_none());
        assert!(find("GET", "/v1/tenants/").is_none());
    }
}
