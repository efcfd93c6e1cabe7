//! The statements of a case's lifecycle, as the store runs them: written once here, so
//! that the benchmark's raw ceiling on our own schema runs exactly these and nothing
//! else. `?` placeholders (numbered for PostgreSQL by
//! [`crate::postgres::number_placeholders`]).

/// The columns a new case is inserted with (after its id, when it has one already).
macro_rules! case_cols {
    () => {
        "number, item_id, item_name, processing_type, department_id, region, applicant_id, \
         applicant_name, applicant_kind, agent_account, channel, state, is_open, due_date, due_clock, \
         due_provisional, any_provisional, due_sort, rongque_due, created_at, updated_at, version, data"
    };
}

/// A new case with the id taken beforehand (on PostgreSQL, with the serial): 24
/// parameters, the id first.
pub const INSERT_CASE_WITH_ID: &str = concat!(
    "INSERT INTO cases (id, ",
    case_cols!(),
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
);

/// PostgreSQL: a new case's key row (migration 8): id, number, department, region,
/// applicant, agent account and time of receipt, which never change.
pub const INSERT_CASE_KEYS: &str = "INSERT INTO case_keys (id, number, department_id, region, applicant_id, \
     agent_account, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)";

/// A new case, its id given by the database: 23 parameters. On SQLite the id is then
/// read with [`LAST_INSERT_ID`]: a `RETURNING` clause makes SQLite build a temporary
/// table for the rows it returns (a b-tree and its pager, opened and closed for every
/// case; with the serial's, about 4 % of the writer thread's time).
pub const INSERT_CASE: &str = concat!(
    "INSERT INTO cases (",
    case_cols!(),
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
);

/// [`INSERT_CASE`] returning the new id (PostgreSQL, which has no `last_insert_rowid`).
pub const INSERT_CASE_RETURNING_ID: &str = concat!(
    "INSERT INTO cases (",
    case_cols!(),
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
);

/// SQLite: the id of the row the connection inserted last ([`INSERT_CASE`]'s).
pub const LAST_INSERT_ID: &str = "SELECT last_insert_rowid()";

/// A case saved whole, guarded by the version it replaces: the changing columns, the
/// data, then id and expected version (13 parameters).
pub const UPDATE_CASE: &str = "UPDATE cases SET state = ?, is_open = ?, due_date = ?, due_clock = ?, due_provisional = ?, \
     any_provisional = ?, due_sort = ?, rongque_due = ?, updated_at = ?, version = ?, data = ? \
     WHERE id = ? AND version = ?";

/// PostgreSQL: the saves ([`UPDATE_CASE`]) of several distinct cases in one statement,
/// `UPDATE_CASES_HEAD`, then one [`UPDATE_CASES_ROW`] per case separated by `, ` (its 13
/// parameters in `UPDATE_CASE`'s order), then [`UPDATE_CASES_TAIL`]. A row changes its
/// case only at the version it names, as `UPDATE_CASE` does; the count says how many did.
pub const UPDATE_CASES_HEAD: &str = "UPDATE cases AS c SET state = v.state, is_open = v.is_open, \
     due_date = v.due_date, due_clock = v.due_clock, due_provisional = v.due_provisional, \
     any_provisional = v.any_provisional, due_sort = v.due_sort, rongque_due = v.rongque_due, \
     updated_at = v.updated_at, version = v.version, data = v.data FROM (VALUES ";

/// One case of [`UPDATE_CASES_HEAD`], typed (a `VALUES` list has no column to take its
/// parameters' types from).
pub const UPDATE_CASES_ROW: &str = "(?::text, ?::bigint, ?::text, ?::text, ?::bigint, ?::bigint, ?::text, \
     ?::text, ?::bigint, ?::bigint, ?::bytea, ?::bigint, ?::bigint)";

/// The end of [`UPDATE_CASES_HEAD`].
pub const UPDATE_CASES_TAIL: &str = ") AS v (state, is_open, due_date, due_clock, due_provisional, \
     any_provisional, due_sort, rongque_due, updated_at, version, data, id, expected) \
     WHERE c.id = v.id AND c.version = v.expected";

/// One event of a case (11 parameters).
pub const INSERT_EVENT: &str = "INSERT INTO case_events (case_id, seq, at, actor_id, actor_name, actor_role, action, from_state, \
     to_state, reason, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// One statistics change (15 parameters).
pub const INSERT_STAT_DELTA: &str = "INSERT INTO case_stat_deltas (department_id, item_id, window_id, staff_id, month, channel, received, \
     decided, approved, on_time, working_days, immediate, refused, withdrawn, terminated) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// SQLite: the region's next case serial of the day (region, day), then read with
/// [`SERIAL_TAKEN`] (in the same transaction, by the only writer): not `RETURNING`,
/// for the reason [`INSERT_CASE`] says.
pub const NEXT_SERIAL: &str = "INSERT INTO case_serials (region, day, last) VALUES (?, ?, 1) \
     ON CONFLICT (region, day) DO UPDATE SET last = case_serials.last + 1";

/// SQLite: the serial [`NEXT_SERIAL`] just took (region, day).
pub const SERIAL_TAKEN: &str = "SELECT last FROM case_serials WHERE region = ? AND day = ?";

/// On PostgreSQL, a block of the region's day's serials (the count given three times)
/// and as many case ids from the sequence: one row per serial, each with the block's
/// last serial and an id ([`crate::tx::SerialBlocks`]).
pub const CLAIM_SERIALS_AND_IDS: &str = "WITH s AS (INSERT INTO case_serials (region, day, last) VALUES (?, ?, ?) \
     ON CONFLICT (region, day) DO UPDATE SET last = case_serials.last + ? RETURNING last) \
     SELECT s.last, nextval(pg_get_serial_sequence('cases', 'id')) FROM s, generate_series(1, ?)";

/// The same on PostgreSQL, returning the new case's id from its sequence as well, so
/// that the case, its event and its statistics can be sent together after it.
pub const NEXT_SERIAL_AND_ID: &str = "INSERT INTO case_serials (region, day, last) VALUES (?, ?, 1) \
     ON CONFLICT (region, day) DO UPDATE SET last = case_serials.last + 1 \
     RETURNING last, nextval(pg_get_serial_sequence('cases', 'id'))";
