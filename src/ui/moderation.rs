//! The moderators' panel: a modal with two tabs, "Reports" (those that came in live on top,
//! then the pages loaded when it opened, "Load older" for more) and "Audit log" (who did
//! what to whom, when). A report opens its conversation. Only moderators see its button.

use leptos::html::Dialog;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::conversations::href_of;
use super::drawer::FOCUS_RING;
use crate::client::{ChatClient, Log, clock};
use crate::protocol::{Action, AuditEntry, Report, is_direct_key};

const TAB: &str = "rounded-t-lg border-b-2 border-transparent px-3 py-1.5 text-sm font-medium text-slate-700 aria-selected:border-blue-700 aria-selected:text-blue-900 dark:text-slate-300 dark:aria-selected:text-blue-200";
const SMALL: &str = "rounded-lg border border-slate-300 px-2 py-0.5 text-sm hover:bg-slate-100 dark:border-slate-600 dark:hover:bg-slate-800";

/// One line for an audit entry: who did what to whom (times are the reader's local time).
pub fn audit_line(entry: &AuditEntry) -> String {
    let target = &entry.target;
    let until = |verb: &str| match entry.until {
        Some(until) => format!("{verb} {target} until {}", clock::local_time(until).1),
        None => format!("{verb} {target} for good"),
    };
    let what = match entry.action {
        Action::Delete => match &entry.room {
            Some(room) => format!("deleted a message of {target} in #{room}"),
            None => format!("deleted a message of {target}"),
        },
        Action::Mute => until("muted"),
        Action::Unmute => format!("unmuted {target}"),
        Action::Ban if entry.address => until("banned (with their network)"),
        Action::Ban => until("banned"),
        Action::Unban => format!("lifted the ban of {target}"),
        Action::RemoveRoom => format!("removed the room #{target}"),
        Action::ModeratorAdd => format!("made {target} a moderator"),
        Action::ModeratorRemove => format!("made {target} no longer a moderator"),
    };
    [entry.by_name.as_str(), " ", &what].concat()
}

/// Opens the panel, loading the newest reports and audit entries.
pub fn open(chat: ChatClient, dialog: NodeRef<Dialog>) {
    if let Some(dialog) = dialog.get_untracked() {
        chat.clear_notes();
        chat.load_records(Log::Reports, false);
        chat.load_records(Log::Audit, false);
        let _ = dialog.show_modal();
    }
}

#[component]
pub fn ModerationPanel(chat: ChatClient, dialog: NodeRef<Dialog>) -> impl IntoView {
    let tab = RwSignal::new(Log::Reports);
    let pick = move |log: Log| {
        move |_| {
            tab.set(log);
            chat.load_records(log, false);
        }
    };
    let selected = move |log: Log| move || if tab.get() == log { "true" } else { "false" };
    let close = move || {
        if let Some(dialog) = dialog.get_untracked() {
            dialog.close();
        }
    };
    view! {
        <dialog
            node_ref=dialog
            id="moderation"
            aria-labelledby="moderation-title"
            class="mx-auto mt-[8vh] flex-col w-[min(40rem,calc(100vw-2rem))] max-h-[84vh] rounded-xl bg-white p-0 text-slate-900 shadow-2xl ring-1 ring-slate-200 backdrop:bg-slate-950/50 open:flex dark:bg-slate-900 dark:text-slate-100 dark:ring-slate-700"
        >
            <div class="flex items-center gap-2 border-b border-slate-200 px-4 pt-3 dark:border-slate-700">
                <h2 id="moderation-title" class="mr-auto pb-2 text-lg font-semibold">"Moderation"</h2>
                <div role="tablist" aria-label="Records" class="flex gap-1">
                    <button type="button" role="tab" id="tab-reports" aria-controls="moderation-records"
                        aria-selected=selected(Log::Reports) class=TAB on:click=pick(Log::Reports)>
                        "Reports"
                    </button>
                    <button type="button" role="tab" id="tab-audit" aria-controls="moderation-records"
                        aria-selected=selected(Log::Audit) class=TAB on:click=pick(Log::Audit)>
                        "Audit log"
                    </button>
                </div>
                <button type="button" class=format!("mb-2 rounded-lg p-1 {FOCUS_RING}")
                    aria-label="Close moderation" on:click=move |_| close()>
                    <span class="icon icon-close" aria-hidden="true"></span>
                </button>
            </div>
            <div
                id="moderation-records"
                role="tabpanel"
                aria-labelledby=move || if tab.get() == Log::Reports { "tab-reports" } else { "tab-audit" }
                class="min-h-0 flex-1 overflow-y-auto p-3"
            >
                <p role="alert" class="text-sm text-red-700 empty:hidden dark:text-red-400">
                    {move || chat.error().get()}
                </p>
                {move || match tab.get() {
                    Log::Reports => view! { <ReportList chat close /> }.into_any(),
                    Log::Audit => view! { <AuditList chat /> }.into_any(),
                }}
            </div>
        </dialog>
    }
}

/// The "Load older" button of a record, or that nothing is there.
#[component]
fn Older(chat: ChatClient, log: Log, empty: Signal<bool>) -> impl IntoView {
    let pages = move || match log {
        Log::Reports => chat.report_pages().with(|p| (p.more, p.loading)),
        Log::Audit => chat.audit_pages().with(|p| (p.more, p.loading)),
    };
    view! {
        <p class="mt-2 text-sm text-slate-600 dark:text-slate-400" hidden=move || !empty.get() || pages().1>
            "Nothing here yet."
        </p>
        <button type="button" class=format!("mt-2 {SMALL} {FOCUS_RING}") hidden=move || !pages().0
            disabled=move || pages().1 on:click=move |_| chat.load_records(log, true)>
            {move || if pages().1 { "Loading…" } else { "Load older" }}
        </button>
    }
}

#[component]
fn ReportList(chat: ChatClient, close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let reports = Memo::new(move |_| chat.reports());
    let empty = Signal::derive(move || reports.with(Vec::is_empty));
    view! {
        <ul id="report-list" class="flex flex-col gap-2">
            <For each=move || reports.get() key=|r| r.id let(report)>
                <ReportRow chat report close />
            </For>
        </ul>
        <Older chat log=Log::Reports empty />
    }
}

#[component]
fn ReportRow(
    chat: ChatClient,
    report: Report,
    close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let navigate = use_navigate();
    let (short, full, _) = clock::local_time(report.ts);
    let place = chat.title(&report.room);
    let href = (!is_direct_key(&report.room)).then(|| href_of(chat, &report.room));
    let open = href.map(|href| {
        let go = move |_| {
            close();
            navigate(&href, Default::default());
        };
        view! {
            <button type="button" class=format!("{SMALL} {FOCUS_RING}") on:click=go>
                "Open conversation"
            </button>
        }
    });
    let reason = report
        .reason
        .map(|r| view! { <p class="text-sm">"Reason: "{r}</p> });
    view! {
        <li class="report rounded-lg border border-slate-200 p-2 dark:border-slate-700">
            <p class="text-sm text-slate-600 dark:text-slate-400">
                {report.by_name}" reported "<strong class="text-slate-900 dark:text-slate-100">{report.sender}</strong>
                " in "{place}" · "<time title=full>{short}</time>
            </p>
            <blockquote class="report-text my-1 border-l-2 border-slate-300 pl-2 whitespace-pre-wrap break-words dark:border-slate-600">
                {report.text}
            </blockquote>
            {reason}
            {open}
        </li>
    }
}

#[component]
fn AuditList(chat: ChatClient) -> impl IntoView {
    let entries = Memo::new(move |_| chat.audit_pages().with(|p| p.items.clone()));
    let empty = Signal::derive(move || entries.with(Vec::is_empty));
    view! {
        <ul id="audit-list" class="flex flex-col divide-y divide-slate-200 dark:divide-slate-700">
            <For each=move || entries.get() key=|e| e.id let(entry)>
                <li class="audit-entry flex gap-2 py-1.5 text-sm">
                    <span class="min-w-0 flex-1 break-words">{audit_line(&entry)}</span>
                    <time class="shrink-0 text-slate-600 dark:text-slate-400" title=clock::local_time(entry.ts).1>
                        {clock::local_time(entry.ts).0}
                    </time>
                </li>
            </For>
        </ul>
        <Older chat log=Log::Audit empty />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_audit_line_says_who_did_what_to_whom() {
        let mut entry = AuditEntry::of(Action::Delete, "aaaaaaaaaaaaaaaa");
        entry.by_name = "red-fox".into();
        entry.room = Some("general".into());
        assert_eq!(
            audit_line(&entry),
            "red-fox deleted a message of aaaaaaaaaaaaaaaa in #general"
        );
        entry.action = Action::Ban;
        entry.address = true;
        assert_eq!(
            audit_line(&entry),
            "red-fox banned (with their network) aaaaaaaaaaaaaaaa for good"
        );
        entry.action = Action::Mute;
        entry.until = Some(600_000);
        assert_eq!(
            audit_line(&entry),
            "red-fox muted aaaaaaaaaaaaaaaa until day 0, 00:10 UTC"
        );
        let removed = AuditEntry {
            by_name: "operator".into(),
            ..AuditEntry::of(Action::RemoveRoom, "spam")
        };
        assert_eq!(audit_line(&removed), "operator removed the room #spam");
    }
}
