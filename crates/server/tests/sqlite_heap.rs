//! SQLite on mimalloc (`tongban::sqlite_heap`), in a test binary of its own: SQLite
//! takes its allocator only before it first initializes, and nothing else in this
//! process opens a database first.

use rusqlite::ffi;
use tongban::sqlite_heap::install;

/// Once installed, what SQLite allocates is mimalloc's (a block mimalloc can size)
/// and SQLite works on it: a database with a few thousand rows and an index, sorted,
/// in memory, passes its integrity check. This test binary
/// opens no database before it.
#[test]
fn sqlite_allocates_from_mimalloc_and_works() {
    assert!(install(), "SQLite was initialized before install");
    assert!(install(), "install is idempotent");
    // SAFETY: sqlite3_malloc returns a block from the installed methods or null.
    unsafe {
        let p = ffi::sqlite3_malloc(1000);
        assert!(!p.is_null());
        assert!(libmimalloc_sys::mi_is_in_heap_region(p));
        assert!(libmimalloc_sys::mi_usable_size(p) >= 1000);
        assert_eq!(
            ffi::sqlite3_msize(p),
            libmimalloc_sys::mi_usable_size(p) as u64
        );
        ffi::sqlite3_free(p);
    }
    let c = rusqlite::Connection::open_in_memory().unwrap();
    c.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
         INSERT INTO t (v) SELECT printf('值%05d', 5000 - i) FROM n;",
    )
    .unwrap();
    let first: String = c
        .query_row("SELECT v FROM t ORDER BY v LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(first, "值00000");
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}
