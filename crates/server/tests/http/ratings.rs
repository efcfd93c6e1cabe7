//! 好差评 and supervision over HTTP: the rating rules (once, only the applicant, only
//! after the case ends), rating links from the window, the 差评 loop to its call-back and
//! re-rating, an upheld appeal, warnings over working days with their 督办 orders, and
//! every endpoint against the wrong user.

use axum::http::Method;
use serde_json::{Value, json};

use crate::app::*;
use crate::both;

const SCJG: &str = "茂名市茂南区市场监督管理局";
const FOOD: &str = "食品经营许可（新办）";

/// A 食品经营许可 case of the demo person, received at the window Monday 23 Nov.
async fn received(app: &TestApp) -> i64 {
    let clerk = app.login("clerk").await;
    let food = app.item(SCJG, FOOD).await;
    let mut body = app.full_application(food, "window").await;
    body["applicant"] = person();
    app.post("/api/v1/cases", &clerk, body).await.expect(201)["id"]
        .as_i64()
        .unwrap()
}

/// The case taken to 送达 (delivered at the window).
async fn delivered(app: &TestApp) -> i64 {
    let case = received(app).await;
    let reviewer = app.login("reviewer").await;
    let approver = app.login("approver").await;
    let issuer = app.login("issuer").await;
    for (who, a) in [
        (&reviewer, json!({"action": "accept"})),
        (
            &reviewer,
            json!({"action": "review", "opinion": "符合", "recommend_approval": true}),
        ),
        (&approver, json!({"action": "approve", "opinion": "同意"})),
        (
            &reviewer,
            json!({"action": "produce_result", "number": "JY14409020009999", "valid_until": "2031-11-23"}),
        ),
        (&issuer, json!({"action": "check_result_ok"})),
        (
            &issuer,
            json!({"action": "deliver_pickup", "signed_by": "张伟"}),
        ),
    ] {
        app.act(who, case, a).await.expect(200);
    }
    case
}

fn bad_rating() -> Value {
    json!({"level": "very_dissatisfied", "reasons": [108, 113], "comment": "窗口要求提供指南以外的房屋平面图，跑了三趟"})
}

both!(
    a_case_is_rated_once_by_its_applicant_after_it_ends,
    |app: TestApp| async move {
        let person = app.login(tongban::demo::DEMO_PERSON_ID).await;
        let enterprise = app.login(tongban::demo::DEMO_ENTERPRISE_CODE).await;
        let clerk = app.login("clerk").await;
        let case = received(&app).await;
        let good = json!({"level": "very_satisfied", "reasons": [511, 504], "comment": ""});
        // Not yet ended.
        let r = app
            .post(
                &format!("/api/v1/cases/{case}/rating"),
                &person,
                good.clone(),
            )
            .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (409, "invalid_transition"),
            "{}",
            r.body
        );
        let case = delivered(&app).await;
        let fp = app.fingerprint();
        // Not the applicant: another applicant does not see it, staff may not rate.
        let r = app
            .post(
                &format!("/api/v1/cases/{case}/rating"),
                &enterprise,
                good.clone(),
            )
            .await;
        assert_eq!(r.status, 404);
        let r = app
            .post(
                &format!("/api/v1/cases/{case}/rating"),
                &clerk,
                good.clone(),
            )
            .await;
        assert_eq!(r.status, 403);
        // Bad input is named.
        let r = app
            .post(
                &format!("/api/v1/cases/{case}/rating"),
                &person,
                json!({"level": "satisfied", "reasons": [108]}),
            )
            .await;
        assert_eq!(r.fields(), ["reasons[0]"]);
        let r = app
            .post(
                &format!("/api/v1/cases/{case}/rating"),
                &person,
                json!({"level": "dissatisfied"}),
            )
            .await;
        assert_eq!(r.fields(), ["comment", "reasons"]);
        assert_eq!(app.fingerprint(), fp);
        // Rated, bound to the case, item, department, window and the clerk who received it.
        let v = app
            .post(
                &format!("/api/v1/cases/{case}/rating"),
                &person,
                good.clone(),
            )
            .await
            .expect(201);
        assert_eq!(v["rating"]["level"], "very_satisfied");
        assert!(v["task"].is_null(), "a good rating opens no task");
        assert!(!v["rating"]["window_id"].is_null());
        let accounts = app
            .get("/api/v1/accounts", &app.login("admin").await)
            .await
            .expect(200);
        let clerk_id = accounts
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == "clerk")
            .unwrap()["id"]
            .clone();
        assert_eq!(v["rating"]["staff_id"], clerk_id);
        // Once.
        let r = app
            .post(&format!("/api/v1/cases/{case}/rating"), &person, good)
            .await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "conflict"));
        // Who sees it.
        assert_eq!(
            app.get(&format!("/api/v1/cases/{case}/rating"), &person)
                .await
                .status,
            200
        );
        assert_eq!(
            app.get(
                &format!("/api/v1/cases/{case}/rating"),
                &app.login("reviewer").await
            )
            .await
            .status,
            200
        );
        assert_eq!(
            app.get(
                &format!("/api/v1/cases/{case}/rating"),
                &app.login("supervisor").await
            )
            .await
            .status,
            200
        );
        for who in [
            "wjj-reviewer",
            tongban::demo::DEMO_ENTERPRISE_CODE,
            "clerk",
            "catalog",
        ] {
            assert_eq!(
                app.get(
                    &format!("/api/v1/cases/{case}/rating"),
                    &app.login(who).await
                )
                .await
                .status,
                404,
                "{who}"
            );
        }
    }
);

both!(
    the_window_tablet_and_the_sms_link_rate_once,
    |app: TestApp| async move {
        let case = delivered(&app).await;
        let clerk = app.login("clerk").await;
        let person = app.login(tongban::demo::DEMO_PERSON_ID).await;
        // Only window clerks invite.
        let r = app
            .post(
                &format!("/api/v1/cases/{case}/rating-invitations"),
                &person,
                json!({"channel": "window_tablet"}),
            )
            .await;
        assert_eq!(r.status, 403);
        let sms = app
            .post(
                &format!("/api/v1/cases/{case}/rating-invitations"),
                &clerk,
                json!({"channel": "sms"}),
            )
            .await
            .expect(201);
        assert!(
            sms["sms_text"].as_str().unwrap().contains("/rate/"),
            "{sms}"
        );
        assert_eq!(sms["phone"], "138****8000");
        let tablet = app
            .post(
                &format!("/api/v1/cases/{case}/rating-invitations"),
                &clerk,
                json!({"channel": "window_tablet"}),
            )
            .await
            .expect(201);
        let token = tablet["path"]
            .as_str()
            .unwrap()
            .trim_start_matches("/rate/")
            .to_string();
        let link = app
            .req(
                Method::GET,
                &format!("/api/v1/rating-links/{token}"),
                None,
                None,
            )
            .await
            .expect(200);
        assert_eq!(link["item_name"], FOOD);
        assert!(link.get("applicant").is_none());
        let rated = app
            .req(
                Method::POST,
                &format!("/api/v1/rating-links/{token}"),
                None,
                Some(json!({"level": "satisfied", "reasons": [402]})),
            )
            .await
            .expect(201);
        assert_eq!(rated["rectification"], false);
        let v = app
            .get(&format!("/api/v1/cases/{case}/rating"), &person)
            .await
            .expect(200);
        assert_eq!(v["rating"]["channel"], "window_tablet");
        // Every link of the case is used up, the SMS one too.
        let sms_token = sms["path"]
            .as_str()
            .unwrap()
            .trim_start_matches("/rate/")
            .to_string();
        for t in [token, sms_token, "not-a-token".to_string()] {
            let r = app
                .req(
                    Method::GET,
                    &format!("/api/v1/rating-links/{t}"),
                    None,
                    None,
                )
                .await;
            assert_eq!(r.status, 404);
        }
        // No new invitation for a rated case.
        let r = app
            .post(
                &format!("/api/v1/cases/{case}/rating-invitations"),
                &clerk,
                json!({"channel": "sms"}),
            )
            .await;
        assert_eq!(r.status, 409);
    }
);

both!(
    a_bad_rating_is_rectified_reviewed_called_back_and_rated_again,
    |app: TestApp| async move {
        let case = delivered(&app).await;
        let person = app.login(tongban::demo::DEMO_PERSON_ID).await;
        let reviewer = app.login("reviewer").await;
        let other = app.login("wjj-reviewer").await;
        let supervisor = app.login("supervisor").await;
        let v = app
            .post(
                &format!("/api/v1/cases/{case}/rating"),
                &person,
                bad_rating(),
            )
            .await
            .expect(201);
        let task = v["task"].clone();
        assert_eq!(task["state"], "pending");
        // Rated Monday 23 Nov: ten working days → Monday 7 December.
        assert_eq!(task["due"], "2026-12-07");
        let t = task["id"].as_i64().unwrap();
        let path = format!("/api/v1/rectifications/{t}/actions");
        // The department's inbox of tasks, not another department's.
        let mine = app
            .get("/api/v1/rectifications", &reviewer)
            .await
            .expect(200);
        assert_eq!(mine.as_array().unwrap().len(), 1);
        assert!(
            app.get("/api/v1/rectifications", &other)
                .await
                .expect(200)
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            app.post(&path, &other, json!({"action": "start"}))
                .await
                .status,
            404
        );
        assert_eq!(
            app.post(&path, &supervisor, json!({"action": "start"}))
                .await
                .status,
            403
        );
        // A re-rating before the rectification is refused.
        let r = app
            .post(
                &format!("/api/v1/cases/{case}/rating/again"),
                &person,
                json!({"level": "satisfied"}),
            )
            .await;
        assert_eq!(r.status, 409);
        app.post(
            &path,
            &reviewer,
            json!({"action": "start", "note": "已核实：窗口多要了材料"}),
        )
        .await
        .expect(200);
        let r = app
            .post(
                &path,
                &reviewer,
                json!({"action": "report_rectified", "measures": " "}),
            )
            .await;
        assert_eq!(r.fields(), ["measures"]);
        // A stale version is a conflict.
        let r = app
            .post(
                &path,
                &reviewer,
                json!({"action": "report_rectified", "measures": "x", "expected_version": 1}),
            )
            .await;
        assert_eq!(r.status, 409);
        app.advance_days(2);
        app.post(
            &path,
            &reviewer,
            json!({"action": "report_rectified", "measures": "已删除指南外的要求，对窗口人员培训"}),
        )
        .await
        .expect(200);
        // A supervisor sends it back once, then approves.
        assert_eq!(
            app.post(&path, &reviewer, json!({"action": "approve"}))
                .await
                .status,
            403
        );
        app.post(
            &path,
            &supervisor,
            json!({"action": "reject", "reason": "请附上培训记录"}),
        )
        .await
        .expect(200);
        app.post(
            &path,
            &reviewer,
            json!({"action": "report_rectified", "measures": "已附培训签到表"}),
        )
        .await
        .expect(200);
        let done = app
            .post(
                &path,
                &supervisor,
                json!({"action": "approve", "note": "同意"}),
            )
            .await
            .expect(200);
        assert_eq!(done["state"], "rectified");
        assert_eq!(done["reported_on_time"], true);
        // Call-backs: one unanswered, then reached and satisfied.
        let operator = app.login("operator").await;
        let c = app
            .post(
                &path,
                &operator,
                json!({"action": "call_back", "reached": false}),
            )
            .await
            .expect(200);
        assert_eq!(c["state"], "rectified");
        let c = app
            .post(
                &path,
                &supervisor,
                json!({"action": "call_back", "reached": true, "satisfied": true, "note": "满意"}),
            )
            .await
            .expect(200);
        assert_eq!(c["state"], "closed");
        assert_eq!(c["call_backs"].as_array().unwrap().len(), 2);
        let r = app
            .post(&path, &supervisor, json!({"action": "approve"}))
            .await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "invalid_transition"));
        // Rated again, once.
        let again = app
            .post(
                &format!("/api/v1/cases/{case}/rating/again"),
                &person,
                json!({"level": "satisfied", "comment": "整改后满意"}),
            )
            .await
            .expect(200);
        assert_eq!(again["rating"]["rerating"]["level"], "satisfied");
        assert_eq!(
            again["rating"]["level"], "very_dissatisfied",
            "the first rating stays"
        );
        assert_eq!(
            app.post(
                &format!("/api/v1/cases/{case}/rating/again"),
                &person,
                json!({"level": "satisfied"})
            )
            .await
            .status,
            409
        );
        // The public summary counts it, with its rectification.
        let p = app
            .req(
                Method::GET,
                "/api/v1/ratings/public?from=2026-11&to=2026-11",
                None,
                None,
            )
            .await
            .expect(200);
        let d = p
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["department"] == SCJG)
            .unwrap()
            .clone();
        assert_eq!(d["ratings"], 1);
        assert_eq!(d["levels"][4], 1);
        assert_eq!(d["bad_rate"], 1.0);
        assert_eq!(d["rectified"], 1);
    }
);

both!(
    an_appeal_upheld_sets_the_rating_aside,
    |app: TestApp| async move {
        let case = delivered(&app).await;
        let person = app.login(tongban::demo::DEMO_PERSON_ID).await;
        let reviewer = app.login("reviewer").await;
        let supervisor = app.login("supervisor").await;
        let v = app
            .post(
                &format!("/api/v1/cases/{case}/rating"),
                &person,
                bad_rating(),
            )
            .await
            .expect(201);
        let t = v["task"]["id"].as_i64().unwrap();
        let path = format!("/api/v1/rectifications/{t}/actions");
        let r = app
            .post(&path, &reviewer, json!({"action": "appeal"}))
            .await;
        assert_eq!(r.fields(), ["reason"]);
        app.post(
            &path,
            &reviewer,
            json!({"action": "appeal", "reason": "评价内容与本办件无关（申请人反映的是另一部门）"}),
        )
        .await
        .expect(200);
        // Rejected: back to where it was.
        let back = app
            .post(
                &path,
                &supervisor,
                json!({"action": "reject_appeal", "reason": "经核实与本办件有关"}),
            )
            .await
            .expect(200);
        assert_eq!(back["state"], "pending");
        app.post(
            &path,
            &reviewer,
            json!({"action": "appeal", "reason": "有新证据：监控录像"}),
        )
        .await
        .expect(200);
        let up = app
            .post(
                &path,
                &supervisor,
                json!({"action": "uphold_appeal", "reason": "录像显示窗口按指南收件"}),
            )
            .await
            .expect(200);
        assert_eq!(up["state"], "appeal_upheld");
        let v = app
            .get(&format!("/api/v1/cases/{case}/rating"), &supervisor)
            .await
            .expect(200);
        assert_eq!(v["rating"]["invalid"], true);
        let p = app
            .req(
                Method::GET,
                "/api/v1/ratings/public?from=2026-11&to=2026-11",
                None,
                None,
            )
            .await
            .expect(200);
        let d = p
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["department"] == SCJG);
        assert!(d.is_none_or(|d| d["ratings"] == 0), "{p}");
    }
);

/// The marks of a case: (clock, due date, level).
async fn marks(app: &TestApp, case: i64) -> Vec<(String, String, String)> {
    app.state
        .db
        .read(move |tx| tx.marks_of(tongban_core::supervision::Subject::Case, case))
        .await
        .unwrap()
        .into_iter()
        .map(|(c, d, l)| (c, d.to_string(), format!("{l:?}")))
        .collect()
}

both!(
    clocks_turn_yellow_then_red_over_working_days_and_red_opens_one_order,
    |app: TestApp| async move {
        // Received Monday 23 Nov: the acceptance clock ends Wednesday 25 Nov.
        let case = received(&app).await;
        let supervisor = app.login("supervisor").await;
        let reviewer = app.login("reviewer").await;
        let sweep = || async {
            app.post("/api/v1/supervision/sweep", &supervisor, json!({}))
                .await
                .expect(200)
        };
        let acceptance = |level: &str| {
            vec![(
                "acceptance".to_string(),
                "2026-11-25".to_string(),
                level.to_string(),
            )]
        };
        let orders_of_case = || async {
            app.get("/api/v1/supervision/orders", &supervisor)
                .await
                .expect(200)
                .as_array()
                .unwrap()
                .iter()
                .filter(|o| o["subject_id"].as_i64() == Some(case))
                .cloned()
                .collect::<Vec<_>>()
        };
        // Monday: two working days left (yellow at one): nothing.
        sweep().await;
        assert!(marks(&app, case).await.is_empty());
        // Tuesday: one working day left → yellow; no order.
        app.advance_days(1);
        sweep().await;
        assert_eq!(marks(&app, case).await, acceptance("Yellow"));
        assert!(orders_of_case().await.is_empty());
        // Thursday: past the deadline → red, one 督办 order to the department; a second
        // sweep opens none.
        app.advance_days(2);
        sweep().await;
        sweep().await;
        assert_eq!(marks(&app, case).await, acceptance("Red"));
        let orders = orders_of_case().await;
        assert_eq!(
            orders.len(),
            1,
            "one order per clock and deadline: {orders:?}"
        );
        let o = &orders[0];
        assert_eq!(o["clock"], "acceptance");
        assert_eq!(o["due"], "2026-11-25");
        assert_eq!(o["state"], "open");
        let id = o["id"].as_i64().unwrap();
        // The department sees it; another department does not.
        let mine = app
            .get("/api/v1/supervision/orders?state=open", &reviewer)
            .await
            .expect(200);
        assert!(
            mine.as_array()
                .unwrap()
                .iter()
                .any(|o| o["id"].as_i64() == Some(id))
        );
        let other = app
            .get(
                "/api/v1/supervision/orders",
                &app.login("wjj-reviewer").await,
            )
            .await
            .expect(200);
        assert!(
            !other
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["id"].as_i64() == Some(id))
        );
        // The department answers; the supervisor closes.
        let path = format!("/api/v1/supervision/orders/{id}/actions");
        assert_eq!(
            app.post(&path, &supervisor, json!({"action": "answer", "text": "x"}))
                .await
                .status,
            403
        );
        let r = app
            .post(&path, &supervisor, json!({"action": "close"}))
            .await;
        assert_eq!(r.status, 409, "not answered yet");
        app.post(
            &path,
            &reviewer,
            json!({"action": "answer", "text": "申请人补充材料延误，今日受理"}),
        )
        .await
        .expect(200);
        let closed = app
            .post(
                &path,
                &supervisor,
                json!({"action": "close", "text": "已督促"}),
            )
            .await
            .expect(200);
        assert_eq!(closed["state"], "closed");
    }
);

both!(
    a_friday_deadline_turns_yellow_on_thursday_and_red_once_friday_is_over,
    |app: TestApp| async move {
        // Received Wednesday 25 Nov: acceptance ends Friday 27 Nov (two working days).
        // Wednesday has two working days left (nothing), Thursday one (yellow), Friday
        // is the last day (still yellow), Saturday is past it (red).
        app.advance_days(2);
        let case = received(&app).await;
        let supervisor = app.login("supervisor").await;
        let sweep = || async {
            app.post("/api/v1/supervision/sweep", &supervisor, json!({}))
                .await
                .expect(200)
        };
        let level = || async { marks(&app, case).await.first().map(|m| m.2.clone()) };
        sweep().await;
        assert_eq!(level().await, None);
        app.advance_days(1); // Thursday
        sweep().await;
        assert_eq!(level().await.as_deref(), Some("Yellow"));
        app.advance_days(1); // Friday: the last day
        sweep().await;
        assert_eq!(level().await.as_deref(), Some("Yellow"));
        app.advance_days(1); // Saturday: past the end of Friday
        sweep().await;
        assert_eq!(level().await.as_deref(), Some("Red"));
    }
);

both!(
    a_rectification_past_its_due_date_is_overdue_and_supervised,
    |app: TestApp| async move {
        let case = delivered(&app).await;
        let person = app.login(tongban::demo::DEMO_PERSON_ID).await;
        let supervisor = app.login("supervisor").await;
        let admin = app.login("admin").await;
        // A shorter period: 3 working days.
        let fp = app.fingerprint();
        let r = app
            .req(
                Method::PUT,
                "/api/v1/supervision/settings",
                Some(&supervisor),
                Some(json!({"rectification_days": 3, "open_orders": true})),
            )
            .await;
        assert_eq!(r.status, 403);
        let r = app
            .req(
                Method::PUT,
                "/api/v1/supervision/settings",
                Some(&admin),
                Some(json!({"rectification_days": 0, "open_orders": true})),
            )
            .await;
        assert_eq!(r.fields(), ["rectification_days"]);
        assert_eq!(app.fingerprint(), fp);
        app.req(
            Method::PUT,
            "/api/v1/supervision/settings",
            Some(&admin),
            Some(json!({"rectification_days": 3, "open_orders": true})),
        )
        .await
        .expect(200);
        let v = app
            .post(
                &format!("/api/v1/cases/{case}/rating"),
                &person,
                bad_rating(),
            )
            .await
            .expect(201);
        // Monday 23 Nov + 3 working days = Thursday 26 Nov.
        assert_eq!(v["task"]["due"], "2026-11-26");
        let t = v["task"]["id"].as_i64().unwrap();
        // Friday 27: overdue.
        app.advance_days(4);
        let s = app
            .post("/api/v1/supervision/sweep", &supervisor, json!({}))
            .await
            .expect(200);
        assert_eq!(s["tasks_overdue"], 1, "{s}");
        let task = app
            .get(&format!("/api/v1/rectifications/{t}"), &supervisor)
            .await
            .expect(200);
        assert_eq!(task["task"]["overdue_since"], "2026-11-27");
        let orders = app
            .get("/api/v1/supervision/orders", &supervisor)
            .await
            .expect(200);
        assert!(
            orders
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["subject"] == "rectification" && o["subject_id"].as_i64() == Some(t)),
            "{orders}"
        );
        // Reported now: late.
        let reviewer = app.login("reviewer").await;
        let path = format!("/api/v1/rectifications/{t}/actions");
        app.post(&path, &reviewer, json!({"action": "start"}))
            .await
            .expect(200);
        let r = app
            .post(
                &path,
                &reviewer,
                json!({"action": "report_unrectifiable", "reason": "法规要求，无法取消该材料"}),
            )
            .await
            .expect(200);
        assert_eq!(r["reported_on_time"], false);
    }
);

both!(
    rating_and_supervision_endpoints_refuse_the_wrong_user,
    |app: TestApp| async move {
        let before = app.fingerprint();
        for (method, path) in [
            (Method::GET, "/api/v1/ratings"),
            (Method::GET, "/api/v1/rectifications"),
            (Method::GET, "/api/v1/supervision/orders"),
            (Method::GET, "/api/v1/supervision/settings"),
            (Method::POST, "/api/v1/supervision/sweep"),
            (Method::POST, "/api/v1/cases/1/rating"),
            (Method::POST, "/api/v1/cases/1/rating-invitations"),
        ] {
            let r = app.req(method.clone(), path, None, Some(json!({}))).await;
            assert_eq!(r.status, 401, "{method} {path}");
        }
        for who in [tongban::demo::DEMO_PERSON_ID, "clerk", "catalog", "issuer"] {
            let t = app.login(who).await;
            for path in [
                "/api/v1/ratings",
                "/api/v1/rectifications",
                "/api/v1/supervision/orders",
                "/api/v1/supervision/settings",
            ] {
                assert_eq!(app.get(path, &t).await.status, 403, "{who} {path}");
            }
            assert_eq!(
                app.post("/api/v1/supervision/sweep", &t, json!({}))
                    .await
                    .status,
                403,
                "{who}"
            );
        }
        // Public: the reasons and the summary.
        let reasons = app
            .req(Method::GET, "/api/v1/rating-reasons", None, None)
            .await
            .expect(200);
        assert_eq!(reasons.as_array().unwrap().len(), 5);
        app.req(Method::GET, "/api/v1/ratings/public", None, None)
            .await
            .expect(200);
        let bad = app
            .req(
                Method::GET,
                "/api/v1/ratings/public?from=2026-13",
                None,
                None,
            )
            .await;
        assert_eq!(bad.fields(), ["from"]);
        let strip = |f: Vec<(String, i64, i64)>| {
            f.into_iter()
                .filter(|(t, _, _)| t != "sessions")
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(app.fingerprint()), strip(before));
    }
);
