//! Bad input of every kind: a 4xx naming the field and the rule, and nothing changed.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use crate::app::*;
use crate::both;

both!(
    bad_input_names_the_field_and_changes_nothing,
    |app: TestApp| async move {
        let admin = app.login("admin").await;
        let catalog = app.login("catalog").await;
        let clerk = app.login("clerk").await;
        let reviewer = app.login("reviewer").await;
        let (food, good) = app.food_application().await;
        let spec = app
            .req(Method::GET, &format!("/api/v1/items/{food}"), None, None)
            .await
            .expect(200)["version"]["spec"]
            .clone();
        let case = app
            .post("/api/v1/cases", &clerk, good.clone())
            .await
            .expect(201)["id"]
            .as_i64()
            .unwrap();
        let before = app.fingerprint();

        let with = |f: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            f(&mut v);
            v
        };
        let mut catch_all = spec.clone();
        catch_all["materials"][0]["name"] = json!("其他相关材料");
        let mut bad_stages = spec.clone();
        bad_stages["promised_limit_days"] = json!(30);
        let mut unknown_key = spec.clone();
        unknown_key["materails"] = json!([]);

        // (who, method, path, body, the field the error must name)
        let cases: Vec<(&str, Method, String, Value, &str)> = vec![
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| v["applicant"]["identifier"] = json!("91440902MA4W5X7Q7A")),
                "applicant.identifier",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| {
                    v["applicant"]["kind"] = json!("person");
                    v["applicant"]["identifier"] = json!("440902199002301234");
                }),
                "applicant.identifier",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| v["applicant"]["phone"] = json!("12345")),
                "applicant.phone",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| v["applicant"]["name"] = json!("茂名市另一家公司")),
                "applicant.name",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| v["form"]["site_area"] = json!("八十平方")),
                "form.site_area",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| v["form"]["food_business_type"] = json!("夜总会")),
                "form.food_business_type",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| v["form"]["credit_code"] = json!("123")),
                "form.credit_code",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| v["form"]["nonsense"] = json!("x")),
                "form.nonsense",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| v["materials"] = json!([])),
                "materials.M01",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| set_material(v, "M01", json!({"status": "rongque"}))),
                "materials.M01",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| set_material(v, "M99", json!({"status": "provided"}))),
                "materials[4].code",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| {
                    set_material(v, "M01", json!({"status": "shared", "certificate_no": "x"}))
                }),
                "materials.M01",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| {
                    set_material(v, "M03", json!({"status": "rongque"}));
                    v["rongque_due"] = json!("2026-11-20");
                }),
                "rongque_due",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| v["item_id"] = json!("seven")),
                "item_id",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| v["channel"] = json!("fax")),
                "channel",
            ),
            (
                &clerk,
                Method::POST,
                "/api/v1/cases".into(),
                with(&|v| {
                    v.as_object_mut().unwrap().remove("channel");
                }),
                "channel",
            ),
            (
                &clerk,
                Method::POST,
                format!("/api/v1/cases/{case}/actions"),
                json!({"action": "teleport"}),
                "action",
            ),
            (
                &clerk,
                Method::POST,
                format!("/api/v1/cases/{case}/actions"),
                json!({"opinion": "x"}),
                "action",
            ),
            (
                &reviewer,
                Method::POST,
                format!("/api/v1/cases/{case}/actions"),
                json!({"action": "request_correction", "items": [{"target": "M01"}]}),
                "items[0].problem",
            ),
            (
                &reviewer,
                Method::POST,
                format!("/api/v1/cases/{case}/actions"),
                json!({"action": "refuse", "reason": "x"}),
                "legal_basis",
            ),
            (
                &admin,
                Method::POST,
                "/api/v1/regions".into(),
                json!({"code": "44090", "name": "x", "parent": "440902"}),
                "code",
            ),
            (
                &admin,
                Method::POST,
                "/api/v1/regions".into(),
                json!({"code": "440904105", "name": "x", "parent": "440902"}),
                "code",
            ),
            (
                &admin,
                Method::POST,
                "/api/v1/departments".into(),
                json!({"name": "测试局", "credit_code": "11440902MB2C12345Z", "region": "440902"}),
                "credit_code",
            ),
            (
                &admin,
                Method::POST,
                "/api/v1/departments".into(),
                json!({"name": "", "credit_code": "114409007015002949", "region": "440902"}),
                "name",
            ),
            (
                &admin,
                Method::POST,
                "/api/v1/accounts".into(),
                json!({"username": "a b", "name": "x", "role": "supervisor", "department_id": 1, "password": PW}),
                "username",
            ),
            (
                &admin,
                Method::POST,
                "/api/v1/accounts".into(),
                json!({"username": "weak", "name": "x", "role": "supervisor", "department_id": 1, "password": "12345678"}),
                "password",
            ),
            (
                &admin,
                Method::POST,
                "/api/v1/accounts".into(),
                json!({"username": "nobody", "name": "x", "role": "supervisor", "department_id": 9999, "password": PW}),
                "department_id",
            ),
            (
                &admin,
                Method::POST,
                "/api/v1/accounts".into(),
                json!({"username": "nobody", "name": "x", "role": "emperor", "department_id": 1, "password": PW}),
                "role",
            ),
            (
                &catalog,
                Method::PUT,
                format!("/api/v1/items/{food}/draft"),
                catch_all,
                "spec.materials[0].name",
            ),
            (
                &catalog,
                Method::PUT,
                format!("/api/v1/items/{food}/draft"),
                bad_stages,
                "spec.promised_limit_days",
            ),
            (
                &catalog,
                Method::PUT,
                format!("/api/v1/items/{food}/draft"),
                unknown_key,
                "materails",
            ),
            (
                &catalog,
                Method::POST,
                "/api/v1/basic-items".into(),
                json!({"code": "ab", "name": "x", "item_type": "license", "legal_basis": "x"}),
                "code",
            ),
            (
                &catalog,
                Method::POST,
                "/api/v1/items".into(),
                json!({"basic_code": "NOPE0001", "department_id": 9, "spec": spec}),
                "basic_code",
            ),
            (
                &admin,
                Method::PUT,
                "/api/v1/calendar/2027".into(),
                json!({"year": 2027, "holidays": [{"date": "2027-13-01", "name": "元旦"}], "adjusted_workdays": [], "source": "x"}),
                "holidays[0].date",
            ),
            (
                &admin,
                Method::PUT,
                "/api/v1/calendar/2027".into(),
                json!({"year": 2027, "holidays": [], "adjusted_workdays": [{"date": "2027-01-04", "name": "元旦"}], "source": "x"}),
                "adjusted_workdays[0].date",
            ),
            (
                &admin,
                Method::PUT,
                "/api/v1/calendar/2027".into(),
                json!({"year": 2026, "holidays": [], "adjusted_workdays": [], "source": "x"}),
                "year",
            ),
            (
                &clerk,
                Method::GET,
                "/api/v1/cases?limit=0".into(),
                Value::Null,
                "limit",
            ),
            (
                &clerk,
                Method::GET,
                "/api/v1/cases?state=lost".into(),
                Value::Null,
                "state",
            ),
            (
                &clerk,
                Method::GET,
                "/api/v1/cases?cursor=abc".into(),
                Value::Null,
                "cursor",
            ),
            (
                &clerk,
                Method::GET,
                "/api/v1/cases?due_before=tomorrow".into(),
                Value::Null,
                "due_before",
            ),
            (
                &clerk,
                Method::GET,
                "/api/v1/cases/by-number/440902-20261123-00001-0".into(),
                Value::Null,
                "number",
            ),
            (
                &clerk,
                Method::GET,
                "/api/v1/calendar/deadline?from=2026-02-30&working_days=2".into(),
                Value::Null,
                "from",
            ),
            (
                &clerk,
                Method::GET,
                "/api/v1/calendar/deadline?from=2026-02-03&working_days=-1".into(),
                Value::Null,
                "working_days",
            ),
            (
                &clerk,
                Method::GET,
                "/api/v1/calendar/deadline?from=2026-02-03&working_days=99999".into(),
                Value::Null,
                "working_days",
            ),
            (
                &clerk,
                Method::GET,
                "/api/v1/items?region=12".into(),
                Value::Null,
                "region",
            ),
        ];
        for (who, method, path, body, field) in cases {
            let body = if body.is_null() { None } else { Some(body) };
            let r = app.req(method.clone(), &path, Some(who), body).await;
            assert_eq!(r.status.as_u16(), 422, "{method} {path}: {}", r.body);
            let fields = r.fields();
            assert!(
                fields.iter().any(|f| f == field),
                "{method} {path}: expected {field}, got {fields:?}"
            );
            assert_eq!(r.code(), "validation_failed");
            for rule in r.body["error"]["fields"].as_object().unwrap().values() {
                assert!(!rule.as_str().unwrap().is_empty());
            }
        }
        assert_eq!(
            before,
            app.fingerprint(),
            "a refused request changed something"
        );
    }
);

both!(
    malformed_requests_get_the_envelope_not_a_500,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let before = app.fingerprint();
        let raw = |body: &'static str, ct: &'static str| {
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/cases")
                .header(header::AUTHORIZATION, format!("Bearer {clerk}"))
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap()
        };
        let r = app.send(raw("{\"item_id\": 1,", "application/json")).await;
        assert_eq!(
            (r.status.as_u16(), r.fields()),
            (422, vec!["body".to_string()])
        );
        let r = app
            .send(raw("item_id=1", "application/x-www-form-urlencoded"))
            .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (415, "unsupported_media_type")
        );
        let big =
            Box::leak(format!("{{\"x\": \"{}\"}}", "a".repeat(3 * 1024 * 1024)).into_boxed_str());
        let r = app.send(raw(big, "application/json")).await;
        assert_eq!(r.status.as_u16(), 413);
        let r = app.get("/api/v1/cases/abc", &clerk).await;
        assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"));
        let r = app.get("/api/v1/cases/999999", &clerk).await;
        assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"));
        for nowhere in ["/api/v1/nowhere", "/api/v1/", "/api/v1"] {
            let r = app.get(nowhere, &clerk).await;
            assert_eq!(
                (r.status.as_u16(), r.code()),
                (404, "not_found"),
                "{nowhere}"
            );
        }
        let r = app
            .req(Method::DELETE, "/api/v1/cases", Some(&clerk), None)
            .await;
        assert_eq!((r.status.as_u16(), r.code()), (405, "method_not_allowed"));
        assert_eq!(before, app.fingerprint());
    }
);
