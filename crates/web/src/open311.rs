//! Open311 GeoReport v2 at `/open311/v2`, mapped onto 12345 work orders, so that
//! existing Open311 clients and apps work unchanged: services (the dispatch catalogue)
//! and their definitions (attributes), service requests posted with an `api_key` and
//! looked up, in JSON or XML (`.json` / `.xml`), errors as `[{code, description}]`.
//!
//! The field names and formats follow the GeoReport v2 specification
//! (wiki.open311.org/GeoReport_v2): `service_code`, `service_name`, `metadata`, `type`,
//! `keywords`, `group`; `attributes[]` with `variable`, `code`, `datatype`, `required`,
//! `datatype_description`, `order`, `description`, `values[]` of `key`/`name`;
//! requests with `service_request_id`, `status` (`open`/`closed`), `status_notes`,
//! `agency_responsible`, `service_notice`, `requested_datetime`, `updated_datetime`,
//! `expected_datetime` (ISO 8601 with offset), `address`, `address_id`, `zipcode`,
//! `lat`, `long`, `media_url`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde_json::{Value, json};
use tongban_core::Error;
use tongban_core::hotline::kb::{Category, Datatype};
use tongban_core::hotline::{Caller, Location, OrderState, Source, WorkOrder};
use tongban_core::usecase::hotline::{NewOrder, register};

use crate::auth::token_hash;
use crate::state::AppState;

/// The routes, under `/open311/v2`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/open311/v2/{resource}",
            get(get_resource).post(post_resource),
        )
        .route("/open311/v2/{resource}/{file}", get(get_one))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

fn split(file: &str) -> Option<(&str, Format)> {
    let (stem, ext) = file.rsplit_once('.')?;
    match ext {
        "json" => Some((stem, Format::Json)),
        "xml" => Some((stem, Format::Xml)),
        _ => None,
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A JSON value as GeoReport XML: objects become elements, arrays repeat `item`.
fn xml_of(name: &str, v: &Value, item: &dyn Fn(&str) -> &'static str, out: &mut String) {
    match v {
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            for (k, x) in m {
                xml_of(k, x, item, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Array(a) => {
            out.push_str(&format!("<{name}>"));
            let child = item(name);
            for x in a {
                xml_of(child, x, item, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", esc(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

fn item_of(list: &str) -> &'static str {
    match list {
        "services" => "service",
        "service_requests" => "request",
        "attributes" => "attribute",
        "values" => "value",
        "errors" => "error",
        "endpoints" => "endpoint",
        "formats" => "format",
        _ => "item",
    }
}

fn respond(status: StatusCode, f: Format, root: &str, v: Value) -> Response {
    let (body, mime) = match f {
        Format::Json => (v.to_string(), "application/json; charset=utf-8"),
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            xml_of(root, &v, &item_of, &mut out);
            (out, "text/xml; charset=utf-8")
        }
    };
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    r
}

fn error(status: StatusCode, f: Format, description: impl Into<String>) -> Response {
    respond(
        status,
        f,
        "errors",
        json!([{"code": status.as_u16(), "description": description.into()}]),
    )
}

fn from_error(e: Error, f: Format) -> Response {
    match e {
        Error::Validation(fe) => error(
            StatusCode::BAD_REQUEST,
            f,
            fe.fields()
                .iter()
                .map(|(k, v)| format!("{}: {v}", open311_field(k)))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Error::NotFound { entity } => error(StatusCode::NOT_FOUND, f, format!("{entity}不存在")),
        Error::Forbidden(m) => error(StatusCode::FORBIDDEN, f, m),
        Error::Unauthenticated => error(StatusCode::FORBIDDEN, f, "api_key 无效"),
        Error::Store(m) => {
            tracing::error!(error = %m, "open311 request failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, f, "服务器内部错误")
        }
        other => error(StatusCode::BAD_REQUEST, f, other.to_string()),
    }
}

/// Our field paths in the client's words.
fn open311_field(path: &str) -> String {
    match path {
        "caller.phone" => "phone".into(),
        "caller.email" => "email".into(),
        "caller.name" => "first_name".into(),
        "content" => "description".into(),
        "location.address" => "address_string".into(),
        "location.lat" => "lat".into(),
        "location.long" => "long".into(),
        "category_id" => "service_code".into(),
        other => other.to_string(),
    }
}

const DATATYPE_DESCRIPTIONS: &[(Datatype, &str)] = &[
    (Datatype::String, "文本"),
    (Datatype::Number, "数字"),
    (Datatype::Datetime, "ISO 8601 时间"),
    (Datatype::Text, "长文本"),
    (Datatype::Singlevaluelist, "单选"),
    (Datatype::Multivaluelist, "多选"),
];

fn service(c: &Category) -> Value {
    json!({
        "service_code": c.code,
        "service_name": c.name,
        "description": c.description,
        "metadata": !c.attributes.is_empty(),
        "type": "realtime",
        "keywords": c.keywords.join(","),
        "group": c.group,
    })
}

fn definition(c: &Category) -> Value {
    json!({
        "service_code": c.code,
        "attributes": c.attributes.iter().enumerate().map(|(i, a)| json!({
            "variable": true,
            "code": a.code,
            "datatype": serde_json::to_value(a.datatype).unwrap_or(Value::Null),
            "required": a.required,
            "datatype_description": DATATYPE_DESCRIPTIONS.iter().find(|(d, _)| *d == a.datatype).map(|(_, t)| *t).unwrap_or(""),
            "order": i + 1,
            "description": a.description,
            "values": a.values.iter().map(|(k, n)| json!({"key": k, "name": n})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn china(t: DateTime<Utc>) -> String {
    let off = FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| chrono::Offset::fix(&Utc));
    t.with_timezone(&off)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn request_json(o: &WorkOrder, agency: &str, code: &str) -> Value {
    let open = !matches!(o.state, OrderState::Closed | OrderState::Merged);
    let notes = match o.state {
        OrderState::Closed if !o.answer.is_empty() => format!("{}：{}", o.state.label(), o.answer),
        s => s.label().to_string(),
    };
    let expected = o
        .reply_due
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .map(|t| china(t.and_utc() - Duration::hours(8)));
    json!({
        "service_request_id": o.number,
        "status": if open { "open" } else { "closed" },
        "status_notes": notes,
        "service_name": o.category,
        "service_code": code,
        "description": o.content,
        "agency_responsible": agency,
        "service_notice": "",
        "requested_datetime": china(o.created_at),
        "updated_datetime": china(o.updated_at),
        "expected_datetime": expected,
        "address": o.location.address,
        "address_id": Value::Null,
        "zipcode": Value::Null,
        "lat": o.location.lat,
        "long": o.location.long,
        "media_url": Value::Null,
    })
}

async fn requests_json(s: &AppState, orders: Vec<WorkOrder>) -> Result<Value, Error> {
    let (names, cats) = s
        .read(|tx, _| {
            Ok((
                tx.departments(None)?
                    .into_iter()
                    .map(|d| (d.id, d.name))
                    .collect::<std::collections::BTreeMap<_, _>>(),
                tx.categories()?,
            ))
        })
        .await?;
    Ok(Value::Array(
        orders
            .iter()
            .map(|o| {
                let agency = o
                    .lead
                    .and_then(|l| names.get(&l).cloned())
                    .unwrap_or_else(|| "12345 政务服务便民热线".into());
                let code = cats
                    .iter()
                    .find(|c| c.id == o.category_id)
                    .map(|c| c.code.clone())
                    .unwrap_or_default();
                request_json(o, &agency, &code)
            })
            .collect(),
    ))
}

async fn get_resource(
    State(s): State<AppState>,
    Path(resource): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let Some((stem, f)) = split(&resource) else {
        return error(
            StatusCode::NOT_FOUND,
            Format::Json,
            "格式须为 .json 或 .xml",
        );
    };
    match stem {
        "discovery" => respond(
            StatusCode::OK,
            f,
            "discovery",
            json!({
                "changeset": "2026-12-01T00:00:00+08:00",
                "contact": "12345 政务服务便民热线",
                "key_service": "向系统管理员申请 api_key",
                "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": "/open311/v2",
                               "changeset": "2026-12-01T00:00:00+08:00", "type": "production",
                               "formats": ["application/json", "text/xml"]}],
            }),
        ),
        "services" => match s.read(|tx, _| tx.categories()).await {
            Ok(cats) => respond(
                StatusCode::OK,
                f,
                "services",
                Value::Array(cats.iter().filter(|c| c.active).map(service).collect()),
            ),
            Err(e) => from_error(e, f),
        },
        "requests" => {
            let p = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let ids: Vec<String> = p("service_request_id")
                .map(|v| {
                    v.split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let parse = |k: &str| -> Result<Option<DateTime<Utc>>, String> {
                match p(k).filter(|v| !v.is_empty()) {
                    Some(v) => DateTime::parse_from_rfc3339(&v)
                        .map(|d| Some(d.with_timezone(&Utc)))
                        .map_err(|_| format!("{k}: 须为 ISO 8601 时间")),
                    None => Ok(None),
                }
            };
            let (start, end) = match (parse("start_date"), parse("end_date")) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(m), _) | (_, Err(m)) => return error(StatusCode::BAD_REQUEST, f, m),
            };
            let status = p("status").filter(|v| !v.is_empty());
            if let Some(st) = &status
                && st != "open"
                && st != "closed"
            {
                return error(StatusCode::BAD_REQUEST, f, "status: 须为 open 或 closed");
            }
            let code = p("service_code").filter(|v| !v.is_empty());
            let now = s.clock.now();
            let r = s
                .read(move |tx, _| {
                    let cats = tx.categories()?;
                    let mut out = Vec::new();
                    if !ids.is_empty() {
                        for id in &ids {
                            if let Some(o) = tx.order_by_number(id)? {
                                out.push(o);
                            }
                        }
                        return Ok(out);
                    }
                    // Without ids: the last 90 days (or the window given), at most 1000.
                    let from = start.unwrap_or(now - Duration::days(90));
                    let to = end.unwrap_or(now + Duration::days(1));
                    for o in tx.orders_since("", from, 1000)? {
                        if o.created_at > to {
                            continue;
                        }
                        if let Some(c) = &code
                            && !cats.iter().any(|x| &x.code == c && x.id == o.category_id)
                        {
                            continue;
                        }
                        let open = !matches!(o.state, OrderState::Closed | OrderState::Merged);
                        match status.as_deref() {
                            Some("open") if !open => continue,
                            Some("closed") if open => continue,
                            _ => {}
                        }
                        out.push(o);
                    }
                    Ok(out)
                })
                .await;
            match r {
                Ok(orders) => match requests_json(&s, orders).await {
                    Ok(v) => respond(StatusCode::OK, f, "service_requests", v),
                    Err(e) => from_error(e, f),
                },
                Err(e) => from_error(e, f),
            }
        }
        _ => error(StatusCode::NOT_FOUND, f, "没有这个资源"),
    }
}

async fn get_one(
    State(s): State<AppState>,
    Path((resource, file)): Path<(String, String)>,
) -> Response {
    let Some((id, f)) = split(&file) else {
        return error(
            StatusCode::NOT_FOUND,
            Format::Json,
            "格式须为 .json 或 .xml",
        );
    };
    let id = id.to_string();
    match resource.as_str() {
        "services" => match s.read(move |tx, _| tx.category_by_code(&id)).await {
            Ok(Some(c)) if c.active => {
                respond(StatusCode::OK, f, "service_definition", definition(&c))
            }
            Ok(_) => error(StatusCode::NOT_FOUND, f, "没有这个服务"),
            Err(e) => from_error(e, f),
        },
        "requests" => match s.read(move |tx, _| tx.order_by_number(&id)).await {
            Ok(Some(o)) => match requests_json(&s, vec![o]).await {
                Ok(v) => respond(StatusCode::OK, f, "service_requests", v),
                Err(e) => from_error(e, f),
            },
            Ok(None) => error(StatusCode::NOT_FOUND, f, "没有这个诉求"),
            Err(e) => from_error(e, f),
        },
        _ => error(StatusCode::NOT_FOUND, f, "没有这个资源"),
    }
}

async fn post_resource(
    State(s): State<AppState>,
    Path(resource): Path<String>,
    body: Bytes,
) -> Response {
    let Some((stem, f)) = split(&resource) else {
        return error(
            StatusCode::NOT_FOUND,
            Format::Json,
            "格式须为 .json 或 .xml",
        );
    };
    if stem != "requests" {
        return error(StatusCode::NOT_FOUND, f, "没有这个资源");
    }
    let fields: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let p = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let Some(key) = p("api_key") else {
        return error(StatusCode::FORBIDDEN, f, "api_key 缺失");
    };
    let hash = token_hash(&key);
    let client = match s.read(move |tx, _| tx.open311_key(&hash)).await {
        Ok(Some(c)) => c,
        Ok(None) => return error(StatusCode::FORBIDDEN, f, "api_key 无效"),
        Err(e) => return from_error(e, f),
    };
    let Some(code) = p("service_code") else {
        return error(StatusCode::BAD_REQUEST, f, "service_code: 必填");
    };
    let lat = p("lat").map(|v| v.parse::<f64>());
    let long = p("long").map(|v| v.parse::<f64>());
    let (lat, long) = match (lat, long) {
        (Some(Ok(a)), Some(Ok(b))) => (Some(a), Some(b)),
        (None, None) => (None, None),
        _ => return error(StatusCode::BAD_REQUEST, f, "lat/long: 须同时给出，且为数字"),
    };
    let address = p("address_string").unwrap_or_default();
    if lat.is_none() && address.is_empty() && p("address_id").is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            f,
            "须给出位置：lat 和 long，或 address_string，或 address_id",
        );
    }
    let attributes: Vec<(String, String)> = fields
        .iter()
        .filter_map(|(k, v)| {
            let code = k.strip_prefix("attribute[")?.strip_suffix(']')?;
            Some((
                code.trim_end_matches("][]")
                    .trim_end_matches(']')
                    .to_string(),
                v.trim().to_string(),
            ))
        })
        .collect();
    let name = format!(
        "{}{}",
        p("last_name").unwrap_or_default(),
        p("first_name").unwrap_or_default()
    );
    let code2 = code.clone();
    let cat = match s.read(move |tx, _| tx.category_by_code(&code2)).await {
        Ok(Some(c)) if c.active => c,
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                f,
                format!("service_code: 没有服务“{code}”"),
            );
        }
        Err(e) => return from_error(e, f),
    };
    let n = NewOrder {
        category_id: cat.id,
        order_type: None,
        urgency: Default::default(),
        caller: Caller {
            name: if name.is_empty() {
                "匿名".into()
            } else {
                name
            },
            phone: p("phone").unwrap_or_default(),
            id_number: None,
            email: p("email"),
        },
        location: Location {
            address: if address.is_empty() {
                p("address_id").unwrap_or_default()
            } else {
                address
            },
            region: None,
            lat,
            long,
        },
        content: p("description").unwrap_or_default(),
        attachments: vec![],
        attributes,
    };
    let by = format!("Open311：{client}");
    match s
        .write(move |tx, env| register(tx, None, env, Source::Open311, &n, &by))
        .await
    {
        Ok(o) => respond(
            StatusCode::CREATED,
            f,
            "service_requests",
            json!([{"service_request_id": o.number, "service_notice": "12345 已受理，将按时限派单办理并回访", "account_id": Value::Null}]),
        ),
        Err(e) => from_error(e, f),
    }
}
