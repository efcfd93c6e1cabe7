//! A lean HTTP/1.1 keep-alive client: one connection per simulated user, so that the
//! load generator spends as little of the shared machine as it can.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, header};
use hyper_util::rt::TokioIo;

/// One kept-alive connection.
pub struct Client {
    sender: SendRequest<Full<Bytes>>,
}

impl Client {
    /// Connect to the server.
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Client> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Client { sender })
    }

    /// Send a request with a bearer token; the status and the body.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Bytes>,
    ) -> anyhow::Result<(u16, Bytes)> {
        self.sender.ready().await?;
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "bench")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            // As a high-volume integration would: the new state, not the whole case back.
            .header("prefer", "return=minimal");
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        let req = b.body(Full::new(body.unwrap_or_default()))?;
        let resp = self.sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }
}

/// The value of `"id":` at the top of a JSON object, without parsing the rest.
pub fn top_level_id(body: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(body).ok()?;
    let i = s.find("\"id\":")? + 5;
    let rest = s[i..].trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}
