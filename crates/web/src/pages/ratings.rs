//! 好差评 pages: the applicant rates a finished case (and again after a rectification);
//! the window asks for a rating on its tablet or by SMS; the tablet/SMS rating page;
//! the rectification tasks of a department and of supervisors; 督办 orders; the
//! public summary.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use tongban_core::Error;
use tongban_core::actor::Role;
use tongban_core::rating::rectification::{Task, TaskAction, TaskState};
use tongban_core::rating::{Level, RatingChannel, RatingInput, reason_text, reasons_of};
use tongban_core::supervision::OrderAction;
use tongban_core::usecase::ratings::{
    TaskQuery, act_on_task, get_rating, get_task, invite, invited, list_tasks, public_summary,
    rate_by_link, rate_case, rerate,
};
use tongban_core::usecase::supervision::{OrderQuery, list_orders, order_action};

use super::form::{FormData, PageForm};
use super::{Chrome, MaybeViewer, PageResult, SignedIn, date, render};
use crate::auth::{new_token, token_hash};
use crate::state::AppState;

/// A level with its reasons, for the form.
pub struct LevelChoice {
    key: String,
    label: &'static str,
    score: u8,
    reasons: Vec<(u16, &'static str)>,
}

fn choices() -> Vec<LevelChoice> {
    Level::ALL
        .into_iter()
        .map(|l| LevelChoice {
            key: serde_json::to_value(l)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            label: l.label(),
            score: l.score(),
            reasons: reasons_of(l).map(|r| (r.code, r.text)).collect(),
        })
        .collect()
}

/// The rating a form posts: `level`, `reason` (repeated; only those of the level chosen
/// count, so that the checkboxes of other levels left ticked do no harm), `comment`.
fn input_of(d: &FormData) -> Result<RatingInput, Error> {
    let level: Level = serde_json::from_value(serde_json::Value::String(d.text("level")))
        .map_err(|_| Error::field("level", "请选择满意程度"))?;
    let mut reasons = Vec::new();
    for r in d.all("reason") {
        let code: u16 = r
            .parse()
            .map_err(|_| Error::field("reasons", "评价原因无效"))?;
        if tongban_core::rating::level_of_reason(code) == Some(level) {
            reasons.push(code);
        }
    }
    Ok(RatingInput {
        level,
        reasons,
        comment: d.text("comment"),
    })
}

struct RatingShown {
    level: &'static str,
    bad: bool,
    reasons: Vec<String>,
    comment: String,
    channel: &'static str,
    at: String,
    invalid: bool,
    rerating: String,
    task: Option<(i64, String, String)>,
}

#[derive(Template)]
#[template(path = "rating.html")]
struct RatingPage {
    page: Chrome,
    case_id: i64,
    number: String,
    item: String,
    shown: Option<RatingShown>,
    can_rate: bool,
    can_rerate: bool,
    can_invite: bool,
    blocked: String,
    levels: Vec<LevelChoice>,
    invitation: Option<(String, String)>,
}

/// Invitation shown after it was made.
#[derive(Deserialize, Default)]
pub struct InviteShown {
    link: Option<String>,
    sms: Option<String>,
}

/// A case's rating page: the form for the applicant, the invitation buttons for the
/// window, the rating and its rectification for those who may see it.
pub async fn rating_page(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<InviteShown>,
) -> PageResult {
    let a = v.actor.clone();
    let (case, rating) = s
        .read(move |tx, _| {
            let case = tongban_core::usecase::cases::visible_case(tx, &a, id)?;
            let rating = match get_rating(tx, &a, id) {
                Ok(r) => Some(r),
                Err(Error::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            Ok((case, rating))
        })
        .await?;
    let ended = tongban_core::rating::rateable(&case);
    let applicant = v.actor.role == Role::Applicant;
    let clerk = matches!(v.actor.role, Role::AcceptanceClerk | Role::IssuanceClerk);
    let shown = rating.as_ref().map(|r| RatingShown {
        level: r.rating.level.label(),
        bad: r.rating.level.is_bad(),
        reasons: r
            .rating
            .reasons
            .iter()
            .map(|c| format!("{c} {}", reason_text(*c)))
            .collect(),
        comment: r.rating.comment.clone(),
        channel: r.rating.channel.label(),
        at: date(tongban_core::time::china_date(r.rating.at)),
        invalid: r.rating.invalid,
        rerating: r
            .rating
            .rerating
            .as_ref()
            .map(|x| format!("{}　{}", x.level.label(), x.comment))
            .unwrap_or_default(),
        task: r
            .task
            .as_ref()
            .map(|t| (t.id, t.state.label().to_string(), t.due.to_string())),
    });
    let can_rerate = applicant
        && rating.as_ref().is_some_and(|r| {
            r.rating.rerating.is_none()
                && r.task.as_ref().is_some_and(|t| {
                    matches!(
                        t.state,
                        TaskState::Rectified | TaskState::Unrectifiable | TaskState::Closed
                    )
                })
        });
    Ok(render(&RatingPage {
        page: Chrome::new("办件评价", Some(&v), ""),
        case_id: case.id,
        number: case.number.as_str().to_string(),
        item: case.item_name.clone(),
        can_rate: applicant && rating.is_none() && ended.is_ok(),
        can_invite: clerk && rating.is_none() && ended.is_ok(),
        blocked: match (&rating, ended) {
            (None, Err(e)) => e.to_string(),
            _ => String::new(),
        },
        shown,
        can_rerate,
        levels: choices(),
        invitation: q.link.map(|l| (l, q.sms.unwrap_or_default())),
    }))
}

/// The applicant rates their case.
pub async fn rate(State(s): State<AppState>, Path(id): Path<i64>, f: PageForm) -> PageResult {
    let input = input_of(&f.data)?;
    let a = f.viewer.actor.clone();
    s.write(move |tx, env| rate_case(tx, &a, env, id, &input))
        .await?;
    Ok(Redirect::to(&format!("/cases/{id}/rating")).into_response())
}

/// The applicant rates again.
pub async fn rate_again(State(s): State<AppState>, Path(id): Path<i64>, f: PageForm) -> PageResult {
    let level: Level = serde_json::from_value(serde_json::Value::String(f.data.text("level")))
        .map_err(|_| Error::field("level", "请选择满意程度"))?;
    let comment = f.data.text("comment");
    let a = f.viewer.actor.clone();
    s.write(move |tx, env| rerate(tx, &a, env, id, level, &comment))
        .await?;
    Ok(Redirect::to(&format!("/cases/{id}/rating")).into_response())
}

/// The window asks the applicant to rate: on the tablet, or by SMS.
pub async fn invite_page(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    f: PageForm,
) -> PageResult {
    let channel = match f.data.text("channel").as_str() {
        "sms" => RatingChannel::Sms,
        _ => RatingChannel::WindowTablet,
    };
    let a = f.viewer.actor.clone();
    let token = new_token();
    let hash = token_hash(&token);
    let inv = s
        .write(move |tx, env| invite(tx, &a, env, id, channel, &token, &hash))
        .await?;
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("link", &inv.path)
        .append_pair("sms", inv.sms_text.as_deref().unwrap_or(""))
        .finish();
    Ok(Redirect::to(&format!("/cases/{id}/rating?{q}")).into_response())
}

#[derive(Template)]
#[template(path = "rate_link.html")]
struct LinkPage {
    page: Chrome,
    token: String,
    number: String,
    item: String,
    tablet: bool,
    levels: Vec<LevelChoice>,
    done: String,
}

/// The rating page of a link (the tablet at the window, an SMS): no sign-in.
pub async fn link_page(
    State(s): State<AppState>,
    MaybeViewer(v): MaybeViewer,
    Path(token): Path<String>,
) -> PageResult {
    let hash = token_hash(&token);
    let i = s.read(move |tx, env| invited(tx, env, &hash)).await?;
    Ok(render(&LinkPage {
        page: Chrome::new("请您评价", v.as_ref(), ""),
        tablet: i.channel == RatingChannel::WindowTablet,
        token,
        number: i.case_number,
        item: i.item_name,
        levels: choices(),
        done: String::new(),
    }))
}

/// A rating sent from a link page. The form carries no CSRF token: the link itself is
/// the secret, and it is used up.
pub async fn link_rate(
    State(s): State<AppState>,
    Path(token): Path<String>,
    axum::extract::Form(fields): axum::extract::Form<Vec<(String, String)>>,
) -> PageResult {
    let data = FormData {
        fields,
        files: vec![],
    };
    let input = input_of(&data)?;
    let hash = token_hash(&token);
    let v = s
        .write(move |tx, env| rate_by_link(tx, env, &hash, &input))
        .await?;
    Ok(render(&LinkPage {
        page: Chrome::new("感谢您的评价", None, ""),
        token: String::new(),
        number: v.rating.case_number.clone(),
        item: v.rating.item_name.clone(),
        tablet: v.rating.channel == RatingChannel::WindowTablet,
        levels: vec![],
        done: if v.task.is_some() {
            "感谢您的评价。您反映的问题已转责任部门整改，我们将回访您。".into()
        } else {
            "感谢您的评价！".into()
        },
    }))
}

struct TaskRow {
    id: i64,
    case_id: i64,
    state: String,
    due: String,
    overdue: bool,
}

impl From<&Task> for TaskRow {
    fn from(t: &Task) -> Self {
        TaskRow {
            id: t.id,
            case_id: t.case_id,
            state: t.state.label().to_string(),
            due: t.due.to_string(),
            overdue: t.overdue_since.is_some(),
        }
    }
}

#[derive(Template)]
#[template(path = "rectifications.html")]
struct TasksPage {
    page: Chrome,
    open: bool,
    rows: Vec<TaskRow>,
}

/// Which tasks.
#[derive(Deserialize, Default)]
pub struct TasksQuery {
    all: Option<String>,
}

/// Rectification tasks in scope.
pub async fn tasks_page(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Query(q): Query<TasksQuery>,
) -> PageResult {
    let open = q.all.is_none();
    let a = v.actor.clone();
    let tasks = s
        .read(move |tx, _| {
            list_tasks(
                tx,
                &a,
                &TaskQuery {
                    open: Some(open),
                    limit: Some(200),
                    ..TaskQuery::default()
                },
            )
        })
        .await?;
    Ok(render(&TasksPage {
        page: Chrome::new("差评整改", Some(&v), "/rectifications"),
        open,
        rows: tasks.iter().map(TaskRow::from).collect(),
    }))
}

#[derive(Template)]
#[template(path = "rectification.html")]
struct TaskPage {
    page: Chrome,
    id: i64,
    version: i64,
    case_id: i64,
    number: String,
    item: String,
    state: String,
    due: String,
    overdue: String,
    level: &'static str,
    reasons: Vec<String>,
    comment: String,
    steps: Vec<(String, String, String, String)>,
    call_backs: Vec<(String, String, String)>,
    actions: Vec<(&'static str, &'static str, bool)>,
}

/// One task with the forms of what the viewer may do.
pub async fn task_page(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Path(id): Path<i64>,
) -> PageResult {
    let a = v.actor.clone();
    let (t, r) = s.read(move |tx, _| get_task(tx, &a, id)).await?;
    use tongban_core::rating::rectification::{TaskActionKind as K, authorize, next};
    // The actions this viewer may take now: (name, label, needs text).
    let mut actions = Vec::new();
    for k in K::ALL {
        let probe = TaskAction::blank(k);
        if authorize(&v.actor, &t, k).is_ok() && next(t.state, t.before_appeal, &probe, 0).is_ok() {
            actions.push((
                k.as_str(),
                k.label(),
                !matches!(k, K::Start | K::Approve | K::CallBack),
            ));
        }
    }
    Ok(render(&TaskPage {
        page: Chrome::new(format!("整改工单 {}", t.id), Some(&v), "/rectifications"),
        id: t.id,
        version: t.version,
        case_id: t.case_id,
        number: r.case_number.clone(),
        item: r.item_name.clone(),
        state: t.state.label().to_string(),
        due: t.due.to_string(),
        overdue: t.overdue_since.map(|d| d.to_string()).unwrap_or_default(),
        level: r.level.label(),
        reasons: r
            .reasons
            .iter()
            .map(|c| format!("{c} {}", reason_text(*c)))
            .collect(),
        comment: r.comment.clone(),
        steps: t
            .steps
            .iter()
            .map(|s| {
                (
                    date(tongban_core::time::china_date(s.at)),
                    s.by_name.clone(),
                    s.action.label().to_string(),
                    s.text.clone(),
                )
            })
            .collect(),
        call_backs: t
            .call_backs
            .iter()
            .map(|c| {
                (
                    date(tongban_core::time::china_date(c.at)),
                    match (c.reached, c.satisfied) {
                        (false, _) => "未接通".to_string(),
                        (true, true) => "已接通，满意".to_string(),
                        (true, false) => "已接通，不满意".to_string(),
                    },
                    c.note.clone(),
                )
            })
            .collect(),
        actions,
    }))
}

/// Act on a task from its page.
pub async fn task_act(State(s): State<AppState>, Path(id): Path<i64>, f: PageForm) -> PageResult {
    let d = &f.data;
    let text = d.text("text");
    let action = match d.text("action").as_str() {
        "start" => TaskAction::Start { note: text },
        "report_rectified" => TaskAction::ReportRectified { measures: text },
        "report_unrectifiable" => TaskAction::ReportUnrectifiable { reason: text },
        "appeal" => TaskAction::Appeal { reason: text },
        "approve" => TaskAction::Approve { note: text },
        "reject" => TaskAction::Reject { reason: text },
        "uphold_appeal" => TaskAction::UpholdAppeal { reason: text },
        "reject_appeal" => TaskAction::RejectAppeal { reason: text },
        "call_back" => TaskAction::CallBack {
            reached: d.text("reached") == "1",
            satisfied: d.text("satisfied") == "1",
            note: text,
        },
        _ => return Err(Error::field("action", "未知的操作").into()),
    };
    let version = d.text("version").parse().ok();
    let a = f.viewer.actor.clone();
    s.write(move |tx, env| act_on_task(tx, &a, env, id, &action, version))
        .await?;
    Ok(Redirect::to(&format!("/rectifications/{id}")).into_response())
}

struct OrderRow {
    id: i64,
    label: String,
    state: String,
    open: bool,
    answered: bool,
    answers: Vec<String>,
    opened: String,
    link: String,
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    page: Chrome,
    department: bool,
    supervisor: bool,
    rows: Vec<OrderRow>,
}

/// 督办 orders in scope, with the forms to answer or close them.
pub async fn orders_page(State(s): State<AppState>, SignedIn(v): SignedIn) -> PageResult {
    let a = v.actor.clone();
    let orders = s
        .read(move |tx, _| {
            list_orders(
                tx,
                &a,
                &OrderQuery {
                    limit: Some(200),
                    ..OrderQuery::default()
                },
            )
        })
        .await?;
    Ok(render(&OrdersPage {
        page: Chrome::new("督办单", Some(&v), "/supervision/orders"),
        department: matches!(v.actor.role, Role::DeptReviewer | Role::DeptApprover),
        supervisor: v.actor.role == Role::Supervisor,
        rows: orders
            .iter()
            .map(|o| OrderRow {
                id: o.id,
                label: o.label.clone(),
                state: o.state.label().to_string(),
                open: o.state == tongban_core::supervision::OrderState::Open,
                answered: o.state == tongban_core::supervision::OrderState::Answered,
                answers: o
                    .answers
                    .iter()
                    .map(|n| format!("{}：{}", n.by_name, n.text))
                    .collect(),
                opened: date(tongban_core::time::china_date(o.opened_at)),
                link: match o.subject {
                    tongban_core::supervision::Subject::Case => format!("/cases/{}", o.subject_id),
                    tongban_core::supervision::Subject::Rectification => {
                        format!("/rectifications/{}", o.subject_id)
                    }
                    tongban_core::supervision::Subject::WorkOrder => {
                        format!("/hotline/orders/{}", o.subject_id)
                    }
                },
            })
            .collect(),
    }))
}

/// Answer, close or send back an order from the page.
pub async fn order_act(State(s): State<AppState>, Path(id): Path<i64>, f: PageForm) -> PageResult {
    let text = f.data.text("text");
    let action = match f.data.text("action").as_str() {
        "answer" => OrderAction::Answer { text },
        "close" => OrderAction::Close { text },
        "send_back" => OrderAction::SendBack { text },
        _ => return Err(Error::field("action", "未知的操作").into()),
    };
    let a = f.viewer.actor.clone();
    s.write(move |tx, env| order_action(tx, &a, env, id, &action))
        .await?;
    Ok(Redirect::to("/supervision/orders").into_response())
}

#[derive(Template)]
#[template(path = "ratings_public.html")]
struct PublicPage {
    page: Chrome,
    from: String,
    to: String,
    rows: Vec<(String, i64, String, String, i64, [i64; 5])>,
}

/// 好差评公示: ratings per department, public.
pub async fn public_page(
    State(s): State<AppState>,
    MaybeViewer(v): MaybeViewer,
    Query(q): Query<crate::api::ratings::PublicQuery>,
) -> PageResult {
    let (prefix, from, to) = crate::api::ratings::public_period(&s, &q)?;
    let (f2, t2) = (from.clone(), to.clone());
    let rows = s
        .read(move |tx, _| public_summary(tx, &prefix, &f2, &t2))
        .await?;
    Ok(render(&PublicPage {
        page: Chrome::new("好差评公示", v.as_ref(), "/ratings"),
        from,
        to,
        rows: rows
            .into_iter()
            .map(|d| {
                (
                    d.department,
                    d.ratings,
                    format!("{:.1}%", d.satisfaction_rate * 100.0),
                    format!("{:.1}%", d.bad_rate * 100.0),
                    d.rectified,
                    d.levels,
                )
            })
            .collect(),
    }))
}
