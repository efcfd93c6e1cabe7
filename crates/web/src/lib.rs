//! Tongban's HTTP face: the JSON API under `/api/v1` with its OpenAPI description and
//! browsable docs. Handlers are thin: extract, call one use case, answer.

pub mod api;
pub mod auth;
pub mod clock;
pub mod download;
pub mod error;
pub mod extract;
pub mod files;
pub mod jobs;
pub mod kb_search;
pub mod open311;
pub mod pages;
pub mod search;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::SwaggerUi;

pub use state::{AppState, Settings};

/// Largest JSON body accepted.
pub const MAX_BODY: usize = 2 * 1024 * 1024;
/// Largest page form accepted (uploads included).
pub const MAX_FORM_BODY: usize = 50 * 1024 * 1024;

/// Serve the application on `listener` until `shutdown` resolves (then let the
/// requests under way finish): every connection with the client's address for the
/// handlers ([`axum::extract::ConnectInfo`]) and sending at once ([`no_delay`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::ServiceExt as _;
    axum::serve(
        no_delay(listener),
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// A listener whose connections send at once (`TCP_NODELAY`): an answer written in
/// several pieces (a streamed page, a download, a chunked body) is not held back
/// waiting for the client to acknowledge the piece before (Nagle's algorithm), which
/// with delayed acknowledgements can cost 40 ms.
fn no_delay(
    listener: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    fn tap(tcp: &mut tokio::net::TcpStream) {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    }
    listener.tap_io(tap as fn(&mut tokio::net::TcpStream))
}

/// The whole application, as one service: the routes, with the request trace and the
/// JSON body limit around all of them once. (`Router::layer` would wrap every route in
/// a boxed service of its own, which each request clones and whose future it boxes, at
/// every layer: measurable on every request.) The API's routes are reached under
/// `/api/v1` by [`ApiOrRest`] rather than `Router::nest`, for the same reason.
/// The pages' routes raise the body limit for their forms and uploads
/// ([`MAX_FORM_BODY`]): the innermost limit is the one that holds.
pub fn app(
    state: AppState,
) -> impl tower::Service<
    axum::extract::Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ Sync
+ 'static {
    let (api, openapi) = api::router().split_for_parts();
    let spec = serde_json::to_value(&openapi).unwrap_or_default();
    let api = api
        .route(
            "/openapi.json",
            get(move || async move { axum::Json(spec.clone()) }),
        )
        .fallback(|| async {
            error::plain(StatusCode::NOT_FOUND, "not_found", "没有这个接口")
        })
        .method_not_allowed_fallback(|| async {
            error::plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "该接口不支持此请求方法",
            )
        });
    let rest = Router::new()
        .merge(SwaggerUi::new(API_DOCS).url(format!("{API_DOCS}/openapi.json"), openapi))
        .merge(pages::router().layer(DefaultBodyLimit::max(MAX_FORM_BODY)))
        .merge(open311::router())
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async {
            pages::PageError::new(tongban_core::Error::NotFound { entity: "页面" }).into_response()
        })
        .with_state(state.clone());
    let routes = ApiOrRest {
        api: api.with_state(state),
        rest,
    };
    tower::ServiceBuilder::new()
        .map_response(IntoResponse::into_response)
        .layer(TraceLayer::new_for_http())
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .service(routes)
}

/// The API's prefix.
const API: &str = "/api/v1";
/// Swagger UI, under the API's prefix but not one of its routes.
const API_DOCS: &str = "/api/v1/docs";

/// `/api/v1/…` to the API's routes with the prefix taken off (Swagger UI's
/// `/api/v1/docs…` excepted), everything else to the other routes: what
/// `Router::nest("/api/v1", api)` does, without the boxed service it puts around every
/// nested route (cloned, with its future boxed, on every call).
#[derive(Clone)]
struct ApiOrRest {
    api: Router,
    rest: Router,
}

impl tower::Service<axum::extract::Request> for ApiOrRest {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = axum::routing::future::RouteFuture<std::convert::Infallible>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: axum::extract::Request) -> Self::Future {
        match api_uri(req.uri()) {
            Some(uri) => {
                *req.uri_mut() = uri;
                self.api.call(req)
            }
            None => self.rest.call(req),
        }
    }
}

/// The URI an API route sees (`/api/v1/cases?x` → `/cases?x`, `/api/v1` → `/`), or
/// `None` for a path that is not under the API's prefix or is Swagger UI's.
fn api_uri(uri: &axum::http::Uri) -> Option<axum::http::Uri> {
    if after_prefix(uri.path(), API_DOCS).is_some() {
        return None;
    }
    // What follows the prefix, query included: `/cases?x`, `?x` or nothing.
    let tail = after_prefix(uri.path_and_query()?.as_str(), API)?;
    let pq: axum::http::uri::PathAndQuery = if tail.starts_with('/') {
        tail.parse()
    } else {
        format!("/{tail}").parse()
    }
    .ok()?;
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(pq);
    axum::http::Uri::from_parts(parts).ok()
}

/// What follows `prefix` in a path (and query), when `prefix` ends at a segment's
/// boundary: `/api/v1` is a prefix of `/api/v1/cases` and `/api/v1?x`, not of
/// `/api/v10`.
fn after_prefix<'a>(path_and_query: &'a str, prefix: &str) -> Option<&'a str> {
    let tail = path_and_query.strip_prefix(prefix)?;
    matches!(tail.as_bytes().first(), None | Some(b'/' | b'?')).then_some(tail)
}

#[cfg(test)]
mod tests {
    #[test]
    fn api_paths_lose_their_prefix_and_nothing_else_does() {
        let at = |s: &str| super::api_uri(&s.parse().unwrap()).map(|u| u.to_string());
        assert_eq!(at("/api/v1/cases").as_deref(), Some("/cases"));
        assert_eq!(
            at("/api/v1/cases/7/actions?x=1&y=%E5%8A%9E").as_deref(),
            Some("/cases/7/actions?x=1&y=%E5%8A%9E")
        );
        assert_eq!(at("/api/v1/").as_deref(), Some("/"));
        assert_eq!(at("/api/v1").as_deref(), Some("/"));
        assert_eq!(at("/api/v1?x=1").as_deref(), Some("/?x=1"));
        assert_eq!(at("/api/v1/openapi.json").as_deref(), Some("/openapi.json"));
        assert_eq!(at("/api/v1/docsets").as_deref(), Some("/docsets"));
        for rest in [
            "/api/v10/cases",
            "/api/v1docs",
            "/api/v1/docs",
            "/api/v1/docs/",
            "/api/v1/docs/openapi.json",
            "/cases/7",
            "/",
        ] {
            assert_eq!(at(rest), None, "{rest}");
        }
    }

    #[tokio::test]
    async fn every_accepted_connection_sends_at_once() {
        use axum::serve::Listener;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut listener = super::no_delay(listener);
        for _ in 0..2 {
            let client = tokio::net::TcpStream::connect(addr).await.unwrap();
            // The client's side keeps Nagle's algorithm: only the server's is set.
            assert!(!client.nodelay().unwrap());
            let (io, from) = listener.accept().await;
            assert_eq!(from, client.local_addr().unwrap());
            assert!(io.nodelay().unwrap());
        }
    }
}
