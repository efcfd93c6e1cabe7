//! KPIs over HTTP on a known dataset: the figures come out of the rollups as counted by
//! hand; the department sees only its own; the spreadsheet, the window assessment with
//! a deduction, the dashboard and its drill-downs.

use axum::http::Method;
use serde_json::{Value, json};

use crate::app::*;
use crate::both;

const SCJG: &str = "茂名市茂南区市场监督管理局";
const FOOD: &str = "食品经营许可（新办）";

/// December 2026 in the demo county (the demo's own cases are in November): four
/// 食品经营许可 applications — three at the comprehensive window, one online; two
/// decided on time and delivered; one rated 非常满意, one 不满意 and rectified on
/// time and called back.
async fn december(app: &TestApp) -> Vec<i64> {
    app.advance_days(8); // Tuesday 1 December
    let clerk = app.login("clerk").await;
    let me = app.login(tongban::demo::DEMO_PERSON_ID).await;
    let reviewer = app.login("reviewer").await;
    let approver = app.login("approver").await;
    let issuer = app.login("issuer").await;
    let food = app.item(SCJG, FOOD).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut body = app.full_application(food, "window").await;
        body["applicant"] = person();
        ids.push(
            app.post("/api/v1/cases", &clerk, body).await.expect(201)["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let online = app
        .post(
            "/api/v1/cases",
            &me,
            app.full_application(food, "online").await,
        )
        .await
        .expect(201);
    let online = online["id"].as_i64().unwrap();
    app.act(&clerk, online, json!({"action": "pre_review_pass"}))
        .await
        .expect(200);
    for &case in &ids[..2] {
        for (who, a) in [
            (&reviewer, json!({"action": "accept"})),
            (
                &reviewer,
                json!({"action": "review", "opinion": "符合", "recommend_approval": true}),
            ),
            (&approver, json!({"action": "approve", "opinion": "同意"})),
            (
                &reviewer,
                json!({"action": "produce_result", "number": format!("JY1440902{case:07}"), "valid_until": "2031-12-01"}),
            ),
            (&issuer, json!({"action": "check_result_ok"})),
            (
                &issuer,
                json!({"action": "deliver_pickup", "signed_by": "张伟"}),
            ),
        ] {
            app.act(who, case, a).await.expect(200);
        }
    }
    app.post(
        &format!("/api/v1/cases/{}/rating", ids[0]),
        &me,
        json!({"level": "very_satisfied", "reasons": [503]}),
    )
    .await
    .expect(201);
    let bad = app
        .post(
            &format!("/api/v1/cases/{}/rating", ids[1]),
            &me,
            json!({"level": "dissatisfied", "reasons": [205], "comment": "排队一个多小时"}),
        )
        .await
        .expect(201);
    let t = bad["task"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/rectifications/{t}/actions");
    let supervisor = app.login("supervisor").await;
    app.post(&path, &reviewer, json!({"action": "start"}))
        .await
        .expect(200);
    app.post(
        &path,
        &reviewer,
        json!({"action": "report_rectified", "measures": "增开一个窗口，高峰期引导分流"}),
    )
    .await
    .expect(200);
    app.post(&path, &supervisor, json!({"action": "approve"}))
        .await
        .expect(200);
    app.post(
        &path,
        &supervisor,
        json!({"action": "call_back", "reached": true, "satisfied": true}),
    )
    .await
    .expect(200);
    app.state
        .db
        .write(|tx| tx.fold_stats(100_000))
        .await
        .unwrap();
    ids.push(online);
    ids
}

fn row<'a>(r: &'a Value, label: &str) -> &'a Value {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["label"] == label)
        .unwrap_or_else(|| panic!("no row {label}: {r}"))
}

fn close(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-9)
}

both!(
    kpis_on_a_known_month_are_what_was_counted_by_hand,
    |app: TestApp| async move {
        december(&app).await;
        let supervisor = app.login("supervisor").await;
        let r = app
            .get("/api/v1/kpi?from=2026-12&to=2026-12", &supervisor)
            .await
            .expect(200);
        let d = row(&r, SCJG);
        assert_eq!(
            (d["received"].as_i64(), d["decided"].as_i64()),
            (Some(4), Some(2)),
            "{d}"
        );
        assert!(close(&d["on_time_rate"], 1.0), "{d}");
        assert!(close(&d["online_share"], 0.25), "{d}");
        assert!(close(&d["one_window_share"], 1.0), "{d}");
        assert!(
            close(&d["max_one_visit_share"], 1.0),
            "零跑腿 counts as at most one visit: {d}"
        );
        assert!(close(&d["immediate_share"], 0.0), "{d}");
        assert_eq!(
            (d["ratings"].as_i64(), d["bad"].as_i64()),
            (Some(2), Some(1))
        );
        assert!(close(&d["satisfaction_rate"], 0.5));
        assert!(close(&d["rectified_on_time_rate"], 1.0));
        assert!(close(&d["call_back_rate"], 1.0));
        assert_eq!(
            r["rows"].as_array().unwrap().len(),
            1,
            "only this department had anything in December"
        );
        assert_eq!(r["total"]["received"], 4);
        assert!(
            r["targets"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["figure"] == "online_share" && close(&t["value"], 0.9))
        );
        // Per window and per staff member: the three window cases, not the online one.
        let w = app
            .get("/api/v1/kpi?from=2026-12&to=2026-12&by=window", &supervisor)
            .await
            .expect(200);
        assert_eq!(w["rows"].as_array().unwrap().len(), 1);
        assert_eq!(w["rows"][0]["received"], 3);
        assert_eq!(
            w["rows"][0]["ratings"], 2,
            "both ratings bound to the receiving window"
        );
        let st = app
            .get("/api/v1/kpi?from=2026-12&to=2026-12&by=staff", &supervisor)
            .await
            .expect(200);
        assert_eq!(st["rows"][0]["label"], "李晓华");
        assert_eq!(st["rows"][0]["received"], 3);
        let items = app
            .get("/api/v1/kpi?from=2026-12&to=2026-12&by=item", &supervisor)
            .await
            .expect(200);
        assert_eq!(items["rows"][0]["label"], FOOD);
        let months = app
            .get("/api/v1/kpi?from=2026-11&to=2026-12&by=month", &supervisor)
            .await
            .expect(200);
        let keys: Vec<&str> = months["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["key"].as_str().unwrap())
            .collect();
        assert!(keys.contains(&"2026-12"));
        // Bad parameters are named.
        let bad = app
            .get("/api/v1/kpi?from=2026-12&to=2026-11", &supervisor)
            .await;
        assert_eq!(bad.fields(), ["to"]);
        let bad = app
            .get("/api/v1/kpi?from=2026-12&to=2026-12&by=planet", &supervisor)
            .await;
        assert_eq!(bad.fields(), ["by"]);
    }
);

both!(
    departments_see_their_own_figures_and_others_none,
    |app: TestApp| async move {
        december(&app).await;
        let reviewer = app.login("reviewer").await;
        let r = app
            .get("/api/v1/kpi?from=2026-11&to=2026-12", &reviewer)
            .await
            .expect(200);
        let rows = r["rows"].as_array().unwrap();
        assert!(rows.iter().all(|x| x["label"] == SCJG), "{r}");
        let other = app
            .get(
                "/api/v1/kpi?from=2026-12&to=2026-12",
                &app.login("wjj-reviewer").await,
            )
            .await
            .expect(200);
        assert!(other["rows"].as_array().unwrap().is_empty());
        assert_eq!(other["total"]["received"], 0);
        for who in ["clerk", "catalog", tongban::demo::DEMO_PERSON_ID, "issuer"] {
            let t = app.login(who).await;
            assert_eq!(
                app.get("/api/v1/kpi?from=2026-12&to=2026-12", &t)
                    .await
                    .status,
                403,
                "{who}"
            );
            assert_eq!(
                app.get("/api/v1/kpi/assessment?quarter=2026-Q4", &t)
                    .await
                    .status,
                403,
                "{who}"
            );
        }
        assert_eq!(
            app.get("/api/v1/kpi/assessment?quarter=2026-Q4", &reviewer)
                .await
                .status,
            403
        );
        assert_eq!(
            app.req(
                Method::GET,
                "/api/v1/kpi?from=2026-12&to=2026-12",
                None,
                None
            )
            .await
            .status,
            401
        );
        // The spreadsheet has the same numbers.
        let supervisor = app.login("supervisor").await;
        let bytes = {
            let req = axum::http::Request::builder()
                .uri("/api/v1/kpi/export?from=2026-12&to=2026-12")
                .header("authorization", format!("Bearer {supervisor}"))
                .body(axum::body::Body::empty())
                .unwrap();
            let resp = tower::ServiceExt::oneshot(app.router.clone(), req)
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            http_body_util::BodyExt::collect(resp.into_body())
                .await
                .unwrap()
                .to_bytes()
                .to_vec()
        };
        let wb = tongban_sheets::read(&bytes, "x").unwrap();
        let s = &wb.sheets[0];
        let line = s.rows.iter().find(|r| r[1] == SCJG).unwrap();
        assert_eq!(
            (line[2].as_str(), line[3].as_str(), line[7].as_str()),
            ("4", "2", "25.0%")
        );
    }
);

both!(
    the_window_assessment_scores_out_of_1000_and_takes_deductions,
    |app: TestApp| async move {
        december(&app).await;
        let supervisor = app.login("supervisor").await;
        let admin = app.login("admin").await;
        let a = app
            .get("/api/v1/kpi/assessment?quarter=2026-Q4", &supervisor)
            .await
            .expect(200);
        let list = a.as_array().unwrap();
        assert!(!list.is_empty());
        assert!(list.iter().all(|w| w["total"].as_f64().unwrap() <= 1000.0));
        let clerk_window = list
            .iter()
            .find(|w| w["window"].as_str().unwrap().contains("茂南区政务服务中心"))
            .unwrap()
            .clone();
        let id = clerk_window["window_id"].as_i64().unwrap();
        let before = clerk_window["total"].as_f64().unwrap();
        // A deduction: refused for others and for bad input, then taken.
        let body =
            json!({"window_id": id, "quarter": "2026-Q4", "points": 15, "reason": "上班时间脱岗"});
        assert_eq!(
            app.post("/api/v1/kpi/assessment/deductions", &admin, body.clone())
                .await
                .status,
            403
        );
        let r = app
            .post(
                "/api/v1/kpi/assessment/deductions",
                &supervisor,
                json!({"window_id": id, "quarter": "2026-Q9", "points": 0, "reason": ""}),
            )
            .await;
        let mut f = r.fields();
        f.sort();
        assert_eq!(f, ["points", "quarter", "reason"]);
        app.post("/api/v1/kpi/assessment/deductions", &supervisor, body)
            .await
            .expect(201);
        let a = app
            .get("/api/v1/kpi/assessment?quarter=2026-Q4", &supervisor)
            .await
            .expect(200);
        let after = a
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["window_id"].as_i64() == Some(id))
            .unwrap()["total"]
            .as_f64()
            .unwrap();
        assert!((before - after - 15.0).abs() < 0.11, "{before} → {after}");
        // The scheme must add up to 1000.
        let mut scheme = app
            .get("/api/v1/kpi/assessment/scheme", &supervisor)
            .await
            .expect(200);
        scheme["criteria"][0]["points"] = json!(300);
        let r = app
            .req(
                Method::PUT,
                "/api/v1/kpi/assessment/scheme",
                Some(&admin),
                Some(scheme.clone()),
            )
            .await;
        assert_eq!(r.fields(), ["criteria"]);
        scheme["criteria"][1]["points"] = json!(200);
        app.req(
            Method::PUT,
            "/api/v1/kpi/assessment/scheme",
            Some(&admin),
            Some(scheme.clone()),
        )
        .await
        .expect(200);
        assert_eq!(
            app.req(
                Method::PUT,
                "/api/v1/kpi/assessment/scheme",
                Some(&supervisor),
                Some(scheme)
            )
            .await
            .status,
            403
        );
    }
);

both!(
    the_dashboard_shows_the_figures_and_drills_down_to_the_cases_and_ratings,
    |app: TestApp| async move {
        let ids = december(&app).await;
        let supervisor = app.sign_in("supervisor").await;
        let page = app
            .page(&supervisor, "/dashboard?from=2026-12&to=2026-12")
            .await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains("网上申办率"));
        assert!(page.text.contains("25.0%"), "online share on the card");
        assert!(
            page.text.contains("未达标"),
            "25 % is under the 90 % target"
        );
        assert!(page.text.contains("id=\"kpi-data\""));
        assert!(page.text.contains("窗口千分制考核"));
        // Drill-down: the cases behind 收件 4.
        let dept = dept(&app, SCJG).await;
        let cases = app
            .page(
                &supervisor,
                &format!("/dashboard/cases?department_id={dept}&from=2026-12&to=2026-12"),
            )
            .await;
        assert_eq!(cases.status, 200);
        assert_eq!(cases.text.matches("/cases/").count(), 4, "{}", cases.text);
        for id in &ids {
            assert!(cases.text.contains(&format!("/cases/{id}\"")));
        }
        let ratings = app
            .page(
                &supervisor,
                &format!("/dashboard/ratings?department_id={dept}"),
            )
            .await;
        assert!(ratings.text.contains("排队一个多小时"));
        // A department's own dashboard; no assessment there; others refused.
        let reviewer = app.sign_in("reviewer").await;
        let mine = app
            .page(&reviewer, "/dashboard?from=2026-12&to=2026-12")
            .await;
        assert_eq!(mine.status, 200);
        assert!(!mine.text.contains("窗口千分制考核"));
        for who in ["clerk", "catalog", "admin"] {
            let b = app.sign_in(who).await;
            assert_eq!(app.page(&b, "/dashboard").await.status, 403, "{who}");
            assert_eq!(
                app.page(&b, "/dashboard/cases?from=2026-12&to=2026-12")
                    .await
                    .status,
                403,
                "{who}"
            );
        }
        // The public page.
        let public = app
            .req(Method::GET, "/ratings?from=2026-12&to=2026-12", None, None)
            .await;
        assert_eq!(public.status, 200);
        assert!(public.text.contains(SCJG));
        assert!(
            public.text.contains("50.0%"),
            "satisfaction of the department"
        );
        assert!(
            !public.text.contains("张伟"),
            "no personal data on the public page"
        );
    }
);
