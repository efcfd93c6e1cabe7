use super::*;

#[allow(clippy::too_many_arguments)] // one row of a table, as written in the test
fn row(
    dept: i64,
    item: i64,
    window: i64,
    month: &str,
    channel: &str,
    received: i64,
    decided: i64,
    on_time: i64,
    immediate: i64,
    days: i64,
) -> CaseStatRow {
    CaseStatRow {
        department_id: dept,
        item_id: item,
        window_id: window,
        staff_id: if window == 0 { 0 } else { 100 + window },
        month: month.into(),
        channel: channel.into(),
        received,
        decided,
        on_time,
        working_days: days,
        immediate,
        ..CaseStatRow::default()
    }
}

fn ctx() -> Context {
    Context {
        departments: BTreeMap::from([
            (1, ("市场监管局".into(), "440902".into())),
            (2, ("卫健局".into(), "440904".into())),
        ]),
        items: BTreeMap::from([
            (10, ("食品经营许可".into(), 1)),
            (20, ("医师执业注册".into(), 2)),
        ]),
        windows: BTreeMap::from([
            (5, ("1号综合窗口".into(), WindowKind::Acceptance)),
            (6, ("卫健专业窗口".into(), WindowKind::Professional)),
        ]),
        staff: BTreeMap::from([(105, "李收件".into()), (106, "王专窗".into())]),
        regions: BTreeMap::from([
            ("440902".into(), "茂南区".into()),
            ("440904".into(), "电白区".into()),
        ]),
        warnings: BTreeMap::from([((1, "2026-11".into()), (3, 1))]),
    }
}

/// A known dataset: department 1 received 10 (6 online, 4 at the comprehensive window),
/// decided 8 (6 on time, 4 of them 即办件, 16 working days in all); department 2
/// received 5 at its professional window, decided 5 (all on time, 10 days).
fn cases() -> Vec<CaseStatRow> {
    vec![
        row(1, 10, 0, "2026-11", "online", 6, 5, 4, 2, 10),
        row(1, 10, 5, "2026-11", "window", 4, 3, 2, 2, 6),
        row(2, 20, 6, "2026-11", "window", 5, 5, 5, 0, 10),
    ]
}

fn ratings() -> Vec<RatingStatRow> {
    let r = |dept, item, window: i64, n: [i64; 5]| RatingStatRow {
        department_id: dept,
        item_id: item,
        window_id: window,
        staff_id: if window == 0 { 0 } else { 100 + window },
        region: String::new(),
        month: "2026-11".into(),
        n,
        ..RatingStatRow::default()
    };
    let mut bad = r(1, 10, 5, [1, 1, 0, 2, 6]);
    bad.rectified_on_time = 1;
    bad.rectified_late = 1;
    bad.called_back = 1;
    vec![bad, r(2, 20, 6, [0, 0, 1, 0, 3])]
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn figures_per_department_come_out_of_a_known_dataset() {
    let k = compute(GroupBy::Department, &cases(), &ratings(), &ctx());
    assert_eq!(k.len(), 2);
    let d1 = &k[0];
    assert_eq!((d1.key.as_str(), d1.label.as_str()), ("1", "市场监管局"));
    assert_eq!((d1.received, d1.decided), (10, 8));
    assert!(close(d1.on_time_rate, 6.0 / 8.0));
    assert!(close(d1.average_working_days, 2.0));
    assert!(close(d1.immediate_share, 0.5));
    assert!(close(d1.online_share, 0.6));
    assert!(close(d1.max_one_visit_share, 1.0));
    assert!(close(d1.one_window_share, 1.0));
    assert_eq!((d1.ratings, d1.bad), (10, 2));
    assert!(close(d1.satisfaction_rate, 0.8));
    assert!(close(d1.rectified_on_time_rate, 0.5));
    assert!(close(d1.call_back_rate, 0.5));
    assert_eq!((d1.yellow, d1.red), (Some(3), Some(1)));
    let d2 = &k[1];
    assert!(close(d2.on_time_rate, 1.0));
    assert!(
        close(d2.max_one_visit_share, 0.0),
        "医师执业注册 needs two visits"
    );
    assert!(
        close(d2.one_window_share, 0.0),
        "received at its own professional window"
    );
    assert!(close(d2.satisfaction_rate, 1.0));
    assert_eq!(d2.call_back_rate, None, "no 差评 to call back");
}

#[test]
fn the_same_numbers_add_up_per_window_staff_region_and_in_total() {
    let by_window = compute(GroupBy::Window, &cases(), &ratings(), &ctx());
    assert_eq!(
        by_window
            .iter()
            .map(|k| (k.label.as_str(), k.received))
            .collect::<Vec<_>>(),
        [("1号综合窗口", 4), ("卫健专业窗口", 5)],
        "online cases belong to no window"
    );
    assert_eq!(by_window[0].yellow, None, "marks are per department");
    let staff = compute(GroupBy::Staff, &cases(), &ratings(), &ctx());
    assert_eq!(staff[0].label, "李收件");
    let regions = compute(GroupBy::Region, &cases(), &ratings(), &ctx());
    assert_eq!(
        regions.iter().map(|k| k.label.as_str()).collect::<Vec<_>>(),
        ["茂南区", "电白区"]
    );
    let t = total(&cases(), &ratings(), &ctx());
    assert_eq!((t.received, t.decided, t.ratings), (15, 13, 14));
    assert!(close(t.on_time_rate, 11.0 / 13.0));
    assert!(close(t.one_window_share, 10.0 / 15.0));
    let one_window = TARGETS
        .iter()
        .find(|x| x.figure == "one_window_share")
        .unwrap();
    assert!(
        !one_window.met(t.one_window_share.unwrap()),
        "2/3 is under 70 %"
    );
    let immediate = TARGETS
        .iter()
        .find(|x| x.figure == "immediate_share")
        .unwrap();
    assert!(immediate.met(1.0 / 3.0));
}

#[test]
fn an_upheld_appeal_takes_a_bad_rating_out() {
    let mut r = ratings();
    r[0].invalid = 1;
    let k = compute(GroupBy::Department, &cases(), &r, &ctx());
    assert_eq!((k[0].ratings, k[0].bad), (9, 1));
}

#[test]
fn the_window_assessment_adds_up_to_1000_points_at_best() {
    let s = Scheme::default();
    assert!(s.validate().is_ok());
    let perfect = Kpi {
        on_time_rate: Some(1.0),
        satisfaction_rate: Some(1.0),
        ..Kpi::default()
    };
    assert_eq!(assess(&s, 5, "1号", &perfect, 0, 0).total, 1000.0);
    let k = &compute(GroupBy::Window, &cases(), &ratings(), &ctx())[0];
    // 250 × 2/3 + 250 × 0.8 + 100 × 0.5 + 50 × 0.5 + (150 − 2 × 10) + (200 − 15).
    let a = assess(&s, 5, "1号", k, 2, 15);
    let want = 250.0 * (2.0 / 3.0) + 200.0 + 50.0 + 25.0 + 130.0 + 185.0;
    assert!((a.total - want).abs() < 0.2, "{} vs {want}", a.total);
    let mut bad = Scheme::default();
    bad.criteria[0].points = 300;
    assert!(bad.validate().is_err());
    assert_eq!(
        quarter_months("2026-Q4").unwrap(),
        ("2026-10".into(), "2026-12".into())
    );
    assert!(quarter_months("2026-Q5").is_err());
}
