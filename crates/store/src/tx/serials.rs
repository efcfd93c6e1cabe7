//! Case-number serials (办件编号流水号) taken in blocks on PostgreSQL.
//!
//! On PostgreSQL a receipt used to wait in the writer on one round trip for the day's
//! serial and the case's id before its rows could go out. Under load a server takes
//! several serials of a region's day at once, in one statement that also takes as many
//! case ids from the sequence, and hands them out from memory. What a block claims is
//! part of the claiming job's transaction: the block is kept for later receipts only
//! once that job has committed ([`SerialBlocks::resolve`]); if the job or its commit
//! fails, the database's counter goes back and the block is dropped, never used. A
//! serial taken from a kept block by a job that then fails is simply not used (a gap in
//! the day's numbers), as are a block's leftovers when the server stops or the day ends.
//!
//! Numbers stay unique by construction. What a block costs is gaps, so a block is only
//! as large as the demand: one serial at a time until a region's blocks run out within
//! [`SerialBlocks::HOT`] of being claimed, then doubling up to
//! [`SerialBlocks::MAX_BLOCK`], and halving again when they last longer. While another
//! job's claim of the same region's day is not yet committed (several receipts in one
//! batch of the writer, none of which sees the others' blocks), a claim takes one serial
//! only, so that a burst does not claim a block per receipt. Gaps after a restart are
//! what the kept blocks held then: none while a region files less than a case a second,
//! at most about a block (a second's receipts, up to [`SerialBlocks::MAX_BLOCK`]) and a
//! few serials under load. Serials are handed out in
//! claiming order within a block, not in filing order: a receipt may file serial 7
//! after another filed 9 (as with several servers, whose receipts always committed in
//! any order).
//!
//! The kept blocks are this server's belief about what the database has counted. After
//! the database is restored to an earlier point or fails over to a replica that had not
//! seen the last commits, restart the servers: a block kept from before would hand out
//! serials the database hands out again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

/// A region's day: the key of the serials.
pub(crate) type SerialKey = (String, NaiveDate);

/// Serials claimed together and not yet handed out, with a case id for each: the
/// serials `next`, `next + 1`, … as many as there are ids left.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SerialBlock {
    /// The next serial to hand out.
    pub next: u32,
    /// Case ids from the sequence, one per serial left, the next one last.
    pub ids: Vec<i64>,
}

impl SerialBlock {
    /// Nothing left to hand out.
    pub(crate) fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The next serial and its case id, if any is left.
    pub(crate) fn take(&mut self) -> Option<(u32, i64)> {
        let id = self.ids.pop()?;
        let serial = self.next;
        self.next += 1;
        Some((serial, id))
    }
}

/// How large a region's last block was, and when it was claimed.
struct Sizing {
    size: u32,
    claimed: Instant,
}

#[derive(Default)]
struct Blocks {
    /// Committed blocks with serials left, oldest first.
    kept: HashMap<SerialKey, Vec<SerialBlock>>,
    sizing: HashMap<SerialKey, Sizing>,
    /// Claims not yet committed or dropped, and when the last was made.
    pending: HashMap<SerialKey, (u32, Instant)>,
}

/// The blocks of serials a server holds (PostgreSQL only; SQLite takes a serial in
/// microseconds within its own process).
#[derive(Default)]
pub struct SerialBlocks(Mutex<Blocks>);

impl SerialBlocks {
    /// The largest block: about a second's receipts of one region at the rates the
    /// benchmark drives (1,200 cases a second on two cores), so that a busy region goes
    /// to the writer for serials about once a second rather than every few dozen cases.
    pub const MAX_BLOCK: u32 = 1024;
    /// A block used up sooner than this after its claim is followed by a larger one.
    pub const HOT: Duration = Duration::from_secs(1);
    /// A pending claim older than this no longer holds the next claims to one serial.
    const STALE: Duration = Duration::from_secs(10);

    /// A serial and case id from a committed block of `key`, if one has any left.
    pub(crate) fn take(&self, key: &SerialKey) -> Option<(u32, i64)> {
        let mut b = self.0.lock().ok()?;
        let blocks = b.kept.get_mut(key)?;
        let got = blocks.first_mut().and_then(SerialBlock::take);
        blocks.retain(|k| !k.is_empty());
        if blocks.is_empty() {
            b.kept.remove(key);
        }
        got
    }

    /// How many serials of `key` to claim now (`now` given, for the tests), when the
    /// claiming job has made `own` claims of it already. Counts the claim as pending
    /// until [`SerialBlocks::resolve`].
    pub(crate) fn next_size(&self, key: &SerialKey, own: u32, now: Instant) -> u32 {
        let Ok(mut b) = self.0.lock() else {
            return 1;
        };
        // Another job's claim still to commit: its leftovers come soon. (A count left
        // by a job that never resolved, say one that panicked, goes stale.)
        let others = match b.pending.get(key) {
            Some(&(n, at)) if now.saturating_duration_since(at) < Self::STALE => {
                n.saturating_sub(own)
            }
            _ => 0,
        };
        let size = match b.sizing.get(key) {
            _ if others > 0 => 1,
            Some(s) => block_size(s.size, now.saturating_duration_since(s.claimed)),
            None => 1,
        };
        // A region's days are few at a time; a long-running server forgets the old ones.
        if b.sizing.len() > 4096 {
            b.sizing.clear();
            b.pending.clear();
        }
        if others == 0 {
            b.sizing.insert(key.clone(), Sizing { size, claimed: now });
        }
        let p = b.pending.entry(key.clone()).or_insert((0, now));
        *p = (
            if now.saturating_duration_since(p.1) < Self::STALE {
                p.0 + 1
            } else {
                1
            },
            now,
        );
        size
    }

    /// A job's claims are settled: kept (what is left of them) if it committed,
    /// dropped otherwise (its claims rolled back with it). Kept after the blocks of the
    /// same key kept already: two jobs of one batch may each have claimed one.
    pub(crate) fn resolve(&self, claimed: Vec<(SerialKey, SerialBlock)>, committed: bool) {
        if claimed.is_empty() {
            return;
        }
        if let Ok(mut b) = self.0.lock() {
            for (key, block) in claimed {
                if let Some(p) = b.pending.get_mut(&key) {
                    p.0 = p.0.saturating_sub(1);
                    if p.0 == 0 {
                        b.pending.remove(&key);
                    }
                }
                if committed && !block.is_empty() {
                    // Serials of days before yesterday are never asked for again.
                    if let Some(yesterday) = key.1.pred_opt() {
                        b.kept.retain(|(_, day), _| *day >= yesterday);
                    }
                    b.kept.entry(key).or_default().push(block);
                }
            }
        }
    }

    /// The committed blocks of `key` (tests).
    #[cfg(test)]
    pub(crate) fn kept(&self, key: &SerialKey) -> Vec<SerialBlock> {
        self.0
            .lock()
            .map(|b| b.kept.get(key).cloned().unwrap_or_default())
            .unwrap_or_default()
    }
}

/// The size of the next block after one of `last` serials that lasted `lasted`.
pub(crate) fn block_size(last: u32, lasted: Duration) -> u32 {
    if lasted < SerialBlocks::HOT {
        (last.max(1) * 2).min(SerialBlocks::MAX_BLOCK)
    } else {
        (last / 2).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Region 440902's day `d` of December 2026.
    fn day(d: u32) -> SerialKey {
        (
            "440902".to_string(),
            NaiveDate::from_ymd_opt(2026, 12, d).unwrap(),
        )
    }

    #[test]
    fn blocks_grow_under_demand_and_shrink_back_to_one() {
        let quick = Duration::from_millis(10);
        let slow = Duration::from_secs(5);
        let mut size = 1;
        let mut sizes = Vec::new();
        for _ in 0..12 {
            size = block_size(size, quick);
            sizes.push(size);
        }
        assert_eq!(
            sizes,
            [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1024, 1024]
        );
        let mut back = Vec::new();
        for _ in 0..12 {
            size = block_size(size, slow);
            back.push(size);
        }
        assert_eq!(back, [512, 256, 128, 64, 32, 16, 8, 4, 2, 1, 1, 1]);
    }

    /// What a settled claim leaves: nothing (only the pending count matters here).
    fn spent(key: &SerialKey) -> Vec<(SerialKey, SerialBlock)> {
        vec![(
            key.clone(),
            SerialBlock {
                next: 1,
                ids: vec![],
            },
        )]
    }

    #[test]
    fn a_quiet_region_claims_one_serial_at_a_time_and_a_busy_one_more() {
        let blocks = SerialBlocks::default();
        let key = day(7);
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // A case a minute, each committed before the next: never more than one.
        for minute in 0..3 {
            assert_eq!(
                blocks.next_size(&key, 0, t0 + Duration::from_secs(60 * minute)),
                1
            );
            blocks.resolve(spent(&key), true);
        }
        // Receipts one after another within the second: the blocks grow.
        let t1 = t0 + Duration::from_secs(120);
        assert_eq!(blocks.next_size(&key, 0, t1 + ms(5)), 2);
        blocks.resolve(spent(&key), true);
        assert_eq!(blocks.next_size(&key, 0, t1 + ms(10)), 4);
        blocks.resolve(spent(&key), true);
        // A job that used up its own block claims a larger one itself.
        assert_eq!(blocks.next_size(&key, 0, t1 + ms(20)), 8);
        assert_eq!(blocks.next_size(&key, 1, t1 + ms(21)), 16);
        blocks.resolve([spent(&key), spent(&key)].concat(), true);
        // Three jobs of one batch, none committed yet: the first claims a block, the
        // others one serial each, not a block apiece.
        assert_eq!(blocks.next_size(&key, 0, t1 + ms(30)), 32);
        assert_eq!(blocks.next_size(&key, 0, t1 + ms(31)), 1);
        assert_eq!(blocks.next_size(&key, 0, t1 + ms(32)), 1);
        blocks.resolve([spent(&key), spent(&key)].concat(), true);
        blocks.resolve(spent(&key), false);
        // Settled: sized on the last block claimed.
        assert_eq!(blocks.next_size(&key, 0, t1 + ms(40)), 64);
        // A claim that never settles (a job that panicked) holds the others back only
        // for a while.
        assert_eq!(blocks.next_size(&key, 0, t1 + ms(50)), 1);
        assert_eq!(blocks.next_size(&key, 0, t1 + Duration::from_secs(30)), 32);
        // Another region is sized on its own.
        let other = ("440904".to_string(), key.1);
        assert_eq!(blocks.next_size(&other, 0, t1), 1);
    }

    #[test]
    fn kept_blocks_hand_out_each_serial_once_with_its_own_id() {
        let blocks = SerialBlocks::default();
        let key = day(7);
        assert_eq!(blocks.take(&key), None);
        // A job that failed: its claim rolled back, nothing kept.
        let claim = |next, ids: Vec<i64>| vec![(key.clone(), SerialBlock { next, ids })];
        blocks.resolve(claim(4, vec![99, 98, 97]), false);
        assert!(blocks.kept(&key).is_empty());
        blocks.resolve(claim(8, vec![103, 102, 101]), true);
        // Two jobs of one batch each claimed a block: both are kept, in turn.
        blocks.resolve(claim(20, vec![111, 110]), true);
        let got: Vec<_> = std::iter::from_fn(|| blocks.take(&key)).collect();
        assert_eq!(got, [(8, 101), (9, 102), (10, 103), (20, 110), (21, 111)]);
        assert!(blocks.kept(&key).is_empty(), "used-up blocks are gone");
        // A block with nothing left is not kept.
        blocks.resolve(claim(11, vec![]), true);
        assert!(blocks.kept(&key).is_empty());
        // Leftovers of days long past are let go when a later day's block is kept.
        let block = |next| SerialBlock {
            next,
            ids: vec![next as i64 + 1, next as i64],
        };
        blocks.resolve(vec![(day(7), block(1)), (day(8), block(1))], true);
        assert_eq!(blocks.kept(&day(7)).len(), 1, "yesterday's are kept");
        blocks.resolve(vec![(day(9), block(1))], true);
        assert!(blocks.kept(&day(7)).is_empty());
        assert_eq!(blocks.kept(&day(8)).len(), 1);
        assert_eq!(blocks.kept(&day(9)).len(), 1);
    }
}
