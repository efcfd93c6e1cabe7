//! Who acts: roles (DOMAIN §1) and the signed-in [`Actor`] with its scope.

use serde::{Deserialize, Serialize};

use crate::region::RegionCode;

/// The roles of DOMAIN §1.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 申请人 (自然人或法人) — acts only on its own cases.
    Applicant,
    /// 代办员 / 帮办 — applies on a resident's behalf with a written authorization.
    Agent,
    /// 综合受理窗口 — receives any item's application in its region.
    AcceptanceClerk,
    /// 部门审查员 — accepts, returns, reviews for its department.
    DeptReviewer,
    /// 部门审批人 — all a reviewer does, plus decide and extend.
    DeptApprover,
    /// 综合出件窗口 — checks results, delivers, archives in its region.
    IssuanceClerk,
    /// 12345 话务员 / 派单员.
    HotlineOperator,
    /// 承办单位 — handles hotline work orders.
    HandlingUnit,
    /// 效能监察 — watches deadlines and ratings in its region; reads, does not act on cases.
    Supervisor,
    /// 事项管理员 — maintains the catalog of its region.
    CatalogAdmin,
    /// 系统管理员 — regions, departments, halls, windows, accounts, calendar.
    SysAdmin,
    /// The platform itself (background jobs); never an account.
    System,
}

impl Role {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Role::Applicant => "申请人",
            Role::Agent => "代办员",
            Role::AcceptanceClerk => "综合受理窗口",
            Role::DeptReviewer => "部门审查员",
            Role::DeptApprover => "部门审批人",
            Role::IssuanceClerk => "综合出件窗口",
            Role::HotlineOperator => "12345话务员",
            Role::HandlingUnit => "承办单位",
            Role::Supervisor => "效能监察",
            Role::CatalogAdmin => "事项管理员",
            Role::SysAdmin => "系统管理员",
            Role::System => "系统",
        }
    }

    /// Every role an account may hold.
    pub const ASSIGNABLE: [Role; 11] = [
        Role::Applicant,
        Role::Agent,
        Role::AcceptanceClerk,
        Role::DeptReviewer,
        Role::DeptApprover,
        Role::IssuanceClerk,
        Role::HotlineOperator,
        Role::HandlingUnit,
        Role::Supervisor,
        Role::CatalogAdmin,
        Role::SysAdmin,
    ];

    /// Staff roles belong to a department in a region.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Applicant | Role::System)
    }

    /// Department roles act only on their own department's cases.
    pub fn is_department(self) -> bool {
        matches!(self, Role::DeptReviewer | Role::DeptApprover)
    }

    /// Parse the snake_case name.
    pub fn parse(s: &str) -> Option<Role> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Applicant => "applicant",
            Role::Agent => "agent",
            Role::AcceptanceClerk => "acceptance_clerk",
            Role::DeptReviewer => "dept_reviewer",
            Role::DeptApprover => "dept_approver",
            Role::IssuanceClerk => "issuance_clerk",
            Role::HotlineOperator => "hotline_operator",
            Role::HandlingUnit => "handling_unit",
            Role::Supervisor => "supervisor",
            Role::CatalogAdmin => "catalog_admin",
            Role::SysAdmin => "sys_admin",
            Role::System => "system",
        }
    }
}

/// The signed-in user a use case acts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Actor {
    /// Account id (0 for the system).
    pub account_id: i64,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Staff: the department the account belongs to.
    pub department_id: Option<i64>,
    /// Staff: the region the account is scoped to.
    pub region: Option<RegionCode>,
    /// Applicants: their applicant record.
    pub applicant_id: Option<i64>,
    /// Acceptance clerks: departments that authorized this clerk to decide their 即办件.
    #[serde(default)]
    pub immediate_departments: Vec<i64>,
    /// Window clerks: the window they sit at.
    pub window_id: Option<i64>,
}

impl Actor {
    /// The platform's own actor for background jobs.
    pub fn system() -> Actor {
        Actor {
            account_id: 0,
            name: "系统".into(),
            role: Role::System,
            department_id: None,
            region: None,
            applicant_id: None,
            immediate_departments: vec![],
            window_id: None,
        }
    }

    /// True when the actor's region scope contains `region`.
    pub fn region_contains(&self, region: &RegionCode) -> bool {
        self.region.as_ref().is_some_and(|r| r.contains(region))
    }

    /// True when the actor is in `role` and works for `department`.
    pub fn in_department(&self, department_id: i64) -> bool {
        self.department_id == Some(department_id)
    }

    /// Fail unless the actor holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> crate::Result<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(crate::Error::forbidden(format!(
                "“{}”角色不能执行此操作",
                self.role.label()
            )))
        }
    }

    /// Fail unless the actor's region contains `region`.
    pub fn require_region(&self, region: &RegionCode) -> crate::Result<()> {
        if self.region_contains(region) {
            Ok(())
        } else {
            Err(crate::Error::forbidden("超出本账号的区划范围"))
        }
    }
}
