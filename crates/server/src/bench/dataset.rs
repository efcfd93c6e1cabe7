//! Deterministic datasets: the demo county, then N cases spread over its 49 items
//! (popular items far more often), its departments and two years of dates, each case
//! run through the real transition function on its own timeline — so deadlines,
//! on-time marks, events and rollups are what the platform itself would have made.
//! Recent cases stop part-way: the open ones, some of them overdue.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use indicatif::ProgressBar;
use tongban_core::actor::{Actor, Role};
use tongban_core::calendar::Calendar;
use tongban_core::case::{
    Action, ApplicantKind, ApplicantRef, Case, CaseNumber, Channel, Ctx, Event, apply, receive,
};
use tongban_core::catalog::{Item, ItemSpec, ProcessingType, ServiceObject, StageKind};
use tongban_core::identity::{CreditCode, IdNumber};
use tongban_core::org::Applicant;
use tongban_core::stats::{StatDelta, deltas};
use tongban_core::store::ItemFilter;
use tongban_core::time::china_date;
use tongban_store::Db;

use super::rng::Rng;
use crate::demo;

/// Cases written per transaction.
const BATCH: usize = 2000;

/// What a generated dataset holds, for the read workloads.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Cases generated.
    pub cases: u64,
    /// Of which still open.
    pub open: u64,
    /// Applicant ids, in creation order.
    pub applicants: Vec<i64>,
}

struct Catalog {
    items: Vec<(Item, Arc<ItemSpec>)>,
    /// Cumulative popularity weights, Zipf-like by position.
    weights: Vec<f64>,
}

fn load_catalog(db: &Db) -> anyhow::Result<Catalog> {
    let items = db
        .read_blocking(|tx| {
            let items = tx.items(&ItemFilter {
                published_only: true,
                limit: 1000,
                ..Default::default()
            })?;
            let mut out = Vec::new();
            for i in items {
                let v = i.published_version.unwrap_or(1);
                if let Some(s) = tx.published_spec(i.id, v)? {
                    out.push((i, s));
                }
            }
            Ok(out)
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut acc = 0.0;
    let weights = (0..items.len())
        .map(|k| {
            acc += 1.0 / (k as f64 + 1.0).powf(0.8);
            acc
        })
        .collect();
    Ok(Catalog { items, weights })
}

/// A valid resident ID number for the `k`-th generated person.
fn person_id(rng: &mut Rng, county: &str) -> String {
    let y = 1950 + rng.below(55) as i32;
    let m = 1 + rng.below(12) as u32;
    let d = 1 + rng.below(28) as u32;
    let body = format!("{county}{y:04}{m:02}{d:02}{:03}", rng.below(1000));
    format!("{body}{}", IdNumber::check_char(&body))
}

/// A valid unified social credit code for a generated enterprise.
fn credit_code(rng: &mut Rng, county: &str) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let org: String = (0..9).map(|_| A[rng.below(31) as usize] as char).collect();
    let body = format!("91{county}{org}");
    format!("{body}{}", CreditCode::check_char(&body))
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "林",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "华", "慧",
];

/// Generate `n` cases (seeded) into a database that holds the demo county.
/// `with_events` writes every case's log (skip it for the largest sizes: the reads and
/// statistics measured do not read logs, and they would triple the size).
pub fn generate(
    db: &Db,
    n: u64,
    seed: u64,
    with_events: bool,
    now: DateTime<Utc>,
    bar: &ProgressBar,
) -> anyhow::Result<Dataset> {
    let catalog = Arc::new(load_catalog(db)?);
    let cal = Arc::new(
        db.read_blocking(|tx| tx.calendar_years())
            .map(|y| Calendar::new(&y))
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );

    // Applicants: about one per four cases, persons and enterprises.
    let mut rng = Rng::new(seed);
    let persons = (n / 4).max(200);
    let firms = (n / 20).max(50);
    let mut refs: Vec<ApplicantRef> = Vec::with_capacity((persons + firms) as usize);
    let mut pending = Vec::new();
    for k in 0..persons + firms {
        let county = if rng.chance(0.55) { "440902" } else { "440904" };
        let person = k < persons;
        let (kind, identifier, name) = if person {
            let name = format!(
                "{}{}",
                SURNAMES[rng.below(SURNAMES.len() as u64) as usize],
                GIVEN[rng.below(GIVEN.len() as u64) as usize]
            );
            (ApplicantKind::Person, person_id(&mut rng, county), name)
        } else {
            (
                ApplicantKind::Enterprise,
                credit_code(&mut rng, county),
                format!("茂名市第{k}号商贸有限公司"),
            )
        };
        pending.push(Applicant {
            id: 0,
            kind,
            name,
            identifier,
            phone: format!("13{:09}", rng.below(1_000_000_000)),
            legal_representative: (!person).then(|| "王伟".to_string()),
            rongque_bar: None,
            created_at: now,
        });
        if pending.len() == 5000 || k + 1 == persons + firms {
            let batch = std::mem::take(&mut pending);
            let made = db
                .write_blocking(move |tx| {
                    let mut out = Vec::with_capacity(batch.len());
                    for a in batch {
                        // Identifiers may repeat by chance; the one on record is used.
                        out.push(tx.insert_applicant_if_absent(&a)?);
                    }
                    Ok(out)
                })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            refs.extend(made.iter().map(|a| a.as_ref()));
        }
    }
    refs.sort_by_key(|a| a.id);
    refs.dedup_by_key(|a| a.id);
    let persons_refs: Arc<Vec<ApplicantRef>> = Arc::new(
        refs.iter()
            .filter(|a| a.kind == ApplicantKind::Person)
            .cloned()
            .collect(),
    );
    let firm_refs: Arc<Vec<ApplicantRef>> = Arc::new(
        refs.iter()
            .filter(|a| a.kind == ApplicantKind::Enterprise)
            .cloned()
            .collect(),
    );

    // Cases: two generator threads, one writer (this thread).
    let (tx, rx) = mpsc::sync_channel::<Vec<Generated>>(4);
    let threads = 2u64;
    let mut handles = Vec::new();
    for t in 0..threads {
        let (catalog, cal, persons, firms, tx) = (
            catalog.clone(),
            cal.clone(),
            persons_refs.clone(),
            firm_refs.clone(),
            tx.clone(),
        );
        handles.push(std::thread::spawn(move || {
            let mut rng = Rng::new(seed.wrapping_add(1 + t));
            let mut batch = Vec::with_capacity(BATCH);
            let mut k = t;
            while k < n {
                if let Some(g) = one_case(
                    &mut rng,
                    &catalog,
                    &cal,
                    &persons,
                    &firms,
                    now,
                    k as i64 + 1,
                ) {
                    batch.push(g);
                }
                if batch.len() == BATCH && tx.send(std::mem::take(&mut batch)).is_err() {
                    return;
                }
                k += threads;
            }
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
        }));
    }
    drop(tx);
    let mut written = 0u64;
    let mut open = 0u64;
    for batch in rx {
        let count = batch.len() as u64;
        open += batch.iter().filter(|g| !g.case.state.is_final()).count() as u64;
        db.write_blocking(move |tx| {
            let mut stats: HashMap<(i64, i64, String, String), StatDelta> = HashMap::new();
            for g in batch {
                let mut case = g.case;
                let day = china_date(case.created_at);
                let serial = tx.next_case_serial(case.region.county_part(), day)?;
                case.number = CaseNumber::new(&case.region, day, serial);
                let id = tx.insert_shared_case(case)?.id;
                if with_events {
                    for e in &g.events {
                        tx.append_event(id, e)?;
                    }
                }
                for d in g.stats {
                    let key = (
                        d.department_id,
                        d.item_id,
                        d.month.clone(),
                        d.channel.clone(),
                    );
                    match stats.get_mut(&key) {
                        Some(e) => e.add(&d),
                        None => {
                            stats.insert(key, d);
                        }
                    }
                }
            }
            let rows: Vec<StatDelta> = stats.into_values().collect();
            tx.add_stats(&rows)?;
            tx.fold_stats(u32::MAX).map(|_| ())
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        written += count;
        bar.set_position(written);
    }
    for h in handles {
        let _ = h.join();
    }
    Ok(Dataset {
        cases: written,
        open,
        applicants: refs.iter().map(|a| a.id).collect(),
    })
}

struct Generated {
    case: Case,
    events: Vec<Event>,
    stats: Vec<StatDelta>,
}

fn actor(role: Role, case: &Case) -> Actor {
    Actor {
        account_id: 1000 + role as i64,
        name: role.label().into(),
        role,
        department_id: Some(case.department_id),
        region: Some(case.region.clone()),
        applicant_id: None,
        immediate_departments: vec![case.department_id],
        window_id: None,
    }
}

/// An instant on `day` during office hours (China time).
fn at(rng: &mut Rng, day: NaiveDate) -> DateTime<Utc> {
    let minutes = 9 * 60 + rng.below(8 * 60) as i64;
    let local = day.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(minutes);
    Utc.from_utc_datetime(&(local - Duration::hours(8)))
}

/// The working day `k` working days after `day`.
fn after(cal: &Calendar, day: NaiveDate, k: u32) -> NaiveDate {
    cal.deadline(day, k).map(|d| d.deadline).unwrap_or(day)
}

#[allow(clippy::too_many_arguments)]
fn one_case(
    rng: &mut Rng,
    catalog: &Catalog,
    cal: &Calendar,
    persons: &[ApplicantRef],
    firms: &[ApplicantRef],
    now: DateTime<Utc>,
    seq: i64,
) -> Option<Generated> {
    let (item, spec) = &catalog.items[rng.weighted(&catalog.weights)];
    let person = spec.service_objects.contains(&ServiceObject::Person)
        && (firms.is_empty()
            || rng.chance(0.85)
            || !spec.service_objects.contains(&ServiceObject::Enterprise));
    let pool = if person { persons } else { firms };
    if pool.is_empty() {
        return None;
    }
    let applicant = pool[rng.below(pool.len() as u64) as usize].clone();
    // Two years of cases, a little more in recent months.
    let span = 690;
    let back = (rng.below(span) as f64 * (0.6 + 0.4 * (rng.below(1000) as f64 / 1000.0))) as i64;
    let mut day = china_date(now) - Duration::days(back + 1);
    day = after(cal, day, 1);
    let mut t = at(rng, day);
    if t >= now {
        return None;
    }
    let channel = if rng.chance(0.3) {
        Channel::Post
    } else {
        Channel::Window
    };
    let app = demo::full_application(
        item.id,
        spec,
        channel,
        tongban_core::case::ApplicantInput {
            kind: applicant.kind,
            identifier: applicant.identifier.clone(),
            name: applicant.name.clone(),
            phone: applicant.phone.clone(),
            legal_representative: None,
        },
    );
    let ctx = |t: DateTime<Utc>| Ctx {
        now: t,
        today: china_date(t),
        cal,
        spec,
        rongque_barred: false,
    };
    let clerk = Actor {
        role: Role::AcceptanceClerk,
        region: Some(item.region.clone()),
        immediate_departments: vec![item.department_id],
        ..Actor::system()
    };
    let number = CaseNumber::new(&item.region, china_date(t), 1);
    let (mut case, ev) = receive(
        &app,
        &clerk,
        &ctx(t),
        item,
        item.published_version.unwrap_or(1),
        applicant,
        false,
        number,
    )
    .ok()?;
    case.id = seq;
    let mut events = vec![ev];
    let mut stats = deltas(None, &case, cal);

    // The path, with the working days each step waits before it is taken.
    let immediate = spec.processing_type == ProcessingType::Immediate;
    let refuse = rng.chance(0.02);
    let withdraw = rng.chance(0.02);
    let deny = rng.chance(0.02);
    let slow = rng.chance(0.08);
    let mut path: Vec<(u32, Role, Action)> = Vec::new();
    if immediate {
        path.push((
            0,
            Role::AcceptanceClerk,
            Action::Approve {
                opinion: "当场办结".into(),
            },
        ));
        path.push((
            0,
            Role::AcceptanceClerk,
            Action::ProduceResult {
                number: format!("R{seq}"),
                valid_until: None,
                summary: String::new(),
            },
        ));
        path.push((
            rng.below(2) as u32,
            Role::AcceptanceClerk,
            Action::DeliverPickup {
                signed_by: "本人".into(),
                signer_id_number: None,
            },
        ));
    } else if refuse {
        path.push((
            rng.below(2) as u32 + 1,
            Role::DeptReviewer,
            Action::Refuse {
                reason: "不属于本机关职权范围".into(),
                legal_basis: "《中华人民共和国行政许可法》第三十二条".into(),
            },
        ));
    } else {
        path.push((rng.below(2) as u32, Role::DeptReviewer, Action::Accept));
        if withdraw {
            path.push((
                1 + rng.below(2) as u32,
                Role::Applicant,
                Action::Withdraw {
                    reason: "申请人撤回".into(),
                },
            ));
        } else {
            let budget = spec.promised_limit_days.max(1);
            let review = 1 + rng.below(u64::from(budget.div_ceil(2))) as u32;
            path.push((
                review,
                Role::DeptReviewer,
                Action::Review {
                    opinion: "符合法定条件".into(),
                    recommend_approval: !deny,
                },
            ));
            if spec.special_procedures().next().is_some() && rng.chance(0.15) {
                let p = spec
                    .special_procedures()
                    .next()
                    .unwrap_or(StageKind::SiteInspection);
                path.push((
                    1,
                    Role::DeptReviewer,
                    Action::Pause {
                        procedure: p,
                        reason: "现场核查".into(),
                    },
                ));
                path.push((2 + rng.below(4) as u32, Role::DeptReviewer, Action::Resume));
            }
            let decide = if slow {
                budget + 1 + rng.below(3) as u32
            } else {
                rng.below(u64::from(budget.saturating_sub(review).max(1))) as u32
            };
            if deny {
                path.push((
                    decide,
                    Role::DeptApprover,
                    Action::Deny {
                        reason: "不符合法定条件".into(),
                        legal_basis: "有关法律法规".into(),
                    },
                ));
            } else {
                path.push((
                    decide,
                    Role::DeptApprover,
                    Action::Approve {
                        opinion: "同意".into(),
                    },
                ));
            }
            path.push((
                rng.below(2) as u32,
                Role::DeptReviewer,
                Action::ProduceResult {
                    number: format!("R{seq}"),
                    valid_until: None,
                    summary: String::new(),
                },
            ));
            path.push((0, Role::IssuanceClerk, Action::CheckResultOk));
            path.push((
                rng.below(3) as u32,
                Role::IssuanceClerk,
                Action::DeliverPickup {
                    signed_by: "本人".into(),
                    signer_id_number: None,
                },
            ));
        }
    }
    if !refuse && !withdraw {
        path.push((rng.below(2) as u32, Role::IssuanceClerk, Action::Archive));
    }
    for (wait, role, action) in path {
        let d = after(cal, china_date(t), wait);
        let next = if wait == 0 {
            t + Duration::minutes(5 + rng.below(60) as i64)
        } else {
            at(rng, d)
        };
        if next >= now {
            break;
        }
        t = next;
        let who = if role == Role::Applicant {
            Actor {
                role: Role::Applicant,
                applicant_id: Some(case.applicant.id),
                ..Actor::system()
            }
        } else {
            actor(role, &case)
        };
        match apply(&case, &who, &action, &ctx(t)) {
            Ok(tr) => {
                stats.extend(deltas(Some(&case), &tr.case, cal));
                events.push(tr.event);
                case = tr.case;
            }
            Err(_) => break,
        }
    }
    Some(Generated {
        case,
        events,
        stats,
    })
}
