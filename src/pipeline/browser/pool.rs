//! How many browser sessions exist, and who gets one. `webdriver.sessions`
//! is a cap, not a demand: sessions alive plus sessions being requested
//! never exceed it. A capture takes an idle session when there is one,
//! asks for a new one while under the cap, and otherwise waits for one to
//! come back. A capture whose own request sits in a Selenium Grid's queue
//! takes whichever session comes back first; the request goes on, and its
//! session joins the pool when it arrives. So a busy Grid means fewer
//! sessions and waiting jobs, not failed ones.

use std::sync::Mutex;

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

/// Sessions of type `S`, idle or counted as alive.
pub(crate) struct Pool<S> {
    state: Mutex<State<S>>,
    changed: Notify,
    cap: usize,
}

struct State<S> {
    idle: Vec<S>,
    /// Sessions alive (idle or in use) plus requests under way.
    live: usize,
    /// Shut down: no new sessions, returned ones are closed.
    closed: bool,
}

/// What [`Pool::take`] found.
pub(crate) enum Take<S> {
    /// An idle session, now the caller's.
    Idle(S),
    /// Room for one more: the caller requests it and then either hands it
    /// in ([`Pool::give_back`]) or reports the failure ([`Pool::forget`]).
    Create,
    /// At the cap with none idle: wait for [`Pool::changed`].
    Wait,
    /// Shutting down.
    Closed,
}

impl<S> Pool<S> {
    pub fn new(cap: usize) -> Self {
        Self {
            state: Mutex::new(State {
                idle: Vec::new(),
                live: 0,
                closed: false,
            }),
            changed: Notify::new(),
            cap: cap.max(1),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<S>> {
        // A panic while holding this lock leaves plain counters behind,
        // still consistent enough to go on with.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resolves after the next change (a session back, a session or a
    /// request gone). Call it before [`Pool::take`] so no change is missed
    /// in between.
    pub fn changed(&self) -> Notified<'_> {
        self.changed.notified()
    }

    /// An idle session, else room for a new one when `may_create` (a
    /// caller whose own request is still under way waits for it instead of
    /// asking again).
    pub fn take(&self, may_create: bool) -> Take<S> {
        let mut state = self.state();
        if state.closed {
            return Take::Closed;
        }
        if let Some(session) = state.idle.pop() {
            return Take::Idle(session);
        }
        if may_create && state.live < self.cap {
            state.live += 1;
            return Take::Create;
        }
        Take::Wait
    }

    /// Puts a session (in use, or just created) back for the next capture;
    /// hands it back when the pool is shut down, for the caller to close
    /// (and then [`Pool::forget`]).
    pub fn give_back(&self, session: S) -> Result<(), S> {
        {
            let mut state = self.state();
            if state.closed {
                return Err(session);
            }
            state.idle.push(session);
        }
        self.changed.notify_waiters();
        Ok(())
    }

    /// One session (or request) fewer: it was closed, or never came.
    pub fn forget(&self) {
        {
            let mut state = self.state();
            state.live = state.live.saturating_sub(1);
        }
        self.changed.notify_waiters();
    }

    /// Shuts the pool: returns the idle sessions for closing; sessions in
    /// use or still requested are handed back to be closed when they come.
    pub fn drain(&self) -> Vec<S> {
        let idle = {
            let mut state = self.state();
            state.closed = true;
            let idle: Vec<S> = state.idle.drain(..).collect();
            state.live = state.live.saturating_sub(idle.len());
            idle
        };
        self.changed.notify_waiters();
        idle
    }

    /// Sessions alive plus requests under way.
    #[cfg(test)]
    pub fn live(&self) -> usize {
        self.state().live
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_counts_requests_under_way_and_a_returned_session_serves_a_waiter() {
        let pool: Pool<&str> = Pool::new(2);
        assert!(matches!(pool.take(true), Take::Create));
        assert!(matches!(pool.take(true), Take::Create));
        // Two requests under way (one may sit in a Grid's queue): a third
        // capture waits instead of asking for a third session.
        assert!(matches!(pool.take(true), Take::Wait));
        pool.forget();
        // Room again, but a caller with its own request under way waits.
        assert!(matches!(pool.take(false), Take::Wait));
        assert!(matches!(pool.take(true), Take::Create));
        pool.give_back("first").unwrap();
        assert!(matches!(pool.take(true), Take::Idle("first")));
        // The second request failed: room for one more.
        pool.forget();
        assert_eq!(pool.live(), 1);
        assert!(matches!(pool.take(true), Take::Create));
        assert_eq!(pool.live(), 2);
    }

    #[test]
    fn a_shut_pool_hands_sessions_back_for_closing() {
        let pool: Pool<&str> = Pool::new(2);
        assert!(matches!(pool.take(true), Take::Create));
        assert!(matches!(pool.take(true), Take::Create));
        pool.give_back("idle").unwrap();
        assert_eq!(pool.drain(), vec!["idle"]);
        assert_eq!(pool.live(), 1);
        assert!(matches!(pool.take(true), Take::Closed));
        assert_eq!(pool.give_back("late"), Err("late"));
    }

    #[tokio::test]
    async fn a_waiter_wakes_when_a_session_comes_back() {
        let pool = std::sync::Arc::new(Pool::<u32>::new(1));
        assert!(matches!(pool.take(true), Take::Create));
        let waiter = {
            let pool = pool.clone();
            tokio::spawn(async move {
                loop {
                    let changed = pool.changed();
                    match pool.take(true) {
                        Take::Idle(s) => return s,
                        Take::Wait => changed.await,
                        _ => panic!("at the cap"),
                    }
                }
            })
        };
        pool.give_back(7).unwrap();
        assert_eq!(waiter.await.unwrap(), 7);
    }
}
