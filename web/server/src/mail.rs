//! The mail relay: delivers the outbox table's unsent messages over SMTP (lettre) when `mail.smtp_url`
//! is set, and otherwise writes them to the log, so development needs no mail server.
//!
//! Invariants: a message is marked sent only after the SMTP server accepted it; a failed delivery is
//! retried on the next pass. Messages stay in the outbox table either way. The relay is a one-node job
//! (`mail-relay`), and each message is also claimed before it is sent, so relays on several nodes never
//! send one message twice, even one whose lease ran out mid-pass.

use anyhow::Context;
use flagent_config::MailSettings;
use flagent_jobs::{Job, Outcome, RunFuture, Schedule};
use flagent_storage::Db;
use flagent_types::SystemScope;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use std::time::Duration;

/// How often the outbox is looked at.
pub(crate) const RELAY_INTERVAL: Duration = Duration::from_secs(2);

/// How long the relay's lease lasts without renewal: another node takes the relay over this long
/// after the node relaying stops.
const RELAY_LEASE: Duration = Duration::from_secs(30);

/// How long a claimed message is left to its relay before another may send it.
const CLAIM: Duration = Duration::from_secs(300);

/// Delivers outbox messages.
pub(crate) struct MailRelay {
    db: Db,
    system: SystemScope,
    from: Mailbox,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

impl MailRelay {
    /// A relay for `settings`; a bad SMTP URL or sender fails at start, naming it.
    pub(crate) fn new(
        db: Db,
        system: SystemScope,
        settings: &MailSettings,
    ) -> anyhow::Result<Self> {
        let from = settings
            .from
            .parse::<Mailbox>()
            .with_context(|| format!("mail.from {:?} is not a mail address", settings.from))?;
        let smtp = match &settings.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .context("mail.smtp_url is not a valid smtp:// or smtps:// URL")?
                    .build(),
            ),
            None => None,
        };
        Ok(Self {
            db,
            system,
            from,
            smtp,
        })
    }

    /// Delivers every unsent message no other relay has claimed; returns how many went out.
    pub(crate) async fn deliver_pending(&self) -> anyhow::Result<usize> {
        let system = self.db.system(&self.system);
        let pending = system.claimable_mail(now(), 100).await?;
        let mut sent = 0;
        for mail in pending {
            let at = now();
            if !system
                .claim_mail(mail.id, at, at + CLAIM.as_millis() as i64)
                .await?
            {
                continue; // another relay is sending it
            }
            match &self.smtp {
                Some(smtp) => {
                    let to = match mail.recipient.parse::<Mailbox>() {
                        Ok(to) => to,
                        Err(error) => {
                            tracing::warn!(%error, id = mail.id, "undeliverable address; dropped");
                            system.mark_mail_sent(mail.id, now()).await?;
                            continue;
                        }
                    };
                    let message = Message::builder()
                        .from(self.from.clone())
                        .to(to)
                        .subject(mail.subject.clone())
                        .body(mail.body.clone())
                        .context("build a mail message")?;
                    if let Err(error) = smtp.send(message).await {
                        tracing::warn!(%error, id = mail.id, "SMTP delivery failed; will retry");
                        system.release_mail_claim(mail.id).await?;
                        break;
                    }
                }
                None => tracing::info!(
                    to = %mail.recipient,
                    subject = %mail.subject,
                    body = %mail.body,
                    "mail (no SMTP server configured)"
                ),
            }
            system.mark_mail_sent(mail.id, now()).await?;
            sent += 1;
        }
        Ok(sent)
    }
}

impl Job for MailRelay {
    fn name(&self) -> &'static str {
        "mail-relay"
    }

    fn schedule(&self) -> Schedule {
        Schedule::every(RELAY_INTERVAL)
            .starting_now()
            .on_one_node(RELAY_LEASE)
    }

    fn run(&self) -> RunFuture<'_> {
        Box::pin(async move { Ok(Outcome::Ran(self.deliver_pending().await?)) })
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    //! Delivery through a real SMTP server: aiosmtpd (PyPI, `web/server/tests/requirements.txt`),
    //! storing what it receives in a maildir.
    use super::*;
    use flagent_testkit::TestDb;
    use std::net::TcpListener;
    use std::process::{Child, Command};

    struct SmtpServer {
        child: Child,
        port: u16,
        maildir: std::path::PathBuf,
    }

    impl Drop for SmtpServer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
            let _ = std::fs::remove_dir_all(&self.maildir);
        }
    }

    async fn start_smtp_server() -> SmtpServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let maildir =
            std::env::temp_dir().join(format!("flagent-mail-{port}-{}", std::process::id()));
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .spawn()
            .expect("start aiosmtpd: pip install -r web/server/tests/requirements.txt");
        let mut server = SmtpServer {
            child,
            port,
            maildir,
        };
        // Wait until it accepts connections (or has exited, which is a setup error).
        loop {
            if let Some(status) = server.child.try_wait().expect("aiosmtpd status") {
                panic!(
                    "aiosmtpd exited with {status}: pip install -r web/server/tests/requirements.txt"
                );
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return server;
            }
            tokio::task::yield_now().await;
        }
    }

    fn delivered(maildir: &std::path::Path) -> Vec<String> {
        let new = maildir.join("new");
        let mut mails: Vec<String> = std::fs::read_dir(new)
            .map(|entries| {
                entries
                    .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        mails.sort();
        mails
    }

    async fn relay_on(db: &Db, port: u16) -> MailRelay {
        #[allow(clippy::disallowed_methods)]
        let system = SystemScope::assume_system("mail relay test");
        let settings = MailSettings {
            smtp_url: Some(format!("smtp://127.0.0.1:{port}").into()),
            from: "Flagent <no-reply@flagent.test>".to_owned(),
        };
        MailRelay::new(db.clone(), system, &settings).expect("relay")
    }

    async fn migrated() -> (TestDb, Db) {
        let test_db = TestDb::new().await;
        let mut settings = flagent_config::Settings::for_tests(test_db.url());
        settings.database.max_connections = 2;
        let db = crate::connect_and_migrate(&settings)
            .await
            .expect("database");
        (test_db, db)
    }

    #[tokio::test]
    async fn outbox_mail_is_delivered_over_smtp_once_and_kept_until_accepted() {
        let (_test_db, db) = migrated().await;
        #[allow(clippy::disallowed_methods)]
        let system = SystemScope::assume_system("mail relay test");
        let outbox = db.system(&system);
        outbox
            .enqueue_mail(
                "ada@example.com",
                "Confirm your email address",
                "token: abc123",
                1,
            )
            .await
            .unwrap();
        outbox
            .enqueue_mail(
                "bob@example.com",
                "Join Acme on Flagent",
                "token: def456",
                2,
            )
            .await
            .unwrap();

        let server = start_smtp_server().await;
        let relay = relay_on(&db, server.port).await;
        assert_eq!(relay.deliver_pending().await.unwrap(), 2);
        let mails = delivered(&server.maildir);
        assert_eq!(mails.len(), 2, "{mails:?}");
        assert!(mails.iter().any(|m| m.contains("To: ada@example.com")
            && m.contains("Subject: Confirm your email address")
            && m.contains("token: abc123")
            && m.contains("From: Flagent <no-reply@flagent.test>")));
        assert!(
            mails
                .iter()
                .any(|m| m.contains("To: bob@example.com") && m.contains("token: def456"))
        );
        assert!(outbox.unsent_mail(10).await.unwrap().is_empty());
        assert_eq!(
            relay.deliver_pending().await.unwrap(),
            0,
            "sent mail is not sent again"
        );
        assert_eq!(delivered(&server.maildir).len(), 2);

        // With the SMTP server gone, a new message stays in the outbox for the next pass.
        let port = server.port;
        drop(server);
        outbox
            .enqueue_mail("cy@example.com", "Reset your password", "token: ghi789", 3)
            .await
            .unwrap();
        let relay = relay_on(&db, port).await;
        assert_eq!(relay.deliver_pending().await.unwrap(), 0);
        let unsent = outbox.unsent_mail(10).await.unwrap();
        assert_eq!(unsent.len(), 1);
        assert_eq!(unsent[0].recipient, "cy@example.com");
    }

    /// Queues `count` messages, each with its own token.
    async fn enqueue(db: &Db, count: usize) {
        #[allow(clippy::disallowed_methods)]
        let system = SystemScope::assume_system("mail relay test");
        for i in 0..count {
            db.system(&system)
                .enqueue_mail(
                    &format!("user{i}@example.com"),
                    "Hello",
                    &format!("token: t{i}-end"),
                    1,
                )
                .await
                .unwrap();
        }
    }

    /// The tokens the SMTP server received, in order, repeats kept.
    fn tokens(maildir: &std::path::Path) -> Vec<String> {
        let pattern = regex::Regex::new(r"token: (t\d+)-end").unwrap();
        let mut tokens: Vec<String> = delivered(maildir)
            .iter()
            .flat_map(|m| {
                pattern
                    .captures_iter(m)
                    .map(|c| c[1].to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        tokens.sort();
        tokens
    }

    /// Two nodes (two connection pools to one database) with a relay each, `count` messages queued,
    /// and the SMTP server both send to.
    async fn two_nodes(count: usize) -> (TestDb, [Db; 2], SmtpServer, [MailRelay; 2]) {
        let (test_db, db) = migrated().await;
        let mut settings = flagent_config::Settings::for_tests(test_db.url());
        settings.database.max_connections = 2;
        let other = crate::connect_and_migrate(&settings)
            .await
            .expect("database");
        enqueue(&db, count).await;
        let server = start_smtp_server().await;
        let relays = [
            relay_on(&db, server.port).await,
            relay_on(&other, server.port).await,
        ];
        (test_db, [db, other], server, relays)
    }

    #[tokio::test]
    async fn two_relays_passing_at_once_send_each_message_exactly_once() {
        let (_test_db, _pools, server, [a, b]) = two_nodes(30).await;

        let (sent_a, sent_b) = tokio::join!(a.deliver_pending(), b.deliver_pending());
        let (sent_a, sent_b) = (sent_a.unwrap(), sent_b.unwrap());
        assert_eq!(sent_a + sent_b, 30, "a sent {sent_a}, b sent {sent_b}");
        let mut expected: Vec<String> = (0..30).map(|i| format!("t{i}")).collect();
        expected.sort();
        assert_eq!(
            tokens(&server.maildir),
            expected,
            "every message once, none twice"
        );
        assert_eq!(
            a.deliver_pending().await.unwrap() + b.deliver_pending().await.unwrap(),
            0
        );
    }

    #[tokio::test]
    async fn two_nodes_running_the_relay_job_take_turns_by_lease() {
        let (_test_db, [db, other], server, [a, b]) = two_nodes(10).await;
        #[allow(clippy::disallowed_methods)]
        let leases = || SystemScope::assume_system("job leases");
        let node_a = flagent_jobs::Runner::new("node-a").with_leases(db.clone(), leases());
        let node_b = flagent_jobs::Runner::new("node-b").with_leases(other.clone(), leases());

        let (pass_a, pass_b) = tokio::join!(node_a.run_once(&a), node_b.run_once(&b));
        let passes = [pass_a, pass_b];
        let ran: Vec<usize> = passes
            .iter()
            .filter_map(|p| match p {
                flagent_jobs::Pass::Ran(Outcome::Ran(n)) => Some(*n),
                _ => None,
            })
            .collect();
        assert_eq!(
            ran,
            vec![10],
            "one node relayed, the other skipped: {passes:?}"
        );
        assert!(
            passes
                .iter()
                .any(|p| matches!(p, flagent_jobs::Pass::Skipped))
        );
        assert_eq!(tokens(&server.maildir).len(), 10);
    }
}
