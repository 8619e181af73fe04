//! Datastores and their files, on a host (a datastore named by its name)
//! or through a center (by its inventory id, or its name when only one
//! datastore the caller may see has it).

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use hierro_api::*;
use reqwest::Method;
use tokio::io::AsyncWriteExt;

use crate::{enc, query, Client, ClientError, Result};

/// How long a file transfer may take in all (a stalled one fails sooner:
/// the connection's own timeouts).
const TRANSFER: Duration = Duration::from_secs(24 * 3600);

fn at(datastore: &str, what: &str, path: &str) -> String {
    query(
        &format!("/api/datastores/{}/{what}", enc(datastore)),
        &[("path", Some(path))],
    )
}

impl Client {
    pub async fn datastores(&self) -> Result<Vec<Datastore>> {
        self.get("/api/datastores").await
    }

    pub async fn add_datastore(&self, req: &DatastoreCreate) -> Result<Datastore> {
        self.call(Method::POST, "/api/datastores", Some(req)).await
    }

    /// A folder's entries (`path` "" for the datastore's top).
    pub async fn browse(&self, datastore: &str, path: &str) -> Result<DatastoreFolder> {
        self.get(&at(datastore, "browse", path)).await
    }

    pub async fn make_folder(&self, datastore: &str, path: &str) -> Result<DatastoreFile> {
        let req = FolderCreate {
            path: path.to_string(),
        };
        let url = format!("/api/datastores/{}/folders", enc(datastore));
        self.call(Method::POST, &url, Some(&req)).await
    }

    pub async fn delete_file(&self, datastore: &str, path: &str) -> Result<()> {
        self.call_unit(Method::DELETE, &at(datastore, "file", path), None::<&()>)
            .await
    }

    pub async fn move_file(&self, datastore: &str, req: &FileMove) -> Result<DatastoreFile> {
        let url = format!("/api/datastores/{}/move", enc(datastore));
        self.call(Method::POST, &url, Some(req)).await
    }

    /// Uploads the bytes `body` yields to `path` (`length` of them, when
    /// known), streamed.
    pub async fn upload<S>(
        &self,
        datastore: &str,
        path: &str,
        overwrite: bool,
        body: S,
        length: Option<u64>,
    ) -> Result<DatastoreFile>
    where
        S: futures_util::TryStream + Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        bytes::Bytes: From<S::Ok>,
    {
        let url = query(
            &format!("/api/datastores/{}/file", enc(datastore)),
            &[
                ("path", Some(path)),
                ("overwrite", overwrite.then_some("true")),
            ],
        );
        let mut req = self
            .request(Method::PUT, &url)
            .timeout(TRANSFER)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream");
        if let Some(length) = length {
            req = req.header(reqwest::header::CONTENT_LENGTH, length);
        }
        let req = req.body(reqwest::Body::wrap_stream(body));
        self.execute(req)
            .await?
            .json()
            .await
            .map_err(|e| ClientError::Http(format!("decoding {url}: {e}")))
    }

    /// Uploads a local file, streamed; `sent` hears the bytes sent so far.
    pub async fn upload_file(
        &self,
        datastore: &str,
        path: &str,
        overwrite: bool,
        local: &Path,
        sent: impl Fn(u64) + Send + Sync + 'static,
    ) -> Result<DatastoreFile> {
        let file = tokio::fs::File::open(local)
            .await
            .map_err(|e| ClientError::Http(format!("{}: {e}", local.display())))?;
        let length = file
            .metadata()
            .await
            .map_err(|e| ClientError::Http(format!("{}: {e}", local.display())))?
            .len();
        let mut so_far = 0u64;
        let stream =
            tokio_util::io::ReaderStream::with_capacity(file, 1 << 20).inspect(move |chunk| {
                if let Ok(c) = chunk {
                    so_far += c.len() as u64;
                    sent(so_far);
                }
            });
        self.upload(datastore, path, overwrite, stream, Some(length))
            .await
    }

    /// A file's bytes, as the answer to stream (its `content-length` says
    /// how many).
    pub async fn download(&self, datastore: &str, path: &str) -> Result<reqwest::Response> {
        let req = self
            .request(Method::GET, &at(datastore, "file", path))
            .timeout(TRANSFER);
        self.execute(req).await
    }

    /// Downloads a file to `local` (made anew; removed again if the
    /// download fails); `received` hears the bytes so far and the total.
    /// Answers the length.
    pub async fn download_file(
        &self,
        datastore: &str,
        path: &str,
        local: &Path,
        received: impl Fn(u64, Option<u64>),
    ) -> Result<u64> {
        let resp = self.download(datastore, path).await?;
        let total = resp.content_length();
        let local_error =
            |e: std::io::Error| ClientError::Http(format!("{}: {e}", local.display()));
        let mut out = tokio::fs::File::create_new(local)
            .await
            .map_err(local_error)?;
        let copied = async {
            let mut stream = resp.bytes_stream();
            let mut got = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| ClientError::Http(format!("{path}: {e}")))?;
                out.write_all(&chunk).await.map_err(local_error)?;
                got += chunk.len() as u64;
                received(got, total);
            }
            out.flush().await.map_err(local_error)?;
            Ok(got)
        }
        .await;
        if copied.is_err() {
            let _ = tokio::fs::remove_file(local).await;
        }
        copied
    }
}
