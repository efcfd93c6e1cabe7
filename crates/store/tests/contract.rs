//! The store contract, run against SQLite and against PostgreSQL: what the use cases
//! rely on, checked through the same trait they use.

use chrono::{Duration, TimeZone, Utc};
use tongban_core::Error;
use tongban_core::actor::{Actor, Role};
use tongban_core::calendar::{Calendar, builtin};
use tongban_core::case::{Action, CaseState, Channel};
use tongban_core::case::{ApplicantInput, Application};
use tongban_core::catalog::{BasicItem, ItemType, VersionState};
use tongban_core::org::{Account, NewDepartment, Session, SessionKind};
use tongban_core::region::{Region, RegionCode};
use tongban_core::store::{CaseFilter, CaseOrder, CaseScope, Tx};
use tongban_core::testing::{application, promised_spec};
use tongban_core::usecase::Env;
use tongban_core::usecase::cases::{act, plan_receive, receive_case, receive_planned};
use tongban_core::usecase::catalog::{NewItem, create_item, publish};
use tongban_store::testing::fresh;
use tongban_store::{Backend, Db};

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(tongban_store::Backend::Sqlite)
                }
                #[test]
                fn postgres() {
                    super::$name(tongban_store::Backend::Postgres)
                }
            }
        )*
    };
}

on_both_backends!(
    org_records_round_trip_and_taken_keys_are_conflicts,
    a_case_is_saved_whole_and_an_outdated_save_is_refused,
    case_lists_are_scoped_filtered_ordered_and_paged,
    an_inbox_over_several_states_is_one_deadline_order,
    case_lists_narrow_by_item_department_number_and_creation_time,
    newest_first_lists_page_by_time_of_receipt,
    a_failed_use_case_leaves_nothing_behind,
    published_versions_never_change,
    case_serials_count_per_region_and_day,
    serials_claimed_ahead_are_used_only_once_committed,
    sessions_expire_and_failures_are_counted,
    calendar_years_round_trip,
    a_case_saved_by_another_server_is_read_as_saved,
    a_receipt_is_planned_on_a_snapshot_and_written_in_the_writer,
    an_event_for_no_case_is_refused_on_sqlite_only,
);

/// The same for async tests: `name => body on worker threads`.
macro_rules! on_both_backends_async {
    ($($name:ident => $body:ident on $threads:literal),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn sqlite() {
                    super::$body(tongban_store::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn postgres() {
                    super::$body(tongban_store::Backend::Postgres).await
                }
            }
        )*
    };
}

on_both_backends_async!(
    concurrent_writes_commit_together_and_a_failing_one_fails_alone => concurrent_writes on 4,
    optimistic_writes_replay_together_and_a_failing_one_fails_alone => optimistic_writes on 4,
    a_decision_on_a_kept_case_another_server_moved_is_made_again => decision_on_a_stale_kept_case on 2,
    saves_reaching_the_writer_together_one_of_them_stale => saves_together_one_stale on 2,
    an_appended_row_that_fails_fails_its_use_case_alone => appended_rows on 4,
    receipts_are_filed_without_the_database_when_a_serial_is_held => receipts_filed_without_the_database on 2,
    a_decision_that_reads_nothing_is_made_without_the_database => decisions_without_the_database on 2,
);

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap()
}

/// `f` with the test's time and the built-in calendar.
fn at_now<R>(f: impl FnOnce(&Env) -> R) -> R {
    let cal = Calendar::builtin();
    f(&Env {
        now: now(),
        cal: &cal,
    })
}

fn rc(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap()
}

/// Ids of the seeded world.
#[derive(Clone)]
struct World {
    dept: i64,
    other_dept: i64,
    item: i64,
    clerk: Actor,
    reviewer: Actor,
}

fn account(
    tx: &mut dyn Tx,
    username: &str,
    role: Role,
    dept: i64,
    region: &str,
) -> Result<Actor, Error> {
    let mut a = Account {
        id: 0,
        username: username.into(),
        name: username.into(),
        role,
        department_id: Some(dept),
        region: Some(rc(region)),
        applicant_id: None,
        window_id: None,
        immediate_departments: vec![],
        password_hash: "x".into(),
        active: true,
        created_at: now(),
    };
    a.id = tx.insert_account(&a)?;
    Ok(a.actor())
}

fn seed(db: &Db) -> World {
    db.write_blocking(|tx| {
        for (code, name, parent) in [
            ("440900", "茂名市", None),
            ("440902", "茂南区", Some("440900")),
            ("440904", "电白区", Some("440900")),
        ] {
            let code = rc(code);
            tx.insert_region(&Region {
                level: code.level(),
                code,
                name: name.into(),
                parent: parent.map(rc),
            })?;
        }
        let dept = tx.insert_department(&NewDepartment {
            name: "茂名市茂南区卫生健康局".into(),
            short_name: "区卫健局".into(),
            credit_code: "115113010833722043".into(),
            region: "440902".into(),
        })?;
        let other_dept = tx.insert_department(&NewDepartment {
            name: "茂名市电白区卫生健康局".into(),
            short_name: "电白卫健".into(),
            credit_code: "91350100M000100Y43".into(),
            region: "440904".into(),
        })?;
        tx.insert_basic_item(&BasicItem {
            code: "JB00001".into(),
            name: "公共场所卫生许可".into(),
            item_type: ItemType::License,
            legal_basis: "《公共场所卫生管理条例》".into(),
        })?;
        let admin = account(tx, "admin", Role::CatalogAdmin, dept, "440900")?;
        let cal = Calendar::builtin();
        let env = Env {
            now: now(),
            cal: &cal,
        };
        let item = create_item(
            tx,
            &admin,
            &env,
            &NewItem {
                basic_code: "JB00001".into(),
                department_id: dept,
                code: None,
                spec: promised_spec(),
            },
        )?
        .item
        .id;
        publish(tx, &admin, &env, item)?;
        let clerk = account(tx, "clerk", Role::AcceptanceClerk, dept, "440902")?;
        let reviewer = account(tx, "reviewer", Role::DeptReviewer, dept, "440902")?;
        Ok(World {
            dept,
            other_dept,
            item,
            clerk,
            reviewer,
        })
    })
    .unwrap()
}

fn new_case(item: i64, id_number: &str) -> Application {
    let mut application = application(Channel::Window, false);
    application.item_id = item;
    Application {
        applicant: Some(ApplicantInput {
            kind: tongban_core::case::ApplicantKind::Person,
            identifier: id_number.into(),
            name: "张三".into(),
            phone: "13800138000".into(),
            legal_representative: None,
        }),
        ..application
    }
}

fn receive(db: &Db, w: &World, days: i64) -> i64 {
    let (clerk, item) = (w.clerk.clone(), w.item);
    db.write_blocking(move |tx| {
        let cal = Calendar::builtin();
        let env = Env {
            now: now() + Duration::days(days),
            cal: &cal,
        };
        receive_case(tx, &clerk, &env, &new_case(item, "11010519491231002X"))
    })
    .unwrap()
    .id
}

/// A bare save of a case at the version read, with an event numbered `seq` (or, with
/// `None`, the case's new version) and no statistics. Returns the case as saved.
fn touch(tx: &mut dyn Tx, id: i64, seq: Option<u32>) -> Result<tongban_core::case::Case, Error> {
    let mut c = tx.case(id)?.ok_or(Error::NotFound { entity: "case" })?;
    let read = c.version;
    c.version += 1;
    tx.update_case(&c, read)?;
    tx.append_event(id, &event(seq.unwrap_or(c.version as u32), c.state))?;
    Ok(c)
}

/// Save case `id` under a new item name, in the writer, as `db`'s server; the case as
/// saved.
fn rename(db: &Db, id: i64, name: &'static str) -> tongban_core::case::Case {
    db.write_blocking(move |tx| {
        let mut c = tx.case(id)?.ok_or(Error::NotFound { entity: "case" })?;
        let read = c.version;
        c.version += 1;
        c.item_name = name.into();
        tx.update_case(&c, read)?;
        Ok(c)
    })
    .unwrap()
}

/// Save case `id` as a decision takes it to save (the kept copy, maybe unchecked) at the
/// next version, its item name followed by `suffix`; the case as saved.
fn save_kept(tx: &mut dyn Tx, id: i64, suffix: &str) -> Result<tongban_core::case::Case, Error> {
    let c = tx
        .shared_case_to_save(id)?
        .ok_or(Error::NotFound { entity: "case" })?;
    let mut next = (*c).clone();
    next.version += 1;
    next.item_name = format!("{}{suffix}", c.item_name);
    tx.save_shared_case(std::sync::Arc::new(next.clone()), c.version)?;
    Ok(next)
}

/// A case list query with no filter but its scope and states.
fn filter(scope: CaseScope, states: Vec<CaseState>, order: CaseOrder, limit: u32) -> CaseFilter {
    CaseFilter {
        scope,
        states,
        item_id: None,
        department_id: None,
        due_before: None,
        due_after: None,
        rongque_due_before: None,
        number: None,
        created: None,
        order,
        after: None,
        limit,
    }
}

fn org_records_round_trip_and_taken_keys_are_conflicts(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    let (dept, regions, dup) =
        t.db.read_blocking(|tx| {
            Ok((
                tx.department(w.dept)?,
                tx.regions(Some("4409"))?,
                tx.account_by_username("clerk")?,
            ))
        })
        .unwrap();
    assert_eq!(dept.unwrap().short_name, "区卫健局");
    assert_eq!(regions.len(), 3);
    assert_eq!(dup.unwrap().role, Role::AcceptanceClerk);
    let err =
        t.db.write_blocking(|tx| {
            tx.insert_department(&NewDepartment {
                name: "重复".into(),
                short_name: "重复".into(),
                credit_code: "115113010833722043".into(),
                region: "440902".into(),
            })
        })
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("统一社会信用代码")),
        "{err}"
    );
    let err =
        t.db.write_blocking(|tx| account(tx, "clerk", Role::Supervisor, 1, "440900"))
            .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("用户名")),
        "{err}"
    );
    // Departments by region prefix.
    let by_county =
        t.db.read_blocking(|tx| tx.departments(Some("440904")))
            .unwrap();
    assert_eq!(
        by_county.iter().map(|d| d.id).collect::<Vec<_>>(),
        [w.other_dept]
    );
}

fn a_case_is_saved_whole_and_an_outdated_save_is_refused(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    let id = receive(&t.db, &w, 0);
    let case = t.db.read_blocking(move |tx| tx.case(id)).unwrap().unwrap();
    assert_eq!(case.id, id);
    assert_eq!(case.state, CaseState::Received);
    assert_eq!(case.materials.len(), 4);
    let by_number = {
        let n = case.number.as_str().to_string();
        t.db.read_blocking(move |tx| tx.case_by_number(&n))
            .unwrap()
            .unwrap()
    };
    assert_eq!(by_number, case);
    // Two saves from the same version: the second is a conflict.
    let mut changed = case.clone();
    changed.version += 1;
    let (a, b2) = (changed.clone(), changed.clone());
    t.db.write_blocking(move |tx| tx.update_case(&a, 1))
        .unwrap();
    let err =
        t.db.write_blocking(move |tx| tx.update_case(&b2, 1))
            .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)));
    // Events keep their order.
    let reviewer = w.reviewer.clone();
    t.db.write_blocking(move |tx| {
        let cal = Calendar::builtin();
        act(
            tx,
            &reviewer,
            &Env {
                now: now(),
                cal: &cal,
            },
            id,
            &Action::Accept,
            None,
        )
    })
    .unwrap();
    // An event's seq is the case's version after it: the bare save above made version 2.
    let events = t.db.read_blocking(move |tx| tx.events(id)).unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 3]);
    assert_eq!(events[1].action, "accept");
    assert_eq!(events[1].from, Some(CaseState::Received));
}

fn case_lists_are_scoped_filtered_ordered_and_paged(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    // Five cases received on five days: acceptance deadlines ascending.
    let ids: Vec<i64> = (0..5).map(|d| receive(&t.db, &w, d)).collect();
    let list = |scope: CaseScope, after: Option<(String, i64)>, limit: u32| {
        t.db.read_blocking(move |tx| {
            tx.cases(&CaseFilter {
                after,
                ..filter(scope, vec![CaseState::Received], CaseOrder::Due, limit)
            })
        })
        .unwrap()
    };
    let page1 = list(CaseScope::Department(w.dept), None, 3);
    assert_eq!(page1.iter().map(|c| c.id).collect::<Vec<_>>(), ids[..3]);
    let last = page1.last().unwrap();
    let page2 = list(
        CaseScope::Department(w.dept),
        Some((last.sort_key.clone(), last.id)),
        3,
    );
    assert_eq!(page2.iter().map(|c| c.id).collect::<Vec<_>>(), ids[3..]);
    assert!(page1.windows(2).all(|p| p[0].due <= p[1].due));
    assert!(list(CaseScope::Department(w.other_dept), None, 10).is_empty());
    assert_eq!(
        list(CaseScope::RegionPrefix("4409".into()), None, 10).len(),
        5
    );
    assert!(list(CaseScope::RegionPrefix("440904".into()), None, 10).is_empty());
    let mine = list(
        CaseScope::Owner {
            applicant_id: Some(1),
            agent_account: None,
        },
        None,
        10,
    );
    assert_eq!(mine.len(), 5);
    assert!(
        list(
            CaseScope::Owner {
                applicant_id: Some(2),
                agent_account: None
            },
            None,
            10
        )
        .is_empty()
    );
}

fn an_inbox_over_several_states_is_one_deadline_order(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    // Six receipts on six days; two of them accepted at once (their promised deadline is
    // weeks away), so the inbox mixes states and the order is by deadline, not by state.
    let ids: Vec<i64> = (0..6).map(|d| receive(&t.db, &w, d)).collect();
    for (i, id) in ids.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let (reviewer, id) = (w.reviewer.clone(), *id);
        t.db.write_blocking(move |tx| {
            let cal = Calendar::builtin();
            let env = Env {
                now: now() + Duration::days(i as i64),
                cal: &cal,
            };
            act(tx, &reviewer, &env, id, &Action::Accept, None)
        })
        .unwrap();
    }
    let page = |after: Option<(String, i64)>| {
        t.db.read_blocking(move |tx| {
            tx.cases(&CaseFilter {
                after,
                ..filter(
                    CaseScope::Department(w.dept),
                    vec![
                        CaseState::UnderReview,
                        CaseState::Received,
                        CaseState::Paused,
                    ],
                    CaseOrder::Due,
                    4,
                )
            })
        })
        .unwrap()
    };
    let first = page(None);
    assert_eq!(first.len(), 4);
    let last = first.last().unwrap();
    let second = page(Some((last.sort_key.clone(), last.id)));
    let got: Vec<i64> = first.iter().chain(second.iter()).map(|c| c.id).collect();
    let mut expected: Vec<(chrono::NaiveDate, i64)> = ids
        .iter()
        .map(|id| {
            let id = *id;
            let c = t.db.read_blocking(move |tx| tx.case(id)).unwrap().unwrap();
            (c.due().unwrap(), id)
        })
        .collect();
    expected.sort();
    assert_eq!(got, expected.iter().map(|(_, id)| *id).collect::<Vec<_>>());
    let states: std::collections::BTreeSet<_> =
        first.iter().chain(second.iter()).map(|c| c.state).collect();
    assert_eq!(states.len(), 2, "both states are in the inbox");
}

fn case_lists_narrow_by_item_department_number_and_creation_time(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    // Five receipts on five days.
    let ids: Vec<i64> = (0..5).map(|d| receive(&t.db, &w, d)).collect();
    let numbers: Vec<String> = ids
        .iter()
        .map(|id| {
            let id = *id;
            let c = t.db.read_blocking(move |tx| tx.case(id)).unwrap().unwrap();
            c.number.as_str().to_string()
        })
        .collect();
    let list = |scope: CaseScope, states: Vec<CaseState>, narrow: &dyn Fn(&mut CaseFilter)| {
        let mut f = filter(scope, states, CaseOrder::Due, 50);
        narrow(&mut f);
        let mut got: Vec<i64> =
            t.db.read_blocking(move |tx| tx.cases(&f))
                .unwrap()
                .iter()
                .map(|c| c.id)
                .collect();
        got.sort();
        got
    };
    let inbox = vec![CaseState::Received, CaseState::UnderReview];
    let dept = CaseScope::Department(w.dept);
    for (scope, states) in [
        (CaseScope::All, vec![]),
        (dept.clone(), vec![CaseState::Received]),
        // A department's inbox over several states: one query arm per state.
        (dept.clone(), inbox.clone()),
    ] {
        let all = list(scope.clone(), states.clone(), &|_| {});
        assert_eq!(all, ids);
        let one = numbers[2].clone();
        assert_eq!(
            list(scope.clone(), states.clone(), &|f| f.number =
                Some(one.clone())),
            [ids[2]]
        );
        assert_eq!(
            list(scope.clone(), states.clone(), &|f| f.item_id = Some(w.item)),
            ids
        );
        assert!(
            list(scope.clone(), states.clone(), &|f| f.item_id =
                Some(w.item + 999))
            .is_empty()
        );
        assert!(
            list(scope.clone(), states.clone(), &|f| f.department_id =
                Some(w.other_dept))
            .is_empty()
        );
        assert_eq!(
            list(scope.clone(), states.clone(), &|f| {
                f.created = Some((now() + Duration::days(1), now() + Duration::days(3)))
            }),
            ids[1..3]
        );
    }
}

/// Newest first (an applicant's 我的办件, a department's register): by time of receipt,
/// paged by its keyset, in every scope, open cases only or all. On PostgreSQL these
/// read the key table's indexes (migration 8).
fn newest_first_lists_page_by_time_of_receipt(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    // Five receipts on five days.
    let ids: Vec<i64> = (0..5).map(|d| receive(&t.db, &w, d)).collect();
    let newest: Vec<i64> = ids.iter().rev().copied().collect();
    let pages = |scope: CaseScope, states: Vec<CaseState>| {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let f = CaseFilter {
                after: after.clone(),
                ..filter(scope.clone(), states.clone(), CaseOrder::Newest, 2)
            };
            let page = t.db.read_blocking(move |tx| tx.cases(&f)).unwrap();
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            after = Some((last.sort_key.clone(), last.id));
            seen.extend(page.iter().map(|c| c.id));
        }
        seen
    };
    let owner = CaseScope::Owner {
        applicant_id: Some(1),
        agent_account: None,
    };
    for scope in [
        CaseScope::All,
        CaseScope::Department(w.dept),
        CaseScope::RegionPrefix("4409".into()),
        owner,
    ] {
        assert_eq!(pages(scope.clone(), vec![]), newest, "{scope:?}");
        assert_eq!(
            pages(scope.clone(), vec![CaseState::Received]),
            newest,
            "{scope:?}"
        );
        assert!(pages(scope.clone(), vec![CaseState::Archived]).is_empty());
    }
    assert!(pages(CaseScope::Department(w.other_dept), vec![]).is_empty());
    let strangers = CaseScope::Owner {
        applicant_id: Some(2),
        agent_account: Some(99),
    };
    assert!(pages(strangers, vec![]).is_empty());
}

/// SQLite keeps the foreign key from an event to its case, as a tripwire for the
/// suites that run on both backends; PostgreSQL dropped it (migration 7), since an event
/// is only ever written with its case and the check cost every event a trigger query
/// and a row lock.
fn an_event_for_no_case_is_refused_on_sqlite_only(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let r =
        t.db.write_blocking(|tx| tx.append_event(424_242, &event(1, CaseState::Received)));
    match b {
        Backend::Sqlite => assert!(r.is_err(), "{r:?}"),
        Backend::Postgres => {
            assert!(r.is_ok(), "{r:?}");
            let keys =
                t.db.read_raw(|c| {
                    tongban_store::conn::ConnExt::all(
                        c,
                        "SELECT conname FROM pg_constraint WHERE conrelid = 'case_events'::regclass AND contype = 'f'",
                        &[],
                        |r| r.text(0),
                    )
                })
                .unwrap();
            assert!(keys.is_empty(), "{keys:?}");
        }
    }
}

fn a_failed_use_case_leaves_nothing_behind(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    let clerk = w.clerk.clone();
    let item = w.item;
    // The applicant is registered, then the receipt fails on a missing material: nothing stays.
    let err =
        t.db.write_blocking(move |tx| {
            let cal = Calendar::builtin();
            let mut req = new_case(item, "440902199001011234");
            req.materials.clear();
            receive_case(
                tx,
                &clerk,
                &Env {
                    now: now(),
                    cal: &cal,
                },
                &req,
            )
        })
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)));
    let left =
        t.db.read_blocking(|tx| tx.applicant_by_identifier("440902199001011234"))
            .unwrap();
    assert!(
        left.is_none(),
        "the applicant written before the failure was rolled back"
    );
}

fn published_versions_never_change(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    let item = w.item;
    let err =
        t.db.write_blocking(move |tx| {
            let mut v = tx.item_version(item, 1)?.unwrap();
            assert_eq!(v.state, VersionState::Published);
            v.spec.promised_limit_days = 1;
            tx.save_item_version(&v)
        })
        .unwrap_err();
    assert!(matches!(err, Error::Store(m) if m.contains("refusing")));
}

fn case_serials_count_per_region_and_day(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let d1 = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let d2 = d1.succ_opt().unwrap();
    let got =
        t.db.write_blocking(move |tx| {
            Ok(vec![
                tx.next_case_serial("440902", d1)?,
                tx.next_case_serial("440902", d1)?,
                tx.next_case_serial("440904", d1)?,
                tx.next_case_serial("440902", d2)?,
                tx.next_case_serial("440902", d1)?,
            ])
        })
        .unwrap();
    assert_eq!(got, [1, 2, 1, 1, 3]);
}

/// On PostgreSQL a server claims serials ahead, in blocks as large as the demand (one
/// job calling one after another is as quick as it gets): what a failed job claimed is
/// never handed out (its claim rolled back), what a committed job left over is handed
/// out next, and another server never gets a serial this one holds. SQLite counts one
/// by one; every assertion holds on both.
fn serials_claimed_ahead_are_used_only_once_committed(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let take = |db: &Db, n: usize, fail: bool| {
        db.write_blocking(move |tx| {
            let got = (0..n)
                .map(|_| tx.next_case_serial("440902", d))
                .collect::<tongban_core::Result<Vec<u32>>>()?;
            if fail {
                return Err(Error::field("materials", "缺少材料"));
            }
            Ok(got)
        })
    };
    // Blocks of 1, 2 and 4 on PostgreSQL: serials 5 to 7 are left over in a job that
    // fails, so its claims roll back.
    assert!(take(&t.db, 4, true).is_err());
    assert_eq!(take(&t.db, 4, false).unwrap(), [1, 2, 3, 4]);
    let counted =
        t.db.read_raw(|c| {
            tongban_store::conn::ConnExt::one(c, "SELECT last FROM case_serials", &[], |r| r.int(0))
        })
        .unwrap();
    if b == Backend::Postgres {
        assert!(counted > 4, "claimed ahead: {counted}");
    } else {
        assert_eq!(counted, 4);
    }
    // Whatever that job claimed and left over is used next.
    assert_eq!(take(&t.db, 2, false).unwrap(), [5, 6]);
    let other = t.another_handle();
    let theirs = take(&other.db, 1, false).unwrap()[0];
    let mine = take(&t.db, 1, false).unwrap()[0];
    assert!(theirs > 6 && mine > 6 && theirs != mine, "{theirs} {mine}");
    if b == Backend::Sqlite {
        assert_eq!((theirs, mine), (7, 8));
    }
}

fn sessions_expire_and_failures_are_counted(b: Backend) {
    let Some(t) = fresh(b) else { return };
    seed(&t.db);
    let found =
        t.db.write_blocking(|tx| {
            let acc = tx.account_by_username("clerk")?.unwrap();
            tx.insert_session(&Session {
                token_hash: "h1".into(),
                account_id: acc.id,
                kind: SessionKind::Bearer,
                created_at: now(),
                expires_at: now() + Duration::hours(1),
                csrf: "c".into(),
            })?;
            for m in 0..3 {
                tx.record_login_attempt("u:CLERK", false, now() + Duration::minutes(m))?;
            }
            Ok((
                tx.session("h1", now())?.map(|(s, a)| (s.kind, a.username)),
                tx.session("h1", now() + Duration::hours(2))?.is_some(),
                tx.login_failures("u:CLERK", now() + Duration::seconds(30))?,
            ))
        })
        .unwrap();
    assert_eq!(found.0, Some((SessionKind::Bearer, "clerk".to_string())));
    assert!(!found.1, "an expired session is not found");
    assert_eq!(found.2.0, 2);
}

fn calendar_years_round_trip(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let years = builtin::years();
    let y2 = years.clone();
    t.db.write_blocking(move |tx| {
        for y in &y2 {
            tx.save_calendar_year(y, 1, now())?;
        }
        // Saving a year again replaces it.
        tx.save_calendar_year(&y2[6], 1, now())
    })
    .unwrap();
    let back = t.db.read_blocking(|tx| tx.calendar_years()).unwrap();
    assert_eq!(back, years);
}

async fn concurrent_writes(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let db = t.db.clone();
        let (clerk, item) = (w.clerk.clone(), w.item);
        tasks.push(tokio::spawn(async move {
            db.write(move |tx| {
                let cal = Calendar::builtin();
                let mut req = new_case(item, "11010519491231002X");
                if i == 30 {
                    req.materials.clear();
                }
                receive_case(
                    tx,
                    &clerk,
                    &Env {
                        now: now(),
                        cal: &cal,
                    },
                    &req,
                )
            })
            .await
        }));
    }
    let mut ok = 0;
    let mut failed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::Validation(_)) => failed += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((ok, failed), (59, 1));
    let n =
        t.db.read(|tx| tx.cases(&filter(CaseScope::All, vec![], CaseOrder::Newest, 100)))
            .await
            .unwrap();
    assert_eq!(n.len(), 59);
    // Every committed case got its own serial.
    let mut numbers: Vec<_> = n.iter().map(|c| c.number.clone()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 59);
}

/// The portable DDL (for distributed engines) migrates and works on PostgreSQL too.
#[test]
fn the_portable_schema_works_on_postgres() {
    let Some(url) = tongban_store::testing::postgres_url() else {
        return;
    };
    let db = Db::open_with(
        &url,
        &tongban_store::Options {
            pool_size: 2,
            portable_sql: true,
            pg_writers: 2,
        },
    )
    .unwrap();
    let w = seed(&db);
    let id = receive(&db, &w, 0);
    let found = db
        .read_blocking(|tx| {
            tx.cases(&filter(
                CaseScope::RegionPrefix("4409".into()),
                vec![],
                CaseOrder::Due,
                10,
            ))
        })
        .unwrap();
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), [id]);
}

/// Many optimistic writes at once (the writer replays them as a group): saves of
/// distinct cases all commit with their events; saves racing on one case commit once
/// per version, the rest retried or refused with a conflict; a save whose event cannot
/// be written (its sequence number is taken) fails alone.
async fn optimistic_writes(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    let ids: Vec<i64> = (0..24).map(|_| receive(&t.db, &w, 0)).collect();
    let contested = ids[0];
    let broken = ids[1];
    let save = |db: Db, id: i64, seq_taken: bool| async move {
        db.write_optimistic(move |tx| Ok(touch(tx, id, seq_taken.then_some(1))?.version))
            .await
    };
    let mut tasks = Vec::new();
    for &id in &ids[1..] {
        tasks.push((id, tokio::spawn(save(t.db.clone(), id, id == broken))));
    }
    for _ in 0..12 {
        tasks.push((
            contested,
            tokio::spawn(save(t.db.clone(), contested, false)),
        ));
    }
    let (mut won, mut refused) = (0, 0);
    for (id, task) in tasks {
        match (id, task.await.unwrap()) {
            // A taken key is reported as a duplicate.
            (id, Err(Error::Conflict(m))) if id == broken && m == "数据重复" => {}
            (id, r) if id == broken => panic!("the broken save: {r:?}"),
            (id, Ok(v)) if id == contested => {
                assert!(v >= 2);
                won += 1;
            }
            (id, Err(Error::Conflict(_))) if id == contested => refused += 1,
            (_, Ok(v)) => assert_eq!(v, 2),
            (_, Err(e)) => panic!("{e}"),
        }
    }
    assert_eq!(won + refused, 12);
    assert!(won >= 1);
    let (after, events, broken_case, broken_events) = {
        let ids = ids.clone();
        t.db.read(move |tx| {
            let mut v = Vec::new();
            for id in &ids[2..] {
                v.push((tx.case(*id)?.map(|c| c.version), tx.events(*id)?.len()));
            }
            let c = tx.case(contested)?.map(|c| c.version);
            let e = tx
                .events(contested)?
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>();
            let bc = tx.case(broken)?.map(|c| c.version);
            let be = tx.events(broken)?.len();
            Ok((v, (c, e), bc, be))
        })
        .await
        .unwrap()
    };
    // Every other case moved once, with its event.
    assert!(after.iter().all(|r| *r == (Some(2), 2)), "{after:?}");
    // The contested case moved once per save that won, each with its own event.
    assert_eq!(events.0, Some(1 + won));
    let expected: Vec<u32> = (1..=(1 + won) as u32).collect();
    assert_eq!(events.1, expected);
    // The broken save left nothing.
    assert_eq!((broken_case, broken_events), (Some(1), 1));
}

/// Saves of six cases reach the writer in one batch: it is kept busy while they queue.
/// On PostgreSQL the batch's saves go as one statement. Then again, with one of them
/// decided on a kept copy another server has moved since (with an event of its own, so
/// the stale save's event number is taken too): the one statement's count falls short,
/// the group runs guard by guard, not job by job, and only the stale save fails its guard
/// and is decided again. Every case moves once per round, with its event, and keeps the
/// other server's change.
async fn saves_together_one_stale(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    let one = Db::open_with(
        &t.url,
        &tongban_store::Options {
            pg_writers: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let ids: Vec<i64> = (0..6).map(|_| receive(&one, &w, 0)).collect();
    // `one` keeps every case, at version 2.
    for &id in &ids {
        assert_eq!(rename(&one, id, "本服务器").version, 2);
    }
    let pg = b == Backend::Postgres;

    // Round one: nothing stale.
    let before = one.writer_stats();
    let versions = saves_in_one_batch(&one, &ids).await;
    assert!(versions.iter().all(|v| *v == 3), "{versions:?}");
    // Two transactions: the job that kept the writer busy, and the six saves.
    let (txs, groups) = writes_since(&before, &one.writer_stats());
    assert_eq!(txs, (2, 7));
    assert_eq!(groups, (u64::from(pg), 0, 0));

    // Round two: another server moves one case to version 4, with its event 4.
    let stale = ids[2];
    let other = t.another_handle();
    other
        .db
        .write_blocking(move |tx| {
            let mut c = tx.case(stale)?.ok_or(Error::NotFound { entity: "case" })?;
            let read = c.version;
            c.version += 1;
            c.item_name = "另一服务器".into();
            tx.update_case(&c, read)?;
            tx.append_event(stale, &event(c.version as u32, c.state))
        })
        .unwrap();
    let before = one.writer_stats();
    let versions = saves_in_one_batch(&one, &ids).await;
    for (&id, v) in ids.iter().zip(versions) {
        assert_eq!(v, if id == stale { 5 } else { 4 }, "case {id}");
    }
    // And one more for the stale save's second decision.
    let (txs, groups) = writes_since(&before, &one.writer_stats());
    assert_eq!(txs, (3, 8));
    assert_eq!(groups, (0, u64::from(pg), 0));
    for &id in &ids {
        let (c, seqs) =
            t.db.read(move |tx| {
                Ok((
                    tx.case(id)?.unwrap(),
                    tx.events(id)?.iter().map(|e| e.seq).collect::<Vec<_>>(),
                ))
            })
            .await
            .unwrap();
        if id == stale {
            assert_eq!((c.version, c.item_name.as_str()), (5, "另一服务器，再存"));
            assert_eq!(seqs, [1, 3, 4, 5]);
        } else {
            assert_eq!(
                (c.version, c.item_name.as_str()),
                (4, "本服务器，再存，再存")
            );
            assert_eq!(seqs, [1, 3, 4]);
        }
    }
}

/// What a writer did between two snapshots of its stats: (transactions, jobs), and its
/// groups (saved at once, fallen short, replayed job by job).
fn writes_since(
    before: &tongban_store::writer::WriterStats,
    after: &tongban_store::writer::WriterStats,
) -> ((u64, u64), (u64, u64, u64)) {
    (
        (after.batches - before.batches, after.jobs - before.jobs),
        (
            after.saves_at_once - before.saves_at_once,
            after.saves_fell_short - before.saves_fell_short,
            after.groups_one_by_one - before.groups_one_by_one,
        ),
    )
}

/// A bare event numbered `seq`.
fn event(seq: u32, state: CaseState) -> tongban_core::case::Event {
    tongban_core::case::Event {
        seq,
        at: now(),
        actor_id: 0,
        actor_name: "系统".into(),
        actor_role: Role::System,
        action: "touch".into(),
        from: Some(state),
        to: state,
        reason: None,
        data: tongban_core::case::EventData::of(&serde_json::json!({})),
    }
}

/// An optimistic save of each case (its name gains "，再存", with its event), all
/// queued behind a writer kept busy until every one waits, so that they run as one
/// batch of that writer's (`db` has one). The versions saved, in order.
async fn saves_in_one_batch(db: &Db, ids: &[i64]) -> Vec<i64> {
    let (started, is_busy) = tokio::sync::oneshot::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let busy = tokio::spawn({
        let db = db.clone();
        async move {
            db.write(move |_| {
                let _ = started.send(());
                let _ = released.recv();
                Ok(())
            })
            .await
        }
    });
    is_busy.await.unwrap();
    let saves: Vec<_> = ids
        .iter()
        .map(|&id| {
            let db = db.clone();
            tokio::spawn(async move {
                db.write_optimistic(move |tx| {
                    let next = save_kept(tx, id, "，再存")?;
                    tx.append_event(id, &event(next.version as u32, next.state))?;
                    Ok(next.version)
                })
                .await
            })
        })
        .collect();
    let queued = async {
        while db.writer_stats().queued < ids.len() as u64 {
            tokio::task::yield_now().await;
        }
    };
    // A bound, not a wait: each save queues as soon as it is decided.
    tokio::time::timeout(std::time::Duration::from_secs(60), queued)
        .await
        .expect("the saves never all queued");
    release.send(()).unwrap();
    busy.await.unwrap().unwrap();
    let mut versions = Vec::new();
    for save in saves {
        versions.push(save.await.unwrap().unwrap());
    }
    versions
}

/// A server keeps the cases it saved decoded; a save by another server (another handle
/// on the same database) is still what the first one reads next.
fn a_case_saved_by_another_server_is_read_as_saved(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    let id = receive(&t.db, &w, 0);
    let other = t.another_handle();
    let save = |db: &Db, name: &'static str| rename(db, id, name);
    let mine = save(&t.db, "本服务器保存");
    assert_eq!(
        t.db.read_blocking(move |tx| tx.case(id)).unwrap().as_ref(),
        Some(&mine)
    );
    let theirs = save(&other.db, "另一服务器保存");
    assert_eq!(theirs.version, mine.version + 1);
    assert_eq!(
        t.db.read_blocking(move |tx| tx.case(id)).unwrap(),
        Some(theirs)
    );
}

/// An optimistic write may decide on the copy of the case this server keeps without
/// checking it is current. When another server has moved the case since, the decision
/// is made again on what the database holds: a save of the stale copy fails its guard
/// and is retried; a refusal the stale copy caused is not answered but decided again.
async fn decision_on_a_stale_kept_case(b: Backend) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    let id = receive(&t.db, &w, 0);
    let other = t.another_handle();
    let version_after = |db: &Db, name: &'static str| rename(db, id, name).version;
    // This server keeps the case at version 2; the other moves it to 3.
    assert_eq!(version_after(&t.db, "本服务器"), 2);
    assert_eq!(version_after(&other.db, "另一服务器"), 3);

    // Builds on what it read: a save of the stale copy would lose the other's name.
    let calls = Arc::new(AtomicUsize::new(0));
    let n = calls.clone();
    let v =
        t.db.write_optimistic(move |tx| {
            n.fetch_add(1, Ordering::Relaxed);
            Ok(save_kept(tx, id, "，再经本服务器")?.version)
        })
        .await
        .unwrap();
    assert_eq!(v, 4);
    assert_eq!(
        calls.load(Ordering::Relaxed),
        2,
        "decided on the kept copy, then again"
    );
    let c = t.db.read(move |tx| tx.case(id)).await.unwrap().unwrap();
    assert_eq!(
        (c.version, c.item_name.as_str()),
        (4, "另一服务器，再经本服务器")
    );

    // The other server moves it again; a use case that refuses what it sees in the
    // stale copy is decided again rather than answered with the refusal.
    assert_eq!(version_after(&other.db, "另一服务器再改"), 5);
    let calls = Arc::new(AtomicUsize::new(0));
    let n = calls.clone();
    let seen =
        t.db.write_optimistic(move |tx| {
            n.fetch_add(1, Ordering::Relaxed);
            let c = tx
                .shared_case_to_save(id)?
                .ok_or(Error::NotFound { entity: "case" })?;
            if c.version != 5 {
                return Err(Error::field(
                    "version",
                    format!("看到的是第 {} 版", c.version),
                ));
            }
            Ok(c.item_name.clone())
        })
        .await
        .unwrap();
    assert_eq!(seen, "另一服务器再改");
    assert_eq!(calls.load(Ordering::Relaxed), 2);

    // A refusal on a kept copy that is current is the answer: decided once. (The other
    // server saved version 5 itself, so the copy it keeps is the current one.)
    let kept = other
        .db
        .read_blocking(move |tx| Ok(tx.shared_case(id)?.map(|c| c.version)))
        .unwrap();
    assert_eq!(kept, Some(5));
    let calls = Arc::new(AtomicUsize::new(0));
    let n = calls.clone();
    let other_db = other.db.clone();
    let r = other_db
        .write_optimistic(move |tx| {
            n.fetch_add(1, Ordering::Relaxed);
            let _ = tx.shared_case_to_save(id)?;
            Err::<(), _>(Error::field("action", "不可办理"))
        })
        .await;
    assert!(matches!(r, Err(Error::Validation(_))), "{r:?}");
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}

/// Appends (events, statistics changes) may be held back and sent with the next
/// statement (PostgreSQL). A use case still reads what it appended, and an append that
/// fails (its event's sequence number is taken) fails its own use case, whether the
/// failure shows on its next read or only when the use case ends; the others of the
/// batch commit.
async fn appended_rows(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    let ids: Vec<i64> = (0..20).map(|_| receive(&t.db, &w, 0)).collect();
    let (broken_reading, broken_silent) = (ids[3], ids[11]);
    let mut tasks = Vec::new();
    for &id in &ids {
        let db = t.db.clone();
        tasks.push((
            id,
            tokio::spawn(async move {
                db.write(move |tx| {
                    let broken = id == broken_reading || id == broken_silent;
                    touch(tx, id, Some(if broken { 1 } else { 2 }))?;
                    if id == broken_silent {
                        return Ok(0);
                    }
                    Ok(tx.events(id)?.len())
                })
                .await
            }),
        ));
    }
    for (id, task) in tasks {
        match task.await.unwrap() {
            Err(Error::Conflict(m)) if id == broken_reading || id == broken_silent => {
                assert_eq!(m, "数据重复")
            }
            r if id == broken_reading || id == broken_silent => panic!("case {id}: {r:?}"),
            // Its own event is read back within the use case.
            r => assert_eq!(r.unwrap(), 2, "case {id}"),
        }
    }
    let after =
        t.db.read(move |tx| {
            ids.iter()
                .map(|&id| Ok((id, tx.case(id)?.map(|c| c.version), tx.events(id)?.len())))
                .collect::<Result<Vec<_>, Error>>()
        })
        .await
        .unwrap();
    for (id, version, events) in after {
        if id == broken_reading || id == broken_silent {
            assert_eq!((version, events), (Some(1), 1), "case {id} left nothing");
        } else {
            assert_eq!((version, events), (Some(2), 2), "case {id}");
        }
    }
}

/// 收件 in two steps: reading and checking on a snapshot (no writer time, nothing
/// written), then the serial and the writes in the writer. An applicant registered or
/// changed in between is resolved again in the writer; a refused application never
/// reaches it.
fn a_receipt_is_planned_on_a_snapshot_and_written_in_the_writer(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    let person = "11010519491231002X";
    let plan_on = |db: &Db, app: Application| {
        let clerk = w.clerk.clone();
        db.read_blocking(move |tx| {
            let cal = Calendar::builtin();
            let env = Env {
                now: now(),
                cal: &cal,
            };
            plan_receive(tx, &clerk, &env, &app, false)
        })
    };
    let write = |db: &Db, app: Application, plan| {
        let clerk = w.clerk.clone();
        db.write_blocking(move |tx| {
            let cal = Calendar::builtin();
            let env = Env {
                now: now(),
                cal: &cal,
            };
            receive_planned(tx, &clerk, &env, &app, plan)
        })
    };
    let on_record = |db: &Db| {
        db.read_blocking(move |tx| tx.applicant_by_identifier(person))
            .unwrap()
    };

    // A person not on record yet: planned without writing anything.
    let app = new_case(w.item, person);
    let jobs = t.db.writer_stats().jobs;
    let plan = plan_on(&t.db, app.clone()).unwrap();
    assert_eq!(t.db.writer_stats().jobs, jobs, "planning is not a write");
    assert!(on_record(&t.db).is_none());
    // Meanwhile another clerk receives a case for the same person, registering them.
    let first = receive(&t.db, &w, 0);
    let first =
        t.db.read_blocking(move |tx| tx.case(first))
            .unwrap()
            .unwrap();
    let c = write(&t.db, app, plan).unwrap();
    assert_eq!(c.applicant.id, first.applicant.id, "one person, one record");
    assert!(
        first.number.as_str().contains("-00001-"),
        "{}",
        first.number.as_str()
    );
    assert!(
        c.number.as_str().contains("-00002-"),
        "{}",
        c.number.as_str()
    );

    // A refused application: refused on the snapshot, nothing reaches the writer.
    let mut bad = new_case(w.item, person);
    bad.materials.clear();
    let jobs = t.db.writer_stats().jobs;
    assert!(matches!(plan_on(&t.db, bad), Err(Error::Validation(_))));
    assert_eq!(t.db.writer_stats().jobs, jobs);

    // New contact details checked at the window: left to the writer, which records them.
    let mut moved = new_case(w.item, person);
    moved.applicant.as_mut().unwrap().phone = "13900139000".into();
    let plan = plan_on(&t.db, moved.clone()).unwrap();
    assert_eq!(on_record(&t.db).unwrap().phone, "13800138000");
    let c = write(&t.db, moved, plan).unwrap();
    assert_eq!(c.applicant.phone, "13900139000");
    assert_eq!(on_record(&t.db).unwrap().phone, "13900139000");
    assert!(c.number.as_str().contains("-00003-"));
}

/// `Db::write_inserts` on 收件: on PostgreSQL, once the server holds serials (claimed
/// by the receipts before, in growing blocks), a receipt is decided without the
/// database and its rows join the writer's group; a receipt that must read (a person
/// not on record) or finds no serial held runs in the writer. Either way every case is
/// numbered once, with its event and its statistics. SQLite runs each in the writer.
async fn receipts_filed_without_the_database(b: Backend) {
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    let received = |db: &Db| {
        db.read_raw(|c| {
            tongban_store::conn::ConnExt::one(
                c,
                "SELECT CAST(COALESCE(SUM(received), 0) AS BIGINT) FROM case_stat_deltas",
                &[],
                |r| r.int(0),
            )
        })
        .unwrap()
    };
    let file = |db: Db, person: &'static str| {
        let clerk = w.clerk.clone();
        let app = new_case(w.item, person);
        let (c, a) = (clerk.clone(), app.clone());
        let plan = db
            .read_blocking(move |tx| at_now(|env| plan_receive(tx, &c, env, &a, false)))
            .unwrap();
        async move {
            db.write_inserts(move |tx| {
                at_now(|env| receive_planned(tx, &clerk, env, &app, plan.clone()))
            })
            .await
        }
    };
    let (offline, stats) = (t.db.decision_stats().offline, received(&t.db));
    // Not on record: the writer registers the person (the decision wanted to read).
    let first = file(t.db.clone(), "11010519491231002X").await.unwrap();
    assert_eq!(t.db.decision_stats().offline, offline);
    let mut cases = vec![first];
    for _ in 0..11 {
        cases.push(file(t.db.clone(), "11010519491231002X").await.unwrap());
    }
    let offline = t.db.decision_stats().offline - offline;
    let mut numbers: Vec<String> = cases
        .iter()
        .map(|c| c.number.as_str().to_string())
        .collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 12, "{numbers:?}");
    if b == Backend::Postgres {
        // Blocks of 1, 2, 4 and 8 claimed by receipts in the writer; the serials they
        // left were taken by receipts decided without the database.
        assert!(
            offline >= 5,
            "{offline} receipts decided without the database"
        );
    } else {
        assert_eq!(offline, 0);
        assert!(numbers.last().unwrap().contains("-00012-"), "{numbers:?}");
    }
    for c in &cases {
        let (id, number) = (c.id, c.number.clone());
        let (events, by_number) =
            t.db.read_blocking(move |tx| {
                Ok((tx.events(id)?.len(), tx.case_by_number(number.as_str())?))
            })
            .unwrap();
        assert_eq!(events, 1);
        assert_eq!(by_number.as_ref(), Some(c.as_ref()));
    }
    assert_eq!(received(&t.db) - stats, 12);
}

/// A decision on a case this server filed or saved, that reads nothing else, is made
/// without the database; one that reads is made on a snapshot, as is one on a case this
/// server does not keep. The bundle membership of a case this server filed is known
/// without a read; that of a case filed in a transaction that rolled back is not kept,
/// even where SQLite gives its id to the next case; and a case filed earlier cannot join
/// a bundle later.
async fn decisions_without_the_database(b: Backend) {
    use tongban_core::bundle::{Bundle, BundleCase, BundleChild};
    let Some(t) = fresh(b) else { return };
    let w = seed(&t.db);
    let id = receive(&t.db, &w, 0);
    let stats = |db: &Db| {
        let s = db.decision_stats();
        (s.offline, s.on_snapshot)
    };
    let save = move |tx: &mut dyn Tx| -> Result<i64, Error> { Ok(save_kept(tx, id, "")?.version) };
    // Filed by this server: kept, and its membership (none) known.
    let before = stats(&t.db);
    assert_eq!(t.db.write_optimistic(save).await.unwrap(), 2);
    assert_eq!(
        t.db.write_optimistic(move |tx| tx.bundle_case_of(id))
            .await
            .unwrap(),
        None
    );
    assert_eq!(stats(&t.db), (before.0 + 2, before.1));
    // Reading the case's events wants the database.
    let n =
        t.db.write_optimistic(move |tx| Ok(tx.events(id)?.len()))
            .await
            .unwrap();
    assert_eq!(n, 1);
    assert_eq!(stats(&t.db), (before.0 + 2, before.1 + 1));
    // Another server keeps nothing of this case: it decides on a snapshot, then keeps
    // what it saved and decides the next save without the database.
    let other = t.another_handle();
    assert_eq!(other.db.write_optimistic(save).await.unwrap(), 3);
    assert_eq!(other.db.write_optimistic(save).await.unwrap(), 4);
    assert_eq!(stats(&other.db), (1, 1));

    // A case filed with its bundle membership in a transaction that then fails.
    let (clerk, item) = (w.clerk.clone(), w.item);
    let filed = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let f = filed.clone();
    let failed = t.db.write_blocking(move |tx| {
        let cal = Calendar::builtin();
        let env = Env {
            now: now(),
            cal: &cal,
        };
        let c = receive_case(tx, &clerk, &env, &new_case(item, "11010519491231002X"))?;
        let bundle = tx.insert_bundle(&Bundle {
            id: 0,
            code: "YJS-TEST".into(),
            region: rc("440902"),
            name: "测试一件事".into(),
            status: tongban_core::catalog::ItemStatus::Active,
            versions: vec![],
            updated_at: now(),
        })?;
        tx.insert_bundle_case(&BundleCase {
            id: 0,
            bundle_id: bundle,
            bundle_version: 1,
            name: "测试一件事".into(),
            applicant_id: c.applicant.id,
            answers: Default::default(),
            children: vec![BundleChild {
                item_id: item,
                case_id: c.id,
                after: vec![],
            }],
            inspections: vec![],
            created_at: now(),
        })?;
        assert!(tx.bundle_case_of(c.id)?.is_some());
        f.store(c.id, std::sync::atomic::Ordering::Relaxed);
        Err::<(), _>(Error::field("test", "回滚"))
    });
    assert!(failed.is_err());
    let gone = filed.load(std::sync::atomic::Ordering::Relaxed);
    assert!(gone > 0);
    let found =
        t.db.write_optimistic(move |tx| tx.bundle_case_of(gone))
            .await
            .unwrap();
    assert_eq!(found, None, "the rolled-back filing left no membership");
    let next = receive(&t.db, &w, 0);
    for db in [&t.db, &other.db] {
        let found = db
            .write_optimistic(move |tx| tx.bundle_case_of(next))
            .await
            .unwrap();
        assert_eq!(found, None, "case {next} belongs to no bundle");
    }
    // Membership is final once committed: a case filed earlier joins no bundle later.
    let late = t.db.write_blocking(move |tx| {
        let bundle = tx.insert_bundle(&Bundle {
            id: 0,
            code: "YJS-LATE".into(),
            region: rc("440902"),
            name: "迟到的一件事".into(),
            status: tongban_core::catalog::ItemStatus::Active,
            versions: vec![],
            updated_at: now(),
        })?;
        tx.insert_bundle_case(&BundleCase {
            id: 0,
            bundle_id: bundle,
            bundle_version: 1,
            name: "迟到的一件事".into(),
            applicant_id: 1,
            answers: Default::default(),
            children: vec![BundleChild {
                item_id: item,
                case_id: next,
                after: vec![],
            }],
            inspections: vec![],
            created_at: now(),
        })
    });
    assert!(matches!(late, Err(Error::Store(_))), "{late:?}");
    assert_eq!(
        t.db.read_blocking(move |tx| tx.bundle_case_of(next))
            .unwrap(),
        None
    );
}

/// A use case that panics while being decided (first on the request's own thread,
/// then on a reader) is answered with an error on PostgreSQL, not a dropped request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_that_panics_is_an_error_on_postgres() {
    let Some(t) = fresh(Backend::Postgres) else {
        return;
    };
    let r =
        t.db.write_optimistic(|_tx| -> Result<(), Error> { panic!("a use case's bug") })
            .await;
    assert!(matches!(r, Err(Error::Store(_))), "{r:?}");
    // The database still serves.
    let w = seed(&t.db);
    assert!(receive(&t.db, &w, 0) > 0);
}
