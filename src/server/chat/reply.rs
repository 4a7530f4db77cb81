//! Answering an event. [`Reply`] is an extractor: it counts the event against the connection's
//! rate, and answers exactly once — a typed acceptance ([`Request::Accepted`]) or a refusal, as
//! an ack when the client sent an ack id, as a `chat-error` event otherwise. A connection
//! refused too often in a row is dropped.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::sync::Arc;

use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef};
use socketioxide::handler::{FromMessageParts, Value};
use socketioxide::socket::Socket;

use super::super::metrics::Metrics;
use super::super::rate::{ConnectionLimit, Verdict};
use super::delivery::emit;
use crate::protocol::{Ack, ChatError, Done, ErrorCode, Request};

/// A connection's rate allowance (shared by all its handlers).
#[derive(Debug, Clone)]
pub(super) struct Limit(pub Arc<ConnectionLimit>);

/// The answer to one event. `R` is the request being answered (`()` for events that are
/// only ever refused): it fixes what an acceptance carries.
pub struct Reply<A: Adapter = socketioxide::adapter::LocalAdapter, R = ()> {
    socket: SocketRef<A>,
    ack: AckSender<A>,
    wants_ack: bool,
    request: PhantomData<fn() -> R>,
}

impl<A: Adapter, R> FromMessageParts<A> for Reply<A, R> {
    type Error = Infallible;

    fn from_message_parts(
        s: &Arc<Socket<A>>,
        v: &mut Value,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        Ok(Reply {
            socket: SocketRef::from_message_parts(s, v, ack_id)?,
            ack: AckSender::from_message_parts(s, v, ack_id)?,
            wants_ack: ack_id.is_some(),
            request: PhantomData,
        })
    }
}

impl<A: Adapter, R: Request> Reply<A, R> {
    /// Accepts the request (nothing is sent when the client asked for no ack).
    pub(super) fn accept(self, body: R::Accepted) {
        if let Some(limit) = self.socket.extensions.get::<Limit>() {
            limit.0.clear();
        }
        self.send_ack(&Ack::Accepted(body));
    }
}

impl<A: Adapter, R> Reply<A, R> {
    /// Counts the event against the connection's rate: `None` (after answering) when it is
    /// over, and the connection is dropped when it keeps going.
    pub(super) fn admit(self) -> Option<Self> {
        let verdict = match self.socket.extensions.get::<Limit>() {
            Some(limit) => limit.0.check(),
            None => Verdict::Allow,
        };
        if verdict == Verdict::Allow {
            return Some(self);
        }
        let error = ChatError::new(
            ErrorCode::RateLimited,
            "You are sending too fast; wait a moment.",
        );
        self.answer_refusal(error, verdict);
        None
    }

    /// Refuses the event; a connection refused too often in a row is dropped.
    pub(super) fn refuse(self, error: ChatError) {
        let verdict = match self.socket.extensions.get::<Limit>() {
            Some(limit) => limit.0.strike(),
            None => Verdict::Limit,
        };
        self.answer_refusal(error, verdict);
    }

    fn send_ack<T: serde::Serialize + ?Sized>(self, answer: &T) {
        let sid = self.socket.id;
        if let Err(e) = self.ack.send(answer) {
            tracing::warn!(%sid, error = %e, "ack failed");
        }
    }

    fn answer_refusal(self, error: ChatError, verdict: Verdict) {
        tracing::debug!(sid = %self.socket.id, code = ?error.code, "refused");
        if let Some(metrics) = self.socket.extensions.get::<Metrics>() {
            metrics.refused();
        }
        let socket = self.socket.clone();
        if self.wants_ack {
            self.send_ack(&Ack::<Done>::Refused(error));
        } else {
            emit(&socket, &error);
        }
        if verdict == Verdict::Drop {
            tracing::warn!(sid = %socket.id, "dropped for abuse");
            if let Err(e) = socket.disconnect() {
                tracing::debug!(error = %e, "disconnect failed");
            }
        }
    }
}
