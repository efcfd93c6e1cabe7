//! Every endpoint against the wrong user: anonymous, the wrong role, the wrong
//! department, the wrong region, the wrong applicant. Refusals change nothing.

use axum::http::Method;
use serde_json::{Value, json};

use crate::app::*;
use crate::both;

/// Every demo account that can sign in.
const ACCOUNTS: &[&str] = &[
    "admin",
    "catalog",
    "clerk",
    "issuer",
    "reviewer",
    "approver",
    "wjj-reviewer",
    "supervisor",
    "operator",
    "unit",
    "agent",
    tongban::demo::DEMO_PERSON_ID,
    tongban::demo::DEMO_ENTERPRISE_CODE,
];

/// Create a staff account as the city administrator; returns its token.
async fn staff(app: &TestApp, admin: &str, username: &str, role: &str, department: &str) -> String {
    let dept = dept(app, department).await;
    app.post(
        "/api/v1/accounts",
        admin,
        json!({"username": username, "name": username, "role": role,
        "department_id": dept, "password": PW}),
    )
    .await
    .expect(201);
    app.login(username).await
}

both!(
    every_admin_and_catalog_endpoint_refuses_other_roles_and_changes_nothing,
    |app: TestApp| async move {
        let admin = app.login("admin").await;
        let item = app
            .item("茂名市茂南区市场监督管理局", "食品经营许可（新办）")
            .await;
        let accounts = app.get("/api/v1/accounts", &admin).await.expect(200);
        let clerk_id = accounts
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == "clerk")
            .unwrap()["id"]
            .clone();
        let spec = app
            .req(Method::GET, &format!("/api/v1/items/{item}"), None, None)
            .await
            .expect(200)["version"]["spec"]
            .clone();
        let year = app
            .req(Method::GET, "/api/v1/calendar/2026", None, None)
            .await
            .expect(200);
        let year_body = json!({"year": 2026, "holidays": year["holidays"], "adjusted_workdays": year["adjusted_workdays"], "source": year["source"]});
        // (method, path, body, accounts allowed)
        let endpoints: Vec<(Method, String, Option<Value>, &[&str])> = vec![
            (
                Method::POST,
                "/api/v1/regions".into(),
                Some(json!({"code": "440902102", "name": "新坡镇", "parent": "440902"})),
                &["admin"],
            ),
            (
                Method::POST,
                "/api/v1/departments".into(),
                Some(
                    json!({"name": "测试局", "credit_code": "11440902MB2C12345X", "region": "440902"}),
                ),
                &["admin"],
            ),
            (
                Method::POST,
                "/api/v1/halls".into(),
                Some(
                    json!({"name": "测试大厅", "region": "440902", "address": "x", "department_id": 1}),
                ),
                &["admin"],
            ),
            (
                Method::POST,
                "/api/v1/halls/1/windows".into(),
                Some(json!({"name": "3号窗口", "kind": "acceptance"})),
                &["admin"],
            ),
            (Method::GET, "/api/v1/accounts".into(), None, &["admin"]),
            (
                Method::POST,
                "/api/v1/accounts".into(),
                Some(
                    json!({"username": "x1", "name": "x", "role": "supervisor", "department_id": 1, "password": PW}),
                ),
                &["admin"],
            ),
            (
                Method::PATCH,
                format!("/api/v1/accounts/{clerk_id}"),
                Some(json!({"name": "李晓华"})),
                &["admin"],
            ),
            (
                Method::POST,
                "/api/v1/applicants/1/lift-rongque-bar".into(),
                Some(json!({})),
                &["admin"],
            ),
            (
                Method::POST,
                "/api/v1/basic-items".into(),
                Some(
                    json!({"code": "TEST0001", "name": "测试", "item_type": "license", "legal_basis": "测试"}),
                ),
                &["admin", "catalog"],
            ),
            (
                Method::POST,
                "/api/v1/items".into(),
                Some(json!({"basic_code": "SJ11700800", "department_id": 9, "spec": spec})),
                &["admin", "catalog"],
            ),
            (
                Method::PUT,
                format!("/api/v1/items/{item}/draft"),
                Some(spec.clone()),
                &["admin", "catalog"],
            ),
            (
                Method::POST,
                format!("/api/v1/items/{item}/publish"),
                Some(json!({})),
                &["admin", "catalog"],
            ),
            (
                Method::POST,
                format!("/api/v1/items/{item}/status"),
                Some(json!({"change": "suspend"})),
                &["admin", "catalog"],
            ),
            (
                Method::PUT,
                "/api/v1/calendar/2026".into(),
                Some(year_body),
                &["admin", "catalog"],
            ),
            (
                Method::POST,
                "/api/v1/admin/jobs/run".into(),
                Some(json!({})),
                &["admin"],
            ),
            (
                Method::GET,
                "/api/v1/search/synonyms".into(),
                None,
                &["admin", "catalog"],
            ),
            (
                Method::PUT,
                "/api/v1/search/synonyms".into(),
                Some(json!({"synonyms": {"奶茶": ["食品经营"]}})),
                &["admin", "catalog"],
            ),
            (
                Method::POST,
                "/api/v1/admin/search/rebuild".into(),
                Some(json!({})),
                &["admin", "catalog"],
            ),
        ];
        let mut tokens = Vec::new();
        for a in ACCOUNTS {
            tokens.push((*a, app.login(a).await));
        }
        let before = app.fingerprint();
        for (method, path, body, allowed) in &endpoints {
            let anon = app.req(method.clone(), path, None, body.clone()).await;
            assert_eq!(anon.status, 401, "{method} {path} anonymous: {}", anon.body);
            for (who, token) in &tokens {
                if allowed.contains(who) {
                    continue;
                }
                let r = app
                    .req(method.clone(), path, Some(token), body.clone())
                    .await;
                assert!(
                    matches!(r.status.as_u16(), 403 | 404),
                    "{method} {path} as {who}: {} {}",
                    r.status,
                    r.body
                );
            }
        }
        // Sign-ins add sessions; nothing else changed.
        let after = app.fingerprint();
        let strip = |f: Vec<(String, i64, i64)>| {
            f.into_iter()
                .filter(|(t, _, _)| t != "sessions" && t != "login_attempts")
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(before), strip(after));
    }
);

both!(
    administrators_act_only_in_their_own_region,
    |app: TestApp| async move {
        let admin = app.login("admin").await;
        // A 电白 administrator and catalog administrator.
        let db_admin = staff(
            &app,
            &admin,
            "db-admin",
            "sys_admin",
            "茂名市电白区政务服务数据管理局",
        )
        .await;
        let db_catalog = staff(
            &app,
            &admin,
            "db-catalog",
            "catalog_admin",
            "茂名市电白区政务服务数据管理局",
        )
        .await;
        let before = app.fingerprint();
        let r = app
            .post(
                "/api/v1/regions",
                &db_admin,
                json!({"code": "440902102", "name": "新坡镇", "parent": "440902"}),
            )
            .await;
        assert_eq!(r.status, 403);
        let r = app
            .post(
                "/api/v1/departments",
                &db_admin,
                json!({"name": "测试局", "credit_code": "11440902MB2C12345X", "region": "440902"}),
            )
            .await;
        assert_eq!(r.status, 403);
        // A 茂南 account is not theirs to change.
        let accounts = app.get("/api/v1/accounts", &db_admin).await.expect(200);
        assert!(accounts.as_array().unwrap().iter().all(|a| {
            a["region"]
                .as_str()
                .is_some_and(|r| r.starts_with("440904"))
        }));
        let all = app.get("/api/v1/accounts", &admin).await.expect(200);
        let clerk = all
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == "clerk")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let r = app
            .req(
                Method::PATCH,
                &format!("/api/v1/accounts/{clerk}"),
                Some(&db_admin),
                Some(json!({"active": false})),
            )
            .await;
        assert_eq!(r.status, 404);
        // A 茂南 item is not theirs to edit.
        let item = app
            .item("茂名市茂南区市场监督管理局", "食品经营许可（新办）")
            .await;
        let r = app
            .post(
                &format!("/api/v1/items/{item}/status"),
                &db_catalog,
                json!({"change": "suspend"}),
            )
            .await;
        assert_eq!(r.status, 403);
        assert_eq!(before, app.fingerprint());
    }
);

both!(
    cases_are_seen_and_acted_on_only_within_scope,
    |app: TestApp| async move {
        let admin = app.login("admin").await;
        let clerk = app.login("clerk").await;
        let (_, body) = app.food_application().await;
        let c = app
            .post("/api/v1/cases", &clerk, body.clone())
            .await
            .expect(201);
        let (case, number) = (
            c["id"].as_i64().unwrap(),
            c["number"].as_str().unwrap().to_string(),
        );

        let db_reviewer = staff(
            &app,
            &admin,
            "db-reviewer",
            "dept_approver",
            "茂名市电白区市场监督管理局",
        )
        .await;
        let db_clerk = staff(
            &app,
            &admin,
            "db-clerk",
            "acceptance_clerk",
            "茂名市电白区政务服务数据管理局",
        )
        .await;
        let other_person = {
            app.req(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({"kind": "person", "identifier": "11010519491231002X",
            "name": "李四", "phone": "13900139000", "password": PW})),
            )
            .await
            .expect(201);
            app.login("11010519491231002X").await
        };
        let wjj = app.login("wjj-reviewer").await;
        let operator = app.login("operator").await;
        let supervisor = app.login("supervisor").await;
        let me = app.login(tongban::demo::DEMO_PERSON_ID).await;

        let before = app.fingerprint();
        // Outside the scope the case does not exist: 404 on read, on its log, by number, on acting.
        for (who, t) in [
            ("电白 approver", &db_reviewer),
            ("电白 clerk", &db_clerk),
            ("other applicant", &other_person),
            ("wrong department", &wjj),
            ("not the applicant", &me),
        ] {
            assert_eq!(
                app.get(&format!("/api/v1/cases/{case}"), t).await.status,
                404,
                "{who}"
            );
            assert_eq!(
                app.get(&format!("/api/v1/cases/{case}/events"), t)
                    .await
                    .status,
                404,
                "{who}"
            );
            assert_eq!(
                app.get(&format!("/api/v1/cases/by-number/{number}"), t)
                    .await
                    .status,
                404,
                "{who}"
            );
            assert_eq!(
                app.act(t, case, json!({"action": "accept"})).await.status,
                404,
                "{who}"
            );
            let list = app.get("/api/v1/cases?limit=200", t).await.expect(200);
            assert!(
                list["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|c| c["id"] != case),
                "{who} lists it"
            );
        }
        // Hotline staff do not see cases at all.
        assert_eq!(app.get("/api/v1/cases", &operator).await.status, 403);
        // The supervisor sees but may not act.
        app.get(&format!("/api/v1/cases/{case}"), &supervisor)
            .await
            .expect(200);
        assert_eq!(
            app.act(&supervisor, case, json!({"action": "accept"}))
                .await
                .status,
            403
        );
        // A 电白 clerk may not receive a 茂南 item; an applicant may not file "at the window".
        assert_eq!(
            app.post("/api/v1/cases", &db_clerk, body.clone())
                .await
                .status,
            403
        );
        let mut online = body.clone();
        online["channel"] = json!("window");
        assert_eq!(app.post("/api/v1/cases", &me, online).await.status, 403);
        // Nor may an applicant file online in someone else's name (the applicant field is refused).
        let mut theirs = body.clone();
        theirs["channel"] = json!("online");
        assert_eq!(app.post("/api/v1/cases", &me, theirs).await.status, 422);
        assert_eq!(before, app.fingerprint());
    }
);

both!(signing_out_ends_the_session, |app: TestApp| async move {
    let t = app.login("clerk").await;
    app.get("/api/v1/auth/me", &t).await.expect(200);
    app.post("/api/v1/auth/logout", &t, json!({}))
        .await
        .expect(204);
    assert_eq!(app.get("/api/v1/auth/me", &t).await.status, 401);
    assert_eq!(app.get("/api/v1/cases", &t).await.status, 401);
    assert_eq!(
        app.req(Method::GET, "/api/v1/cases", Some("not-a-token"), None)
            .await
            .status,
        401
    );
});

both!(
    a_county_administrator_cannot_staff_a_city_department,
    |app: TestApp| async move {
        let admin = app.login("admin").await;
        let county_admin = staff(
            &app,
            &admin,
            "mn-admin",
            "sys_admin",
            "茂名市茂南区政务服务数据管理局",
        )
        .await;
        let depts = app
            .req(Method::GET, "/api/v1/departments", None, None)
            .await
            .expect(200);
        let city_scjg = depts
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "茂名市市场监督管理局")
            .unwrap()["id"]
            .clone();
        let before = app.fingerprint();
        let r = app
            .post(
                "/api/v1/accounts",
                &county_admin,
                json!({"username": "sneaky", "name": "x", "role": "dept_approver",
            "department_id": city_scjg, "region": "440902", "password": PW}),
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(before, app.fingerprint());
    }
);

both!(
    applicant_records_are_not_browsable_by_id,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let agent = app.login("agent").await;
        let admin = app.login("admin").await;
        let me = app.login(tongban::demo::DEMO_PERSON_ID).await;
        let found = app
            .get(
                &format!(
                    "/api/v1/applicants?identifier={}",
                    tongban::demo::DEMO_PERSON_ID
                ),
                &clerk,
            )
            .await
            .expect(200);
        assert_eq!(
            found["phone"], "13800138000",
            "the clerk holding the document sees the record"
        );
        let id = found["id"].as_i64().unwrap();
        // By id: only the applicant itself and a system administrator.
        assert_eq!(
            app.get(&format!("/api/v1/applicants/{id}"), &clerk)
                .await
                .status,
            404
        );
        app.get(&format!("/api/v1/applicants/{id}"), &me)
            .await
            .expect(200);
        app.get(&format!("/api/v1/applicants/{id}"), &admin)
            .await
            .expect(200);
        // An agent confirms who a resident is, but not their phone.
        let seen = app
            .get(
                &format!(
                    "/api/v1/applicants?identifier={}",
                    tongban::demo::DEMO_PERSON_ID
                ),
                &agent,
            )
            .await
            .expect(200);
        assert_eq!(seen["phone"], "138****8000");
    }
);

both!(
    registering_over_a_window_applicant_needs_the_phone_on_record,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let item = app.item("茂名市茂南区卫生健康局", "生育登记").await;
        let mut body = app.full_application(item, "window").await;
        body["applicant"] = json!({"kind": "person", "identifier": "11010519491231002X", "name": "李四", "phone": "13900139000"});
        app.post("/api/v1/cases", &clerk, body).await.expect(201);
        let reg = |phone: &str| {
            app.req(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({"kind": "person",
            "identifier": "11010519491231002X", "name": "李四", "phone": phone, "password": PW})),
            )
        };
        let r = reg("13700137000").await;
        assert_eq!(r.fields(), ["phone"]);
        reg("13900139000").await.expect(201);
    }
);
