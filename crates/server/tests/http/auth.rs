//! Signing in: throttling, cookies with CSRF, registration.

use axum::body::Body;
use axum::http::{Method, Request, header};
use chrono::Duration;
use serde_json::json;

use crate::app::*;
use crate::both;

both!(
    repeated_wrong_passwords_are_throttled_then_forgiven,
    |app: TestApp| async move {
        let login = |pw: &'static str| {
            let app = &app;
            async move {
                app.req(
                    Method::POST,
                    "/api/v1/auth/login",
                    None,
                    Some(json!({"username": "clerk", "password": pw, "kind": "bearer"})),
                )
                .await
            }
        };
        for _ in 0..5 {
            let r = login("wrong-password-1").await;
            assert_eq!((r.status.as_u16(), r.code()), (401, "unauthenticated"));
        }
        // The sixth try is refused even with the right password, with Retry-After.
        let r = login(PW).await;
        assert_eq!((r.status.as_u16(), r.code()), (429, "too_many_attempts"));
        let retry: i64 = r.headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&retry));
        // Unknown names fail the same way.
        let r = app
            .req(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "nobody", "password": PW})),
            )
            .await;
        assert_eq!(r.status, 401);
        // Fifteen minutes later the right password works again.
        app.clock.advance(Duration::minutes(16));
        let r = login(PW).await;
        assert_eq!(r.status, 200);
    }
);

/// Sign in with a cookie session (HttpOnly, SameSite=Lax) and use it once to read, so
/// that the server holds it: the cookie's `name=value` pair and the login's answer.
async fn cookie_login(app: &TestApp, username: &str) -> (String, serde_json::Value) {
    let r = app
        .req(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": username, "password": PW})),
        )
        .await;
    let body = r.clone().expect(200);
    let cookie = r.headers[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let pair = cookie.split(';').next().unwrap().to_string();
    let get = Request::builder()
        .uri("/api/v1/cases")
        .header(header::COOKIE, &pair)
        .body(Body::empty())
        .unwrap();
    app.send(get).await.expect(200);
    (pair, body)
}

both!(
    cookie_sessions_need_the_csrf_token_to_change_anything,
    |app: TestApp| async move {
        let (pair, body) = cookie_login(&app, "reviewer").await;
        assert!(
            body.get("token").is_none(),
            "a cookie session's token is not in the body"
        );
        let csrf = body["csrf"].as_str().unwrap().to_string();
        let post = |with_csrf: bool| {
            let mut b = Request::builder()
                .method(Method::POST)
                .uri("/api/v1/cases/1/actions")
                .header(header::COOKIE, &pair)
                .header(header::CONTENT_TYPE, "application/json");
            if with_csrf {
                b = b.header("x-csrf-token", &csrf);
            }
            b.body(Body::from(json!({"action": "accept"}).to_string()))
                .unwrap()
        };
        let r = app.send(post(false)).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "forbidden"));
        let r = app.send(post(true)).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
);

both!(
    applicants_register_with_a_valid_id_number_once,
    |app: TestApp| async move {
        let reg = |body: serde_json::Value| {
            app.req(Method::POST, "/api/v1/auth/register", None, Some(body))
        };
        let r = reg(json!({"kind": "person", "identifier": "440902199001011235", "name": "王芳", "phone": "13800000000", "password": PW})).await;
        assert_eq!(r.fields(), ["identifier"]);
        let r = reg(json!({"kind": "person", "identifier": "440902203001011230", "name": "王芳", "phone": "13800000000", "password": PW})).await;
        assert_eq!(r.fields(), ["identifier"], "a birth date in the future");
        let r = reg(json!({"kind": "person", "identifier": "11010519491231002X", "name": "王芳", "phone": "13800000000", "password": "short"})).await;
        assert_eq!(r.fields(), ["password"]);
        let r = reg(json!({"kind": "enterprise", "identifier": "91350100M000100Y43", "name": "某公司", "phone": "13800000000", "password": PW})).await;
        assert_eq!(r.fields(), ["legal_representative"]);
        let ok = json!({"kind": "person", "identifier": "11010519491231002x", "name": "王芳", "phone": "13800000000", "password": PW});
        let r = reg(ok.clone()).await.expect(201);
        assert_eq!(r["account"]["username"], "11010519491231002X");
        assert_eq!(r["account"]["role"], "applicant");
        assert_eq!(reg(ok).await.status, 409);
        // Signing in with a lowercase x works.
        let r = app
            .req(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "11010519491231002x", "password": PW})),
            )
            .await;
        assert_eq!(r.status, 200);
    }
);

both!(
    the_openapi_description_and_its_browser_are_served,
    |app: TestApp| async move {
        let r = app
            .req(Method::GET, "/api/v1/openapi.json", None, None)
            .await
            .expect(200);
        assert_eq!(r["openapi"], "3.1.0");
        let paths = r["paths"].as_object().unwrap();
        for p in [
            "/cases",
            "/cases/{id}/actions",
            "/calendar/deadline",
            "/items/{id}/publish",
            "/auth/login",
            "/accounts/{id}",
        ] {
            assert!(
                paths.contains_key(p),
                "{p} missing from the OpenAPI description"
            );
        }
        // The action body documents every action.
        let schema = serde_json::to_string(&r["components"]["schemas"]["Action"]).unwrap();
        for a in [
            "accept",
            "request_correction",
            "fulfil_commitment",
            "deliver_post",
        ] {
            assert!(schema.contains(a), "{a} missing from the Action schema");
        }
        let ui = app
            .send(
                Request::builder()
                    .uri("/api/v1/docs/")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(ui.status, 200);
        let home = app
            .send(Request::builder().uri("/").body(Body::empty()).unwrap())
            .await;
        // The front door is the public portal (办事指南).
        assert_eq!(home.status, 200);
        assert!(home.text.contains("办事指南"));
    }
);

both!(
    a_burst_of_parallel_guesses_is_throttled_too,
    |app: TestApp| async move {
        use tower::ServiceExt;
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let router = app.router.clone();
            let req = Request::builder()
                .method(Method::POST)
                .uri("/api/v1/auth/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"username": "approver", "password": "guess-123456", "kind": "bearer"})
                        .to_string(),
                ))
                .unwrap();
            tasks.push(tokio::spawn(async move {
                router.oneshot(req).await.unwrap().status().as_u16()
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        assert!(
            statuses.iter().all(|s| *s == 401 || *s == 429),
            "{statuses:?}"
        );
        // Whatever got through, the right password is now refused for the window.
        let r = app
            .req(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "approver", "password": PW})),
            )
            .await;
        assert_eq!(r.status, 429);
    }
);

both!(
    disabling_an_account_ends_its_sessions_at_once,
    |app: TestApp| async move {
        let admin = app.login("admin").await;
        let issuer = app.login("issuer").await;
        app.get("/api/v1/cases", &issuer).await.expect(200);
        let all = app.get("/api/v1/accounts", &admin).await.expect(200);
        let id = all
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == "issuer")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        app.req(
            Method::PATCH,
            &format!("/api/v1/accounts/{id}"),
            Some(&admin),
            Some(json!({"active": false})),
        )
        .await
        .expect(200);
        assert_eq!(app.get("/api/v1/cases", &issuer).await.status, 401);
        let r = app
            .req(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "issuer", "password": PW})),
            )
            .await;
        assert_eq!(r.status, 401);
    }
);

both!(
    a_session_the_server_holds_still_ends_at_its_expiry_and_keeps_its_kind,
    |app: TestApp| async move {
        // A cookie session, used once so that the server holds it: its token is no
        // bearer token.
        let (pair, _) = cookie_login(&app, "reviewer").await;
        let token = pair.split_once('=').unwrap().1;
        assert_eq!(app.get("/api/v1/cases", token).await.status, 401);
        assert_eq!(app.get("/api/v1/cases", token).await.status, 401);

        // A bearer session, held: it opens the API until its expiry and not after.
        let t = app.login("clerk").await;
        app.get("/api/v1/cases", &t).await.expect(200);
        app.get("/api/v1/cases", &t).await.expect(200);
        app.clock.advance(
            Duration::days(tongban_core::usecase::auth::BEARER_DAYS) - Duration::minutes(1),
        );
        app.get("/api/v1/cases", &t).await.expect(200);
        app.clock.advance(Duration::minutes(2));
        let r = app.get("/api/v1/cases", &t).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "unauthenticated"));
        assert_eq!(app.get("/api/v1/cases", &t).await.status, 401);
    }
);
