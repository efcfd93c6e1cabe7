//! The writer's VFS (SQLite's OS layer): SQLite's own `unix` one, except that a WAL
//! file's writes that follow one another reach the file in one `pwrite`.
//!
//! SQLite writes a WAL frame with two calls (its 24-byte header, then the page), so a
//! commit of 32 pages is 64 `pwrite` calls before its `fsync`. Through this VFS the
//! writes to a WAL file are kept in a buffer, in order, and handed to the file in one
//! call when SQLite next does anything else with that file: syncs it, reads it, asks
//! its size, truncates it, closes it, controls it, or writes somewhere not contiguous
//! with the buffer (a frame rewritten in place goes into the buffer if it is there).
//! At `synchronous=FULL` every commit syncs the WAL before it updates the WAL index
//! that makes the commit visible to other connections, so no reader ever looks for a
//! frame still in the buffer. The database file and its shared memory are opened by
//! `unix` itself, into the very structure SQLite handed us, and never pass through this
//! code.
//!
//! The writer's `COMMIT` runs inside [`commit_deferring_sync`]: the sync it asks for
//! writes the buffer out but leaves the `fdatasync` owed, and the writer's sync thread
//! does it (through a second handle on the file) before the commit's requests are
//! answered, while the writer runs the next batch. Every other sync (a checkpoint run
//! on this connection, the last one at close) is done in place, so the WAL is on disk
//! before any of its pages is copied into the database.
//!
//! Only a connection at `synchronous=FULL` may use it (at `NORMAL` a commit becomes
//! visible without calling the sync that writes the buffer out): [`super::open_conn`]
//! opens the writer's connections with it and sets `FULL` on them itself.

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, c_int, c_void};
use std::ptr;
use std::sync::{Arc, OnceLock};

use rusqlite::ffi;

/// The name it is registered under.
pub const NAME: &CStr = c"tb-unix-walbuf";

/// Bytes past which the buffer is written out at once (a large transaction's spill).
const FLUSH_AT: usize = 1 << 20;

/// The most `unix` writes in one call: it cuts every write to 17 bits of length
/// (`seekAndWriteFd`), and one of exactly 128 KiB would write nothing. A commit of 32
/// frames (132 KiB) is two calls.
const WRITE_AT_MOST: usize = 0x1f000;

/// A WAL file: SQLite's file structure, then ours, then the `unix` file it wraps.
#[repr(C)]
struct WalFile {
    /// What SQLite sees: our methods.
    base: ffi::sqlite3_file,
    /// The `unix` file, in the same allocation after this structure.
    real: *mut ffi::sqlite3_file,
    /// Writes not yet handed to the file, contiguous from `start`.
    buf: Vec<u8>,
    /// The file offset of `buf[0]`.
    start: i64,
    /// The same file opened once more, for a sync owed by a deferred commit
    /// ([`commit_deferring_sync`]) to be done from another thread.
    again: Option<Arc<std::fs::File>>,
}

/// Where the wrapped file starts in the allocation SQLite makes for a file.
const REAL_AT: usize = std::mem::size_of::<WalFile>().next_multiple_of(16);

/// Register the VFS (once per process); its name, or why it could not be.
pub fn register() -> Result<&'static CStr, String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| unsafe {
        // SAFETY: `sqlite3_vfs_find` initializes SQLite if it must; the structure we
        // register is leaked, so it outlives every connection.
        let real = ffi::sqlite3_vfs_find(ptr::null());
        if real.is_null() {
            return Err("SQLite has no default VFS".into());
        }
        let mut vfs: ffi::sqlite3_vfs = *real;
        vfs.szOsFile = c_int::try_from(REAL_AT).map_err(|e| e.to_string())? + (*real).szOsFile;
        vfs.pNext = ptr::null_mut();
        vfs.zName = NAME.as_ptr();
        vfs.pAppData = real.cast();
        // Only `xOpen` is ours. The rest are `unix`'s own, which ignore the VFS they
        // are called with (only `unixOpen` reads its `pAppData`, the locking finder,
        // and ours is called with `unix` itself).
        vfs.xOpen = Some(x_open);
        let vfs = Box::leak(Box::new(vfs));
        match ffi::sqlite3_vfs_register(vfs, 0) {
            ffi::SQLITE_OK => Ok(()),
            rc => Err(format!("sqlite3_vfs_register: {rc}")),
        }
    })
    .clone()
    .map(|()| NAME)
}

/// The VFS this one wraps.
unsafe fn real_vfs(vfs: *mut ffi::sqlite3_vfs) -> *mut ffi::sqlite3_vfs {
    unsafe { (*vfs).pAppData.cast() }
}

unsafe extern "C" fn x_open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    unsafe {
        let real_vfs = real_vfs(vfs);
        let Some(open) = (*real_vfs).xOpen else {
            return ffi::SQLITE_ERROR;
        };
        if flags & ffi::SQLITE_OPEN_WAL == 0 {
            // Not a WAL: `unix`'s own file, in the room SQLite gave us (larger than
            // `unix` needs), with `unix`'s methods.
            return open(real_vfs, name, file, flags, out_flags);
        }
        let real = file.cast::<u8>().add(REAL_AT).cast::<ffi::sqlite3_file>();
        let rc = open(real_vfs, name, real, flags, out_flags);
        if rc != ffi::SQLITE_OK {
            (*file).pMethods = ptr::null();
            return rc;
        }
        // Without a second handle every sync is done in place, as SQLite asks.
        let again = (!name.is_null())
            .then(|| CStr::from_ptr(name).to_str().ok())
            .flatten()
            .and_then(|path| std::fs::File::open(path).ok())
            .map(Arc::new);
        file.cast::<WalFile>().write(WalFile {
            base: ffi::sqlite3_file {
                pMethods: &WAL_METHODS,
            },
            real,
            buf: Vec::new(),
            start: 0,
            again,
        });
        ffi::SQLITE_OK
    }
}

/// Version 1: SQLite asks for shared memory and memory maps of the database file only,
/// never of its WAL, so a WAL file needs none of the later methods.
static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(w_close),
    xRead: Some(w_read),
    xWrite: Some(w_write),
    xTruncate: Some(w_truncate),
    xSync: Some(w_sync),
    xFileSize: Some(w_file_size),
    xLock: Some(w_lock),
    xUnlock: Some(w_unlock),
    xCheckReservedLock: Some(w_check_reserved_lock),
    xFileControl: Some(w_file_control),
    xSectorSize: Some(w_sector_size),
    xDeviceCharacteristics: Some(w_device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

/// Our part of a WAL file, and the methods of the file it wraps.
unsafe fn wal<'a>(f: *mut ffi::sqlite3_file) -> (&'a mut WalFile, &'a ffi::sqlite3_io_methods) {
    unsafe {
        let w = &mut *f.cast::<WalFile>();
        let m = &*(*w.real).pMethods;
        (w, m)
    }
}

/// Hand the buffer to the file. It is emptied whatever the outcome: after a failed
/// write SQLite fails the transaction and writes those frames again.
unsafe fn flush(w: &mut WalFile, m: &ffi::sqlite3_io_methods) -> c_int {
    let Some(write) = m.xWrite else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    let mut rc = ffi::SQLITE_OK;
    let mut at = w.start;
    for chunk in w.buf.chunks(WRITE_AT_MOST) {
        // A chunk is under 128 KiB, so its length fits.
        rc = unsafe { write(w.real, chunk.as_ptr().cast(), chunk.len() as c_int, at) };
        if rc != ffi::SQLITE_OK {
            break;
        }
        at += chunk.len() as i64;
    }
    w.buf.clear();
    rc
}

/// Flush, then run `then` on the wrapped file.
unsafe fn flushed(
    f: *mut ffi::sqlite3_file,
    then: impl FnOnce(*mut ffi::sqlite3_file, &ffi::sqlite3_io_methods) -> c_int,
) -> c_int {
    unsafe {
        let (w, m) = wal(f);
        let rc = flush(w, m);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        then(w.real, m)
    }
}

unsafe extern "C" fn w_close(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        let (w, m) = wal(f);
        let rc = flush(w, m);
        let closed = match m.xClose {
            Some(close) => close(w.real),
            None => ffi::SQLITE_OK,
        };
        ptr::drop_in_place(&mut w.buf);
        ptr::drop_in_place(&mut w.again);
        (*f).pMethods = ptr::null();
        if rc != ffi::SQLITE_OK { rc } else { closed }
    }
}

unsafe extern "C" fn w_read(f: *mut ffi::sqlite3_file, p: *mut c_void, n: c_int, at: i64) -> c_int {
    unsafe {
        flushed(f, |r, m| match m.xRead {
            Some(read) => read(r, p, n, at),
            None => ffi::SQLITE_IOERR_READ,
        })
    }
}

unsafe extern "C" fn w_write(
    f: *mut ffi::sqlite3_file,
    p: *const c_void,
    n: c_int,
    at: i64,
) -> c_int {
    unsafe {
        let (w, m) = wal(f);
        let Ok(len) = usize::try_from(n) else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        let src = std::slice::from_raw_parts(p.cast::<u8>(), len);
        let end = w.start + w.buf.len() as i64;
        if !w.buf.is_empty() && at >= w.start && at <= end {
            // Inside the buffer or right after it: overwrite what is there, append the rest.
            let from = (at - w.start) as usize;
            let over = len.min(w.buf.len() - from);
            w.buf[from..from + over].copy_from_slice(&src[..over]);
            w.buf.extend_from_slice(&src[over..]);
        } else {
            let rc = flush(w, m);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            w.start = at;
            w.buf.extend_from_slice(src);
        }
        if w.buf.len() >= FLUSH_AT {
            return flush(w, m);
        }
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn w_truncate(f: *mut ffi::sqlite3_file, size: i64) -> c_int {
    unsafe {
        flushed(f, |r, m| match m.xTruncate {
            Some(t) => t(r, size),
            None => ffi::SQLITE_IOERR_TRUNCATE,
        })
    }
}

unsafe extern "C" fn w_sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    unsafe {
        let (w, m) = wal(f);
        // The WAL's header (written at offset 0 when the log starts over) is synced
        // before any frame after it is written, as SQLite asks, deferring or not.
        let header = !w.buf.is_empty() && w.start == 0;
        let rc = flush(w, m);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        if DEFERRING.get()
            && !header
            && let Some(again) = &w.again
        {
            // Written, not yet synced: the commit that asked is answered only once
            // whoever called `commit_deferring_sync` has synced it.
            OWED.with_borrow_mut(|owed| *owed = Some(again.clone()));
            return ffi::SQLITE_OK;
        }
        #[cfg(test)]
        SYNCED_IN_PLACE.set(SYNCED_IN_PLACE.get() + 1);
        match m.xSync {
            Some(s) => s(w.real, flags),
            None => ffi::SQLITE_IOERR_FSYNC,
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Syncs done in place on this thread (tests).
    static SYNCED_IN_PLACE: Cell<u64> = const { Cell::new(0) };
}

thread_local! {
    /// Set on this thread while [`commit_deferring_sync`] runs its `COMMIT`.
    static DEFERRING: Cell<bool> = const { Cell::new(false) };
    /// The WAL whose sync a deferred `COMMIT` skipped.
    static OWED: RefCell<Option<Arc<std::fs::File>>> = const { RefCell::new(None) };
}

/// A WAL written by a commit and not yet synced: [`OwedSync::sync`] makes the commit
/// durable.
#[derive(Debug)]
pub struct OwedSync(Arc<std::fs::File>);

impl OwedSync {
    /// `fdatasync` the WAL (any handle of a file syncs all of its written data).
    pub fn sync(&self) -> std::io::Result<()> {
        self.0.sync_data()
    }
}

/// Run `commit` (a `COMMIT` on a connection through this VFS, on this thread) with
/// the WAL's sync left owed instead of done: the frames are written to the file and
/// the commit is visible to readers when it returns, but on disk only once the
/// returned [`OwedSync`] has been synced. None when the commit synced nothing (it
/// wrote nothing, or the WAL has no second handle and was synced in place). Only the
/// commit's own syncs are deferred: a checkpoint run at any other time syncs the WAL
/// before it copies a page into the database.
pub fn commit_deferring_sync<T>(commit: impl FnOnce() -> T) -> (T, Option<OwedSync>) {
    struct Disarm;
    impl Drop for Disarm {
        fn drop(&mut self) {
            DEFERRING.set(false);
        }
    }
    OWED.with_borrow_mut(|owed| *owed = None);
    DEFERRING.set(true);
    let disarm = Disarm;
    let out = commit();
    drop(disarm);
    (out, OWED.with_borrow_mut(Option::take).map(OwedSync))
}

unsafe extern "C" fn w_file_size(f: *mut ffi::sqlite3_file, out: *mut i64) -> c_int {
    unsafe {
        flushed(f, |r, m| match m.xFileSize {
            Some(s) => s(r, out),
            None => ffi::SQLITE_IOERR_FSTAT,
        })
    }
}

unsafe extern "C" fn w_file_control(
    f: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    unsafe {
        flushed(f, |r, m| match m.xFileControl {
            Some(c) => c(r, op, arg),
            None => ffi::SQLITE_NOTFOUND,
        })
    }
}

unsafe extern "C" fn w_lock(f: *mut ffi::sqlite3_file, l: c_int) -> c_int {
    unsafe {
        let (w, m) = wal(f);
        m.xLock.map_or(ffi::SQLITE_OK, |x| x(w.real, l))
    }
}

unsafe extern "C" fn w_unlock(f: *mut ffi::sqlite3_file, l: c_int) -> c_int {
    unsafe {
        let (w, m) = wal(f);
        m.xUnlock.map_or(ffi::SQLITE_OK, |x| x(w.real, l))
    }
}

unsafe extern "C" fn w_check_reserved_lock(f: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    unsafe {
        let (w, m) = wal(f);
        m.xCheckReservedLock
            .map_or(ffi::SQLITE_OK, |x| x(w.real, out))
    }
}

unsafe extern "C" fn w_sector_size(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        let (w, m) = wal(f);
        m.xSectorSize.map_or(4096, |x| x(w.real))
    }
}

unsafe extern "C" fn w_device_characteristics(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        let (w, m) = wal(f);
        m.xDeviceCharacteristics.map_or(0, |x| x(w.real))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use rusqlite::{Connection, OpenFlags};

    fn writer(path: &std::path::Path) -> Connection {
        let c = Connection::open_with_flags_and_vfs(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
            super::register().unwrap(),
        )
        .unwrap();
        c.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;",
        )
        .unwrap();
        c
    }

    /// A writer through this VFS with the table `t` made, and a plain reader.
    fn writer_and_reader(path: &std::path::Path) -> (Connection, Connection) {
        let w = writer(path);
        w.execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
            .unwrap();
        (w, Connection::open(path).unwrap())
    }

    fn count(c: &Connection) -> i64 {
        c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    /// What a crash at this moment would leave: copies of the database and its WAL,
    /// opened with SQLite's own VFS and recovered from the log.
    pub(in crate::sqlite) fn after_crash(
        path: &std::path::Path,
        into: &std::path::Path,
    ) -> Connection {
        std::fs::copy(path, into).unwrap();
        let wal = |p: &std::path::Path| {
            p.with_file_name(format!("{}-wal", p.file_name().unwrap().to_str().unwrap()))
        };
        std::fs::copy(wal(path), wal(into)).unwrap();
        Connection::open(into).unwrap()
    }

    /// Assert that SQLite finds the database whole.
    pub(in crate::sqlite) fn assert_intact(c: &Connection) {
        let check: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }

    /// The name of the VFS a connection's main database was opened with.
    fn vfs_of(c: &Connection) -> String {
        let mut vfs: *mut rusqlite::ffi::sqlite3_vfs = std::ptr::null_mut();
        // SAFETY: the handle is open; the file control writes the VFS pointer.
        unsafe {
            let rc = rusqlite::ffi::sqlite3_file_control(
                c.handle(),
                c"main".as_ptr(),
                rusqlite::ffi::SQLITE_FCNTL_VFS_POINTER,
                (&raw mut vfs).cast(),
            );
            assert_eq!(rc, rusqlite::ffi::SQLITE_OK);
            std::ffi::CStr::from_ptr((*vfs).zName)
                .to_str()
                .unwrap()
                .to_string()
        }
    }

    #[test]
    fn the_writers_connections_use_it_and_readers_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let w = crate::sqlite::open_conn(&path, false).unwrap();
        assert_eq!(vfs_of(&w), super::NAME.to_str().unwrap());
        let sync: i64 = w.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!(sync, 2, "the VFS is only safe at synchronous=FULL");
        let r = crate::sqlite::open_conn(&path, true).unwrap();
        assert_eq!(vfs_of(&r), "unix");
    }

    #[test]
    fn a_commit_is_in_the_file_when_it_returns_and_readers_see_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let (w, reader) = writer_and_reader(&path);
        for round in 1..=20i64 {
            w.execute_batch("BEGIN").unwrap();
            for i in 0..50 {
                // Commits of about 200 KiB: more than `unix` writes in one call.
                w.execute("INSERT INTO t(v) VALUES (randomblob(?))", [3000 + i * 37])
                    .unwrap();
            }
            w.execute_batch("COMMIT").unwrap();
            assert_eq!(count(&reader), round * 50);
            let copy = after_crash(&path, &dir.path().join(format!("c{round}.db")));
            assert_eq!(count(&copy), round * 50, "round {round}");
        }
        // Nothing of an open transaction is visible, in the process or after a crash.
        w.execute_batch("BEGIN; INSERT INTO t(v) VALUES (randomblob(5000));")
            .unwrap();
        assert_eq!(count(&reader), 1000);
        assert_eq!(
            count(&after_crash(&path, &dir.path().join("open.db"))),
            1000
        );
        w.execute_batch("ROLLBACK").unwrap();
    }

    #[test]
    fn a_deferring_commit_is_written_and_visible_and_owes_only_its_own_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let (w, reader) = writer_and_reader(&path);
        let in_place = || super::SYNCED_IN_PLACE.get();
        for round in 1..=5i64 {
            w.execute_batch("BEGIN").unwrap();
            for _ in 0..10 {
                w.execute("INSERT INTO t(v) VALUES (randomblob(3000))", [])
                    .unwrap();
            }
            let before = in_place();
            let (r, owed) = super::commit_deferring_sync(|| w.execute_batch("COMMIT"));
            r.unwrap();
            assert_eq!(in_place(), before, "the commit synced nothing itself");
            let owed = owed.expect("a commit that wrote owes the WAL's sync");
            // Written and visible before the sync: in the file, to readers, and to what
            // a crash would leave (the OS has the writes).
            assert_eq!(count(&reader), round * 10);
            let copy = after_crash(&path, &dir.path().join(format!("c{round}.db")));
            assert_eq!(count(&copy), round * 10);
            owed.sync().unwrap();
        }
        // A commit that wrote nothing owes nothing.
        w.execute_batch("BEGIN").unwrap();
        let (r, owed) = super::commit_deferring_sync(|| w.execute_batch("COMMIT"));
        r.unwrap();
        assert!(owed.is_none());
        // Outside it, commits and checkpoints sync in place and leave nothing owed.
        let before = in_place();
        w.execute_batch("INSERT INTO t(v) VALUES (1); PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
        assert!(
            in_place() >= before + 2,
            "the commit's sync and the checkpoint's"
        );
        assert!(super::OWED.with_borrow(Option::is_none));
        assert!(!super::DEFERRING.get(), "disarmed after the commit");
        // The WAL starts over: the first commit after writes its header and syncs it in
        // place before any frame, and owes the sync of its frames.
        let before = in_place();
        let (r, owed) = super::commit_deferring_sync(|| {
            w.execute_batch("INSERT INTO t(v) VALUES (randomblob(3000))")
        });
        r.unwrap();
        assert_eq!(in_place(), before + 1, "the new header is synced in place");
        owed.expect("its frames' sync is owed").sync().unwrap();
        assert_eq!(count(&reader), 52);
        assert_intact(&w);
    }

    #[test]
    fn large_transactions_spills_rewrites_and_checkpoints_keep_the_database_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let w = writer(&path);
        // A small page cache, so that transactions spill frames into the WAL before
        // they commit and then rewrite them.
        w.execute_batch("PRAGMA cache_size=20; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB); CREATE INDEX t_v ON t(v);")
            .unwrap();
        for round in 0..6 {
            w.execute_batch("BEGIN").unwrap();
            for _ in 0..400 {
                w.execute_batch("INSERT INTO t(v) VALUES (randomblob(700))")
                    .unwrap();
            }
            w.execute_batch("UPDATE t SET v = randomblob(650) WHERE id % 3 = 0")
                .unwrap();
            if round == 3 {
                w.execute_batch("ROLLBACK").unwrap();
            } else {
                w.execute_batch("COMMIT").unwrap();
            }
            if round == 2 {
                let _: i64 = w
                    .query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get(0))
                    .unwrap();
            }
        }
        assert_eq!(count(&w), 2000);
        let copy = after_crash(&path, &dir.path().join("c.db"));
        assert_eq!(count(&copy), 2000);
        assert_intact(&copy);
        assert_intact(&w);
        drop(w);
        let again = Connection::open(&path).unwrap();
        assert_eq!(count(&again), 2000);
    }
}
