//! The moderators' records as this page loaded them: pages of reports and of the audit log,
//! newest first, one page on its way at a time; and the reports that came in live merged in
//! front of the loaded ones.

use leptos::prelude::*;

use super::ChatState;
use crate::protocol::{Audit, AuditEntry, RecordsPage, Report, Reports};

/// Which of the two records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log {
    Reports,
    Audit,
}

/// A record's own number (the newest is the highest).
pub trait Numbered {
    fn number(&self) -> u64;
}

impl Numbered for Report {
    fn number(&self) -> u64 {
        self.id
    }
}

impl Numbered for AuditEntry {
    fn number(&self) -> u64 {
        self.id
    }
}

/// The pages of one record loaded so far, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pages<T> {
    pub items: Vec<T>,
    /// Whether older ones are left to load.
    pub more: bool,
    /// A page is on its way.
    pub loading: bool,
}

impl<T> Default for Pages<T> {
    fn default() -> Self {
        Pages {
            items: Vec::new(),
            more: false,
            loading: false,
        }
    }
}

impl<T: Numbered> Pages<T> {
    /// The page to ask for: the newest (`older` false, which starts afresh), or the one
    /// before the oldest held; `None` while one is on its way or when none is older.
    fn next(&mut self, older: bool) -> Option<RecordsPage> {
        if self.loading || (older && !self.more) {
            return None;
        }
        let before = if older {
            Some(self.items.last()?.number())
        } else {
            None
        };
        self.loading = true;
        Some(RecordsPage {
            before,
            limit: None,
        })
    }

    /// The page asked for with `before` came: the newest replaces what was held, an older one
    /// goes after it (anything already held is not repeated).
    fn on_page(&mut self, before: Option<u64>, items: Vec<T>, more: bool) {
        self.loading = false;
        if before.is_none() {
            self.items.clear();
        }
        let oldest = self.items.last().map_or(u64::MAX, Numbered::number);
        self.items
            .extend(items.into_iter().filter(|r| r.number() < oldest));
        self.more = more;
    }
}

/// The reports that came in live, then the loaded ones that are not among them, newest first.
pub fn merged(live: &[Report], loaded: &[Report]) -> Vec<Report> {
    let mut all: Vec<Report> = live.to_vec();
    all.extend(
        loaded
            .iter()
            .filter(|r| !live.iter().any(|l| l.id == r.id))
            .cloned(),
    );
    all.sort_by_key(|r| std::cmp::Reverse(r.id));
    all
}

impl ChatState {
    /// The page of `log` to ask for next (see [`Pages`]), marking it on its way.
    pub fn records_request(&self, log: Log, older: bool) -> Option<RecordsPage> {
        match log {
            Log::Reports => self.report_pages.try_update(|p| p.next(older)).flatten(),
            Log::Audit => self.audit_pages.try_update(|p| p.next(older)).flatten(),
        }
    }

    pub fn on_reports(&self, before: Option<u64>, page: Reports) {
        self.report_pages
            .update(|p| p.on_page(before, page.reports, page.more));
    }

    pub fn on_audit(&self, before: Option<u64>, page: Audit) {
        self.audit_pages
            .update(|p| p.on_page(before, page.entries, page.more));
    }

    /// The page of `log` on its way will not come (refused, or the connection went).
    pub fn records_failed(&self, log: Log) {
        let unmark = |loading: &mut bool| *loading = false;
        match log {
            Log::Reports => self.report_pages.update(|p| unmark(&mut p.loading)),
            Log::Audit => self.audit_pages.update(|p| unmark(&mut p.loading)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    fn report(id: u64) -> Report {
        Report {
            id,
            text: format!("r{id}"),
            ..Report::default()
        }
    }

    fn ids(list: &[Report]) -> Vec<u64> {
        list.iter().map(|r| r.id).collect()
    }

    #[test]
    fn pages_load_newest_first_then_older_one_at_a_time() {
        Owner::new().with(|| {
            let chat = welcomed();
            let first = chat.records_request(Log::Reports, false).unwrap();
            assert_eq!(first.before, None);
            assert_eq!(
                chat.records_request(Log::Reports, false),
                None,
                "one at a time"
            );
            let page = |ids: &[u64], more| Reports {
                reports: ids.iter().copied().map(report).collect(),
                more,
            };
            chat.on_reports(None, page(&[9, 8], true));
            let older = chat.records_request(Log::Reports, true).unwrap();
            assert_eq!(older.before, Some(8));
            // A report filed meanwhile may come again on the older page: shown once.
            chat.on_reports(Some(8), page(&[8, 5], false));
            let held = chat.report_pages.get_untracked();
            assert_eq!(ids(&held.items), [9, 8, 5]);
            assert_eq!(
                chat.records_request(Log::Reports, true),
                None,
                "nothing older is left"
            );
            // Opening again starts from the newest.
            assert!(chat.records_request(Log::Reports, false).is_some());
            chat.on_reports(None, page(&[10], false));
            assert_eq!(ids(&chat.report_pages.get_untracked().items), [10]);
        });
    }

    #[test]
    fn a_page_that_does_not_come_can_be_asked_again() {
        Owner::new().with(|| {
            let chat = welcomed();
            assert!(chat.records_request(Log::Audit, false).is_some());
            chat.records_failed(Log::Audit);
            assert!(chat.records_request(Log::Audit, false).is_some());
            assert_eq!(
                chat.records_request(Log::Reports, true),
                None,
                "nothing held: no older page"
            );
        });
    }

    #[test]
    fn live_reports_come_first_and_the_loaded_copy_of_one_is_not_repeated() {
        let live = [report(12), report(11)];
        let loaded = [report(11), report(7)];
        assert_eq!(ids(&merged(&live, &loaded)), [12, 11, 7]);
        assert_eq!(ids(&merged(&[], &loaded)), [11, 7]);
    }
}
