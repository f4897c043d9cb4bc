//! A minimal HTTP/1.1 client over hyper: one keep-alive connection per `Conn`, requests described once as
//! `Call`s and replayed, so the load generator spends as little CPU per request as possible.

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// One request, replayed as many times as needed.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    method: Method,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Call {
    /// A request with no body.
    pub(crate) fn new(method: Method, path: &str) -> Call {
        Call {
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// `GET path`.
    pub(crate) fn get(path: &str) -> Call {
        Call::new(Method::GET, path)
    }

    /// `POST path` with a JSON body.
    pub(crate) fn post(path: &str, body: &Value) -> Call {
        Call::new(Method::POST, path).json(body)
    }

    /// The same request with a JSON body.
    pub(crate) fn json(mut self, body: &Value) -> Call {
        self.body = Bytes::from(body.to_string());
        self.header(CONTENT_TYPE, "application/json")
    }

    /// The same request with `Authorization: Bearer token`.
    pub(crate) fn bearer(self, token: &str) -> Call {
        self.header(AUTHORIZATION, &format!("Bearer {token}"))
    }

    /// The same request with another header.
    pub(crate) fn header(mut self, name: HeaderName, value: &str) -> Call {
        let value = HeaderValue::from_str(value).expect("a valid header value");
        self.headers.push((name, value));
        self
    }

    /// The same request in environment `env` (`X-Environment`).
    pub(crate) fn env(self, env: &str) -> Call {
        self.header(HeaderName::from_static("x-environment"), env)
    }

    fn request(&self, host: &HeaderValue) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.path.parse().expect("a valid path");
        let headers = req.headers_mut();
        headers.insert(HOST, host.clone());
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        req
    }
}

/// One keep-alive HTTP/1.1 connection.
pub(crate) struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

impl Conn {
    /// Connects to `addr`.
    pub(crate) async fn open(addr: SocketAddr) -> Result<Conn> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let host = HeaderValue::from_str(&addr.to_string())?;
        Ok(Conn { sender, host })
    }

    /// Sends `call` and returns the response head with its streaming body.
    pub(crate) async fn start(&mut self, call: &Call) -> Result<Response<Incoming>> {
        self.sender.ready().await?;
        Ok(self.sender.send_request(call.request(&self.host)).await?)
    }

    /// Sends `call` and reads the whole answer.
    pub(crate) async fn send(&mut self, call: &Call) -> Result<(StatusCode, Bytes)> {
        let response = self.start(call).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// Sends `call` and parses the answer as JSON (`null` when empty).
    pub(crate) async fn json(&mut self, call: &Call) -> Result<(u16, Value)> {
        let (status, body) = self.send(call).await?;
        let value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
        };
        Ok((status.as_u16(), value))
    }

    /// Sends `call` and returns the JSON answer, failing unless the status is 2xx.
    pub(crate) async fn ok(&mut self, call: &Call) -> Result<Value> {
        let (status, body) = self.json(call).await?;
        if !(200..300).contains(&status) {
            bail!("{} {} answered {status}: {body}", call.method, call.path);
        }
        Ok(body)
    }
}
