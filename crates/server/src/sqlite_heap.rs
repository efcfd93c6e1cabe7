//! SQLite's memory from mimalloc, the allocator the rest of the program uses.
//!
//! SQLite allocates through `malloc` by default (glibc's here) and, with its memory
//! statistics on (the default), takes a global mutex around every allocation to count
//! it. The writer thread allocates and frees for every statement (bound values, cursors,
//! the pages a savepoint's journal keeps in memory): in a profile of the writer at 64
//! clients, glibc's allocator was about 7 % of its samples and that mutex 2 %. The
//! process gives SQLite mimalloc's functions instead, and turns the statistics off
//! (nothing reads them: `PRAGMA shrink_memory` and the page cache's limits do not).
//!
//! SQLite takes this configuration only before it first initializes, so [`install`]
//! runs first thing in `main`, before any connection is opened (the benchmark's raw
//! ceilings included: they run on the same SQLite).

use std::ffi::{c_int, c_void};

use rusqlite::ffi;

/// SQLite asks for at most `c_int` bytes; mimalloc gives 16-byte-aligned blocks, more
/// than the 8 bytes SQLite requires.
unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    // SAFETY: mi_malloc takes any size and returns null or a fresh block.
    unsafe { libmimalloc_sys::mi_malloc(n.max(0) as usize) }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    // SAFETY: SQLite frees only what x_malloc / x_realloc gave it (or null).
    unsafe { libmimalloc_sys::mi_free(p) }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    // SAFETY: p is null or a block of ours; mi_realloc keeps it on failure, as SQLite
    // expects of realloc.
    unsafe { libmimalloc_sys::mi_realloc(p, n.max(0) as usize) }
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    // SAFETY: SQLite asks the size of its own live blocks only.
    let n = unsafe { libmimalloc_sys::mi_usable_size(p) };
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    // SAFETY: a pure function of the size.
    let n = unsafe { libmimalloc_sys::mi_good_size(n.max(0) as usize) };
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// Give SQLite mimalloc and no memory statistics. True when SQLite took it; false when
/// SQLite was already initialized (it then keeps what it had, which works as well).
pub fn install() -> bool {
    static DONE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DONE.get_or_init(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: sqlite3_config is called before SQLite initializes (it refuses with
        // SQLITE_MISUSE otherwise, changing nothing), with the argument types each option
        // documents: an int for MEMSTATUS, a pointer to methods for MALLOC (SQLite copies
        // them before it returns).
        unsafe {
            if ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int) != ffi::SQLITE_OK {
                return false;
            }
            ffi::sqlite3_config(
                ffi::SQLITE_CONFIG_MALLOC,
                &methods as *const ffi::sqlite3_mem_methods,
            ) == ffi::SQLITE_OK
        }
    })
}
