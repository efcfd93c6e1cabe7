//! Request extractors whose failures speak the API's error envelope and name the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use tongban_core::{Error, FieldErrors};

use crate::error::{ApiError, plain};

/// Turn a serde error at `path` into a field error with a rule in Chinese.
fn field_error(path: &str, msg: &str) -> Error {
    let mut field = if path == "." || path.is_empty() {
        String::new()
    } else {
        path.to_string()
    };
    let rule = if let Some(rest) = msg.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        field = if field.is_empty() {
            name.to_string()
        } else {
            format!("{field}.{name}")
        };
        "缺少必填字段".to_string()
    } else if let Some(rest) = msg.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        // The path may already end in the unknown key.
        if field != name && !field.ends_with(&format!(".{name}")) {
            field = if field.is_empty() {
                name.to_string()
            } else {
                format!("{field}.{name}")
            };
        }
        "未知字段".to_string()
    } else if msg.starts_with("unknown variant") {
        let expected = msg.split("expected ").nth(1).unwrap_or("");
        let expected = expected
            .split(" at line")
            .next()
            .unwrap_or(expected)
            .replace('`', "");
        if field.is_empty() {
            // Internally tagged enums (case actions) report their tag at the root.
            field = "action".into();
        }
        format!("取值无效，应为：{}", expected.trim_start_matches("one of "))
    } else if msg.starts_with("invalid type")
        || msg.starts_with("invalid value")
        || msg.starts_with("invalid digit")
    {
        let detail = msg.split(" at line").next().unwrap_or(msg);
        format!("类型或取值错误（{detail}）")
    } else {
        // Our own parse errors (ID numbers, dates …) are already sentences in Chinese.
        msg.split(" at line").next().unwrap_or(msg).to_string()
    };
    if field.is_empty() {
        field = "body".into();
    }
    let mut e = FieldErrors::new();
    e.add(field, rule);
    Error::Validation(e)
}

/// The top-level key (or `key[i]` array element) of `v` that makes `T` fail to parse:
/// the one whose removal changes the error. Serde reports a bad value as soon as it
/// meets it, and a missing field only at the end, so taking away an innocent key leaves
/// the error as it was.
fn locate<T: DeserializeOwned>(v: &serde_json::Value) -> Option<String> {
    // Bounded: each probe re-parses the body, so only small bodies are probed, and only
    // the first elements of an array.
    const MAX_PROBE_BODY: usize = 64 * 1024;
    const MAX_PROBE_ELEMENTS: usize = 50;
    if v.to_string().len() > MAX_PROBE_BODY {
        return None;
    }
    let err_of = |v: &serde_json::Value| {
        serde_json::from_value::<T>(v.clone())
            .err()
            .map(|e| e.to_string())
    };
    let original = err_of(v)?;
    let obj = v.as_object()?;
    // A missing field at the root: supplying it (even as null) changes the error.
    if let Some(rest) = original.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        let mut with = obj.clone();
        with.insert(name.to_string(), serde_json::Value::Null);
        if err_of(&serde_json::Value::Object(with)).as_deref() != Some(original.as_str()) {
            return None;
        }
    }
    for (k, val) in obj {
        if k == "action" {
            continue;
        }
        let mut without = obj.clone();
        without.remove(k);
        if err_of(&serde_json::Value::Object(without)).as_deref() == Some(original.as_str()) {
            continue;
        }
        if let Some(arr) = val.as_array() {
            for i in 0..arr.len().min(MAX_PROBE_ELEMENTS) {
                let mut a = arr.clone();
                a.remove(i);
                let mut o = obj.clone();
                o.insert(k.clone(), serde_json::Value::Array(a));
                if err_of(&serde_json::Value::Object(o)).as_deref() != Some(original.as_str()) {
                    return Some(format!("{k}[{i}]"));
                }
            }
        }
        return Some(k.clone());
    }
    None
}

/// A JSON body, parsed with field paths in its errors.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "请求体须为 JSON（Content-Type: application/json）",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                plain(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "请求体过大",
                )
            } else {
                plain(StatusCode::BAD_REQUEST, "bad_request", "无法读取请求体")
            }
        })?;
        // Most bodies are good: parse them plainly first. Tracking the path of every
        // field as it goes (serde_path_to_error) cost about 2 % of the server's CPU on
        // the lifecycle benchmark, and only an error needs it, so a body that fails is
        // parsed again with it to say where.
        if let Ok(v) = serde_json::from_slice(&bytes) {
            return Ok(ApiJson(v));
        }
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(de) {
            Ok(v) => Ok(ApiJson(v)),
            Err(e) => {
                let inner = e.inner();
                if inner.is_syntax() || inner.is_eof() {
                    let mut f = FieldErrors::new();
                    f.add("body", "JSON 格式错误");
                    return Err(ApiError(Error::Validation(f)).into_response());
                }
                let mut path = e.path().to_string();
                if path == "." || path.is_empty() {
                    // Tagged enums (case actions) buffer their content, which loses the
                    // path: find the culprit by taking keys away.
                    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes)
                        && let Some(p) = locate::<T>(&v)
                    {
                        path = p;
                    }
                }
                Err(ApiError(field_error(&path, &inner.to_string())).into_response())
            }
        }
    }
}

/// Query parameters, parsed with field names in their errors.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                ApiError(field_error(&e.path().to_string(), &e.inner().to_string())).into_response()
            })
    }
}

/// Path parameters; an unparsable one means the thing does not exist.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|_| plain(StatusCode::NOT_FOUND, "not_found", "请求的资源不存在"))
    }
}
