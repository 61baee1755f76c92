//! One credential's usage in memory: exact counters, and what it gathered since the last
//! flush.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{Counters, RecentUse, RequestMethod, Rollup, Subject, SubjectUsage, UsageOutcome};
use crate::clock::{MINUTE, Timestamp, period_start};

/// A credential whose uses are recorded: an API key, a session, a bearer token.
pub trait Tracked: Send + Sync + 'static {
    /// Whose usage this is.
    fn subject(&self) -> Subject;
    /// Where its usage is gathered.
    fn usage_slot(&self) -> &UsageSlot;
    /// What is kept of its uses (all of it, unless it says otherwise).
    fn detail(&self) -> Detail {
        Detail::Full
    }
}

/// What is kept of a credential's uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detail {
    /// Counters, rollups and the last requests.
    Full,
    /// When it was last seen, written at most once a minute: a session's idle clock.
    LastSeen,
}

/// A credential's counters and the usage it gathered since the last flush, under one small
/// lock that only requests with this credential (and the writer, once per flush) take.
#[derive(Debug)]
pub struct UsageSlot(Mutex<SlotState>);

#[derive(Debug)]
struct SlotState {
    uses: u64,
    /// `i64::MIN` for never.
    last_used: Timestamp,
    /// `None` until the first use after a flush: an idle credential holds nothing more.
    pending: Option<Box<Pending>>,
}

/// What one credential gathered since the last flush.
#[derive(Debug)]
struct Pending {
    /// `uses` when this began: the delta to write is `uses - base_uses`.
    base_uses: u64,
    cells: Vec<Cell>,
    /// Its last uses, oldest first, at most the configured number.
    recent: VecDeque<Recent>,
}

/// Counts of one (route, method, outcome), per minute.
#[derive(Debug)]
struct Cell {
    route: Arc<str>,
    method: RequestMethod,
    outcome: UsageOutcome,
    /// (minute, count), one entry per minute seen, oldest first.
    minutes: Vec<(Timestamp, u64)>,
}

#[derive(Debug, Clone, Copy)]
struct Recent {
    n: u64,
    at: Timestamp,
    cell: u16,
}

/// More distinct cells than any router has routes times methods times outcomes: beyond it,
/// uses are counted but not broken down (a guard against misuse of the API, not a real limit).
const MAX_CELLS: usize = 4096;

/// One use, as the request path reports it.
pub(crate) struct Use<'a> {
    pub(crate) at: Timestamp,
    pub(crate) outcome: UsageOutcome,
    pub(crate) method: RequestMethod,
    pub(crate) route: &'a str,
}

fn lock(mutex: &Mutex<SlotState>) -> MutexGuard<'_, SlotState> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl UsageSlot {
    /// A slot starting from stored counters.
    pub fn new(counters: Counters) -> Self {
        UsageSlot(Mutex::new(SlotState {
            uses: counters.uses,
            last_used: counters.last_used_at.unwrap_or(i64::MIN),
            pending: None,
        }))
    }

    /// The counters, exact: every use recorded so far, written or not.
    pub fn counters(&self) -> Counters {
        let state = lock(&self.0);
        Counters {
            uses: state.uses,
            last_used_at: (state.last_used != i64::MIN).then_some(state.last_used),
        }
    }

    /// Replaces the counters (when stored counters are loaded after the credential).
    pub fn reset(&self, counters: Counters) {
        let mut state = lock(&self.0);
        let gathered = state.pending.as_ref().map_or(0, |p| state.uses - p.base_uses);
        state.uses = counters.uses + gathered;
        if let Some(pending) = state.pending.as_mut() {
            pending.base_uses = counters.uses;
        }
        state.last_used = state.last_used.max(counters.last_used_at.unwrap_or(i64::MIN));
    }

    /// Records one use. Returns whether the slot began gathering with it (and so must be
    /// queued for the writer). `intern` gives the shared copy of a route the first time a
    /// cell needs one.
    pub(crate) fn record(
        &self,
        used: Use<'_>,
        detail: Detail,
        recent_capacity: usize,
        intern: impl FnOnce(&str) -> Arc<str>,
    ) -> bool {
        let mut state = lock(&self.0);
        let new_minute = state.last_used == i64::MIN
            || period_start(used.at, MINUTE) > period_start(state.last_used, MINUTE);
        state.uses += 1;
        state.last_used = state.last_used.max(used.at);
        let n = state.uses;
        let began = state.pending.is_none();
        if detail == Detail::LastSeen {
            // Only the first use in a minute is written: enough for an idle clock.
            if began && new_minute {
                state.pending = Some(Box::new(Pending {
                    base_uses: n - 1,
                    cells: Vec::new(),
                    recent: VecDeque::new(),
                }));
                return true;
            }
            return false;
        }
        let base_uses = n - 1;
        let pending = state.pending.get_or_insert_with(|| {
            Box::new(Pending { base_uses, cells: Vec::new(), recent: VecDeque::new() })
        });
        let found = pending.cells.iter().position(|c| {
            c.method == used.method && c.outcome == used.outcome && *c.route == *used.route
        });
        let index = match found {
            Some(index) => index,
            None if pending.cells.len() < MAX_CELLS => {
                pending.cells.push(Cell {
                    route: intern(used.route),
                    method: used.method,
                    outcome: used.outcome,
                    minutes: Vec::new(),
                });
                pending.cells.len() - 1
            }
            None => return began,
        };
        let cell = &mut pending.cells[index];
        match cell.minutes.last_mut() {
            Some((m, count)) if (*m..*m + MINUTE).contains(&used.at) => *count += 1,
            _ => cell.minutes.push((period_start(used.at, MINUTE), 1)),
        }
        if pending.recent.len() == recent_capacity {
            pending.recent.pop_front();
        }
        let cell = u16::try_from(index).unwrap_or(u16::MAX);
        pending.recent.push_back(Recent { n, at: used.at, cell });
        began
    }

    /// Takes what was gathered since the last flush, as the rows to write.
    pub(crate) fn take(&self, subject: Subject) -> Option<SubjectUsage> {
        let (pending, counters) = {
            let mut state = lock(&self.0);
            let pending = state.pending.take()?;
            let counters = Counters {
                uses: state.uses - pending.base_uses,
                last_used_at: Some(state.last_used),
            };
            (pending, counters)
        };
        let rollups = pending
            .cells
            .iter()
            .flat_map(|cell| {
                cell.minutes.iter().map(|&(minute, count)| Rollup {
                    minute,
                    route: cell.route.to_string(),
                    method: cell.method,
                    outcome: cell.outcome,
                    count,
                })
            })
            .collect();
        let recent = pending
            .recent
            .iter()
            .filter_map(|r| {
                let cell = pending.cells.get(usize::from(r.cell))?;
                Some(RecentUse {
                    n: r.n,
                    at: r.at,
                    method: cell.method,
                    outcome: cell.outcome,
                    route: cell.route.to_string(),
                })
            })
            .collect();
        Some(SubjectUsage { subject, counters, rollups, recent })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::CredentialKind;

    fn use_at(at: Timestamp, route: &str, outcome: UsageOutcome) -> Use<'_> {
        Use { at, outcome, method: RequestMethod::Get, route }
    }

    #[test]
    fn gathers_counts_cells_and_the_last_uses_until_taken() {
        let slot = UsageSlot::new(Counters { uses: 10, last_used_at: Some(5) });
        let intern = |r: &str| Arc::<str>::from(r);
        assert!(
            slot.record(use_at(60, "/a", UsageOutcome::Ok), Detail::Full, 2, intern),
            "began gathering"
        );
        assert!(!slot.record(use_at(61, "/a", UsageOutcome::Ok), Detail::Full, 2, intern));
        assert!(!slot.record(use_at(130, "/a", UsageOutcome::Ok), Detail::Full, 2, intern));
        assert!(!slot.record(use_at(131, "/b", UsageOutcome::Forbidden), Detail::Full, 2, intern));
        assert_eq!(slot.counters(), Counters { uses: 14, last_used_at: Some(131) });

        let subject = Subject::new(CredentialKind::ApiKey, "k");
        let taken = slot.take(subject.clone()).unwrap();
        assert_eq!(taken.counters, Counters { uses: 4, last_used_at: Some(131) }, "a delta");
        let counts: Vec<(i64, &str, u64)> =
            taken.rollups.iter().map(|r| (r.minute, r.route.as_str(), r.count)).collect();
        assert_eq!(counts, [(60, "/a", 2), (120, "/a", 1), (120, "/b", 1)]);
        let recent: Vec<(u64, &str)> =
            taken.recent.iter().map(|r| (r.n, r.route.as_str())).collect();
        assert_eq!(recent, [(13, "/a"), (14, "/b")], "only the last two");
        assert!(slot.take(subject).is_none(), "nothing gathered since");
        assert_eq!(slot.counters().uses, 14, "counters stay");
        assert!(
            slot.record(use_at(200, "/a", UsageOutcome::Ok), Detail::Full, 2, intern),
            "begins again"
        );
    }

    #[test]
    fn last_seen_is_written_once_a_minute() {
        let slot = UsageSlot::new(Counters::default());
        let intern = |r: &str| Arc::<str>::from(r);
        let seen = |at| use_at(at, "/a", UsageOutcome::Ok);
        assert!(slot.record(seen(60), Detail::LastSeen, 2, intern));
        assert!(!slot.record(seen(70), Detail::LastSeen, 2, intern));
        let subject = Subject::new(CredentialKind::Session, "s");
        let taken = slot.take(subject.clone()).unwrap();
        assert_eq!(taken.counters.last_used_at, Some(70), "the latest, when written");
        assert!((taken.rollups.is_empty(), taken.recent.is_empty()) == (true, true));
        assert!(!slot.record(seen(100), Detail::LastSeen, 2, intern), "still the same minute");
        assert!(slot.take(subject.clone()).is_none());
        assert_eq!(slot.counters().last_used_at, Some(100), "seen, in memory, at once");
        assert!(slot.record(seen(125), Detail::LastSeen, 2, intern), "a new minute");
        assert_eq!(slot.take(subject).unwrap().counters.last_used_at, Some(125));
    }
}
