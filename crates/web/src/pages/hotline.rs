//! 12345 pages: the operator's intake with knowledge-base answers suggested while the
//! caller speaks; the dispatcher's queue; the unit's inbox; an order with the forms of
//! what the viewer may do; the analysis; and the citizen's page to submit and track.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use tongban_core::Error;
use tongban_core::actor::Role;
use tongban_core::hotline::{
    ActionKind, Caller, Location, OrderAction, OrderState, OrderType, Source, Urgency, WorkOrder,
    authorize, next,
};
use tongban_core::usecase::hotline::{
    NewOrder, OrderQuery, act, analysis, get_order, list_orders, register, track,
};

use super::form::PageForm;
use super::{Chrome, MaybeViewer, PageResult, SignedIn, Viewer, render};
use crate::state::AppState;

fn centre_or_unit(v: &Viewer) -> PageResult<()> {
    if matches!(v.actor.role, Role::HotlineOperator | Role::HandlingUnit) {
        Ok(())
    } else {
        Err(Error::forbidden("只有 12345 话务员和承办单位可以使用此页面").into())
    }
}

struct Row {
    id: i64,
    number: String,
    category: String,
    state: String,
    content: String,
    due: String,
    late: bool,
}

fn row(o: &WorkOrder, now: chrono::DateTime<chrono::Utc>) -> Row {
    let today = tongban_core::time::china_date(now);
    let late = match o.state {
        OrderState::Dispatched => o.sign_due.is_some_and(|d| now > d),
        OrderState::Handling | OrderState::Returned => o.reply_due.is_some_and(|d| today > d),
        _ => false,
    };
    Row {
        id: o.id,
        number: o.number.clone(),
        category: o.category.clone(),
        state: o.state.label().to_string(),
        content: o.content.chars().take(60).collect(),
        due: match o.state {
            OrderState::Dispatched => o
                .sign_due
                .map(|d| format!("签收 {}", tongban_core::time::china_datetime(d)))
                .unwrap_or_default(),
            _ => o.reply_due.map(|d| format!("答复 {d}")).unwrap_or_default(),
        },
        late,
    }
}

#[derive(Template)]
#[template(path = "hotline.html")]
struct HotlinePage {
    page: Chrome,
    centre: bool,
    categories: Vec<(i64, String, String)>,
    types: Vec<(&'static str, &'static str)>,
    queue: Vec<(String, Vec<Row>)>,
}

fn type_key(t: OrderType) -> &'static str {
    match t {
        OrderType::Consultation => "consultation",
        OrderType::Request => "request",
        OrderType::Complaint => "complaint",
        OrderType::Report => "report",
        OrderType::Suggestion => "suggestion",
        OrderType::Praise => "praise",
    }
}

/// The operator's and dispatcher's desk, or the unit's inbox.
pub async fn desk(State(s): State<AppState>, SignedIn(v): SignedIn) -> PageResult {
    centre_or_unit(&v)?;
    let centre = v.actor.role == Role::HotlineOperator;
    let a = v.actor.clone();
    let (orders, categories) = s
        .read(move |tx, _| {
            Ok((
                list_orders(
                    tx,
                    &a,
                    &OrderQuery {
                        state: Some("open".into()),
                        limit: Some(200),
                        ..OrderQuery::default()
                    },
                )?,
                tx.categories()?,
            ))
        })
        .await?;
    let now = s.clock.now();
    let groups: Vec<(&str, Vec<OrderState>)> = if centre {
        vec![
            ("待派单", vec![OrderState::Registered, OrderState::Reopened]),
            ("退单待审", vec![OrderState::Returned]),
            ("答复待审核", vec![OrderState::Replied]),
            ("待回访", vec![OrderState::Reviewed]),
            ("承办中", vec![OrderState::Dispatched, OrderState::Handling]),
        ]
    } else {
        vec![
            ("待签收", vec![OrderState::Dispatched]),
            ("办理中", vec![OrderState::Handling]),
            ("已答复", vec![OrderState::Replied, OrderState::Reviewed]),
        ]
    };
    let queue = groups
        .into_iter()
        .map(|(label, states)| {
            (
                label.to_string(),
                orders
                    .iter()
                    .filter(|o| states.contains(&o.state))
                    .map(|o| row(o, now))
                    .collect(),
            )
        })
        .collect();
    Ok(render(&HotlinePage {
        page: Chrome::new(
            if centre {
                "12345 工单"
            } else {
                "承办工单"
            },
            Some(&v),
            "/hotline",
        ),
        centre,
        categories: categories
            .into_iter()
            .filter(|c| c.active)
            .map(|c| (c.id, c.name, type_key(c.default_type).to_string()))
            .collect(),
        types: OrderType::ALL
            .into_iter()
            .map(|t| (type_key(t), t.label()))
            .collect(),
        queue,
    }))
}

fn new_order(f: &super::form::FormData) -> Result<NewOrder, Error> {
    let category_id = f
        .text("category_id")
        .parse()
        .map_err(|_| Error::field("category_id", "请选择诉求分类"))?;
    let order_type = match f.opt("order_type") {
        Some(t) => Some(
            serde_json::from_value(serde_json::Value::String(t))
                .map_err(|_| Error::field("order_type", "诉求类型无效"))?,
        ),
        None => None,
    };
    let urgency = match f.text("urgency").as_str() {
        "urgent" => Urgency::Urgent,
        "critical" => Urgency::Critical,
        _ => Urgency::Normal,
    };
    Ok(NewOrder {
        category_id,
        order_type,
        urgency,
        caller: Caller {
            name: f.text("name"),
            phone: f.text("phone"),
            id_number: f.opt("id_number"),
            email: f.opt("email"),
        },
        location: Location {
            address: f.text("address"),
            region: f.opt("region"),
            lat: None,
            long: None,
        },
        content: f.text("content"),
        attachments: vec![],
        attributes: vec![],
    })
}

/// The operator registers a call (and may answer it at once from the knowledge base).
pub async fn intake(State(s): State<AppState>, f: PageForm) -> PageResult {
    let n = new_order(&f.data)?;
    let answer = f.data.opt("answer");
    let source = match f.data.text("source").as_str() {
        "mail" => Source::Mail,
        "web" => Source::Web,
        _ => Source::Phone,
    };
    let a = f.viewer.actor.clone();
    let o = s
        .write(move |tx, env| {
            let o = register(tx, Some(&a), env, source, &n, "")?;
            match answer {
                Some(text) => act(
                    tx,
                    &a,
                    env,
                    o.id,
                    &OrderAction::AnswerDirectly {
                        answer: text,
                        article_id: None,
                    },
                    None,
                ),
                None => Ok(o),
            }
        })
        .await?;
    Ok(Redirect::to(&format!("/hotline/orders/{}", o.id)).into_response())
}

#[derive(Template)]
#[template(path = "kb_suggest.html")]
struct Suggestions {
    hits: Vec<(i64, String, String, String)>,
}

/// Which words.
#[derive(Deserialize, Default)]
pub struct SuggestQuery {
    content: Option<String>,
}

/// Knowledge-base answers for what the caller says (an htmx fragment).
pub async fn suggest(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Query(q): Query<SuggestQuery>,
) -> PageResult {
    if v.actor.role != Role::HotlineOperator {
        return Err(Error::forbidden("只有 12345 话务员可以检索知识库").into());
    }
    let prefix = v.actor.region.as_ref().map(|r| r.prefix().to_string());
    let hits =
        s.kb.search(&s, q.content.as_deref().unwrap_or(""), prefix.as_deref(), 5)
            .await?;
    let ids: Vec<i64> = hits.iter().map(|h| h.item_id).collect();
    let bodies = s
        .read(move |tx, _| {
            let mut out = Vec::new();
            for id in ids {
                out.push(
                    tx.article(id)?
                        .and_then(|a| a.current().map(|c| c.body.clone()))
                        .unwrap_or_default(),
                );
            }
            Ok(out)
        })
        .await?;
    Ok(render(&Suggestions {
        hits: hits
            .into_iter()
            .zip(bodies)
            .map(|(h, b)| (h.item_id, h.name, h.snippet_html, b))
            .collect(),
    }))
}

#[derive(Template)]
#[template(path = "hotline_order.html")]
struct OrderPage {
    page: Chrome,
    o: WorkOrder,
    state: String,
    kind: &'static str,
    urgency: &'static str,
    source: &'static str,
    lead: String,
    assisting: String,
    sign_due: String,
    steps: Vec<(String, String, String, String)>,
    actions: Vec<(&'static str, &'static str)>,
    units: Vec<(i64, String)>,
    suggested_unit: i64,
    centre: bool,
}

/// One order with its steps and the forms of what the viewer may do.
pub async fn order_page(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Path(id): Path<i64>,
) -> PageResult {
    let a = v.actor.clone();
    let (o, departments, categories) = s
        .read(move |tx, _| {
            Ok((
                get_order(tx, &a, id)?,
                tx.departments(None)?,
                tx.categories()?,
            ))
        })
        .await?;
    let names: std::collections::BTreeMap<i64, String> =
        departments.iter().map(|d| (d.id, d.name.clone())).collect();
    let unreached = o.call_backs.iter().filter(|c| !c.reached).count();
    let actions = ActionKind::ALL
        .into_iter()
        .filter(|k| {
            authorize(&v.actor, &o, *k).is_ok()
                && next(
                    o.state,
                    &OrderAction::blank(*k),
                    o.pending_extension(),
                    unreached,
                )
                .is_ok()
        })
        .map(|k| (k.as_str(), k.label()))
        .collect();
    let suggested_unit = categories
        .iter()
        .find(|c| c.id == o.category_id)
        .and_then(|c| c.unit)
        .unwrap_or(0);
    Ok(render(&OrderPage {
        page: Chrome::new(format!("工单 {}", o.number), Some(&v), "/hotline"),
        state: o.state.label().to_string(),
        kind: o.order_type.label(),
        urgency: o.urgency.label(),
        source: o.source.label(),
        lead: o
            .lead
            .and_then(|l| names.get(&l).cloned())
            .unwrap_or_default(),
        assisting: o
            .assisting
            .iter()
            .filter_map(|u| names.get(u).cloned())
            .collect::<Vec<_>>()
            .join("、"),
        sign_due: o
            .sign_due
            .map(tongban_core::time::china_datetime)
            .unwrap_or_default(),
        steps: o
            .steps
            .iter()
            .map(|st| {
                (
                    tongban_core::time::china_datetime(st.at),
                    st.by_name.clone(),
                    st.label().to_string(),
                    st.text.clone(),
                )
            })
            .collect(),
        actions,
        units: departments
            .into_iter()
            .filter(|d| d.active)
            .map(|d| (d.id, d.name))
            .collect(),
        suggested_unit,
        centre: v.actor.role == Role::HotlineOperator,
        o,
    }))
}

/// Act on an order from its page.
pub async fn order_act(State(s): State<AppState>, Path(id): Path<i64>, f: PageForm) -> PageResult {
    let d = &f.data;
    let text = d.text("text");
    let unit = |k: &str| -> Result<i64, Error> {
        d.text(k)
            .parse()
            .map_err(|_| Error::field("lead", "请选择主办单位"))
    };
    let assisting: Vec<i64> = d
        .all("assisting")
        .iter()
        .filter_map(|x| x.parse().ok())
        .collect();
    let action = match d.text("action").as_str() {
        "answer_directly" => OrderAction::AnswerDirectly {
            answer: text,
            article_id: None,
        },
        "dispatch" => OrderAction::Dispatch {
            lead: unit("lead")?,
            assisting,
            note: text,
        },
        "redispatch" => OrderAction::Redispatch {
            lead: unit("lead")?,
            assisting,
            note: text,
        },
        "rule" => OrderAction::Rule { reason: text },
        "sign" => OrderAction::Sign,
        "return" => OrderAction::Return { reason: text },
        "assist_note" => OrderAction::AssistNote { text },
        "request_extension" => OrderAction::RequestExtension {
            days: d
                .text("days")
                .parse()
                .map_err(|_| Error::field("days", "延期天数须为整数"))?,
            reason: text,
        },
        "approve_extension" => OrderAction::ApproveExtension,
        "deny_extension" => OrderAction::DenyExtension { reason: text },
        "reply" => OrderAction::Reply { text },
        "accept_reply" => OrderAction::AcceptReply,
        "send_back" => OrderAction::SendBack { reason: text },
        "call_back" => OrderAction::CallBack {
            reached: d.text("reached") == "1",
            satisfied: d.text("satisfied") == "1",
            note: text,
        },
        "merge_into" => OrderAction::MergeInto {
            into: d
                .text("into")
                .parse()
                .map_err(|_| Error::field("into", "请填写要合并到的工单号"))?,
        },
        _ => return Err(Error::field("action", "未知的操作").into()),
    };
    let version = d.text("version").parse().ok();
    let a = f.viewer.actor.clone();
    s.write(move |tx, env| act(tx, &a, env, id, &action, version))
        .await?;
    Ok(Redirect::to(&format!("/hotline/orders/{id}")).into_response())
}

/// One line of the analysis: name, orders, closed, the three rates.
type FigureRow = (String, i64, i64, String, String, String);

#[derive(Template)]
#[template(path = "hotline_analysis.html")]
struct AnalysisPage {
    page: Chrome,
    from: String,
    to: String,
    total: (i64, i64, String, String, String),
    groups: Vec<(&'static str, Vec<FigureRow>)>,
    hot: Vec<(String, i64, i64)>,
}

/// The period.
#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// The analysis (the centre, supervisors).
pub async fn analysis_page(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Query(q): Query<PeriodQuery>,
) -> PageResult {
    let today = tongban_core::time::china_date(s.clock.now());
    let from = q
        .from
        .filter(|x| !x.is_empty())
        .unwrap_or_else(|| today.format("%Y-01").to_string());
    let to =
        q.to.filter(|x| !x.is_empty())
            .unwrap_or_else(|| today.format("%Y-%m").to_string());
    let a = v.actor.clone();
    let (f2, t2) = (from.clone(), to.clone());
    let r = s
        .read(move |tx, env| analysis(tx, &a, env, &f2, &t2, &tongban_search::words))
        .await?;
    let fig = |x: &tongban_core::usecase::hotline::OrderFigures| {
        (
            x.label.clone(),
            x.orders,
            x.closed,
            pct(x.signed_on_time_rate),
            pct(x.replied_on_time_rate),
            pct(x.satisfaction_rate),
        )
    };
    Ok(render(&AnalysisPage {
        page: Chrome::new("热线分析", Some(&v), "/hotline/analysis"),
        total: (
            r.total.orders,
            r.total.closed,
            pct(r.total.signed_on_time_rate),
            pct(r.total.replied_on_time_rate),
            pct(r.total.satisfaction_rate),
        ),
        groups: vec![
            ("按诉求分类", r.by_category.iter().map(fig).collect()),
            ("按类型", r.by_type.iter().map(fig).collect()),
            ("按承办单位", r.by_unit.iter().map(fig).collect()),
            ("按区划", r.by_region.iter().map(fig).collect()),
            ("按月份", r.by_month.iter().map(fig).collect()),
        ],
        hot: r
            .hot_topics
            .iter()
            .map(|h| (h.term.clone(), h.this_week, h.last_week))
            .collect(),
        from,
        to,
    }))
}

#[derive(Template)]
#[template(path = "hotline_public.html")]
struct PublicPage {
    page: Chrome,
    categories: Vec<(i64, String)>,
    number: String,
    tracked: Option<tongban_core::usecase::hotline::Tracked>,
    reply_due: String,
}

/// Tracking.
#[derive(Deserialize, Default)]
pub struct TrackForm {
    number: Option<String>,
    phone: Option<String>,
    submitted: Option<String>,
}

/// The citizen's page: submit an order, or track one by its number and phone.
pub async fn public_page(
    State(s): State<AppState>,
    MaybeViewer(v): MaybeViewer,
    Query(q): Query<TrackForm>,
) -> PageResult {
    let tracked = match (q.number.clone().filter(|x| !x.is_empty()), q.phone.clone()) {
        (Some(n), Some(p)) => Some(s.read(move |tx, _| track(tx, &n, &p)).await?),
        _ => None,
    };
    let categories = s.read(|tx, _| tx.categories()).await?;
    Ok(render(&PublicPage {
        page: Chrome::new("12345 在线诉求", v.as_ref(), "/hotline/new"),
        categories: categories
            .into_iter()
            .filter(|c| c.active)
            .map(|c| (c.id, c.name))
            .collect(),
        number: q.submitted.unwrap_or_default(),
        reply_due: tracked
            .as_ref()
            .and_then(|t| t.reply_due)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        tracked,
    }))
}

/// A citizen submits an order (no sign-in; the form is the only way in, so it carries
/// no CSRF token: nothing of anyone's is changed by it).
pub async fn public_submit(
    State(s): State<AppState>,
    axum::extract::Form(fields): axum::extract::Form<Vec<(String, String)>>,
) -> PageResult {
    let data = super::form::FormData {
        fields,
        files: vec![],
    };
    let n = new_order(&data)?;
    let o = s
        .write(move |tx, env| register(tx, None, env, Source::Web, &n, "网上提交"))
        .await?;
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("submitted", &o.number)
        .finish();
    Ok(Redirect::to(&format!("/hotline/new?{q}")).into_response())
}

/// A closed order into the knowledge base, from its page.
pub async fn to_article(State(s): State<AppState>, Path(id): Path<i64>, f: PageForm) -> PageResult {
    let title = f.data.text("title");
    let a = f.viewer.actor.clone();
    s.write(move |tx, env| {
        tongban_core::usecase::hotline::article_from_order(tx, &a, env, id, &title)
    })
    .await?;
    Ok(Redirect::to(&format!("/hotline/orders/{id}")).into_response())
}
