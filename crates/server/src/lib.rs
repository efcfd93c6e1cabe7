//! The `tongban` binary's library half: the demo county (and what tests share with
//! the binary).

pub mod bench;
pub mod demo;
pub mod sqlite_heap;

/// Let this process open as many files as the system allows it (the soft limit raised to
/// the hard one), and say how many it may open now (the soft limit as it was, should the
/// raise be refused). Every connection is a file: a server with more connections than
/// the soft limit (often 1,024) refuses the next one, and the benchmark holds two per
/// simulated client. `None` where the limits cannot be read.
pub fn raise_open_files_limit() -> Option<u64> {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct we own and nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) } != 0 {
        return None;
    }
    if l.rlim_cur < l.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: l.rlim_max,
            rlim_max: l.rlim_max,
        };
        // SAFETY: setrlimit reads the struct we own; raising the soft limit up to the
        // hard one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            l = raised;
        }
    }
    Some(l.rlim_cur)
}

/// Hide a password in a database URL.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{raise_open_files_limit, redact};

    fn open_files_limits() -> (u64, u64) {
        let mut l = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes the struct we own.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) }, 0);
        (l.rlim_cur, l.rlim_max)
    }

    /// A soft limit under the hard one is raised to it, and the new limit is said. (The
    /// test sets the soft limit one file under the hard one first, and puts back the
    /// soft limit it found after; no other test here counts its open files.)
    #[test]
    fn the_open_files_limit_is_raised_to_the_hard_one() {
        let (soft, hard) = open_files_limits();
        let lowered = libc::rlimit {
            rlim_cur: hard - 1,
            rlim_max: hard,
        };
        // SAFETY: setrlimit reads the struct we own.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lowered) }, 0);
        assert_eq!(open_files_limits(), (hard - 1, hard));
        assert_eq!(raise_open_files_limit(), Some(hard));
        assert_eq!(open_files_limits(), (hard, hard));
        let found = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: setrlimit reads the struct we own.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &found) }, 0);
    }

    #[test]
    fn passwords_in_database_urls_are_not_printed() {
        assert_eq!(
            redact("postgres://tb:secret@db:5432/tb"),
            "postgres://tb:***@db:5432/tb"
        );
        assert_eq!(
            redact("sqlite://data/tongban.db"),
            "sqlite://data/tongban.db"
        );
    }
}
