//! The classifier on literal raw messages, as providers send them.

use super::*;

fn now() -> Timestamp {
    "2026-11-27T09:00:00Z".parse().unwrap()
}

fn crlf(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}

const OURS: &str = "01jabcdefghjkmnpqrstvwxyz0.01jzyxwvtsrqpnmkjhgfedcba0@agency.example";

#[test]
fn a_person_replying_is_a_reply_with_its_first_lines() {
    let raw = crlf(&format!(
        "From: Anna Becker <Anna@Crumbs.example>\n\
To: jane@agency.example\n\
Subject: Re: Your website\n\
Date: Fri, 27 Nov 2026 10:15:00 +0100\n\
Message-ID: <CAF123@mail.crumbs.example>\n\
In-Reply-To: <{OURS}>\n\
References: <older@agency.example> <{OURS}>\n\
Content-Type: text/plain; charset=utf-8\n\
\n\
Hello Jane,\n\
\n\
yes, let's talk\u{202E} on Monday.\x1b[31m\n\
Anna\n\
\n\
On Thu, 26 Nov 2026 at 09:00, Jane Doe <jane@agency.example> wrote:\n\
> Your site loads slowly.\n"
    ));
    let m = classify(&raw, now());
    assert_eq!(m.kind, MessageKind::Reply);
    assert_eq!(m.from.as_deref(), Some("anna@crumbs.example"));
    assert_eq!(m.from_name.as_deref(), Some("Anna Becker"));
    assert_eq!(m.message_id.as_deref(), Some("caf123@mail.crumbs.example"));
    assert_eq!(
        m.refers_to,
        [OURS.to_string(), "older@agency.example".into()]
    );
    assert_eq!(m.subject, "Re: Your website");
    assert_eq!(
        m.date,
        Some("2026-11-27T09:15:00Z".parse::<Timestamp>().unwrap())
    );
    assert_eq!(
        m.excerpt,
        "Hello Jane,\nyes, let's talk on Monday. [31m\nAnna"
    );
    assert!(!m.excerpt.contains('\u{1b}'));
}

#[test]
fn auto_replies_by_header_and_by_subject_keep_the_return_date() {
    let rfc3834 = crlf(
        "From: anna@crumbs.example\nSubject: Re: Your website\n\
Auto-Submitted: auto-replied\nDate: Fri, 27 Nov 2026 10:15:00 +0100\n\n\
I am out of the office until 7.12.2026.\n",
    );
    let m = classify(&rfc3834, now());
    assert_eq!(
        m.kind,
        MessageKind::AutoReply {
            returns_on: Some("2026-12-07".parse().unwrap())
        }
    );
    for (headers, subject) in [
        ("X-Autoreply: yes\n", "Re: hello"),
        ("X-Autorespond: Re: hello\n", "Re: hello"),
        ("Precedence: auto_reply\n", "Re: hello"),
        ("", "Abwesenheitsnotiz: Re: Ihre Website"),
        ("", "Automatic reply: Your website"),
        ("", "Out of Office: Your website"),
    ] {
        let raw = crlf(&format!(
            "From: a@b.example\n{headers}Subject: {subject}\n\nThanks.\n"
        ));
        assert!(
            matches!(classify(&raw, now()).kind, MessageKind::AutoReply { .. }),
            "{headers}{subject}"
        );
    }
    let not_auto = crlf("From: a@b.example\nAuto-Submitted: no\nSubject: Re: hi\n\nOk\n");
    assert_eq!(classify(&not_auto, now()).kind, MessageKind::Reply);
}

#[test]
fn rfc3464_reports_give_status_recipient_and_the_original_message_id() {
    let report = |action: &str, status: &str| {
        crlf(&format!(
            "From: Mail Delivery System <MAILER-DAEMON@mx.agency.example>\n\
To: jane@agency.example\n\
Subject: Undelivered Mail Returned to Sender\n\
Auto-Submitted: auto-replied\n\
MIME-Version: 1.0\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B1\"\n\
\n\
--B1\n\
Content-Type: text/plain\n\
\n\
I'm sorry to have to inform you that your message could not be delivered.\n\
\n\
--B1\n\
Content-Type: message/delivery-status\n\
\n\
Reporting-MTA: dns; mx.agency.example\n\
\n\
Final-Recipient: rfc822; Nobody@Crumbs.example\n\
Original-Recipient: rfc822;nobody@crumbs.example\n\
Action: {action}\n\
Status: {status}\n\
Diagnostic-Code: smtp; 550 5.1.1 <nobody@crumbs.example>:\n    Recipient address rejected: User unknown\n\
\n\
--B1\n\
Content-Type: message/rfc822\n\
\n\
From: Jane Doe <jane@agency.example>\n\
To: nobody@crumbs.example\n\
Subject: Your website\n\
Message-ID: <{OURS}>\n\
\n\
Hello.\n\
--B1--\n"
        ))
    };
    let hard = classify(&report("failed", "5.1.1"), now());
    let MessageKind::Bounce(b) = &hard.kind else {
        panic!("{:?}", hard.kind)
    };
    assert!(b.permanent);
    assert_eq!(b.status.as_deref(), Some("5.1.1"));
    assert_eq!(b.recipient.as_deref(), Some("nobody@crumbs.example"));
    assert_eq!(b.original_message_id.as_deref(), Some(OURS));
    assert_eq!(
        b.diagnostic.as_deref(),
        Some("550 5.1.1 <nobody@crumbs.example>: Recipient address rejected: User unknown")
    );
    let soft = classify(&report("failed", "4.2.2"), now());
    assert!(matches!(&soft.kind, MessageKind::Bounce(b) if !b.permanent));
    let delayed = classify(&report("delayed", "4.4.1"), now());
    assert!(matches!(&delayed.kind, MessageKind::Bounce(b) if !b.permanent));
    // A success report is no bounce; it is from a daemon, though, and not
    // a person's reply.
    let delivered = classify(&report("delivered", "2.0.0"), now());
    assert!(!matches!(
        delivered.kind,
        MessageKind::Bounce(_) | MessageKind::Reply
    ));
}

#[test]
fn a_report_with_only_the_original_headers_still_names_the_message() {
    let raw = crlf(&format!(
        "From: postmaster@mx.example\nSubject: Delivery Status Notification (Failure)\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=X\n\n\
--X\nContent-Type: message/delivery-status\n\n\
Reporting-MTA: dns; mx.example\n\n\
Final-Recipient: rfc822; gone@shop.example\nAction: failed\nStatus: 5.2.1\n\n\
--X\nContent-Type: text/rfc822-headers\n\n\
From: jane@agency.example\nMessage-ID: <{OURS}>\nSubject: hi\n\n\
--X--\n"
    ));
    let MessageKind::Bounce(b) = classify(&raw, now()).kind else {
        panic!("not a bounce")
    };
    assert_eq!(b.original_message_id.as_deref(), Some(OURS));
    assert_eq!(b.recipient.as_deref(), Some("gone@shop.example"));
    assert!(b.permanent);
}

#[test]
fn non_standard_bounces_from_a_mailer_daemon() {
    let exim = crlf(&format!(
        "From: Mail Delivery System <Mailer-Daemon@mail.provider.example>\n\
Subject: Mail delivery failed: returning message to sender\n\n\
This message was created automatically by mail delivery software.\n\n\
A message that you sent could not be delivered to one or more of its\n\
recipients. This is a permanent error. The following address(es) failed:\n\n\
  owner@bakery.example\n\
    host mx.bakery.example [192.0.2.1]\n\
    SMTP error from remote mail server after RCPT TO:<owner@bakery.example>:\n\
    550 5.1.1 User unknown\n\n\
------ This is a copy of the message, including all the headers. ------\n\n\
From: Jane Doe <jane@agency.example>\n\
Message-ID: <{OURS}>\n\
Subject: Your website\n"
    ));
    let MessageKind::Bounce(b) = classify(&exim, now()).kind else {
        panic!("not a bounce")
    };
    assert!(b.permanent);
    assert_eq!(b.status.as_deref(), Some("5.1.1"));
    assert_eq!(b.recipient.as_deref(), Some("owner@bakery.example"));
    assert_eq!(b.original_message_id.as_deref(), Some(OURS));

    let full = crlf(
        "From: MAILER-DAEMON@mx.example\nSubject: Undeliverable: hi\n\n\
Delivery to the following recipient has been delayed:\n\n    box@full.example\n\n\
452 4.2.2 Mailbox full\n",
    );
    let MessageKind::Bounce(b) = classify(&full, now()).kind else {
        panic!("not a bounce")
    };
    assert!(!b.permanent);
    assert_eq!(b.recipient.as_deref(), Some("box@full.example"));

    // No code at all: counted as temporary, never blacklisted on a guess.
    let vague = crlf("From: postmaster@x.example\nSubject: Returned mail\n\nSorry.\n");
    assert!(matches!(classify(&vague, now()).kind, MessageKind::Bounce(b) if !b.permanent));
}

#[test]
fn newsletters_are_unrelated_and_garbage_does_not_panic() {
    let news = crlf(
        "From: news@shop.example\nList-Unsubscribe: <https://shop.example/u>\n\
Precedence: bulk\nSubject: Our offers\n\nBuy now.\n",
    );
    assert_eq!(classify(&news, now()).kind, MessageKind::Unrelated);
    for raw in [
        &b""[..],
        b"\xff\xfe\x00",
        b"Subject: \r\n\r\n",
        b"From: <>\r\n\r\n",
    ] {
        let _ = classify(raw, now());
    }
}
