//! A ClamAV daemon client speaking INSTREAM: `zINSTREAM\0`, then chunks each prefixed by a
//! 4-byte big-endian length, then a zero-length chunk; clamd answers `stream: OK` or
//! `stream: <signature> FOUND` (NUL-terminated). Anything else — refused connection, reset,
//! timeout, `INSTREAM size limit exceeded. ERROR`, an unknown answer — is a [`ScanError`],
//! which the caller must treat as "not clean".

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Chunk size sent to clamd (well under its default StreamMaxLength of 25 MB).
const CHUNK: usize = 64 * 1024;
/// Longest reply read; real replies are a line.
const MAX_REPLY: usize = 4096;

/// What clamd said about the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The signature name clamd reported.
    Infected(String),
}

/// Why no verdict could be had (logged in English; never shown to uploaders).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot reach clamd at {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("clamd exchange failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("clamd did not answer within {0:?}")]
    Timeout(Duration),
    #[error("clamd refused the stream: size limit exceeded")]
    SizeLimit,
    #[error("unexpected clamd reply: {0:?}")]
    Unexpected(String),
}

/// Scans `bytes` with the clamd at `addr` (`host:port`, or `unix:/path/to/socket`); the whole
/// exchange must finish within `timeout`.
pub async fn scan(addr: &str, bytes: &[u8], timeout: Duration) -> Result<Verdict, ScanError> {
    let work = async {
        if let Some(path) = addr.strip_prefix("unix:") {
            #[cfg(unix)]
            {
                let s = tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(|e| ScanError::Connect(addr.to_string(), e))?;
                return exchange(s, bytes).await;
            }
            #[cfg(not(unix))]
            {
                let _ = path;
                return Err(ScanError::Unexpected("unix sockets unsupported".into()));
            }
        }
        let s = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| ScanError::Connect(addr.to_string(), e))?;
        s.set_nodelay(true).ok();
        exchange(s, bytes).await
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| ScanError::Timeout(timeout))?
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    bytes: &[u8],
) -> Result<Verdict, ScanError> {
    let sent = send(&mut s, bytes).await;
    // clamd may stop reading and answer early (size limit): read its answer either way.
    let reply = read_reply(&mut s).await;
    let text = match &reply {
        Ok(r) => String::from_utf8_lossy(r).into_owned(),
        Err(_) => String::new(),
    };
    let text = text.trim_end_matches(['\0', '\n', '\r', ' ']);
    if text.contains("size limit exceeded") {
        return Err(ScanError::SizeLimit);
    }
    sent?;
    reply?;
    parse_reply(text)
}

/// Reads up to the NUL that ends a `z`-command reply (or the end of the connection).
async fn read_reply<S: AsyncRead + Unpin>(s: &mut S) -> std::io::Result<Vec<u8>> {
    let mut reply = Vec::new();
    let mut buf = [0u8; 512];
    while !reply.contains(&0) && reply.len() < MAX_REPLY {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
    }
    Ok(reply)
}

async fn send<S: AsyncWrite + Unpin>(s: &mut S, bytes: &[u8]) -> std::io::Result<()> {
    s.write_all(b"zINSTREAM\0").await?;
    for chunk in bytes.chunks(CHUNK) {
        s.write_all(&(chunk.len() as u32).to_be_bytes()).await?;
        s.write_all(chunk).await?;
    }
    s.write_all(&0u32.to_be_bytes()).await?;
    s.flush().await
}

/// `stream: OK` → clean; `stream: NAME FOUND` → infected; anything else is an error.
pub fn parse_reply(text: &str) -> Result<Verdict, ScanError> {
    if text == "stream: OK" {
        return Ok(Verdict::Clean);
    }
    if let Some(name) = text
        .strip_prefix("stream: ")
        .and_then(|r| r.strip_suffix(" FOUND"))
        .filter(|n| !n.is_empty() && !n.contains('\n'))
    {
        let name: String = name.chars().filter(|c| !c.is_control()).take(100).collect();
        return Ok(Verdict::Infected(name));
    }
    Err(ScanError::Unexpected(text.chars().take(200).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies() {
        assert_eq!(parse_reply("stream: OK").unwrap(), Verdict::Clean);
        assert_eq!(
            parse_reply("stream: Eicar-Signature FOUND").unwrap(),
            Verdict::Infected("Eicar-Signature".into())
        );
        assert!(parse_reply("stream: FOUND").is_err());
        assert!(parse_reply("").is_err());
        assert!(parse_reply("stream: OK trailing").is_err());
        assert!(parse_reply("INSTREAM size limit exceeded. ERROR").is_err());
    }
}
