//! 好差评 use cases: rating a case (online, on the window's tablet, by an SMS link),
//! the 差评 rectification loop, re-rating, lists in scope, the public summary.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::Env;
use super::supervision::settings;
use crate::actor::{Actor, Role};
use crate::case::{Case, can_see};
use crate::error::{Error, Result};
use crate::rating::rectification::{self, Task, TaskAction, TaskActionKind, TaskState};
use crate::rating::{Level, Rating, RatingChannel, RatingInput, Rerating, new_rating};
use crate::store::{RatingFilter, RatingStatRow, TaskFilter, Tx};
use crate::time::china_date;

/// How long a rating link lives.
pub const INVITATION_DAYS: i64 = 30;

fn month(at: DateTime<Utc>) -> String {
    china_date(at).format("%Y-%m").to_string()
}

/// The rollup row a rating counts in.
fn stat_row(r: &Rating) -> RatingStatRow {
    RatingStatRow {
        department_id: r.department_id,
        item_id: r.item_id,
        window_id: r.window_id.unwrap_or(0),
        staff_id: r.staff_id.unwrap_or(0),
        region: r.region.clone(),
        month: month(r.at),
        ..RatingStatRow::default()
    }
}

/// A rating with its rectification task, as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RatingView {
    /// The rating.
    pub rating: Rating,
    /// The rectification task a 差评 opened.
    pub task: Option<Task>,
}

/// Record a rating for `case` (checked: rateable, once), open the rectification task of
/// a 差评, count it.
fn record(
    tx: &mut dyn Tx,
    env: &Env,
    case: &Case,
    input: &RatingInput,
    channel: RatingChannel,
) -> Result<RatingView> {
    if tx.rating_of_case(case.id)?.is_some() {
        return Err(Error::Conflict("该办件已评价（一事一评）".into()));
    }
    let mut rating = new_rating(case, input, channel, env.now)?;
    rating.id = tx.insert_rating(&rating)?;
    tx.delete_rating_invitations(case.id)?;
    let mut row = stat_row(&rating);
    row.n[usize::from(rating.level.score() - 1)] = 1;
    tx.add_rating_stats(&row)?;
    let task = if rating.level.is_bad() {
        let days = settings(tx)?.rectification_days;
        let due = env
            .cal
            .deadline(env.today(), days)
            .map_err(|e| Error::Store(e.to_string()))?
            .deadline;
        let mut t = Task {
            id: 0,
            rating_id: rating.id,
            case_id: case.id,
            department_id: case.department_id,
            region: case.region.as_str().to_string(),
            state: TaskState::Pending,
            before_appeal: None,
            due,
            overdue_since: None,
            reported_on_time: None,
            call_backs: vec![],
            steps: vec![],
            opened_at: env.now,
            updated_at: env.now,
            version: 1,
        };
        t.id = tx.insert_task(&t)?;
        Some(t)
    } else {
        None
    };
    Ok(RatingView { rating, task })
}

/// The applicant rates their own case online (一事一评).
pub fn rate_case(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    case_id: i64,
    input: &RatingInput,
) -> Result<RatingView> {
    if actor.role != Role::Applicant {
        return Err(Error::forbidden("只有办事人本人可以评价"));
    }
    let case = tx
        .case(case_id)?
        .filter(|c| Some(c.applicant.id) == actor.applicant_id)
        .ok_or(Error::NotFound { entity: "办件" })?;
    record(tx, env, &case, input, RatingChannel::Online)
}

/// The case a rating link stands for.
fn invited_case(tx: &mut dyn Tx, env: &Env, token_hash: &str) -> Result<(Case, RatingChannel)> {
    let (case_id, channel) = tx
        .rating_invitation(token_hash, env.now)?
        .ok_or(Error::NotFound {
            entity: "评价链接（可能已使用或过期）",
        })?;
    let case = tx
        .case(case_id)?
        .ok_or(Error::NotFound { entity: "办件" })?;
    Ok((case, channel))
}

/// What a rating link shows before the person rates.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invited {
    /// 办件编号.
    pub case_number: String,
    /// The item.
    pub item_name: String,
    /// Where the link was given.
    pub channel: RatingChannel,
}

/// The case behind a live rating link (no personal data).
pub fn invited(tx: &mut dyn Tx, env: &Env, token_hash: &str) -> Result<Invited> {
    let (case, channel) = invited_case(tx, env, token_hash)?;
    Ok(Invited {
        case_number: case.number.as_str().to_string(),
        item_name: case.item_name.clone(),
        channel,
    })
}

/// Rate by a link (the window's tablet, an SMS): holding the link is being the
/// applicant. The link is used up.
pub fn rate_by_link(
    tx: &mut dyn Tx,
    env: &Env,
    token_hash: &str,
    input: &RatingInput,
) -> Result<RatingView> {
    let (case, channel) = invited_case(tx, env, token_hash)?;
    record(tx, env, &case, input, channel)
}

/// A rating link made for a case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    /// The path of the rating page (`/rate/{token}`).
    pub path: String,
    /// The SMS to send to the applicant's phone (for `sms`).
    pub sms_text: Option<String>,
    /// The phone, masked.
    pub phone: String,
    /// Valid until.
    pub expires_at: DateTime<Utc>,
}

/// A window clerk asks the applicant to rate: a link for the tablet at the window, or
/// for an SMS. `token` is random (made by the caller); only its hash is kept.
pub fn invite(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    case_id: i64,
    channel: RatingChannel,
    token: &str,
    token_hash: &str,
) -> Result<Invitation> {
    actor.require(&[Role::AcceptanceClerk, Role::IssuanceClerk])?;
    if !matches!(channel, RatingChannel::WindowTablet | RatingChannel::Sms) {
        return Err(Error::field("channel", "评价邀请只能通过窗口评价器或短信"));
    }
    let case = tx
        .case(case_id)?
        .filter(|c| can_see(actor, c))
        .ok_or(Error::NotFound { entity: "办件" })?;
    crate::rating::rateable(&case)?;
    if tx.rating_of_case(case.id)?.is_some() {
        return Err(Error::Conflict("该办件已评价（一事一评）".into()));
    }
    let expires_at = env.now + Duration::days(INVITATION_DAYS);
    tx.insert_rating_invitation(token_hash, case.id, channel, env.now, expires_at)?;
    let path = format!("/rate/{token}");
    Ok(Invitation {
        sms_text: (channel == RatingChannel::Sms).then(|| {
            format!(
                "【通办】您办理的“{}”（办件编号 {}）已办结，请对本次服务评价：{path}（{} 天内有效）",
                case.item_name,
                case.number.as_str(),
                INVITATION_DAYS
            )
        }),
        phone: crate::identity::Phone::parse(&case.applicant.phone)
            .map(|p| p.mask())
            .unwrap_or_else(|_| "****".into()),
        path,
        expires_at,
    })
}

/// The applicant rates again after the rectification (二次评价): once, and only once
/// the department's rectification was confirmed.
pub fn rerate(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    case_id: i64,
    level: Level,
    comment: &str,
) -> Result<RatingView> {
    if actor.role != Role::Applicant {
        return Err(Error::forbidden("只有办事人本人可以评价"));
    }
    let mut rating = tx
        .rating_of_case(case_id)?
        .filter(|r| Some(r.applicant_id) == actor.applicant_id)
        .ok_or(Error::NotFound { entity: "评价" })?;
    let task = tx.task_of_rating(rating.id)?;
    let done = task.as_ref().is_some_and(|t| {
        matches!(
            t.state,
            TaskState::Rectified | TaskState::Unrectifiable | TaskState::Closed
        )
    });
    if !done {
        return Err(Error::InvalidTransition {
            state: task
                .as_ref()
                .map(|t| t.state.label())
                .unwrap_or("无整改")
                .into(),
            action: "再次评价".into(),
            reason: "差评整改经审核后才能再次评价".into(),
        });
    }
    if rating.rerating.is_some() {
        return Err(Error::Conflict("已再次评价过".into()));
    }
    if comment.chars().count() > crate::rating::MAX_COMMENT {
        return Err(Error::field("comment", "评价内容不超过 500 字"));
    }
    rating.rerating = Some(Rerating {
        level,
        comment: comment.trim().to_string(),
        at: env.now,
    });
    tx.update_rating(&rating)?;
    Ok(RatingView { rating, task })
}

/// One rating with its task, if the actor may see it: the applicant their own; the
/// department its own; supervisors and administrators their region.
pub fn get_rating(tx: &mut dyn Tx, actor: &Actor, case_id: i64) -> Result<RatingView> {
    let rating = tx
        .rating_of_case(case_id)?
        .ok_or(Error::NotFound { entity: "评价" })?;
    if !may_see_rating(actor, &rating) {
        return Err(Error::NotFound { entity: "评价" });
    }
    let task = tx.task_of_rating(rating.id)?;
    Ok(RatingView { rating, task })
}

fn may_see_rating(actor: &Actor, r: &Rating) -> bool {
    match actor.role {
        Role::Applicant => actor.applicant_id == Some(r.applicant_id),
        Role::DeptReviewer | Role::DeptApprover => actor.in_department(r.department_id),
        Role::Supervisor | Role::SysAdmin | Role::HotlineOperator => actor
            .region
            .as_ref()
            .is_some_and(|g| r.region.starts_with(g.prefix())),
        _ => false,
    }
}

/// A list query.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RatingQuery {
    /// 差评 only.
    pub bad: Option<bool>,
    /// Only this department (within scope).
    pub department_id: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<u32>,
}

/// A page of ratings.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RatingPage {
    /// Newest first.
    pub items: Vec<Rating>,
    /// For the next page.
    pub next_cursor: Option<String>,
}

/// Ratings in the actor's scope, newest first.
pub fn list_ratings(tx: &mut dyn Tx, actor: &Actor, q: &RatingQuery) -> Result<RatingPage> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Error::field("limit", "每页条数须在 1–200 之间"));
    }
    let before = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => {
            let bad = || Error::field("cursor", "翻页游标无效");
            let (a, b) = c.split_once('~').ok_or_else(bad)?;
            Some((a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?))
        }
        None => None,
    };
    let mut f = RatingFilter {
        bad_only: q.bad.unwrap_or(false),
        before,
        limit,
        ..RatingFilter::default()
    };
    match actor.role {
        Role::DeptReviewer | Role::DeptApprover => {
            f.department_id = Some(
                actor
                    .department_id
                    .ok_or(Error::forbidden("账号未归属部门"))?,
            );
        }
        Role::Supervisor | Role::SysAdmin | Role::HotlineOperator => {
            f.region_prefix = Some(
                actor
                    .region
                    .as_ref()
                    .map(|r| r.prefix().to_string())
                    .ok_or(Error::forbidden("账号未设置区划范围"))?,
            );
            f.department_id = q.department_id;
        }
        _ => return Err(Error::forbidden("无权查看评价列表")),
    }
    let items = tx.ratings(&f)?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| {
            items
                .last()
                .map(|r| format!("{}~{}", r.at.timestamp_millis(), r.id))
        })
        .flatten();
    Ok(RatingPage { items, next_cursor })
}

/// Act on a rectification task; the rollups follow (reported on time or late, called
/// back, a rating set aside by an upheld appeal).
pub fn act_on_task(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    task_id: i64,
    action: &TaskAction,
    expected_version: Option<i64>,
) -> Result<Task> {
    let task = tx
        .task(task_id)?
        .filter(|t| rectification::can_see(actor, t))
        .ok_or(Error::NotFound {
            entity: "整改工单"
        })?;
    if let Some(v) = expected_version
        && v != task.version
    {
        return Err(Error::Conflict("整改工单已被他人更新，请刷新后重试".into()));
    }
    let mut next = rectification::apply(&task, actor, action, env.today(), env.now)?;
    next.version = task.version + 1;
    tx.update_task(&next, task.version)?;
    let mut rating = tx
        .rating(task.rating_id)?
        .ok_or(Error::Store("task without rating".into()))?;
    let mut row = stat_row(&rating);
    let mut changed = false;
    if task.reported_on_time.is_none()
        && let Some(on_time) = next.reported_on_time
    {
        if on_time {
            row.rectified_on_time = 1;
        } else {
            row.rectified_late = 1;
        }
        changed = true;
    }
    if let TaskAction::CallBack { reached: true, .. } = action {
        row.called_back = 1;
        changed = true;
    }
    if action.kind() == TaskActionKind::UpholdAppeal {
        rating.invalid = true;
        tx.update_rating(&rating)?;
        row.invalid = 1;
        changed = true;
    }
    if changed {
        tx.add_rating_stats(&row)?;
    }
    Ok(next)
}

/// One task, if the actor may see it.
pub fn get_task(tx: &mut dyn Tx, actor: &Actor, id: i64) -> Result<(Task, Rating)> {
    let task = tx
        .task(id)?
        .filter(|t| rectification::can_see(actor, t))
        .ok_or(Error::NotFound {
            entity: "整改工单"
        })?;
    let rating = tx
        .rating(task.rating_id)?
        .ok_or(Error::Store("task without rating".into()))?;
    Ok((task, rating))
}

/// A task list query.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// Open tasks only (default true).
    pub open: Option<bool>,
    /// Tasks after this id.
    pub after_id: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<u32>,
}

/// Rectification tasks in scope: a department its own; supervisors and hotline
/// operators their region.
pub fn list_tasks(tx: &mut dyn Tx, actor: &Actor, q: &TaskQuery) -> Result<Vec<Task>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Error::field("limit", "每页条数须在 1–200 之间"));
    }
    let mut f = TaskFilter {
        open_only: q.open.unwrap_or(true),
        after_id: q.after_id,
        limit,
        ..TaskFilter::default()
    };
    match actor.role {
        Role::DeptReviewer | Role::DeptApprover => {
            f.department_id = Some(
                actor
                    .department_id
                    .ok_or(Error::forbidden("账号未归属部门"))?,
            )
        }
        Role::Supervisor | Role::HotlineOperator | Role::SysAdmin => {
            f.region_prefix = Some(
                actor
                    .region
                    .as_ref()
                    .map(|r| r.prefix().to_string())
                    .ok_or(Error::forbidden("账号未设置区划范围"))?,
            )
        }
        _ => return Err(Error::forbidden("无权查看整改工单")),
    }
    tx.tasks(&f)
}

/// One department's published ratings.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicDepartment {
    /// Department.
    pub department_id: i64,
    /// Its name.
    pub department: String,
    /// Ratings counted (those set aside on appeal left out).
    pub ratings: i64,
    /// Per level, 非常满意 first.
    pub levels: [i64; 5],
    /// 满意率: 基本满意 and above, of all counted.
    pub satisfaction_rate: f64,
    /// 差评率.
    pub bad_rate: f64,
    /// 差评 rectified (reported) so far.
    pub rectified: i64,
}

/// The public page's figures (好差评公示): per department of a region, months
/// `from..=to`.
pub fn public_summary(
    tx: &mut dyn Tx,
    region_prefix: &str,
    from: &str,
    to: &str,
) -> Result<Vec<PublicDepartment>> {
    let names: BTreeMap<i64, String> = tx
        .departments(None)?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let mut per: BTreeMap<i64, (RatingStatRow, i64)> = BTreeMap::new();
    for row in tx.rating_stats(region_prefix, from, to)? {
        let e = per.entry(row.department_id).or_default();
        for i in 0..5 {
            e.0.n[i] += row.n[i];
        }
        e.0.invalid += row.invalid;
        e.1 += row.rectified_on_time + row.rectified_late;
    }
    Ok(per
        .into_iter()
        .map(|(d, (r, rectified))| {
            // An upheld appeal sets a 差评 aside: take it out of the bad counts.
            let mut n = r.n;
            let mut invalid = r.invalid;
            for slot in n.iter_mut().take(2) {
                let take = invalid.min(*slot);
                *slot -= take;
                invalid -= take;
            }
            let total: i64 = n.iter().sum();
            let bad = n[0] + n[1];
            PublicDepartment {
                department_id: d,
                department: names.get(&d).cloned().unwrap_or_default(),
                ratings: total,
                levels: [n[4], n[3], n[2], n[1], n[0]],
                satisfaction_rate: if total == 0 {
                    1.0
                } else {
                    (total - bad) as f64 / total as f64
                },
                bad_rate: if total == 0 {
                    0.0
                } else {
                    bad as f64 / total as f64
                },
                rectified,
            }
        })
        .collect())
}
