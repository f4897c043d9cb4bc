//! A small HTTP/1.1 server standing in for Flagent where the real one cannot be made to answer so (a full
//! ingest queue): it serves a one-flag snapshot, holds the stream open, and answers ingestion requests
//! from a script, remembering each with its headers.

use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How an ingestion request is answered: a status and, for 429, a `Retry-After` in seconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<u64>,
}

/// An ingestion request received.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) path: String,
    pub(crate) authorization: Option<String>,
    pub(crate) environment: Option<String>,
    pub(crate) body: Value,
}

#[derive(Debug, Default)]
struct Script {
    replies: VecDeque<Reply>,
    received: Vec<Received>,
}

/// The running server.
pub(crate) struct Local {
    pub(crate) address: String,
    script: Arc<Mutex<Script>>,
}

impl Local {
    /// Starts a server answering ingestion requests with `replies`, then `202`.
    pub(crate) async fn start(replies: &[Reply]) -> Local {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().unwrap());
        let script = Arc::new(Mutex::new(Script {
            replies: replies.iter().copied().collect(),
            received: Vec::new(),
        }));
        let shared = script.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(connection(stream, shared.clone()));
            }
        });
        Local { address, script }
    }

    /// The ingestion requests received so far.
    pub(crate) fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }
}

/// One flag, `banner`, giving everyone `on`.
fn snapshot() -> Value {
    json!({"environmentID": 1, "revision": 1, "view": "server", "flags": [
        {"id": 1, "key": "banner", "salt": "banner", "enabled": true,
         "variants": [{"id": 10, "key": "on"}, {"id": 11, "key": "off"}],
         "segments": [{"id": 100, "rank": 0, "rolloutPercent": 100,
            "distributions": [{"variantId": 10, "percent": 100}]}]}]})
}

/// Serves the requests of one connection in turn.
async fn connection(stream: TcpStream, script: Arc<Mutex<Script>>) {
    let mut stream = BufReader::new(stream);
    loop {
        let Some((path, headers, body)) = read_request(&mut stream).await else {
            return;
        };
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let answer = match path.as_str() {
            "/api/v1/snapshot" => respond(200, None, &snapshot()),
            "/api/v1/stream" => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                    transfer-encoding: chunked\r\n\r\n";
                let _ = stream.get_mut().write_all(head.as_bytes()).await;
                // The stream stays open, silent, until the client goes.
                let mut rest = Vec::new();
                let _ = stream.read_to_end(&mut rest).await;
                return;
            }
            _ => {
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let items = body
                    .as_object()
                    .and_then(|o| o.values().next())
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let reply = {
                    let mut script = script.lock().unwrap();
                    script.received.push(Received {
                        path: path.clone(),
                        authorization: header("authorization"),
                        environment: header("x-environment"),
                        body,
                    });
                    script.replies.pop_front()
                };
                match reply {
                    Some(reply) => respond(
                        reply.status,
                        reply.retry_after,
                        &json!({"error": {"code": "ingest_overloaded"}}),
                    ),
                    None => respond(202, None, &json!({"accepted": items, "rejected": []})),
                }
            }
        };
        if stream.get_mut().write_all(&answer).await.is_err() {
            return;
        }
    }
}

/// Reads one request: its path, headers and body; `None` when the connection ends.
async fn read_request(
    stream: &mut BufReader<TcpStream>,
) -> Option<(String, Vec<(String, String)>, Vec<u8>)> {
    let mut line = String::new();
    stream.read_line(&mut line).await.ok()?;
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut headers = Vec::new();
    loop {
        line.clear();
        stream.read_line(&mut line).await.ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some((path, headers, body))
}

/// A complete response with a JSON body.
fn respond(status: u16, retry_after: Option<u64>, body: &Value) -> Vec<u8> {
    let body = body.to_string();
    let mut head = format!(
        "HTTP/1.1 {status} Scripted\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    if let Some(seconds) = retry_after {
        head.push_str(&format!("retry-after: {seconds}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}
