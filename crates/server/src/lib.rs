//! The `tongban` binary's library half: the demo county (and what tests share with
//! the binary).

pub mod bench;
pub mod demo;
pub mod sqlite_heap;

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
    use super::redact;

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
