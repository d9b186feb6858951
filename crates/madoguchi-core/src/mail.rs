//! Outbound e-mail over SMTP (lettre), used by the mail-sending jobs only.
//!
//! A [`Mailer`] turns an [`OutgoingMail`] into a `text/plain; charset=utf-8` message (Japanese
//! subjects become RFC 2047 encoded-words, bodies are quoted-printable or base64) and hands it
//! to the configured relay. Failures are classified for the job runner: [`MailError::Transient`]
//! (4xx replies, refused connections, time-outs) is worth retrying, [`MailError::Permanent`]
//! (5xx replies) and [`MailError::Address`] are not. There is no TLS yet: the relay is expected
//! to be a local MTA on the same host or closed network.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// SMTP settings; loaded from config.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct MailConfig {
    /// Relay host name or IP address (plain SMTP, no TLS).
    pub smtp_host: String,
    /// Relay port.
    pub smtp_port: u16,
    /// Sender mailbox, with an optional display name, e.g. `窓口 <noreply@madoguchi.localhost>`.
    pub from: String,
    /// Time-out for connecting and for each SMTP command, in seconds.
    pub timeout_secs: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_host: "127.0.0.1".to_owned(),
            smtp_port: 2525,
            from: "Madoguchi <noreply@madoguchi.localhost>".to_owned(),
            timeout_secs: 10,
        }
    }
}

/// One plain-text message to send; this is also the payload stored in a mail job.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutgoingMail {
    /// Recipient mailboxes (`a@example.jp` or `名前 <a@example.jp>`); at least one.
    pub to: Vec<String>,
    /// Subject, any UTF-8.
    pub subject: String,
    /// Plain-text body, any UTF-8.
    pub body_text: String,
}

/// Why a message could not be sent, classified for retrying.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A sender or recipient address does not parse, or there is no recipient; never retry.
    #[error("invalid address: {0}")]
    Address(String),
    /// 4xx reply, refused connection, time-out or broken session; retry later.
    #[error("smtp transient failure: {0}")]
    Transient(String),
    /// 5xx reply (or a message lettre refuses to build); retrying will not help.
    #[error("smtp permanent failure: {0}")]
    Permanent(String),
}

/// Sends [`OutgoingMail`] through one SMTP relay; cheap to clone.
///
/// Each `send` opens its own SMTP connection (no pooling), so a failed session never poisons
/// the next attempt.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Builds a mailer; fails with [`MailError::Address`] when `cfg.from` is not a mailbox.
    /// Does not connect: an unreachable relay shows up on the first [`Mailer::send`].
    pub fn new(cfg: &MailConfig) -> Result<Self, MailError> {
        let from = parse_mailbox(&cfg.from)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.smtp_host)
            .port(cfg.smtp_port)
            .timeout(Some(Duration::from_secs(cfg.timeout_secs)))
            .build();
        Ok(Self { transport, from })
    }

    /// Sends one message; see [`MailError`] for which failures are worth retrying.
    pub async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = self.build_message(mail)?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(classify)
    }

    /// Builds the MIME message without sending it.
    fn build_message(&self, mail: &OutgoingMail) -> Result<Message, MailError> {
        if mail.to.is_empty() {
            return Err(MailError::Address("no recipient".to_owned()));
        }
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject.as_str())
            .header(ContentType::TEXT_PLAIN);
        for to in &mail.to {
            builder = builder.to(parse_mailbox(to)?);
        }
        builder
            .body(mail.body_text.clone())
            .map_err(|e| MailError::Permanent(format!("cannot build message: {e}")))
    }
}

fn parse_mailbox(s: &str) -> Result<Mailbox, MailError> {
    s.trim()
        .parse::<Mailbox>()
        .map_err(|e| MailError::Address(format!("{s:?}: {e}")))
}

/// Maps lettre's error: 5xx and client-side errors are permanent, everything else (4xx,
/// connection, network, time-out, garbled reply) is transient.
fn classify(err: lettre::transport::smtp::Error) -> MailError {
    if err.is_permanent() || err.is_client() {
        MailError::Permanent(err.to_string())
    } else {
        MailError::Transient(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(to: &[&str]) -> OutgoingMail {
        OutgoingMail {
            to: to.iter().map(|s| (*s).to_owned()).collect(),
            subject: "【窓口】届出を受け付けました".to_owned(),
            body_text: "介護事業所 様\n\n変更届を受け付けました。\n".to_owned(),
        }
    }

    #[test]
    fn default_config_points_at_local_relay() {
        let cfg = MailConfig::default();
        assert_eq!(
            (cfg.smtp_host.as_str(), cfg.smtp_port, cfg.timeout_secs),
            ("127.0.0.1", 2525, 10)
        );
        Mailer::new(&cfg).expect("default sender parses");
    }

    #[test]
    fn config_fills_missing_keys_with_defaults() {
        let cfg: MailConfig = serde_json::from_str(r#"{"smtp_port": 25}"#).unwrap();
        assert_eq!(cfg.smtp_port, 25);
        assert_eq!(cfg.smtp_host, "127.0.0.1");
    }

    #[test]
    fn japanese_display_name_in_sender_is_accepted() {
        let cfg = MailConfig {
            from: "窓口 <noreply@madoguchi.localhost>".into(),
            ..Default::default()
        };
        let mailer = Mailer::new(&cfg).unwrap();
        assert_eq!(mailer.from.email.to_string(), "noreply@madoguchi.localhost");
        assert_eq!(mailer.from.name.as_deref(), Some("窓口"));
    }

    #[test]
    fn bad_sender_is_an_address_error() {
        let cfg = MailConfig {
            from: "not an address".into(),
            ..Default::default()
        };
        assert!(matches!(Mailer::new(&cfg), Err(MailError::Address(_))));
    }

    #[test]
    fn bad_or_missing_recipient_is_an_address_error() {
        let mailer = Mailer::new(&MailConfig::default()).unwrap();
        assert!(matches!(
            mailer.build_message(&mail(&[])),
            Err(MailError::Address(_))
        ));
        let err = mailer
            .build_message(&mail(&["ok@example.jp", "broken@"]))
            .unwrap_err();
        assert!(
            matches!(err, MailError::Address(ref m) if m.contains("broken@")),
            "{err}"
        );
    }

    #[test]
    fn message_is_utf8_plain_text_with_encoded_subject() {
        let mailer = Mailer::new(&MailConfig::default()).unwrap();
        let raw = mailer
            .build_message(&mail(&["事業所 <jigyosho@example.jp>"]))
            .unwrap()
            .formatted();
        let raw = String::from_utf8(raw).expect("wire format is ASCII");
        assert!(
            raw.is_ascii(),
            "non-ASCII must be encoded on the wire:\n{raw}"
        );
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8"),
            "{raw}"
        );
        assert!(raw.contains("Subject: =?utf-8?"), "{raw}");
        assert!(raw.contains("jigyosho@example.jp"), "{raw}");
    }

    #[tokio::test]
    async fn refused_connection_is_transient() {
        // Take a free port, then close it so that connecting is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cfg = MailConfig {
            smtp_port: port,
            timeout_secs: 2,
            ..Default::default()
        };
        let err = Mailer::new(&cfg)
            .unwrap()
            .send(&mail(&["a@example.jp"]))
            .await
            .unwrap_err();
        assert!(matches!(err, MailError::Transient(_)), "{err}");
    }
}
