//! The 12345 hotline over HTTP: the loop from the call to the call-back; the 30-minute
//! sign clock within working hours; return and redispatch or ruling; extension;
//! merge; reopen; the knowledge base; scope; Open311 GeoReport v2 in JSON and XML;
//! analysis with hot topics.

use axum::body::Body;
use axum::http::{Method, Request, header};
use chrono::Duration;
use serde_json::{Value, json};

use crate::app::*;
use crate::both;

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

const WJJ: &str = "茂名市茂南区卫生健康局";

both!(
    a_call_is_dispatched_signed_replied_reviewed_and_closed_at_the_call_back,
    |app: TestApp| async move {
        let op = app.login("operator").await;
        let unit = app.login("unit").await;
        let wjj = dept(&app, WJJ).await;
        // Monday 23 Nov, 09:00: a complaint about a clinic.
        let o = call(
            &app,
            &op,
            "medical",
            "小区门口诊所医生态度恶劣，还多收挂号费",
        )
        .await;
        assert_eq!(o["state"], "registered");
        assert_eq!(o["order_type"], "complaint");
        assert!(o["number"].as_str().unwrap().starts_with("12345-20261123-"));
        let n = id(&o);
        // Dispatched at 09:00: sign within 30 working minutes (09:30), reply in 5 working days.
        let d = app
            .order_act(
                &op,
                n,
                json!({"action": "dispatch", "lead": wjj, "note": "请核实处理"}),
            )
            .await
            .expect(200);
        assert_eq!(d["state"], "dispatched");
        assert_eq!(d["sign_due"], "2026-11-23T01:30:00Z");
        assert_eq!(d["reply_due"], "2026-11-30");
        // The unit sees it in its inbox; another unit does not.
        let mine = app
            .get("/api/v1/hotline/orders?state=open", &unit)
            .await
            .expect(200);
        assert!(
            mine.as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"].as_i64() == Some(n))
        );
        let zjj = app.login("unit-zjj").await;
        assert_eq!(
            app.get(&format!("/api/v1/hotline/orders/{n}"), &zjj)
                .await
                .status,
            404
        );
        assert_eq!(
            app.order_act(&zjj, n, json!({"action": "sign"}))
                .await
                .status,
            404
        );
        // The operator may not sign; the unit may not dispatch.
        assert_eq!(
            app.order_act(&op, n, json!({"action": "sign"}))
                .await
                .status,
            403
        );
        assert_eq!(
            app.order_act(&unit, n, json!({"action": "dispatch", "lead": wjj}))
                .await
                .status,
            403
        );
        app.clock.advance(Duration::minutes(20));
        let s = app
            .order_act(&unit, n, json!({"action": "sign"}))
            .await
            .expect(200);
        assert_eq!(
            (s["state"].as_str(), s["signed_on_time"].as_bool()),
            (Some("handling"), Some(true))
        );
        let r = app
            .order_act(&unit, n, json!({"action": "reply", "text": " "}))
            .await;
        assert_eq!(r.fields(), ["text"]);
        app.order_act(
            &unit,
            n,
            json!({"action": "reply", "text": "已约谈诊所负责人，退还多收费用，医生书面检讨"}),
        )
        .await
        .expect(200);
        // The dispatcher sends it back once, then accepts.
        app.order_act(
            &op,
            n,
            json!({"action": "send_back", "reason": "请说明退费金额"}),
        )
        .await
        .expect(200);
        let r = app
            .order_act(
                &unit,
                n,
                json!({"action": "reply", "text": "已退还多收挂号费 20 元，医生书面检讨"}),
            )
            .await
            .expect(200);
        assert_eq!(r["replied_on_time"], true);
        app.order_act(&op, n, json!({"action": "accept_reply"}))
            .await
            .expect(200);
        // The call-back closes it.
        let c = app.order_act(&op, n, json!({"action": "call_back", "reached": true, "satisfied": true, "note": "陈女士表示满意"})).await.expect(200);
        assert_eq!(c["state"], "closed");
        let steps: Vec<&str> = c["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            steps,
            [
                "register",
                "dispatch",
                "sign",
                "reply",
                "send_back",
                "reply",
                "accept_reply",
                "call_back"
            ]
        );
        // Nothing more; the caller tracks it with the number and the phone's last digits.
        assert_eq!(
            app.order_act(&op, n, json!({"action": "accept_reply"}))
                .await
                .status,
            409
        );
        let num = c["number"].as_str().unwrap();
        let t = app
            .req(
                Method::GET,
                &format!("/api/v1/hotline/track?number={num}&phone=1234"),
                None,
                None,
            )
            .await
            .expect(200);
        assert_eq!(t["state"], "closed");
        assert!(t["answer"].as_str().unwrap().contains("20 元"));
        assert!(t.get("caller").is_none());
        assert_eq!(
            app.req(
                Method::GET,
                &format!("/api/v1/hotline/track?number={num}&phone=9999"),
                None,
                None
            )
            .await
            .status,
            404
        );
    }
);

both!(
    the_sign_clock_runs_in_working_hours_and_a_late_one_is_supervised,
    |app: TestApp| async move {
        let op = app.login("operator").await;
        let supervisor = app.login("supervisor").await;
        let zjj = app.login("unit-zjj").await;
        let zjj_id = dept(&app, ZJJ).await;
        // Monday 11:50 China: 10 minutes before lunch, 20 after → 14:50.
        app.clock.advance(Duration::minutes(170));
        let o = call(&app, &op, "road-light", "油城五路路灯一排都不亮").await;
        let n = id(&o);
        let d = app
            .order_act(&op, n, json!({"action": "dispatch", "lead": zjj_id}))
            .await
            .expect(200);
        assert_eq!(d["sign_due"], "2026-11-23T06:50:00Z");
        assert_eq!(d["reply_due"], "2026-11-30", "举报: 5 working days");
        // 14:40, ten minutes left: yellow; 15:00, past: red, and one 督办 order to the unit.
        app.clock.advance(Duration::minutes(170));
        app.post("/api/v1/supervision/sweep", &supervisor, json!({}))
            .await
            .expect(200);
        let marks = app
            .state
            .db
            .read(move |tx| tx.marks_of(tongban_core::supervision::Subject::WorkOrder, n))
            .await
            .unwrap();
        assert_eq!(marks.len(), 1);
        assert_eq!(
            (marks[0].0.as_str(), marks[0].2),
            ("hotline_sign", tongban_core::case::Warning::Yellow)
        );
        app.clock.advance(Duration::minutes(20));
        app.post("/api/v1/supervision/sweep", &supervisor, json!({}))
            .await
            .expect(200);
        app.post("/api/v1/supervision/sweep", &supervisor, json!({}))
            .await
            .expect(200);
        let orders = app
            .get("/api/v1/supervision/orders", &supervisor)
            .await
            .expect(200);
        let mine: Vec<&Value> = orders
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["subject"] == "work_order" && o["subject_id"].as_i64() == Some(n))
            .collect();
        assert_eq!(mine.len(), 1, "{orders}");
        assert_eq!(mine[0]["clock"], "hotline_sign");
        assert_eq!(mine[0]["department_id"].as_i64(), Some(zjj_id));
        // Signed late.
        let s = app
            .order_act(&zjj, n, json!({"action": "sign"}))
            .await
            .expect(200);
        assert_eq!(s["signed_on_time"], false);
        // Over a weekend: Friday 17:20 → Monday 08:50.
        app.advance_days(4);
        app.clock.advance(Duration::minutes(140));
        let o2 = call(&app, &op, "sanitation", "小区垃圾三天没人清运").await;
        let d2 = app
            .order_act(&op, id(&o2), json!({"action": "dispatch", "lead": zjj_id}))
            .await
            .expect(200);
        assert_eq!(d2["sign_due"], "2026-11-30T00:50:00Z", "{d2}");
    }
);

both!(
    a_wrongly_dispatched_order_is_returned_then_redispatched_or_ruled,
    |app: TestApp| async move {
        let op = app.login("operator").await;
        let unit = app.login("unit").await;
        let zjj = app.login("unit-zjj").await;
        let (wjj_id, zjj_id) = (dept(&app, WJJ).await, dept(&app, ZJJ).await);
        let o = call(&app, &op, "sanitation", "医院门口垃圾堆积").await;
        let n = id(&o);
        app.order_act(&op, n, json!({"action": "dispatch", "lead": wjj_id}))
            .await
            .expect(200);
        let r = app.order_act(&unit, n, json!({"action": "return"})).await;
        assert_eq!(r.fields(), ["reason"]);
        let r = app
            .order_act(
                &unit,
                n,
                json!({"action": "return", "reason": "环境卫生属住建部门职责"}),
            )
            .await
            .expect(200);
        assert_eq!(r["state"], "returned");
        // Redispatch to the same unit is refused: that is a ruling.
        let r = app
            .order_act(&op, n, json!({"action": "redispatch", "lead": wjj_id}))
            .await;
        assert_eq!(r.fields(), ["lead"]);
        let r = app
            .order_act(&op, n, json!({"action": "redispatch", "lead": 999_999}))
            .await;
        assert_eq!(r.fields(), ["lead"]);
        let r = app
            .order_act(
                &op,
                n,
                json!({"action": "redispatch", "lead": zjj_id, "assisting": [wjj_id]}),
            )
            .await
            .expect(200);
        assert_eq!(
            (r["lead"].as_i64(), r["assisting"][0].as_i64()),
            (Some(zjj_id), Some(wjj_id))
        );
        // The assisting unit adds its note; only the lead signs.
        assert_eq!(
            app.order_act(&unit, n, json!({"action": "sign"}))
                .await
                .status,
            403
        );
        app.order_act(&zjj, n, json!({"action": "sign"}))
            .await
            .expect(200);
        app.order_act(
            &unit,
            n,
            json!({"action": "assist_note", "text": "已通知医院配合清运"}),
        )
        .await
        .expect(200);
        // Another order returned and ruled: the unit must handle it after all.
        let o2 = call(&app, &op, "sanitation", "街道垃圾桶满溢").await;
        let m = id(&o2);
        app.order_act(&op, m, json!({"action": "dispatch", "lead": zjj_id}))
            .await
            .expect(200);
        app.order_act(&zjj, m, json!({"action": "return", "reason": "不在本辖区"}))
            .await
            .expect(200);
        let ruled = app
            .order_act(
                &op,
                m,
                json!({"action": "rule", "reason": "该路段属茂南区住建局环卫职责"}),
            )
            .await
            .expect(200);
        assert_eq!(
            (ruled["state"].as_str(), ruled["lead"].as_i64()),
            (Some("dispatched"), Some(zjj_id))
        );
    }
);

both!(
    extensions_merges_and_reopened_orders,
    |app: TestApp| async move {
        let op = app.login("operator").await;
        let zjj = app.login("unit-zjj").await;
        let zjj_id = dept(&app, ZJJ).await;
        let a = id(&call(&app, &op, "noise", "工地夜间施工噪音").await);
        let b = id(&call(&app, &op, "noise", "同一工地晚上十一点还在施工").await);
        // A duplicate merged into the first.
        let r = app
            .order_act(&op, b, json!({"action": "merge_into", "into": b}))
            .await;
        assert_eq!(r.fields(), ["into"]);
        let m = app
            .order_act(&op, b, json!({"action": "merge_into", "into": a}))
            .await
            .expect(200);
        assert_eq!(
            (m["state"].as_str(), m["merged_into"].as_i64()),
            (Some("merged"), Some(a))
        );
        let master = app
            .get(&format!("/api/v1/hotline/orders/{a}"), &op)
            .await
            .expect(200);
        assert_eq!(master["duplicates"], json!([b]));
        // Extension: asked by the unit, approved by the dispatcher, the deadline moves.
        let s3 = id(&call(&app, &op, "road-light", "路灯闪烁").await);
        let d = app
            .order_act(&op, s3, json!({"action": "dispatch", "lead": zjj_id}))
            .await
            .expect(200);
        assert_eq!(d["reply_due"], "2026-11-30");
        app.order_act(&zjj, s3, json!({"action": "sign"}))
            .await
            .expect(200);
        let r = app
            .order_act(
                &zjj,
                s3,
                json!({"action": "request_extension", "days": 30, "reason": "需更换电缆"}),
            )
            .await;
        assert_eq!(r.fields(), ["days"]);
        app.order_act(
            &zjj,
            s3,
            json!({"action": "request_extension", "days": 3, "reason": "需更换电缆"}),
        )
        .await
        .expect(200);
        assert_eq!(
            app.order_act(
                &zjj,
                s3,
                json!({"action": "request_extension", "days": 2, "reason": "再延"})
            )
            .await
            .status,
            409
        );
        let e = app
            .order_act(&op, s3, json!({"action": "approve_extension"}))
            .await
            .expect(200);
        assert_eq!(e["reply_due"], "2026-12-03");
        assert_eq!(
            app.order_act(&op, s3, json!({"action": "approve_extension"}))
                .await
                .status,
            409
        );
        // Replied, accepted; the caller is not satisfied: reopened, dispatched again.
        app.order_act(&zjj, s3, json!({"action": "reply", "text": "已更换灯具"}))
            .await
            .expect(200);
        app.order_act(&op, s3, json!({"action": "accept_reply"}))
            .await
            .expect(200);
        let c = app.order_act(&op,
            s3,
            json!({"action": "call_back", "reached": true, "satisfied": false, "note": "仍然闪烁"}),
        )
        .await
        .expect(200);
        assert_eq!(
            (c["state"].as_str(), c["reopened"].as_i64()),
            (Some("reopened"), Some(1))
        );
        app.advance_days(1);
        let again = app
            .order_act(
                &op,
                s3,
                json!({"action": "dispatch", "lead": zjj_id, "note": "重办"}),
            )
            .await
            .expect(200);
        assert_eq!(again["state"], "dispatched");
        assert_eq!(
            again["reply_due"], "2026-12-01",
            "a fresh deadline from the day it is dispatched again"
        );
        assert!(again["signed_at"].is_null());
        // Unanswered call-backs: the third closes it.
        app.order_act(&zjj, s3, json!({"action": "sign"}))
            .await
            .expect(200);
        app.order_act(&zjj, s3, json!({"action": "reply", "text": "更换整条线路"}))
            .await
            .expect(200);
        app.order_act(&op, s3, json!({"action": "accept_reply"}))
            .await
            .expect(200);
        for _ in 0..2 {
            let c = app
                .order_act(&op, s3, json!({"action": "call_back", "reached": false}))
                .await
                .expect(200);
            assert_eq!(c["state"], "reviewed");
        }
        let c = app
            .order_act(&op, s3, json!({"action": "call_back", "reached": false}))
            .await
            .expect(200);
        assert_eq!(c["state"], "closed");
    }
);

both!(
    the_operator_answers_from_the_knowledge_base_and_a_closed_order_becomes_an_article,
    |app: TestApp| async move {
        let op = app.login("operator").await;
        // What the caller says, as the operator types it: the article turns up.
        let q: String =
            form_urlencoded::byte_serialize("我想问一下暂住证怎么办".as_bytes()).collect();
        let hits = app
            .get(&format!("/api/v1/hotline/kb?q={q}"), &op)
            .await
            .expect(200);
        assert_eq!(hits[0]["name"], "居住证怎么办理", "{hits}");
        assert!(hits[0]["snippet_html"].as_str().unwrap().contains("<b>"));
        let article = hits[0]["item_id"].as_i64().unwrap();
        let o = id(&call(&app, &op, "policy", "暂住证怎么办理，需要什么材料").await);
        let r = app.order_act(&op, o, json!({"action": "answer_directly", "answer": "携带身份证和租房合同到派出所申领居住证", "article_id": article})).await.expect(200);
        assert_eq!(r["state"], "closed");
        // Into the knowledge base; a new version of an article; a withdrawn one no longer found.
        let a = app
            .post(
                &format!("/api/v1/hotline/orders/{o}/to-article"),
                &op,
                json!({"title": "居住证申领（口径）"}),
            )
            .await
            .expect(201);
        assert_eq!(a["from_order"].as_i64(), Some(o));
        let new_id = a["id"].as_i64().unwrap();
        let v2 = app
            .req(Method::PUT, &format!("/api/v1/hotline/kb/{new_id}"), Some(&op),
                 Some(json!({"title": "居住证申领", "keywords": ["暂住证"], "body": "携带身份证、租房合同到居住地派出所，或在粤省事申请", "valid_from": "2026-11-23"})))
            .await
            .expect(200);
        assert_eq!(v2["versions"].as_array().unwrap().len(), 2);
        let q2: String = form_urlencoded::byte_serialize("粤省事".as_bytes()).collect();
        let hits = app
            .get(&format!("/api/v1/hotline/kb?q={q2}"), &op)
            .await
            .expect(200);
        assert!(
            hits.as_array()
                .unwrap()
                .iter()
                .any(|h| h["item_id"].as_i64() == Some(new_id)),
            "{hits}"
        );
        app.post(
            &format!("/api/v1/hotline/kb/{new_id}/withdraw"),
            &op,
            json!({}),
        )
        .await
        .expect(200);
        let hits = app
            .get(&format!("/api/v1/hotline/kb?q={q2}"), &op)
            .await
            .expect(200);
        assert!(
            !hits
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["item_id"].as_i64() == Some(new_id))
        );
        // Bad articles are named; an open order cannot become one.
        let r = app.post("/api/v1/hotline/kb", &op, json!({"title": "", "body": "x", "valid_from": "2026-12-01", "valid_until": "2026-11-01"})).await;
        let mut f = r.fields();
        f.sort();
        assert_eq!(f, ["title", "valid_until"]);
        let open = id(&call(&app, &op, "policy", "社保卡丢了怎么补").await);
        assert_eq!(
            app.post(
                &format!("/api/v1/hotline/orders/{open}/to-article"),
                &op,
                json!({})
            )
            .await
            .status,
            409
        );
    }
);

both!(
    hotline_endpoints_refuse_the_wrong_user_and_bad_input_changes_nothing,
    |app: TestApp| async move {
        let op = app.login("operator").await;
        let cat = category(&app, "medical").await;
        let fp = app.fingerprint();
        let r = app
            .post(
                "/api/v1/hotline/orders",
                &op,
                json!({"category_id": 999, "caller": {"name": "", "phone": "123"}, "content": ""}),
            )
            .await;
        let mut f = r.fields();
        f.sort();
        assert_eq!(f, ["caller.name", "caller.phone", "category_id", "content"]);
        let r = app
            .post("/api/v1/hotline/orders", &op, json!({"category_id": cat, "caller": {"name": "王", "phone": "13902681234", "id_number": "440902199003153210"}, "content": "x", "location": {"lat": 95.0}}))
            .await;
        let mut f = r.fields();
        f.sort();
        assert_eq!(f, ["caller.id_number", "location.lat"]);
        assert_eq!(app.fingerprint(), fp);
        for who in ["clerk", "reviewer", tongban::demo::DEMO_PERSON_ID] {
            let t = app.login(who).await;
            let r = app.post("/api/v1/hotline/orders", &t, json!({"category_id": cat, "caller": {"name": "王", "phone": "13902681234"}, "content": "x"})).await;
            assert_eq!(r.status, 403, "{who}");
            assert_eq!(
                app.get("/api/v1/hotline/orders", &t).await.status,
                403,
                "{who}"
            );
            assert_eq!(
                app.get("/api/v1/hotline/kb?q=x", &t).await.status,
                403,
                "{who}"
            );
            assert_eq!(
                app.get("/api/v1/hotline/analysis?from=2026-11&to=2026-11", &t)
                    .await
                    .status,
                403,
                "{who}"
            );
        }
        assert_eq!(
            app.req(Method::GET, "/api/v1/hotline/orders", None, None)
                .await
                .status,
            401
        );
        let admin = app.login("admin").await;
        assert_eq!(
            app.post("/api/v1/admin/open311-keys", &op, json!({"name": "x"}))
                .await
                .status,
            403
        );
        let k = app
            .post(
                "/api/v1/admin/open311-keys",
                &admin,
                json!({"name": "城管 App"}),
            )
            .await
            .expect(201);
        assert!(k["api_key"].as_str().unwrap().len() >= 32);
        // A citizen on the web, without signing in; tracked by number and phone.
        let r = app
            .req(Method::POST, "/api/v1/hotline/public/orders", None,
                 Some(json!({"category_id": cat, "caller": {"name": "李先生", "phone": "13600001111"}, "content": "社区卫生服务站周末不开门"})))
            .await
            .expect(201);
        let num = r["number"].as_str().unwrap();
        let t = app
            .req(
                Method::GET,
                &format!("/api/v1/hotline/track?number={num}&phone=13600001111"),
                None,
                None,
            )
            .await
            .expect(200);
        assert_eq!(
            (t["state"].as_str(), t["answer"].is_null()),
            (Some("registered"), true)
        );
    }
);

/// A form POST to Open311.
async fn open311_post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> crate::app::Resp {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    app.send(
        Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

both!(
    open311_georeport_v2_services_and_requests_in_json_and_xml,
    |app: TestApp| async move {
        // Services, with the specification's field names.
        let s = app
            .req(Method::GET, "/open311/v2/services.json", None, None)
            .await
            .expect(200);
        let light = s
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["service_code"] == "road-light")
            .unwrap()
            .clone();
        for k in [
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        ] {
            assert!(light.get(k).is_some(), "{k} in {light}");
        }
        assert_eq!(
            (light["metadata"].as_bool(), light["type"].as_str()),
            (Some(true), Some("realtime"))
        );
        let def = app
            .req(
                Method::GET,
                "/open311/v2/services/road-light.json",
                None,
                None,
            )
            .await
            .expect(200);
        assert_eq!(def["service_code"], "road-light");
        let attr = &def["attributes"][0];
        for k in [
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
            "values",
        ] {
            assert!(attr.get(k).is_some(), "{k} in {attr}");
        }
        assert_eq!(
            (
                attr["code"].as_str(),
                attr["datatype"].as_str(),
                attr["required"].as_bool()
            ),
            (Some("pole"), Some("string"), Some(true))
        );
        assert_eq!(
            def["attributes"][1]["values"][0],
            json!({"key": "off", "name": "不亮"})
        );
        let xml = app
            .req(Method::GET, "/open311/v2/services.xml", None, None)
            .await;
        assert_eq!(xml.status, 200);
        assert!(
            xml.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/xml")
        );
        assert!(
            xml.text
                .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><services><service>"),
            "{}",
            xml.text
        );
        assert!(
            xml.text.contains(
                "<service_code>road-light</service_code><service_name>路灯故障</service_name>"
            ),
            "{}",
            xml.text
        );
        assert_eq!(
            app.req(Method::GET, "/open311/v2/services/nope.json", None, None)
                .await
                .status,
            404
        );
        // Posting: the api_key, the service, the location, the attributes.
        let key = tongban::demo::DEMO_OPEN311_KEY;
        let fp = app.fingerprint();
        let r = open311_post(
            &app,
            "/open311/v2/requests.json",
            &[
                ("service_code", "road-light"),
                ("lat", "21.66"),
                ("long", "110.92"),
            ],
        )
        .await;
        assert_eq!(r.status, 403);
        assert_eq!(r.body[0]["code"], 403);
        let r = open311_post(
            &app,
            "/open311/v2/requests.json",
            &[("api_key", "wrong"), ("service_code", "road-light")],
        )
        .await;
        assert_eq!(r.status, 403);
        let r = open311_post(
            &app,
            "/open311/v2/requests.json",
            &[
                ("api_key", key),
                ("service_code", "road-light"),
                ("phone", "13902681234"),
                ("description", "路灯不亮"),
            ],
        )
        .await;
        assert_eq!(r.status, 400, "no location");
        assert!(r.body[0]["description"].as_str().unwrap().contains("lat"));
        let r = open311_post(
            &app,
            "/open311/v2/requests.json",
            &[
                ("api_key", key),
                ("service_code", "road-light"),
                ("lat", "21.66"),
                ("long", "110.92"),
                ("phone", "13902681234"),
                ("description", "路灯不亮"),
                ("attribute[kind]", "dark"),
            ],
        )
        .await;
        assert_eq!(r.status, 400);
        let d = r.body[0]["description"].as_str().unwrap();
        assert!(
            d.contains("attribute[pole]") && d.contains("attribute[kind]"),
            "{d}"
        );
        let r = open311_post(
            &app,
            "/open311/v2/requests.xml",
            &[
                ("api_key", key),
                ("service_code", "nope"),
                ("lat", "21.66"),
                ("long", "110.92"),
            ],
        )
        .await;
        assert_eq!(r.status, 400);
        assert!(
            r.text
                .contains("<errors><error><code>400</code><description>"),
            "{}",
            r.text
        );
        assert_eq!(app.fingerprint(), fp);
        let r = open311_post(
            &app,
            "/open311/v2/requests.json",
            &[
                ("api_key", key),
                ("service_code", "road-light"),
                ("lat", "21.663"),
                ("long", "110.925"),
                ("address_string", "油城五路 18 号"),
                ("first_name", "明"),
                ("last_name", "陈"),
                ("phone", "13902681234"),
                ("email", "chen@example.cn"),
                ("description", "油城五路路灯不亮"),
                ("attribute[pole]", "MN-0231"),
                ("attribute[kind]", "off"),
            ],
        )
        .await
        .expect(201);
        let sid = r[0]["service_request_id"].as_str().unwrap().to_string();
        assert!(r[0].get("service_notice").is_some() && r[0].get("account_id").is_some());
        // Looked up, alone and in a list, with the fields of a request.
        let one = app
            .req(
                Method::GET,
                &format!("/open311/v2/requests/{sid}.json"),
                None,
                None,
            )
            .await
            .expect(200);
        let q = &one[0];
        for k in [
            "service_request_id",
            "status",
            "status_notes",
            "service_name",
            "service_code",
            "description",
            "agency_responsible",
            "service_notice",
            "requested_datetime",
            "updated_datetime",
            "expected_datetime",
            "address",
            "address_id",
            "zipcode",
            "lat",
            "long",
            "media_url",
        ] {
            assert!(q.get(k).is_some(), "{k} in {q}");
        }
        assert_eq!(
            (q["status"].as_str(), q["service_code"].as_str()),
            (Some("open"), Some("road-light"))
        );
        assert!(
            q["requested_datetime"]
                .as_str()
                .unwrap()
                .ends_with("+08:00")
        );
        assert_eq!(q["lat"].as_f64(), Some(21.663));
        let op = app.login("operator").await;
        let order = app
            .get("/api/v1/hotline/orders?limit=1", &op)
            .await
            .expect(200);
        assert_eq!(order[0]["number"].as_str(), Some(sid.as_str()));
        assert_eq!(order[0]["source"], "open311");
        assert_eq!(order[0]["caller"]["name"], "陈明");
        assert_eq!(
            order[0]["attributes"],
            json!([["pole", "MN-0231"], ["kind", "off"]])
        );
        // Dispatched and closed: the request says so, with the responsible agency.
        let zjj_id = dept(&app, ZJJ).await;
        let n = order[0]["id"].as_i64().unwrap();
        app.order_act(&op, n, json!({"action": "dispatch", "lead": zjj_id}))
            .await
            .expect(200);
        let listed = app
            .req(
                Method::GET,
                &format!("/open311/v2/requests.json?service_request_id={sid},nope"),
                None,
                None,
            )
            .await
            .expect(200);
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert_eq!(listed[0]["agency_responsible"], ZJJ);
        assert!(
            listed[0]["expected_datetime"]
                .as_str()
                .unwrap()
                .starts_with("2026-11-30T23:59:59+08:00")
        );
        let closed = app
            .req(
                Method::GET,
                "/open311/v2/requests.json?status=closed",
                None,
                None,
            )
            .await
            .expect(200);
        assert!(
            !closed
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["service_request_id"] == sid.as_str())
        );
        let open = app
            .req(
                Method::GET,
                "/open311/v2/requests.json?status=open&service_code=road-light",
                None,
                None,
            )
            .await
            .expect(200);
        assert!(
            open.as_array()
                .unwrap()
                .iter()
                .any(|x| x["service_request_id"] == sid.as_str())
        );
        let xml = app
            .req(
                Method::GET,
                &format!("/open311/v2/requests/{sid}.xml"),
                None,
                None,
            )
            .await;
        assert!(
            xml.text.contains("<service_requests><request>"),
            "{}",
            xml.text
        );
        assert!(
            xml.text
                .contains(&format!("<service_request_id>{sid}</service_request_id>")),
            "{}",
            xml.text
        );
        assert_eq!(
            app.req(
                Method::GET,
                "/open311/v2/requests.json?status=maybe",
                None,
                None
            )
            .await
            .status,
            400
        );
        assert_eq!(
            app.req(
                Method::GET,
                "/open311/v2/requests.json?start_date=yesterday",
                None,
                None
            )
            .await
            .status,
            400
        );
        assert_eq!(
            app.req(Method::GET, "/open311/v2/requests.txt", None, None)
                .await
                .status,
            404
        );
    }
);

both!(
    the_analysis_counts_orders_and_finds_the_rising_topics,
    |app: TestApp| async move {
        let op = app.login("operator").await;
        let zjj = app.login("unit-zjj").await;
        let zjj_id = dept(&app, ZJJ).await;
        // Last week one order about 垃圾; this week three about 路灯.
        call(&app, &op, "sanitation", "小区垃圾没人清运").await;
        app.advance_days(8);
        for t in [
            "油城五路的路灯不亮",
            "光华路上的路灯闪烁",
            "站前路的路灯白天常亮",
        ] {
            let n = id(&call(&app, &op, "road-light", t).await);
            app.order_act(&op, n, json!({"action": "dispatch", "lead": zjj_id}))
                .await
                .expect(200);
            app.order_act(&zjj, n, json!({"action": "sign"}))
                .await
                .expect(200);
        }
        let a = app
            .get("/api/v1/hotline/analysis?from=2026-11&to=2026-12", &op)
            .await
            .expect(200);
        assert_eq!(a["total"]["orders"], 4);
        let light = a["by_category"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["label"] == "路灯故障")
            .unwrap();
        assert_eq!(
            (
                light["orders"].as_i64(),
                light["signed_on_time_rate"].as_f64()
            ),
            (Some(3), Some(1.0))
        );
        let unit = a["by_unit"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["label"] == ZJJ)
            .unwrap();
        assert_eq!(unit["orders"], 3);
        assert_eq!(a["hot_topics"][0]["term"], "路灯", "{}", a["hot_topics"]);
        assert_eq!(
            (
                a["hot_topics"][0]["this_week"].as_i64(),
                a["hot_topics"][0]["last_week"].as_i64()
            ),
            (Some(3), Some(0))
        );
        let months: Vec<&str> = a["by_month"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["key"].as_str().unwrap())
            .collect();
        assert_eq!(months, ["2026-11", "2026-12"]);
    }
);

both!(
    the_hotline_pages_keep_to_their_users,
    |app: TestApp| async move {
        let op_token = app.login("operator").await;
        let wjj = dept(&app, WJJ).await;
        let n = id(&call(&app, &op_token, "medical", "诊所乱收费").await);
        app.order_act(&op_token, n, json!({"action": "dispatch", "lead": wjj}))
            .await
            .expect(200);
        let op = app.sign_in("operator").await;
        let desk = app.page(&op, "/hotline").await;
        assert_eq!(desk.status, 200);
        assert!(desk.text.contains("诊所乱收费") && desk.text.contains("登记来电"));
        let unit = app.sign_in("unit").await;
        let inbox = app.page(&unit, "/hotline").await;
        assert!(inbox.text.contains("诊所乱收费") && !inbox.text.contains("登记来电"));
        assert!(
            app.page(&unit, &format!("/hotline/orders/{n}"))
                .await
                .text
                .contains("act-sign")
        );
        let other = app.sign_in("unit-zjj").await;
        assert!(
            !app.page(&other, "/hotline")
                .await
                .text
                .contains("诊所乱收费")
        );
        assert_eq!(
            app.page(&other, &format!("/hotline/orders/{n}"))
                .await
                .status,
            404
        );
        // The unit's sign from the page; the operator may not sign.
        let r = app
            .form(
                &op,
                &format!("/hotline/orders/{n}/act"),
                &[("action", "sign")],
            )
            .await;
        assert_eq!(r.status, 403);
        let r = app
            .form(
                &unit,
                &format!("/hotline/orders/{n}/act"),
                &[("action", "sign")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        for who in ["clerk", "reviewer", "catalog"] {
            let b = app.sign_in(who).await;
            assert_eq!(app.page(&b, "/hotline").await.status, 403, "{who}");
            assert_eq!(app.page(&b, "/hotline/analysis").await.status, 403, "{who}");
            assert_eq!(
                app.page(&b, "/hotline/kb/suggest?content=x").await.status,
                403,
                "{who}"
            );
        }
        let sup = app.sign_in("supervisor").await;
        assert_eq!(app.page(&sup, "/hotline/analysis").await.status, 200);
        // The citizen's page: a bad submission named, a good one numbered.
        let fp = app.fingerprint();
        let bad = app
            .send(
                Request::builder()
                    .method(Method::POST)
                    .uri("/hotline/new")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from("category_id=1&name=&phone=12&content="))
                    .unwrap(),
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(
            bad.text.contains("联系电话")
                || bad.text.contains("caller.phone")
                || bad.text.contains("电话"),
            "{}",
            bad.text
        );
        assert_eq!(app.fingerprint(), fp);
        let page = app.req(Method::GET, "/hotline/new", None, None).await;
        assert!(page.text.contains("提交诉求"));
    }
);

both!(
    loading_a_year_counts_again_the_reply_deadlines_of_orders_waiting_for_a_reply,
    |app: TestApp| async move {
        // Thursday 31 December 2026, 09:00: the 2027 notice is not out yet.
        app.clock
            .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 31, 1, 0, 0).unwrap());
        let op = app.login("operator").await;
        let zjj = app.login("unit-zjj").await;
        let admin = app.login("admin").await;
        let zjj_id = dept(&app, ZJJ).await;
        let mut orders = vec![];
        for text in ["路灯不亮", "路灯闪烁", "路灯倒伏"] {
            let n = id(&call(&app, &op, "road-light", text).await);
            let d = app
                .order_act(&op, n, json!({"action": "dispatch", "lead": zjj_id}))
                .await
                .expect(200);
            // 5 working days over weekends only, 1 January included, until 2027 is loaded.
            assert_eq!(
                (d["reply_due"].as_str(), d["reply_provisional"].as_bool()),
                (Some("2027-01-07"), Some(true))
            );
            app.order_act(&zjj, n, json!({"action": "sign"}))
                .await
                .expect(200);
            orders.push(n);
        }
        let desk = app.sign_in("operator").await;
        let page = app
            .page(&desk, &format!("/hotline/orders/{}", orders[0]))
            .await
            .text;
        assert!(page.contains("2027-01-07（暂定"), "{page}");
        // The second is extended by 2 working days; the third is replied already, its
        // verdict on time given.
        app.order_act(
            &zjj,
            orders[1],
            json!({"action": "request_extension", "days": 2, "reason": "需更换灯杆"}),
        )
        .await
        .expect(200);
        let e = app
            .order_act(&op, orders[1], json!({"action": "approve_extension"}))
            .await
            .expect(200);
        assert_eq!(e["reply_due"], "2027-01-11");
        app.order_act(
            &zjj,
            orders[2],
            json!({"action": "reply", "text": "已更换灯具"}),
        )
        .await
        .expect(200);

        // The notice: 1–4 January off, Saturday 9 January worked.
        let year = notice_2027();
        let r = load_year(&app, &admin, year.clone()).await;
        assert_eq!(r["orders_recomputed"], 2);
        let order = |n: i64| {
            let (app, op) = (&app, &op);
            async move {
                app.get(&format!("/api/v1/hotline/orders/{n}"), op)
                    .await
                    .expect(200)
            }
        };
        let o = order(orders[0]).await;
        assert_eq!(
            (o["reply_due"].as_str(), o["reply_provisional"].as_bool()),
            (Some("2027-01-09"), Some(false))
        );
        let step = o["steps"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(step["action"], "recompute_reply_due");
        assert!(
            step["text"]
                .as_str()
                .unwrap()
                .contains("2027-01-07 → 2027-01-09"),
            "{step}"
        );
        // The extension is counted on from the new day.
        assert_eq!(order(orders[1]).await["reply_due"], "2027-01-12");
        let replied = order(orders[2]).await;
        assert_eq!(
            (
                replied["reply_due"].as_str(),
                replied["replied_on_time"].as_bool()
            ),
            (Some("2027-01-07"), Some(true))
        );
        let page = app
            .page(&desk, &format!("/hotline/orders/{}", orders[0]))
            .await
            .text;
        assert!(page.contains("重算答复期限"), "{page}");
        assert!(!page.contains("暂定"), "{page}");
        // Loading the same notice again moves nothing.
        let r = load_year(&app, &admin, year).await;
        assert_eq!(r["orders_recomputed"], 0);
    }
);
