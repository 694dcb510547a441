//! Live job status for event streams, fed by PostgreSQL's change feed
//! (`LISTEN`/`NOTIFY`, so a transition written by any process reaches every
//! process's streams). One task per process holds one listening connection;
//! after each burst of notifications it reads, in one query for all open
//! streams, what changed for the jobs being watched, and hands each stream
//! its transitions, then `End` once its job is final. Nothing is read while
//! nothing changes: a stream of a post scheduled far ahead costs nothing.
//! Each user may hold a bounded number of streams; a stream ends when the
//! session or API token that opened it ends.

use std::collections::HashMap;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::domain::{JobId, JobStatus, UserId};
use crate::persistence::change_feed::{self, CREDENTIALS_ENDED, TASK_CHANGES};
use crate::persistence::publishing::EventRow;

/// Items a stream waits for at most before it is considered stuck and dropped.
const STREAM_BUFFER: usize = 256;
/// After a failed read or a lost listener, the next try.
const RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// What a stream receives.
#[derive(Debug)]
pub enum FeedItem {
    /// New transitions of its job, in order.
    Transitions(Vec<EventRow>),
    /// The job is final; nothing more will come.
    End(JobStatus),
    /// The session or token that opened the stream has ended.
    CredentialEnded,
}

/// Why a stream could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("you already have {0} live streams open; close one first")]
    TooMany(usize),
    #[error("live status is not available in this process")]
    Unavailable,
}

/// A request to follow a job.
pub struct Watch {
    pub user: UserId,
    pub job: JobId,
    /// The last transition the client has seen.
    pub after: i64,
    /// Who opened it: `session:<hex SHA-256 of its CSRF token>` or `token:<id>`.
    pub credential: String,
}

struct Watcher {
    user: UserId,
    job: JobId,
    after: i64,
    credential: String,
    items: mpsc::Sender<FeedItem>,
}

/// The answer to a [`Watch`]: the stream's items, or why not.
type Watching = Result<mpsc::Receiver<FeedItem>, WatchError>;
/// A watch request and where its answer goes.
type Request = (Watch, oneshot::Sender<Watching>);

/// The handle streams subscribe through.
#[derive(Clone)]
pub struct LiveFeed {
    requests: mpsc::UnboundedSender<Request>,
}

impl LiveFeed {
    /// Starts the feed's task on the current runtime.
    pub fn start(pool: PgPool, max_per_user: usize) -> Self {
        let (requests, inbox) = mpsc::unbounded_channel();
        actix::spawn(run(pool, inbox, max_per_user));
        Self { requests }
    }

    /// Follows a job; items arrive on the receiver until `End` or `CredentialEnded`.
    pub async fn watch(&self, watch: Watch) -> Watching {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send((watch, reply))
            .map_err(|_| WatchError::Unavailable)?;
        answer.await.map_err(|_| WatchError::Unavailable)?
    }
}

type Inbox = mpsc::UnboundedReceiver<Request>;

/// What the listening task saw.
enum Signal {
    /// Something changed (or the listener reconnected and may have missed changes).
    Changed,
    /// A session or token ended.
    CredentialEnded(String),
}

/// A listener that may be dropped while the runtime shuts down: sqlx closes a
/// listener's connection from a spawned task, which needs a runtime; without
/// one the connection is left to the process's end.
struct Listening(Option<sqlx::postgres::PgListener>);

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(listener) = self.0.take()
            && tokio::runtime::Handle::try_current().is_err()
        {
            std::mem::forget(listener);
        }
    }
}

/// Owns the listening connection; forwards what it hears (a task of its own,
/// so that waiting for a notification is never cancelled half-way).
async fn listen(pool: PgPool, signals: mpsc::UnboundedSender<Signal>) {
    loop {
        let mut listener = match change_feed::listen(&pool).await {
            Ok(listener) => Listening(Some(listener)),
            Err(error) => {
                tracing::warn!(error = %error, "the change feed cannot listen; live streams wait");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        // Whatever changed before the listener was up is read once now.
        if signals.send(Signal::Changed).is_err() {
            return;
        }
        loop {
            let Some(feed) = listener.0.as_mut() else {
                return;
            };
            let signal = match feed.try_recv().await {
                Ok(Some(n)) if n.channel() == CREDENTIALS_ENDED => {
                    Signal::CredentialEnded(n.payload().to_owned())
                }
                Ok(Some(n)) => {
                    debug_assert_eq!(n.channel(), TASK_CHANGES);
                    Signal::Changed
                }
                // The connection was lost; it reconnects on the next call.
                Ok(None) => Signal::Changed,
                Err(error) => {
                    tracing::warn!(error = %error, "the change feed's listener failed; reconnecting");
                    let _ = signals.send(Signal::Changed);
                    tokio::time::sleep(RETRY).await;
                    break;
                }
            };
            if signals.send(signal).is_err() {
                return;
            }
        }
    }
}

async fn run(pool: PgPool, mut inbox: Inbox, max_per_user: usize) {
    let (signal_tx, mut signals) = mpsc::unbounded_channel();
    // Listening starts with the first stream: a process nobody watches holds no connection for it.
    let mut signal_tx = Some(signal_tx);
    let mut watchers: Vec<Watcher> = Vec::new();
    loop {
        let mut dirty;
        tokio::select! {
            request = inbox.recv() => match request {
                Some((watch, reply)) => {
                    if let Some(tx) = signal_tx.take() {
                        actix::spawn(listen(pool.clone(), tx));
                    }
                    admit(&mut watchers, watch, reply, max_per_user);
                    // The transitions it missed since its snapshot.
                    dirty = true;
                }
                None => return,
            },
            signal = signals.recv() => match signal {
                Some(signal) => dirty = absorb(&mut watchers, signal),
                None => return,
            },
        }
        // Coalesce the burst: everything already heard is covered by one read.
        while let Ok(signal) = signals.try_recv() {
            dirty |= absorb(&mut watchers, signal);
        }
        watchers.retain(|w| !w.items.is_closed());
        while dirty && !watchers.is_empty() {
            match deliver(&pool, &mut watchers).await {
                Ok(()) => dirty = false,
                Err(error) => {
                    tracing::warn!(error = %error, "reading the change feed failed; retrying");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }
}

/// Applies a signal; whether the streams need a read.
fn absorb(watchers: &mut Vec<Watcher>, signal: Signal) -> bool {
    match signal {
        Signal::Changed => true,
        Signal::CredentialEnded(ended) => {
            watchers.retain(|w| {
                if w.credential == ended {
                    let _ = w.items.try_send(FeedItem::CredentialEnded);
                    false
                } else {
                    true
                }
            });
            false
        }
    }
}

fn admit(
    watchers: &mut Vec<Watcher>,
    watch: Watch,
    reply: oneshot::Sender<Watching>,
    max_per_user: usize,
) {
    watchers.retain(|w| !w.items.is_closed());
    let open = watchers.iter().filter(|w| w.user == watch.user).count();
    if open >= max_per_user {
        let _ = reply.send(Err(WatchError::TooMany(open)));
        return;
    }
    let (items, receiver) = mpsc::channel(STREAM_BUFFER);
    if reply.send(Ok(receiver)).is_ok() {
        watchers.push(Watcher {
            user: watch.user,
            job: watch.job,
            after: watch.after,
            credential: watch.credential,
            items,
        });
    }
}

/// One read for every open stream: new transitions, then final statuses.
async fn deliver(
    pool: &PgPool,
    watchers: &mut Vec<Watcher>,
) -> Result<(), crate::persistence::StoreError> {
    let mut cursors: HashMap<JobId, i64> = HashMap::new();
    for w in watchers.iter() {
        let cursor = cursors.entry(w.job).or_insert(w.after);
        *cursor = (*cursor).min(w.after);
    }
    let cursors: Vec<(JobId, i64)> = cursors.into_iter().collect();
    let jobs: Vec<JobId> = cursors.iter().map(|(j, _)| *j).collect();
    // Statuses first: a job read as final has all its transitions in the events read next.
    let statuses: HashMap<JobId, JobStatus> = change_feed::job_statuses(pool, &jobs)
        .await?
        .into_iter()
        .collect();
    let events = change_feed::events_after(pool, &cursors).await?;
    let mut by_job: HashMap<JobId, Vec<&EventRow>> = HashMap::new();
    for event in &events {
        by_job.entry(event.job_id).or_default().push(event);
    }
    watchers.retain_mut(|w| {
        let mine: Vec<EventRow> = by_job
            .get(&w.job)
            .map(|all| {
                all.iter()
                    .filter(|e| e.id > w.after)
                    .map(|e| (*e).clone())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(last) = mine.last() {
            w.after = last.id;
            // A stream that cannot keep up is dropped; its client reconnects with Last-Event-ID.
            if w.items.try_send(FeedItem::Transitions(mine)).is_err() {
                return false;
            }
        }
        match statuses.get(&w.job) {
            Some(status) if status.is_terminal() => {
                let _ = w.items.try_send(FeedItem::End(*status));
                false
            }
            // The job is gone.
            None => false,
            Some(_) => true,
        }
    });
    Ok(())
}
