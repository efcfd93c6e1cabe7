//! 12345 use cases: registering an order (the operator, a citizen on the web, an
//! Open311 client), acting on it, lists in scope, tracking by number, the dispatch
//! catalogue, the knowledge base, the settings, and the analysis.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::Env;
use crate::actor::{Actor, Role};
use crate::error::{Error, FieldErrors, Result};
use crate::hotline::hours::WorkingHours;
use crate::hotline::kb::{Article, ArticleInput, ArticleVersion, Attribute, Category};
use crate::hotline::{
    Caller, Ctx, Deadlines, Location, OrderAction, OrderState, OrderType, Source, Step, Urgency,
    WorkOrder, apply, can_see, is_centre,
};
use crate::identity::{IdNumber, Phone};
use crate::region::RegionCode;
use crate::store::{OrderListFilter, Tx};

/// The hotline's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HotlineSettings {
    /// The region the centre serves (orders without a location belong to it).
    pub region: String,
    /// Deadlines.
    pub deadlines: Deadlines,
    /// Working hours for the sign clock.
    pub hours: WorkingHours,
}

const SETTINGS: &str = "hotline";

/// The settings in force (a default centre region of the first city-level region).
pub fn settings(tx: &mut dyn Tx) -> Result<HotlineSettings> {
    if let Some(j) = tx.setting(SETTINGS)? {
        return serde_json::from_str(&j)
            .map_err(|e| Error::Store(format!("hotline settings: {e}")));
    }
    let region = tx
        .regions(None)?
        .into_iter()
        .find(|r| r.code.as_str().len() == 6 && r.code.as_str().ends_with("00"))
        .map(|r| r.code.as_str().to_string())
        .unwrap_or_default();
    Ok(HotlineSettings {
        region,
        deadlines: Deadlines::default(),
        hours: WorkingHours::default(),
    })
}

/// Change them (system administrators).
pub fn save_settings(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    s: &HotlineSettings,
) -> Result<HotlineSettings> {
    actor.require(&[Role::SysAdmin])?;
    let mut e = FieldErrors::new();
    if RegionCode::parse(&s.region).is_err() {
        e.add("region", "区划代码无效");
    }
    if let Err(Error::Validation(fe)) = s.deadlines.validate() {
        e.nest("deadlines", fe);
    }
    if let Err(Error::Validation(fe)) = s.hours.validate() {
        e.nest("hours", fe);
    }
    e.into_result()?;
    let j = serde_json::to_string(s).map_err(|e| Error::Store(e.to_string()))?;
    tx.save_setting(SETTINGS, &j, actor.account_id, env.now)?;
    Ok(s.clone())
}

/// A new order as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    /// The category (派单目录).
    pub category_id: i64,
    /// Type (default: the category's).
    #[serde(default)]
    pub order_type: Option<OrderType>,
    /// Urgency.
    #[serde(default)]
    pub urgency: Urgency,
    /// The caller.
    pub caller: Caller,
    /// Where.
    #[serde(default)]
    pub location: Location,
    /// What the caller said.
    pub content: String,
    /// Uploaded attachments (content hashes).
    #[serde(default)]
    pub attachments: Vec<String>,
    /// Open311 attributes.
    #[serde(default)]
    pub attributes: Vec<(String, String)>,
}

fn check_new(tx: &mut dyn Tx, n: &NewOrder, open311: bool) -> Result<(Category, Caller, Location)> {
    let mut e = FieldErrors::new();
    let category = tx.category(n.category_id)?.filter(|c| c.active);
    if category.is_none() {
        e.add("category_id", "没有这个诉求分类");
    }
    let name = n.caller.name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        e.add("caller.name", "请填写称呼（可填“匿名”）");
    }
    let phone = match Phone::parse(&n.caller.phone) {
        Ok(p) => p.as_str().to_string(),
        Err(err) => {
            e.add("caller.phone", err.to_string());
            String::new()
        }
    };
    let id_number = match n
        .caller
        .id_number
        .as_deref()
        .map(str::trim)
        .filter(|x| !x.is_empty())
    {
        Some(x) => match IdNumber::parse(x) {
            Ok(v) => Some(v.as_str().to_string()),
            Err(err) => {
                e.add("caller.id_number", err.to_string());
                None
            }
        },
        None => None,
    };
    let email = n
        .caller
        .email
        .as_deref()
        .map(str::trim)
        .filter(|x| !x.is_empty());
    if email.is_some_and(|m| !m.contains('@') || m.len() > 100) {
        e.add("caller.email", "电子邮箱格式不正确");
    }
    let c = n.content.trim().chars().count();
    if c == 0 || c > 4000 {
        e.add("content", "请写明诉求内容（不超过 4000 字）");
    }
    if n.location.address.chars().count() > 200 {
        e.add("location.address", "地址不超过 200 字");
    }
    if let Some(r) = n.location.region.as_deref().filter(|r| !r.is_empty())
        && RegionCode::parse(r).is_err()
    {
        e.add("location.region", "区划代码无效");
    }
    if n.location.lat.is_some_and(|v| !(-90.0..=90.0).contains(&v)) {
        e.add("location.lat", "纬度须在 -90 到 90 之间");
    }
    if n.location
        .long
        .is_some_and(|v| !(-180.0..=180.0).contains(&v))
    {
        e.add("location.long", "经度须在 -180 到 180 之间");
    }
    if n.attachments.len() > 10 {
        e.add("attachments", "附件最多 10 个");
    }
    if let Some(cat) = &category
        && let Err(Error::Validation(fe)) = cat.check_attributes(&n.attributes, open311)
    {
        for (k, v) in fe.fields() {
            e.add(k.clone(), v.clone());
        }
    }
    e.into_result()?;
    Ok((
        category.ok_or(Error::Store("checked".into()))?,
        Caller {
            name: name.to_string(),
            phone,
            id_number,
            email: email.map(str::to_string),
        },
        Location {
            address: n.location.address.trim().to_string(),
            region: n.location.region.clone().filter(|r| !r.is_empty()),
            lat: n.location.lat,
            long: n.location.long,
        },
    ))
}

/// Register an order. `actor` is the operator, or none for a citizen on the web or an
/// Open311 client; `by` names the client for the log.
pub fn register(
    tx: &mut dyn Tx,
    actor: Option<&Actor>,
    env: &Env,
    source: Source,
    n: &NewOrder,
    by: &str,
) -> Result<WorkOrder> {
    match (actor, source) {
        (Some(a), Source::Phone | Source::Mail | Source::Web | Source::MiniProgram)
            if is_centre(a) => {}
        (Some(_), _) => {
            return Err(Error::forbidden(
                "工单由 12345 话务员登记，或由群众自行提交",
            ));
        }
        (None, Source::Web | Source::MiniProgram | Source::Open311) => {}
        (None, _) => return Err(Error::Unauthenticated),
    }
    let (category, caller, location) = check_new(tx, n, source == Source::Open311)?;
    let s = settings(tx)?;
    let region = match &location.region {
        Some(r) => r.clone(),
        None => match category
            .unit
            .map(|u| tx.department(u))
            .transpose()?
            .flatten()
        {
            Some(d) => d.region.as_str().to_string(),
            None => s.region.clone(),
        },
    };
    if let Some(a) = actor
        && !a
            .region
            .as_ref()
            .is_some_and(|r| region.starts_with(r.prefix()))
    {
        return Err(Error::field("location.region", "超出本热线的服务区划"));
    }
    let day = env.today();
    let serial = tx.next_order_serial(day)?;
    let number = format!("12345-{}-{serial:04}", day.format("%Y%m%d"));
    let (by_id, by_name) = match actor {
        Some(a) => (a.account_id, a.name.clone()),
        None => (0, by.to_string()),
    };
    let mut o = WorkOrder {
        id: 0,
        number,
        source,
        order_type: n.order_type.unwrap_or(category.default_type),
        urgency: n.urgency,
        category_id: category.id,
        category: category.name.clone(),
        caller,
        location,
        content: n.content.trim().to_string(),
        attachments: n.attachments.clone(),
        attributes: n.attributes.clone(),
        region,
        state: OrderState::Registered,
        lead: None,
        assisting: vec![],
        dispatched_at: None,
        sign_due: None,
        signed_at: None,
        signed_on_time: None,
        reply_due: None,
        reply_from: None,
        reply_days: 0,
        reply_provisional: false,
        replied_at: None,
        replied_on_time: None,
        answer: String::new(),
        extensions: vec![],
        call_backs: vec![],
        reopened: 0,
        merged_into: None,
        duplicates: vec![],
        steps: vec![Step {
            action: crate::hotline::STEP_REGISTER.into(),
            from: None,
            to: OrderState::Registered,
            text: format!("{}受理", source.label()),
            by: by_id,
            by_name,
            unit: None,
            at: env.now,
        }],
        created_at: env.now,
        updated_at: env.now,
        closed_at: None,
        version: 1,
    };
    o.id = tx.insert_order(&o)?;
    Ok(o)
}

/// Act on an order.
pub fn act(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    id: i64,
    action: &OrderAction,
    expected_version: Option<i64>,
) -> Result<WorkOrder> {
    let o = tx
        .order(id)?
        .filter(|o| can_see(actor, o))
        .ok_or(Error::NotFound { entity: "工单" })?;
    if let Some(v) = expected_version
        && v != o.version
    {
        return Err(Error::Conflict("工单已被他人更新，请刷新后重试".into()));
    }
    // Units named must exist and be in operation.
    let units: Vec<(String, i64)> = match action {
        OrderAction::Dispatch {
            lead, assisting, ..
        }
        | OrderAction::Redispatch {
            lead, assisting, ..
        } => std::iter::once(("lead".to_string(), *lead))
            .chain(
                assisting
                    .iter()
                    .enumerate()
                    .map(|(i, u)| (format!("assisting[{i}]"), *u)),
            )
            .collect(),
        _ => vec![],
    };
    let mut e = FieldErrors::new();
    for (field, u) in &units {
        if !tx.department(*u)?.is_some_and(|d| d.active) {
            e.add(field.clone(), "没有这个承办单位");
        }
    }
    e.into_result()?;
    let s = settings(tx)?;
    let ctx = Ctx {
        now: env.now,
        cal: env.cal,
        deadlines: &s.deadlines,
        hours: &s.hours,
    };
    let next = apply(&o, actor, action, &ctx)?;
    if let OrderAction::MergeInto { into } = action {
        let mut master = tx
            .order(*into)?
            .filter(|m| can_see(actor, m))
            .ok_or_else(|| Error::field("into", "没有这个工单"))?;
        if master.state.is_final() {
            return Err(Error::field("into", "只能合并到未办结的工单"));
        }
        master.duplicates.push(o.id);
        let v = master.version;
        master.version += 1;
        master.updated_at = env.now;
        tx.update_order(&master, v)?;
    }
    tx.update_order(&next, o.version)?;
    Ok(next)
}

/// One order, if the actor may see it.
pub fn get_order(tx: &mut dyn Tx, actor: &Actor, id: i64) -> Result<WorkOrder> {
    tx.order(id)?
        .filter(|o| can_see(actor, o))
        .ok_or(Error::NotFound { entity: "工单" })
}

/// A list query.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// States, comma-separated (`registered`, `dispatched`, …); `open` for every open one.
    pub state: Option<String>,
    /// Orders before this id.
    pub before_id: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<u32>,
}

/// Orders in scope, newest first: the centre and supervisors their region; a unit the
/// orders sent to it.
pub fn list_orders(tx: &mut dyn Tx, actor: &Actor, q: &OrderQuery) -> Result<Vec<WorkOrder>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Error::field("limit", "每页条数须在 1–200 之间"));
    }
    let mut f = OrderListFilter {
        before_id: q.before_id,
        limit,
        ..OrderListFilter::default()
    };
    for part in q
        .state
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if part == "open" {
            f.open_only = true;
        } else {
            f.states.push(
                OrderState::parse(part)
                    .ok_or_else(|| Error::field("state", format!("未知状态“{part}”")))?,
            );
        }
    }
    match actor.role {
        Role::HotlineOperator | Role::Supervisor => {
            f.region_prefix = Some(
                actor
                    .region
                    .as_ref()
                    .map(|r| r.prefix().to_string())
                    .ok_or(Error::forbidden("账号未设置区划范围"))?,
            );
        }
        Role::HandlingUnit => {
            f.unit = Some(
                actor
                    .department_id
                    .ok_or(Error::forbidden("账号未归属单位"))?,
            );
        }
        _ => return Err(Error::forbidden("无权查看工单")),
    }
    tx.orders(&f)
}

/// What a caller sees of an order by its number: no personal data, only whether and
/// how it was answered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tracked {
    /// 工单编号.
    pub number: String,
    /// Category.
    pub category: String,
    /// State.
    pub state: OrderState,
    /// In words.
    pub state_label: String,
    /// Registered.
    pub created_at: DateTime<Utc>,
    /// To be replied by.
    pub reply_due: Option<chrono::NaiveDate>,
    /// The answer, once accepted (or given directly).
    pub answer: Option<String>,
}

/// Track an order: the number and the phone it was registered with (its last four
/// digits suffice).
pub fn track(tx: &mut dyn Tx, number: &str, phone: &str) -> Result<Tracked> {
    let o = tx
        .order_by_number(number.trim())?
        .filter(|o| {
            let p = phone.trim();
            p.len() >= 4 && o.caller.phone.ends_with(p)
        })
        .ok_or(Error::NotFound {
            entity: "工单（请核对编号和电话）",
        })?;
    let answered =
        matches!(o.state, OrderState::Reviewed | OrderState::Closed) && !o.answer.is_empty();
    Ok(Tracked {
        number: o.number.clone(),
        category: o.category.clone(),
        state: o.state,
        state_label: o.state.label().to_string(),
        created_at: o.created_at,
        reply_due: o.reply_due,
        answer: answered.then(|| o.answer.clone()),
    })
}

/// A category as an editor writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    /// Code (letters, digits, `-`), the Open311 `service_code`.
    pub code: String,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Group.
    #[serde(default)]
    pub group: String,
    /// Default type.
    pub default_type: OrderType,
    /// Responsible unit.
    #[serde(default)]
    pub unit: Option<i64>,
    /// Keywords.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Open311 attributes.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
    /// Offered.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

fn check_category(tx: &mut dyn Tx, c: &CategoryInput) -> Result<()> {
    let mut e = FieldErrors::new();
    if c.code.is_empty()
        || c.code.len() > 40
        || !c
            .code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        e.add("code", "编码须为 1–40 位字母、数字、- 或 _");
    }
    if c.name.trim().is_empty() || c.name.chars().count() > 50 {
        e.add("name", "名称不能为空且不超过 50 字");
    }
    if let Some(u) = c.unit
        && tx.department(u)?.is_none()
    {
        e.add("unit", "没有这个承办单位");
    }
    let mut codes = std::collections::BTreeSet::new();
    for (i, a) in c.attributes.iter().enumerate() {
        if a.code.is_empty() || !codes.insert(a.code.as_str()) {
            e.add(format!("attributes[{i}].code"), "属性编码不能为空或重复");
        }
        let list = matches!(
            a.datatype,
            crate::hotline::kb::Datatype::Singlevaluelist
                | crate::hotline::kb::Datatype::Multivaluelist
        );
        if list == a.values.is_empty() {
            e.add(
                format!("attributes[{i}].values"),
                "列表类属性须给出取值，其他属性不设取值",
            );
        }
    }
    e.into_result()
}

/// Add a category (the centre, system administrators).
pub fn create_category(tx: &mut dyn Tx, actor: &Actor, c: &CategoryInput) -> Result<Category> {
    actor.require(&[Role::HotlineOperator, Role::SysAdmin])?;
    check_category(tx, c)?;
    let mut cat = Category {
        id: 0,
        code: c.code.clone(),
        name: c.name.trim().to_string(),
        description: c.description.trim().to_string(),
        group: c.group.trim().to_string(),
        default_type: c.default_type,
        unit: c.unit,
        keywords: c.keywords.clone(),
        attributes: c.attributes.clone(),
        active: c.active,
    };
    cat.id = tx.insert_category(&cat)?;
    Ok(cat)
}

/// Change a category.
pub fn update_category(
    tx: &mut dyn Tx,
    actor: &Actor,
    id: i64,
    c: &CategoryInput,
) -> Result<Category> {
    actor.require(&[Role::HotlineOperator, Role::SysAdmin])?;
    tx.category(id)?.ok_or(Error::NotFound {
        entity: "诉求分类"
    })?;
    check_category(tx, c)?;
    if let Some(other) = tx.category_by_code(&c.code)?
        && other.id != id
    {
        return Err(Error::Conflict("派单目录编码已存在".into()));
    }
    let cat = Category {
        id,
        code: c.code.clone(),
        name: c.name.trim().to_string(),
        description: c.description.trim().to_string(),
        group: c.group.trim().to_string(),
        default_type: c.default_type,
        unit: c.unit,
        keywords: c.keywords.clone(),
        attributes: c.attributes.clone(),
        active: c.active,
    };
    tx.update_category(&cat)?;
    Ok(cat)
}

/// Write an article (new: `id` none; else a new version of it) — the centre.
pub fn save_article(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    id: Option<i64>,
    a: &ArticleInput,
    from_order: Option<i64>,
) -> Result<Article> {
    actor.require(&[Role::HotlineOperator])?;
    a.validate()?;
    if let Some(c) = a.category_id
        && tx.category(c)?.is_none()
    {
        return Err(Error::field("category_id", "没有这个诉求分类"));
    }
    let region = actor
        .region
        .as_ref()
        .map(|r| r.as_str().to_string())
        .ok_or(Error::forbidden("账号未设置区划范围"))?;
    let content = ArticleInput {
        title: a.title.trim().to_string(),
        keywords: a.keywords.iter().map(|k| k.trim().to_string()).collect(),
        body: a.body.trim().to_string(),
        ..a.clone()
    };
    match id {
        None => {
            let mut art = Article {
                id: 0,
                region,
                versions: vec![ArticleVersion {
                    version: 1,
                    content,
                    by: actor.account_id,
                    at: env.now,
                }],
                withdrawn: false,
                from_order,
                updated_at: env.now,
            };
            art.id = tx.insert_article(&art)?;
            Ok(art)
        }
        Some(id) => {
            let mut art = tx
                .article(id)?
                .filter(|x| {
                    actor
                        .region
                        .as_ref()
                        .is_some_and(|r| x.region.starts_with(r.prefix()))
                })
                .ok_or(Error::NotFound {
                    entity: "知识条目"
                })?;
            let v = art.versions.last().map(|v| v.version).unwrap_or(0) + 1;
            art.versions.push(ArticleVersion {
                version: v,
                content,
                by: actor.account_id,
                at: env.now,
            });
            art.updated_at = env.now;
            tx.update_article(&art)?;
            Ok(art)
        }
    }
}

/// Withdraw an article.
pub fn withdraw_article(tx: &mut dyn Tx, actor: &Actor, env: &Env, id: i64) -> Result<Article> {
    actor.require(&[Role::HotlineOperator])?;
    let mut art = tx
        .article(id)?
        .filter(|x| {
            actor
                .region
                .as_ref()
                .is_some_and(|r| x.region.starts_with(r.prefix()))
        })
        .ok_or(Error::NotFound {
            entity: "知识条目"
        })?;
    art.withdrawn = true;
    art.updated_at = env.now;
    tx.update_article(&art)?;
    Ok(art)
}

/// A closed order turned into an article (its answer as the body).
pub fn article_from_order(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    order_id: i64,
    title: &str,
) -> Result<Article> {
    let o = get_order(tx, actor, order_id)?;
    if o.state != OrderState::Closed || o.answer.trim().is_empty() {
        return Err(Error::InvalidTransition {
            state: o.state.label().into(),
            action: "转为知识".into(),
            reason: "只有已办结且有答复的工单可以转为知识条目".into(),
        });
    }
    let input = ArticleInput {
        title: if title.trim().is_empty() {
            format!(
                "{}：{}",
                o.category,
                o.content.chars().take(30).collect::<String>()
            )
        } else {
            title.to_string()
        },
        keywords: vec![],
        body: o.answer.clone(),
        category_id: Some(o.category_id),
        valid_from: env.today(),
        valid_until: None,
    };
    save_article(tx, actor, env, None, &input, Some(o.id))
}

/// Figures of one group of orders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OrderFigures {
    /// Group key.
    pub key: String,
    /// Its name.
    pub label: String,
    /// Orders registered.
    pub orders: i64,
    /// Closed.
    pub closed: i64,
    /// Signed on time, of those signed.
    pub signed_on_time_rate: Option<f64>,
    /// Replied on time, of those replied.
    pub replied_on_time_rate: Option<f64>,
    /// Satisfied at call-back, of those reached.
    pub satisfaction_rate: Option<f64>,
}

/// A term and its counts this week and last.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HotTopic {
    /// The word.
    pub term: String,
    /// Orders mentioning it in the last 7 days.
    pub this_week: i64,
    /// In the 7 days before.
    pub last_week: i64,
}

/// The analysis of a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Analysis {
    /// Over everything.
    pub total: OrderFigures,
    /// By category.
    pub by_category: Vec<OrderFigures>,
    /// By region.
    pub by_region: Vec<OrderFigures>,
    /// By lead unit.
    pub by_unit: Vec<OrderFigures>,
    /// By month.
    pub by_month: Vec<OrderFigures>,
    /// By type.
    pub by_type: Vec<OrderFigures>,
    /// Words rising this week against last (热点).
    pub hot_topics: Vec<HotTopic>,
}

#[derive(Default)]
struct Acc {
    n: i64,
    closed: i64,
    signed: i64,
    signed_ok: i64,
    replied: i64,
    replied_ok: i64,
    reached: i64,
    satisfied: i64,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn add(acc: &mut BTreeMap<(String, String), Acc>, key: (String, String), o: &WorkOrder) {
    let a = acc.entry(key).or_default();
    a.n += 1;
    a.closed += i64::from(o.state == OrderState::Closed);
    if let Some(ok) = o.signed_on_time {
        a.signed += 1;
        a.signed_ok += i64::from(ok);
    }
    if let Some(ok) = o.replied_on_time {
        a.replied += 1;
        a.replied_ok += i64::from(ok);
    }
    if let Some(s) = o.satisfied() {
        a.reached += 1;
        a.satisfied += i64::from(s);
    }
}

fn figures(acc: BTreeMap<(String, String), Acc>) -> Vec<OrderFigures> {
    acc.into_iter()
        .map(|((key, label), a)| OrderFigures {
            key,
            label,
            orders: a.n,
            closed: a.closed,
            signed_on_time_rate: ratio(a.signed_ok, a.signed),
            replied_on_time_rate: ratio(a.replied_ok, a.replied),
            satisfaction_rate: ratio(a.satisfied, a.reached),
        })
        .collect()
}

/// The analysis of months `from..=to` in the actor's region (the centre, supervisors).
/// `words` cuts a text into words (jieba, from the search crate).
pub fn analysis(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    from: &str,
    to: &str,
    words: &dyn Fn(&str) -> Vec<String>,
) -> Result<Analysis> {
    actor.require(&[Role::HotlineOperator, Role::Supervisor])?;
    super::stats::check_months(from, to)?;
    let prefix = actor
        .region
        .as_ref()
        .map(|r| r.prefix().to_string())
        .ok_or(Error::forbidden("账号未设置区划范围"))?;
    let orders = tx.orders_in_months(&prefix, from, to)?;
    let units: BTreeMap<i64, String> = tx
        .departments(None)?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let regions: BTreeMap<String, String> = tx
        .regions(None)?
        .into_iter()
        .map(|r| (r.code.as_str().to_string(), r.name))
        .collect();
    type Groups = BTreeMap<(String, String), Acc>;
    let (mut total, mut cat, mut reg, mut unit, mut month, mut typ): (
        Groups,
        Groups,
        Groups,
        Groups,
        Groups,
        Groups,
    ) = Default::default();
    for o in orders.iter().filter(|o| o.state != OrderState::Merged) {
        add(&mut total, ("all".into(), "合计".into()), o);
        add(&mut cat, (o.category_id.to_string(), o.category.clone()), o);
        let r6: String = o.region.chars().take(6).collect();
        add(
            &mut reg,
            (r6.clone(), regions.get(&r6).cloned().unwrap_or_default()),
            o,
        );
        if let Some(u) = o.lead {
            add(
                &mut unit,
                (u.to_string(), units.get(&u).cloned().unwrap_or_default()),
                o,
            );
        }
        let m = crate::time::china_date(o.created_at)
            .format("%Y-%m")
            .to_string();
        add(&mut month, (m.clone(), m), o);
        add(
            &mut typ,
            (
                serde_json::to_value(o.order_type)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                o.order_type.label().into(),
            ),
            o,
        );
    }
    // Hot topics: the words of the last fortnight's orders, this week against last.
    // The words are jieba's, and the catalogue's own vocabulary (its categories' names
    // and keywords) wherever a caller used it, which jieba may cut otherwise
    // (路灯不亮 → 路 / 灯不亮).
    let recent = tx.orders_since(&prefix, env.now - Duration::days(14), 20_000)?;
    let vocabulary: Vec<String> = tx
        .categories()?
        .into_iter()
        .flat_map(|c| std::iter::once(c.name).chain(c.keywords))
        .filter(|w| w.chars().count() >= 2)
        .collect();
    let week = env.now - Duration::days(7);
    let mut counts: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for o in &recent {
        let mut seen = std::collections::BTreeSet::new();
        let known = vocabulary
            .iter()
            .filter(|v| o.content.contains(v.as_str()))
            .cloned();
        for w in words(&o.content).into_iter().chain(known) {
            if w.chars().count() >= 2 && !STOP.contains(&w.as_str()) && seen.insert(w.clone()) {
                let c = counts.entry(w).or_default();
                if o.created_at >= week {
                    c.0 += 1;
                } else {
                    c.1 += 1;
                }
            }
        }
    }
    let mut hot: Vec<HotTopic> = counts
        .into_iter()
        .filter(|(_, (a, _))| *a > 0)
        .map(|(term, (a, b))| HotTopic {
            term,
            this_week: a,
            last_week: b,
        })
        .collect();
    hot.sort_by(|x, y| {
        (y.this_week - y.last_week)
            .cmp(&(x.this_week - x.last_week))
            .then(y.this_week.cmp(&x.this_week))
            .then(x.term.cmp(&y.term))
    });
    hot.truncate(20);
    Ok(Analysis {
        total: figures(total).into_iter().next().unwrap_or_default(),
        by_category: figures(cat),
        by_region: figures(reg),
        by_unit: figures(unit),
        by_month: figures(month),
        by_type: figures(typ),
        hot_topics: hot,
    })
}

/// Words too common to be a topic.
const STOP: &[&str] = &[
    "我们", "你们", "他们", "这个", "那个", "一个", "没有", "什么", "现在", "已经", "希望", "反映",
    "请问", "可以", "问题", "情况", "进行", "相关", "部门", "市民", "来电",
];

/// Register an Open311 client's key (system administrators): the caller makes the
/// random key, only its hash is kept.
pub fn add_open311_key(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    name: &str,
    key_hash: &str,
) -> Result<()> {
    actor.require(&[Role::SysAdmin])?;
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(Error::field("name", "请填写接入方名称"));
    }
    tx.insert_open311_key(key_hash, name.trim(), actor.account_id, env.now)
}
