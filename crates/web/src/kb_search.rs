//! The knowledge base searched in Chinese (the catalog's engine: jieba words, pinyin,
//! synonyms), for operators while they type the caller's question. Articles are few:
//! the index is rebuilt whenever one changes (the `kb` revision) or the day turns
//! (an article's period of validity).

use std::sync::Mutex;

use chrono::NaiveDate;
use tongban_core::store::revision;
use tongban_core::{Error, Result};
use tongban_search::{Filters, Hit, ItemDoc, SearchIndex};

use crate::state::AppState;

/// The index with the revision and day it was built for.
pub struct KbSearch {
    index: SearchIndex,
    held: Mutex<Option<(i64, NaiveDate)>>,
    rebuilding: tokio::sync::Mutex<()>,
}

impl KbSearch {
    /// An empty index.
    pub fn new() -> Result<KbSearch> {
        Ok(KbSearch {
            index: SearchIndex::with_body_label("答复：").map_err(Error::Store)?,
            held: Mutex::new(None),
            rebuilding: tokio::sync::Mutex::new(()),
        })
    }

    async fn refresh(&self, s: &AppState) -> Result<()> {
        let today = tongban_core::time::china_date(s.clock.now());
        let rev = s.db.read(|tx| tx.revision(revision::KB)).await?;
        let held = *self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held == Some((rev, today)) {
            return Ok(());
        }
        let _one = self.rebuilding.lock().await;
        let (rev, articles, categories) =
            s.db.read(|tx| {
                Ok((
                    tx.revision(revision::KB)?,
                    tx.articles(None)?,
                    tx.categories()?,
                ))
            })
            .await?;
        let docs: Vec<ItemDoc> = articles
            .iter()
            .filter(|a| a.valid_on(today))
            .filter_map(|a| {
                let c = a.current()?;
                let category = c
                    .category_id
                    .and_then(|id| categories.iter().find(|x| x.id == id))
                    .map(|x| x.name.clone());
                Some(ItemDoc {
                    item_id: a.id,
                    name: c.title.clone(),
                    aliases: c.keywords.iter().cloned().chain(category).collect(),
                    materials: vec![c.body.clone()],
                    department: String::new(),
                    department_id: 0,
                    region: a.region.clone(),
                    item_type: "kb".into(),
                    objects: vec![],
                    legal_basis: vec![],
                    popularity: 0,
                })
            })
            .collect();
        self.index.replace_all(&docs).map_err(Error::Store)?;
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = Some((rev, today));
        Ok(())
    }

    /// Articles in force matching what the caller says, best first.
    pub async fn search(
        &self,
        s: &AppState,
        q: &str,
        region_prefix: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Hit>> {
        self.refresh(s).await?;
        if q.trim().is_empty() {
            return Ok(vec![]);
        }
        let f = Filters {
            region_prefix: region_prefix.map(str::to_string),
            ..Filters::default()
        };
        let q: String = q.chars().take(200).collect();
        self.index.search(&q, &f, limit).map_err(Error::Store)
    }
}
