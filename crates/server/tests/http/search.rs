//! Catalog search over HTTP: Chinese words, pinyin, synonyms, filters; the index
//! follows every publish on every server without a restart; synonyms and rebuilds are
//! for catalog administrators only.

use axum::http::Method;
use serde_json::{Value, json};

use crate::app::*;
use crate::both;

async fn search(app: &TestApp, query: &str) -> Value {
    app.req(Method::GET, &format!("/api/v1/search?{query}"), None, None)
        .await
        .expect(200)
}

fn names(r: &Value) -> Vec<String> {
    r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_string())
        .collect()
}

fn q(text: &str) -> String {
    let enc: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
    format!("q={enc}")
}

both!(
    people_find_items_in_their_own_words,
    |app: TestApp| async move {
        // A two-character word inside a longer one: 执照 in 营业执照.
        let r = search(&app, &q("执照")).await;
        assert!(
            names(&r).iter().any(|n| n.contains("个体工商户设立登记")),
            "{r}"
        );
        assert!(
            r["items"][0]["snippet_html"]
                .as_str()
                .unwrap()
                .contains("<b>执照</b>")
        );
        // Pinyin initials and full pinyin.
        let r = search(&app, "q=yyzz").await;
        assert!(
            names(&r).iter().take(3).any(|n| n.contains("设立登记")),
            "{r}"
        );
        let r = search(&app, "q=weisheng").await;
        assert!(names(&r).iter().any(|n| n.contains("卫生")), "{r}");
        // A synonym of the demo county: 饭店 → 餐饮, 食品经营.
        let r = search(&app, &q("我想开个饭店")).await;
        assert_eq!(names(&r)[0], "食品经营许可（新办）", "{r}");
        assert!(r["searched"].as_str().unwrap().contains("餐饮"));
        // Materials are searched too: 体检 is only in a material's name.
        let r = search(&app, &q("体检")).await;
        assert_eq!(names(&r)[0], "医师执业注册（首次注册）", "{r}");
        assert!(
            r["items"][0]["snippet_html"]
                .as_str()
                .unwrap()
                .starts_with("材料：")
        );
    }
);

both!(
    search_filters_narrow_the_results,
    |app: TestApp| async move {
        let all = search(&app, &q("食品经营许可")).await;
        assert_eq!(
            names(&all)
                .iter()
                .filter(|n| n.contains("食品经营许可"))
                .count(),
            2,
            "{all}"
        );
        // 茂南区 only.
        let r = search(&app, &format!("{}&region=440902", q("食品经营许可"))).await;
        let depts: Vec<&str> = r["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["department"].as_str().unwrap())
            .collect();
        assert!(
            !depts.is_empty() && depts.iter().all(|d| d.contains("茂南区")),
            "{r}"
        );
        // By department.
        let dept = app
            .item("茂名市电白区市场监督管理局", "食品经营许可（新办）")
            .await;
        let it = app
            .req(Method::GET, &format!("/api/v1/items/{dept}"), None, None)
            .await
            .expect(200);
        let dept_id = it["item"]["department_id"].as_i64().unwrap();
        let r = search(&app, &format!("{}&department_id={dept_id}", q("许可"))).await;
        assert!(
            r["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|h| h["department"] == "茂名市电白区市场监督管理局"),
            "{r}"
        );
        // Service object and type.
        let persons = search(&app, &format!("{}&object=person", q("登记"))).await;
        let enterprises = search(&app, &format!("{}&object=enterprise", q("登记"))).await;
        assert_ne!(names(&persons), names(&enterprises));
        let licences = search(&app, &format!("{}&item_type=license", q("登记"))).await;
        let all = search(&app, &q("登记")).await;
        assert!(names(&licences).len() < names(&all).len());
        // Bad parameters are named.
        let bad = app
            .req(
                Method::GET,
                "/api/v1/search?q=&region=12&item_type=x&object=y&limit=0",
                None,
                None,
            )
            .await;
        let mut f = bad.fields();
        f.sort();
        assert_eq!(f, ["item_type", "limit", "object", "q", "region"]);
    }
);

both!(
    the_index_follows_publishing_on_every_server,
    |a: TestApp| async move {
        let b = a.second_node();
        let catalog = a.login("catalog").await;
        // Both servers have searched once (their indexes are built).
        assert!(names(&search(&a, &q("食品经营")).await).len() >= 2);
        assert!(names(&search(&b, &q("食品经营")).await).len() >= 2);
        let food = a
            .item("茂名市茂南区市场监督管理局", "食品经营许可（新办）")
            .await;
        let v = a
            .req(Method::GET, &format!("/api/v1/items/{food}"), None, None)
            .await
            .expect(200);
        // A new version with an alias nobody used before, published on server A.
        let mut spec = v["version"]["spec"].clone();
        spec["aliases"] = json!(["奶茶店许可"]);
        a.req(
            Method::PUT,
            &format!("/api/v1/items/{food}/draft"),
            Some(&catalog),
            Some(spec),
        )
        .await
        .expect(200);
        // A draft is not public: not found yet.
        assert!(names(&search(&b, &q("奶茶店")).await).is_empty());
        a.post(
            &format!("/api/v1/items/{food}/publish"),
            &catalog,
            json!({}),
        )
        .await
        .expect(200);
        // Found at once on both servers, without a restart.
        for node in [&a, &b] {
            let r = search(node, &q("奶茶店")).await;
            assert_eq!(r["items"][0]["item_id"].as_i64(), Some(food), "{r}");
        }
        // Suspended: gone from both.
        a.post(
            &format!("/api/v1/items/{food}/status"),
            &catalog,
            json!({"change": "suspend"}),
        )
        .await
        .expect(200);
        for node in [&a, &b] {
            assert!(names(&search(node, &q("奶茶店")).await).is_empty());
        }
        // A rebuild asked for on A is done there at once, and on B at its next look.
        let r = a
            .post("/api/v1/admin/search/rebuild", &catalog, json!({}))
            .await
            .expect(200);
        assert_eq!(r["rebuilt"], true);
        let refreshed = b.state.search.refresh(&b.state).await.unwrap();
        assert!(refreshed.rebuilt);
        assert_eq!(refreshed.indexed, a.state.search.len());
    }
);

both!(
    synonyms_are_edited_by_catalog_administrators_only,
    |app: TestApp| async move {
        let catalog = app.login("catalog").await;
        let clerk = app.login("clerk").await;
        let person = app.login(tongban::demo::DEMO_PERSON_ID).await;
        let before = app
            .get("/api/v1/search/synonyms", &catalog)
            .await
            .expect(200);
        assert!(before["synonyms"]["饭店"].is_array());
        for who in [&clerk, &person] {
            assert_eq!(app.get("/api/v1/search/synonyms", who).await.status, 403);
        }
        let fp = app.fingerprint();
        for who in [&clerk, &person] {
            let r = app
                .req(
                    Method::PUT,
                    "/api/v1/search/synonyms",
                    Some(who),
                    Some(json!({"synonyms": {"奶茶": ["食品经营"]}})),
                )
                .await;
            assert_eq!(r.status, 403);
            assert_eq!(
                app.post("/api/v1/admin/search/rebuild", who, json!({}))
                    .await
                    .status,
                403
            );
        }
        // Bad input is named and changes nothing.
        let r = app
            .req(
                Method::PUT,
                "/api/v1/search/synonyms",
                Some(&catalog),
                Some(json!({"synonyms": {"奶茶": [], "开店": ["开店"]}})),
            )
            .await;
        let mut f = r.fields();
        f.sort();
        assert_eq!(f, ["synonyms.奶茶", "synonyms.开店"]);
        assert_eq!(app.fingerprint(), fp);
        assert!(names(&search(&app, &q("奶茶")).await).is_empty());
        // An administrator adds one: searches use it at once.
        let mut s = before["synonyms"].clone();
        s["奶茶"] = json!(["食品经营"]);
        app.req(
            Method::PUT,
            "/api/v1/search/synonyms",
            Some(&catalog),
            Some(json!({"synonyms": s})),
        )
        .await
        .expect(200);
        let r = search(&app, &q("奶茶")).await;
        assert!(names(&r).iter().any(|n| n.contains("食品经营许可")), "{r}");
        // A second server too.
        let b = app.second_node();
        let r = search(&b, &q("奶茶")).await;
        assert!(names(&r).iter().any(|n| n.contains("食品经营许可")), "{r}");
    }
);

both!(
    the_portal_and_the_window_search_as_people_type,
    |app: TestApp| async move {
        // The portal: anyone, ranked, with the matched words highlighted.
        let r = app
            .req(Method::GET, &format!("/?{}", q("开饭店")), None, None)
            .await;
        assert_eq!(r.status, 200);
        let first = r.text.find("食品经营许可（新办）").expect("found");
        assert!(r.text[first..].contains("class=\"snippet\""), "{}", r.text);
        assert!(r.text.contains("按相关程度排列"));
        let none = app
            .req(Method::GET, &format!("/?{}", q("火星移民签证")), None, None)
            .await;
        assert!(none.text.contains("换个说法试试"));
        // The window: pinyin initials typed so far narrow the list, within the clerk's region.
        let clerk = app.sign_in("clerk").await;
        let all = app
            .page(&clerk, "/window")
            .await
            .text
            .matches("/window/receive/")
            .count();
        let some = app.page(&clerk, "/window?q=spjy").await;
        let n = some.text.matches("/window/receive/").count();
        assert!(0 < n && n < all, "{n} of {all}");
        assert!(some.text.contains("食品经营许可（新办）"));
        assert!(!some.text.contains("电白区"), "only the clerk's region");
        // The window still takes a single character while the clerk types.
        let one = app.page(&clerk, &format!("/window?{}", q("食"))).await;
        assert!(one.text.contains("食品经营许可（新办）"));
    }
);

both!(
    the_synonyms_page_saves_lines_for_every_search,
    |app: TestApp| async move {
        let catalog = app.sign_in("catalog").await;
        let page = app.page(&catalog, "/admin/synonyms").await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("饭店 = 餐饮，食品经营"));
        // A line without "=" is named and nothing changes.
        let fp = app.fingerprint();
        let bad = app
            .form(
                &catalog,
                "/admin/synonyms",
                &[("lines", "饭店 = 餐饮\n奶茶 食品经营")],
            )
            .await;
        assert_eq!(bad.status, 422, "{}", bad.text);
        assert!(bad.text.contains("第 2 行"), "{}", bad.text);
        assert_eq!(app.fingerprint(), fp);
        let ok = app
            .form(
                &catalog,
                "/admin/synonyms",
                &[("lines", "饭店 = 餐饮，食品经营\n奶茶 = 食品经营")],
            )
            .await;
        assert_eq!(ok.status, 303, "{}", ok.text);
        let r = search(&app, &q("奶茶")).await;
        assert!(names(&r).iter().any(|n| n.contains("食品经营许可")));
        // Nobody else reaches the page.
        for who in ["clerk", "admin", "supervisor"] {
            let b = app.sign_in(who).await;
            assert_eq!(app.page(&b, "/admin/synonyms").await.status, 403, "{who}");
            assert_eq!(
                app.form(&b, "/admin/synonyms", &[("lines", "x = y")])
                    .await
                    .status,
                403,
                "{who}"
            );
        }
        assert!(
            names(&search(&app, &q("奶茶")).await)
                .iter()
                .any(|n| n.contains("食品经营许可"))
        );
    }
);
