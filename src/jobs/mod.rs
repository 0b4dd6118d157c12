//! The job engine: apalis workers over a durable queue in the same sled
//! store, with leases, heartbeats, retries with backoff, recorded attempts,
//! group-committed state changes, an outbox for side effects, and the event
//! bus.
//!
//! Uses `domain`, `store` and `pipeline` (through stage handlers); never
//! `service`, `cli`, `tui` or `web`.

mod ack;
pub mod address_gate;
mod backend;
mod durability;
pub mod engine;
pub mod events;
pub mod followup;
pub mod inbox;
mod queue;
pub mod sender;
pub mod stage;
pub mod stages;

pub use engine::{EngineHandle, EngineParts};
pub use events::EventBus;
pub use stage::{
    Effect, ErrorKind, StageContext, StageError, StageFuture, StageHandler, StageOutcome, StageSet,
};
