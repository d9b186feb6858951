//! A real, minimal SMTP server on 127.0.0.1 for tests of outbound mail.
//!
//! [`SmtpSink`] speaks enough of RFC 5321 for lettre and other ordinary clients (greeting, EHLO/
//! HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT; anything else gets 502), keeps
//! every accepted message in memory and decodes it with `mail-parser` (RFC 2047 subjects,
//! quoted-printable or base64 bodies). It serves many connections and many messages per
//! connection until it is dropped. [`SmtpSink::start_failing_first`] answers `451` to the first
//! DATA commands so that retry paths can be tested without sleeps.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use madoguchi_core::mail::MailConfig;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// Longest command or data line accepted, in bytes (RFC 5321 asks for 1000; be generous).
const MAX_LINE: u64 = 64 * 1024;
/// Largest message accepted, in bytes.
const MAX_MESSAGE: usize = 32 * 1024 * 1024;

/// An SMTP server bound to `127.0.0.1:<random port>`; stops serving when dropped.
pub struct SmtpSink {
    port: u16,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

/// One message accepted by the sink.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    /// Envelope sender (`MAIL FROM`), without angle brackets; empty for the null sender.
    pub from: String,
    /// Envelope recipients (`RCPT TO`), without angle brackets, in order.
    pub to: Vec<String>,
    /// The message as received after dot-unstuffing (headers and encoded body, CRLF line ends).
    pub raw: String,
    /// The decoded subject (UTF-8); empty if there is none.
    pub subject: String,
    /// The decoded first text body (UTF-8), with CRLF line ends turned into `\n`.
    pub body: String,
}

/// State shared by the accept loop, the sessions and the test.
#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<ReceivedMail>>,
    arrived: Notify,
    /// DATA commands still to be refused with 451.
    fail_remaining: AtomicUsize,
    rejected: AtomicUsize,
}

impl SmtpSink {
    /// Starts a sink that accepts every message.
    pub async fn start() -> SmtpSink {
        Self::start_failing_first(0).await
    }

    /// Starts a sink that answers `451 4.3.0 try again` to the first `n` DATA commands (over all
    /// connections), then accepts messages normally.
    pub async fn start_failing_first(n: usize) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind SMTP sink on 127.0.0.1:0");
        let port = listener
            .local_addr()
            .expect("SMTP sink local address")
            .port();
        let shared = Arc::new(Shared {
            fail_remaining: AtomicUsize::new(n),
            ..Shared::default()
        });
        let server = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        SmtpSink {
            port,
            shared,
            server,
        }
    }

    /// The port the sink listens on (host is always `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A [`MailConfig`] that sends to this sink, with a short time-out.
    pub fn mail_config(&self) -> MailConfig {
        MailConfig {
            smtp_host: "127.0.0.1".to_owned(),
            smtp_port: self.port,
            timeout_secs: 5,
            ..MailConfig::default()
        }
    }

    /// The messages accepted so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared
            .messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until at least `n` messages have arrived or `timeout` has passed, and returns the
    /// messages accepted by then (fewer than `n` on time-out; the caller asserts).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Register interest before looking, so that a message stored in between wakes us.
            let notified = self.shared.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.messages();
            }
        }
    }

    /// How many DATA commands were refused with 451 so far.
    pub fn rejected_attempts(&self) -> usize {
        self.shared.rejected.load(Ordering::SeqCst)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every open session.
        self.server.abort();
    }
}

impl Shared {
    /// Consumes one planned failure, if any are left.
    fn take_failure(&self) -> bool {
        self.fail_remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    fn store(&self, mail: ReceivedMail) {
        self.messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(mail);
        self.arrived.notify_waiters();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    sessions.spawn(session(stream, Arc::clone(&shared)));
                }
                // e.g. too many open files: let sessions finish, then try again.
                Err(_) => tokio::task::yield_now().await,
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

/// The envelope of the transaction in progress.
#[derive(Default)]
struct Envelope {
    from: Option<String>,
    to: Vec<String>,
}

/// Serves one connection; I/O errors just end the session.
async fn session(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write
        .write_all(b"220 madoguchi-sink ESMTP ready\r\n")
        .await?;
    let mut greeted = false;
    let mut envelope = Envelope::default();
    let mut line = Vec::new();
    loop {
        if !read_line(&mut reader, &mut line).await? {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
        let reply: &[u8] = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                greeted = true;
                envelope = Envelope::default();
                b"250-madoguchi-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n"
            }
            "HELO" => {
                greeted = true;
                envelope = Envelope::default();
                b"250 madoguchi-sink\r\n"
            }
            "MAIL" if !greeted => b"503 5.5.1 send EHLO first\r\n",
            "MAIL" if envelope.from.is_some() => b"503 5.5.1 nested MAIL command\r\n",
            "MAIL" => match parse_path(arg, "FROM:") {
                Some(path) => {
                    envelope.from = Some(path);
                    b"250 2.1.0 OK\r\n"
                }
                None => b"501 5.5.4 syntax: MAIL FROM:<address>\r\n",
            },
            "RCPT" if envelope.from.is_none() => b"503 5.5.1 need MAIL first\r\n",
            "RCPT" => match parse_path(arg, "TO:").filter(|p| !p.is_empty()) {
                Some(path) => {
                    envelope.to.push(path);
                    b"250 2.1.5 OK\r\n"
                }
                None => b"501 5.5.4 syntax: RCPT TO:<address>\r\n",
            },
            "DATA" if envelope.to.is_empty() => b"503 5.5.1 need RCPT first\r\n",
            "DATA" if shared.take_failure() => {
                shared.rejected.fetch_add(1, Ordering::SeqCst);
                envelope = Envelope::default();
                b"451 4.3.0 try again\r\n"
            }
            "DATA" => {
                write
                    .write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let Some(raw) = read_data(&mut reader, &mut line).await? else {
                    envelope = Envelope::default();
                    write.write_all(b"552 5.3.4 message too big\r\n").await?;
                    continue;
                };
                let envelope = std::mem::take(&mut envelope);
                shared.store(decode(envelope.from.unwrap_or_default(), envelope.to, raw));
                b"250 2.0.0 OK queued\r\n"
            }
            "RSET" => {
                envelope = Envelope::default();
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 command not recognized\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// Reads one line (including its line end) into `line`; false at end of stream. A line longer
/// than [`MAX_LINE`] is an error that ends the session.
async fn read_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    line: &mut Vec<u8>,
) -> std::io::Result<bool> {
    line.clear();
    let n = reader.take(MAX_LINE).read_until(b'\n', line).await?;
    if n as u64 == MAX_LINE && !line.ends_with(b"\n") {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "line too long",
        ));
    }
    Ok(n > 0)
}

/// Reads the DATA section up to the lone `.` line and undoes dot-stuffing. `None` if the
/// message exceeds [`MAX_MESSAGE`] (the rest is read and discarded); an early end of stream
/// is an error.
async fn read_data(
    reader: &mut (impl AsyncBufRead + Unpin),
    line: &mut Vec<u8>,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut raw = Vec::new();
    let mut too_big = false;
    loop {
        if !read_line(reader, line).await? {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(if too_big { None } else { Some(raw) });
        }
        let content = line.strip_prefix(b".").unwrap_or(line);
        too_big |= raw.len() + content.len() > MAX_MESSAGE;
        if !too_big {
            raw.extend_from_slice(content);
        }
    }
}

/// Extracts the address from `FROM:<a@b> SIZE=1` / `TO:<a@b>` (prefix case-insensitive,
/// brackets optional); `<>` gives an empty address.
fn parse_path(arg: &str, prefix: &str) -> Option<String> {
    let head = arg.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = arg[prefix.len()..].trim_start();
    let path = match rest.strip_prefix('<') {
        Some(inner) => &inner[..inner.find('>')?],
        None => rest.split_whitespace().next()?,
    };
    Some(path.to_owned())
}

/// Decodes subject and first text body with `mail-parser`; undecodable parts come out empty.
fn decode(from: String, to: Vec<String>, raw: Vec<u8>) -> ReceivedMail {
    let parsed = mail_parser::MessageParser::default().parse(&raw);
    let subject = parsed
        .as_ref()
        .and_then(|m| m.subject())
        .unwrap_or_default()
        .to_owned();
    let body = parsed
        .as_ref()
        .and_then(|m| m.body_text(0))
        .map(|b| b.replace("\r\n", "\n"))
        .unwrap_or_default();
    ReceivedMail {
        from,
        to,
        raw: String::from_utf8_lossy(&raw).into_owned(),
        subject,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_envelope_paths() {
        assert_eq!(
            parse_path("FROM:<a@example.jp> BODY=8BITMIME", "FROM:").as_deref(),
            Some("a@example.jp")
        );
        assert_eq!(
            parse_path("from: <a@example.jp>", "FROM:").as_deref(),
            Some("a@example.jp")
        );
        assert_eq!(
            parse_path("TO:b@example.jp", "TO:").as_deref(),
            Some("b@example.jp")
        );
        assert_eq!(parse_path("FROM:<>", "FROM:").as_deref(), Some(""));
        assert_eq!(parse_path("TO:<b@example.jp", "TO:"), None);
        assert_eq!(parse_path("<a@example.jp>", "FROM:"), None);
        assert_eq!(parse_path("", "TO:"), None);
    }

    #[test]
    fn decodes_encoded_words_and_base64_body() {
        let raw = b"Subject: =?utf-8?b?5bGK5Ye6?=\r\nContent-Type: text/plain; charset=utf-8\r\n\
            Content-Transfer-Encoding: base64\r\n\r\n5Y+X5LuY\r\n";
        let mail = decode("a@x".into(), vec!["b@x".into()], raw.to_vec());
        assert_eq!(mail.subject, "届出");
        assert_eq!(mail.body.trim_end(), "受付");
    }

    #[test]
    fn decodes_quoted_printable_body_with_lf_line_ends() {
        let raw = b"Subject: =?UTF-8?Q?=E5=B1=8A=E5=87=BA?=\r\nContent-Type: text/plain; charset=utf-8\r\n\
            Content-Transfer-Encoding: quoted-printable\r\n\r\n=E5=8F=97=E4=BB=98\r\n=E6=B8=88\r\n";
        let mail = decode(String::new(), vec![], raw.to_vec());
        assert_eq!(mail.subject, "届出");
        assert_eq!(mail.body, "受付\n済\n");
    }
}
