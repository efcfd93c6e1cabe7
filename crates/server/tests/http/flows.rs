//! Whole case flows over HTTP, as the people in the hall would run them.

use serde_json::{Value, json};

use crate::app::*;
use crate::both;

const SCJG: &str = "茂名市茂南区市场监督管理局";
const WJJ: &str = "茂名市茂南区卫生健康局";
const FOOD: &str = "食品经营许可（新办）";

async fn receive(
    app: &TestApp,
    clerk: &str,
    item: i64,
    applicant: Value,
    tweak: impl FnOnce(&mut Value),
) -> Value {
    let mut body = app.full_application(item, "window").await;
    body["applicant"] = applicant;
    tweak(&mut body);
    app.post("/api/v1/cases", clerk, body).await.expect(201)
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

both!(
    a_promised_case_runs_from_receipt_to_archive,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let reviewer = app.login("reviewer").await;
        let approver = app.login("approver").await;
        let issuer = app.login("issuer").await;
        let food = app.item(SCJG, FOOD).await;

        // Monday 23 Nov: received at the window; the department has until Wednesday.
        let c = receive(&app, &clerk, food, enterprise(), |_| {}).await;
        let case = id(&c);
        assert_eq!(c["state"], "received");
        assert_eq!(
            (c["due"].as_str(), c["due_clock"].as_str()),
            (Some("2026-11-25"), Some("acceptance"))
        );
        assert_eq!(c["clocks"]["acceptance"]["deadline"], "2026-11-25");
        assert!(
            c["number"]
                .as_str()
                .unwrap()
                .starts_with("440902-20261123-")
        );
        assert_eq!(c["warning"], "none");

        // Tuesday: accepted; promised limit 5 working days → Tuesday 1 December.
        app.advance_days(1);
        let c = app
            .act(&reviewer, case, json!({"action": "accept"}))
            .await
            .expect(200);
        assert_eq!(c["state"], "under_review");
        assert_eq!(c["clocks"]["promised"]["deadline"], "2026-12-01");
        assert_eq!(c["clocks"]["legal"]["deadline"], "2026-12-22");
        assert_eq!(c["stage"], "review");
        app.act(&reviewer, case, json!({"action": "review", "opinion": "材料齐全，现场符合要求", "recommend_approval": true}))
        .await
        .expect(200);
        // A reviewer may not decide; the approver (科长一支笔) does.
        assert_eq!(
            app.act(&reviewer, case, json!({"action": "approve"}))
                .await
                .status,
            403
        );
        let c = app
            .act(
                &approver,
                case,
                json!({"action": "approve", "opinion": "同意"}),
            )
            .await
            .expect(200);
        assert_eq!(c["decision"]["outcome"], "approved");
        let c = app
        .act(&reviewer, case, json!({"action": "produce_result", "number": "JY14409020001234", "valid_until": "2031-11-23"}))
        .await
        .expect(200);
        assert_eq!(c["state"], "result_ready");
        assert_eq!(c["result"]["title"], "食品经营许可证");
        app.act(&issuer, case, json!({"action": "check_result_ok"}))
            .await
            .expect(200);
        let c = app
            .act(
                &issuer,
                case,
                json!({"action": "deliver_pickup", "signed_by": "张伟"}),
            )
            .await
            .expect(200);
        assert_eq!(c["state"], "delivered");
        assert_eq!(c["clocks"]["archive"]["deadline"], "2026-11-25");
        app.advance_days(1);
        let c = app
            .act(&issuer, case, json!({"action": "archive"}))
            .await
            .expect(200);
        assert_eq!(c["state"], "archived");
        assert!(!c["closed_at"].is_null());

        let events = app
            .get(&format!("/api/v1/cases/{case}/events"), &clerk)
            .await
            .expect(200);
        assert_eq!(
            actions(&events),
            [
                "receive",
                "accept",
                "review",
                "approve",
                "produce_result",
                "check_result_ok",
                "deliver_pickup",
                "archive"
            ]
        );
        assert_eq!(events[1]["actor_name"], "赵审查");
        // Nothing more can happen to an archived case.
        let r = app.act(&reviewer, case, json!({"action": "accept"})).await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "invalid_transition"));
    }
);

both!(
    a_rongque_case_is_written_off_when_the_material_comes,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let firm = app.login(tongban::demo::DEMO_ENTERPRISE_CODE).await;
        let food = app.item(SCJG, FOOD).await;
        let c = receive(&app, &clerk, food, enterprise(), |b| {
            set_material(b, "M03", json!({"status": "rongque"}))
        })
        .await;
        let case = id(&c);
        assert_eq!(c["commitments"][0]["materials"], json!(["M03"]));
        // 10 working days from Monday 23 November.
        assert_eq!(c["commitments"][0]["due"], "2026-12-07");
        // The applicant sees the case and supplies the material online.
        let mine = app.get("/api/v1/cases", &firm).await.expect(200);
        assert!(
            mine["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == case)
        );
        let c = app
            .act(
                &firm,
                case,
                json!({"action": "fulfil_commitment", "commitment": 1,
            "materials": [{"code": "M03", "status": "provided", "electronic": true}]}),
            )
            .await
            .expect(200);
        assert_eq!(c["commitments"][0]["status"], "fulfilled");
        assert_eq!(c["state"], "received", "a write-off does not move the case");
    }
);

both!(
    a_broken_rongque_commitment_ends_the_case_and_bars_the_applicant,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let admin = app.login("admin").await;
        let doctor = app.item(WJJ, "医师执业注册（首次注册）").await;
        let c = receive(&app, &clerk, doctor, person(), |b| {
            set_material(b, "M04", json!({"status": "rongque"}))
        })
        .await;
        let case = id(&c);
        assert_eq!(c["commitments"][0]["due"], "2026-11-30");
        // Not yet due: the sweep finds nothing.
        let r = app
            .post("/api/v1/admin/jobs/run", &admin, json!({}))
            .await
            .expect(200);
        assert_eq!(r["breaches"], 0);
        // Tuesday 1 December: overdue.
        app.advance_days(8);
        let r = app
            .post("/api/v1/admin/jobs/run", &admin, json!({}))
            .await
            .expect(200);
        assert_eq!(r["breaches"], 1);
        let c = app
            .get(&format!("/api/v1/cases/{case}"), &clerk)
            .await
            .expect(200);
        assert_eq!(c["state"], "terminated");
        assert_eq!(c["commitments"][0]["status"], "breached");
        let who = app
            .get(
                &format!(
                    "/api/v1/applicants?identifier={}",
                    tongban::demo::DEMO_PERSON_ID
                ),
                &clerk,
            )
            .await
            .expect(200);
        assert!(
            who["rongque_bar"]["reason"]
                .as_str()
                .unwrap()
                .contains("容缺承诺逾期未履行")
        );
        // Barred: a new 容缺 receipt is refused, naming why.
        let mut body = app.full_application(doctor, "window").await;
        body["applicant"] = person();
        set_material(&mut body, "M04", json!({"status": "rongque"}));
        let r = app.post("/api/v1/cases", &clerk, body.clone()).await;
        assert!(r.fields().contains(&"materials".to_string()));
        // An administrator lifts the bar; 容缺 works again.
        let aid = who["id"].as_i64().unwrap();
        app.post(
            &format!("/api/v1/applicants/{aid}/lift-rongque-bar"),
            &admin,
            json!({}),
        )
        .await
        .expect(200);
        app.post("/api/v1/cases", &clerk, body).await.expect(201);
    }
);

both!(
    a_correction_round_trip_is_told_once,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let reviewer = app.login("reviewer").await;
        let firm = app.login(tongban::demo::DEMO_ENTERPRISE_CODE).await;
        let food = app.item(SCJG, FOOD).await;
        let case = id(&receive(&app, &clerk, food, enterprise(), |_| {}).await);
        let c = app
            .act(
                &reviewer,
                case,
                json!({"action": "request_correction", "items": [
            {"target": "M01", "problem": "申请书未加盖公章"},
            {"target": "form.site_area", "problem": "经营面积与平面图不符"}]}),
            )
            .await
            .expect(200);
        assert_eq!(c["state"], "correction_requested");
        assert_eq!(c["notices"][0]["items"].as_array().unwrap().len(), 2);
        // Supplying only part of it is refused, naming what is still missing.
        app.advance_days(2);
        let r = app
            .act(
                &firm,
                case,
                json!({"action": "supply_correction", "form": {"site_area": "86"}}),
            )
            .await;
        assert_eq!(r.fields(), ["materials.M01"]);
        let c = app
            .act(
                &firm,
                case,
                json!({"action": "supply_correction", "form": {"site_area": "86"},
            "materials": [{"code": "M01", "status": "provided", "electronic": true}]}),
            )
            .await
            .expect(200);
        assert_eq!(c["state"], "received");
        assert_eq!(c["form"]["site_area"], "86");
        // The 2-day acceptance clock restarts from the day of the supply (Wednesday → Friday).
        assert_eq!(c["clocks"]["acceptance"]["deadline"], "2026-11-27");
        // A second notice may not raise what the first could have named (一次性告知).
        let r = app
        .act(&reviewer, case, json!({"action": "request_correction", "items": [{"target": "M02", "problem": "营业执照已过期"}]}))
        .await;
        assert_eq!(r.fields(), ["items[0].target"]);
        assert!(
            r.body["error"]["fields"]["items[0].target"]
                .as_str()
                .unwrap()
                .contains("一次性告知")
        );
    }
);

both!(
    a_refusal_needs_reason_and_basis_and_ends_the_case,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let reviewer = app.login("reviewer").await;
        let firm = app.login(tongban::demo::DEMO_ENTERPRISE_CODE).await;
        let food = app.item(SCJG, FOOD).await;
        let case = id(&receive(&app, &clerk, food, enterprise(), |_| {}).await);
        let r = app
            .act(
                &reviewer,
                case,
                json!({"action": "refuse", "reason": "", "legal_basis": ""}),
            )
            .await;
        assert_eq!(r.fields(), ["legal_basis", "reason"]);
        let c = app
            .act(
                &reviewer,
                case,
                json!({"action": "refuse", "reason": "申请事项依法不需要取得行政许可",
            "legal_basis": "《中华人民共和国行政许可法》第三十二条第一款第（一）项"}),
            )
            .await
            .expect(200);
        assert_eq!(c["state"], "refused");
        assert_eq!(
            c["refusal"]["legal_basis"],
            "《中华人民共和国行政许可法》第三十二条第一款第（一）项"
        );
        let r = app
            .act(
                &firm,
                case,
                json!({"action": "withdraw", "reason": "不办了"}),
            )
            .await;
        assert_eq!(r.status, 409);
    }
);

both!(
    an_immediate_item_is_done_at_one_window_in_one_visit,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let issuer = app.login("issuer").await;
        let item = app.item(SCJG, "个体工商户设立登记").await;
        let c = receive(&app, &clerk, item, person(), |_| {}).await;
        let case = id(&c);
        assert_eq!(c["processing_type"], "immediate");
        assert!(
            c["available_actions"]
                .as_array()
                .unwrap()
                .contains(&json!("approve"))
        );
        app.act(
            &clerk,
            case,
            json!({"action": "approve", "opinion": "当场办结"}),
        )
        .await
        .expect(200);
        let c = app
            .act(
                &clerk,
                case,
                json!({"action": "produce_result", "number": "92440902MA5A000001"}),
            )
            .await
            .expect(200);
        assert_eq!(
            c["state"], "ready_to_deliver",
            "no issuance check for a 即办件"
        );
        let c = app
            .act(
                &clerk,
                case,
                json!({"action": "deliver_pickup", "signed_by": "张伟"}),
            )
            .await
            .expect(200);
        assert_eq!(c["state"], "delivered");
        assert_eq!(c["clocks"]["promised"]["finished"], "2026-11-23");
        assert_eq!(c["clocks"]["promised"]["deadline"], "2026-11-23");
        app.act(&issuer, case, json!({"action": "archive"}))
            .await
            .expect(200);
    }
);

both!(
    a_special_procedure_pauses_the_clock_and_moves_the_deadline,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let wjj = app.login("wjj-reviewer").await;
        let item = app.item(WJJ, "公共场所卫生许可（新办）").await;
        let case = id(&receive(&app, &clerk, item, enterprise(), |_| {}).await);
        let c = app
            .act(&wjj, case, json!({"action": "accept"}))
            .await
            .expect(200);
        assert_eq!(c["clocks"]["promised"]["deadline"], "2026-11-30");
        // A procedure the item does not declare is refused.
        let r = app
            .act(
                &wjj,
                case,
                json!({"action": "pause", "procedure": "hearing", "reason": "听证"}),
            )
            .await;
        assert_eq!(r.fields(), ["procedure"]);
        // Tuesday: site inspection (现场踏勘) starts; one working day used.
        app.advance_days(1);
        let c = app
        .act(&wjj, case, json!({"action": "pause", "procedure": "site_inspection", "reason": "现场核查卫生设施"}))
        .await
        .expect(200);
        assert_eq!(c["state"], "paused");
        assert_eq!(c["due"], Value::Null);
        // Resumed the next Tuesday: 4 working days left → Monday 7 December.
        app.advance_days(7);
        let c = app
            .act(&wjj, case, json!({"action": "resume"}))
            .await
            .expect(200);
        assert_eq!(c["state"], "under_review");
        assert_eq!(c["clocks"]["promised"]["deadline"], "2026-12-07");
        let list = app
            .get("/api/v1/cases?state=under_review", &wjj)
            .await
            .expect(200);
        let row = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == case)
            .unwrap()
            .clone();
        assert_eq!(row["due"], "2026-12-07");
    }
);

both!(
    two_people_acting_at_once_one_wins_the_other_gets_409,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let reviewer = app.login("reviewer").await;
        let approver = app.login("approver").await;
        let food = app.item(SCJG, FOOD).await;
        let case = id(&receive(&app, &clerk, food, enterprise(), |_| {}).await);
        let (a, b) = tokio::join!(
            app.act(
                &reviewer,
                case,
                json!({"action": "accept", "expected_version": 1})
            ),
            app.act(
                &approver,
                case,
                json!({"action": "accept", "expected_version": 1})
            )
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409]);
        // Acting on a version one has not seen is a conflict too.
        let r = app.act(&reviewer, case, json!({"action": "review", "opinion": "同意", "recommend_approval": true, "expected_version": 1})).await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "conflict"));
        let events = app
            .get(&format!("/api/v1/cases/{case}/events"), &clerk)
            .await
            .expect(200);
        assert_eq!(
            events.as_array().unwrap().len(),
            2,
            "only the winner's accept is recorded"
        );
    }
);

both!(
    an_online_application_goes_through_pre_review,
    |app: TestApp| async move {
        let me = app.login(tongban::demo::DEMO_PERSON_ID).await;
        let clerk = app.login("clerk").await;
        let item = app.item(WJJ, "生育登记").await;
        let body = app.full_application(item, "online").await;
        let c = app.post("/api/v1/cases", &me, body).await.expect(201);
        let case = id(&c);
        assert_eq!(c["state"], "submitted");
        assert_eq!(c["clocks"]["pre_review"]["deadline"], "2026-11-25");
        let c = app
        .act(&clerk, case, json!({"action": "pre_review_return", "items": [{"target": "M01", "problem": "登记表照片不清晰"}]}))
        .await
        .expect(200);
        assert_eq!(c["state"], "returned_to_applicant");
        let c = app
        .act(&me, case, json!({"action": "resubmit", "materials": [{"code": "M01", "status": "provided", "electronic": true}]}))
        .await
        .expect(200);
        assert_eq!(c["state"], "submitted");
        let c = app
            .act(&clerk, case, json!({"action": "pre_review_pass"}))
            .await
            .expect(200);
        assert_eq!(c["state"], "received");
        assert_eq!(c["channel"], "online");
    }
);

both!(
    an_agent_applies_for_a_resident_with_a_written_authorization,
    |app: TestApp| async move {
        let agent = app.login("agent").await;
        let me = app.login(tongban::demo::DEMO_PERSON_ID).await;
        let item = app.item(WJJ, "生育登记").await;
        let mut body = app.full_application(item, "agent").await;
        body["applicant"] = person();
        let r = app.post("/api/v1/cases", &agent, body.clone()).await;
        assert_eq!(r.fields(), ["authorization"]);
        body["authorization"] = json!("金塘镇牙象村委托书〔2026〕017号");
        let c = app.post("/api/v1/cases", &agent, body).await.expect(201);
        assert_eq!(c["agent"]["name"], "冯代办");
        // Both the agent and the resident see it.
        for t in [&agent, &me] {
            let l = app.get("/api/v1/cases", t).await.expect(200);
            assert!(
                l["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["id"] == c["id"])
            );
        }
    }
);

both!(
    a_draft_is_kept_until_submitted_and_can_be_discarded,
    |app: TestApp| async move {
        let me = app.login(tongban::demo::DEMO_PERSON_ID).await;
        let item = app.item(WJJ, "生育登记").await;
        let c = app
        .post("/api/v1/cases", &me, json!({"item_id": item, "channel": "online", "submit": false, "form": {"applicant_name": "张伟"}}))
        .await
        .expect(201);
        assert_eq!(c["state"], "draft");
        let r = app.act(&me, id(&c), json!({"action": "submit"})).await;
        let fields = r.fields();
        assert!(
            fields.contains(&"materials.M01".to_string())
                && fields.contains(&"form.phone".to_string()),
            "{fields:?}"
        );
        let c = app
            .act(&me, id(&c), json!({"action": "discard"}))
            .await
            .expect(200);
        assert_eq!(c["state"], "discarded");
    }
);

both!(
    withdrawal_is_allowed_until_the_decision,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let reviewer = app.login("reviewer").await;
        let approver = app.login("approver").await;
        let firm = app.login(tongban::demo::DEMO_ENTERPRISE_CODE).await;
        let food = app.item(SCJG, FOOD).await;
        let a = id(&receive(&app, &clerk, food, enterprise(), |_| {}).await);
        let c = app
            .act(
                &firm,
                a,
                json!({"action": "withdraw", "reason": "经营场所变更，重新申请"}),
            )
            .await
            .expect(200);
        assert_eq!(c["state"], "withdrawn");
        let b = id(&receive(&app, &clerk, food, enterprise(), |_| {}).await);
        app.act(&reviewer, b, json!({"action": "accept"}))
            .await
            .expect(200);
        app.act(&approver, b, json!({"action": "deny", "reason": "场所布局不符合要求", "legal_basis": "《食品经营许可和备案管理办法》第十条"}))
        .await
        .expect(200);
        let r = app
            .act(&firm, b, json!({"action": "withdraw", "reason": "x"}))
            .await;
        assert_eq!(r.status, 409);
    }
);

both!(
    results_go_back_for_correction_and_out_by_post,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let reviewer = app.login("reviewer").await;
        let approver = app.login("approver").await;
        let issuer = app.login("issuer").await;
        let food = app.item(SCJG, FOOD).await;
        let case = id(&receive(&app, &clerk, food, enterprise(), |_| {}).await);
        app.act(&reviewer, case, json!({"action": "accept"}))
            .await
            .expect(200);
        app.act(&approver, case, json!({"action": "approve"}))
            .await
            .expect(200);
        app.act(
            &reviewer,
            case,
            json!({"action": "produce_result", "number": "JY1440902000001"}),
        )
        .await
        .expect(200);
        let c = app
            .act(
                &issuer,
                case,
                json!({"action": "check_result_mismatch", "reason": "证上地址与申请不符"}),
            )
            .await
            .expect(200);
        assert_eq!(c["state"], "result_correction");
        assert_eq!(c["clocks"]["result_correction"]["deadline"], "2026-11-24");
        let c = app
            .act(
                &reviewer,
                case,
                json!({"action": "correct_result", "number": "JY1440902000002"}),
            )
            .await
            .expect(200);
        assert_eq!(c["state"], "result_ready");
        app.act(&issuer, case, json!({"action": "check_result_ok"}))
            .await
            .expect(200);
        let r = app
            .act(
                &issuer,
                case,
                json!({"action": "deliver_post", "carrier": "EMS", "tracking_number": "EMS-12"}),
            )
            .await;
        assert_eq!(r.fields(), ["tracking_number"]);
        let c = app.act(&issuer, case, json!({"action": "deliver_post", "carrier": "EMS", "tracking_number": "1187654321098"})).await.expect(200);
        assert_eq!(c["state"], "in_post");
        app.advance_days(2);
        let c = app
            .act(&issuer, case, json!({"action": "confirm_receipt"}))
            .await
            .expect(200);
        assert_eq!(c["delivery"]["method"], "post");
        app.act(&issuer, case, json!({"action": "archive"}))
            .await
            .expect(200);
    }
);

both!(
    extensions_stop_at_the_legal_limit,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let reviewer = app.login("reviewer").await;
        let approver = app.login("approver").await;
        let food = app.item(SCJG, FOOD).await;
        let case = id(&receive(&app, &clerk, food, enterprise(), |_| {}).await);
        app.act(&reviewer, case, json!({"action": "accept"}))
            .await
            .expect(200);
        let c = app
            .act(
                &approver,
                case,
                json!({"action": "extend", "days": 15, "reason": "需补充专家意见"}),
            )
            .await
            .expect(200);
        assert_eq!(c["clocks"]["promised"]["budget"], 20);
        let r = app
            .act(
                &approver,
                case,
                json!({"action": "extend", "days": 1, "reason": "再延"}),
            )
            .await;
        assert_eq!(r.fields(), ["days"]);
    }
);

both!(
    a_draft_with_a_rongque_material_does_not_stop_the_sweep,
    |app: TestApp| async move {
        let me = app.login(tongban::demo::DEMO_PERSON_ID).await;
        let clerk = app.login("clerk").await;
        let admin = app.login("admin").await;
        let doctor = app.item(WJJ, "医师执业注册（首次注册）").await;
        let mut draft = app.full_application(doctor, "online").await;
        draft["submit"] = json!(false);
        set_material(&mut draft, "M04", json!({"status": "rongque"}));
        let d = app.post("/api/v1/cases", &me, draft).await.expect(201);
        assert_eq!(d["commitments"], json!([]));
        let c = receive(&app, &clerk, doctor, person(), |b| {
            set_material(b, "M04", json!({"status": "rongque"}))
        })
        .await;
        app.advance_days(8);
        let r = app
            .post("/api/v1/admin/jobs/run", &admin, json!({}))
            .await
            .expect(200);
        assert_eq!(
            (r["breaches"].as_u64(), r["skipped"].as_u64()),
            (Some(1), Some(0))
        );
        let c = app
            .get(&format!("/api/v1/cases/{}", id(&c)), &clerk)
            .await
            .expect(200);
        assert_eq!(c["state"], "terminated");
        let d = app
            .get(&format!("/api/v1/cases/{}", id(&d)), &me)
            .await
            .expect(200);
        assert_eq!(d["state"], "draft");
    }
);

both!(
    a_client_may_ask_for_a_minimal_answer,
    |app: TestApp| async move {
        use axum::body::Body;
        use axum::http::{Method, Request, header};
        let clerk = app.login("clerk").await;
        let reviewer = app.login("reviewer").await;
        let food = app.item(SCJG, FOOD).await;
        let case = id(&receive(&app, &clerk, food, enterprise(), |_| {}).await);
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/cases/{case}/actions"))
            .header(header::AUTHORIZATION, format!("Bearer {reviewer}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("prefer", "return=minimal")
            .body(Body::from(json!({"action": "accept"}).to_string()))
            .unwrap();
        let r = app.send(req).await;
        assert_eq!(r.headers["preference-applied"], "return=minimal");
        let b = r.expect(200);
        assert_eq!(
            (b["state"].as_str(), b["version"].as_i64()),
            (Some("under_review"), Some(2))
        );
        assert!(b.get("clocks").is_none(), "only the new state");
        assert!(
            b["available_actions"]
                .as_array()
                .unwrap()
                .contains(&json!("review"))
        );
    }
);
