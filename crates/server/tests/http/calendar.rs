//! The working-day calendar over HTTP and on the command line.

use axum::http::Method;
use chrono::{TimeZone, Utc};
use serde_json::json;

use crate::app::*;
use crate::both;

/// A 食品经营许可 application for the demo enterprise, received at the window now; the
/// case as answered.
async fn receive_food(app: &TestApp) -> serde_json::Value {
    let clerk = app.login("clerk").await;
    let (_, body) = app.food_application().await;
    app.post("/api/v1/cases", &clerk, body).await.expect(201)
}

both!(
    deadlines_follow_the_state_council_notices,
    |app: TestApp| async move {
        let q =
            |from: &str, n: u32| format!("/api/v1/calendar/deadline?from={from}&working_days={n}");
        let r = app
            .req(Method::GET, &q("2026-09-30", 3), None, None)
            .await
            .expect(200);
        assert_eq!(r, json!({"deadline": "2026-10-10", "provisional": false}));
        let r = app
            .req(Method::GET, &q("2026-02-13", 2), None, None)
            .await
            .expect(200);
        assert_eq!(r["deadline"], "2026-02-24");
        let r = app
            .req(Method::GET, &q("2026-12-30", 2), None, None)
            .await
            .expect(200);
        assert_eq!(r, json!({"deadline": "2027-01-01", "provisional": true}));
        let y = app
            .req(Method::GET, "/api/v1/calendar/2026", None, None)
            .await
            .expect(200);
        assert_eq!(y["official"], true);
        assert!(
            y["source"]
                .as_str()
                .unwrap()
                .contains("2026年部分节假日安排")
        );
        let y = app
            .req(Method::GET, "/api/v1/calendar/2027", None, None)
            .await
            .expect(200);
        assert_eq!(
            (y["official"].as_bool(), y["working_days"].as_u64()),
            (Some(false), Some(261))
        );
    }
);

both!(
    loading_a_new_year_recomputes_open_cases_with_provisional_deadlines,
    |app: TestApp| async move {
        // Received on Thursday 31 December 2026: acceptance deadline in 2027 → provisional.
        app.clock
            .set(Utc.with_ymd_and_hms(2026, 12, 31, 1, 0, 0).unwrap());
        let admin = app.login("admin").await;
        let reviewer = app.login("reviewer").await;
        let c = receive_food(&app).await;
        let case = c["id"].as_i64().unwrap();
        assert_eq!(c["clocks"]["acceptance"]["deadline"], "2027-01-04");
        assert_eq!(c["clocks"]["acceptance"]["provisional"], true);
        let list = app
            .get("/api/v1/cases?state=received", &reviewer)
            .await
            .expect(200);
        let row = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == case)
            .unwrap()
            .clone();
        assert_eq!(row["due_provisional"], true);

        // The 2027 notice: New Year's Day 1–3 January, and (for this test) Monday 4 January off too.
        let year = notice_2027();
        let r = load_year(&app, &admin, year.clone()).await;
        assert_eq!(r["cases_recomputed"], 1);
        let c = app
            .get(&format!("/api/v1/cases/{case}"), &reviewer)
            .await
            .expect(200);
        assert_eq!(c["clocks"]["acceptance"]["deadline"], "2027-01-06");
        assert_eq!(c["clocks"]["acceptance"]["provisional"], false);
        let events = app
            .get(&format!("/api/v1/cases/{case}/events"), &reviewer)
            .await
            .expect(200);
        assert_eq!(
            events.as_array().unwrap().last().unwrap()["action"],
            "recompute_deadlines"
        );
        // The API answers with the new year at once.
        let r = app
            .req(
                Method::GET,
                "/api/v1/calendar/deadline?from=2026-12-31&working_days=1",
                None,
                None,
            )
            .await
            .expect(200);
        assert_eq!(r, json!({"deadline": "2027-01-05", "provisional": false}));
        let y = app
            .req(Method::GET, "/api/v1/calendar/2027", None, None)
            .await
            .expect(200);
        assert_eq!(y["official"], true);
        // Saving the same year again changes no case.
        let r = load_year(&app, &admin, year).await;
        assert_eq!(r["cases_recomputed"], 0);
    }
);

both!(
    a_decision_committed_after_a_calendar_change_is_counted_again,
    |app: TestApp| async move {
        // Tuesday 29 December 2026: received; the acceptance deadline is within 2026.
        app.clock
            .set(Utc.with_ymd_and_hms(2026, 12, 29, 1, 0, 0).unwrap());
        let admin = app.login("admin").await;
        let reviewer = app.login("reviewer").await;
        let c = receive_food(&app).await;
        let case = c["id"].as_i64().unwrap();
        assert_eq!(c["clocks"]["acceptance"]["provisional"], false);

        // Wednesday: the reviewer accepts. The decision counts the promised deadline into
        // a 2027 not loaded yet, and is held between the decision and its commit, while
        // the administrator loads 2027.
        app.clock
            .set(Utc.with_ymd_and_hms(2026, 12, 30, 1, 0, 0).unwrap());
        let hold = app.state.db.hold_replays().await;
        let accept = app.act(&reviewer, case, json!({"action": "accept"}));
        let load = async {
            let held = async {
                while app.state.db.replays_held() == 0 {
                    tokio::task::yield_now().await;
                }
            };
            // A bound, not a wait: the accept reaches the gate as soon as it is decided.
            tokio::time::timeout(std::time::Duration::from_secs(60), held)
                .await
                .expect("the accept never reached the gate");
            let mut notice = notice_2027();
            notice["adjusted_workdays"] = json!([]);
            let r = load_year(&app, &admin, notice).await;
            // The case as committed has no provisional deadline: the load's own sweep
            // leaves it, and the held decision's version guard will hold.
            assert_eq!(r["cases_recomputed"], 0);
            drop(hold);
        };
        let (accepted, ()) = tokio::join!(accept, load);
        let accepted = accepted.expect(200);
        // The answer is the decision as made, with the calendar it was made with.
        let promised = &accepted["clocks"]["promised"];
        assert_eq!(promised["provisional"], true);
        let want = app
            .req(
                Method::GET,
                &format!(
                    "/api/v1/calendar/deadline?from=2026-12-30&working_days={}",
                    promised["budget"]
                ),
                None,
                None,
            )
            .await
            .expect(200);
        assert_eq!(want["provisional"], false);
        assert_ne!(want["deadline"], promised["deadline"]);
        // Stored: counted again with 2027 as loaded, and said so on the case.
        let c = app
            .get(&format!("/api/v1/cases/{case}"), &reviewer)
            .await
            .expect(200);
        assert_eq!(c["state"], accepted["state"]);
        assert_eq!(c["clocks"]["promised"]["deadline"], want["deadline"]);
        assert_eq!(c["clocks"]["promised"]["provisional"], false);
        let events = app
            .get(&format!("/api/v1/cases/{case}/events"), &reviewer)
            .await
            .expect(200);
        assert_eq!(
            actions(&events),
            ["receive", "accept", "recompute_deadlines"]
        );
    }
);

#[test]
fn the_command_line_prints_the_deadline() {
    let dir = tempfile_dir();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tongban"))
        .args(["calendar", "deadline", "2026-09-30", "3"])
        .env(
            "TONGBAN_DATABASE_URL",
            format!("sqlite://{}/cli.db", dir.display()),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2026-10-10");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tongban"))
        .args(["calendar", "deadline", "2026-12-30", "2"])
        .env(
            "TONGBAN_DATABASE_URL",
            format!("sqlite://{}/cli.db", dir.display()),
        )
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2027-01-01");
    assert!(String::from_utf8_lossy(&out.stderr).contains("暂定"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tongban"))
        .args(["calendar", "deadline", "2026-02-30", "2"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tongban-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
