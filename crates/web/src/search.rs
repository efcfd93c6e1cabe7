//! Catalog search on this server: the in-memory index ([`tongban_search`]) kept
//! current with the database.
//!
//! Every item change stamps the item with the next catalog revision; the index
//! remembers the revisions it was built to. Before each search it reads the revisions
//! (one small query) and, when the database is ahead, reindexes just the items stamped
//! since — so a search on any server sees every publish committed before it, and
//! several servers on one PostgreSQL each keep their own index current. A background
//! loop does the same every few seconds so that a search seldom waits. An
//! administrator's rebuild request (`tongban search rebuild`, or the API) raises a
//! revision that makes every server rebuild from scratch.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tongban_core::catalog::ServiceObject;
use tongban_core::usecase::search::{
    SearchRevisions, SearchSource, changed_items, revisions, searchable_items,
};
use tongban_core::{Error, Result};
use tongban_search::{Filters, Hit, ItemDoc, SearchIndex};

use crate::state::AppState;

/// Items read per transaction while rebuilding or catching up.
const PAGE: u32 = 1000;

/// The index with the revisions it reflects.
pub struct Search {
    index: SearchIndex,
    held: std::sync::Mutex<Option<SearchRevisions>>,
    refreshing: tokio::sync::Mutex<()>,
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Refreshed {
    /// Rebuilt from scratch.
    pub rebuilt: bool,
    /// Items added, replaced or taken out.
    pub changed: u64,
    /// Synonyms reloaded.
    pub synonyms: bool,
    /// Items in the index afterwards.
    pub indexed: u64,
}

fn store_err(e: String) -> Error {
    Error::Store(e)
}

/// The index document of an item (`None`: not searchable).
pub fn document(s: &SearchSource) -> Option<ItemDoc> {
    let spec = s.spec.as_ref()?;
    Some(doc_of(
        s.item.id,
        s.item.department_id,
        s.item.region.as_str(),
        s.item.item_type,
        spec,
        &s.department,
    ))
}

/// The index document of an item's content.
pub fn doc_of(
    item_id: i64,
    department_id: i64,
    region: &str,
    item_type: tongban_core::catalog::ItemType,
    spec: &tongban_core::catalog::ItemSpec,
    department: &str,
) -> ItemDoc {
    ItemDoc {
        item_id,
        name: spec.name.clone(),
        aliases: spec
            .aliases
            .iter()
            .cloned()
            .chain(spec.themes.iter().cloned())
            .chain(Some(spec.sub_item.clone()).filter(|x| !x.is_empty()))
            .chain(Some(spec.result.name.clone()).filter(|x| !x.is_empty()))
            .collect(),
        materials: spec.materials.iter().map(|m| m.name.clone()).collect(),
        department: department.to_string(),
        department_id,
        region: region.to_string(),
        item_type: serde_json::to_value(item_type)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        objects: spec
            .service_objects
            .iter()
            .map(|o| match o {
                ServiceObject::Person => "person".to_string(),
                ServiceObject::Enterprise => "enterprise".to_string(),
            })
            .collect(),
        legal_basis: spec.legal_basis.clone(),
        popularity: 0,
    }
}

impl Search {
    /// An empty index, built on the first refresh.
    pub fn new() -> Result<Search> {
        Ok(Search {
            index: SearchIndex::new().map_err(store_err)?,
            held: std::sync::Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    fn held(&self) -> Option<SearchRevisions> {
        *self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_held(&self, r: SearchRevisions) {
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
    }

    /// True when the index was rebuilt for rebuild request `rev` or a later one.
    pub fn rebuilt_since(&self, rev: i64) -> bool {
        self.held().is_some_and(|h| h.rebuild >= rev)
    }

    /// Items indexed.
    pub fn len(&self) -> u64 {
        self.index.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The underlying index (benchmarks).
    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// Bring the index up to the database: rebuild when never built or asked to,
    /// otherwise reindex the items changed since; reload synonyms when they changed.
    pub async fn refresh(self: &Arc<Self>, s: &AppState) -> Result<Refreshed> {
        let _one_at_a_time = self.refreshing.lock().await;
        let held = self.held();
        let now = s.db.read(|tx| revisions(tx)).await?;
        let mut out = Refreshed::default();
        let rebuild = match held {
            None => true,
            Some(h) => h.rebuild != now.rebuild,
        };
        if rebuild {
            // One snapshot: the revision read with the items it covers.
            let (catalog, sources) =
                s.db.read(|tx| {
                    let catalog = revisions(tx)?.catalog;
                    let mut all = Vec::new();
                    let mut after = 0;
                    loop {
                        let page = searchable_items(tx, after, PAGE)?;
                        let n = page.len();
                        if let Some(last) = page.last() {
                            after = last.item.id;
                        }
                        all.extend(page);
                        if n < PAGE as usize {
                            return Ok((catalog, all));
                        }
                    }
                })
                .await?;
            let docs: Vec<ItemDoc> = sources.iter().filter_map(document).collect();
            out.changed = docs.len() as u64;
            let me = self.clone();
            tokio::task::spawn_blocking(move || me.index.replace_all(&docs))
                .await
                .map_err(|e| Error::Store(format!("indexing: {e}")))?
                .map_err(store_err)?;
            out.rebuilt = true;
            let mut h = now;
            h.catalog = catalog;
            h.synonyms = -1;
            self.set_held(h);
        } else if let Some(h) = held
            && now.catalog > h.catalog
        {
            let mut at = h.catalog;
            loop {
                let changed = s.db.read(move |tx| changed_items(tx, at, PAGE)).await?;
                let n = changed.len();
                for (stamp, _) in &changed {
                    at = at.max(*stamp);
                }
                out.changed += n as u64;
                let me = self.clone();
                tokio::task::spawn_blocking(move || {
                    let (mut up, mut out) = (Vec::new(), Vec::new());
                    for (_, src) in &changed {
                        match document(src) {
                            Some(d) => up.push(d),
                            None => out.push(src.item.id),
                        }
                    }
                    me.index.apply(&up, &out)
                })
                .await
                .map_err(|e| Error::Store(format!("indexing: {e}")))?
                .map_err(store_err)?;
                if n < PAGE as usize {
                    break;
                }
            }
            let mut h = self.held().unwrap_or(now);
            h.catalog = at.max(h.catalog);
            self.set_held(h);
        }
        if let Some(h) = self.held()
            && h.synonyms != now.synonyms
        {
            let syn = s.db.read(|tx| tx.synonyms()).await?;
            self.index.set_synonyms(syn);
            let mut h = h;
            h.synonyms = now.synonyms;
            self.set_held(h);
            out.synonyms = true;
        }
        out.indexed = self.index.len();
        Ok(out)
    }

    /// Reload how often each item is applied for (ranking).
    pub async fn refresh_popularity(&self, s: &AppState) -> Result<()> {
        let p = s.db.read(|tx| tx.item_popularity()).await?;
        self.index
            .set_popularity(p.into_iter().collect::<HashMap<i64, u64>>());
        Ok(())
    }

    /// Search, after catching up with the database if it moved.
    pub async fn search(
        self: &Arc<Self>,
        s: &AppState,
        q: &str,
        filters: &Filters,
        limit: usize,
    ) -> Result<Vec<Hit>> {
        let behind = match self.held() {
            None => true,
            Some(h) => {
                let now = s.db.read(|tx| revisions(tx)).await?;
                now.catalog > h.catalog || now.rebuild != h.rebuild || now.synonyms != h.synonyms
            }
        };
        if behind {
            self.refresh(s).await?;
        }
        // A query takes well under a millisecond: no need to leave the async thread.
        self.index.search(q, filters, limit).map_err(store_err)
    }

    /// The query as searched (synonyms added).
    pub fn expand(&self, q: &str) -> String {
        self.index.expand(q)
    }
}

/// How often the background loop looks at the revisions.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(3);

/// Keep this server's index current until the process ends; popularity is reloaded
/// every twentieth round.
pub fn follow(s: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(FOLLOW_EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut round: u64 = 0;
        loop {
            interval.tick().await;
            let search = s.search.clone();
            if let Err(e) = search.refresh(&s).await {
                tracing::warn!(error = %e, "search index refresh failed");
            }
            if round.is_multiple_of(20)
                && let Err(e) = search.refresh_popularity(&s).await
            {
                tracing::warn!(error = %e, "search popularity refresh failed");
            }
            round += 1;
        }
    })
}
