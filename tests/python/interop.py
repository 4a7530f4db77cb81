"""python-socketio's client against the chat server (issue #19), as its bug report used it.

    .venv/bin/python tests/python/interop.py http://127.0.0.1:PORT [ROUNDS]

Each round (20 unless ROUNDS says otherwise) opens two fresh tutorial-style clients: A over
WebSocket only, B over long-polling only. They see each other in `update-peers` and chat both
ways; B sends one draft `{text, clientId}` twice with `call()` and must get the same id both
times while A receives it once; `call("message", 42)` is refused with `bad-payload`; then B
disconnects, and A's `update-peers` must stop naming B within 3 s. python-socketio sends B's
namespace disconnect and its Engine.IO close in one polling POST, which is what tripped the
server. Prints one line per round and `N/ROUNDS rounds passed`; exits 1 if any round failed.

tests/interop_python.rs runs this against the real server binary (`cargo test`).
"""

import sys
import threading
import time
import uuid

import socketio

WAIT = 3.0  # seconds for anything a person would see at once: names, lists, messages
LEAVE_WAIT = 3.0  # seconds for A's list to drop B after B disconnected


class RoundFailed(Exception):
    pass


class Person:
    """One python-socketio client and what the server told it, guarded by one condition."""

    def __init__(self, label, transport):
        self.label = label
        self.transport = transport
        self.changed = threading.Condition()
        self.name = None
        self.peers = None  # the last `update-peers` list
        self.messages = []  # `newMessage` payloads, in arrival order
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("name-generated", self._on_name)
        self.sio.on("update-peers", self._on_peers)
        self.sio.on("newMessage", self._on_message)

    def _record(self, update):
        with self.changed:
            update()
            self.changed.notify_all()

    def _on_name(self, name):
        self._record(lambda: setattr(self, "name", name))

    def _on_peers(self, peers):
        self._record(lambda: setattr(self, "peers", peers))

    def _on_message(self, message):
        self._record(lambda: self.messages.append(message))

    def connect(self, url):
        self.sio.connect(url, transports=[self.transport], wait_timeout=WAIT)
        self.wait_for("its name (`name-generated`)", lambda: self.name is not None)
        if not isinstance(self.name, str) or not self.name:
            raise RoundFailed(f"{self.label}: name-generated sent {self.name!r}, not a name")

    def wait_for(self, what, condition, timeout=WAIT):
        with self.changed:
            if not self.changed.wait_for(condition, timeout):
                raise RoundFailed(
                    f"{self.label} ({self.transport}): no {what} within {timeout:.0f} s "
                    f"(last update-peers: {self.peers})"
                )

    def texts_from(self, sender):
        with self.changed:
            return [m.get("message") for m in self.messages if m.get("sender") == sender]

    def lists(self, name):
        return self.peers is not None and name in self.peers

    def send(self, payload):
        """`call("message", payload)`: the server's answer (its ack)."""
        try:
            return self.sio.call("message", payload, timeout=WAIT)
        except socketio.exceptions.TimeoutError:
            raise RoundFailed(f"{self.label}: no ack for message {payload!r} within {WAIT:.0f} s")

    def sent_everything(self):
        """Waits until every packet this client queued has gone out (over polling: its POST
        was answered). python-engineio 4.15.1's write loop checks that it is still connected
        before taking the next packets, so a disconnect() while a POST is still on its way
        drops the disconnect packets unsent, and the server then only learns of it from the
        heartbeat, tens of seconds later, whatever it does right. A person's client is not
        that quick to leave after sending; this keeps the client's race out of the test."""
        queue = self.sio.eio.queue
        with queue.all_tasks_done:
            if not queue.all_tasks_done.wait_for(lambda: queue.unfinished_tasks == 0, WAIT):
                raise RoundFailed(f"{self.label}: its packets were not sent within {WAIT:.0f} s")

    def close(self):
        if self.sio.connected:
            self.sio.disconnect()


def expect_accepted(who, ack, what):
    if not (isinstance(ack, dict) and ack.get("ok") is True and isinstance(ack.get("id"), int)):
        raise RoundFailed(f"{who.label}: {what} was answered {ack!r}, not {{ok: true, id, ts}}")
    return ack["id"]


def chat_round(url, run, n):
    tag = f"run {run} round {n}"
    a = Person("A", "websocket")
    b = Person("B", "polling")
    try:
        a.connect(url)
        b.connect(url)
        a.wait_for(f"update-peers naming B ({b.name})", lambda: a.lists(b.name))
        b.wait_for(f"update-peers naming A ({a.name})", lambda: b.lists(a.name))

        hello = f"hello from A, {tag}"
        expect_accepted(a, a.send(hello), "a plain string message")
        b.wait_for(
            f"newMessage {{sender: {a.name}, message: {hello!r}}}",
            lambda: hello in b.texts_from(a.name),
        )

        # A draft sent twice (a retry after a lost ack): one message, one id.
        draft = {"text": f"retried draft from B, {tag}", "clientId": f"interop-{run}-{n}"}
        first = expect_accepted(b, b.send(draft), "the draft")
        again = expect_accepted(b, b.send(draft), "the same draft sent again")
        if again != first:
            raise RoundFailed(f"B: the same draft got id {first}, then {again}")

        refused = b.send(42)
        code = refused.get("error", {}).get("code") if isinstance(refused, dict) else None
        if not (isinstance(refused, dict) and refused.get("ok") is False and code == "bad-payload"):
            raise RoundFailed(f"B: message 42 was answered {refused!r}, not ok:false bad-payload")

        # Messages reach A in id order, so once this later one is there, a second copy of the
        # draft would be there too.
        after = f"after the retry, {tag}"
        expect_accepted(b, b.send(after), "a message after the retry")
        a.wait_for(
            f"newMessage {{sender: {b.name}, message: {after!r}}}",
            lambda: after in a.texts_from(b.name),
        )
        copies = a.texts_from(b.name).count(draft["text"])
        if copies != 1:
            raise RoundFailed(f"A: received B's retried draft {copies} times, not once")

        # B's namespace disconnect and Engine.IO close then leave together, in one POST as in #19.
        b.sent_everything()
        left = time.monotonic()
        b.close()
        a.wait_for(
            f"update-peers without B ({b.name}) after B disconnected",
            lambda: not a.lists(b.name),
            timeout=LEAVE_WAIT,
        )
        return f"ok (B dropped from A's list after {time.monotonic() - left:.2f} s)"
    finally:
        b.close()
        a.close()


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    url = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) == 3 else 20
    run = uuid.uuid4().hex[:8]
    passed = 0
    for n in range(1, rounds + 1):
        try:
            result = chat_round(url, run, n)
            passed += 1
        except RoundFailed as failure:
            result = f"FAILED: {failure}"
        except Exception as error:  # a client error is a failed round, not the end of the run
            result = f"FAILED: {type(error).__name__}: {error}"
        print(f"round {n}: {result}", flush=True)
    print(f"{passed}/{rounds} rounds passed", flush=True)
    sys.exit(0 if passed == rounds else 1)


if __name__ == "__main__":
    main()
