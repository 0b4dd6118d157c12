//! Taking changes back through the real service on a data dir: a rejected
//! draft returns to draft with its text intact and both changes in the
//! action log; a blacklist entry says which leads it suppressed, and
//! removing it gives them their status back.

use std::time::Duration;

use leadscout::config::Config;
use leadscout::domain::BlacklistReason;
use leadscout::domain::outreach::OutreachStatus;
use leadscout::service::Opener;

use crate::report::{opener, runtime};
use crate::smtp::SmtpServer;

#[test]
fn reject_then_restore_brings_the_draft_back_intact() {
    let smtp = SmtpServer::start(Duration::ZERO);
    let s = crate::outreach::setup(
        smtp.port,
        &[
            ("Alpha Bakery", "a@alpha.example"),
            ("Bravo Dental", "b@bravo.example"),
        ],
        &[],
    );
    let (a, b) = (
        s.leads["a@alpha.example"].clone(),
        s.leads["b@bravo.example"].clone(),
    );
    runtime().block_on(async {
        let service = opener(&s.cli, Config::default()).open("test").unwrap();
        let before = service.show_outreach(&a).await.unwrap().outreach;
        assert_eq!(before.status, OutreachStatus::Draft);

        assert_eq!(
            service
                .reject_outreach(std::slice::from_ref(&a))
                .await
                .unwrap(),
            1
        );
        let rejected = service.show_outreach(&a).await.unwrap().outreach;
        assert_eq!(rejected.status, OutreachStatus::Rejected);
        assert_eq!(
            service.lead(&a).await.unwrap().lead.status.as_str(),
            "rejected"
        );

        let restored = service
            .restore_outreach(std::slice::from_ref(&a))
            .await
            .unwrap();
        assert_eq!(restored, vec!["Alpha Bakery".to_string()]);
        let after = service.show_outreach(&a).await.unwrap().outreach;
        assert_eq!(after.status, OutreachStatus::Draft);
        assert_eq!(
            (after.subject.as_str(), after.body.as_str(), after.version()),
            (
                before.subject.as_str(),
                before.body.as_str(),
                before.version()
            ),
            "the text is untouched"
        );
        assert_eq!(
            service.lead(&a).await.unwrap().lead.status.as_str(),
            "drafted"
        );

        // Only a rejected email goes back; nothing changes otherwise.
        let refused = service
            .restore_outreach(std::slice::from_ref(&a))
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("only rejected emails"),
            "{refused}"
        );

        let log = service.action_log(Some("c"), 50).await.unwrap();
        let reject = log
            .iter()
            .position(|r| r.action == "reject" && r.target == a);
        let restore = log
            .iter()
            .position(|r| r.action == "restore" && r.target == a);
        assert!(
            matches!((reject, restore), (Some(x), Some(y)) if x < y),
            "{log:#?}"
        );
        assert!(log[restore.unwrap()].change.contains("Alpha Bakery"));

        // The blacklist says which leads an entry suppressed.
        let none = service
            .blacklist_add("nobody@else.example", BlacklistReason::Manual, "test")
            .await
            .unwrap();
        assert!(none.added && none.leads.is_empty());
        let one = service
            .blacklist_add("b@bravo.example", BlacklistReason::Manual, "test")
            .await
            .unwrap();
        assert_eq!(
            (one.added, one.leads.clone()),
            (true, vec!["Bravo Dental".to_string()])
        );
        let again = service
            .blacklist_add("b@bravo.example", BlacklistReason::Manual, "test")
            .await
            .unwrap();
        assert!(!again.added && again.leads.is_empty());
        assert_eq!(
            service.lead(&b).await.unwrap().lead.status.as_str(),
            "blacklisted"
        );
        service.blacklist_remove("b@bravo.example").await.unwrap();
        assert_eq!(
            service.lead(&b).await.unwrap().lead.status.as_str(),
            "drafted",
            "the undo of a blacklist gives the lead its status back"
        );
        service.shutdown().await;
    });
}

/// The CLI takes a reject back too: `outreach restore` puts the draft
/// back as it was, and says plainly when there is nothing to restore.
#[test]
fn the_cli_restores_a_rejected_draft() {
    let smtp = SmtpServer::start(Duration::ZERO);
    let s = crate::outreach::setup(smtp.port, &[("Alpha Bakery", "a@alpha.example")], &[]);
    let a = s.leads["a@alpha.example"].clone();
    let before = s.cli.json(&["outreach", "show", &a]);
    assert!(
        before["body"].as_str().is_some_and(|b| !b.is_empty()),
        "{before}"
    );
    s.cli.ok(&["outreach", "reject", &a]);
    assert_eq!(s.cli.json(&["outreach", "show", &a])["status"], "rejected");
    let said = s.cli.ok(&["outreach", "restore", &a]);
    assert!(said.contains("Back to draft: Alpha Bakery"), "{said}");
    let after = s.cli.json(&["outreach", "show", &a]);
    assert_eq!(after["status"], "draft", "{after}");
    assert_eq!(after["subject"], before["subject"]);
    assert_eq!(after["body"], before["body"]);
    let refused = s.cli.fails(&["outreach", "restore", &a]);
    assert!(refused.contains("only rejected emails"), "{refused}");
}
