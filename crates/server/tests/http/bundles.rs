//! 一件事一次办 over HTTP: the scenario guide, one application fanned out to child
//! cases, one combined correction notice, the bundle's order, unified issuance.

use serde_json::{Value, json};

use crate::app::*;
use crate::both;

pub(crate) async fn bundle_id(app: &TestApp, name: &str) -> i64 {
    listed_id(app, "/api/v1/bundles", "name", name).await
}

pub(crate) async fn guide(app: &TestApp, id: i64, answers: Value) -> Value {
    app.req(
        axum::http::Method::POST,
        &format!("/api/v1/bundles/{id}/guide"),
        None,
        Some(json!({ "answers": answers })),
    )
    .await
    .expect(200)
}

/// The one form and material set of a guide, filled in.
pub(crate) fn fill(g: &Value) -> (Value, Value) {
    let mut form = serde_json::Map::new();
    for f in g["merged"]["fields"].as_array().unwrap() {
        let f = &f["field"];
        if f["required"] != true {
            continue;
        }
        let v = match f["kind"].as_str().unwrap() {
            "choice" => f["options"][0].clone(),
            "yes_no" => json!("false"),
            "number" => json!("120"),
            "date" => json!("2026-12-01"),
            "id_number" => json!(tongban::demo::DEMO_PERSON_ID),
            "credit_code" => json!(tongban::demo::DEMO_ENTERPRISE_CODE),
            "phone" => json!("13800138000"),
            _ => json!("茂名市茂南区油城五路 88 号"),
        };
        form.insert(f["key"].as_str().unwrap().to_string(), v);
    }
    let materials: Vec<Value> = g["merged"]["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["required"] == true)
        .map(|m| json!({"name": m["name"], "status": "provided"}))
        .collect();
    (Value::Object(form), Value::Array(materials))
}

both!(
    the_guide_gives_exactly_the_items_one_form_and_one_material_set,
    |app: TestApp| async move {
        let id = bundle_id(&app, "开办餐馆").await;
        let small = guide(
            &app,
            id,
            json!({"public_place": "否", "large_site": "否", "existing_layout": "是"}),
        )
        .await;
        let names: Vec<&str> = small["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["食品经营许可（新办）"]);
        // Chain stores reuse their filed layout: that material is not asked.
        assert!(
            !small["merged"]["materials"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["name"].as_str().unwrap().starts_with("与食品经营相适应"))
        );
        let big = guide(
            &app,
            id,
            json!({"public_place": "是", "large_site": "是", "existing_layout": "否"}),
        )
        .await;
        assert_eq!(big["items"].as_array().unwrap().len(), 3);
        // 营业执照 is asked once for both licences; no field twice.
        let licence: Vec<&Value> = big["merged"]["materials"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["name"] == "营业执照")
            .collect();
        assert_eq!(licence.len(), 1);
        assert_eq!(licence[0]["sources"].as_array().unwrap().len(), 2);
        let keys: Vec<&str> = big["merged"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"]["key"].as_str().unwrap())
            .collect();
        let mut distinct = keys.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(keys.len(), distinct.len());
        assert!(big["merged"]["conflicts"].as_array().unwrap().is_empty());
        // A missing answer is named.
        let r = app
            .req(
                axum::http::Method::POST,
                &format!("/api/v1/bundles/{id}/guide"),
                None,
                Some(json!({"answers": {"public_place": "是"}})),
            )
            .await;
        assert_eq!(
            r.fields(),
            ["answers.existing_layout", "answers.large_site"]
        );
    }
);

both!(
    a_bundle_whose_items_define_a_field_differently_cannot_be_published,
    |app: TestApp| async move {
        let cat = app.login("catalog").await;
        let food = app
            .item("茂名市茂南区市场监督管理局", "食品经营许可（新办）")
            .await;
        let it = app
            .get(&format!("/api/v1/items/{food}"), &cat)
            .await
            .expect(200);
        // A variant of the food licence whose site area is free text.
        let mut spec = it["version"]["spec"].clone();
        spec["name"] = json!("食品经营许可（变更）");
        for f in spec["fields"].as_array_mut().unwrap() {
            if f["key"] == "site_area" {
                f["kind"] = json!("text");
            }
        }
        let made = app
            .post("/api/v1/items", &cat, json!({"basic_code": it["item"]["basic_code"], "department_id": it["item"]["department_id"], "spec": spec}))
            .await
            .expect(201);
        let other = made["item"]["id"].as_i64().unwrap();
        app.post(&format!("/api/v1/items/{other}/publish"), &cat, json!({}))
            .await
            .expect(200);
        let b = app
            .post(
                "/api/v1/bundles",
                &cat,
                json!({"code": "440902-YJS-900", "region": "440902", "spec": {
                "name": "食品经营变更", "entries": [{"item_id": food}, {"item_id": other}]}}),
            )
            .await
            .expect(201);
        assert_eq!(b["conflicts"][0]["key"], "site_area");
        let id = b["bundle"]["id"].as_i64().unwrap();
        let r = app
            .post(&format!("/api/v1/bundles/{id}/publish"), &cat, json!({}))
            .await;
        assert_eq!(r.fields(), ["spec.fields.site_area"]);
        // Not published: the public does not see it.
        let all = app
            .req(axum::http::Method::GET, "/api/v1/bundles", None, None)
            .await
            .expect(200);
        assert!(!all.as_array().unwrap().iter().any(|x| x["id"] == id));
        // A clerk may not create bundles.
        let clerk = app.login("clerk").await;
        assert_eq!(app.post("/api/v1/bundles", &clerk, json!({"code": "x", "region": "440902", "spec": {"name": "x", "entries": [{"item_id": food}]}})).await.status, 403);
    }
);

both!(
    one_child_corrected_one_denied_ends_in_a_partial_unified_issuance,
    |app: TestApp| async move {
        let id = bundle_id(&app, "开办餐馆").await;
        let answers = json!({"public_place": "是", "large_site": "否", "existing_layout": "否"});
        let g = guide(&app, id, answers.clone()).await;
        let (form, materials) = fill(&g);
        let clerk = app.login("clerk").await;
        let bc = app
            .post(
                "/api/v1/bundle-cases",
                &clerk,
                json!({"bundle_id": id, "answers": answers, "channel": "window",
                "applicant": enterprise(), "form": form, "materials": materials}),
            )
            .await
            .expect(201);
        let bcid = bc["bundle_case"]["id"].as_i64().unwrap();
        let children = bc["children"].as_array().unwrap();
        assert_eq!(children.len(), 2);
        let child = |name: &str| {
            children.iter().find(|c| c["item_name"] == name).unwrap()["case_id"]
                .as_i64()
                .unwrap()
        };
        let (food, hygiene) = (
            child("食品经营许可（新办）"),
            child("公共场所卫生许可（新办）"),
        );

        // Each department works on its own child, in parallel.
        let reviewer = app.login("reviewer").await;
        let wjj = app.login("wjj-reviewer").await;
        assert_eq!(
            app.get(&format!("/api/v1/cases/{hygiene}"), &reviewer)
                .await
                .status,
            404
        );
        app.act(&reviewer, food, json!({"action": "accept"}))
            .await
            .expect(200);
        app.act(
            &wjj,
            hygiene,
            json!({"action": "request_correction", "items": [
            {"target": "M05", "problem": "卫生检测报告已过有效期，请提交一年内的报告"}]}),
        )
        .await
        .expect(200);

        // The applicant sees one combined notice on the bundle.
        let me = app.login(tongban::demo::DEMO_ENTERPRISE_CODE).await;
        let view = app
            .get(&format!("/api/v1/bundle-cases/{bcid}"), &me)
            .await
            .expect(200);
        let corr = view["corrections"].as_array().unwrap();
        assert_eq!(corr.len(), 1);
        assert_eq!(corr[0]["item_name"], "公共场所卫生许可（新办）");
        assert_eq!(view["issuance"]["ready"], false);
        // Someone else's bundle case does not exist for them.
        let other = app.login(tongban::demo::DEMO_PERSON_ID).await;
        assert_eq!(
            app.get(&format!("/api/v1/bundle-cases/{bcid}"), &other)
                .await
                .status,
            404
        );
        app.act(&me, hygiene, json!({"action": "supply_correction", "materials": [{"code": "M05", "status": "provided"}]})).await.expect(200);
        let view = app
            .get(&format!("/api/v1/bundle-cases/{bcid}"), &me)
            .await
            .expect(200);
        assert!(view["corrections"].as_array().unwrap().is_empty());

        // The health commission approves its licence; an approver for it first.
        let admin = app.login("admin").await;
        let wjj_dept =
            app.get("/api/v1/auth/me", &wjj).await.expect(200)["account"]["department_id"]
                .as_i64()
                .unwrap();
        app.post(
            "/api/v1/accounts",
            &admin,
            json!({"username": "wjj-approver", "name": "吴科长", "role": "dept_approver",
            "department_id": wjj_dept, "password": "Approve2026!x"}),
        )
        .await
        .expect(201);
        let wjj_approver = {
            let r = app.req(axum::http::Method::POST, "/api/v1/auth/login", None,
                Some(json!({"username": "wjj-approver", "password": "Approve2026!x", "kind": "bearer"}))).await.expect(200);
            r["token"].as_str().unwrap().to_string()
        };
        app.act(&wjj, hygiene, json!({"action": "accept"}))
            .await
            .expect(200);
        app.act(
            &wjj,
            hygiene,
            json!({"action": "review", "opinion": "符合卫生要求", "recommend_approval": true}),
        )
        .await
        .expect(200);
        app.act(&wjj_approver, hygiene, json!({"action": "approve"}))
            .await
            .expect(200);
        app.act(
            &wjj,
            hygiene,
            json!({"action": "produce_result", "number": "粤卫公证字〔2026〕第0901号"}),
        )
        .await
        .expect(200);
        let issuer = app.login("issuer").await;
        app.act(&issuer, hygiene, json!({"action": "check_result_ok"}))
            .await
            .expect(200);
        // Results go out together: not while the food licence is still being handled.
        let early = app
            .act(
                &issuer,
                hygiene,
                json!({"action": "deliver_pickup", "signed_by": "张伟"}),
            )
            .await;
        assert_eq!(early.status, 409);
        assert!(
            early.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("统一出件")
        );

        // The market regulator denies the food licence.
        let approver = app.login("approver").await;
        app.act(&reviewer, food, json!({"action": "review", "opinion": "后厨布局不符合要求", "recommend_approval": false})).await.expect(200);
        app.act(&approver, food, json!({"action": "deny", "reason": "经营场所布局不符合食品安全要求", "legal_basis": "《食品经营许可和备案管理办法》第十一条"})).await.expect(200);

        let view = app
            .get(&format!("/api/v1/bundle-cases/{bcid}"), &me)
            .await
            .expect(200);
        assert_eq!(view["issuance"]["ready"], true);
        assert_eq!(
            view["issuance"]["approved"],
            json!(["公共场所卫生许可（新办）"])
        );
        assert_eq!(
            view["issuance"]["not_approved"][0][0],
            "食品经营许可（新办）"
        );
        assert!(
            view["issuance"]["not_approved"][0][1]
                .as_str()
                .unwrap()
                .contains("布局不符合")
        );
        // Now what was approved goes out.
        app.act(
            &issuer,
            hygiene,
            json!({"action": "deliver_pickup", "signed_by": "张伟"}),
        )
        .await
        .expect(200);
    }
);

both!(
    a_child_that_needs_another_result_is_decided_after_it,
    |app: TestApp| async move {
        let id = bundle_id(&app, "二手房买卖").await;
        let answers = json!({"loan": "是"});
        let g = guide(&app, id, answers.clone()).await;
        assert_eq!(g["items"][1]["after"], json!([g["items"][0]["item_id"]]));
        let (form, materials) = fill(&g);
        let clerk = app.login("clerk").await;
        let bad = app
            .post("/api/v1/bundle-cases", &clerk, json!({"bundle_id": id, "answers": answers, "channel": "window",
                "applicant": person(), "form": form, "materials": [{"name": "不存在的材料", "status": "provided"}]}))
            .await;
        assert_eq!(bad.fields(), ["materials[0].name"]);
        let before = app.fingerprint();
        let missing = app
            .post(
                "/api/v1/bundle-cases",
                &clerk,
                json!({"bundle_id": id, "answers": answers, "channel": "window",
                "applicant": person(), "form": form, "materials": []}),
            )
            .await;
        assert_eq!(missing.status, 422);
        assert_eq!(
            app.fingerprint(),
            before,
            "no child received when one fails"
        );
        let bc = app
            .post(
                "/api/v1/bundle-cases",
                &clerk,
                json!({"bundle_id": id, "answers": answers, "channel": "window",
                "applicant": person(), "form": form, "materials": materials}),
            )
            .await
            .expect(201);
        let kids = bc["children"].as_array().unwrap();
        let (transfer, mortgage) = (
            kids[0]["case_id"].as_i64().unwrap(),
            kids[1]["case_id"].as_i64().unwrap(),
        );
        // The land bureau has no demo accounts; the admin makes a reviewer and an approver.
        let admin = app.login("admin").await;
        let dept = app
            .get(&format!("/api/v1/cases/{transfer}"), &clerk)
            .await
            .expect(200)["department_id"]
            .as_i64()
            .unwrap();
        for (u, role) in [
            ("zr-reviewer", "dept_reviewer"),
            ("zr-approver", "dept_approver"),
        ] {
            app.post("/api/v1/accounts", &admin, json!({"username": u, "name": u, "role": role, "department_id": dept, "password": "Approve2026!x"})).await.expect(201);
        }
        let tok = |u: &'static str| {
            let app = &app;
            async move {
                app.req(
                    axum::http::Method::POST,
                    "/api/v1/auth/login",
                    None,
                    Some(json!({"username": u, "password": "Approve2026!x", "kind": "bearer"})),
                )
                .await
                .expect(200)["token"]
                    .as_str()
                    .unwrap()
                    .to_string()
            }
        };
        let (rev, apr) = (tok("zr-reviewer").await, tok("zr-approver").await);
        for c in [transfer, mortgage] {
            app.act(&rev, c, json!({"action": "accept"}))
                .await
                .expect(200);
            app.act(
                &rev,
                c,
                json!({"action": "review", "opinion": "材料齐全", "recommend_approval": true}),
            )
            .await
            .expect(200);
        }
        let early = app.act(&apr, mortgage, json!({"action": "approve"})).await;
        assert_eq!(early.status, 409);
        assert!(
            early.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("国有建设用地使用权及房屋所有权转移登记")
        );
        app.act(&apr, transfer, json!({"action": "approve"}))
            .await
            .expect(200);
        app.act(&apr, mortgage, json!({"action": "approve"}))
            .await
            .expect(200);
    }
);

both!(
    items_of_one_department_configured_together_get_one_certificate,
    |app: TestApp| async move {
        let cat = app.login("catalog").await;
        let food = app
            .item("茂名市茂南区市场监督管理局", "食品经营许可（新办）")
            .await;
        let drug = app
            .item("茂名市茂南区市场监督管理局", "药品零售企业经营许可（新办）")
            .await;
        let b = app
            .post("/api/v1/bundles", &cat, json!({"code": "440902-YJS-020", "region": "440902", "spec": {
                "name": "开办药店（兼营食品）",
                "entries": [{"item_id": drug}, {"item_id": food}],
                "combined_certificates": [{"name": "食品药品经营许可证", "item_ids": [drug, food]}]}}))
            .await
            .expect(201);
        let id = b["bundle"]["id"].as_i64().unwrap();
        app.post(&format!("/api/v1/bundles/{id}/publish"), &cat, json!({}))
            .await
            .expect(200);
        let g = guide(&app, id, json!({})).await;
        let (form, materials) = fill(&g);
        let clerk = app.login("clerk").await;
        let reviewer = app.login("reviewer").await;
        let approver = app.login("approver").await;
        let apply = || {
            let (clerk, form, materials) = (clerk.clone(), form.clone(), materials.clone());
            let app = &app;
            async move {
                let bc = app
                    .post(
                        "/api/v1/bundle-cases",
                        &clerk,
                        json!({"bundle_id": id, "answers": {}, "channel": "window",
                        "applicant": enterprise(), "form": form, "materials": materials}),
                    )
                    .await
                    .expect(201);
                let kids = bc["children"].as_array().unwrap().clone();
                (
                    kids[0]["case_id"].as_i64().unwrap(),
                    kids[1]["case_id"].as_i64().unwrap(),
                )
            }
        };
        let approve = |c: i64| {
            let (reviewer, approver) = (reviewer.clone(), approver.clone());
            let app = &app;
            async move {
                app.act(&reviewer, c, json!({"action": "accept"}))
                    .await
                    .expect(200);
                app.act(
                    &reviewer,
                    c,
                    json!({"action": "review", "opinion": "符合", "recommend_approval": true}),
                )
                .await
                .expect(200);
                app.act(&approver, c, json!({"action": "approve"}))
                    .await
                    .expect(200);
            }
        };
        // Both approved: recording the drug licence records the same certificate for food.
        let (d1, f1) = apply().await;
        approve(d1).await;
        approve(f1).await;
        app.act(
            &reviewer,
            d1,
            json!({"action": "produce_result", "number": "粤AA6680201"}),
        )
        .await
        .expect(200);
        let f = app
            .get(&format!("/api/v1/cases/{f1}"), &reviewer)
            .await
            .expect(200);
        assert_eq!(f["state"], "result_ready");
        assert_eq!(f["result"]["number"], "粤AA6680201");
        assert!(
            f["result"]["summary"]
                .as_str()
                .unwrap()
                .contains("食品药品经营许可证")
        );
        // Decided at different times: the second must carry the first one's number.
        let (d2, f2) = apply().await;
        approve(d2).await;
        app.act(
            &reviewer,
            d2,
            json!({"action": "produce_result", "number": "粤AA6680202"}),
        )
        .await
        .expect(200);
        approve(f2).await;
        let wrong = app
            .act(
                &reviewer,
                f2,
                json!({"action": "produce_result", "number": "JY14409020099999"}),
            )
            .await;
        assert_eq!(wrong.fields(), ["number"]);
        app.act(
            &reviewer,
            f2,
            json!({"action": "produce_result", "number": "粤AA6680202"}),
        )
        .await
        .expect(200);
    }
);

both!(
    a_joint_site_inspection_is_scheduled_once_and_joined_by_the_other_department,
    |app: TestApp| async move {
        let id = bundle_id(&app, "开办餐馆").await;
        let answers = json!({"public_place": "是", "large_site": "否", "existing_layout": "否"});
        let g = guide(&app, id, answers.clone()).await;
        let (form, materials) = fill(&g);
        let clerk = app.login("clerk").await;
        let bc = app
            .post(
                "/api/v1/bundle-cases",
                &clerk,
                json!({"bundle_id": id, "answers": answers, "channel": "window",
                "applicant": enterprise(), "form": form, "materials": materials}),
            )
            .await
            .expect(201);
        let bcid = bc["bundle_case"]["id"].as_i64().unwrap();
        let kids = bc["children"].as_array().unwrap();
        let (food, hygiene) = (
            kids[0]["case_id"].as_i64().unwrap(),
            kids[1]["case_id"].as_i64().unwrap(),
        );
        let reviewer = app.login("reviewer").await;
        let wjj = app.login("wjj-reviewer").await;
        let path = format!("/api/v1/bundle-cases/{bcid}/inspections");
        // Not yet under review: refused, each child named.
        let r = app.post(&path, &reviewer, json!({"date": "2026-11-26", "place": "油城五路 88 号", "case_ids": [food, hygiene]})).await;
        assert_eq!(r.fields(), ["case_ids[0]", "case_ids[1]"]);
        app.act(&reviewer, food, json!({"action": "accept"}))
            .await
            .expect(200);
        app.act(&wjj, hygiene, json!({"action": "accept"}))
            .await
            .expect(200);
        // A day already past, and a clerk, are refused.
        let r = app.post(&path, &reviewer, json!({"date": "2026-11-20", "place": "油城五路 88 号", "case_ids": [food, hygiene]})).await;
        assert_eq!(r.fields(), ["date"]);
        assert_eq!(
            app.post(
                &path,
                &clerk,
                json!({"date": "2026-11-26", "place": "x", "case_ids": [food, hygiene]})
            )
            .await
            .status,
            403
        );
        // Scheduled once by the market regulator: its child is paused, the other invited.
        let v = app.post(&path, &reviewer, json!({"date": "2026-11-26", "place": "油城五路 88 号", "case_ids": [food, hygiene]})).await.expect(201);
        assert_eq!(v["bundle_case"]["inspections"][0]["joined"], json!([food]));
        assert_eq!(
            app.get(&format!("/api/v1/cases/{food}"), &reviewer)
                .await
                .expect(200)["state"],
            "paused"
        );
        assert_eq!(
            app.get(&format!("/api/v1/cases/{hygiene}"), &wjj)
                .await
                .expect(200)["state"],
            "under_review"
        );
        // The health commission sees it on the bundle's page and joins the same visit.
        let wb = app.sign_in("wjj-reviewer").await;
        let page = app.page(&wb, &format!("/bundle-cases/{bcid}")).await;
        assert!(
            page.text.contains("联合踏勘") && page.text.contains("本部门事项加入"),
            "{}",
            page.text
        );
        let r = app
            .form(
                &wb,
                &format!("/bundle-cases/{bcid}/inspections/1/join"),
                &[],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let v = app
            .get(&format!("/api/v1/bundle-cases/{bcid}"), &wjj)
            .await
            .expect(200);
        assert_eq!(
            v["bundle_case"]["inspections"][0]["joined"],
            json!([food, hygiene])
        );
        let h = app
            .get(&format!("/api/v1/cases/{hygiene}"), &wjj)
            .await
            .expect(200);
        assert_eq!(h["state"], "paused");
        assert!(h["pause"]["reason"].as_str().unwrap().contains("联合踏勘"));
        assert_eq!(
            app.post(&format!("{path}/1/join"), &wjj, json!({}))
                .await
                .status,
            409
        );
    }
);
