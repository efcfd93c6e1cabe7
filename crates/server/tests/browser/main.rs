//! The pages in a real headless Chromium (Debian's `chromium` and `chromium-driver`),
//! driven over WebDriver. The platform runs on a real socket with the demo county on
//! SQLite; every step a person would take is taken in the browser. Screenshots and
//! the printed PDFs are kept in `target/browser-artifacts/`.
//!
//! Without chromedriver the suite says so and passes, unless `TONGBAN_REQUIRE_BROWSER=1`
//! (set by `scripts/test.sh`, which installs it).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tongban::demo;
use tongban_core::calendar::builtin;
use tongban_store::Backend;
use tongban_store::testing::{TestDb, fresh};
use tongban_web::auth::PasswordCost;
use tongban_web::clock::{Clock, ManualClock};
use tongban_web::{AppState, Settings};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

fn artifacts() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-artifacts");
    std::fs::create_dir_all(&p).expect("artifacts dir");
    p.canonicalize().expect("artifacts dir")
}

/// The platform on a real socket.
struct Hall {
    base: String,
    clock: Arc<ManualClock>,
    _db: TestDb,
}

async fn hall() -> Hall {
    let db = fresh(Backend::Sqlite).expect("sqlite");
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 1, 30, 0).unwrap(),
    ));
    let cost = PasswordCost {
        memory_kib: 64,
        iterations: 1,
    };
    let hash = cost.hash(demo::DEMO_PASSWORD);
    let now = clock.now();
    db.db
        .write(move |tx| {
            for y in builtin::years() {
                tx.save_calendar_year(&y, 0, now)?;
            }
            let cal = tongban_core::calendar::Calendar::new(&builtin::years());
            demo::load(tx, now, &cal, &hash).map(|_| ())
        })
        .await
        .expect("demo loads");
    let settings = Settings {
        password_cost: cost,
        files_dir: artifacts().join("files"),
        ..Settings::default()
    };
    let state = AppState::new(db.db.clone(), clock.clone(), settings).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        tongban_web::serve(listener, state, std::future::pending())
            .await
            .unwrap();
    });
    Hall {
        base: format!("http://{addr}"),
        clock,
        _db: db,
    }
}

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn driver() -> Option<Driver> {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        if std::env::var("TONGBAN_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "TONGBAN_REQUIRE_BROWSER=1 but {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)"
            );
        }
        eprintln!("browser suite skipped: {CHROMEDRIVER} not installed");
        return None;
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    // Wait until it listens (a process starting up, not the domain's time). A socket
    // connected to itself (TCP simultaneous open, when the system picks the port as its
    // own source) is not chromedriver listening.
    for _ in 0..200 {
        let listening = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok_and(|s| s.local_addr().ok() != s.peer_addr().ok());
        if listening {
            return Some(Driver {
                child,
                url: format!("http://127.0.0.1:{port}"),
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("chromedriver did not start");
}

async fn browser(d: &Driver, width: u32) -> Client {
    let profile = std::env::temp_dir().join(format!("tb-chromium-{}", rand_suffix()));
    let mut caps = Capabilities::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--lang=zh-CN",
                format!("--window-size={width},1100"),
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&d.url)
        .await
        .expect("a Chromium session")
}

fn rand_suffix() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// A browser at the hall, with helpers for what people do there.
struct Person<'a> {
    c: Client,
    hall: &'a Hall,
    name: &'static str,
}

impl<'a> Person<'a> {
    async fn open(d: &Driver, hall: &'a Hall, name: &'static str) -> Person<'a> {
        Person {
            c: browser(d, 1280).await,
            hall,
            name,
        }
    }

    async fn go(&self, path: &str) {
        self.c
            .goto(&format!("{}{path}", self.hall.base))
            .await
            .unwrap();
    }

    async fn shot(&self, step: &str) {
        let png = self.c.screenshot().await.unwrap();
        std::fs::write(artifacts().join(format!("{}-{step}.png", self.name)), png).unwrap();
    }

    async fn text(&self) -> String {
        self.c
            .find(Locator::Css("main"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn path(&self) -> String {
        let u = self.c.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    }

    /// Wait for the page a click led to (navigation ends after the click returns).
    async fn arrive(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        for _ in 0..200 {
            let p = self.path().await;
            if ok(&p) {
                return p;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "{}: never reached {what}; at {}: {}",
            self.name,
            self.path().await,
            self.text().await
        );
    }

    async fn sign_in(&self, username: &str) {
        self.go("/login").await;
        let c = &self.c;
        c.find(Locator::Id("username"))
            .await
            .unwrap()
            .send_keys(username)
            .await
            .unwrap();
        c.find(Locator::Id("password"))
            .await
            .unwrap()
            .send_keys(demo::DEMO_PASSWORD)
            .await
            .unwrap();
        c.find(Locator::Css("main form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        self.arrive(&format!("signed in as {username}"), |p| {
            !p.starts_with("/login")
        })
        .await;
    }

    async fn sign_out(&self) {
        self.c
            .find(Locator::Css("header form[action='/logout'] button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        self.arrive("signed out", |p| p.starts_with("/login")).await;
    }

    /// Take an action on the case page: open its panel, fill, submit.
    async fn act(&self, case: i64, kind: &str, fields: &[(&str, &str)]) {
        self.go(&format!("/cases/{case}")).await;
        let form = format!("form#act-{kind}");
        // Open the panel (a <details>) the way a person does: click its summary.
        let open = self
            .c
            .execute(
                &format!("return document.querySelector('{form}').closest('details').open"),
                vec![],
            )
            .await
            .unwrap();
        if open != Value::Bool(true) {
            self.c
                .find(Locator::Css(&format!("details:has({form}) > summary")))
                .await
                .unwrap_or_else(|_| panic!("{} sees no action {kind}", self.name))
                .click()
                .await
                .unwrap();
        }
        for (name, value) in fields {
            let el = self
                .c
                .find(Locator::Css(&format!("{form} [name='{name}']")))
                .await
                .unwrap_or_else(|_| panic!("no field {name} in {kind}"));
            match el.attr("type").await.unwrap().as_deref() {
                Some("file") => el.send_keys(value).await.unwrap(),
                Some("checkbox") => el.click().await.unwrap(),
                _ if el.tag_name().await.unwrap() == "select" => {
                    el.select_by_value(value).await.unwrap()
                }
                _ => {
                    el.clear().await.unwrap();
                    el.send_keys(value).await.unwrap();
                }
            }
        }
        self.c
            .find(Locator::Css(&format!("{form} button[type=submit]")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let done = format!("ok={kind}");
        self.arrive(&format!("{kind} on case {case}"), |p| p.contains(&done))
            .await;
    }
}

fn scan() -> String {
    let p = artifacts().join("scan.pdf");
    std::fs::write(
        &p,
        b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
    )
    .unwrap();
    p.display().to_string()
}

/// The published spec of an item, as the API gives it (read in the browser).
async fn item_by_name(p: &Person<'_>, name: &str) -> (i64, Value) {
    let items = p
        .c
        .execute(
            "return fetch('/api/v1/items?q=' + encodeURIComponent(arguments[0])).then(r => r.json())",
            vec![json!(name)],
        )
        .await
        .unwrap();
    let id = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let it =
        p.c.execute(
            "return fetch('/api/v1/items/' + arguments[0]).then(r => r.json())",
            vec![json!(id)],
        )
        .await
        .unwrap();
    (id, it["version"]["spec"].clone())
}

/// A plausible value for a required form field.
fn value_for(kind: &str, options: &Value) -> String {
    match kind {
        "choice" => options[0].as_str().unwrap().to_string(),
        "yes_no" => "false".into(),
        "number" => "120".into(),
        "date" => "2026-12-01".into(),
        "id_number" => demo::DEMO_PERSON_ID.into(),
        "credit_code" => demo::DEMO_ENTERPRISE_CODE.into(),
        "phone" => "13800138000".into(),
        _ => "茂名市茂南区油城五路 88 号".into(),
    }
}

async fn fill_form_fields(p: &Person<'_>, form: &str, spec: &Value) {
    for f in spec["fields"].as_array().unwrap() {
        if f["required"] != true {
            continue;
        }
        let v = value_for(f["kind"].as_str().unwrap(), &f["options"]);
        let el =
            p.c.find(Locator::Css(&format!(
                "{form} [name='form.{}']",
                f["key"].as_str().unwrap()
            )))
            .await
            .unwrap();
        if el.tag_name().await.unwrap() == "select" {
            el.select_by_value(&v)
                .await
                .unwrap_or_else(|_| panic!("option {v}"));
        } else if el.attr("type").await.unwrap().as_deref() == Some("date") {
            // Chromium's date input takes the date typed in the locale's order; set it.
            p.c.execute(
                "arguments[0].value = arguments[1]",
                vec![serde_json::to_value(&el).unwrap(), json!(v)],
            )
            .await
            .unwrap();
        } else {
            el.send_keys(&v).await.unwrap();
        }
    }
}

fn required_materials(spec: &Value) -> Vec<String> {
    spec["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["requirement"]["kind"] == "required")
        .map(|m| m["code"].as_str().unwrap().to_string())
        .collect()
}

fn case_id(path: &str) -> i64 {
    path.trim_start_matches("/cases/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("not a case page: {path}"))
}

const FOOD: &str = "食品经营许可（新办）";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_application_goes_from_upload_to_delivery() {
    let Some(d) = driver().await else { return };
    let hall = hall().await;
    let scan = scan();

    // The enterprise finds the item in the portal and applies online with its scans.
    let app = Person::open(&d, &hall, "applicant").await;
    app.sign_in(demo::DEMO_ENTERPRISE_CODE).await;
    app.go(&format!("/?q={}", "食品经营")).await;
    app.shot("portal").await;
    app.c
        .find(Locator::LinkText(FOOD))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.arrive("the guide", |p| p.starts_with("/items/")).await;
    assert!(app.text().await.contains("申请材料"));
    app.shot("guide").await;
    app.c
        .find(Locator::LinkText("在线申请"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.arrive("the form", |p| p.ends_with("/apply")).await;
    let (_, spec) = item_by_name(&app, FOOD).await;
    fill_form_fields(&app, "main form", &spec).await;
    for code in required_materials(&spec) {
        app.c
            .find(Locator::Css(&format!("input[name='file.{code}']")))
            .await
            .unwrap()
            .send_keys(&scan)
            .await
            .unwrap();
    }
    app.shot("apply").await;
    app.c
        .find(Locator::Css("button[name=save][value=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let case = case_id(
        &app.arrive("the new case", |p| p.starts_with("/cases/"))
            .await,
    );
    let page = app.text().await;
    assert!(page.contains("已办理：收件"), "{page}");
    assert!(page.contains("已上传"), "{page}");
    app.shot("submitted").await;
    app.sign_out().await;

    // The window's clerk passes the pre-review.
    let clerk = Person::open(&d, &hall, "clerk").await;
    clerk.sign_in("clerk").await;
    clerk.act(case, "pre_review_pass", &[]).await;

    // The department accepts, reviews and approves; the result is recorded.
    let reviewer = Person::open(&d, &hall, "reviewer").await;
    reviewer.sign_in("reviewer").await;
    reviewer.go("/inbox").await;
    assert!(reviewer.text().await.contains(FOOD));
    reviewer.shot("inbox").await;
    reviewer.act(case, "accept", &[]).await;
    reviewer
        .act(
            case,
            "review",
            &[
                ("opinion", "材料齐全，符合条件"),
                ("recommend_approval", "true"),
            ],
        )
        .await;
    let approver = Person::open(&d, &hall, "approver").await;
    approver.sign_in("approver").await;
    approver
        .act(case, "approve", &[("opinion", "准予许可")])
        .await;
    approver
        .act(
            case,
            "produce_result",
            &[
                ("number", "JY14409020012345"),
                ("summary", "食品销售经营者"),
            ],
        )
        .await;

    // The issuance window checks the result and hands it over.
    let issuer = Person::open(&d, &hall, "issuer").await;
    issuer.sign_in("issuer").await;
    issuer.go("/issuance").await;
    issuer.shot("issuance").await;
    issuer.act(case, "check_result_ok", &[]).await;
    issuer.act(case, "deliver_pickup", &[]).await;
    issuer.shot("delivered").await;

    // The applicant sees it done, with its whole history.
    app.sign_in(demo::DEMO_ENTERPRISE_CODE).await;
    app.go("/my").await;
    app.shot("my-cases").await;
    app.go(&format!("/cases/{case}")).await;
    let page = app.text().await;
    assert!(page.contains("已送达"), "{page}");
    assert!(page.contains("JY14409020012345"));
    assert!(page.contains("已办结并送达"));
    app.shot("done").await;

    // And at phone width the case page still reads top to bottom.
    let phone = browser(&d, 390).await;
    phone
        .goto(&format!("{}/track/{}", hall.base, {
            app.c
                .find(Locator::Id("case-number"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }))
        .await
        .unwrap();
    std::fs::write(
        artifacts().join("phone-track.png"),
        phone.screenshot().await.unwrap(),
    )
    .unwrap();
    for p in [app, clerk, reviewer, approver, issuer] {
        p.c.close().await.unwrap();
    }
    phone.close().await.unwrap();
    let _ = &hall.clock;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_in_rongque_case_is_received_and_its_notices_printed() {
    let Some(d) = driver().await else { return };
    let hall = hall().await;
    let clerk = Person::open(&d, &hall, "window").await;
    clerk.sign_in("clerk").await;
    clerk.go("/window").await;
    let rows = || async {
        clerk
            .c
            .find_all(Locator::Css("#items tbody tr"))
            .await
            .unwrap()
            .len()
    };
    let all = rows().await;
    clerk
        .c
        .find(Locator::Css("input[name=q]"))
        .await
        .unwrap()
        .send_keys("食品经营许可")
        .await
        .unwrap();
    // The list narrows as the clerk types (htmx swaps it in place, no page load).
    let mut narrowed = 0;
    for _ in 0..100 {
        narrowed = rows().await;
        if narrowed < all {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        0 < narrowed && narrowed < all,
        "{all} items narrowed to {narrowed}"
    );
    clerk
        .c
        .find(Locator::Css("form[role=search] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    clerk.arrive("the search", |p| p.contains("q=")).await;
    clerk.shot("search").await;
    let (item, spec) = item_by_name(&clerk, FOOD).await;
    clerk.go(&format!("/window/receive/{item}")).await;
    // Verify the applicant against the records.
    clerk
        .c
        .find(Locator::Css("form.inline-form input[name=identifier]"))
        .await
        .unwrap()
        .send_keys(demo::DEMO_ENTERPRISE_CODE)
        .await
        .unwrap();
    clerk
        .c
        .find(Locator::Css("form.inline-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    clerk
        .arrive("the lookup", |p| p.contains("identifier="))
        .await;
    assert!(clerk.text().await.contains("已找到申请人记录"));
    let form = "form#receive";
    clerk
        .c
        .find(Locator::Css(&format!("{form} [name=legal_representative]")))
        .await
        .unwrap()
        .send_keys("张伟")
        .await
        .unwrap();
    fill_form_fields(&clerk, form, &spec).await;
    // Tick each required material; the first that may be 容缺 is missing under a commitment.
    let mut rongque_taken = false;
    for m in spec["materials"].as_array().unwrap() {
        if m["requirement"]["kind"] != "required" {
            continue;
        }
        let code = m["code"].as_str().unwrap();
        let how = if m["rongque"] == true && !rongque_taken {
            rongque_taken = true;
            "rongque"
        } else {
            "paper"
        };
        clerk
            .c
            .find(Locator::Css(&format!("#m-{code}-{how}")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    assert!(rongque_taken, "the food licence allows 容缺");
    clerk.shot("checklist").await;
    clerk
        .c
        .find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let case = case_id(
        &clerk
            .arrive("the new case", |p| p.starts_with("/cases/"))
            .await,
    );
    let page = clerk.text().await;
    assert!(
        page.contains("容缺受理承诺书") && page.contains("收件通知书"),
        "{page}"
    );
    let number = clerk
        .c
        .find(Locator::Id("case-number"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Print both notices to PDF the way the window's printer gets them.
    for kind in ["receipt", "commitment"] {
        clerk.go(&format!("/cases/{case}/notices/{kind}")).await;
        let body = clerk
            .c
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains(&number), "{kind}: {body}");
        assert!(clerk.c.find(Locator::Css(".qr svg")).await.is_ok());
        let pdf = clerk
            .c
            .print(fantoccini::wd::PrintConfiguration::default())
            .await
            .unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{kind} printed to a PDF");
        assert!(
            pdf.len() > 5_000,
            "{kind}: a real page, {} bytes",
            pdf.len()
        );
        std::fs::write(artifacts().join(format!("notice-{kind}.pdf")), pdf).unwrap();
        clerk.shot(&format!("notice-{kind}")).await;
    }
    clerk.c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_notice_is_answered_by_the_applicant() {
    let Some(d) = driver().await else { return };
    let hall = hall().await;
    let scan = scan();
    // Received at the window on paper (through the pages, as above, but briefly).
    let clerk = Person::open(&d, &hall, "corr-clerk").await;
    clerk.sign_in("clerk").await;
    let (item, spec) = item_by_name(&clerk, FOOD).await;
    clerk
        .go(&format!(
            "/window/receive/{item}?identifier={}",
            demo::DEMO_ENTERPRISE_CODE
        ))
        .await;
    let form = "form#receive";
    clerk
        .c
        .find(Locator::Css(&format!("{form} [name=legal_representative]")))
        .await
        .unwrap()
        .send_keys("张伟")
        .await
        .unwrap();
    fill_form_fields(&clerk, form, &spec).await;
    let codes = required_materials(&spec);
    for code in &codes {
        clerk
            .c
            .find(Locator::Css(&format!("#m-{code}-paper")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    clerk
        .c
        .find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let case = case_id(
        &clerk
            .arrive("the new case", |p| p.starts_with("/cases/"))
            .await,
    );

    // The department returns it with an itemized notice.
    let reviewer = Person::open(&d, &hall, "corr-reviewer").await;
    reviewer.sign_in("reviewer").await;
    let target = format!("problem.{}", codes[0]);
    reviewer
        .act(
            case,
            "request_correction",
            &[(target.as_str(), "复印件不清晰，请提交清晰的扫描件")],
        )
        .await;
    reviewer
        .go(&format!("/cases/{case}/notices/correction"))
        .await;
    reviewer.shot("correction-notice").await;

    // The applicant sees what to fix and answers with an upload.
    let app = Person::open(&d, &hall, "corr-applicant").await;
    app.sign_in(demo::DEMO_ENTERPRISE_CODE).await;
    app.go(&format!("/cases/{case}")).await;
    let page = app.text().await;
    assert!(page.contains("复印件不清晰"), "{page}");
    assert!(page.contains("一次性补正"), "{page}");
    app.shot("asked").await;
    let file_field = format!("file.{}", codes[0]);
    app.act(
        case,
        "supply_correction",
        &[(file_field.as_str(), scan.as_str())],
    )
    .await;
    let page = app.text().await;
    assert!(
        page.contains("已收件") || page.contains("等待部门受理"),
        "{page}"
    );
    assert!(page.contains("已上传"), "{page}");
    app.shot("answered").await;
    for p in [clerk, reviewer, app] {
        p.c.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_lands_on_its_own_main_page() {
    let Some(d) = driver().await else { return };
    let hall = hall().await;
    for (user, path, expect) in [
        ("clerk", "/window", "综合受理"),
        ("reviewer", "/inbox", "本部门待办件"),
        ("issuer", "/issuance", "统一出件"),
        ("supervisor", "/supervise", "预警与超期办件"),
        ("catalog", "/admin", "事项管理"),
        ("admin", "/admin", "机构与账号"),
        (demo::DEMO_PERSON_ID, "/my", "我的办件"),
    ] {
        let p = Person::open(&d, &hall, "role").await;
        p.sign_in(user).await;
        assert_eq!(p.path().await, path, "{user} lands on {path}");
        let text = p.text().await;
        assert!(text.contains(expect), "{user}: {text}");
        let name = if user == demo::DEMO_PERSON_ID {
            "applicant"
        } else {
            user
        };
        std::fs::write(
            artifacts().join(format!("main-{name}.png")),
            p.c.screenshot().await.unwrap(),
        )
        .unwrap();
        // Keyboard: the window's search box has the focus, so a clerk can type at once;
        // elsewhere the first Tab from the top of the page reaches the skip link.
        let active =
            p.c.execute("return document.activeElement.name || ''", vec![])
                .await
                .unwrap();
        if user == "clerk" {
            assert_eq!(active, json!("q"));
            p.c.execute("document.activeElement.blur()", vec![])
                .await
                .unwrap();
            p.shot("main-clerk").await;
            p.c.close().await.unwrap();
            continue;
        }
        p.c.find(Locator::Css("body"))
            .await
            .unwrap()
            .send_keys("\u{E004}")
            .await
            .unwrap();
        let focused =
            p.c.execute("return document.activeElement.textContent", vec![])
                .await
                .unwrap();
        assert_eq!(focused, json!("跳到正文"), "{user}");
        p.c.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_is_applied_for_once_and_followed_on_one_page() {
    let Some(d) = driver().await else { return };
    let hall = hall().await;
    let app = Person::open(&d, &hall, "bundle").await;
    apply_restaurant(&app).await;
    app.shot("progress").await;
    app.c.close().await.unwrap();
}

/// The enterprise applies online for 开办餐馆 with private rooms: the food licence and
/// the hygiene licence. Returns the bundle case's id and the two children.
async fn apply_restaurant(app: &Person<'_>) -> (i64, i64, i64) {
    let scan = scan();
    app.sign_in(demo::DEMO_ENTERPRISE_CODE).await;
    app.go("/bundles").await;
    app.c
        .find(Locator::LinkText("开办餐馆"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.arrive("the guide", |p| p.starts_with("/bundles/"))
        .await;
    // The scenario: private rooms, a small site, a new layout.
    for (q, a) in [
        ("public_place", "是"),
        ("large_site", "否"),
        ("existing_layout", "否"),
    ] {
        app.c
            .find(Locator::Css(&format!("input[name='a.{q}'][value='{a}']")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    app.c
        .find(Locator::Css("#questions button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.arrive("the answers", |p| p.contains("a.public_place"))
        .await;
    let chosen = app
        .c
        .find(Locator::Id("chosen"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        chosen.contains("食品经营许可") && chosen.contains("公共场所卫生许可"),
        "{chosen}"
    );
    assert!(!chosen.contains("消防验收"), "{chosen}");
    // One form: fill the required fields (each once), one upload per required material.
    let (food, spec) = item_by_name(app, FOOD).await;
    let _ = food;
    let form = "#bundle-apply";
    for f in spec["fields"].as_array().unwrap() {
        if f["required"] != true {
            continue;
        }
        let key = f["key"].as_str().unwrap();
        let v = value_for(f["kind"].as_str().unwrap(), &f["options"]);
        let el = app
            .c
            .find(Locator::Css(&format!("{form} [name='form.{key}']")))
            .await
            .unwrap();
        if el.tag_name().await.unwrap() == "select" {
            el.select_by_value(&v).await.unwrap();
        } else {
            el.send_keys(&v).await.unwrap();
        }
    }
    // Fields only the hygiene licence asks for.
    let rest = app
        .c
        .execute(
            "return [...document.querySelectorAll('#bundle-apply [required]')].filter(e => !e.value).map(e => e.name)",
            vec![],
        )
        .await
        .unwrap();
    for name in rest.as_array().unwrap() {
        let name = name.as_str().unwrap();
        let el = app
            .c
            .find(Locator::Css(&format!("{form} [name='{name}']")))
            .await
            .unwrap();
        if el.tag_name().await.unwrap() == "select" {
            // The first real option.
            el.find(Locator::Css("option:nth-child(2)"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        } else {
            let v = if name.contains("area") {
                "120"
            } else {
                "茂名市茂南区油城五路 88 号"
            };
            el.send_keys(v).await.unwrap();
        }
    }
    let uploads = app
        .c
        .find_all(Locator::Css(&format!("{form} input[type=file]")))
        .await
        .unwrap();
    let required = app
        .c
        .execute(
            "return [...document.querySelectorAll('#bundle-apply .material')].map(m => !!m.querySelector('.req'))",
            vec![],
        )
        .await
        .unwrap();
    for (el, req) in uploads.iter().zip(required.as_array().unwrap()) {
        if req == &Value::Bool(true) {
            el.send_keys(&scan).await.unwrap();
        }
    }
    app.shot("form").await;
    app.c
        .find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.arrive("the bundle case", |p| p.starts_with("/bundle-cases/"))
        .await;
    let page = app.text().await;
    assert!(
        page.contains("食品经营许可") && page.contains("公共场所卫生许可"),
        "{page}"
    );
    assert!(page.contains("全部办结后统一出件"), "{page}");
    let id = app
        .path()
        .await
        .trim_start_matches("/bundle-cases/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut kids = Vec::new();
    for a in app.c.find_all(Locator::Css("#children a")).await.unwrap() {
        let href = a.attr("href").await.unwrap().unwrap();
        kids.push(href.trim_start_matches("/cases/").parse::<i64>().unwrap());
    }
    assert_eq!(kids.len(), 2);
    (id, kids[0], kids[1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_with_one_child_corrected_and_one_denied_ends_in_a_partial_issuance() {
    let Some(d) = driver().await else { return };
    let hall = hall().await;
    let scan = scan();
    let app = Person::open(&d, &hall, "partial").await;
    let (bcid, food, hygiene) = apply_restaurant(&app).await;
    app.sign_out().await;

    let clerk = Person::open(&d, &hall, "partial-clerk").await;
    clerk.sign_in("clerk").await;
    clerk.act(food, "pre_review_pass", &[]).await;
    clerk.act(hygiene, "pre_review_pass", &[]).await;

    // The health commission returns its licence for correction.
    let wjj = Person::open(&d, &hall, "partial-wjj").await;
    wjj.sign_in("wjj-reviewer").await;
    wjj.act(
        hygiene,
        "request_correction",
        &[("problem.M05", "卫生检测报告已过有效期，请提交一年内的报告")],
    )
    .await;

    // The applicant answers on the bundle's page, in one submission.
    app.sign_in(demo::DEMO_ENTERPRISE_CODE).await;
    app.go(&format!("/bundle-cases/{bcid}")).await;
    assert!(app.text().await.contains("卫生检测报告已过有效期"));
    app.c
        .find(Locator::Css(&format!(
            "#answer input[name='c.{hygiene}.file.M05']"
        )))
        .await
        .unwrap()
        .send_keys(&scan)
        .await
        .unwrap();
    app.shot("answer").await;
    app.c
        .find(Locator::Css("#answer button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.arrive("the answer", |p| p.contains("ok=answer")).await;

    // An approver for the health commission, made by the system administrator.
    let admin = Person::open(&d, &hall, "partial-admin").await;
    admin.sign_in("admin").await;
    let form = "form[action='/admin/accounts']";
    for (name, value) in [
        ("username", "wjj-approver"),
        ("name", "吴科长"),
        ("password", demo::DEMO_PASSWORD),
    ] {
        admin
            .c
            .find(Locator::Css(&format!("{form} [name='{name}']")))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    admin
        .c
        .find(Locator::Css(&format!("{form} select[name=role]")))
        .await
        .unwrap()
        .select_by_value("dept_approver")
        .await
        .unwrap();
    admin
        .c
        .execute(
            "const s = document.querySelector(\"form[action='/admin/accounts'] select[name=department_id]\"); \
             s.value = [...s.options].find(o => o.text === '茂名市茂南区卫生健康局').value;",
            vec![],
        )
        .await
        .unwrap();
    admin
        .c
        .find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    admin
        .arrive("the account", |p| p.contains("ok=account"))
        .await;

    wjj.act(hygiene, "accept", &[]).await;
    wjj.act(
        hygiene,
        "review",
        &[("opinion", "符合卫生要求"), ("recommend_approval", "true")],
    )
    .await;
    let wjj_approver = Person::open(&d, &hall, "partial-wjj-approver").await;
    wjj_approver.sign_in("wjj-approver").await;
    wjj_approver.act(hygiene, "approve", &[]).await;
    wjj.act(
        hygiene,
        "produce_result",
        &[("number", "粤卫公证字〔2026〕第0901号")],
    )
    .await;

    // The market regulator denies the food licence.
    let reviewer = Person::open(&d, &hall, "partial-reviewer").await;
    reviewer.sign_in("reviewer").await;
    reviewer.act(food, "accept", &[]).await;
    reviewer
        .act(
            food,
            "review",
            &[
                ("opinion", "后厨布局不符合要求"),
                ("recommend_approval", "false"),
            ],
        )
        .await;
    let approver = Person::open(&d, &hall, "partial-approver").await;
    approver.sign_in("approver").await;
    approver
        .act(
            food,
            "deny",
            &[
                ("reason", "经营场所布局不符合食品安全要求"),
                ("legal_basis", "《食品经营许可和备案管理办法》第十一条"),
            ],
        )
        .await;

    // The issuance window hands over what was approved.
    let issuer = Person::open(&d, &hall, "partial-issuer").await;
    issuer.sign_in("issuer").await;
    issuer.act(hygiene, "check_result_ok", &[]).await;
    issuer.act(hygiene, "deliver_pickup", &[]).await;

    app.go(&format!("/bundle-cases/{bcid}")).await;
    let page = app.text().await;
    assert!(page.contains("全部事项已办结"), "{page}");
    assert!(page.contains("准予：公共场所卫生许可（新办）"), "{page}");
    assert!(page.contains("未获准予：食品经营许可（新办）"), "{page}");
    assert!(page.contains("布局不符合"), "{page}");
    app.shot("partial-issuance").await;
    for p in [
        app,
        clerk,
        wjj,
        admin,
        wjj_approver,
        reviewer,
        approver,
        issuer,
    ] {
        p.c.close().await.unwrap();
    }
}

/// A JSON API call from a signed-in page, as the page's own scripts would make it
/// (the session cookie and its CSRF token).
async fn api_post(p: &Person<'_>, path: &str, body: Value) -> Value {
    p.c.execute_async(
        "const [path, body, done] = arguments;
         fetch('/api/v1/auth/me').then(r => r.json()).then(me =>
           fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf},
                        body: JSON.stringify(body)}))
         .then(r => r.json().then(j => done({status: r.status, body: j})));",
        vec![json!(path), body],
    )
    .await
    .unwrap()
}

/// A 食品经营许可 case of the demo person, received at the window and taken by the
/// department and the issuance window through their pages to 送达.
async fn delivered_case(
    clerk: &Person<'_>,
    reviewer: &Person<'_>,
    approver: &Person<'_>,
    issuer: &Person<'_>,
) -> i64 {
    let (item, spec) = item_by_name(clerk, FOOD).await;
    let mut form = serde_json::Map::new();
    for f in spec["fields"].as_array().unwrap() {
        if f["required"] == true {
            form.insert(
                f["key"].as_str().unwrap().into(),
                json!(value_for(f["kind"].as_str().unwrap(), &f["options"])),
            );
        }
    }
    let materials: Vec<Value> = required_materials(&spec)
        .into_iter()
        .map(|c| json!({"code": c, "status": "provided", "electronic": false}))
        .collect();
    let r = api_post(
        clerk,
        "/api/v1/cases",
        json!({"item_id": item, "channel": "window", "form": form, "materials": materials,
               "applicant": {"kind": "person", "identifier": demo::DEMO_PERSON_ID, "name": "张伟", "phone": "13800138000"}}),
    )
    .await;
    assert_eq!(r["status"], 201, "{r}");
    let case = r["body"]["id"].as_i64().unwrap();
    reviewer.act(case, "accept", &[]).await;
    reviewer
        .act(
            case,
            "review",
            &[("opinion", "符合条件"), ("recommend_approval", "true")],
        )
        .await;
    approver
        .act(case, "approve", &[("opinion", "准予许可")])
        .await;
    approver
        .act(
            case,
            "produce_result",
            &[
                ("number", &format!("JY1440902{case:07}")),
                ("summary", "食品销售"),
            ],
        )
        .await;
    issuer.act(case, "check_result_ok", &[]).await;
    issuer.act(case, "deliver_pickup", &[]).await;
    case
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_cases_are_rated_on_the_tablet_and_online_and_the_dashboard_shows_it() {
    let Some(d) = driver().await else { return };
    let hall = hall().await;
    let clerk = Person::open(&d, &hall, "clerk").await;
    clerk.sign_in("clerk").await;
    let reviewer = Person::open(&d, &hall, "reviewer").await;
    reviewer.sign_in("reviewer").await;
    let approver = Person::open(&d, &hall, "approver").await;
    approver.sign_in("approver").await;
    let issuer = Person::open(&d, &hall, "issuer").await;
    issuer.sign_in("issuer").await;
    let first = delivered_case(&clerk, &reviewer, &approver, &issuer).await;
    let second = delivered_case(&clerk, &reviewer, &approver, &issuer).await;

    // At the window: the clerk turns the tablet to the applicant, who rates there.
    clerk.go(&format!("/cases/{first}")).await;
    clerk
        .c
        .find(Locator::Css("#rating-link a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    clerk
        .arrive("the rating page", |p| p.ends_with("/rating"))
        .await;
    clerk
        .c
        .find(Locator::Css("#invite button[value=window_tablet]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    clerk
        .arrive("the invitation", |p| p.contains("link="))
        .await;
    let link = clerk
        .c
        .find(Locator::Id("tablet-link"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let tablet = Person::open(&d, &hall, "tablet").await;
    tablet.go(&link).await;
    tablet
        .c
        .find(Locator::Css(
            "#rate input[name=level][value=very_satisfied]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tablet
        .c
        .find(Locator::Css("#rate input[name=reason][value='504']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tablet.shot("rate").await;
    tablet
        .c
        .find(Locator::Css("#rate button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let thanks = tablet
        .c
        .wait()
        .for_element(Locator::Id("thanks"))
        .await
        .unwrap();
    assert!(thanks.text().await.unwrap().contains("感谢"));
    tablet.shot("thanks").await;
    // The link is used up.
    tablet.go(&link).await;
    assert!(
        tablet.text().await.contains("未找到"),
        "{}",
        tablet.text().await
    );

    // At home: the applicant rates the other case online, 不满意, with a reason.
    let app = Person::open(&d, &hall, "applicant").await;
    app.sign_in(demo::DEMO_PERSON_ID).await;
    app.go(&format!("/cases/{second}")).await;
    app.c
        .find(Locator::Css("#rating-link a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.arrive("the rating form", |p| p.ends_with("/rating"))
        .await;
    app.c
        .find(Locator::Css("#rate input[name=level][value=dissatisfied]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.c
        .find(Locator::Css("#rate input[name=reason][value='205']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.c
        .find(Locator::Css("#rate textarea[name=comment]"))
        .await
        .unwrap()
        .send_keys("取号后等了一个多小时")
        .await
        .unwrap();
    app.c
        .find(Locator::Css("#rate button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let shown = app
        .c
        .wait()
        .for_element(Locator::Id("rating"))
        .await
        .unwrap();
    let text = shown.text().await.unwrap();
    assert!(
        text.contains("不满意") && text.contains("整改工单"),
        "{text}"
    );
    app.shot("rated").await;

    // The department finds the rectification task and reports it.
    reviewer.go("/rectifications").await;
    reviewer
        .c
        .find(Locator::Css("#tasks a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    reviewer
        .arrive("the task", |p| p.starts_with("/rectifications/"))
        .await;
    reviewer
        .c
        .find(Locator::Css("#act-start button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    reviewer
        .c
        .wait()
        .for_element(Locator::Css("#act-report_rectified"))
        .await
        .unwrap();
    reviewer
        .c
        .find(Locator::Css("#act-report_rectified textarea"))
        .await
        .unwrap()
        .send_keys("高峰时段增开窗口")
        .await
        .unwrap();
    reviewer
        .c
        .find(Locator::Css("#act-report_rectified button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let state = reviewer
        .c
        .wait()
        .for_element(Locator::Id("task-state"))
        .await
        .unwrap();
    for _ in 0..100 {
        if state
            .text()
            .await
            .map(|t| t.contains("待审核"))
            .unwrap_or(false)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let t = reviewer
        .c
        .find(Locator::Id("task-state"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(t.contains("待审核"), "{t}");

    // The supervisor's dashboard: the charts drawn, the satisfaction figure 50 %.
    let sup = Person::open(&d, &hall, "supervisor").await;
    sup.sign_in("supervisor").await;
    sup.go("/dashboard").await;
    for _ in 0..100 {
        let ready = sup
            .c
            .execute("return document.body.dataset.charts || ''", vec![])
            .await
            .unwrap();
        if ready == json!("ready") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let canvases = sup
        .c
        .execute(
            "return document.querySelectorAll('#chart-groups canvas, #chart-months canvas').length",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        canvases.as_u64().unwrap() >= 2,
        "ECharts drew both charts: {canvases}"
    );
    let cards = sup
        .c
        .find(Locator::Id("cards"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        cards.contains("群众满意率") && cards.contains("50.0%"),
        "{cards}"
    );
    sup.shot("dashboard").await;
    // Drill down from the department's 差评 to the rating.
    sup.c
        .find(Locator::Css("#kpi-table a[href^='/dashboard/ratings']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    sup.arrive("the 差评", |p| p.starts_with("/dashboard/ratings"))
        .await;
    assert!(sup.text().await.contains("取号后等了一个多小时"));
    // The public page.
    let public = Person::open(&d, &hall, "public").await;
    public.go("/ratings").await;
    let text = public.text().await;
    assert!(
        text.contains("茂名市茂南区市场监督管理局") && text.contains("50.0%"),
        "{text}"
    );
    public.shot("ratings").await;
    for p in [clerk, reviewer, approver, issuer, tablet, app, sup, public] {
        p.c.close().await.unwrap();
    }
}

/// Submit the order page's form `act-{name}` after filling `fields`.
async fn order_form(p: &Person<'_>, order: i64, name: &str, fields: &[(&str, &str)]) {
    p.go(&format!("/hotline/orders/{order}")).await;
    let form = format!("#act-{name}");
    for (field, value) in fields {
        let el =
            p.c.find(Locator::Css(&format!("{form} [name='{field}']")))
                .await
                .unwrap_or_else(|_| panic!("{}: no {field} in {name}", p.name));
        match el.attr("type").await.unwrap().as_deref() {
            Some("checkbox") => el.click().await.unwrap(),
            _ if el.tag_name().await.unwrap() == "select" => {
                el.select_by_value(value).await.unwrap()
            }
            _ => el.send_keys(value).await.unwrap(),
        }
    }
    p.c.find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap_or_else(|_| panic!("{} may not {name}", p.name))
        .click()
        .await
        .unwrap();
    // Back on the order page after the redirect, the form of that step gone.
    for _ in 0..200 {
        if p.c.find(Locator::Css(&form)).await.is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{}: {name} did not go through: {}", p.name, p.text().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_s_order_is_dispatched_signed_replied_and_closed_by_the_call_back() {
    let Some(d) = driver().await else { return };
    let hall = hall().await;

    // A citizen writes in on the web, without signing in.
    let citizen = Person::open(&d, &hall, "citizen").await;
    citizen.go("/hotline/new").await;
    let c = &citizen.c;
    let medical = c
        .execute(
            "return Array.from(document.querySelectorAll('#submit select[name=category_id] option')).find(o => o.textContent.includes('医疗卫生')).value",
            vec![],
        )
        .await
        .unwrap();
    c.find(Locator::Css("#submit select[name=category_id]"))
        .await
        .unwrap()
        .select_by_value(medical.as_str().unwrap())
        .await
        .unwrap();
    c.find(Locator::Css("#submit input[name=name]"))
        .await
        .unwrap()
        .send_keys("陈女士")
        .await
        .unwrap();
    c.find(Locator::Css("#submit input[name=phone]"))
        .await
        .unwrap()
        .send_keys("13902681234")
        .await
        .unwrap();
    c.find(Locator::Css("#submit textarea[name=content]"))
        .await
        .unwrap()
        .send_keys("社区卫生服务站周末不开门，老人看病不方便")
        .await
        .unwrap();
    citizen.shot("hotline-new").await;
    c.find(Locator::Css("#submit button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let number = c
        .wait()
        .for_element(Locator::Css("#submitted strong"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(number.starts_with("12345-"), "{number}");

    // The dispatcher finds it in the queue and sends it to the health bureau.
    let op = Person::open(&d, &hall, "operator").await;
    op.sign_in("operator").await;
    op.go("/hotline").await;
    op.shot("hotline-desk").await;
    op.c.find(Locator::LinkText(&number))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let path = op
        .arrive("the order", |p| p.starts_with("/hotline/orders/"))
        .await;
    let order: i64 = path.trim_start_matches("/hotline/orders/").parse().unwrap();
    // The category's unit is chosen already.
    order_form(&op, order, "dispatch", &[("text", "请于时限内签收办理")]).await;
    assert!(op.text().await.contains("已派单"));

    // The unit signs and replies.
    let unit = Person::open(&d, &hall, "unit").await;
    unit.sign_in("unit").await;
    unit.go("/hotline").await;
    assert!(unit.text().await.contains(&number), "{}", unit.text().await);
    order_form(&unit, order, "sign", &[]).await;
    order_form(
        &unit,
        order,
        "reply",
        &[("text", "已协调服务站周六上午开诊，张贴告示")],
    )
    .await;
    unit.shot("hotline-replied").await;

    // The dispatcher accepts the reply; the operator calls back: satisfied, closed.
    order_form(&op, order, "accept_reply", &[]).await;
    order_form(
        &op,
        order,
        "call_back",
        &[("reached", "1"), ("satisfied", "1"), ("text", "陈女士满意")],
    )
    .await;
    let state =
        op.c.find(Locator::Id("order-state"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert_eq!(state, "已办结");
    op.shot("hotline-closed").await;

    // The citizen tracks it and reads the answer.
    citizen
        .go(&format!("/hotline/new?number={number}&phone=1234"))
        .await;
    let t = citizen
        .c
        .find(Locator::Id("tracked"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(t.contains("已办结") && t.contains("周六上午开诊"), "{t}");
    citizen.shot("hotline-tracked").await;

    // A caller asks a question the knowledge base answers: suggested as the operator
    // types, used, and the order is closed at once.
    op.go("/hotline").await;
    op.c.find(Locator::Css("#intake input[name=phone]"))
        .await
        .unwrap()
        .send_keys("13600001111")
        .await
        .unwrap();
    op.c.find(Locator::Css("#intake textarea[name=content]"))
        .await
        .unwrap()
        .send_keys("我想问一下暂住证怎么办")
        .await
        .unwrap();
    let mut found = String::new();
    for _ in 0..100 {
        found =
            op.c.find(Locator::Id("kb"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
        if found.contains("居住证怎么办理") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(found.contains("居住证怎么办理"), "{found}");
    op.shot("hotline-kb").await;
    op.c.find(Locator::Css("#kb button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let answer =
        op.c.find(Locator::Id("answer"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default();
    assert!(answer.contains("派出所"), "{answer}");
    op.c.find(Locator::Css("#intake button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    op.arrive("the new order", |p| p.starts_with("/hotline/orders/"))
        .await;
    let state =
        op.c.find(Locator::Id("order-state"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert_eq!(state, "已办结");
    for p in [citizen, op, unit] {
        p.c.close().await.unwrap();
    }
}
