//! A minimal AWS Lambda Runtime API on loopback: hands out queued events to the real
//! `fleetid-jitr-lambda` binary and records its responses and errors.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// What the function answered for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// POSTed to `/response`.
    Response(serde_json::Value),
    /// POSTed to `/error`.
    Error(serde_json::Value),
}

#[derive(Default)]
struct Shared {
    events: VecDeque<(String, serde_json::Value)>,
    answers: Vec<(String, Answer)>,
}

/// The fake Runtime API.
pub struct RuntimeApi {
    pub address: String,
    shared: Arc<Mutex<Shared>>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Starts serving `events` (request id, payload) on 127.0.0.1 with an OS-chosen port.
    pub async fn start(events: Vec<(String, serde_json::Value)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("local address").to_string();
        let shared = Arc::new(Mutex::new(Shared {
            events: events.into(),
            answers: Vec::new(),
        }));
        let state = Arc::clone(&shared);
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&state)));
            }
        });
        Self {
            address,
            shared,
            server,
        }
    }

    /// Waits (at most `limit`) until `count` answers arrived; returns them in order.
    pub async fn answers(&self, count: usize, limit: Duration) -> Vec<(String, Answer)> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            {
                let shared = self.shared.lock().expect("lock");
                if shared.answers.len() >= count {
                    return shared.answers.clone();
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the function answered {} of {count} invocations within {limit:?}",
                self.shared.lock().expect("lock").answers.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(stream: TcpStream, shared: Arc<Mutex<Shared>>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut content_length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).await.unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; content_length];
        if reader.read_exact(&mut body).await.is_err() {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let reply = if method == "GET" && path.ends_with("/runtime/invocation/next") {
            let next = shared.lock().expect("lock").events.pop_front();
            let Some((id, event)) = next else {
                // No more events: leave the function waiting until the test stops it.
                std::future::pending::<()>().await;
                return;
            };
            let body = event.to_string();
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 lambda-runtime-aws-request-id: {id}\r\n\
                 lambda-runtime-deadline-ms: 4102444800000\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:jitr\r\n\
                 lambda-runtime-trace-id: Root=1-00000000-000000000000000000000000\r\n\
                 content-length: {}\r\n\r\n{body}",
                body.len()
            )
        } else {
            let value: serde_json::Value =
                serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            let segments: Vec<&str> = path.split('/').collect();
            if let [.., "invocation", id, kind] = segments.as_slice() {
                let answer = if *kind == "response" {
                    Answer::Response(value)
                } else {
                    Answer::Error(value)
                };
                shared
                    .lock()
                    .expect("lock")
                    .answers
                    .push(((*id).to_owned(), answer));
            } else {
                shared
                    .lock()
                    .expect("lock")
                    .answers
                    .push((path.to_owned(), Answer::Error(value)));
            }
            let body = r#"{"status":"OK"}"#;
            format!(
                "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        if reader.get_mut().write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}
