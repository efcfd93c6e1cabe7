//! The catalog over HTTP: drafts, publishing, versions kept by cases, suspension.

use axum::http::Method;
use serde_json::json;

use crate::app::*;
use crate::both;

both!(
    a_case_keeps_the_version_it_was_filed_on,
    |app: TestApp| async move {
        let catalog = app.login("catalog").await;
        let clerk = app.login("clerk").await;
        let food = app
            .item("茂名市茂南区市场监督管理局", "食品经营许可（新办）")
            .await;
        let v1 = app
            .req(Method::GET, &format!("/api/v1/items/{food}"), None, None)
            .await
            .expect(200);
        assert_eq!(v1["version"]["version"], 1);
        let mut body = app.full_application(food, "window").await;
        body["applicant"] = enterprise();
        let old_case = app
            .post("/api/v1/cases", &clerk, body.clone())
            .await
            .expect(201);

        // A new draft: promised limit cut from 5 to 3 working days. Not public yet.
        let mut spec = v1["version"]["spec"].clone();
        spec["promised_limit_days"] = json!(3);
        spec["stages"] = json!([{"kind": "accept", "days": 1}, {"kind": "review", "days": 1}, {"kind": "site_inspection", "days": 3},
                            {"kind": "decide", "days": 1}, {"kind": "produce", "days": 1}]);
        let d = app
            .req(
                Method::PUT,
                &format!("/api/v1/items/{food}/draft"),
                Some(&catalog),
                Some(spec),
            )
            .await
            .expect(200);
        assert_eq!(d["version"]["version"], 2);
        assert_eq!(d["version"]["state"], "draft");
        let public = app
            .req(Method::GET, &format!("/api/v1/items/{food}"), None, None)
            .await
            .expect(200);
        assert_eq!(
            public["version"]["version"], 1,
            "the public still sees version 1"
        );
        assert_eq!(
            app.req(
                Method::GET,
                &format!("/api/v1/items/{food}?version=2"),
                None,
                None
            )
            .await
            .status,
            404
        );
        let versions = app
            .req(
                Method::GET,
                &format!("/api/v1/items/{food}/versions"),
                None,
                None,
            )
            .await
            .expect(200);
        assert_eq!(versions.as_array().unwrap().len(), 1);

        let p = app
            .post(
                &format!("/api/v1/items/{food}/publish"),
                &catalog,
                json!({}),
            )
            .await
            .expect(200);
        assert_eq!(p["item"]["published_version"], 2);
        let new_case = app.post("/api/v1/cases", &clerk, body).await.expect(201);
        assert_eq!(
            (
                old_case["item_version"].as_u64(),
                new_case["item_version"].as_u64()
            ),
            (Some(1), Some(2))
        );
        // Version 1 is still there for the case filed on it, and marked superseded.
        let v1_again = app
            .req(
                Method::GET,
                &format!("/api/v1/items/{food}?version=1"),
                None,
                None,
            )
            .await
            .expect(200);
        assert_eq!(v1_again["version"]["state"], "superseded");
        assert_eq!(v1_again["version"]["spec"]["promised_limit_days"], 5);
        // The old case runs on the old limit.
        let reviewer = app.login("reviewer").await;
        let c = app
            .act(
                &reviewer,
                old_case["id"].as_i64().unwrap(),
                json!({"action": "accept"}),
            )
            .await
            .expect(200);
        assert_eq!(c["clocks"]["promised"]["budget"], 5);
        let c = app
            .act(
                &reviewer,
                new_case["id"].as_i64().unwrap(),
                json!({"action": "accept"}),
            )
            .await
            .expect(200);
        assert_eq!(c["clocks"]["promised"]["budget"], 3);
        // Publishing again without a draft is refused.
        assert_eq!(
            app.post(
                &format!("/api/v1/items/{food}/publish"),
                &catalog,
                json!({})
            )
            .await
            .status,
            409
        );
    }
);

both!(
    a_new_item_is_created_as_a_draft_with_a_generated_implementation_code,
    |app: TestApp| async move {
        let catalog = app.login("catalog").await;
        let food = app
            .item("茂名市茂南区市场监督管理局", "食品经营许可（新办）")
            .await;
        let spec = app
            .req(Method::GET, &format!("/api/v1/items/{food}"), None, None)
            .await
            .expect(200)["version"]["spec"]
            .clone();
        let depts = app
            .req(Method::GET, "/api/v1/departments?region=440904", None, None)
            .await
            .expect(200);
        let db_scjg = depts
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "茂名市电白区市场监督管理局")
            .unwrap()
            .clone();
        let r = app
            .post(
                "/api/v1/items",
                &catalog,
                json!({"basic_code": "SJ11700800", "department_id": db_scjg["id"], "spec": spec}),
            )
            .await
            .expect(201);
        let code = r["item"]["code"].as_str().unwrap();
        // basic code - region padded to 12 - 000 - credit code - 1 - serial (a second 电白 item of this basic code).
        assert_eq!(
            code,
            format!(
                "SJ11700800-440904000000-000-{}-1-01",
                db_scjg["credit_code"].as_str().unwrap()
            )
        );
        assert_eq!(r["item"]["published_version"], serde_json::Value::Null);
        let id = r["item"]["id"].as_i64().unwrap();
        // Not public until published.
        assert_eq!(
            app.req(Method::GET, &format!("/api/v1/items/{id}"), None, None)
                .await
                .status,
            404
        );
        let list = app
            .req(
                Method::GET,
                "/api/v1/items?region=440904&limit=200",
                None,
                None,
            )
            .await
            .expect(200);
        assert!(list.as_array().unwrap().iter().all(|i| i["id"] != id));
        let all = app
            .get("/api/v1/items?region=440904&limit=200&all=true", &catalog)
            .await
            .expect(200);
        assert!(all.as_array().unwrap().iter().any(|i| i["id"] == id));
        // An applicant cannot file on it yet.
        let clerk = app.login("clerk").await;
        let r = app
            .post(
                "/api/v1/cases",
                &clerk,
                json!({"item_id": id, "channel": "window", "applicant": enterprise()}),
            )
            .await;
        assert_eq!(r.status, 409);
    }
);

both!(
    suspended_and_cancelled_items_take_no_new_cases,
    |app: TestApp| async move {
        let catalog = app.login("catalog").await;
        let clerk = app.login("clerk").await;
        let (food, body) = app.food_application().await;
        let open_case = app
            .post("/api/v1/cases", &clerk, body.clone())
            .await
            .expect(201);
        app.post(
            &format!("/api/v1/items/{food}/status"),
            &catalog,
            json!({"change": "suspend"}),
        )
        .await
        .expect(200);
        let r = app.post("/api/v1/cases", &clerk, body.clone()).await;
        assert_eq!(r.status, 409);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("暂停")
        );
        // Open cases go on.
        let reviewer = app.login("reviewer").await;
        app.act(
            &reviewer,
            open_case["id"].as_i64().unwrap(),
            json!({"action": "accept"}),
        )
        .await
        .expect(200);
        // The public list no longer offers it.
        let list = app
            .req(
                Method::GET,
                "/api/v1/items?region=440902&limit=200",
                None,
                None,
            )
            .await
            .expect(200);
        assert!(list.as_array().unwrap().iter().all(|i| i["id"] != food));
        app.post(
            &format!("/api/v1/items/{food}/status"),
            &catalog,
            json!({"change": "resume"}),
        )
        .await
        .expect(200);
        app.post("/api/v1/cases", &clerk, body.clone())
            .await
            .expect(201);
        app.post(
            &format!("/api/v1/items/{food}/status"),
            &catalog,
            json!({"change": "cancel"}),
        )
        .await
        .expect(200);
        assert_eq!(app.post("/api/v1/cases", &clerk, body).await.status, 409);
        // Cancelled is final.
        assert_eq!(
            app.post(
                &format!("/api/v1/items/{food}/status"),
                &catalog,
                json!({"change": "resume"})
            )
            .await
            .status,
            409
        );
    }
);

both!(
    catch_all_material_names_are_refused_when_an_item_is_saved,
    |app: TestApp| async move {
        let catalog = app.login("catalog").await;
        let food = app
            .item("茂名市茂南区市场监督管理局", "食品经营许可（新办）")
            .await;
        let mut spec = app
            .req(Method::GET, &format!("/api/v1/items/{food}"), None, None)
            .await
            .expect(200)["version"]["spec"]
            .clone();
        for (i, name) in ["其他材料", "相关材料", "场所证明等材料"]
            .iter()
            .enumerate()
        {
            spec["materials"][i]["name"] = json!(name);
        }
        let r = app
            .req(
                Method::PUT,
                &format!("/api/v1/items/{food}/draft"),
                Some(&catalog),
                Some(spec),
            )
            .await;
        assert_eq!(
            r.fields(),
            [
                "spec.materials[0].name",
                "spec.materials[1].name",
                "spec.materials[2].name"
            ]
        );
        assert!(
            r.body["error"]["fields"]["spec.materials[0].name"]
                .as_str()
                .unwrap()
                .contains("兜底")
        );
    }
);
