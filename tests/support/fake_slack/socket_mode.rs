//! Socket Mode: the WebSocket behind the URL `apps.connections.open` returns.
//!
//! A connection must present a ticket minted by `apps.connections.open` (single
//! use, like Slack's), else the handshake gets 401. Once upgraded, the fake sends
//! `hello`, then whatever the test queues: envelopes, or `disconnect` followed by a
//! Close frame. Every text frame from the client carrying an `envelope_id` is
//! recorded as an ack; pings are answered by tungstenite itself (it queues the
//! pong and flushes it on the next read).
//!
//! Like Slack, which sends each envelope to one of the app's connections, the
//! fake spreads envelopes over the live sockets in turn (round robin), or sends
//! one to a socket the test picks ([`FakeSlack::send_envelope_to`]). Sockets
//! are numbered 1, 2, .. in the order they opened, so a test that starts
//! replicas one after another knows whose socket is whose. Slack redelivers an
//! envelope whose ack did not come within 3 s to another connection; a test
//! makes an ack go missing ([`FakeSlack::send_envelope_losing_ack`]) and then
//! stands for the 3 s with [`FakeSlack::redeliver_to`].

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::{Message, http};

use super::{Config, FakeSlack, Recorded, Shared, take_first};

/// Socket Mode state: tickets, live connections, what was sent and acked.
#[derive(Default)]
pub(crate) struct SocketState {
    tickets: HashSet<String>,
    ticket_seq: u64,
    live: Vec<LiveSocket>,
    opened: usize,
    /// Round-robin position: how many envelopes were spread so far.
    turn: usize,
    /// Every delivery: the socket it went to and the envelope.
    deliveries: Vec<(usize, Value)>,
    acks: Vec<Recorded<Value>>,
    /// Envelopes whose next ack is dropped as if lost on the way, and those dropped.
    losing_acks: HashSet<String>,
    lost_acks: Vec<Value>,
    /// Client text frames that were not acks (kept for failure messages).
    other_frames: Vec<String>,
}

impl SocketState {
    pub fn mint_ticket(&mut self) -> String {
        self.ticket_seq += 1;
        let ticket = format!("fake-ticket-{}", self.ticket_seq);
        self.tickets.insert(ticket.clone());
        ticket
    }

    /// Sends `envelope` to socket `to` (the next live one in turn when `None`);
    /// the socket it went to, or `None` when no such socket is live.
    fn deliver(&mut self, to: Option<usize>, envelope: &Value) -> Option<usize> {
        loop {
            let index = match to {
                Some(id) => self.live.iter().position(|socket| socket.id == id)?,
                None if self.live.is_empty() => return None,
                None => self.turn % self.live.len(),
            };
            let socket = &self.live[index];
            if socket.outbox.send(Outgoing::Frame(envelope.to_string())).is_ok() {
                let id = socket.id;
                self.turn += usize::from(to.is_none());
                self.deliveries.push((id, envelope.clone()));
                return Some(id);
            }
            self.live.remove(index);
        }
    }

    fn summary(&self) -> String {
        format!(
            "{} socket(s) opened, live: {:?}; envelopes sent (socket, envelope): {:#?}; acks received: {:#?}; \
             acks lost on purpose: {:#?}; other client frames: {:#?}",
            self.opened,
            self.live.iter().map(|socket| socket.id).collect::<Vec<_>>(),
            self.deliveries,
            self.acks.iter().map(|r| &r.item).collect::<Vec<_>>(),
            self.lost_acks,
            self.other_frames,
        )
    }
}

struct LiveSocket {
    id: usize,
    outbox: mpsc::UnboundedSender<Outgoing>,
}

enum Outgoing {
    Frame(String),
    /// Send this frame, then close the socket.
    Disconnect(String),
}

impl FakeSlack {
    /// Waits until a client has connected and been greeted with `hello`.
    pub async fn wait_for_socket(&self) {
        self.wait_until(
            "Socket Mode connection",
            |s| (!s.sockets.live.is_empty()).then_some(()),
            |s| s.sockets.summary(),
        )
        .await
    }

    /// How many Socket Mode connections were ever accepted (reconnects count).
    pub fn socket_connections(&self) -> usize {
        self.shared.inspect(|s| s.sockets.opened)
    }

    /// Delivers `payload` as a `slash_commands`, `events_api` or `interactive`
    /// envelope (first attempt) to the next live socket in turn; returns its
    /// envelope id. Waits for a socket.
    pub async fn send_envelope(&self, kind: &str, payload: Value) -> String {
        let envelope_id = self.new_envelope_id();
        self.send_envelope_with_id(kind, payload, &envelope_id, 0).await;
        envelope_id
    }

    /// Delivers an envelope with a chosen id and `retry_attempt`, as Slack does
    /// when it redelivers an unacknowledged one (`retry_reason: "timeout"`).
    pub async fn send_envelope_with_id(&self, kind: &str, payload: Value, envelope_id: &str, retry_attempt: u32) {
        let envelope = envelope(kind, payload, envelope_id, retry_attempt);
        loop {
            self.wait_for_socket().await;
            if self.shared.update(|s| s.sockets.deliver(None, &envelope)).is_some() {
                return;
            }
        }
    }

    /// Delivers a first attempt to socket `socket` (numbered from 1 in the
    /// order sockets opened); panics when that socket is not live.
    pub fn send_envelope_to(&self, socket: usize, kind: &str, payload: Value) -> String {
        let envelope_id = self.new_envelope_id();
        self.deliver_to(socket, &envelope(kind, payload, &envelope_id, 0));
        envelope_id
    }

    /// Like [`Self::send_envelope_to`], but the client's first ack of this
    /// envelope is dropped as if lost on the way: Slack, seeing no ack, would
    /// redeliver it (later acks are recorded as usual).
    pub fn send_envelope_losing_ack(&self, socket: usize, kind: &str, payload: Value) -> String {
        let envelope_id = self.new_envelope_id();
        self.shared.update(|s| s.sockets.losing_acks.insert(envelope_id.clone()));
        self.deliver_to(socket, &envelope(kind, payload, &envelope_id, 0));
        envelope_id
    }

    /// What Slack does 3 s after delivering an envelope it got no ack for:
    /// the same envelope (same id and payload, next `retry_attempt`,
    /// `retry_reason: "timeout"`) to another connection, here socket `socket`.
    /// Panics if the envelope was acknowledged (Slack would not redeliver it)
    /// or if `socket` already had it.
    pub fn redeliver_to(&self, socket: usize, envelope_id: &str) {
        let previous: Vec<(usize, Value)> = self.shared.inspect(|s| {
            assert!(
                !s.sockets.acks.iter().any(|ack| ack.item["envelope_id"] == envelope_id),
                "envelope {envelope_id} was acknowledged; Slack would not redeliver it"
            );
            s.sockets.deliveries.iter().filter(|(_, e)| e["envelope_id"] == envelope_id).cloned().collect()
        });
        let (_, last) = previous.last().unwrap_or_else(|| panic!("envelope {envelope_id} was never sent"));
        assert!(previous.iter().all(|(to, _)| *to != socket), "socket {socket} already had envelope {envelope_id}");
        let attempt = previous.len() as u32;
        let again = envelope(last["type"].as_str().unwrap_or_default(), last["payload"].clone(), envelope_id, attempt);
        self.deliver_to(socket, &again);
    }

    fn deliver_to(&self, socket: usize, envelope: &Value) {
        let sent = self.shared.update(|s| s.sockets.deliver(Some(socket), envelope));
        assert!(
            sent.is_some(),
            "fake Slack: socket {socket} is not live; {}",
            self.shared.inspect(|s| s.sockets.summary())
        );
    }

    fn new_envelope_id(&self) -> String {
        let n = self.shared.update(|s| s.next_number());
        format!("0f0f0f0f-{:04x}-4000-8000-{n:012x}", n % 0x10000)
    }

    /// Live sockets' numbers, oldest first.
    pub fn live_sockets(&self) -> Vec<usize> {
        self.shared.inspect(|s| s.sockets.live.iter().map(|socket| socket.id).collect())
    }

    /// Waits until `count` sockets are live; returns their numbers, oldest first.
    pub async fn wait_for_sockets(&self, count: usize) -> Vec<usize> {
        self.wait_until(
            &format!("{count} live Socket Mode connections"),
            |s| (s.sockets.live.len() >= count).then(|| s.sockets.live.iter().map(|socket| socket.id).collect()),
            |s| s.sockets.summary(),
        )
        .await
    }

    /// How many envelopes (redeliveries included) each socket was sent, by socket number.
    pub fn envelopes_per_socket(&self) -> BTreeMap<usize, usize> {
        self.shared.inspect(|s| {
            let mut counts = BTreeMap::new();
            for (socket, _) in &s.sockets.deliveries {
                *counts.entry(*socket).or_default() += 1;
            }
            counts
        })
    }

    /// Waits for the client's next ack of `envelope_id`; returns the whole ack
    /// object (`{"envelope_id": .., "payload": ..}` when it carries a response).
    pub async fn next_ack(&self, envelope_id: &str) -> Value {
        self.wait_until(
            &format!("ack for envelope {envelope_id}"),
            |s| take_first(&mut s.sockets.acks, |ack| ack["envelope_id"] == envelope_id),
            |s| s.sockets.summary(),
        )
        .await
    }

    /// Asks every live client to reconnect, as Slack does when it recycles
    /// sockets: sends `{"type":"disconnect","reason":"refresh_requested",..}`,
    /// then closes. The sockets stop counting as live at once.
    pub fn disconnect(&self) {
        let frame = json!({
            "type": "disconnect",
            "reason": "refresh_requested",
            "debug_info": {"host": "fake"},
        })
        .to_string();
        self.shared.update(|s| {
            for socket in s.sockets.live.drain(..) {
                let _ = socket.outbox.send(Outgoing::Disconnect(frame.clone()));
            }
        });
    }
}

/// Accepts WebSocket clients until aborted; aborting drops (and so aborts) them all.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    connections.spawn(serve(stream, shared.clone()));
                }
            }
            Some(_) = connections.join_next() => {}
        }
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    #[allow(clippy::result_large_err, reason = "the Err type is fixed by tungstenite's Callback")]
    let check_ticket = |request: &Request, response: Response| {
        let ticket = request.uri().query().and_then(ticket_of);
        let path_ok = request.uri().path() == "/link/";
        match ticket {
            Some(t) if path_ok && shared.update(|s| s.sockets.tickets.remove(&t)) => Ok(response),
            _ => Err(unauthorized()),
        }
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, check_ticket).await else {
        return;
    };
    let (outbox, mut queued) = mpsc::unbounded_channel();
    let id = shared.update(|s| {
        s.sockets.opened += 1;
        let hello = hello_frame(&shared.config, s.sockets.live.len() + 1);
        let _ = outbox.send(Outgoing::Frame(hello));
        let id = s.sockets.opened;
        s.sockets.live.push(LiveSocket { id, outbox });
        id
    });

    let mut closing = false;
    loop {
        tokio::select! {
            outgoing = queued.recv(), if !closing => match outgoing {
                Some(Outgoing::Frame(text)) => {
                    if ws.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Disconnect(text)) => {
                    closing = true;
                    let _ = ws.send(Message::text(text)).await;
                    let _ = ws.close(None).await;
                }
                None => closing = true,
            },
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(text))) => record_client_frame(&shared, text.as_str()),
                // Pings are answered by tungstenite; Close is echoed by it too,
                // and the stream then ends.
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
        }
    }
    shared.update(|s| s.sockets.live.retain(|socket| socket.id != id));
}

fn record_client_frame(shared: &Shared, text: &str) {
    let parsed = serde_json::from_str::<Value>(text).ok();
    shared.update(|s| match parsed {
        Some(ack) if ack["envelope_id"].as_str().is_some_and(|id| s.sockets.losing_acks.remove(id)) => {
            s.sockets.lost_acks.push(ack)
        }
        Some(ack) if ack.get("envelope_id").is_some() => s.sockets.acks.push(Recorded::new(ack)),
        _ => s.sockets.other_frames.push(text.to_string()),
    });
}

/// The envelope Slack wraps every Socket Mode delivery in.
pub(crate) fn envelope(kind: &str, payload: Value, envelope_id: &str, retry_attempt: u32) -> Value {
    json!({
        "envelope_id": envelope_id,
        "type": kind,
        "payload": payload,
        "accepts_response_payload": kind != "events_api",
        "retry_attempt": retry_attempt,
        "retry_reason": if retry_attempt == 0 { "" } else { "timeout" },
    })
}

fn hello_frame(config: &Config, num_connections: usize) -> String {
    json!({
        "type": "hello",
        "num_connections": num_connections,
        "debug_info": {"host": "fake", "approximate_connection_time": 18060},
        "connection_info": {"app_id": config.app_id},
    })
    .to_string()
}

fn ticket_of(query: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs.into_iter().find(|(k, _)| k == "ticket").map(|(_, v)| v)
}

fn unauthorized() -> ErrorResponse {
    let mut response = ErrorResponse::new(Some("fake Slack: unknown or used ticket".into()));
    *response.status_mut() = http::StatusCode::UNAUTHORIZED;
    response
}
