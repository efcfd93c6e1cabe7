//! A lean HTTP/1.1 keep-alive client: one connection per simulated user, so that the
//! load generator spends as little of the shared machine as it can.
//!
//! The load generator runs on the two cores it measures, and what it spends is taken
//! from the server: like `wrk`, it writes each request into one buffer and sends it with
//! one `write`, and reads the answer into a buffer it keeps, parsing only the head
//! (`httparse`, hyper's own parser). hyper's client, used before, spent about 9 µs of
//! the machine's CPU per transition (two tasks per connection, a header map and a
//! `Request` built per request); with this one the whole machine spends 4–6 µs less
//! per transition (same-hour runs at 64 clients).

use std::net::SocketAddr;

use std::io::Write as _;

use bytes::{Buf, Bytes, BytesMut};
use hyper::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One kept-alive connection.
pub struct Client {
    stream: TcpStream,
    /// The request being written.
    out: Vec<u8>,
    /// What has been read and not yet consumed.
    input: BytesMut,
}

impl Client {
    /// Connect to the server.
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream,
            out: Vec::with_capacity(1024),
            input: BytesMut::with_capacity(16 * 1024),
        })
    }

    /// Send a request with a bearer token; the status and the body.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Bytes>,
    ) -> anyhow::Result<(u16, Bytes)> {
        request(&mut self.out, &method, path, token, body.as_deref());
        self.stream.write_all(&self.out).await?;
        loop {
            if let Some((status, body)) = response(&mut self.input)? {
                return Ok((status, body));
            }
            if self.input.capacity() - self.input.len() < 4096 {
                self.input.reserve(16 * 1024);
            }
            if self.stream.read_buf(&mut self.input).await? == 0 {
                anyhow::bail!("the server closed the connection");
            }
        }
    }
}

/// Write a request into `out`: as a high-volume integration would, asking for the new
/// state rather than the whole case back (`Prefer: return=minimal`).
fn request(out: &mut Vec<u8>, method: &Method, path: &str, token: &str, body: Option<&[u8]>) {
    out.clear();
    for part in [
        method.as_str(),
        " ",
        path,
        " HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer ",
        token,
        "\r\nprefer: return=minimal\r\n",
    ] {
        out.extend_from_slice(part.as_bytes());
    }
    if let Some(b) = body {
        out.extend_from_slice(b"content-type: application/json\r\ncontent-length: ");
        let _ = write!(out, "{}", b.len());
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(b);
    } else {
        out.extend_from_slice(b"\r\n");
    }
}

/// A whole response at the front of `input`, taken out of it: its status and body.
/// `None` while it has not all arrived. Bodies come with a `content-length` or chunked.
fn response(input: &mut BytesMut) -> anyhow::Result<Option<(u16, Bytes)>> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut head = httparse::Response::new(&mut headers);
    let head_len = match head.parse(input)? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Ok(None),
    };
    let status = head.code.unwrap_or(0);
    let mut length = None;
    let mut chunked = false;
    for h in head.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            length = Some(std::str::from_utf8(h.value)?.trim().parse::<usize>()?);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = h.value.eq_ignore_ascii_case(b"chunked");
        }
    }
    if chunked {
        let Some((body, end)) = dechunk(&input[head_len..])? else {
            return Ok(None);
        };
        input.advance(head_len + end);
        return Ok(Some((status, body)));
    }
    // No length and not chunked: an answer without a body (204, 304), as keep-alive
    // allows nothing else.
    let length = length.unwrap_or(0);
    if input.len() < head_len + length {
        return Ok(None);
    }
    input.advance(head_len);
    Ok(Some((status, input.split_to(length).freeze())))
}

/// A chunked body at the front of `b`: the body and the bytes it took, or `None` while
/// it has not all arrived.
fn dechunk(b: &[u8]) -> anyhow::Result<Option<(Bytes, usize)>> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(eol) = b[at..].windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&b[at..at + eol])?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)?;
        at += eol + 2;
        if b.len() < at + size + 2 {
            return Ok(None);
        }
        if size == 0 {
            // No trailers are sent to this client: the last chunk ends the body.
            anyhow::ensure!(&b[at..at + 2] == b"\r\n", "trailers in a chunked body");
            return Ok(Some((Bytes::from(body), at + 2)));
        }
        body.extend_from_slice(&b[at..at + size]);
        anyhow::ensure!(&b[at + size..at + size + 2] == b"\r\n", "bad chunk");
        at += size + 2;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_one_buffer_with_its_length() {
        let mut out = Vec::new();
        request(
            &mut out,
            &Method::POST,
            "/api/v1/cases/7/actions",
            "t0k",
            Some(b"{\"a\":1}"),
        );
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "POST /api/v1/cases/7/actions HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer t0k\r\n\
             prefer: return=minimal\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{\"a\":1}"
        );
        request(&mut out, &Method::GET, "/healthz", "t", None);
        assert!(out.ends_with(b"prefer: return=minimal\r\n\r\n"));
    }

    #[test]
    fn responses_are_taken_whole_and_one_at_a_time() {
        let both = b"HTTP/1.1 201 Created\r\nContent-Length: 9\r\n\r\n{\"id\":42}\
                     HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n3;x=y\r\n!!!\r\n0\r\n\r\n";
        // Every prefix short of the first response is incomplete, and consumes nothing.
        for cut in 0..52 {
            let mut b = BytesMut::from(&both[..cut]);
            assert!(response(&mut b).unwrap().is_none(), "at {cut}");
            assert_eq!(b.len(), cut);
        }
        let mut b = BytesMut::from(&both[..]);
        let (status, body) = response(&mut b).unwrap().unwrap();
        assert_eq!((status, top_level_id(&body)), (201, Some(42)));
        let rest = b.len();
        for cut in 0..rest {
            let mut part = BytesMut::from(&b[..cut]);
            assert!(response(&mut part).unwrap().is_none(), "at {cut}");
        }
        assert_eq!(
            response(&mut b).unwrap().unwrap(),
            (200, Bytes::from_static(b"ok!!!"))
        );
        assert!(b.is_empty());
    }

    #[test]
    fn a_malformed_answer_is_an_error_not_a_wait() {
        assert!(
            response(&mut BytesMut::from(
                &b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n"[..]
            ))
            .is_err()
        );
        assert!(response(&mut BytesMut::from(&b"garbage\r\n\r\n"[..])).is_err());
        let chunk = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokX\r\n0\r\n\r\n";
        assert!(response(&mut BytesMut::from(&chunk[..])).is_err());
    }
}
