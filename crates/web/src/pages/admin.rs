//! Administration pages: the catalog administrator edits items (a version's content
//! as checked JSON, the same document the API takes), publishes, suspends, resumes,
//! and loads calendar years; the system administrator sees departments, halls and
//! windows, and creates staff accounts.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use tongban_core::Error;
use tongban_core::actor::Role;
use tongban_core::calendar::{CalendarYear, NamedDay};
use tongban_core::catalog::spec::ItemSpec;
use tongban_core::org::check_password;
use tongban_core::org::{NewDepartment, WindowKind};
use tongban_core::store::NewWindow;
use tongban_core::usecase::catalog::{
    ItemQuery, StatusChange, change_status, get_item, list_items, publish, save_draft,
};
use tongban_core::usecase::catalog::{NewItem, create_item};
use tongban_core::usecase::org::{NewHall, NewStaff, create_department, create_hall, create_staff};

use super::form::PageForm;
use super::{Chrome, PageResult, SignedIn, Viewer, render};
use crate::state::AppState;

fn require(v: &Viewer, roles: &[Role]) -> PageResult<()> {
    if roles.contains(&v.actor.role) {
        Ok(())
    } else {
        Err(Error::forbidden("只有管理员可以使用此页面").into())
    }
}

struct ItemAdminRow {
    id: i64,
    name: String,
    department: String,
    status: String,
    published: String,
    draft: String,
    active: bool,
    suspended: bool,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    page: Chrome,
    catalog: bool,
    items: Vec<ItemAdminRow>,
    years: Vec<(i32, bool)>,
    departments: Vec<(i64, String, String)>,
    basics: Vec<(String, String)>,
    bundles: Vec<(i64, String, String)>,
    halls: Vec<(String, String, Vec<String>)>,
    accounts: Vec<(String, String, String, String, bool)>,
    roles: Vec<(String, String)>,
}

/// After a change.
#[derive(Deserialize, Default)]
pub struct Done {
    ok: Option<String>,
}

impl Done {
    /// The change just made, if any.
    pub fn ok(&self) -> Option<&str> {
        self.ok.as_deref()
    }
}

/// The administrator's page.
pub async fn admin(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Query(done): Query<Done>,
) -> PageResult {
    require(&v, &[Role::CatalogAdmin, Role::SysAdmin])?;
    let a = v.actor.clone();
    let prefix = a.region.as_ref().map(|r| r.prefix().to_string());
    let catalog = a.role == Role::CatalogAdmin;
    let (items, departments, basics, halls, accounts) = s
        .read(move |tx, _| {
            let departments = tx.departments(prefix.as_deref())?;
            if catalog {
                let basics = tx.basic_items()?;
                let items = list_items(
                    tx,
                    Some(&a),
                    &ItemQuery {
                        all: Some(true),
                        limit: Some(200),
                        ..ItemQuery::default()
                    },
                )?;
                Ok((items, departments, basics, vec![], vec![]))
            } else {
                let mut halls = Vec::new();
                for h in tx.halls(prefix.as_deref())? {
                    let w = tx.windows(h.id)?;
                    halls.push((h, w));
                }
                let accounts = match &prefix {
                    Some(p) => tx.accounts(Some(p))?,
                    None => vec![],
                };
                Ok((vec![], departments, vec![], halls, accounts))
            }
        })
        .await?;
    let names: std::collections::BTreeMap<i64, String> = departments
        .iter()
        .map(|d| (d.id, d.short_name.clone()))
        .collect();
    let a2 = v.actor.clone();
    let bundles = if catalog {
        s.read(move |tx, _| tongban_core::usecase::bundles::list_bundles(tx, Some(&a2)))
            .await?
    } else {
        vec![]
    };
    let cal = s.calendar();
    let flash = done.ok.map(|k| match k.as_str() {
        "calendar" => "日历已保存，在办件期限已按新日历重算".to_string(),
        "account" => "账号已创建".to_string(),
        "department" => "部门已创建".to_string(),
        "hall" => "大厅及窗口已创建".to_string(),
        _ => "已保存".to_string(),
    });
    Ok(render(&AdminPage {
        page: Chrome::new(
            if catalog {
                "事项与日历管理"
            } else {
                "机构与账号管理"
            },
            Some(&v),
            "/admin",
        )
        .flash(flash),
        catalog,
        items: items
            .into_iter()
            .map(|i| ItemAdminRow {
                id: i.id,
                department: names.get(&i.department_id).cloned().unwrap_or_default(),
                status: i.status.label().to_string(),
                published: i
                    .published_version
                    .map(|v| format!("第 {v} 版"))
                    .unwrap_or("未发布".into()),
                draft: i
                    .draft_version
                    .map(|v| format!("第 {v} 版草稿"))
                    .unwrap_or_default(),
                active: i.status == tongban_core::catalog::ItemStatus::Active,
                suspended: i.status == tongban_core::catalog::ItemStatus::Suspended,
                name: i.name,
            })
            .collect(),
        years: (tongban_core::calendar::FIRST_YEAR..=tongban_core::calendar::LAST_YEAR)
            .map(|y| (y, cal.year(y).is_some()))
            .collect(),
        departments: departments
            .into_iter()
            .map(|d| (d.id, d.name, d.region.as_str().to_string()))
            .collect(),
        bundles: bundles
            .into_iter()
            .map(|b| {
                let state = match (b.published(), b.draft()) {
                    (Some(p), Some(d)) => {
                        format!("第 {} 版已发布，第 {} 版草稿", p.version, d.version)
                    }
                    (Some(p), None) => format!("第 {} 版已发布", p.version),
                    (None, _) => "未发布".to_string(),
                };
                (b.id, b.name, state)
            })
            .collect(),
        basics: basics
            .into_iter()
            .map(|b| (b.code.clone(), format!("{} {}", b.code, b.name)))
            .collect(),
        halls: halls
            .into_iter()
            .map(|(h, w)| (h.name, h.address, w.into_iter().map(|w| w.name).collect()))
            .collect(),
        accounts: accounts
            .into_iter()
            .map(|acc| {
                (
                    acc.username,
                    acc.name,
                    acc.role.label().to_string(),
                    acc.department_id
                        .and_then(|d| names.get(&d).cloned())
                        .unwrap_or_default(),
                    acc.active,
                )
            })
            .collect(),
        roles: [
            Role::AcceptanceClerk,
            Role::DeptReviewer,
            Role::DeptApprover,
            Role::IssuanceClerk,
            Role::Supervisor,
            Role::CatalogAdmin,
            Role::HotlineOperator,
            Role::HandlingUnit,
            Role::Agent,
            Role::SysAdmin,
        ]
        .into_iter()
        .map(|r| (r.as_str().to_string(), r.label().to_string()))
        .collect(),
    }))
}

#[derive(Template)]
#[template(path = "admin_item.html")]
struct ItemEditPage {
    page: Chrome,
    id: i64,
    name: String,
    version: String,
    spec: String,
}

/// Edit an item's content (its draft, or a new draft from the published version).
pub async fn item_form(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> PageResult {
    require(&v, &[Role::CatalogAdmin])?;
    let a = v.actor.clone();
    let iv = s
        .read(move |tx, _| {
            let item = tx.item(id)?.ok_or(Error::NotFound { entity: "事项" })?;
            let version = item.draft_version.or(item.published_version);
            get_item(tx, Some(&a), id, version)
        })
        .await?;
    let draft = iv.item.draft_version == Some(iv.version.version);
    Ok(render(&ItemEditPage {
        page: Chrome::new(format!("编辑事项：{}", iv.item.name), Some(&v), "/admin").flash(
            done.ok.map(|k| {
                if k == "publish" {
                    "已发布".into()
                } else {
                    "草稿已保存".into()
                }
            }),
        ),
        id,
        name: iv.item.name.clone(),
        version: format!(
            "第 {} 版{}",
            iv.version.version,
            if draft {
                "（草稿）"
            } else {
                "（已发布；保存即生成新草稿）"
            }
        ),
        spec: serde_json::to_string_pretty(&iv.version.spec).unwrap_or_default(),
    }))
}

/// Save the draft (`do=save`) or save and publish it (`do=publish`).
pub async fn item_save(State(s): State<AppState>, Path(id): Path<i64>, f: PageForm) -> PageResult {
    require(&f.viewer, &[Role::CatalogAdmin])?;
    let a = f.viewer.actor.clone();
    let spec: ItemSpec = spec_from(&f.data.text("spec"))?;
    let publish_now = f.data.text("do") == "publish";
    s.write(move |tx, env| {
        save_draft(tx, &a, env, id, &spec)?;
        if publish_now {
            publish(tx, &a, env, id)?;
        }
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&format!(
        "/admin/items/{id}?ok={}",
        if publish_now { "publish" } else { "save" }
    ))
    .into_response())
}

/// Suspend, resume or cancel an item.
pub async fn item_status(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    f: PageForm,
) -> PageResult {
    require(&f.viewer, &[Role::CatalogAdmin])?;
    let a = f.viewer.actor.clone();
    let change = match f.data.text("change").as_str() {
        "suspend" => StatusChange::Suspend,
        "resume" => StatusChange::Resume,
        "cancel" => StatusChange::Cancel,
        _ => return Err(Error::field("change", "未知的操作").into()),
    };
    s.write(move |tx, env| change_status(tx, &a, env, id, change))
        .await?;
    Ok(Redirect::to("/admin?ok=item").into_response())
}

#[derive(Template)]
#[template(path = "admin_calendar.html")]
struct CalendarPage {
    page: Chrome,
    year: i32,
    official: bool,
    holidays: String,
    workdays: String,
    source: String,
}

fn lines(days: &[NamedDay]) -> String {
    days.iter()
        .map(|d| format!("{} {}", d.date, d.name))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A calendar year as lines of `YYYY-MM-DD 名称`.
pub async fn calendar_form(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Path(year): Path<i32>,
) -> PageResult {
    require(&v, &[Role::CatalogAdmin])?;
    if !(tongban_core::calendar::FIRST_YEAR..=tongban_core::calendar::LAST_YEAR).contains(&year) {
        return Err(Error::NotFound {
            entity: "该年度日历",
        }
        .into());
    }
    let cal = s.calendar();
    let y = cal.year(year);
    Ok(render(&CalendarPage {
        page: Chrome::new(format!("{year} 年节假日安排"), Some(&v), "/admin"),
        year,
        official: y.is_some(),
        holidays: y.map(|y| lines(&y.holidays)).unwrap_or_default(),
        workdays: y.map(|y| lines(&y.adjusted_workdays)).unwrap_or_default(),
        source: y.map(|y| y.source.clone()).unwrap_or_default(),
    }))
}

fn parse_lines(field: &str, text: &str, errors: &mut tongban_core::FieldErrors) -> Vec<NamedDay> {
    let mut out = Vec::new();
    for (i, line) in text.lines().map(str::trim).enumerate() {
        if line.is_empty() {
            continue;
        }
        let (d, name) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(date) => out.push(NamedDay {
                date,
                name: name.trim().to_string(),
            }),
            Err(_) => errors.add(
                format!("{field}[{i}]"),
                format!("第 {} 行“{line}”应为“年-月-日 名称”", i + 1),
            ),
        }
    }
    out
}

/// Save a calendar year; open cases are recomputed.
pub async fn calendar_save(
    State(s): State<AppState>,
    Path(year): Path<i32>,
    f: PageForm,
) -> PageResult {
    require(&f.viewer, &[Role::CatalogAdmin])?;
    let mut errors = tongban_core::FieldErrors::new();
    let holidays = parse_lines("holidays", &f.data.text("holidays"), &mut errors);
    let adjusted_workdays = parse_lines("adjusted_workdays", &f.data.text("workdays"), &mut errors);
    errors.into_result()?;
    s.save_calendar_year(
        f.viewer.actor.clone(),
        CalendarYear {
            year,
            holidays,
            adjusted_workdays,
            source: f.data.text("source"),
        },
    )
    .await?;
    Ok(Redirect::to("/admin?ok=calendar").into_response())
}

/// Create a staff account.
pub async fn account_create(State(s): State<AppState>, f: PageForm) -> PageResult {
    require(&f.viewer, &[Role::SysAdmin])?;
    let d = &f.data;
    let role: Role = serde_json::from_value(serde_json::Value::String(d.text("role")))
        .map_err(|_| Error::field("role", "请选择角色"))?;
    let department_id: i64 = d
        .text("department_id")
        .parse()
        .map_err(|_| Error::field("department_id", "请选择部门"))?;
    let password = d.text("password");
    if let Err(rule) = check_password(&password) {
        return Err(Error::field("password", rule).into());
    }
    let n = NewStaff {
        username: d.text("username"),
        name: d.text("name"),
        role,
        department_id,
        region: d.opt("region"),
        window_id: d.opt("window_id").and_then(|w| w.parse().ok()),
        immediate_departments: vec![],
        password: password.clone(),
    };
    let hash = s.hash_password(password).await?;
    let a = f.viewer.actor.clone();
    s.write(move |tx, env| create_staff(tx, &a, env, &n, &hash))
        .await?;
    s.sessions.clear();
    Ok(Redirect::to("/admin?ok=account").into_response())
}

/// Create an item (新建事项) from a basic item, for a department, starting from the
/// content of an existing item (then edited and published on the item's page).
pub async fn item_create(State(s): State<AppState>, f: PageForm) -> PageResult {
    require(&f.viewer, &[Role::CatalogAdmin])?;
    let a = f.viewer.actor.clone();
    let d = &f.data;
    let department_id: i64 = d
        .text("department_id")
        .parse()
        .map_err(|_| Error::field("department_id", "请选择实施部门"))?;
    let template: i64 = d
        .text("template")
        .parse()
        .map_err(|_| Error::field("template", "请选择作为模板的现有事项"))?;
    let name = d.text("name");
    if name.is_empty() {
        return Err(Error::field("name", "请填写事项名称").into());
    }
    let basic_code = d.text("basic_code");
    let created = s
        .write(move |tx, env| {
            let t = get_item(tx, Some(&a), template, None)?;
            let mut spec = t.version.spec;
            spec.name = name;
            create_item(
                tx,
                &a,
                env,
                &NewItem {
                    basic_code,
                    department_id,
                    code: None,
                    spec,
                },
            )
        })
        .await?;
    Ok(Redirect::to(&format!("/admin/items/{}?ok=save", created.item.id)).into_response())
}

/// Create a department.
pub async fn department_create(State(s): State<AppState>, f: PageForm) -> PageResult {
    require(&f.viewer, &[Role::SysAdmin])?;
    let a = f.viewer.actor.clone();
    let d = &f.data;
    let n = NewDepartment {
        name: d.text("name"),
        short_name: d.text("short_name"),
        credit_code: d.text("credit_code").to_uppercase(),
        region: d.text("region"),
    };
    s.write(move |tx, _| create_department(tx, &a, &n)).await?;
    Ok(Redirect::to("/admin?ok=department").into_response())
}

/// Create a hall with its windows (one per line: `名称` or `名称 出件`).
pub async fn hall_create(State(s): State<AppState>, f: PageForm) -> PageResult {
    require(&f.viewer, &[Role::SysAdmin])?;
    let a = f.viewer.actor.clone();
    let d = &f.data;
    let department_id: i64 = d
        .text("department_id")
        .parse()
        .map_err(|_| Error::field("department_id", "请选择管理部门"))?;
    let windows = d
        .text("windows")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (name, kind) = match l.rsplit_once(char::is_whitespace) {
                Some((n, "出件")) => (n.trim(), WindowKind::Issuance),
                Some((n, "主题")) => (n.trim(), WindowKind::Themed),
                Some((n, "专业")) => (n.trim(), WindowKind::Professional),
                Some((n, "综合")) => (n.trim(), WindowKind::Acceptance),
                _ => (l, WindowKind::Acceptance),
            };
            NewWindow {
                name: name.to_string(),
                kind,
                theme: None,
            }
        })
        .collect();
    let n = NewHall {
        name: d.text("name"),
        region: d.text("region"),
        address: d.text("address"),
        phone: d.text("phone"),
        department_id,
        windows,
    };
    s.write(move |tx, _| create_hall(tx, &a, &n)).await?;
    Ok(Redirect::to("/admin?ok=hall").into_response())
}

#[derive(Template)]
#[template(path = "admin_bundle.html")]
struct BundleEditPage {
    page: Chrome,
    id: i64,
    name: String,
    version: String,
    spec: String,
    conflicts: Vec<String>,
}

/// Edit a bundle's content (its draft, or a new draft from the published version);
/// the fields its items define differently are listed.
pub async fn bundle_form(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> PageResult {
    require(&v, &[Role::CatalogAdmin])?;
    let a = v.actor.clone();
    let b = s
        .read(move |tx, _| tongban_core::usecase::bundles::get_bundle(tx, Some(&a), id))
        .await?;
    let current = b
        .draft()
        .or(b.published())
        .cloned()
        .ok_or(Error::NotFound {
            entity: "一件事"
        })?;
    // The conflicts, as publishing would report them (read only: nothing is saved).
    let (a, spec) = (v.actor.clone(), current.spec.clone());
    let conflicts: Vec<String> = s
        .read(move |tx, _| {
            Ok(
                match tongban_core::usecase::bundles::bundle_conflicts(tx, &a, id, &spec) {
                    Ok(cs) => cs
                        .iter()
                        .map(|c| {
                            format!(
                                "表单项“{}”：{}（事项 {} 与 {}）",
                                c.key, c.reason, c.first_item, c.other_item
                            )
                        })
                        .collect(),
                    Err(e) => vec![e.to_string()],
                },
            )
        })
        .await?;
    Ok(render(&BundleEditPage {
        page: Chrome::new(format!("编辑一件事：{}", b.name), Some(&v), "/admin").flash(
            done.ok.map(|k| {
                if k == "publish" {
                    "已发布".into()
                } else {
                    "草稿已保存".into()
                }
            }),
        ),
        id,
        name: b.name.clone(),
        version: format!(
            "第 {} 版{}",
            current.version,
            if current.state == tongban_core::catalog::VersionState::Draft {
                "（草稿）"
            } else {
                "（已发布；保存即生成新草稿）"
            }
        ),
        spec: serde_json::to_string_pretty(&current.spec).unwrap_or_default(),
        conflicts,
    }))
}

/// Content edited as JSON (an item's or a bundle's), errors named by `spec.<path>`.
fn spec_from<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Error::field(
            format!("spec.{}", path.trim_start_matches('.')),
            format!("内容格式有误：{}", e.inner()),
        )
    })
}

/// Save a bundle's draft (`do=save`) or save and publish it (`do=publish`).
pub async fn bundle_save(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    f: PageForm,
) -> PageResult {
    require(&f.viewer, &[Role::CatalogAdmin])?;
    let a = f.viewer.actor.clone();
    let spec = spec_from(&f.data.text("spec"))?;
    let publish_now = f.data.text("do") == "publish";
    s.write(move |tx, env| {
        tongban_core::usecase::bundles::save_bundle_draft(tx, &a, env, id, &spec)?;
        if publish_now {
            tongban_core::usecase::bundles::publish_bundle(tx, &a, env, id)?;
        }
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&format!(
        "/admin/bundles/{id}?ok={}",
        if publish_now { "publish" } else { "save" }
    ))
    .into_response())
}

/// Create a bundle: code, region and its first content.
pub async fn bundle_create(State(s): State<AppState>, f: PageForm) -> PageResult {
    require(&f.viewer, &[Role::CatalogAdmin])?;
    let a = f.viewer.actor.clone();
    let n = tongban_core::usecase::bundles::NewBundle {
        code: f.data.text("code"),
        region: f.data.text("region"),
        spec: spec_from(&f.data.text("spec"))?,
    };
    let made = s
        .write(move |tx, env| tongban_core::usecase::bundles::create_bundle(tx, &a, env, &n))
        .await?;
    Ok(Redirect::to(&format!("/admin/bundles/{}?ok=save", made.bundle.id)).into_response())
}
