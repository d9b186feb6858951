//! The SMTP sink against the real `Mailer` (lettre) and against a hand-driven SMTP dialogue.

use std::time::Duration;

use madoguchi_core::mail::{MailConfig, MailError, Mailer, OutgoingMail};
use madoguchi_testing::smtp_sink::SmtpSink;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

fn japanese_mail() -> OutgoingMail {
    OutgoingMail {
        to: vec![
            "さくら介護 <sakura@example.jp>".to_owned(),
            "shinsei@example.lg.jp".to_owned(),
        ],
        subject: "【窓口】変更届（令和8年11月）を受け付けました".to_owned(),
        body_text:
            "さくら介護事業所 御中\n\n変更届を受け付けました。\n.ドットで始まる行も届きます。\n"
                .to_owned(),
    }
}

#[tokio::test]
async fn japanese_mail_arrives_decoded() {
    let sink = SmtpSink::start().await;
    let cfg = MailConfig {
        from: "窓口 <noreply@madoguchi.localhost>".to_owned(),
        ..sink.mail_config()
    };
    let mail = japanese_mail();

    Mailer::new(&cfg).unwrap().send(&mail).await.expect("sent");

    let received = sink.wait_for(1, WAIT).await;
    assert_eq!(received.len(), 1);
    let got = &received[0];
    assert_eq!(got.from, "noreply@madoguchi.localhost");
    assert_eq!(got.to, ["sakura@example.jp", "shinsei@example.lg.jp"]);
    assert_eq!(got.subject, mail.subject);
    assert_eq!(got.body, mail.body_text);
    assert!(
        got.raw.contains("Content-Type: text/plain; charset=utf-8"),
        "{}",
        got.raw
    );
    assert_eq!(sink.rejected_attempts(), 0);
}

#[tokio::test]
async fn temporary_failure_is_transient_and_the_retry_succeeds() {
    let sink = SmtpSink::start_failing_first(1).await;
    let mailer = Mailer::new(&sink.mail_config()).unwrap();

    let err = mailer.send(&japanese_mail()).await.unwrap_err();
    assert!(matches!(err, MailError::Transient(_)), "{err}");
    assert_eq!(sink.rejected_attempts(), 1);
    assert!(sink.messages().is_empty());

    mailer
        .send(&japanese_mail())
        .await
        .expect("second attempt is accepted");
    assert_eq!(sink.wait_for(1, WAIT).await.len(), 1);
    assert_eq!(sink.rejected_attempts(), 1);
}

#[tokio::test]
async fn several_connections_at_once() {
    let sink = SmtpSink::start().await;
    let mailer = Mailer::new(&sink.mail_config()).unwrap();
    let sends = (0..3).map(|i| {
        let mailer = mailer.clone();
        let mail = OutgoingMail {
            subject: format!("通知 {i}"),
            ..japanese_mail()
        };
        tokio::spawn(async move { mailer.send(&mail).await })
    });
    for send in sends.collect::<Vec<_>>() {
        send.await.unwrap().expect("sent");
    }
    let mut subjects: Vec<_> = sink
        .wait_for(3, WAIT)
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["通知 0", "通知 1", "通知 2"]);
}

/// A raw client: sends one line and returns the (possibly multi-line) reply's last line.
struct Client {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Client {
    async fn connect(port: u16) -> (Client, String) {
        let (read, writer) = TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap()
            .into_split();
        let mut client = Client {
            reader: BufReader::new(read),
            writer,
        };
        let greeting = client.reply().await;
        (client, greeting)
    }

    async fn reply(&mut self) -> String {
        loop {
            let mut line = String::new();
            assert!(
                self.reader.read_line(&mut line).await.unwrap() > 0,
                "server closed"
            );
            if line.as_bytes().get(3) != Some(&b'-') {
                return line.trim_end().to_owned();
            }
        }
    }

    async fn cmd(&mut self, line: &str) -> String {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .unwrap();
        self.reply().await
    }
}

#[tokio::test]
async fn hand_driven_dialogue_with_two_messages_and_dot_stuffing() {
    let sink = SmtpSink::start().await;
    let (mut c, greeting) = Client::connect(sink.port()).await;
    assert!(greeting.starts_with("220"), "{greeting}");
    assert!(c.cmd("MAIL FROM:<a@example.jp>").await.starts_with("503"));
    assert!(c.cmd("EHLO client.example").await.starts_with("250"));
    assert!(c.cmd("NOOP").await.starts_with("250"));
    assert!(c.cmd("VRFY someone").await.starts_with("502"));
    assert!(c.cmd("DATA").await.starts_with("503"));
    assert!(c.cmd("MAIL FROM:<a@example.jp>").await.starts_with("250"));
    assert!(c.cmd("RSET").await.starts_with("250"));
    assert!(c.cmd("RCPT TO:<b@example.jp>").await.starts_with("503"));

    for (i, body) in ["first", "second"].iter().enumerate() {
        assert!(c.cmd("mail from:<a@example.jp>").await.starts_with("250"));
        assert!(c.cmd("rcpt to:<b@example.jp>").await.starts_with("250"));
        assert!(c.cmd("DATA").await.starts_with("354"));
        let data = format!("Subject: no {i}\r\n\r\n{body}\r\n..leading dot\r\n.\r\n");
        c.writer.write_all(data.as_bytes()).await.unwrap();
        assert!(c.reply().await.starts_with("250"));
    }
    assert!(c.cmd("QUIT").await.starts_with("221"));

    let got = sink.wait_for(2, WAIT).await;
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].subject.as_str(), got[0].body.as_str()),
        ("no 0", "first\n.leading dot\n")
    );
    assert_eq!(
        (got[1].subject.as_str(), got[1].body.as_str()),
        ("no 1", "second\n.leading dot\n")
    );
    assert_eq!(
        got[1].raw,
        "Subject: no 1\r\n\r\nsecond\r\n.leading dot\r\n"
    );
}
