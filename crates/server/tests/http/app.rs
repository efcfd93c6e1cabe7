//! `TestApp`: the whole application in-process over a fresh database with the demo
//! county, a manual clock, and helpers that speak HTTP to the router.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{Duration, TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tongban::demo;
use tongban_core::calendar::builtin;
use tongban_store::Backend;
use tongban_store::testing::{TestDb, fresh};
use tongban_web::auth::PasswordCost;
use tongban_web::clock::{Clock, ManualClock};
use tongban_web::{AppState, Settings};
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;

/// Run a test body on both backends: `both!(name, |app| async move { … });`
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::app::TestApp::start(tongban_store::Backend::Sqlite).await
                {
                    ($body)(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) =
                    $crate::app::TestApp::start(tongban_store::Backend::Postgres).await
                {
                    ($body)(app).await;
                }
            }
        }
    };
}

/// A response: status and JSON body (`Null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
    /// The body as text (pages).
    pub text: String,
    pub headers: axum::http::HeaderMap,
}

impl Resp {
    /// Assert the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        self.body
    }

    /// The field errors of a validation failure.
    #[track_caller]
    pub fn fields(&self) -> Vec<String> {
        assert_eq!(self.status.as_u16(), 422, "body: {}", self.body);
        self.body["error"]["fields"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The error code.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

pub struct TestApp {
    /// The whole application ([`tongban_web::app`]), as `serve` runs it.
    pub router:
        BoxCloneSyncService<Request<Body>, axum::response::Response, std::convert::Infallible>,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub db: TestDb,
}

/// Monday 23 November 2026, 09:00 in China.
pub fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap()
}

/// The demo accounts' password.
pub const PW: &str = demo::DEMO_PASSWORD;

impl TestApp {
    /// A fresh database on `backend` with the calendar and the demo county.
    pub async fn start(backend: Backend) -> Option<TestApp> {
        let db = fresh(backend)?;
        let clock = Arc::new(ManualClock::new(start_time()));
        // Real Argon2id, at a test cost.
        let cost = PasswordCost {
            memory_kib: 64,
            iterations: 1,
        };
        let settings = Settings {
            password_cost: cost,
            ..Settings::default()
        };
        let hash = cost.hash(PW);
        let now = clock.now();
        db.db
            .write(move |tx| {
                for y in builtin::years() {
                    tx.save_calendar_year(&y, 0, now)?;
                }
                let cal = tongban_core::calendar::Calendar::new(&builtin::years());
                demo::load(tx, now, &cal, &hash).map(|_| ())
            })
            .await
            .expect("demo loads");
        let state = AppState::new(db.db.clone(), clock.clone(), settings).expect("state");
        Some(TestApp {
            router: BoxCloneSyncService::new(tongban_web::app(state.clone())),
            state,
            clock,
            db,
        })
    }

    /// A second server on the same database, sharing the clock (as a second
    /// `tongban serve` behind the same load balancer would share the time).
    pub fn second_node(&self) -> TestApp {
        let db = self.db.another_handle();
        let settings = Settings {
            password_cost: PasswordCost {
                memory_kib: 64,
                iterations: 1,
            },
            ..Settings::default()
        };
        let state = AppState::new(db.db.clone(), self.clock.clone(), settings).expect("state");
        TestApp {
            router: BoxCloneSyncService::new(tongban_web::app(state.clone())),
            state,
            clock: self.clock.clone(),
            db,
        }
    }

    /// Send a request.
    pub async fn req(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        }
        .unwrap();
        self.send(req).await
    }

    /// Send a prepared request.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            headers,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.req(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.req(Method::POST, path, Some(token), Some(body)).await
    }

    /// A bearer token for a demo account.
    pub async fn login(&self, username: &str) -> String {
        let r = self
            .req(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": username, "password": PW, "kind": "bearer"})),
            )
            .await
            .expect(200);
        r["token"].as_str().unwrap().to_string()
    }

    /// Act on a case.
    pub async fn act(&self, token: &str, case: i64, action: Value) -> Resp {
        self.post(&format!("/api/v1/cases/{case}/actions"), token, action)
            .await
    }

    /// Act on a 12345 work order.
    pub async fn order_act(&self, token: &str, order: i64, action: Value) -> Resp {
        self.post(
            &format!("/api/v1/hotline/orders/{order}/actions"),
            token,
            action,
        )
        .await
    }

    /// Move the clock.
    pub fn advance_days(&self, days: i64) {
        self.clock.advance(Duration::days(days));
    }

    /// Everything stored, summed up (see `tongban_store::testing::fingerprint`).
    pub fn fingerprint(&self) -> Vec<(String, i64, i64)> {
        tongban_store::testing::fingerprint(&self.db.db)
    }

    /// The id of a published item by department key name and item name.
    pub async fn item(&self, department_name: &str, item_name: &str) -> i64 {
        let dept = dept(self, department_name).await;
        let items = self
            .req(
                Method::GET,
                &format!("/api/v1/items?department_id={dept}&limit=200"),
                None,
                None,
            )
            .await
            .expect(200);
        items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == item_name)
            .unwrap_or_else(|| panic!("no item {item_name}"))["id"]
            .as_i64()
            .unwrap()
    }

    /// The demo county's 食品经营许可（新办） and a whole window application for it from
    /// the demo enterprise.
    pub async fn food_application(&self) -> (i64, Value) {
        let food = self
            .item("茂名市茂南区市场监督管理局", "食品经营许可（新办）")
            .await;
        let mut body = self.full_application(food, "window").await;
        body["applicant"] = enterprise();
        (food, body)
    }

    /// An application that hands in every required material and fills every required
    /// field of the item's published version; `overrides` replaces materials by code.
    pub async fn full_application(&self, item: i64, channel: &str) -> Value {
        let it = self
            .req(Method::GET, &format!("/api/v1/items/{item}"), None, None)
            .await
            .expect(200);
        let spec = &it["version"]["spec"];
        let mut form = serde_json::Map::new();
        for f in spec["fields"].as_array().unwrap() {
            if f["required"] != true {
                continue;
            }
            let v = match f["kind"].as_str().unwrap() {
                "choice" => f["options"][0].clone(),
                "yes_no" => json!("false"),
                "number" => json!("120"),
                "date" => json!("2026-12-01"),
                "id_number" => json!(demo::DEMO_PERSON_ID),
                "credit_code" => json!(demo::DEMO_ENTERPRISE_CODE),
                "phone" => json!("13800138000"),
                _ => json!("茂名市茂南区油城五路 88 号"),
            };
            form.insert(f["key"].as_str().unwrap().to_string(), v);
        }
        let materials: Vec<Value> = spec["materials"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["requirement"]["kind"] == "required")
            .map(|m| json!({"code": m["code"], "status": "provided", "electronic": false}))
            .collect();
        json!({"item_id": item, "channel": channel, "form": form, "materials": materials})
    }
}

/// The demo enterprise, as a clerk identifies it at the window.
pub fn enterprise() -> Value {
    json!({"kind": "enterprise", "identifier": demo::DEMO_ENTERPRISE_CODE, "name": "茂名市好味餐饮管理有限公司",
           "phone": "0668-2281234", "legal_representative": "张伟"})
}

/// The demo person, as a clerk identifies them at the window.
pub fn person() -> Value {
    json!({"kind": "person", "identifier": demo::DEMO_PERSON_ID, "name": "张伟", "phone": "13800138000"})
}

/// The actions of a case's events (`GET /cases/{id}/events`), in order.
pub fn actions(events: &Value) -> Vec<&str> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

/// Set a material's line in an application.
pub fn set_material(app: &mut Value, code: &str, line: Value) {
    let mats = app["materials"].as_array_mut().unwrap();
    mats.retain(|m| m["code"] != code);
    let mut line = line;
    line["code"] = json!(code);
    mats.push(line);
}

/// 茂南区住房和城乡建设局, a 12345 unit of the demo county.
pub const ZJJ: &str = "茂名市茂南区住房和城乡建设局";

/// The id of the entry whose `key` is `value` in the public list at `path`.
pub async fn listed_id(app: &TestApp, path: &str, key: &str, value: &str) -> i64 {
    let list = app.req(Method::GET, path, None, None).await.expect(200);
    list.as_array()
        .unwrap()
        .iter()
        .find(|x| x[key] == value)
        .unwrap_or_else(|| panic!("no {key} {value} in {path}"))["id"]
        .as_i64()
        .unwrap()
}

/// A department's id by its name.
pub async fn dept(app: &TestApp, name: &str) -> i64 {
    listed_id(app, "/api/v1/departments", "name", name).await
}

/// A 12345 dispatch category's id by its code.
pub async fn category(app: &TestApp, code: &str) -> i64 {
    listed_id(app, "/api/v1/hotline/categories", "code", code).await
}

/// Load a year's 节假日安排 as `admin`: the answer (`cases_recomputed`,
/// `orders_recomputed` …).
pub async fn load_year(app: &TestApp, admin: &str, notice: Value) -> Value {
    let year = notice["year"].as_i64().unwrap();
    app.req(
        Method::PUT,
        &format!("/api/v1/calendar/{year}"),
        Some(admin),
        Some(notice),
    )
    .await
    .expect(200)
}

/// A 12345 call registered by `operator` in `code`'s category: the order as answered.
pub async fn call(app: &TestApp, operator: &str, code: &str, content: &str) -> Value {
    let cat = category(app, code).await;
    app.post(
        "/api/v1/hotline/orders",
        operator,
        json!({"category_id": cat, "caller": {"name": "陈女士", "phone": "13902681234"},
               "location": {"address": "茂南区油城五路 18 号", "region": "440902"}, "content": content}),
    )
    .await
    .expect(201)
}

/// The 2027 notice as the calendar tests load it: New Year's Day 1–3 January, and (for
/// the tests) Monday 4 January off too; Saturday 9 January worked.
pub fn notice_2027() -> Value {
    json!({"year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知",
    "holidays": [{"date": "2027-01-01", "name": "元旦"}, {"date": "2027-01-02", "name": "元旦"},
                 {"date": "2027-01-03", "name": "元旦"}, {"date": "2027-01-04", "name": "元旦"}],
    "adjusted_workdays": [{"date": "2027-01-09", "name": "元旦"}]})
}
