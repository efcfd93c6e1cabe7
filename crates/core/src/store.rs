//! The store contract: what the use cases need from persistence, shaped by aggregate
//! (a case with its events, an item with its versions), not by table.
//!
//! One [`Tx`] is one database transaction: everything a use case does through it
//! commits together or not at all. The `tongban-store` crate implements it for SQLite
//! and PostgreSQL.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::CalendarYear;
use crate::case::ApplicantKind;
use crate::case::{Case, CaseState, Channel, ClockKind, Event};
use crate::catalog::{BasicItem, Item, ItemStatus, ItemVersion, ProcessingType};
use crate::error::Result;
use crate::org::{
    Account, Applicant, Department, Hall, NewDepartment, Session, Window, WindowKind,
};
use crate::region::{Region, RegionCode};

/// Which cases a list may contain, derived from the actor (never from the request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseScope {
    /// Everything (the system).
    All,
    /// One department's cases.
    Department(i64),
    /// Cases whose item region starts with this prefix.
    RegionPrefix(String),
    /// One applicant's cases, or those an agent account filed.
    Owner {
        /// The applicant.
        applicant_id: Option<i64>,
        /// The agent account.
        agent_account: Option<i64>,
    },
}

/// Which open cases a calendar change may have made wrong: those with a provisional
/// deadline always, and those due on or after `due_from`, and those changed since
/// `updated_since` (by a server that held the previous calendar).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recompute {
    /// Cases due on or after this day.
    pub due_from: Option<NaiveDate>,
    /// Cases changed at or after this instant.
    pub updated_since: Option<DateTime<Utc>>,
}

/// How a case list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseOrder {
    /// Earliest deadline first, cases without a running deadline last (the inbox).
    #[default]
    Due,
    /// Newest first.
    Newest,
}

/// A case list query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFilter {
    /// Scope (from the actor).
    pub scope: CaseScope,
    /// Only these states (empty: all).
    pub states: Vec<CaseState>,
    /// Only this item.
    pub item_id: Option<i64>,
    /// Only this department (within the scope).
    pub department_id: Option<i64>,
    /// Only cases due on or before this day.
    pub due_before: Option<NaiveDate>,
    /// Only cases due on or after this day.
    pub due_after: Option<NaiveDate>,
    /// Only cases with an open 容缺 commitment due on or before this day.
    pub rongque_due_before: Option<NaiveDate>,
    /// Only this case number.
    pub number: Option<String>,
    /// Only cases created in `[from, to)` (instants).
    pub created: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Order.
    pub order: CaseOrder,
    /// Keyset cursor: the sort key and id of the last row of the previous page.
    pub after: Option<(String, i64)>,
    /// Page size.
    pub limit: u32,
}

/// A case in a list (personal data masked by the caller).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    /// Id.
    pub id: i64,
    /// 办件编号.
    pub number: String,
    /// Item.
    pub item_id: i64,
    /// Item name.
    pub item_name: String,
    /// 即办件 / 承诺件.
    pub processing_type: ProcessingType,
    /// Department.
    pub department_id: i64,
    /// Region.
    pub region: String,
    /// Applicant name (unmasked; mask before showing in lists).
    pub applicant_name: String,
    /// Applicant kind.
    pub applicant_kind: ApplicantKind,
    /// Channel.
    pub channel: Channel,
    /// State.
    pub state: CaseState,
    /// The deadline waited on.
    pub due: Option<NaiveDate>,
    /// Which clock.
    pub due_clock: Option<ClockKind>,
    /// The due clock's deadline is provisional.
    pub due_provisional: bool,
    /// Earliest open 容缺 due date.
    pub rongque_due: Option<NaiveDate>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Version.
    pub version: i64,
    /// The sort key the cursor uses.
    pub sort_key: String,
}

/// An item list query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemFilter {
    /// Only items whose region starts with this prefix.
    pub region_prefix: Option<String>,
    /// Only this department.
    pub department_id: Option<i64>,
    /// Only these statuses (empty: all).
    pub statuses: Vec<ItemStatus>,
    /// Only items with a published version.
    pub published_only: bool,
    /// Name contains.
    pub name_contains: Option<String>,
    /// After this id (keyset).
    pub after_id: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// A window with its hall, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewWindow {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: WindowKind,
    /// Theme (themed windows).
    #[serde(default)]
    pub theme: Option<String>,
}

/// One transaction against the store: every part of the contract.
pub trait Tx:
    OrgStore
    + ApplicantStore
    + AuthStore
    + CatalogStore
    + CalendarStore
    + CaseStore
    + JobStore
    + StatsStore
    + BundleStore
    + SearchStore
    + RatingStore
    + SupervisionStore
    + HotlineStore
{
}

impl<T> Tx for T where
    T: OrgStore
        + ApplicantStore
        + AuthStore
        + CatalogStore
        + CalendarStore
        + CaseStore
        + JobStore
        + StatsStore
        + BundleStore
        + SearchStore
        + RatingStore
        + SupervisionStore
        + HotlineStore
        + ?Sized
{
}

/// Regions, departments, halls, windows, applicants.
pub trait OrgStore {
    /// A region by code.
    fn region(&mut self, code: &RegionCode) -> Result<Option<Region>>;
    /// Add a region.
    fn insert_region(&mut self, r: &Region) -> Result<()>;
    /// Regions whose code starts with `prefix` (all when `None`), by code.
    fn regions(&mut self, prefix: Option<&str>) -> Result<Vec<Region>>;

    /// A department.
    fn department(&mut self, id: i64) -> Result<Option<Department>>;
    /// Add a department; `Conflict` when the credit code is taken.
    fn insert_department(&mut self, d: &NewDepartment) -> Result<i64>;
    /// Change a department.
    fn update_department(&mut self, d: &Department) -> Result<()>;
    /// Departments whose region starts with `prefix`.
    fn departments(&mut self, prefix: Option<&str>) -> Result<Vec<Department>>;
    /// A hall.
    fn hall(&mut self, id: i64) -> Result<Option<Hall>>;
    /// Add a hall.
    fn insert_hall(&mut self, h: &Hall) -> Result<i64>;
    /// Halls whose region starts with `prefix`.
    fn halls(&mut self, prefix: Option<&str>) -> Result<Vec<Hall>>;
    /// A window.
    fn window(&mut self, id: i64) -> Result<Option<Window>>;
    /// Add a window to a hall.
    fn insert_window(&mut self, hall_id: i64, w: &NewWindow) -> Result<i64>;
    /// A hall's windows.
    fn windows(&mut self, hall_id: i64) -> Result<Vec<Window>>;
}

/// Accounts, sessions and sign-in attempts.
pub trait AuthStore {
    /// An account.
    fn account(&mut self, id: i64) -> Result<Option<Account>>;
    /// An account by login name.
    fn account_by_username(&mut self, username: &str) -> Result<Option<Account>>;
    /// Add an account; `Conflict` when the username is taken.
    fn insert_account(&mut self, a: &Account) -> Result<i64>;
    /// Change an account (name, role, scope, password, active, authorizations).
    fn update_account(&mut self, a: &Account) -> Result<()>;
    /// Accounts whose region starts with `prefix` (staff), by id.
    fn accounts(&mut self, prefix: Option<&str>) -> Result<Vec<Account>>;
    /// Record a session.
    fn insert_session(&mut self, s: &Session) -> Result<()>;
    /// A live session and its account.
    fn session(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(Session, Account)>>;
    /// End a session.
    fn delete_session(&mut self, token_hash: &str) -> Result<()>;
    /// End every session of an account.
    fn delete_sessions_of(&mut self, account_id: i64) -> Result<()>;
    /// Record a login attempt under a key (username or address).
    fn record_login_attempt(&mut self, key: &str, ok: bool, at: DateTime<Utc>) -> Result<()>;
    /// Failed attempts under `key` since `since`, and the oldest of them.
    fn login_failures(
        &mut self,
        key: &str,
        since: DateTime<Utc>,
    ) -> Result<(u32, Option<DateTime<Utc>>)>;
}

/// Applicants.
pub trait ApplicantStore {
    /// An applicant.
    fn applicant(&mut self, id: i64) -> Result<Option<Applicant>>;
    /// An applicant by ID number or credit code.
    fn applicant_by_identifier(&mut self, identifier: &str) -> Result<Option<Applicant>>;
    /// Add an applicant; `Conflict` when the identifier is taken.
    fn insert_applicant(&mut self, a: &Applicant) -> Result<i64>;
    /// Add an applicant unless one with the identifier exists (perhaps added by a
    /// concurrent transaction a moment ago); returns the applicant now on record.
    fn insert_applicant_if_absent(&mut self, a: &Applicant) -> Result<Applicant>;
    /// Change an applicant's contact details (phone, legal representative) only.
    fn update_applicant_contact(&mut self, a: &Applicant) -> Result<()>;
    /// Bar an applicant from 容缺 (only if not barred already), or lift the bar (`None`).
    fn set_rongque_bar(
        &mut self,
        applicant_id: i64,
        bar: Option<&crate::org::RongqueBar>,
    ) -> Result<()>;
}

/// Basic items, items and versions.
pub trait CatalogStore {
    /// A basic item.
    fn basic_item(&mut self, code: &str) -> Result<Option<BasicItem>>;
    /// Add a basic item; `Conflict` when the code is taken.
    fn insert_basic_item(&mut self, b: &BasicItem) -> Result<()>;
    /// All basic items, by code.
    fn basic_items(&mut self) -> Result<Vec<BasicItem>>;
    /// An item.
    fn item(&mut self, id: i64) -> Result<Option<Item>>;
    /// An item by its implementation code (实施编码).
    fn item_by_code(&mut self, code: &str) -> Result<Option<Item>>;
    /// Add an item; `Conflict` when the implementation code is taken.
    fn insert_item(&mut self, item: &Item) -> Result<i64>;
    /// Change an item's status, name and version pointers.
    fn update_item(&mut self, item: &Item) -> Result<()>;
    /// Items.
    fn items(&mut self, f: &ItemFilter) -> Result<Vec<Item>>;
    /// Number of items implementing a basic item in a department.
    fn count_items_of(&mut self, basic_code: &str, department_id: i64) -> Result<u32>;
    /// A version of an item.
    fn item_version(&mut self, item_id: i64, version: u32) -> Result<Option<ItemVersion>>;
    /// Insert a version, or replace a draft (published versions are never replaced).
    fn save_item_version(&mut self, v: &ItemVersion) -> Result<()>;
    /// The content of a published (or superseded) version — never a draft. It never
    /// changes, so implementations may keep it once read.
    fn published_spec(
        &mut self,
        item_id: i64,
        version: u32,
    ) -> Result<Option<std::sync::Arc<crate::catalog::ItemSpec>>>;
    /// All versions of an item, oldest first.
    fn item_versions(&mut self, item_id: i64) -> Result<Vec<ItemVersion>>;
}

/// The calendar's years.
pub trait CalendarStore {
    /// Every loaded year.
    fn calendar_years(&mut self) -> Result<Vec<CalendarYear>>;
    /// Insert or replace a year.
    fn save_calendar_year(&mut self, y: &CalendarYear, by: i64, at: DateTime<Utc>) -> Result<()>;
    /// A counter that goes up whenever a year is saved (each server compares it with
    /// the calendar it holds, to reload when another server changed it).
    fn calendar_revision(&mut self) -> Result<i64>;
}

/// Cases and their events.
pub trait CaseStore {
    /// The next serial for case numbers in `region6` on `date` (1, 2, …).
    fn next_case_serial(&mut self, region6: &str, date: NaiveDate) -> Result<u32>;
    /// Add a case; returns it with its id, shared (the store may keep it, decoded, for
    /// the next read, without copying it).
    fn insert_shared_case(&mut self, case: Case) -> Result<Arc<Case>>;
    /// Add a case; returns its id.
    fn insert_case(&mut self, case: &Case) -> Result<i64> {
        Ok(self.insert_shared_case(case.clone())?.id)
    }
    /// A case, shared: a store that keeps recently saved cases decoded hands out its
    /// copy without cloning it.
    fn shared_case(&mut self, id: i64) -> Result<Option<Arc<Case>>>;
    /// A case the caller means to save with a version guard
    /// ([`CaseStore::save_shared_case`] at the version read here). A store deciding on
    /// a snapshot, whose guards are checked at the commit and whose failures are decided
    /// again on fresh data, may hand out the copy it keeps without asking the database
    /// whether it is still current.
    fn shared_case_to_save(&mut self, id: i64) -> Result<Option<Arc<Case>>> {
        self.shared_case(id)
    }
    /// A case.
    fn case(&mut self, id: i64) -> Result<Option<Case>> {
        Ok(self.shared_case(id)?.map(Arc::unwrap_or_clone))
    }
    /// A case by number.
    fn case_by_number(&mut self, number: &str) -> Result<Option<Case>>;
    /// Save a changed case if it is still at `expected_version`; `Conflict` otherwise.
    /// The store may keep `case` as it is for later reads.
    fn save_shared_case(&mut self, case: Arc<Case>, expected_version: i64) -> Result<()>;
    /// Save a changed case if it is still at `expected_version`; `Conflict` otherwise.
    fn update_case(&mut self, case: &Case, expected_version: i64) -> Result<()> {
        self.save_shared_case(Arc::new(case.clone()), expected_version)
    }
    /// Append an event to a case's log at `e.seq` — the case's version after the change
    /// the event records (each change bumps the version by one and records one event);
    /// returns the seq.
    fn append_event(&mut self, case_id: i64, e: &Event) -> Result<u32>;
    /// A case's log, in order.
    fn events(&mut self, case_id: i64) -> Result<Vec<Event>>;
    /// A page of cases.
    fn cases(&mut self, f: &CaseFilter) -> Result<Vec<CaseSummary>>;
    /// Ids of open cases whose deadlines a calendar change may move, by id, after
    /// `after_id`, up to `limit`.
    fn recompute_case_ids(
        &mut self,
        which: &Recompute,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<i64>>;
    /// Ids of open cases with an open 容缺 commitment due before `day`.
    fn rongque_overdue_case_ids(&mut self, day: NaiveDate, limit: u32) -> Result<Vec<i64>>;
}

/// Leases over periodic jobs, so that several servers on one database run each job
/// once per period: whoever takes a job's lease runs it; a server that dies holding one
/// loses it when it expires, and another takes over.
pub trait JobStore {
    /// Take `job`'s lease for `owner` until `until`, if the job is due (its next run is
    /// at or before `now`) and nobody holds a live lease. True when taken.
    fn take_lease(
        &mut self,
        job: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool>;
    /// Give the lease back after a run: the job is next due at `next_run`.
    fn release_lease(
        &mut self,
        job: &str,
        owner: &str,
        now: DateTime<Utc>,
        next_run: DateTime<Utc>,
        note: &str,
    ) -> Result<()>;
}

/// The statistics rollups.
pub trait StatsStore {
    /// Record changes to the rollups (appended; no row shared with other transactions).
    fn add_stats(&mut self, deltas: &[crate::stats::StatDelta]) -> Result<()>;
    /// Fold up to `limit` recorded changes into the rollup rows; returns how many.
    fn fold_stats(&mut self, limit: u32) -> Result<u64>;
    /// On-time completion per department and month, for months `from..=to`
    /// (`YYYY-MM`), within a region prefix (all when empty).
    fn on_time_by_department_month(
        &mut self,
        region_prefix: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<crate::stats::OnTimeRow>>;
    /// Every rollup row (folded and not yet folded, summed by key) of months
    /// `from..=to` for departments within a region prefix.
    fn case_stat_rows(
        &mut self,
        region_prefix: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<crate::kpi::CaseStatRow>>;
}

/// 一件事 bundles and the applicants' bundle cases.
pub trait BundleStore {
    /// Insert a bundle (id ignored); returns its id. A taken code is a conflict.
    fn insert_bundle(&mut self, b: &crate::bundle::Bundle) -> Result<i64>;
    /// Save a bundle whole.
    fn update_bundle(&mut self, b: &crate::bundle::Bundle) -> Result<()>;
    /// A bundle.
    fn bundle(&mut self, id: i64) -> Result<Option<crate::bundle::Bundle>>;
    /// Bundles whose region starts with `prefix` (all when `None`).
    fn bundles(&mut self, prefix: Option<&str>) -> Result<Vec<crate::bundle::Bundle>>;
    /// Insert a bundle case (id ignored) and link its children; returns its id.
    fn insert_bundle_case(&mut self, c: &crate::bundle::BundleCase) -> Result<i64>;
    /// A bundle case.
    fn bundle_case(&mut self, id: i64) -> Result<Option<crate::bundle::BundleCase>>;
    /// Save a bundle case whole (its children never change).
    fn update_bundle_case(&mut self, c: &crate::bundle::BundleCase) -> Result<()>;
    /// The bundle case a case is a child of.
    fn bundle_case_of(&mut self, case_id: i64) -> Result<Option<i64>>;
}

/// Revision counters: each goes up on a change that every server must notice.
pub mod revision {
    /// Every change to an item (its content, status or department name) stamps the
    /// item with the next value of this counter.
    pub const CATALOG: &str = "catalog";
    /// Goes up when an administrator asks every server to rebuild its search index.
    pub const SEARCH_REBUILD: &str = "search_rebuild";
    /// Goes up when the search synonyms change.
    pub const SYNONYMS: &str = "synonyms";
    /// Goes up when a knowledge-base article changes.
    pub const KB: &str = "kb";
}

/// What catalog search (事项搜索) needs to follow the catalog on every server.
pub trait SearchStore {
    /// A revision counter's value (0 before its first change); see [`revision`].
    fn revision(&mut self, name: &str) -> Result<i64>;
    /// Raise a revision counter by one; returns the new value.
    fn bump_revision(&mut self, name: &str) -> Result<i64>;
    /// Items changed after catalog revision `after` (their stamp is greater), as
    /// (item, stamp), by stamp, up to `limit`.
    fn items_changed_since(&mut self, after: i64, limit: u32) -> Result<Vec<(i64, i64)>>;
    /// The synonyms: a term → the words searched for as well.
    fn synonyms(&mut self) -> Result<std::collections::BTreeMap<String, Vec<String>>>;
    /// Replace every synonym.
    fn replace_synonyms(
        &mut self,
        s: &std::collections::BTreeMap<String, Vec<String>>,
        by: i64,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Cases received per item so far (for ranking), items with none left out.
    fn item_popularity(&mut self) -> Result<Vec<(i64, u64)>>;
}

/// Which ratings a list holds (the scope comes from the actor).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RatingFilter {
    /// One department's.
    pub department_id: Option<i64>,
    /// Cases whose region starts with this.
    pub region_prefix: Option<String>,
    /// 差评 only.
    pub bad_only: bool,
    /// Keyset: ratings before this (instant in ms, id), newest first.
    pub before: Option<(i64, i64)>,
    /// Page size.
    pub limit: u32,
}

/// Which rectification tasks a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// One department's.
    pub department_id: Option<i64>,
    /// Region prefix.
    pub region_prefix: Option<String>,
    /// Open ones only (not 申诉成立 or 已办结).
    pub open_only: bool,
    /// Due on or before.
    pub due_before: Option<NaiveDate>,
    /// Keyset by id.
    pub after_id: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// Which 督办 orders a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// One department's.
    pub department_id: Option<i64>,
    /// Region prefix.
    pub region_prefix: Option<String>,
    /// These states (empty: all).
    pub states: Vec<crate::supervision::OrderState>,
    /// Keyset by id (newest first: ids below this).
    pub before_id: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// One rollup row of ratings (or the change one rating makes to it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingStatRow {
    /// Department.
    pub department_id: i64,
    /// Item.
    pub item_id: i64,
    /// Window (0: none).
    pub window_id: i64,
    /// Staff member (0: none).
    pub staff_id: i64,
    /// Region of the case.
    pub region: String,
    /// `YYYY-MM` of the rating.
    pub month: String,
    /// Ratings per level, 非常不满意 (`n[0]`) … 非常满意 (`n[4]`).
    pub n: [i64; 5],
    /// Set aside after an upheld appeal (also still counted in `n`).
    pub invalid: i64,
    /// Rectifications reported on time.
    pub rectified_on_time: i64,
    /// Rectifications reported late.
    pub rectified_late: i64,
    /// 差评 called back (reached).
    pub called_back: i64,
}

/// Ratings, invitations to rate, rectification tasks.
pub trait RatingStore {
    /// Add a rating; `Conflict` when the case is rated already (一事一评).
    fn insert_rating(&mut self, r: &crate::rating::Rating) -> Result<i64>;
    /// A rating.
    fn rating(&mut self, id: i64) -> Result<Option<crate::rating::Rating>>;
    /// A case's rating.
    fn rating_of_case(&mut self, case_id: i64) -> Result<Option<crate::rating::Rating>>;
    /// Save a changed rating (a re-rating, set aside).
    fn update_rating(&mut self, r: &crate::rating::Rating) -> Result<()>;
    /// Ratings, newest first.
    fn ratings(&mut self, f: &RatingFilter) -> Result<Vec<crate::rating::Rating>>;
    /// Record an invitation to rate a case (a token's SHA-256).
    fn insert_rating_invitation(
        &mut self,
        token_hash: &str,
        case_id: i64,
        channel: crate::rating::RatingChannel,
        at: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()>;
    /// The case and channel of a live invitation.
    fn rating_invitation(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(i64, crate::rating::RatingChannel)>>;
    /// Drop a case's invitations (it has been rated).
    fn delete_rating_invitations(&mut self, case_id: i64) -> Result<()>;
    /// Add a task; returns its id.
    fn insert_task(&mut self, t: &crate::rating::rectification::Task) -> Result<i64>;
    /// A task.
    fn task(&mut self, id: i64) -> Result<Option<crate::rating::rectification::Task>>;
    /// The task a rating opened.
    fn task_of_rating(
        &mut self,
        rating_id: i64,
    ) -> Result<Option<crate::rating::rectification::Task>>;
    /// Save a task if still at `expected_version`; `Conflict` otherwise.
    fn update_task(
        &mut self,
        t: &crate::rating::rectification::Task,
        expected_version: i64,
    ) -> Result<()>;
    /// Tasks by id.
    fn tasks(&mut self, f: &TaskFilter) -> Result<Vec<crate::rating::rectification::Task>>;
    /// Add a change to its rollup row.
    fn add_rating_stats(&mut self, d: &RatingStatRow) -> Result<()>;
    /// Rollup rows of months `from..=to` in a region prefix.
    fn rating_stats(
        &mut self,
        region_prefix: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<RatingStatRow>>;
}

/// Warning marks, 督办 orders, settings.
pub trait SupervisionStore {
    /// Record a mark; true when it is new or was raised from yellow to red.
    fn mark_warning(
        &mut self,
        m: &crate::supervision::WarningMark,
        at: DateTime<Utc>,
    ) -> Result<bool>;
    /// The marks of one case or task: (clock, due date, level), by clock.
    fn marks_of(
        &mut self,
        subject: crate::supervision::Subject,
        subject_id: i64,
    ) -> Result<Vec<(String, NaiveDate, crate::case::Warning)>>;
    /// Open an order unless one exists for the same clock and deadline; its id if new.
    fn insert_supervision_order(
        &mut self,
        o: &crate::supervision::SupervisionOrder,
    ) -> Result<Option<i64>>;
    /// An order.
    fn supervision_order(
        &mut self,
        id: i64,
    ) -> Result<Option<crate::supervision::SupervisionOrder>>;
    /// Save an order.
    fn update_supervision_order(&mut self, o: &crate::supervision::SupervisionOrder) -> Result<()>;
    /// Orders, newest first.
    fn supervision_orders(
        &mut self,
        f: &OrderFilter,
    ) -> Result<Vec<crate::supervision::SupervisionOrder>>;
    /// Marks per department and month: (department, month, yellow, red), in a region
    /// prefix, months `from..=to`.
    fn warning_counts(
        &mut self,
        region_prefix: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(i64, String, i64, i64)>>;
    /// Red marks per receiving window (window, count), months `from..=to`.
    fn red_marks_by_window(
        &mut self,
        region_prefix: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(i64, i64)>>;
    /// Record points taken off a window in a quarter; returns its id.
    fn add_deduction(
        &mut self,
        window_id: i64,
        quarter: &str,
        points: u32,
        reason: &str,
        by: i64,
        at: DateTime<Utc>,
    ) -> Result<i64>;
    /// A quarter's deductions: (window, points, reason).
    fn deductions(&mut self, quarter: &str) -> Result<Vec<(i64, u32, String)>>;
    /// A setting's JSON.
    fn setting(&mut self, name: &str) -> Result<Option<String>>;
    /// Save a setting.
    fn save_setting(&mut self, name: &str, json: &str, by: i64, at: DateTime<Utc>) -> Result<()>;
}

/// Which work orders a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderListFilter {
    /// Orders whose region starts with this (the centre, supervisors).
    pub region_prefix: Option<String>,
    /// Orders sent to this unit, as lead or assisting.
    pub unit: Option<i64>,
    /// These states (empty: all).
    pub states: Vec<crate::hotline::OrderState>,
    /// Open ones only.
    pub open_only: bool,
    /// Newest first: ids below this.
    pub before_id: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// The 12345 hotline: work orders, the dispatch catalogue, the knowledge base, Open311 keys.
pub trait HotlineStore {
    /// The next serial for work-order numbers on `day` (1, 2, …).
    fn next_order_serial(&mut self, day: NaiveDate) -> Result<u32>;
    /// Add an order; returns its id.
    fn insert_order(&mut self, o: &crate::hotline::WorkOrder) -> Result<i64>;
    /// An order.
    fn order(&mut self, id: i64) -> Result<Option<crate::hotline::WorkOrder>>;
    /// An order by number.
    fn order_by_number(&mut self, number: &str) -> Result<Option<crate::hotline::WorkOrder>>;
    /// Save an order if still at `expected_version`; `Conflict` otherwise.
    fn update_order(&mut self, o: &crate::hotline::WorkOrder, expected_version: i64) -> Result<()>;
    /// Orders, newest first.
    fn orders(&mut self, f: &OrderListFilter) -> Result<Vec<crate::hotline::WorkOrder>>;
    /// Orders registered in months `from..=to` within a region prefix (analysis).
    fn orders_in_months(
        &mut self,
        region_prefix: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<crate::hotline::WorkOrder>>;
    /// Orders registered since an instant within a region prefix (hot topics), newest first, at most `limit`.
    fn orders_since(
        &mut self,
        region_prefix: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<crate::hotline::WorkOrder>>;
    /// Add a category; `Conflict` when the code is taken.
    fn insert_category(&mut self, c: &crate::hotline::kb::Category) -> Result<i64>;
    /// Save a category.
    fn update_category(&mut self, c: &crate::hotline::kb::Category) -> Result<()>;
    /// A category.
    fn category(&mut self, id: i64) -> Result<Option<crate::hotline::kb::Category>>;
    /// A category by code.
    fn category_by_code(&mut self, code: &str) -> Result<Option<crate::hotline::kb::Category>>;
    /// Every category, by id.
    fn categories(&mut self) -> Result<Vec<crate::hotline::kb::Category>>;
    /// Add an article.
    fn insert_article(&mut self, a: &crate::hotline::kb::Article) -> Result<i64>;
    /// Save an article.
    fn update_article(&mut self, a: &crate::hotline::kb::Article) -> Result<()>;
    /// An article.
    fn article(&mut self, id: i64) -> Result<Option<crate::hotline::kb::Article>>;
    /// Articles whose region starts with a prefix (all when `None`), by id.
    fn articles(&mut self, prefix: Option<&str>) -> Result<Vec<crate::hotline::kb::Article>>;
    /// Record an Open311 key (its hash).
    fn insert_open311_key(
        &mut self,
        key_hash: &str,
        name: &str,
        by: i64,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// The name of the client a key belongs to.
    fn open311_key(&mut self, key_hash: &str) -> Result<Option<String>>;
}
