//! The pages, in-process: sign-in, CSRF, uploads and downloads, scope, notices. (The
//! same flows in a real Chromium are in the browser suite.)

use axum::body::Body;
use axum::http::{Method, Request, header};

use crate::app::*;
use crate::both;
use tongban::demo;

/// A signed-in browser: its cookie and the CSRF token its pages carry.
pub struct Browser {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

/// The value of `name="_csrf"` in a page.
fn csrf_in(html: &str) -> String {
    let at = html
        .find("name=\"_csrf\" value=\"")
        .expect("a form with _csrf");
    let rest = &html[at + 20..];
    rest[..rest.find('"').unwrap()].to_string()
}

impl TestApp {
    pub(crate) async fn sign_in(&self, username: &str) -> Browser {
        let body = format!("username={}&password={}&next=%2Fhome", username, PW);
        let r = self
            .send(
                Request::builder()
                    .method(Method::POST)
                    .uri("/login")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let cookie = r.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let home = r.headers[header::LOCATION].to_str().unwrap().to_string();
        let page = self
            .page(
                &Browser {
                    cookie: cookie.clone(),
                    csrf: String::new(),
                },
                &home,
            )
            .await;
        assert_eq!(page.status, 200, "{home}: {}", page.text);
        Browser {
            csrf: csrf_in(&page.text),
            cookie,
        }
    }

    pub(crate) async fn page(&self, b: &Browser, path: &str) -> Resp {
        self.send(
            Request::builder()
                .uri(path)
                .header(header::COOKIE, &b.cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub(crate) async fn form(&self, b: &Browser, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut all = vec![("_csrf", b.csrf.as_str())];
        all.extend_from_slice(fields);
        self.multipart(b, path, &all, &[]).await
    }

    pub(crate) async fn multipart(
        &self,
        b: &Browser,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Resp {
        let boundary = "----tongbanTestBoundary7MA4YWxk";
        let mut body: Vec<u8> = Vec::new();
        for (k, v) in fields {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        for (k, name, bytes) in files {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(path)
                .header(header::COOKIE, &b.cookie)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// The food licence's required materials and fields, as page form entries.
async fn food_form(app: &TestApp) -> (i64, Vec<(String, String)>, Vec<String>) {
    let item = app
        .item("茂名市茂南区市场监督管理局", "食品经营许可（新办）")
        .await;
    let full = app.full_application(item, "online").await;
    let fields = full["form"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (format!("form.{k}"), v.as_str().unwrap().to_string()))
        .collect();
    let codes = full["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap().to_string())
        .collect();
    (item, fields, codes)
}

both!(
    an_applicant_applies_with_uploads_and_only_those_allowed_read_them,
    |app: TestApp| async move {
        let me = app.sign_in(demo::DEMO_ENTERPRISE_CODE).await;
        let (item, fields, codes) = food_form(&app).await;
        let apply = app.page(&me, &format!("/items/{item}/apply")).await;
        assert_eq!(apply.status, 200);
        assert!(apply.text.contains("type=\"file\""));

        // A file that is not a PDF or an image is refused, naming the material; nothing is written.
        let before = app.fingerprint();
        let mut f: Vec<(&str, &str)> = vec![("_csrf", &me.csrf), ("save", "submit")];
        f.extend(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let file_names: Vec<String> = codes.iter().map(|c| format!("file.{c}")).collect();
        let mut files: Vec<(&str, &str, &[u8])> = file_names
            .iter()
            .map(|n| (n.as_str(), "营业执照.pdf", PDF))
            .collect();
        files[0] = (
            file_names[0].as_str(),
            "setup.exe",
            b"MZ\x90\x00\x03 not a scan",
        );
        let bad = app
            .multipart(&me, &format!("/items/{item}/apply"), &f, &files)
            .await;
        assert_eq!(bad.status, 422, "{}", bad.text);
        assert!(bad.text.contains("文件类型不支持") && bad.text.contains("setup.exe"));
        assert_eq!(app.fingerprint(), before);

        // With scans it is filed online and waits for pre-review.
        files[0] = (file_names[0].as_str(), "营业执照.pdf", PDF);
        let ok = app
            .multipart(&me, &format!("/items/{item}/apply"), &f, &files)
            .await;
        assert_eq!(ok.status, 303, "{}", ok.text);
        let to = ok.headers[header::LOCATION].to_str().unwrap().to_string();
        let case = app.page(&me, &to).await;
        assert_eq!(case.status, 200);
        assert!(case.text.contains("已办理：收件"), "{}", case.text);
        let link_at = case.text.find("/files/").expect("a download link");
        let start = case.text[..link_at].rfind('"').unwrap() + 1;
        let end = link_at + case.text[link_at..].find('"').unwrap();
        let link = case.text[start..end].to_string();

        // The applicant reads the scan back, byte for byte, as a PDF.
        let got = app.page(&me, &link).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.headers[header::CONTENT_TYPE], "application/pdf");
        assert_eq!(got.text.as_bytes(), PDF);
        // Another applicant, a reviewer of another department, and nobody, cannot.
        let other = app.sign_in(demo::DEMO_PERSON_ID).await;
        assert_eq!(app.page(&other, &link).await.status, 404);
        let wjj = app.sign_in("wjj-reviewer").await;
        assert_eq!(app.page(&wjj, &link).await.status, 404);
        let anon = app
            .send(Request::builder().uri(&link).body(Body::empty()).unwrap())
            .await;
        assert_eq!(anon.status, 303);
        assert!(
            anon.headers[header::LOCATION]
                .to_str()
                .unwrap()
                .starts_with("/login?next=")
        );
        // The clerk of the county (pre-review) can.
        let clerk = app.sign_in("clerk").await;
        assert_eq!(app.page(&clerk, &link).await.status, 200);
    }
);

both!(
    a_json_body_is_held_to_2_mb_and_a_page_upload_to_its_own_larger_limit,
    |app: TestApp| async move {
        // The API takes JSON up to MAX_BODY: one byte more is a 413 naming the rule, and
        // nothing is written.
        let clerk = app.login("clerk").await;
        let (_, mut body) = app.food_application().await;
        body["note"] = serde_json::json!("备".repeat(tongban_web::MAX_BODY / 3));
        assert!(body.to_string().len() > tongban_web::MAX_BODY);
        let before = app.fingerprint();
        let big = app.post("/api/v1/cases", &clerk, body).await;
        assert_eq!(big.status, 413, "{}", big.text);
        assert_eq!(big.code(), "payload_too_large");
        assert_eq!(app.fingerprint(), before);

        // A page form with a 3 MB scan (over the API's limit, under the pages' and the
        // 10 MB a file may have) is filed.
        let me = app.sign_in(demo::DEMO_ENTERPRISE_CODE).await;
        let (item, fields, codes) = food_form(&app).await;
        let mut f: Vec<(&str, &str)> = vec![("_csrf", &me.csrf), ("save", "submit")];
        f.extend(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let file_names: Vec<String> = codes.iter().map(|c| format!("file.{c}")).collect();
        let scan = [PDF, &vec![b' '; 3 * 1024 * 1024]].concat();
        assert!(scan.len() > tongban_web::MAX_BODY);
        let mut files: Vec<(&str, &str, &[u8])> = file_names
            .iter()
            .map(|n| (n.as_str(), "营业执照.pdf", PDF))
            .collect();
        files[0].2 = &scan;
        let ok = app
            .multipart(&me, &format!("/items/{item}/apply"), &f, &files)
            .await;
        assert_eq!(ok.status, 303, "{}", ok.text);
    }
);

both!(
    forms_without_the_session_csrf_token_change_nothing,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let (_, body) = app.food_application().await;
        let id = app.post("/api/v1/cases", &clerk, body).await.expect(201)["id"]
            .as_i64()
            .unwrap();
        let reviewer = app.sign_in("reviewer").await;
        let before = app.fingerprint();
        let forged = Browser {
            cookie: reviewer.cookie.clone(),
            csrf: "forged".into(),
        };
        let r = app
            .form(
                &forged,
                &format!("/cases/{id}/act"),
                &[("action", "accept")],
            )
            .await;
        assert_eq!(r.status, 403);
        assert!(r.text.contains("CSRF"));
        assert_eq!(app.fingerprint(), before);
        // With its token the reviewer accepts, and the inbox shows it with its deadline.
        let r = app
            .form(
                &reviewer,
                &format!("/cases/{id}/act"),
                &[("action", "accept")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let inbox = app.page(&reviewer, "/inbox").await;
        assert_eq!(inbox.status, 200);
        assert!(
            inbox.text.contains("审查中") || inbox.text.contains("受理"),
            "{}",
            inbox.text
        );
        assert!(inbox.text.contains(&format!("/cases/{id}")));
        // A stale page (the version it showed) is told apart from a fresh one: 409.
        let stale = app
            .form(
                &reviewer,
                &format!("/cases/{id}/act"),
                &[
                    ("action", "review"),
                    ("opinion", "材料齐全"),
                    ("recommend_approval", "true"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(stale.status, 409, "{}", stale.text);
        assert!(stale.text.contains("刷新"));
    }
);

both!(
    each_role_reaches_only_its_own_pages,
    |app: TestApp| async move {
        let applicant = app.sign_in(demo::DEMO_PERSON_ID).await;
        for path in ["/inbox", "/window", "/issuance", "/supervise", "/admin"] {
            let r = app.page(&applicant, path).await;
            assert_eq!(r.status, 403, "{path}");
            assert!(r.text.contains("无权操作"), "{path}");
        }
        for (user, path) in [
            ("clerk", "/window"),
            ("reviewer", "/inbox"),
            ("issuer", "/issuance"),
            ("supervisor", "/supervise"),
            ("catalog", "/admin"),
            ("admin", "/admin"),
        ] {
            let b = app.sign_in(user).await;
            assert_eq!(app.page(&b, path).await.status, 200, "{user} {path}");
            assert_eq!(app.page(&b, "/my").await.status, 403, "{user} /my");
        }
        // A case of another department is not found for a reviewer.
        let clerk = app.login("clerk").await;
        let (_, body) = app.food_application().await;
        let id = app.post("/api/v1/cases", &clerk, body).await.expect(201)["id"]
            .as_i64()
            .unwrap();
        let wjj = app.sign_in("wjj-reviewer").await;
        let r = app.page(&wjj, &format!("/cases/{id}")).await;
        assert_eq!(r.status, 404);
        assert_eq!(
            app.page(&wjj, &format!("/cases/{id}/notices/receipt"))
                .await
                .status,
            404
        );
        // The applicant who is not on it neither.
        assert_eq!(
            app.page(&applicant, &format!("/cases/{id}")).await.status,
            404
        );
    }
);

both!(
    the_window_receives_with_rongque_and_prints_its_notices,
    |app: TestApp| async move {
        let clerk = app.sign_in("clerk").await;
        let (item, fields, codes) = food_form(&app).await;
        let page = app
            .page(
                &clerk,
                &format!(
                    "/window/receive/{item}?identifier={}",
                    demo::DEMO_ENTERPRISE_CODE
                ),
            )
            .await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("已找到申请人记录"));
        // Which materials may be 容缺 is read off the form.
        let rongque: Vec<&String> = codes
            .iter()
            .filter(|c| page.text.contains(&format!("id=\"m-{c}-rongque\"")))
            .collect();
        assert!(
            !rongque.is_empty(),
            "the food licence allows 容缺 for some material"
        );
        let mut f: Vec<(String, String)> = vec![
            ("_csrf".into(), clerk.csrf.clone()),
            ("kind".into(), "enterprise".into()),
            ("identifier".into(), demo::DEMO_ENTERPRISE_CODE.into()),
            ("name".into(), "茂名市好味餐饮管理有限公司".into()),
            ("phone".into(), "0668-2281234".into()),
            ("legal_representative".into(), "张伟".into()),
        ];
        f.extend(fields);
        for c in &codes {
            let how = if c == rongque[0] { "rongque" } else { "paper" };
            f.push((format!("material.{c}"), how.into()));
        }
        let refs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let r = app
            .multipart(&clerk, &format!("/window/receive/{item}"), &refs, &[])
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let to = r.headers[header::LOCATION].to_str().unwrap().to_string();
        let case = app.page(&clerk, &to).await;
        assert!(case.text.contains("容缺受理承诺书") && case.text.contains("收件通知书"));
        let id: i64 = to
            .trim_start_matches("/cases/")
            .split('?')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let number = app
            .get(&format!("/api/v1/cases/{id}"), &app.login("clerk").await)
            .await
            .expect(200)["number"]
            .as_str()
            .unwrap()
            .to_string();
        for kind in ["receipt", "commitment"] {
            let n = app
                .page(&clerk, &format!("/cases/{id}/notices/{kind}"))
                .await;
            assert_eq!(n.status, 200, "{kind}");
            assert!(n.text.contains(&number), "{kind}");
            assert!(n.text.contains("<svg"), "{kind} has its QR code");
            assert!(n.text.contains(&format!("/track/{number}")), "{kind}");
            assert!(n.text.contains("@page { size: A4"));
        }
        // Not yet accepted: no acceptance notice.
        assert_eq!(
            app.page(&clerk, &format!("/cases/{id}/notices/acceptance"))
                .await
                .status,
            404
        );
        // The tracking page is public and shows no personal data.
        let t = app
            .send(
                Request::builder()
                    .uri(format!("/track/{number}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(t.status, 200);
        assert!(t.text.contains("已收件") || t.text.contains("收件"));
        assert!(!t.text.contains("好味餐饮") && !t.text.contains(demo::DEMO_ENTERPRISE_CODE));
    }
);

both!(
    bad_sign_in_and_unknown_pages_answer_in_chinese,
    |app: TestApp| async move {
        let r = app
            .send(
                Request::builder()
                    .method(Method::POST)
                    .uri("/login")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(
                        "username=clerk&password=wrong&next=%2F%2Fevil.example",
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, 401);
        assert!(r.text.contains("用户名或密码错误"));
        assert!(!r.text.contains("evil.example"), "no open redirect kept");
        let r = app
            .send(
                Request::builder()
                    .uri("/no/such/page")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, 404);
        assert!(r.text.contains("页面不存在"));
        let r = app
            .send(
                Request::builder()
                    .uri("/track/not-a-number")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(r.text.contains("填写有误"));
    }
);

both!(
    administrators_create_items_departments_halls_and_load_calendars_from_pages,
    |app: TestApp| async move {
        // The catalog administrator starts a new item from an existing one, edits, publishes.
        let cat = app.sign_in("catalog").await;
        let admin_page = app.page(&cat, "/admin").await;
        assert!(admin_page.text.contains("新建事项"));
        let food = app
            .item("茂名市茂南区市场监督管理局", "食品经营许可（新办）")
            .await;
        let basic = app
            .get(
                &format!("/api/v1/items/{food}"),
                &app.login("catalog").await,
            )
            .await
            .expect(200)["item"]["basic_code"]
            .as_str()
            .unwrap()
            .to_string();
        let dept = app
            .get("/api/v1/auth/me", &app.login("reviewer").await)
            .await
            .expect(200)["account"]["department_id"]
            .as_i64()
            .unwrap()
            .to_string();
        let r = app
            .form(
                &cat,
                "/admin/items",
                &[
                    ("basic_code", &basic),
                    ("department_id", &dept),
                    ("template", &food.to_string()),
                    ("name", "食品经营许可（延续）"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let to = r.headers[header::LOCATION].to_str().unwrap().to_string();
        let editor = app.page(&cat, &to).await;
        assert!(editor.text.contains("食品经营许可（延续）") && editor.text.contains("草稿"));
        let id = to
            .trim_start_matches("/admin/items/")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        // Broken content is refused with the place named; nothing changes.
        let before = app.fingerprint();
        let bad = app
            .form(
                &cat,
                &format!("/admin/items/{id}"),
                &[("spec", "{\"name\": 5}"), ("do", "save")],
            )
            .await;
        assert_eq!(bad.status, 422, "{}", bad.text);
        assert!(bad.text.contains("spec.name"), "{}", bad.text);
        assert_eq!(app.fingerprint(), before);
        // The content shown is saved and published as it is.
        let spec_at = editor.text.find("name=\"spec\"").unwrap();
        let open = spec_at + editor.text[spec_at..].find('>').unwrap() + 1;
        let close = open + editor.text[open..].find("</textarea>").unwrap();
        let spec = editor.text[open..close]
            .replace("&quot;", "\"")
            .replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        let ok = app
            .form(
                &cat,
                &format!("/admin/items/{id}"),
                &[("spec", &spec), ("do", "publish")],
            )
            .await;
        assert_eq!(ok.status, 303, "{}", ok.text);
        let guide = app
            .send(
                Request::builder()
                    .uri(format!("/items/{id}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(guide.status, 200);
        assert!(guide.text.contains("食品经营许可（延续）"));
        // Suspended, it says so and takes no applications.
        let r = app
            .form(
                &cat,
                &format!("/admin/items/{id}/status"),
                &[("change", "suspend")],
            )
            .await;
        assert_eq!(r.status, 303);
        let guide = app
            .send(
                Request::builder()
                    .uri(format!("/items/{id}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert!(guide.text.contains("暂停办理") && !guide.text.contains("在线申请"));

        // A calendar year, line by line; a bad line is named.
        let bad = app
            .form(
                &cat,
                "/admin/calendar/2027",
                &[
                    ("holidays", "2027-01-01 元旦\n2027-02-30 春节"),
                    ("workdays", ""),
                    ("source", "国办发明电〔2026〕X号"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(bad.text.contains("第 2 行"), "{}", bad.text);
        let ok = app
            .form(
                &cat,
                "/admin/calendar/2027",
                &[
                    ("holidays", "2027-01-01 元旦"),
                    ("workdays", ""),
                    ("source", "国办发明电〔2026〕X号"),
                ],
            )
            .await;
        assert_eq!(ok.status, 303, "{}", ok.text);
        let cal = app.page(&cat, "/admin/calendar/2027").await;
        assert!(cal.text.contains("2027-01-01 元旦"));

        // The system administrator creates a department and a hall with two windows.
        let admin = app.sign_in("admin").await;
        let code17 = "11440902MB2C91919";
        let code = format!(
            "{code17}{}",
            tongban_core::identity::CreditCode::check_char(code17)
        );
        let r = app
            .form(
                &admin,
                "/admin/departments",
                &[
                    ("name", "茂名市茂南区数据局"),
                    ("short_name", "区数据局"),
                    ("credit_code", &code),
                    ("region", "440902"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        // A wrong check character is named.
        let wrong = format!("{code17}{}", if code.ends_with('0') { '1' } else { '0' });
        let r = app
            .form(
                &admin,
                "/admin/departments",
                &[
                    ("name", "茂名市茂南区档案局"),
                    ("short_name", "区档案局"),
                    ("credit_code", &wrong),
                    ("region", "440902"),
                ],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(r.text.contains("credit_code"), "{}", r.text);
        let r = app
            .form(
                &admin,
                "/admin/halls",
                &[
                    ("name", "茂南区新华街道便民服务中心"),
                    ("region", "440902"),
                    ("address", "新华路 1 号"),
                    ("phone", ""),
                    ("department_id", &dept),
                    ("windows", "综合受理 1 号\n出件窗口 出件"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let page = app.page(&admin, "/admin").await;
        assert!(
            page.text.contains("茂南区新华街道便民服务中心") && page.text.contains("出件窗口"),
            "{}",
            page.text
        );
        // Neither may use the other's forms.
        assert_eq!(
            app.form(&cat, "/admin/halls", &[("name", "x")])
                .await
                .status,
            403
        );
        assert_eq!(
            app.form(&admin, "/admin/items", &[("name", "x")])
                .await
                .status,
            403
        );
    }
);

both!(
    the_combined_correction_notice_is_answered_in_one_submission,
    |app: TestApp| async move {
        use crate::bundles::{bundle_id, fill, guide};
        use serde_json::json;
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
        app.act(&reviewer, food, json!({"action": "request_correction", "items": [{"target": "M03", "problem": "布局图缺少后厨部分"}]})).await.expect(200);
        app.act(&wjj, hygiene, json!({"action": "request_correction", "items": [{"target": "M05", "problem": "检测报告已过期"}]})).await.expect(200);

        let me = app.sign_in(demo::DEMO_ENTERPRISE_CODE).await;
        let page = app.page(&me, &format!("/bundle-cases/{bcid}")).await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("布局图缺少后厨部分") && page.text.contains("检测报告已过期"));
        let (f1, f2) = (
            format!("c.{food}.file.M03"),
            format!("c.{hygiene}.file.M05"),
        );
        // A department's reviewer cannot answer for the applicant.
        let rb = app.sign_in("reviewer").await;
        // (One bad file, below, is refused whole too: neither child answered.)
        let before = app.fingerprint();
        let r = app
            .multipart(
                &rb,
                &format!("/bundle-cases/{bcid}/answer"),
                &[("_csrf", &rb.csrf)],
                &[(&f1, "layout.pdf", PDF)],
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(app.fingerprint(), before);
        let r = app
            .multipart(
                &me,
                &format!("/bundle-cases/{bcid}/answer"),
                &[("_csrf", &me.csrf)],
                &[
                    (&f1, "layout.pdf", PDF),
                    (&f2, "report.docx", b"PK\x03\x04 not a scan"),
                ],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(r.text.contains("report.docx"));
        assert_eq!(app.fingerprint(), before);
        // Both answered at once.
        let r = app
            .multipart(
                &me,
                &format!("/bundle-cases/{bcid}/answer"),
                &[("_csrf", &me.csrf)],
                &[(&f1, "layout.pdf", PDF), (&f2, "report.pdf", PDF)],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let view = app
            .get(
                &format!("/api/v1/bundle-cases/{bcid}"),
                &app.login(demo::DEMO_ENTERPRISE_CODE).await,
            )
            .await
            .expect(200);
        assert!(view["corrections"].as_array().unwrap().is_empty());
        for c in view["children"].as_array().unwrap() {
            assert_eq!(c["state"], "received", "{c}");
        }
    }
);

both!(
    the_catalog_administrator_edits_and_publishes_bundles_on_pages,
    |app: TestApp| async move {
        let cat = app.sign_in("catalog").await;
        let admin = app.page(&cat, "/admin").await;
        assert!(admin.text.contains("开办餐馆") && admin.text.contains("已发布"));
        let id = crate::bundles::bundle_id(&app, "开办餐馆").await;
        let editor = app.page(&cat, &format!("/admin/bundles/{id}")).await;
        assert_eq!(editor.status, 200);
        assert!(editor.text.contains("public_place") && !editor.text.contains("统一后才能发布"));
        // A new bundle whose item does not exist is refused, the place named; nothing saved.
        let before = app.fingerprint();
        let r = app
            .form(
                &cat,
                "/admin/bundles",
                &[
                    ("code", "440902-YJS-010"),
                    ("region", "440902"),
                    (
                        "spec",
                        r#"{"name": "开办药店", "entries": [{"item_id": 999999}]}"#,
                    ),
                ],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(r.text.contains("spec.entries[0].item_id"), "{}", r.text);
        assert_eq!(app.fingerprint(), before);
        // A valid one is created as a draft, edited and published from the page.
        let food = app
            .item("茂名市茂南区市场监督管理局", "食品经营许可（新办）")
            .await;
        let drug = app
            .item("茂名市茂南区市场监督管理局", "药品零售企业经营许可（新办）")
            .await;
        let spec = format!(
            r#"{{"name": "开办药店", "entries": [{{"item_id": {drug}}}, {{"item_id": {food}, "when": [{{"question": "food", "equals": "是"}}]}}],
                "questions": [{{"key": "food", "text": "是否兼营食品？", "options": ["是", "否"]}}],
                "combined_certificates": [{{"name": "食品药品经营许可证", "item_ids": [{drug}, {food}]}}]}}"#
        );
        let r = app
            .form(
                &cat,
                "/admin/bundles",
                &[
                    ("code", "440902-YJS-011"),
                    ("region", "440902"),
                    ("spec", &spec),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let to = r.headers[axum::http::header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        let new_id = to
            .trim_start_matches("/admin/bundles/")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let r = app
            .form(
                &cat,
                &format!("/admin/bundles/{new_id}"),
                &[("spec", &spec), ("do", "publish")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let list = app
            .send(
                Request::builder()
                    .uri("/bundles")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert!(list.text.contains("开办药店"));
        // Others may not.
        let clerk = app.sign_in("clerk").await;
        assert_eq!(
            app.page(&clerk, &format!("/admin/bundles/{id}"))
                .await
                .status,
            403
        );
    }
);

both!(
    the_window_receives_a_bundle_with_one_checklist,
    |app: TestApp| async move {
        use crate::bundles::{bundle_id, fill, guide};
        use serde_json::json;
        let id = bundle_id(&app, "二手房买卖").await;
        let clerk = app.sign_in("clerk").await;
        let w = app.page(&clerk, "/window").await;
        assert!(w.text.contains(&format!("/window/bundles/{id}")));
        let page = app
            .page(&clerk, &format!("/window/bundles/{id}?a.loan=%E6%98%AF"))
            .await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("不动产抵押权首次登记"));
        let g = guide(&app, id, json!({"loan": "是"})).await;
        let (form, _) = fill(&g);
        let mut fields: Vec<(String, String)> = vec![
            ("_csrf".into(), clerk.csrf.clone()),
            ("kind".into(), "person".into()),
            ("identifier".into(), demo::DEMO_PERSON_ID.into()),
            ("name".into(), "张伟".into()),
            ("phone".into(), "13800138000".into()),
        ];
        for (k, v) in form.as_object().unwrap() {
            fields.push((format!("form.{k}"), v.as_str().unwrap().to_string()));
        }
        let mats = g["merged"]["materials"].as_array().unwrap();
        // The certificate of title is shared by both registrations: ticked once.
        assert_eq!(
            mats.iter().filter(|m| m["name"] == "不动产权证书").count(),
            1
        );
        for (i, m) in mats.iter().enumerate() {
            if m["required"] == true {
                fields.push((format!("bmat.{i}"), "paper".into()));
            }
        }
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let r = app
            .multipart(
                &clerk,
                &format!("/window/bundles/{id}?a.loan=%E6%98%AF"),
                &refs,
                &[],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let to = r.headers[header::LOCATION].to_str().unwrap().to_string();
        let bc = app.page(&clerk, &to).await;
        assert!(
            bc.text.contains("国有建设用地使用权及房屋所有权转移登记")
                && bc.text.contains("不动产抵押权首次登记")
        );
        assert!(bc.text.contains("准予后决定"));
        // The applicant sees it too.
        let me = app.sign_in(demo::DEMO_PERSON_ID).await;
        assert_eq!(
            app.page(&me, to.split('?').next().unwrap()).await.status,
            200
        );
        // Another applicant does not.
        let other = app.sign_in(demo::DEMO_ENTERPRISE_CODE).await;
        assert_eq!(
            app.page(&other, to.split('?').next().unwrap()).await.status,
            404
        );
    }
);
