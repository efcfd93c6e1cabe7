//! The catalog as a spreadsheet over HTTP: an export imported back changes nothing; a
//! file with errors in five rows reports all five and changes nothing; changes land as
//! drafts and publications through the editors' own rules; only catalog
//! administrators, within their region. And case lists and statistics as XLSX.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};
use tongban_core::catalog::sheets::{LAYOUT, sheet};
use tongban_core::table::Workbook;

use crate::app::*;
use crate::both;

impl TestApp {
    async fn download(&self, path: &str, token: &str) -> Resp {
        let r = self.get(path, token).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        r
    }

    async fn bytes(&self, path: &str, token: &str) -> Vec<u8> {
        let req = Request::builder()
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let resp = tower::ServiceExt::oneshot(self.router.clone(), req)
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    async fn import(&self, token: Option<&str>, query: &str, bytes: Vec<u8>) -> Resp {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/catalog/import{query}"))
            .header(header::CONTENT_TYPE, "application/octet-stream");
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(b.body(Body::from(bytes)).unwrap()).await
    }
}

fn col(sheet_name: &str, column: &str) -> usize {
    LAYOUT
        .iter()
        .find(|l| l.name == sheet_name)
        .unwrap()
        .columns
        .iter()
        .position(|c| c.name == column)
        .unwrap()
}

fn sheet_mut<'a>(wb: &'a mut Workbook, name: &str) -> &'a mut tongban_core::table::Sheet {
    wb.sheets.iter_mut().find(|s| s.name == name).unwrap()
}

fn set(wb: &mut Workbook, sheet_name: &str, row: usize, column: &str, v: &str) {
    let c = col(sheet_name, column);
    let r = &mut sheet_mut(wb, sheet_name).rows[row];
    if r.len() <= c {
        r.resize(c + 1, String::new());
    }
    r[c] = v.to_string();
}

fn xlsx(wb: &Workbook) -> Vec<u8> {
    tongban_sheets::write_xlsx(wb).unwrap()
}

both!(
    an_exported_catalog_imported_back_changes_nothing,
    |app: TestApp| async move {
        let catalog = app.login("catalog").await;
        let r = app
            .download("/api/v1/catalog/export?format=xlsx", &catalog)
            .await;
        assert!(
            r.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .contains("filename*=UTF-8''")
        );
        let first = app
            .bytes("/api/v1/catalog/export?format=xlsx", &catalog)
            .await;
        let wb = tongban_sheets::read(&first, "事项").unwrap();
        let items = wb.sheet(sheet::ITEMS).unwrap().rows.len();
        assert_eq!(items, 49);
        assert_eq!(wb.sheet(sheet::BUNDLES).unwrap().rows.len(), 3);
        let before = app.fingerprint();
        // Checked only, then imported: nothing to do either way.
        let dry = app
            .import(Some(&catalog), "?dry_run=true", first.clone())
            .await
            .expect(200);
        assert_eq!(dry["items_unchanged"], 49, "{dry}");
        let done = app
            .import(Some(&catalog), "", first.clone())
            .await
            .expect(200);
        assert_eq!(
            done,
            json!({"dry_run": false, "basic_items_created": 0, "items_created": 0, "items_changed": 0,
                   "items_published": 0, "items_status_changed": 0, "items_unchanged": 49,
                   "bundles_created": 0, "bundles_changed": 0, "bundles_published": 0, "bundles_unchanged": 3})
        );
        assert_eq!(app.fingerprint(), before, "the catalog is identical");
        // The CSV form too, and the export after is the export before.
        let zip = app
            .bytes("/api/v1/catalog/export?format=zip", &catalog)
            .await;
        assert_eq!(tongban_sheets::read(&zip, "事项").unwrap(), wb);
        app.import(Some(&catalog), "", zip).await.expect(200);
        assert_eq!(app.fingerprint(), before);
        let again = app
            .bytes("/api/v1/catalog/export?format=xlsx", &catalog)
            .await;
        assert_eq!(tongban_sheets::read(&again, "事项").unwrap(), wb);
    }
);

both!(
    a_file_with_errors_in_five_rows_reports_all_five_and_changes_nothing,
    |app: TestApp| async move {
        let catalog = app.login("catalog").await;
        let bytes = app.bytes("/api/v1/catalog/export", &catalog).await;
        let mut wb = tongban_sheets::read(&bytes, "事项").unwrap();
        // A change that would be fine on its own: it must not be written either.
        set(&mut wb, sheet::ITEMS, 0, "承诺时限", "1");
        set(&mut wb, sheet::ITEMS, 1, "办件类型", "加急件");
        set(
            &mut wb,
            sheet::ITEMS,
            2,
            "实施部门信用代码",
            "91440900MA4UJ5XXXX",
        );
        set(&mut wb, sheet::MATERIALS, 3, "材料名称", "其他相关材料");
        set(&mut wb, sheet::STAGES, 4, "时限", "三天");
        // (Row 2 of 一件事事项 has a 免交材料 row hanging on it; row 3 has none.)
        set(&mut wb, sheet::ENTRIES, 1, "实施编码", "NO-SUCH-ITEM-CODE");
        let before = app.fingerprint();
        let r = app.import(Some(&catalog), "", xlsx(&wb)).await;
        assert_eq!(r.status, 422, "{}", r.body);
        let f = r.body["error"]["fields"].as_object().unwrap();
        let cells: Vec<&str> = f.keys().map(String::as_str).collect();
        let at = |s: &str, c: &str, row: usize| tongban_core::table::cell_ref(s, col(s, c), row);
        let mut want = vec![
            at(sheet::ITEMS, "办件类型", 3),
            at(sheet::ITEMS, "实施部门信用代码", 4),
            at(sheet::MATERIALS, "材料名称", 5),
            at(sheet::STAGES, "时限", 6),
            at(sheet::ENTRIES, "实施编码", 3),
        ];
        want.sort();
        let mut got: Vec<String> = cells.iter().map(|s| s.to_string()).collect();
        got.sort();
        // 承诺时限 1 breaks the stage budgets of that item too: a sixth, honest report.
        got.retain(|c| !c.starts_with("事项!L2"));
        assert_eq!(got, want, "{}", r.body);
        assert!(
            f[&at(sheet::MATERIALS, "材料名称", 5)]
                .as_str()
                .unwrap()
                .contains("兜底")
        );
        assert!(
            f[&at(sheet::ITEMS, "实施部门信用代码", 4)]
                .as_str()
                .unwrap()
                .contains("没有这个统一社会信用代码")
        );
        assert_eq!(app.fingerprint(), before);
        // A file that is no spreadsheet at all.
        let r = app
            .import(Some(&catalog), "", b"\xD0\xCF\x11\xE0old".to_vec())
            .await;
        assert_eq!(r.fields(), ["file"]);
        assert!(
            r.body["error"]["fields"]["file"]
                .as_str()
                .unwrap()
                .contains(".xlsx")
        );
        assert_eq!(app.fingerprint(), before);
    }
);

both!(
    an_import_adds_items_saves_changes_as_drafts_and_publishes_where_asked,
    |app: TestApp| async move {
        let catalog = app.login("catalog").await;
        let bytes = app.bytes("/api/v1/catalog/export", &catalog).await;
        let mut wb = tongban_sheets::read(&bytes, "事项").unwrap();
        let items = sheet_mut(&mut wb, sheet::ITEMS);
        let code = |r: &Vec<String>| r[col(sheet::ITEMS, "实施编码")].clone();
        let food = items
            .rows
            .iter()
            .position(|r| r[col(sheet::ITEMS, "事项名称")] == "食品经营许可（新办）")
            .unwrap();
        let food_code = code(&items.rows[food]);
        // 1. A new item: a copy of 食品经营许可 under a new code and name, published.
        let mut new_row = items.rows[food].clone();
        let new_code = format!("{food_code}-X");
        new_row[col(sheet::ITEMS, "实施编码")] = new_code.clone();
        new_row[col(sheet::ITEMS, "事项名称")] = "小餐饮经营许可（新办）".into();
        new_row[col(sheet::ITEMS, "发布")] = "是".into();
        items.rows.push(new_row);
        for s in [sheet::MATERIALS, sheet::FIELDS, sheet::STAGES, sheet::FEES] {
            let sh = sheet_mut(&mut wb, s);
            let copies: Vec<Vec<String>> = sh
                .rows
                .iter()
                .filter(|r| r[0] == food_code)
                .map(|r| {
                    let mut r = r.clone();
                    r[0] = new_code.clone();
                    r
                })
                .collect();
            sh.rows.extend(copies);
        }
        // 2. A changed item left as a draft: another name for people to search by.
        let second = 1;
        let second_code = code(&sheet_mut(&mut wb, sheet::ITEMS).rows[second]);
        set(&mut wb, sheet::ITEMS, second, "别名", "导入测试别名");
        set(&mut wb, sheet::ITEMS, second, "发布", "否");
        let r = app.import(Some(&catalog), "", xlsx(&wb)).await.expect(200);
        assert_eq!(r["items_created"], 1, "{r}");
        assert_eq!(r["items_changed"], 1, "{r}");
        assert_eq!(r["items_published"], 1, "{r}");
        assert_eq!(r["items_unchanged"], 48, "{r}");
        // The new item is public and found by search at once.
        let found = app
            .req(
                Method::GET,
                &format!(
                    "/api/v1/search?q={}",
                    form_urlencoded::byte_serialize("小餐饮".as_bytes()).collect::<String>()
                ),
                None,
                None,
            )
            .await
            .expect(200);
        assert_eq!(
            found["items"][0]["name"], "小餐饮经营许可（新办）",
            "{found}"
        );
        // The changed item has a draft; the public still sees the published version.
        let list = app
            .get("/api/v1/items?all=true&limit=200", &catalog)
            .await
            .expect(200);
        let changed = list
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == second_code.as_str())
            .unwrap();
        assert_eq!(changed["draft_version"], 2, "{changed}");
        assert_eq!(changed["published_version"], 1);
        // Importing the same file again: nothing more to do.
        let r = app.import(Some(&catalog), "", xlsx(&wb)).await.expect(200);
        assert_eq!(r["items_unchanged"], 50, "{r}");
        // Suspending through the file.
        set(&mut wb, sheet::ITEMS, food, "状态", "暂停");
        let r = app.import(Some(&catalog), "", xlsx(&wb)).await.expect(200);
        assert_eq!(r["items_status_changed"], 1, "{r}");
    }
);

both!(
    only_catalog_administrators_import_and_export_within_their_region,
    |app: TestApp| async move {
        let catalog = app.login("catalog").await;
        let bytes = app.bytes("/api/v1/catalog/export", &catalog).await;
        let before = app.fingerprint();
        assert_eq!(app.import(None, "", bytes.clone()).await.status, 401);
        assert_eq!(
            app.req(Method::GET, "/api/v1/catalog/export", None, None)
                .await
                .status,
            401
        );
        for who in [
            "clerk",
            "reviewer",
            "supervisor",
            tongban::demo::DEMO_PERSON_ID,
        ] {
            let t = app.login(who).await;
            assert_eq!(
                app.import(Some(&t), "", bytes.clone()).await.status,
                403,
                "{who}"
            );
            assert_eq!(
                app.get("/api/v1/catalog/export", &t).await.status,
                403,
                "{who}"
            );
        }
        // A 电白 catalog administrator: the 茂南 and city items of the file are not theirs.
        let admin = app.login("admin").await;
        let depts = app
            .req(Method::GET, "/api/v1/departments", None, None)
            .await
            .expect(200);
        let dept = depts
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "茂名市电白区政务服务数据管理局")
            .unwrap()["id"]
            .clone();
        app.post(
            "/api/v1/accounts",
            &admin,
            json!({"username": "db-catalog", "name": "电白事项", "role": "catalog_admin", "department_id": dept, "password": PW}),
        )
        .await
        .expect(201);
        let db = app.login("db-catalog").await;
        let before2 = app.fingerprint();
        let r = app.import(Some(&db), "", bytes.clone()).await;
        let fields = r.body["error"]["fields"].as_object().unwrap();
        assert!(
            fields
                .values()
                .any(|v| v.as_str().unwrap().contains("不在本账号的区划范围内")),
            "{}",
            r.body
        );
        assert_eq!(app.fingerprint(), before2);
        // Their export holds only 电白 items.
        let theirs =
            tongban_sheets::read(&app.bytes("/api/v1/catalog/export", &db).await, "事项").unwrap();
        let n = theirs.sheet(sheet::ITEMS).unwrap().rows.len();
        assert!(0 < n && n < 49, "{n}");
        assert_eq!(before.len(), before2.len());
        // The template is public and empty.
        let t = tongban_sheets::read(&app.bytes("/api/v1/catalog/template", &db).await, "事项")
            .unwrap();
        assert_eq!(t.sheets.len(), LAYOUT.len());
        assert!(t.sheets.iter().all(|s| s.rows.is_empty()));
    }
);

both!(
    case_lists_and_statistics_export_as_spreadsheets_in_scope,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let food = app
            .item("茂名市茂南区市场监督管理局", "食品经营许可（新办）")
            .await;
        for _ in 0..3 {
            let mut body = app.full_application(food, "window").await;
            body["applicant"] = person();
            app.post("/api/v1/cases", &clerk, body).await.expect(201);
        }
        let reviewer = app.login("reviewer").await;
        let list = app
            .get("/api/v1/cases?state=open&limit=200", &reviewer)
            .await
            .expect(200);
        let wb = tongban_sheets::read(
            &app.bytes("/api/v1/cases/export?state=open", &reviewer)
                .await,
            "x",
        )
        .unwrap();
        let s = &wb.sheets[0];
        assert_eq!(s.name, "办件");
        assert_eq!(s.rows.len(), list["items"].as_array().unwrap().len());
        assert!(s.rows.len() >= 3);
        assert_eq!(
            s.rows.iter().filter(|r| r[3] == "张*").count(),
            3,
            "names are masked: {:?}",
            s.rows
        );
        // As in the list on screen: people's names masked, enterprises' not.
        assert!(!s.rows.iter().any(|r| r[3] == "张伟"), "{:?}", s.rows);
        // Another department's reviewer sees none of them.
        let other = app.login("wjj-reviewer").await;
        let wb = tongban_sheets::read(
            &app.bytes("/api/v1/cases/export?state=open", &other).await,
            "x",
        )
        .unwrap();
        assert!(wb.sheets[0].rows.is_empty());
        let applicant = app.login(tongban::demo::DEMO_PERSON_ID).await;
        let own = app
            .get("/api/v1/cases?limit=200", &applicant)
            .await
            .expect(200);
        let wb = tongban_sheets::read(&app.bytes("/api/v1/cases/export", &applicant).await, "x")
            .unwrap();
        assert_eq!(
            wb.sheets[0].rows.len(),
            own["items"].as_array().unwrap().len(),
            "an applicant exports their own"
        );
        assert!(wb.sheets[0].rows.len() >= 3);
        assert_eq!(
            app.req(Method::GET, "/api/v1/cases/export", None, None)
                .await
                .status,
            401
        );
        // Statistics.
        app.state.db.write(|tx| tx.fold_stats(1000)).await.unwrap();
        let supervisor = app.login("supervisor").await;
        let figures: Value = app
            .get("/api/v1/stats/on-time?from=2026-11&to=2026-11", &supervisor)
            .await
            .expect(200);
        let wb = tongban_sheets::read(
            &app.bytes(
                "/api/v1/stats/on-time/export?from=2026-11&to=2026-11",
                &supervisor,
            )
            .await,
            "x",
        )
        .unwrap();
        assert_eq!(wb.sheets[0].rows.len(), figures.as_array().unwrap().len());
        assert!(
            wb.sheets[0]
                .rows
                .iter()
                .any(|r| r[0] == "茂名市茂南区市场监督管理局" && r[2].parse::<i64>().unwrap() >= 3),
            "{:?}",
            wb.sheets[0].rows
        );
        assert_eq!(
            app.get(
                "/api/v1/stats/on-time/export?from=2026-11&to=2026-11",
                &clerk
            )
            .await
            .status,
            403
        );
        let bad = app
            .get(
                "/api/v1/stats/on-time/export?from=2026-13&to=2026-11",
                &supervisor,
            )
            .await;
        assert_eq!(bad.fields(), ["from"]);
    }
);

both!(
    the_import_page_lists_every_problem_and_reports_what_it_did,
    |app: TestApp| async move {
        let token = app.login("catalog").await;
        let good = app.bytes("/api/v1/catalog/export?format=zip", &token).await;
        let mut wb = tongban_sheets::read(&good, "事项").unwrap();
        set(&mut wb, sheet::MATERIALS, 0, "份数", "0");
        set(&mut wb, sheet::FIELDS, 2, "类型", "颜色");
        let bad = xlsx(&wb);
        let catalog = app.sign_in("catalog").await;
        let page = app.page(&catalog, "/admin/catalog").await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("/admin/catalog/export?format=xlsx"));
        let export = app
            .page(&catalog, "/admin/catalog/export?format=xlsx")
            .await;
        assert_eq!(export.status, 200);
        let before = app.fingerprint();
        let r = app
            .multipart(
                &catalog,
                "/admin/catalog/import",
                &[("_csrf", catalog.csrf.as_str())],
                &[("file", "事项目录.xlsx", &bad)],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(r.text.contains("有 2 处问题，未导入任何内容"), "{}", r.text);
        assert!(r.text.contains("份数：份数须在 1–20 之间"), "{}", r.text);
        assert!(r.text.contains("类型：须为以下之一"), "{}", r.text);
        assert_eq!(app.fingerprint(), before);
        // Checked only: the report, nothing written.
        let r = app
            .multipart(
                &catalog,
                "/admin/catalog/import",
                &[("_csrf", catalog.csrf.as_str()), ("dry_run", "1")],
                &[("file", "catalog.zip", &good)],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("检查通过（未写入）"), "{}", r.text);
        assert!(r.text.contains("未变 49 项"), "{}", r.text);
        assert_eq!(app.fingerprint(), before);
        // Other roles are refused the page, the download and the upload.
        for who in ["clerk", "admin", "supervisor"] {
            let b = app.sign_in(who).await;
            assert_eq!(app.page(&b, "/admin/catalog").await.status, 403, "{who}");
            assert_eq!(
                app.page(&b, "/admin/catalog/export").await.status,
                403,
                "{who}"
            );
            let r = app
                .multipart(
                    &b,
                    "/admin/catalog/import",
                    &[("_csrf", b.csrf.as_str())],
                    &[("file", "c.zip", &good)],
                )
                .await;
            assert_eq!(r.status, 403, "{who}");
        }
        // Sign-ins add sessions; nothing else changed.
        let strip = |f: Vec<(String, i64, i64)>| {
            f.into_iter()
                .filter(|(t, _, _)| t != "sessions")
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(app.fingerprint()), strip(before));
    }
);
