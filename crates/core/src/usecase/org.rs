//! Organisation use cases: regions, departments, halls, windows, accounts, applicants.
//! Administrators act only inside their own region.

use serde::{Deserialize, Serialize};

use super::{Env, text};
use crate::actor::{Actor, Role};
use crate::case::ApplicantKind;
use crate::error::{Error, FieldErrors, Result};
use crate::identity::{CreditCode, IdNumber, Phone};
use crate::org::{
    Account, Applicant, Department, Hall, NewDepartment, Window, check_password, check_username,
};
use crate::region::{Region, RegionCode};
use crate::store::{NewWindow, Tx};

fn admin(actor: &Actor) -> Result<RegionCode> {
    actor.require(&[Role::SysAdmin])?;
    actor
        .region
        .clone()
        .ok_or(Error::forbidden("账号未设置区划范围"))
}

/// A region as given to create one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewRegion {
    /// GB/T 2260 code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Parent code.
    pub parent: String,
}

/// Add a region under an existing one, inside the administrator's region.
pub fn create_region(tx: &mut dyn Tx, actor: &Actor, n: &NewRegion) -> Result<Region> {
    let scope = admin(actor)?;
    let mut e = FieldErrors::new();
    let code = e.check("code", RegionCode::parse(&n.code));
    let parent = e.check("parent", RegionCode::parse(&n.parent));
    let name = text(&mut e, "name", &n.name, "区划名称", 50);
    e.into_result()?;
    let (code, parent) = (code.expect("checked"), parent.expect("checked"));
    code.check_parent(&parent)
        .map_err(|x| Error::field("code", x.to_string()))?;
    if tx.region(&parent)?.is_none() {
        return Err(Error::field("parent", "上级区划不存在"));
    }
    actor.require_region(&code)?;
    if !scope.contains(&parent) && scope != parent {
        return Err(Error::forbidden("超出本账号的区划范围"));
    }
    if tx.region(&code)?.is_some() {
        return Err(Error::Conflict("该区划代码已存在".into()));
    }
    let r = Region {
        level: code.level(),
        code,
        name,
        parent: Some(parent),
    };
    tx.insert_region(&r)?;
    Ok(r)
}

/// Add a department.
pub fn create_department(tx: &mut dyn Tx, actor: &Actor, n: &NewDepartment) -> Result<Department> {
    admin(actor)?;
    let mut e = FieldErrors::new();
    let name = text(&mut e, "name", &n.name, "部门名称", 100);
    let short = if n.short_name.trim().is_empty() {
        name.clone()
    } else {
        text(&mut e, "short_name", &n.short_name, "部门简称", 30)
    };
    let credit = e.check(
        "credit_code",
        CreditCode::parse(&n.credit_code).map_err(|x| format!("统一社会信用代码{x}")),
    );
    let region = e.check("region", RegionCode::parse(&n.region));
    if let Some(r) = &region
        && tx.region(r)?.is_none()
    {
        e.add("region", "区划不存在");
    }
    e.into_result()?;
    let region = region.expect("checked");
    actor.require_region(&region)?;
    let credit_code = credit.expect("checked");
    let id = tx.insert_department(&NewDepartment {
        name: name.clone(),
        short_name: short.clone(),
        credit_code: credit_code.as_str().to_string(),
        region: region.as_str().to_string(),
    })?;
    Ok(Department {
        id,
        name,
        short_name: short,
        credit_code,
        region,
        active: true,
    })
}

/// A hall as given to create one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewHall {
    /// Name.
    pub name: String,
    /// Region code.
    pub region: String,
    /// Address.
    pub address: String,
    /// Phone.
    #[serde(default)]
    pub phone: String,
    /// The department that runs it.
    pub department_id: i64,
    /// Its windows.
    #[serde(default)]
    pub windows: Vec<NewWindow>,
}

/// A hall with its windows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HallWithWindows {
    /// The hall.
    pub hall: Hall,
    /// Its windows.
    pub windows: Vec<Window>,
}

fn check_window(e: &mut FieldErrors, prefix: &str, w: &NewWindow) {
    text(e, &format!("{prefix}name"), &w.name, "窗口名称", 50);
    let themed = w.kind == crate::org::WindowKind::Themed;
    let has_theme = w.theme.as_deref().is_some_and(|t| !t.trim().is_empty());
    if themed != has_theme {
        e.add(format!("{prefix}theme"), "主题窗口须填写主题，其他窗口不填");
    }
}

/// Add a hall and its windows.
pub fn create_hall(tx: &mut dyn Tx, actor: &Actor, n: &NewHall) -> Result<HallWithWindows> {
    admin(actor)?;
    let mut e = FieldErrors::new();
    let name = text(&mut e, "name", &n.name, "大厅名称", 100);
    let address = text(&mut e, "address", &n.address, "地址", 200);
    let phone = if n.phone.trim().is_empty() {
        String::new()
    } else {
        e.check("phone", Phone::parse(&n.phone))
            .map(|p| p.as_str().to_string())
            .unwrap_or_default()
    };
    let region = e.check("region", RegionCode::parse(&n.region));
    if let Some(r) = &region
        && tx.region(r)?.is_none()
    {
        e.add("region", "区划不存在");
    }
    match tx.department(n.department_id)? {
        Some(d) if region.as_ref().is_some_and(|r| d.region.contains(r)) => {}
        Some(_) => e.add("department_id", "主管部门须为该区划或上级区划的部门"),
        None => e.add("department_id", "部门不存在"),
    }
    for (i, w) in n.windows.iter().enumerate() {
        check_window(&mut e, &format!("windows[{i}]."), w);
    }
    e.into_result()?;
    let region = region.expect("checked");
    actor.require_region(&region)?;
    let mut hall = Hall {
        id: 0,
        name,
        region,
        address,
        phone,
        department_id: n.department_id,
    };
    hall.id = tx.insert_hall(&hall)?;
    let mut windows = Vec::new();
    for w in &n.windows {
        let id = tx.insert_window(hall.id, w)?;
        windows.push(Window {
            id,
            hall_id: hall.id,
            name: w.name.trim().into(),
            kind: w.kind,
            theme: w.theme.clone(),
        });
    }
    Ok(HallWithWindows { hall, windows })
}

/// Add a window to a hall.
pub fn add_window(tx: &mut dyn Tx, actor: &Actor, hall_id: i64, w: &NewWindow) -> Result<Window> {
    admin(actor)?;
    let hall = tx
        .hall(hall_id)?
        .ok_or(Error::NotFound { entity: "大厅" })?;
    actor.require_region(&hall.region)?;
    let mut e = FieldErrors::new();
    check_window(&mut e, "", w);
    e.into_result()?;
    let id = tx.insert_window(hall_id, w)?;
    Ok(Window {
        id,
        hall_id,
        name: w.name.trim().into(),
        kind: w.kind,
        theme: w.theme.clone(),
    })
}

/// A staff account as given to create one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewStaff {
    /// Login name.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Role (any staff role).
    pub role: Role,
    /// Department.
    pub department_id: i64,
    /// Region scope (defaults to the department's region).
    #[serde(default)]
    pub region: Option<String>,
    /// Window (clerks).
    #[serde(default)]
    pub window_id: Option<i64>,
    /// Departments that authorize this acceptance clerk to decide their 即办件.
    #[serde(default)]
    pub immediate_departments: Vec<i64>,
    /// Initial password.
    pub password: String,
}

/// What places a staff account: role, department, region, window, authorizations.
struct Placement<'a> {
    role: Role,
    department_id: i64,
    region: Option<&'a str>,
    window_id: Option<i64>,
    immediate: &'a [i64],
}

/// Check a staff account's placement; returns the region scope.
fn check_staff(
    tx: &mut dyn Tx,
    actor: &Actor,
    e: &mut FieldErrors,
    p: &Placement,
) -> Result<Option<RegionCode>> {
    let Placement {
        role,
        department_id,
        region,
        window_id,
        immediate,
    } = *p;
    if !role.is_staff() {
        e.add("role", "只能创建工作人员角色");
    }
    let dept = tx.department(department_id)?;
    let Some(dept) = dept else {
        e.add("department_id", "部门不存在");
        return Ok(None);
    };
    // An administrator staffs only departments of its own region: a county administrator
    // may not create an approver of a city department.
    if !actor.region_contains(&dept.region) {
        return Err(Error::forbidden("该部门超出本账号的区划范围"));
    }
    let region = match region {
        Some(r) => match RegionCode::parse(r) {
            Ok(r) if dept.region.contains(&r) => Some(r),
            Ok(_) => {
                e.add("region", "区划范围须在所属部门的区划之内");
                None
            }
            Err(x) => {
                e.add("region", x.to_string());
                None
            }
        },
        None => Some(dept.region.clone()),
    };
    if let Some(w) = window_id {
        match tx.window(w)? {
            None => e.add("window_id", "窗口不存在"),
            Some(win) => {
                let hall = tx.hall(win.hall_id)?;
                if !hall.is_some_and(|h| {
                    region
                        .as_ref()
                        .is_some_and(|r| r.contains(&h.region) || h.region.contains(r))
                }) {
                    e.add("window_id", "窗口不在该账号的区划内");
                }
            }
        }
    }
    if !immediate.is_empty() && role != Role::AcceptanceClerk {
        e.add(
            "immediate_departments",
            "只有综合受理窗口人员可获即办件授权",
        );
    }
    for (i, d) in immediate.iter().enumerate() {
        match tx.department(*d)? {
            None => e.add(format!("immediate_departments[{i}]"), "部门不存在"),
            Some(x) if !actor.region_contains(&x.region) => e.add(
                format!("immediate_departments[{i}]"),
                "该部门超出本账号的区划范围",
            ),
            Some(_) => {}
        }
    }
    Ok(region)
}

/// Add a staff account. `password_hash` is the Argon2id PHC string of `n.password`,
/// computed by the caller outside the transaction.
pub fn create_staff(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    n: &NewStaff,
    password_hash: &str,
) -> Result<Account> {
    admin(actor)?;
    let mut e = FieldErrors::new();
    if let Err(x) = check_username(n.username.trim()) {
        e.add("username", x);
    }
    let name = text(&mut e, "name", &n.name, "姓名", 50);
    if let Err(x) = check_password(&n.password) {
        e.add("password", x);
    }
    let placement = Placement {
        role: n.role,
        department_id: n.department_id,
        region: n.region.as_deref(),
        window_id: n.window_id,
        immediate: &n.immediate_departments,
    };
    let region = check_staff(tx, actor, &mut e, &placement)?;
    e.into_result()?;
    let region = region.expect("checked");
    actor.require_region(&region)?;
    let mut a = Account {
        id: 0,
        username: n.username.trim().to_string(),
        name,
        role: n.role,
        department_id: Some(n.department_id),
        region: Some(region),
        applicant_id: None,
        window_id: n.window_id,
        immediate_departments: n.immediate_departments.clone(),
        password_hash: password_hash.to_string(),
        active: true,
        created_at: env.now,
    };
    a.id = tx.insert_account(&a)?;
    Ok(a)
}

/// Changes to an account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccountChange {
    /// New display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Enable or disable sign-in (disabling ends its sessions).
    #[serde(default)]
    pub active: Option<bool>,
    /// New password.
    #[serde(default)]
    pub password: Option<String>,
    /// New window.
    #[serde(default)]
    pub window_id: Option<i64>,
    /// New 即办件 authorizations.
    #[serde(default)]
    pub immediate_departments: Option<Vec<i64>>,
}

/// Change a staff account in the administrator's region. `password_hash` is the PHC
/// string of `c.password`, when one is given.
pub fn update_staff(
    tx: &mut dyn Tx,
    actor: &Actor,
    id: i64,
    c: &AccountChange,
    password_hash: Option<&str>,
) -> Result<Account> {
    admin(actor)?;
    let mut a = tx.account(id)?.ok_or(Error::NotFound { entity: "账号" })?;
    match &a.region {
        Some(r) if actor.region_contains(r) && a.role.is_staff() => {}
        _ => return Err(Error::NotFound { entity: "账号" }),
    }
    let mut e = FieldErrors::new();
    if let Some(n) = &c.name {
        a.name = text(&mut e, "name", n, "姓名", 50);
    }
    if let Some(p) = &c.password {
        match (check_password(p), password_hash) {
            (Ok(()), Some(h)) => a.password_hash = h.to_string(),
            (Ok(()), None) => e.add("password", "密码未能处理"),
            (Err(x), _) => e.add("password", x),
        }
    }
    if c.window_id.is_some() {
        a.window_id = c.window_id;
    }
    if let Some(d) = &c.immediate_departments {
        a.immediate_departments = d.clone();
    }
    let dept = a.department_id.unwrap_or(0);
    let region = a.region.as_ref().map(|r| r.as_str().to_string());
    let placement = Placement {
        role: a.role,
        department_id: dept,
        region: region.as_deref(),
        window_id: a.window_id,
        immediate: &a.immediate_departments,
    };
    check_staff(tx, actor, &mut e, &placement)?;
    e.into_result()?;
    if a.id == actor.account_id && c.active == Some(false) {
        return Err(Error::field("active", "不能停用自己的账号"));
    }
    if let Some(act) = c.active {
        a.active = act;
    }
    tx.update_account(&a)?;
    if !a.active || c.password.is_some() {
        tx.delete_sessions_of(a.id)?;
    }
    Ok(a)
}

/// Self-registration of an applicant (natural or legal person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Registration {
    /// Person or enterprise.
    pub kind: ApplicantKind,
    /// ID number (persons) or credit code (enterprises); also the login name.
    pub identifier: String,
    /// Name (enterprise name for legal persons).
    pub name: String,
    /// Phone.
    pub phone: String,
    /// 法定代表人 (enterprises).
    #[serde(default)]
    pub legal_representative: Option<String>,
    /// Password.
    pub password: String,
}

/// Register an applicant account. An applicant already known from a window visit is
/// linked when the name matches. `password_hash` is the PHC string of `r.password`.
pub fn register(
    tx: &mut dyn Tx,
    env: &Env,
    r: &Registration,
    password_hash: &str,
) -> Result<(Applicant, Account)> {
    let mut e = FieldErrors::new();
    let identifier = match r.kind {
        ApplicantKind::Person => e
            .check(
                "identifier",
                IdNumber::parse(&r.identifier).map_err(|x| format!("身份证号码{x}")),
            )
            .map(|v| v.as_str().to_string()),
        ApplicantKind::Enterprise => e
            .check(
                "identifier",
                CreditCode::parse(&r.identifier).map_err(|x| format!("统一社会信用代码{x}")),
            )
            .map(|v| v.as_str().to_string()),
    };
    if r.kind == ApplicantKind::Person
        && let Ok(id) = IdNumber::parse(&r.identifier)
        && id.birth_date() > env.today()
    {
        e.add("identifier", "身份证号码中的出生日期晚于今天");
    }
    let name = text(&mut e, "name", &r.name, "姓名（名称）", 100);
    let phone = e
        .check("phone", Phone::parse(&r.phone))
        .map(|p| p.as_str().to_string());
    let rep = r
        .legal_representative
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if r.kind == ApplicantKind::Enterprise && rep.is_none() {
        e.add("legal_representative", "须填写法定代表人");
    }
    if let Err(x) = check_password(&r.password) {
        e.add("password", x);
    }
    e.into_result()?;
    let (identifier, phone) = (identifier.expect("checked"), phone.expect("checked"));
    if tx.account_by_username(&identifier)?.is_some() {
        return Err(Error::Conflict("该证件号码已注册，请直接登录".into()));
    }
    let applicant = match tx.applicant_by_identifier(&identifier)? {
        Some(a) if a.name != name || a.kind != r.kind => {
            return Err(Error::field(
                "name",
                "与该证件号码已登记的姓名（名称）不一致",
            ));
        }
        // Known from a window visit: whoever registers must show the phone on record
        // (knowing an ID number and a name is not enough to take over someone's cases).
        Some(a) if a.phone != phone => {
            return Err(Error::field(
                "phone",
                "该证件号码已在窗口办理过业务，请使用当时登记的手机号注册，或到窗口核验身份后更改",
            ));
        }
        Some(a) => a,
        None => {
            let mut a = Applicant {
                id: 0,
                kind: r.kind,
                name: name.clone(),
                identifier: identifier.clone(),
                phone,
                legal_representative: rep,
                rongque_bar: None,
                created_at: env.now,
            };
            a.id = tx.insert_applicant(&a)?;
            a
        }
    };
    let mut account = Account {
        id: 0,
        username: identifier,
        name,
        role: Role::Applicant,
        department_id: None,
        region: None,
        applicant_id: Some(applicant.id),
        window_id: None,
        immediate_departments: vec![],
        password_hash: password_hash.to_string(),
        active: true,
        created_at: env.now,
    };
    account.id = tx.insert_account(&account)?;
    Ok((applicant, account))
}

/// Lift an applicant's 容缺 bar (系统管理员).
pub fn lift_rongque_bar(tx: &mut dyn Tx, actor: &Actor, applicant_id: i64) -> Result<Applicant> {
    admin(actor)?;
    let mut a = tx.applicant(applicant_id)?.ok_or(Error::NotFound {
        entity: "申请人"
    })?;
    if a.rongque_bar.is_none() {
        return Err(Error::InvalidTransition {
            state: "正常".into(),
            action: "解除容缺限制".into(),
            reason: "该申请人未被限制容缺受理".into(),
        });
    }
    a.rongque_bar = None;
    tx.set_rongque_bar(a.id, None)?;
    Ok(a)
}

/// Read an applicant by id: the applicant itself, or a system administrator. (Staff
/// who hold the applicant's document look it up by number: [`find_applicant`].)
pub fn get_applicant(tx: &mut dyn Tx, actor: &Actor, id: i64) -> Result<Applicant> {
    let ok = match actor.role {
        Role::Applicant => actor.applicant_id == Some(id),
        Role::SysAdmin => true,
        _ => false,
    };
    if !ok {
        return Err(Error::NotFound {
            entity: "申请人"
        });
    }
    tx.applicant(id)?.ok_or(Error::NotFound {
        entity: "申请人"
    })
}

/// Find an applicant by ID number or credit code (window clerks, to verify).
pub fn find_applicant(tx: &mut dyn Tx, actor: &Actor, identifier: &str) -> Result<Applicant> {
    actor.require(&[
        Role::AcceptanceClerk,
        Role::SysAdmin,
        Role::Supervisor,
        Role::Agent,
    ])?;
    let id = identifier.trim().to_ascii_uppercase();
    let mut a = tx.applicant_by_identifier(&id)?.ok_or(Error::NotFound {
        entity: "申请人"
    })?;
    // An agent confirms who the resident is; the phone on record stays private.
    if actor.role == Role::Agent {
        a.phone = crate::identity::Phone::parse(&a.phone)
            .map(|p| p.mask())
            .unwrap_or_default();
    }
    Ok(a)
}
