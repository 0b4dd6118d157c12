//! One sender per data dir. Every `outreach send` of this process (the
//! CLI embedded, or any client attached to the host: CLIs, TUIs, cron) goes
//! through the [`SendDesk`]: one send runs at a time, the others wait for
//! it and say so, and each can be stopped between two messages (its
//! client left, or the operator ran `outreach stop`).
//!
//! The desk also names this process's host instance: an email in
//! `sending` claimed under it is being sent right now; any other claim is
//! from a process that is gone and is recovered for review.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::outreach::{SendEvent, SendRequest, SendSummary};
use super::{Result, Service};
use crate::domain::Timestamp;

/// A send that is running or waiting for its turn, as `outreach stop` and
/// the TUI show it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunningSend {
    pub id: String,
    pub campaign: String,
    /// Who asked: OS user and how they came (`cli outreach send`, `tui`).
    pub by: String,
    pub started_at: Timestamp,
    /// `waiting` for another send to end, or `sending`.
    pub state: String,
    /// Goes on without its client (`--detach`).
    pub detached: bool,
}

impl RunningSend {
    /// `campaign by who, ...`, for messages about several sends.
    pub fn describe(sends: &[RunningSend]) -> String {
        sends
            .iter()
            .map(|s| format!("{} by {}", s.campaign, s.by))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

struct Entry {
    send: RunningSend,
    stop: Arc<watch::Sender<bool>>,
}

/// The sends of this process.
pub struct SendDesk {
    instance: String,
    /// Held by the send that is running; the others wait on it.
    turn: tokio::sync::Mutex<()>,
    running: Mutex<Vec<Entry>>,
}

impl SendDesk {
    pub fn new() -> Self {
        Self {
            instance: ulid::Ulid::new().to_string(),
            turn: tokio::sync::Mutex::new(()),
            running: Mutex::new(Vec::new()),
        }
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        // A panic elsewhere while holding the list leaves it usable.
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_state(&self, id: &str, state: &str) {
        if let Some(e) = self.entries().iter_mut().find(|e| e.send.id == id) {
            e.send.state = state.to_string();
        }
    }

    pub fn list(&self) -> Vec<RunningSend> {
        self.entries().iter().map(|e| e.send.clone()).collect()
    }

    /// Asks the sends (of one campaign) to stop; they end after the
    /// message in hand, if any.
    pub fn stop(&self, campaign: Option<&str>) -> Vec<RunningSend> {
        let entries = self.entries();
        entries
            .iter()
            .filter(|e| campaign.is_none_or(|c| e.send.campaign == c))
            .map(|e| {
                e.stop.send_replace(true);
                e.send.clone()
            })
            .collect()
    }
}

impl Default for SendDesk {
    fn default() -> Self {
        Self::new()
    }
}

/// Takes a send off the desk when it ends, however it ends.
struct Registered<'a> {
    desk: &'a SendDesk,
    id: String,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.desk.entries().retain(|e| e.send.id != self.id);
    }
}

impl Service {
    /// The sends running or waiting in the process that holds the store.
    pub async fn running_sends(&self) -> Result<Vec<RunningSend>> {
        Ok(self.send_desk().list())
    }

    /// Stops the running sends (of one campaign) after the message in
    /// hand; returns the sends asked to stop.
    pub async fn stop_sends(&self, campaign: Option<&str>) -> Result<Vec<RunningSend>> {
        let stopped = self.send_desk().stop(campaign);
        if !stopped.is_empty() {
            self.log_action(
                "send_stop",
                campaign,
                campaign.unwrap_or("all sends").to_string(),
                format!(
                    "asked {} send(s) to stop: {}",
                    stopped.len(),
                    RunningSend::describe(&stopped)
                ),
            )?;
            self.store().flush().await?;
        }
        Ok(stopped)
    }

    /// Sends with the desk: waits for a running send to end first (and
    /// says so through `progress`), and ends early when `stop` turns true
    /// or `outreach stop` asks.
    pub async fn send_outreach_until(
        &self,
        request: &SendRequest,
        stop: Arc<watch::Sender<bool>>,
        mut progress: impl FnMut(&SendEvent),
    ) -> Result<SendSummary> {
        if request.dry_run {
            return self.send_now(request, stop.subscribe(), progress).await;
        }
        self.refuse_if_read_only("outreach send")?;
        let desk = self.send_desk();
        let id = self.new_ulid().to_string();
        let actor = self.actor();
        let entry = Entry {
            send: RunningSend {
                id: id.clone(),
                campaign: request.campaign.clone(),
                by: format!("{} via {}", actor.user, actor.via),
                started_at: self.now(),
                state: "waiting".into(),
                detached: request.detach,
            },
            stop: stop.clone(),
        };
        let ahead = desk.list();
        desk.entries().push(entry);
        let _registered = Registered {
            desk,
            id: id.clone(),
        };
        let mut stopped = stop.subscribe();
        let turn = match desk.turn.try_lock() {
            Ok(turn) => turn,
            Err(_) => {
                let who = ahead
                    .iter()
                    .map(|s| format!("{} by {} since {}", s.campaign, s.by, s.started_at))
                    .collect::<Vec<_>>()
                    .join("; ");
                progress(&SendEvent {
                    lead: String::new(),
                    to: String::new(),
                    outcome: "waiting".into(),
                    detail: Some(format!(
                        "another send is running ({who}); this one starts when it ends (leadscout outreach stop ends it)"
                    )),
                });
                tokio::select! {
                    turn = desk.turn.lock() => turn,
                    _ = stopped.wait_for(|s| *s) => {
                        return Ok(SendSummary { stopped: true, ..Default::default() });
                    }
                }
            }
        };
        desk.set_state(&id, "sending");
        let summary = self.send_now(request, stopped, progress).await;
        drop(turn);
        summary
    }
}

impl Service {
    fn send_desk(&self) -> &SendDesk {
        &self.sends
    }
}

impl Service {
    pub(super) fn send_desk_instance(&self) -> &str {
        self.sends.instance()
    }
}
