//! The mail relay: delivers the outbox table's unsent messages over SMTP (lettre) when `mail.smtp_url`
//! is set, and otherwise writes them to the log, so development needs no mail server.
//!
//! Invariant: a message is marked sent only after the SMTP server accepted it; a failed delivery is
//! retried on the next pass. Messages stay in the outbox table either way.

use anyhow::Context;
use flagent_config::MailSettings;
use flagent_storage::Db;
use flagent_types::SystemScope;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use std::time::Duration;

/// How often the outbox is looked at.
pub(crate) const RELAY_INTERVAL: Duration = Duration::from_secs(2);

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

    /// Delivers every unsent message; returns how many went out.
    pub(crate) async fn deliver_pending(&self) -> anyhow::Result<usize> {
        let system = self.db.system(&self.system);
        let pending = system.unsent_mail(100).await?;
        let mut sent = 0;
        for mail in pending {
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

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
