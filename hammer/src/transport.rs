//! What a VU sends its requests through. The VU, flow, auth and ID
//! check-out logic is written against this trait, so it can be unit-tested
//! with a scripted fake ([`fake::Scripted`]) instead of a server; the run
//! itself uses [`Client`], and being generic costs the hot path nothing.

use std::future::Future;
use std::time::Duration;

use crate::client::{Client, Conn};
use crate::conn::{Failure, Response};
use crate::h1::Outgoing;
use crate::timer::Watchdog;
use crate::ws;

/// Sends one request on a VU's connection slot (making a connection when
/// the slot is empty) and reads its response. `proto` is set to the
/// protocol the request went out on when it is not HTTP/1.1 (`h2`), failed
/// requests included, so their events say it too.
pub trait Transport: Send + Sync + 'static {
    /// A VU's connection.
    type Conn: Send + 'static;

    fn send<'a>(
        &'a self,
        slot: &'a mut Option<Self::Conn>,
        req: Outgoing<'a>,
        keep_body: bool,
        proto: &'a mut Option<&'static str>,
        watchdog: &'a mut Watchdog,
    ) -> impl Future<Output = Result<Response, Failure>> + Send + 'a;

    /// Opens a WebSocket to `path_and_query` on the target with `headers`.
    fn websocket<'a>(
        &'a self,
        path_and_query: &'a str,
        headers: &'a [(String, String)],
    ) -> impl Future<Output = Result<ws::Opened, ws::Refused>> + Send + 'a;

    /// How long a request (or a WebSocket reply) may take.
    fn request_timeout(&self) -> Duration;

    /// Every response's latency ends at the kernel's arrival stamp, not at
    /// the read: reading it later changes no measurement.
    fn times_by_arrival_stamps(&self) -> bool {
        false
    }
}

impl Transport for Client {
    type Conn = Conn;

    fn send<'a>(
        &'a self,
        slot: &'a mut Option<Conn>,
        req: Outgoing<'a>,
        keep_body: bool,
        proto: &'a mut Option<&'static str>,
        watchdog: &'a mut Watchdog,
    ) -> impl Future<Output = Result<Response, Failure>> + Send + 'a {
        Client::send(self, slot, req, keep_body, proto, watchdog)
    }

    fn websocket<'a>(
        &'a self,
        path_and_query: &'a str,
        headers: &'a [(String, String)],
    ) -> impl Future<Output = Result<ws::Opened, ws::Refused>> + Send + 'a {
        Client::websocket(self, path_and_query, headers)
    }

    fn request_timeout(&self) -> Duration {
        self.opts.timeout
    }

    fn times_by_arrival_stamps(&self) -> bool {
        self.stamps_arrivals()
    }
}

#[cfg(test)]
pub mod fake {
    //! A transport that answers from a script and remembers what was sent.

    use std::sync::Mutex;

    use super::*;

    /// What the fake saw of one request.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Sent {
        pub method: String,
        pub path: String,
        pub body: String,
        pub authorization: Option<String>,
    }

    type Answer = Box<dyn Fn(&Sent) -> (u16, String) + Send + Sync>;

    /// Answers every request with `answer(request)`: a status and a body.
    pub struct Scripted {
        answer: Answer,
        pub sent: Mutex<Vec<Sent>>,
    }

    impl Scripted {
        pub fn new(answer: impl Fn(&Sent) -> (u16, String) + Send + Sync + 'static) -> Scripted {
            Scripted {
                answer: Box::new(answer),
                sent: Mutex::new(Vec::new()),
            }
        }

        pub fn sent(&self) -> Vec<Sent> {
            self.sent.lock().unwrap().clone()
        }
    }

    impl Transport for Scripted {
        type Conn = ();

        fn send<'a>(
            &'a self,
            _slot: &'a mut Option<()>,
            req: Outgoing<'a>,
            _keep_body: bool,
            _proto: &'a mut Option<&'static str>,
            _watchdog: &'a mut Watchdog,
        ) -> impl Future<Output = Result<Response, Failure>> + Send + 'a {
            let sent = Sent {
                method: req.method.to_string(),
                path: req.path_and_query.to_string(),
                body: String::from_utf8_lossy(req.body).into_owned(),
                authorization: req
                    .headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
                    .map(|(_, v)| v.clone()),
            };
            let (status, body) = (self.answer)(&sent);
            self.sent.lock().unwrap().push(sent);
            std::future::ready(Ok(Response {
                status,
                bytes_in: body.len() as u64,
                body: body.into_bytes(),
                ..Response::default()
            }))
        }

        fn websocket<'a>(
            &'a self,
            _path_and_query: &'a str,
            _headers: &'a [(String, String)],
        ) -> impl Future<Output = Result<ws::Opened, ws::Refused>> + Send + 'a {
            std::future::ready(Err(ws::Refused {
                status: 0,
                failure: (
                    records::ErrorKind::Other,
                    "the scripted transport has no WebSockets".into(),
                ),
            }))
        }

        fn request_timeout(&self) -> Duration {
            Duration::from_secs(10)
        }
    }
}
