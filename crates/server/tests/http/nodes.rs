//! Two servers on one database: each background job done exactly once, none lost when a
//! server dies holding it, and a calendar change made on one seen by the other.

use chrono::Duration;
use serde_json::json;
use tongban_web::jobs::{LEASE, RONGQUE_SWEEP, WARNING_SWEEP, tick};

use crate::app::*;
use crate::both;

/// Five cases with 容缺 commitments due Monday 30 November (医师执业注册: terminate on breach).
async fn overdue_cases(app: &TestApp) -> Vec<i64> {
    let clerk = app.login("clerk").await;
    let item = app
        .item("茂名市茂南区卫生健康局", "医师执业注册（首次注册）")
        .await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let mut body = app.full_application(item, "window").await;
        body["applicant"] = person();
        set_material(&mut body, "M04", json!({"status": "rongque"}));
        ids.push(
            app.post("/api/v1/cases", &clerk, body).await.expect(201)["id"]
                .as_i64()
                .unwrap(),
        );
    }
    ids
}

both!(
    two_servers_run_each_background_job_exactly_once,
    |a: TestApp| async move {
        let b = a.second_node();
        let cases = overdue_cases(&a).await;
        a.advance_days(8);
        let every = Duration::minutes(5);
        let mut breaches = 0;
        let mut runs = 0;
        // Three rounds in which both servers tick at the same moment.
        for round in 0..3 {
            let (ta, tb) = tokio::join!(
                tick(&a.state, "node-a", every),
                tick(&b.state, "node-b", every)
            );
            let (ta, tb) = (ta.unwrap(), tb.unwrap());
            let sweeps =
                |t: &tongban_web::jobs::Tick| t.ran.iter().filter(|j| *j == RONGQUE_SWEEP).count();
            let warnings =
                |t: &tongban_web::jobs::Tick| t.ran.iter().filter(|j| *j == WARNING_SWEEP).count();
            runs += sweeps(&ta) + sweeps(&tb);
            breaches += ta.breaches + tb.breaches;
            assert!(
                sweeps(&ta) + sweeps(&tb) <= 1,
                "round {round}: both servers ran the sweep"
            );
            assert_eq!(
                warnings(&ta) + warnings(&tb),
                1,
                "round {round}: one warning sweep"
            );
            a.clock.advance(Duration::minutes(6));
        }
        assert_eq!(runs, 3, "one run per period");
        assert_eq!(breaches, 5, "every overdue commitment breached once in all");
        let clerk = a.login("clerk").await;
        for id in cases {
            let events = a
                .get(&format!("/api/v1/cases/{id}/events"), &clerk)
                .await
                .expect(200);
            let n = events
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["action"] == "breach_commitment")
                .count();
            assert_eq!(n, 1, "case {id}");
        }
    }
);

both!(
    a_job_held_by_a_dead_server_is_taken_over_when_its_lease_ends,
    |a: TestApp| async move {
        let b = a.second_node();
        overdue_cases(&a).await;
        a.advance_days(8);
        // Server A takes the lease and dies before running the job.
        let now = tongban_web::clock::Clock::now(&*a.clock);
        a.state
            .db
            .write(move |tx| tx.take_lease(RONGQUE_SWEEP, "node-a", now, now + LEASE))
            .await
            .unwrap();
        let t = tick(&b.state, "node-b", Duration::minutes(5))
            .await
            .unwrap();
        assert!(
            !t.ran.iter().any(|j| j == RONGQUE_SWEEP),
            "the lease is still A's"
        );
        a.clock.advance(LEASE + Duration::seconds(1));
        let t = tick(&b.state, "node-b", Duration::minutes(5))
            .await
            .unwrap();
        assert!(t.ran.iter().any(|j| j == RONGQUE_SWEEP));
        assert_eq!(t.breaches, 5);
    }
);

/// The 2027 notice (New Year's Day off, nothing else) loaded on `a`.
async fn load_2027(a: &TestApp, admin: &str) {
    let notice = json!({"year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知",
        "holidays": [{"date": "2027-01-01", "name": "元旦"}], "adjusted_workdays": []});
    load_year(a, admin, notice).await;
}

both!(
    a_year_loaded_on_one_server_is_used_by_the_other_after_its_next_tick,
    |a: TestApp| async move {
        let b = a.second_node();
        let admin = a.login("admin").await;
        let q = "/api/v1/calendar/deadline?from=2026-12-31&working_days=1";
        let before = b
            .req(axum::http::Method::GET, q, None, None)
            .await
            .expect(200);
        assert_eq!(
            before,
            json!({"deadline": "2027-01-01", "provisional": true})
        );
        load_2027(&a, &admin).await;
        let t = tick(&b.state, "node-b", Duration::minutes(5))
            .await
            .unwrap();
        assert!(t.calendar_reloaded);
        let after = b
            .req(axum::http::Method::GET, q, None, None)
            .await
            .expect(200);
        assert_eq!(
            after,
            json!({"deadline": "2027-01-04", "provisional": false})
        );
        // Nothing changed since: the next tick does not reload.
        assert!(
            !tick(&b.state, "node-b", Duration::minutes(5))
                .await
                .unwrap()
                .calendar_reloaded
        );
    }
);

both!(
    a_work_order_dispatched_on_the_other_server_before_its_reload_is_counted_again,
    |a: TestApp| async move {
        // Thursday 31 December 2026, 09:00.
        a.clock
            .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 31, 1, 0, 0).unwrap());
        let b = a.second_node();
        let admin = a.login("admin").await;
        let op = b.login("operator").await;
        let zjj = dept(&b, ZJJ).await;
        // The notice is loaded on the first server; the second has not ticked yet.
        load_2027(&a, &admin).await;
        let o = call(&b, &op, "road-light", "路灯不亮").await;
        let n = o["id"].as_i64().unwrap();
        let d = b
            .order_act(&op, n, json!({"action": "dispatch", "lead": zjj}))
            .await
            .expect(200);
        // Counted with the calendar the second server still holds: 1 January worked.
        assert_eq!(
            (d["reply_due"].as_str(), d["reply_provisional"].as_bool()),
            (Some("2027-01-07"), Some(true))
        );
        assert!(
            tick(&b.state, "node-b", Duration::minutes(5))
                .await
                .unwrap()
                .calendar_reloaded
        );
        let o = b
            .get(&format!("/api/v1/hotline/orders/{n}"), &op)
            .await
            .expect(200);
        assert_eq!(
            (o["reply_due"].as_str(), o["reply_provisional"].as_bool()),
            (Some("2027-01-08"), Some(false))
        );
    }
);
