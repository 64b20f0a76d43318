//! The little HTTP/1.1 the test servers need (the fake Lambda Runtime API, the fault proxy, the
//! CloudWatch stand-in): one message read from a stream (start line, headers, a
//! `Content-Length`, chunked or read-to-the-end body) and written back. `std::net` only: every
//! server here is a thread per connection, which is what a test's handful of connections needs,
//! and keeps full control of the bytes (a proxy that truncates a body or resets a connection
//! cannot sit on a general-purpose server).

use std::io::BufRead;

/// One HTTP/1.1 request or response.
#[derive(Clone, Debug, Default)]
pub struct Message {
    /// `POST / HTTP/1.1` or `HTTP/1.1 200 OK`.
    pub start: String,
    /// Header names lower-cased, values trimmed, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Message {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A request's method.
    pub fn method(&self) -> &str {
        self.start.split_whitespace().next().unwrap_or_default()
    }

    /// A request's path.
    pub fn path(&self) -> &str {
        self.start.split_whitespace().nth(1).unwrap_or_default()
    }

    /// A response's status code.
    pub fn status(&self) -> u16 {
        self.start
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// The message on the wire, with `Content-Length` for its body and `Connection: close`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.start);
        for (name, value) in &self.headers {
            if ["content-length", "transfer-encoding", "connection"].contains(&name.as_str()) {
                continue;
            }
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Reads one message; `None` at the end of the stream (or on garbage). A body without
/// `Content-Length` or chunking is read to the end of the stream when `to_eof` (a response of a
/// closing server), else taken as empty (a request without a body).
pub fn read_message(reader: &mut impl BufRead, to_eof: bool) -> Option<Message> {
    let mut start = String::new();
    if reader.read_line(&mut start).ok()? == 0 {
        return None;
    }
    let mut m = Message {
        start: start.trim_end().to_owned(),
        ..Message::default()
    };
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        m.headers
            .push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    if m.header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2]; // the chunk and its CRLF
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            m.body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = m.header("content-length") {
        let mut body = vec![0; len.parse().ok()?];
        reader.read_exact(&mut body).ok()?;
        m.body = body;
    } else if to_eof {
        reader.read_to_end(&mut m.body).ok()?;
    }
    Some(m)
}

/// A response with `status` (`200 OK`), extra headers, a content type and a body.
pub fn reply(status: &str, headers: &[(&str, String)], content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The pairs of an `application/x-www-form-urlencoded` body, decoded (`form_urlencoded`).
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_forms_decode() {
        let raw = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
        let m = read_message(&mut &raw[..], false).unwrap();
        assert_eq!(
            (m.method(), m.path(), &m.body[..]),
            ("POST", "/x", &b"hello"[..])
        );
        let again = read_message(&mut &m.to_bytes()[..], false).unwrap();
        assert_eq!(again.body, b"hello");
        assert_eq!(
            form(b"Action=GetMetricData&A.Value=my%2Dtable+x&B=%zz"),
            vec![
                ("Action".to_owned(), "GetMetricData".to_owned()),
                ("A.Value".to_owned(), "my-table x".to_owned()),
                ("B".to_owned(), "%zz".to_owned()),
            ]
        );
    }
}
