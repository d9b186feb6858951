//! Content-addressed file storage on local disk: a file is stored once under its SHA-256,
//! written to a temporary name, fsynced, renamed into place and its directory fsynced, so a
//! blob the database refers to is durable before the transaction that refers to it commits.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{CoreError, CoreResult};

#[derive(Clone, Debug)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    pub fn new(root: PathBuf) -> Self {
        BlobStore { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of a blob: `<root>/ab/cdef…` (first two hex digits as a fan-out directory).
    pub fn path_of(&self, sha256: &str) -> CoreResult<PathBuf> {
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(CoreError::Internal(format!("not a sha256: {sha256:?}")));
        }
        Ok(self.root.join(&sha256[..2]).join(&sha256[2..]))
    }

    /// Stores bytes durably; returns their SHA-256 (hex). Storing the same bytes twice is free.
    pub async fn put(&self, bytes: Vec<u8>) -> CoreResult<String> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || put_blocking(&root, &bytes))
            .await
            .map_err(|e| CoreError::Internal(format!("blob writer panicked: {e}")))?
    }

    /// Reads a blob and checks its hash (a corrupted file is an error, never served).
    pub async fn get(&self, sha256: &str) -> CoreResult<Vec<u8>> {
        let path = self.path_of(sha256)?;
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| CoreError::Internal(format!("read blob {sha256}: {e}")))?;
        if hex::encode(Sha256::digest(&bytes)) != sha256 {
            return Err(CoreError::Internal(format!("blob {sha256} is corrupted")));
        }
        Ok(bytes)
    }
}

/// SHA-256 of bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn put_blocking(root: &Path, bytes: &[u8]) -> CoreResult<String> {
    let io = |e: std::io::Error| CoreError::Internal(format!("blob store: {e}"));
    let sha = sha256_hex(bytes);
    let dir = root.join(&sha[..2]);
    let path = dir.join(&sha[2..]);
    if path.exists() {
        return Ok(sha);
    }
    std::fs::create_dir_all(&dir).map_err(io)?;
    let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::now_v7()));
    {
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, &path).map_err(io)?;
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_once_and_reads_back_verified() {
        let dir = std::env::temp_dir().join(format!("mdg-blobs-{}", uuid::Uuid::now_v7()));
        let store = BlobStore::new(dir.clone());
        let a = store.put(b"hello".to_vec()).await.unwrap();
        let b = store.put(b"hello".to_vec()).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(store.get(&a).await.unwrap(), b"hello");
        std::fs::write(store.path_of(&a).unwrap(), b"tampered").unwrap();
        assert!(store.get(&a).await.is_err());
        assert!(store.path_of("../etc/passwd").is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}
