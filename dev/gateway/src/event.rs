//! Builds the API Gateway v2 (HTTP API, payload 2.0) event for a request,
//! field by field as API Gateway does: lowercase headers with repeated
//! values joined by commas, cookies moved to `cookies`, the path and path
//! parameters percent-decoded, text bodies as text and others base64.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::HeaderMap;
use serde_json::{json, Map, Value};
use time::macros::format_description;
use time::OffsetDateTime;

use crate::routes::Matched;

/// What the gateway knows about an incoming request.
pub struct Incoming<'a> {
    pub method: &'a str,
    /// The path as sent, still percent-encoded.
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub source_ip: String,
    /// What `Host` and `domainName` say (the gateway's own address).
    pub host: &'a str,
}

fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type.map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase()) else {
        return true;
    };
    ct.starts_with("text/")
        || ct == "application/json"
        || ct.ends_with("+json")
        || ct == "application/xml"
        || ct.ends_with("+xml")
        || ct == "application/x-www-form-urlencoded"
        || ct == "application/javascript"
}

/// The event JSON; `claims` are already rendered as the authoriser renders them.
pub fn build(incoming: &Incoming<'_>, matched: &Matched, claims: Map<String, Value>, request_id: &str) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for name in incoming.headers.keys() {
        let values: Vec<&str> = incoming
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if name == http::header::COOKIE {
            cookies.extend(
                values
                    .iter()
                    .flat_map(|v| v.split(';'))
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            );
            continue;
        }
        headers.insert(name.as_str().to_owned(), Value::String(values.join(",")));
    }
    headers.insert("host".into(), Value::String(incoming.host.to_owned()));
    headers.insert("x-forwarded-proto".into(), Value::String("http".into()));

    let query_parameters: Map<String, Value> = form_pairs(incoming.raw_query)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v.join(","))))
        .collect();
    let path = percent_encoding::percent_decode_str(incoming.raw_path)
        .decode_utf8_lossy()
        .into_owned();
    let parameters: Map<String, Value> = matched
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let now = OffsetDateTime::now_utc();
    let time = now
        .format(format_description!(
            "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
        ))
        .unwrap_or_default();
    let text = is_text(
        incoming
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    ) && std::str::from_utf8(incoming.body).is_ok();

    let mut event = json!({
        "version": "2.0",
        "routeKey": matched.route_key,
        "rawPath": path,
        "rawQueryString": incoming.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "authorizer": {"jwt": {"claims": claims, "scopes": null}},
            "domainName": incoming.host,
            "domainPrefix": "local",
            "http": {
                "method": incoming.method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": incoming.source_ip,
                "userAgent": incoming.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or(""),
            },
            "requestId": request_id,
            "routeKey": matched.route_key,
            "stage": "$default",
            "time": time,
            "timeEpoch": now.unix_timestamp() * 1000 + i64::from(now.millisecond()),
        },
        "isBase64Encoded": !text && !incoming.body.is_empty(),
    });
    let members = event.as_object_mut().expect("the event is an object");
    if !cookies.is_empty() {
        members.insert("cookies".into(), json!(cookies));
    }
    if !query_parameters.is_empty() {
        members.insert("queryStringParameters".into(), Value::Object(query_parameters));
    }
    if !parameters.is_empty() {
        members.insert("pathParameters".into(), Value::Object(parameters));
    }
    if !incoming.body.is_empty() {
        let body = if text {
            String::from_utf8_lossy(incoming.body).into_owned()
        } else {
            STANDARD.encode(incoming.body)
        };
        members.insert("body".into(), Value::String(body));
    }
    event
}

/// `application/x-www-form-urlencoded` parsing of a query string.
fn form_pairs(raw: &str) -> std::collections::HashMap<String, Vec<String>> {
    let mut map: std::collections::HashMap<String, Vec<String>> = Default::default();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        map.entry(decode(k)).or_default().push(decode(v));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::find;

    #[test]
    fn builds_what_lambda_http_reads() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        headers.append("x-multi", "a".parse().unwrap());
        headers.append("x-multi", "b".parse().unwrap());
        headers.insert("cookie", "a=1; b=2".parse().unwrap());
        let incoming = Incoming {
            method: "GET",
            raw_path: "/v1/tenants/acme",
            raw_query: "name=a%20b&tags=x&tags=y",
            headers: &headers,
            body: br#"{"x":1}"#,
            source_ip: "127.0.0.1".into(),
            host: "127.0.0.1:3000",
        };
        let matched = find("GET", "/v1/tenants/acme").unwrap();
        let claims = Map::from_iter([("sub".to_owned(), Value::String("alice".into()))]);
        let event = build(&incoming, &matched, claims, "req-1");
        assert_eq!(event["headers"]["x-multi"], "a,b");
        assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(event["queryStringParameters"]["tags"], "x,y");
        assert_eq!(event["pathParameters"]["id"], "acme");
        assert_eq!(event["isBase64Encoded"], false);

        use lambda_http::RequestExt;
        let req = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(req.query_string_parameters().all("tags").unwrap(), ["x", "y"]);
        assert_eq!(req.query_string_parameters().first("name"), Some("a b"));
        assert_eq!(shared::http::route_key(&req), Some("GET /v1/tenants/{id}"));
        assert_eq!(
            shared::http::claims::caller(&req, &Default::default()).unwrap().subject,
            "alice"
        );
    }

    #[test]
    fn binary_bodies_are_base64() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/zip".parse().unwrap());
        let incoming = Incoming {
            method: "POST",
            raw_path: "/v1/tenants",
            raw_query: "",
            headers: &headers,
            body: &[0, 159, 146, 150],
            source_ip: "127.0.0.1".into(),
            host: "h",
        };
        let event = build(&incoming, &find("POST", "/v1/tenants").unwrap(), Map::new(), "r");
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["body"], STANDARD.encode([0, 159, 146, 150]));
    }
}
