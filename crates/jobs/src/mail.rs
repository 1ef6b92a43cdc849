//! Sending email over SMTP (lettre). The outbox row is the message; this only speaks
//! SMTP. Each message carries a Message-ID derived from its event key, so a mail system
//! that does see a message twice (a crash between the server's "250 OK" and our record
//! of it) can tell it is the same one.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Tokio1Executor};
use sha2::{Digest, Sha256};
use tend_store::outbox::OutboxMessage;

/// Where mail goes and who it is from.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://host:25`, `smtp://user:pass@host:587?tls=required`, `smtps://host:465`.
    pub smtp_url: String,
    /// `Tend <support@agency.example>`.
    pub from: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail setting: {0}")]
    Config(String),
    /// This message can never be sent as written (a bad address): no retry will help.
    #[error("{0}")]
    Message(String),
    /// The server or the network failed; a later attempt may work.
    #[error("{0}")]
    Transport(String),
}

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    domain: String,
}

impl Mailer {
    pub fn new(config: &MailConfig) -> Result<Self, MailError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| MailError::Config(format!("mail_from {:?}: {e}", config.from)))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp_url)
            .map_err(|e| MailError::Config(format!("smtp_url: {e}")))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let domain = from.email.domain().to_string();
        Ok(Self {
            transport,
            from,
            domain,
        })
    }

    pub async fn send(&self, message: &OutboxMessage) -> Result<(), MailError> {
        let to: Mailbox = message
            .recipient
            .parse()
            .map_err(|e| MailError::Message(format!("recipient {:?}: {e}", message.recipient)))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .message_id(Some(message_id(&message.event_key, &self.domain)))
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| MailError::Message(e.to_string()))?;
        self.transport.send(email).await.map(|_| ()).map_err(|e| {
            if e.is_permanent() {
                MailError::Message(format!("the mail server refused it: {e}"))
            } else {
                MailError::Transport(format!("could not reach the mail server: {e}"))
            }
        })
    }
}

/// `<3f2a…@agency.example>`: the same event always gets the same id.
pub fn message_id(event_key: &str, domain: &str) -> String {
    let digest = Sha256::digest(event_key.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("<{hex}@{domain}>")
}
