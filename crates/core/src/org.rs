//! Organisation and people (DOMAIN §1–§2): departments (实施主体), halls and windows,
//! staff accounts, applicants.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role};
use crate::case::ApplicantKind;
use crate::identity::CreditCode;
use crate::region::RegionCode;

/// 部门 — a department (实施主体) with its unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Department {
    /// Id.
    pub id: i64,
    /// Full name, e.g. 茂名市茂南区市场监督管理局.
    pub name: String,
    /// Short name for lists, e.g. 区市场监管局.
    pub short_name: String,
    /// 统一社会信用代码.
    pub credit_code: CreditCode,
    /// The region it serves.
    pub region: RegionCode,
    /// Still in operation.
    pub active: bool,
}

/// The kinds of window (DOMAIN §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    /// 综合受理窗口.
    Acceptance,
    /// 综合出件窗口.
    Issuance,
    /// 主题窗口 (企业开办, 工程建设项目, 不动产登记 …).
    Themed,
    /// 专业窗口 (with approval).
    Professional,
}

impl WindowKind {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            WindowKind::Acceptance => "综合受理窗口",
            WindowKind::Issuance => "综合出件窗口",
            WindowKind::Themed => "主题窗口",
            WindowKind::Professional => "专业窗口",
        }
    }
}

/// 大厅 — a 政务服务中心, 便民服务中心 or 代办点.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Hall {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Region.
    pub region: RegionCode,
    /// Address.
    pub address: String,
    /// Phone.
    pub phone: String,
    /// The department that runs it (政务服务管理部门).
    pub department_id: i64,
}

/// 窗口.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Window {
    /// Id.
    pub id: i64,
    /// The hall.
    pub hall_id: i64,
    /// Name, e.g. 综合受理 3 号窗口.
    pub name: String,
    /// Kind.
    pub kind: WindowKind,
    /// Theme of a themed window.
    pub theme: Option<String>,
}

/// A login account (staff or applicant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Account {
    /// Id.
    pub id: i64,
    /// Login name (applicants: their ID number or credit code).
    pub username: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Staff: department.
    pub department_id: Option<i64>,
    /// Staff: region scope.
    pub region: Option<RegionCode>,
    /// Applicants: their applicant record.
    pub applicant_id: Option<i64>,
    /// Window clerks: their window.
    pub window_id: Option<i64>,
    /// Acceptance clerks: departments that authorized them to decide 即办件.
    pub immediate_departments: Vec<i64>,
    /// Argon2id PHC string; never serialized.
    #[serde(skip)]
    pub password_hash: String,
    /// Can sign in.
    pub active: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl Account {
    /// The actor this account acts as.
    pub fn actor(&self) -> Actor {
        Actor {
            account_id: self.id,
            name: self.name.clone(),
            role: self.role,
            department_id: self.department_id,
            region: self.region.clone(),
            applicant_id: self.applicant_id,
            immediate_departments: self.immediate_departments.clone(),
            window_id: self.window_id,
        }
    }
}

/// 失信 mark: barred from 容缺 until an administrator lifts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RongqueBar {
    /// Why.
    pub reason: String,
    /// Since.
    pub since: DateTime<Utc>,
}

/// 申请人 — a natural or legal person who applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Applicant {
    /// Id.
    pub id: i64,
    /// Person or enterprise.
    pub kind: ApplicantKind,
    /// Name.
    pub name: String,
    /// ID number (persons) or credit code (enterprises).
    pub identifier: String,
    /// Contact phone.
    pub phone: String,
    /// 法定代表人 (enterprises).
    pub legal_representative: Option<String>,
    /// Barred from 容缺.
    pub rongque_bar: Option<RongqueBar>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl Applicant {
    /// As recorded on a case.
    pub fn as_ref(&self) -> crate::case::ApplicantRef {
        crate::case::ApplicantRef {
            id: self.id,
            kind: self.kind,
            name: self.name.clone(),
            identifier: self.identifier.clone(),
            phone: self.phone.clone(),
        }
    }
}

/// A department as given to create one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewDepartment {
    /// Full name.
    pub name: String,
    /// Short name.
    #[serde(default)]
    pub short_name: String,
    /// 统一社会信用代码.
    pub credit_code: String,
    /// Region code.
    pub region: String,
}

/// A signed-in session (cookie for pages, bearer token for API clients).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the token (the token itself is never stored).
    pub token_hash: String,
    /// The account.
    pub account_id: i64,
    /// Cookie or bearer.
    pub kind: SessionKind,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: DateTime<Utc>,
    /// CSRF token for forms of a cookie session.
    pub csrf: String,
}

/// How a session is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A browser cookie.
    Cookie,
    /// An `Authorization: Bearer` token.
    Bearer,
}

impl SessionKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Cookie => "cookie",
            SessionKind::Bearer => "bearer",
        }
    }
}

/// Check a new password: 8–128 characters with letters and digits.
pub fn check_password(p: &str) -> Result<(), &'static str> {
    let n = p.chars().count();
    if !(8..=128).contains(&n) {
        return Err("密码长度须为 8–128 位");
    }
    if !p.chars().any(|c| c.is_ascii_alphabetic()) || !p.chars().any(|c| c.is_ascii_digit()) {
        return Err("密码须同时包含字母和数字");
    }
    Ok(())
}

/// Check an account's username: 3–40 letters, digits, `_`, `.`, `-`.
pub fn check_username(u: &str) -> Result<(), &'static str> {
    if (3..=40).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    {
        Ok(())
    } else {
        Err("用户名须为 3–40 位字母、数字、下划线、点或连字符")
    }
}
