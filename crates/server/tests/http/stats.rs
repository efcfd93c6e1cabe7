//! Statistics from the rollups.

use serde_json::{Value, json};

use crate::app::*;
use crate::both;

both!(
    on_time_completion_is_counted_per_department_and_month,
    |app: TestApp| async move {
        let clerk = app.login("clerk").await;
        let reviewer = app.login("reviewer").await;
        let approver = app.login("approver").await;
        let supervisor = app.login("supervisor").await;
        let food = app
            .item("茂名市茂南区市场监督管理局", "食品经营许可（新办）")
            .await;
        let mut ids = Vec::new();
        for _ in 0..2 {
            let mut body = app.full_application(food, "window").await;
            body["applicant"] = enterprise();
            ids.push(
                app.post("/api/v1/cases", &clerk, body).await.expect(201)["id"]
                    .as_i64()
                    .unwrap(),
            );
        }
        app.advance_days(1);
        for id in &ids {
            app.act(&reviewer, *id, json!({"action": "accept"}))
                .await
                .expect(200);
        }
        // One decided in time (Wednesday 25 November), one late (Thursday 3 December; due 1 December).
        app.advance_days(1);
        app.act(&approver, ids[0], json!({"action": "approve"}))
            .await
            .expect(200);
        // Part of the changes folded into the rollups, part still recorded as changes.
        assert!(tongban_web::jobs::fold_stats(&app.state).await.unwrap() > 0);
        app.advance_days(8);
        app.act(&approver, ids[1], json!({"action": "approve"}))
            .await
            .expect(200);

        let rows = app
            .get("/api/v1/stats/on-time?from=2026-11&to=2026-12", &supervisor)
            .await
            .expect(200);
        let dept =
            app.get("/api/v1/auth/me", &approver).await.expect(200)["account"]["department_id"]
                .as_i64()
                .unwrap();
        let row = |m: &str| -> Value {
            rows.as_array()
                .unwrap()
                .iter()
                .find(|r| r["department_id"] == dept && r["month"] == m)
                .cloned()
                .unwrap_or(Value::Null)
        };
        // November: the demo's two cases and these two received; one decided, on time.
        assert_eq!(
            (
                row("2026-11")["received"].as_i64(),
                row("2026-11")["decided"].as_i64(),
                row("2026-11")["on_time"].as_i64()
            ),
            (Some(4), Some(1), Some(1))
        );
        // December: one decided, late.
        assert_eq!(
            (
                row("2026-12")["decided"].as_i64(),
                row("2026-12")["on_time"].as_i64()
            ),
            (Some(1), Some(0))
        );
        assert_eq!(row("2026-12")["rate"].as_f64(), Some(0.0));
        // Folding the rest changes no figure, and a second fold finds nothing.
        assert!(tongban_web::jobs::fold_stats(&app.state).await.unwrap() > 0);
        assert_eq!(tongban_web::jobs::fold_stats(&app.state).await.unwrap(), 0);
        let folded = app
            .get("/api/v1/stats/on-time?from=2026-11&to=2026-12", &supervisor)
            .await
            .expect(200);
        assert_eq!(folded, rows);
        // Department staff see only their department; clerks see none.
        let own = app
            .get("/api/v1/stats/on-time?from=2026-11&to=2026-12", &approver)
            .await
            .expect(200);
        assert!(
            own.as_array()
                .unwrap()
                .iter()
                .all(|r| r["department_id"] == dept)
        );
        let clerk = app.login("clerk").await;
        assert_eq!(
            app.get("/api/v1/stats/on-time?from=2026-11&to=2026-12", &clerk)
                .await
                .status,
            403
        );
        let r = app
            .get("/api/v1/stats/on-time?from=2026-13&to=2026-12", &supervisor)
            .await;
        assert_eq!(r.fields(), ["from"]);
    }
);
