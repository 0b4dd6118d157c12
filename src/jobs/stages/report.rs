//! The report stage: publish the lead's private report link (a random
//! token, kept when it is still live) and move the lead to `reported`. The
//! page itself is rendered by the page server from the latest audit, so a
//! re-audit shows up without republishing.

use super::store_error;
use crate::domain::report::ReportLink;
use crate::jobs::stage::{StageContext, StageError, StageFuture, StageHandler, StageOutcome};

pub struct ReportStage {
    /// How long a new link stays live; zero never expires.
    pub expiry: std::time::Duration,
}

impl StageHandler for ReportStage {
    fn run(&self, ctx: StageContext) -> StageFuture<'_> {
        Box::pin(async move {
            let lead = ctx.job.lead;
            if ctx
                .store
                .audits_of(lead, 1)
                .map_err(store_error)?
                .is_empty()
            {
                return Err(StageError::permanent(
                    "the lead has no audit yet; run the audit stage first",
                ));
            }
            let now = ctx.clock.now();
            let fresh = ReportLink::new(lead, rand::random(), now, self.expiry);
            ctx.store
                .publish_report(&fresh, now)
                .map_err(store_error)?
                .ok_or_else(|| StageError::permanent(format!("lead {lead} no longer exists")))?;
            Ok(StageOutcome::Done)
        })
    }
}
