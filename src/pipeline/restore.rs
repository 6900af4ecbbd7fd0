//! restore: the upstream's answer on its way back to the caller.
//!
//! Two jobs, for every surface:
//!
//! - **Put vaulted values back.** Where the model echoes a placeholder Customs handed
//!   out for this request (`[EMAIL_1]`), the caller gets its own value back: it sent it,
//!   and the provider never saw it. The same for hash tokens (`[EMAIL#1f3a9c0d2b7e]`)
//!   and fakes handed out for this request (`[redaction]` strategies `hash`, `fake`).
//!   Values that were masked or removed cannot come back. Off with `[upstream]
//!   keep_placeholders = true`; never for `customs-echo`, whose purpose is to show what
//!   would have left.
//! - **Read the usage** the provider reports (input and output tokens), whatever the
//!   surface calls it, for the decision event (answers read whole) or the stream-end
//!   record (streams).
//!
//! Answers read whole (JSON) are parsed, every string restored, and re-encoded. Streams
//! are decoded frame by frame — server-sent events, AWS event-stream (Bedrock, whose
//! `InvokeModel` chunks carry a base64 event inside) — and each event re-encoded as soon
//! as it is complete: nothing waits for the end of the stream. A placeholder can be cut
//! between two events (`"[EMA"`, `"IL_1] wrote"`): the text after a trailing `[` that
//! could still become a placeholder is held back, at most
//! [`crate::scan::redact::MAX_PLACEHOLDER_LEN`] bytes, and prepended to the next event
//! of the same kind at the same place; if none comes, it is sent on its own in a copy of
//! the event it was cut from, before whatever comes next. Hash tokens
//! (`[EMAIL#1f3a9c0d2b7e]`) are held the same way. Fakes (the `fake` strategy) have no
//! brackets: a trailing piece that is the start of one of the request's fakes is held
//! likewise (at most the fake's length), so a fake the model echoes verbatim is restored
//! even when cut between two events; a fake the model reformats (a card number
//! regrouped, an address in another case) is not recognised and reaches the caller as
//! the fake.
//!
//! Anything else (errors, unknown content types) passes through unchanged.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::Response;
use base64::Engine as _;
use futures_util::{Stream, StreamExt as _};
use serde_json::Value;

use crate::audit::{Recorder, StreamEndEvent, StreamOutcome, Usage};
use crate::providers::eventstream;
use crate::scan::redact::{MAX_PLACEHOLDER_LEN, Redactor};

/// Largest non-streamed answer read whole for restoring; a larger one passes through.
pub(super) const MAX_WHOLE_BODY: usize = 32 * 1024 * 1024;

/// Restores `text` completely (a whole answer, or a field that never streams).
fn restore_all(redactor: Option<&Redactor>, value: &mut Value) {
    if let Some(redactor) = redactor {
        walk_strings(value, &mut String::new(), &mut |_, text| {
            if text.contains('[') || redactor.has_fakes() {
                *text = redactor.restore(text);
            }
        });
    }
}

/// Every string value, with its JSON pointer.
fn walk_strings(value: &mut Value, path: &mut String, visit: &mut dyn FnMut(&str, &mut String)) {
    match value {
        Value::String(text) => visit(path, text),
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&index.to_string());
                walk_strings(item, path, visit);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let len = path.len();
                path.push('/');
                path.push_str(key);
                walk_strings(item, path, visit);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Where `text` should be cut so that a trailing, still-open placeholder is held back:
/// the byte index of a final `[` followed only by placeholder characters, if the tail
/// is short enough to still become one.
fn hold_from(text: &str) -> usize {
    let Some(open) = text.rfind('[') else {
        return text.len();
    };
    let tail = text.get(open + 1..).unwrap_or_default();
    let could_be_placeholder = tail.len() < MAX_PLACEHOLDER_LEN
        && tail.chars().all(|c| {
            c.is_ascii_uppercase()
                || c.is_ascii_digit()
                || matches!(c, '_' | '#')
                || c.is_ascii_hexdigit()
        });
    if could_be_placeholder {
        open
    } else {
        text.len()
    }
}

/// Usage as providers report it, merged across the events of a stream.
fn read_usage(value: &Value, usage: &mut Usage) {
    const INPUT: [&str; 4] = [
        "prompt_tokens",
        "input_tokens",
        "inputTokens",
        "promptTokenCount",
    ];
    const OUTPUT: [&str; 4] = [
        "completion_tokens",
        "output_tokens",
        "outputTokens",
        "candidatesTokenCount",
    ];
    let candidates = [
        value.get("usage"),
        value.get("usageMetadata"),
        value.pointer("/message/usage"),
        value.pointer("/response/usage"),
    ];
    for found in candidates.into_iter().flatten() {
        if let Some(n) = INPUT
            .iter()
            .find_map(|k| found.get(*k).and_then(Value::as_u64))
        {
            usage.input_tokens = Some(n);
        }
        if let Some(n) = OUTPUT
            .iter()
            .find_map(|k| found.get(*k).and_then(Value::as_u64))
        {
            usage.output_tokens = Some(n);
        }
    }
}

/// What the restore phase does to one answer.
pub(crate) struct Plan {
    /// The vault, when restoring is on and something was redacted.
    pub(crate) redactor: Option<Redactor>,
    /// Where a stream's end is recorded.
    pub(crate) end: StreamEnd,
    /// The caller asked for a stream: a JSON answer is then Gemini's JSON-array
    /// streaming, passed through rather than read whole.
    pub(crate) stream: bool,
}

/// Where the end of a stream is recorded: its decision, and the recorder (absent in
/// unit tests); and the gateway's watch that breaks the stream off at the end of a
/// shutdown's grace period.
#[derive(Clone, Default)]
pub(crate) struct StreamEnd {
    pub(crate) decision_id: String,
    pub(crate) trace_id: Option<String>,
    pub(crate) recorder: Option<Recorder>,
    pub(crate) cut: Option<tokio::sync::watch::Receiver<bool>>,
    /// Counts the stream as in flight until its end is recorded.
    pub(crate) held: Option<Arc<super::Held>>,
    /// The gateway's list of open streams, which records the end of those still open
    /// when a shutdown is over.
    pub(crate) open: Option<Arc<OpenStreams>>,
}

/// The end of one stream, recorded once: by the stream itself when it ends, or by the
/// gateway ([`OpenStreams::end_all`]) for a stream still open when a shutdown is over.
/// A stream whose caller has stopped reading is never polled (the server polls a body
/// only when it can write), so it cannot notice the cut; the gateway records its end
/// for it, with the usage read so far, before the durable log is sealed. A stream is
/// listed at its first poll, which comes after its decision event is recorded (the
/// body leaves only then): a stream end is never recorded before its decision.
pub(crate) struct StreamLedger {
    decision_id: String,
    trace_id: Option<String>,
    recorder: Option<Recorder>,
    state: Mutex<LedgerState>,
}

struct LedgerState {
    recorded: bool,
    /// The usage read from the stream so far.
    usage: Usage,
    /// Released once the end is recorded.
    held: Option<Arc<super::Held>>,
}

impl StreamLedger {
    fn new(end: &StreamEnd) -> Arc<StreamLedger> {
        Arc::new(StreamLedger {
            decision_id: end.decision_id.clone(),
            trace_id: end.trace_id.clone(),
            recorder: end.recorder.clone(),
            state: Mutex::new(LedgerState {
                recorded: false,
                usage: Usage::default(),
                held: end.held.clone(),
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LedgerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `usage` as the stream's usage so far.
    fn note_usage(&self, usage: &Usage) {
        self.state().usage = usage.clone();
    }

    /// Records how the stream ended (`customs.stream_end`: its usage, and whether the
    /// caller got all of it), unless its end is recorded already. Returns whether this
    /// call recorded it.
    fn record(&self, outcome: StreamOutcome) -> bool {
        let (usage, held) = {
            let mut state = self.state();
            if state.recorded {
                return false;
            }
            state.recorded = true;
            (state.usage.clone(), state.held.take())
        };
        if let Some(recorder) = &self.recorder {
            recorder.record_stream_end(StreamEndEvent {
                event: "stream_end",
                timestamp: time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                decision_id: self.decision_id.clone(),
                trace_id: self.trace_id.clone(),
                outcome,
                usage,
            });
        }
        // Counted in flight until the record is written.
        drop(held);
        true
    }
}

impl std::fmt::Debug for StreamLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamLedger")
            .field("decision_id", &self.decision_id)
            .finish_non_exhaustive()
    }
}

/// The streams a gateway has open, so that a shutdown can record the end of those it
/// could not break off (see [`StreamLedger`]).
#[derive(Debug, Default)]
pub(crate) struct OpenStreams(Mutex<OpenList>);

#[derive(Debug, Default)]
struct OpenList {
    ledgers: Vec<Weak<StreamLedger>>,
    /// Set by [`OpenStreams::end_all`]: a stream listed afterwards ends at once.
    closed: bool,
    /// The length at which ledgers of streams already gone are dropped from the list.
    prune_at: usize,
}

/// Ledgers of streams gone are dropped from an [`OpenStreams`] list when it has grown
/// to twice what was left at the last pruning, and never below this length.
const OPEN_LIST_PRUNE_FROM: usize = 64;

impl OpenStreams {
    /// Lists the stream of `ledger`; once the list is closed, records its end as
    /// `server_shutdown` instead.
    fn register(&self, ledger: &Arc<StreamLedger>) {
        let mut list = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if list.closed {
            drop(list);
            ledger.record(StreamOutcome::ServerShutdown);
            return;
        }
        if list.ledgers.len() >= list.prune_at {
            list.ledgers.retain(|l| l.strong_count() > 0);
            list.prune_at = (list.ledgers.len() * 2).max(OPEN_LIST_PRUNE_FROM);
        }
        list.ledgers.push(Arc::downgrade(ledger));
    }

    /// Records as `server_shutdown`, with the usage read so far, the end of every
    /// listed stream whose end is not recorded yet, and closes the list: a stream
    /// listed later ends at once. The streams themselves then record nothing more.
    /// Returns how many ends were recorded here.
    pub(crate) fn end_all(&self) -> usize {
        let open: Vec<Arc<StreamLedger>> = {
            let mut list = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            list.closed = true;
            list.ledgers.drain(..).filter_map(|l| l.upgrade()).collect()
        };
        open.iter()
            .filter(|l| l.record(StreamOutcome::ServerShutdown))
            .count()
    }
}

/// Restores a whole JSON answer in place and reads its usage. Returns the new body, or
/// `None` when it is not JSON (then it passes unchanged).
pub(crate) fn restore_whole(plan: &Plan, bytes: &[u8], usage: &mut Usage) -> Option<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(bytes).ok()?;
    read_usage(&value, usage);
    let redactor = plan.redactor.as_ref()?;
    restore_all(Some(redactor), &mut value);
    serde_json::to_vec(&value).ok()
}

/// The answer with the restore phase applied. `usage` receives the usage of a whole
/// answer before this returns; a stream's usage goes to the stream-end record.
pub(crate) async fn apply(plan: Plan, response: Response, usage: &mut Usage) -> Response {
    if !response.status().is_success() {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let framing = if content_type.starts_with("text/event-stream") {
        Framing::Sse(SseDecoder::default())
    } else if content_type.starts_with(eventstream::CONTENT_TYPE) {
        Framing::EventStream(eventstream::Decoder::new())
    } else if content_type.starts_with("application/json") && plan.stream {
        Framing::JsonArray(JsonArrayDecoder::default(), false)
    } else if content_type.starts_with("application/json") {
        let (mut parts, body) = response.into_parts();
        let bytes = match axum::body::to_bytes(body, MAX_WHOLE_BODY).await {
            Ok(bytes) => bytes,
            Err(_) => {
                // Too large to restore, or broken mid-way: the caller sees a broken body,
                // as it would have without Customs.
                parts.headers.remove(header::CONTENT_LENGTH);
                return Response::from_parts(parts, Body::empty());
            }
        };
        let out = match restore_whole(&plan, &bytes, usage) {
            Some(restored) => Bytes::from(restored),
            None => bytes,
        };
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from(out));
    } else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let state = StreamState::new(
        Box::pin(body.into_data_stream()),
        framing,
        plan.redactor,
        plan.end,
    );
    Response::from_parts(parts, Body::from_stream(restoring_stream(state)))
}

/// The framing of a stream.
pub(super) enum Framing {
    Sse(SseDecoder),
    EventStream(eventstream::Decoder),
    /// Gemini's JSON-array streaming; the flag: the opening `[` has been sent.
    JsonArray(JsonArrayDecoder, bool),
}

/// One event of a stream: its name (SSE `event:` or `:event-type`) and its data.
#[derive(Debug, Clone)]
pub(super) struct Event {
    pub(super) name: Option<String>,
    pub(super) data: EventData,
}

#[derive(Debug, Clone)]
pub(super) enum EventData {
    Json(Value),
    /// Not JSON (`[DONE]`), or a frame that is not an event: passed through.
    Raw(Bytes),
}

/// Text held back at one place of one kind of event, and the event it came from.
struct Held {
    text: String,
    template: Event,
    path: String,
}

/// The per-stream restore state.
struct Events {
    redactor: Option<Redactor>,
    /// (event name, JSON pointer) → held text.
    held: BTreeMap<(Option<String>, String), Held>,
    usage: Usage,
}

impl Events {
    /// One decoded event in; the events to send, in order, out.
    fn process(&mut self, mut event: Event) -> Vec<Event> {
        let EventData::Json(data) = &mut event.data else {
            let mut out = self.flush_all();
            out.push(event);
            return out;
        };
        read_usage(data, &mut self.usage);
        // Bedrock InvokeModel streams wrap each model event in base64.
        if event.name.as_deref() == Some("chunk")
            && let Some(inner) = decode_chunk(data)
        {
            read_usage(&inner, &mut self.usage);
            if self.redactor.is_some() {
                let mut inner_event = Event {
                    name: Some("chunk-inner".to_owned()),
                    data: EventData::Json(inner),
                };
                let restored = self.restore_event(&mut inner_event);
                let mut out = Vec::new();
                for e in restored.into_iter().chain(std::iter::once(inner_event)) {
                    if let EventData::Json(inner) = &e.data {
                        out.push(Event {
                            name: Some("chunk".to_owned()),
                            data: EventData::Json(encode_chunk(inner)),
                        });
                    }
                }
                return out;
            }
            return vec![event];
        }
        if self.redactor.is_none() {
            return vec![event];
        }
        let mut out = self.restore_event(&mut event);
        out.push(event);
        out
    }

    /// Restores `event` in place, holding back open placeholders; returns the flushed
    /// remainders of earlier events that must be sent before it.
    fn restore_event(&mut self, event: &mut Event) -> Vec<Event> {
        let Some(redactor) = self.redactor.as_ref() else {
            return Vec::new();
        };
        let EventData::Json(data) = &mut event.data else {
            return Vec::new();
        };
        let name = event.name.clone();
        let mut touched: Vec<(Option<String>, String)> = Vec::new();
        let mut newly_held: Vec<(String, String)> = Vec::new();
        let held = &mut self.held;
        walk_strings(data, &mut String::new(), &mut |path, text| {
            let key = (name.clone(), path.to_owned());
            let mut full = match held.remove(&key) {
                Some(h) => h.text,
                None => String::new(),
            };
            full.push_str(text);
            let mut cut = hold_from(&full);
            if redactor.has_fakes() {
                cut = cut.min(redactor.fake_hold_from(&full));
            }
            let (send, keep) = full.split_at(cut);
            *text = redactor.restore(send);
            if !keep.is_empty() {
                newly_held.push((path.to_owned(), keep.to_owned()));
            }
            touched.push(key);
        });
        // Held text this event did not continue goes out first, on its own.
        let stale: Vec<(Option<String>, String)> = self
            .held
            .keys()
            .filter(|k| !touched.contains(k))
            .cloned()
            .collect();
        let mut out = Vec::new();
        for key in stale {
            if let Some(h) = self.held.remove(&key) {
                out.push(self.flushed(h));
            }
        }
        for (path, text) in newly_held {
            self.held.insert(
                (name.clone(), path.clone()),
                Held {
                    text,
                    template: event.clone(),
                    path,
                },
            );
        }
        out
    }

    /// Held text sent on its own: the event it was cut from, with only that text.
    fn flushed(&self, held: Held) -> Event {
        let mut event = held.template;
        let text = match &self.redactor {
            Some(r) => r.restore(&held.text),
            None => held.text,
        };
        if let EventData::Json(data) = &mut event.data
            && let Some(Value::String(slot)) = data.pointer_mut(&held.path)
        {
            *slot = text;
        }
        event
    }

    fn flush_all(&mut self) -> Vec<Event> {
        let held = std::mem::take(&mut self.held);
        held.into_values().map(|h| self.flushed(h)).collect()
    }
}

/// The model event inside a Bedrock `InvokeModel` stream chunk.
pub(super) fn decode_chunk(data: &Value) -> Option<Value> {
    let encoded = data.get("bytes")?.as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn encode_chunk(inner: &Value) -> Value {
    serde_json::json!({
        "bytes": base64::engine::general_purpose::STANDARD.encode(inner.to_string())
    })
}

struct StreamState {
    inner: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, axum::Error>> + Send>>,
    framing: Framing,
    events: Events,
    ledger: Arc<StreamLedger>,
    /// The usage last handed to the ledger.
    noted: Usage,
    /// The gateway's list of open streams, until the stream is listed at its first poll.
    open: Option<Arc<OpenStreams>>,
    /// The gateway's watch that breaks the stream off at the end of a shutdown.
    cut: Option<tokio::sync::watch::Receiver<bool>>,
    done: bool,
}

/// A stream body dropped before its end: the caller went away.
impl Drop for StreamState {
    fn drop(&mut self) {
        if !self.done {
            self.done = true;
            self.log_end(StreamOutcome::ClientGone);
        }
    }
}

impl StreamState {
    fn new(
        inner: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, axum::Error>> + Send>>,
        framing: Framing,
        redactor: Option<Redactor>,
        end: StreamEnd,
    ) -> StreamState {
        StreamState {
            inner,
            framing,
            events: Events {
                redactor,
                held: BTreeMap::new(),
                usage: Usage::default(),
            },
            ledger: StreamLedger::new(&end),
            noted: Usage::default(),
            open: end.open,
            cut: end.cut,
            done: false,
        }
    }

    /// Decodes what `chunk` completes and encodes the events to send.
    fn feed(&mut self, chunk: &[u8]) -> Result<Vec<u8>, ()> {
        let mut decoded = Vec::new();
        match &mut self.framing {
            Framing::Sse(decoder) => {
                decoder.push(chunk);
                while let Some(event) = decoder.next_event() {
                    decoded.push(event);
                }
            }
            Framing::JsonArray(decoder, _) => {
                decoder.push(chunk);
                while let Some(value) = decoder.next_value() {
                    decoded.push(Event {
                        name: None,
                        data: EventData::Json(value),
                    });
                }
            }
            Framing::EventStream(decoder) => {
                decoder.push(chunk);
                loop {
                    match decoder.next_message() {
                        Ok(Some(message)) => decoded.push(from_frame(message)),
                        Ok(None) => break,
                        Err(_) => return Err(()),
                    }
                }
            }
        }
        let mut out = Vec::new();
        for event in decoded {
            for event in self.events.process(event) {
                self.encode(&event, &mut out);
            }
        }
        Ok(out)
    }

    fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Framing::Sse(decoder) = &mut self.framing
            && let Some(event) = decoder.finish()
        {
            for event in self.events.process(event) {
                self.encode(&event, &mut out);
            }
        }
        for event in self.events.flush_all() {
            self.encode(&event, &mut out);
        }
        if let Framing::JsonArray(_, opened) = &mut self.framing {
            if !*opened {
                out.push(b'[');
            }
            out.push(b']');
        }
        out
    }

    fn encode(&mut self, event: &Event, out: &mut Vec<u8>) {
        match &mut self.framing {
            Framing::JsonArray(_, opened) => {
                out.extend_from_slice(if *opened { b",\r\n" } else { b"[" });
                *opened = true;
                match &event.data {
                    EventData::Json(value) => out.extend_from_slice(value.to_string().as_bytes()),
                    EventData::Raw(raw) => out.extend_from_slice(raw),
                }
            }
            Framing::Sse(_) => {
                if let Some(name) = &event.name {
                    out.extend_from_slice(b"event: ");
                    out.extend_from_slice(name.as_bytes());
                    out.push(b'\n');
                }
                match &event.data {
                    EventData::Json(value) => {
                        out.extend_from_slice(b"data: ");
                        out.extend_from_slice(value.to_string().as_bytes());
                        out.push(b'\n');
                    }
                    EventData::Raw(raw) => {
                        for line in raw.split(|b| *b == b'\n') {
                            out.extend_from_slice(b"data: ");
                            out.extend_from_slice(line);
                            out.push(b'\n');
                        }
                    }
                }
                out.push(b'\n');
            }
            Framing::EventStream(_) => {
                let message = match &event.data {
                    EventData::Json(value) => eventstream::Message::event(
                        event.name.as_deref().unwrap_or_default(),
                        value.to_string(),
                    ),
                    EventData::Raw(frame) => {
                        // A frame that was not an event (an exception): as it came.
                        out.extend_from_slice(frame);
                        return;
                    }
                };
                if let Ok(frame) = eventstream::encode(&message) {
                    out.extend_from_slice(&frame);
                }
            }
        }
    }

    /// Records how the stream ended, unless the gateway has already (see
    /// [`StreamLedger`]).
    fn log_end(&mut self, outcome: StreamOutcome) {
        self.note_usage();
        self.ledger.record(outcome);
    }

    /// Hands the usage read so far to the ledger, when it changed.
    fn note_usage(&mut self) {
        if self.events.usage != self.noted {
            self.noted = self.events.usage.clone();
            self.ledger.note_usage(&self.noted);
        }
    }
}

/// An event-stream frame as an event: JSON events are decoded, anything else (an
/// exception, or an event whose payload is not JSON) is re-sent byte for byte.
pub(super) fn from_frame(message: eventstream::Message) -> Event {
    let is_event = message.header_str(":message-type") == Some("event");
    let name = message.header_str(":event-type").map(str::to_owned);
    if is_event && let Ok(value) = serde_json::from_slice::<Value>(&message.payload) {
        return Event {
            name,
            data: EventData::Json(value),
        };
    }
    let frame = eventstream::encode(&message).unwrap_or_default();
    Event {
        name,
        data: EventData::Raw(frame),
    }
}

fn restoring_stream(state: StreamState) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if state.done {
                return None;
            }
            if let Some(open) = state.open.take() {
                open.register(&state.ledger);
            }
            let next = match state.cut.as_mut() {
                Some(cut) => tokio::select! {
                    biased;
                    () = super::cut_signal(cut) => None,
                    next = state.inner.next() => Some(next),
                },
                None => Some(state.inner.next().await),
            };
            let Some(next) = next else {
                // Customs is shutting down: the caller gets a broken stream, never one
                // that looks complete.
                state.done = true;
                state.log_end(StreamOutcome::ServerShutdown);
                return Some((
                    Err(std::io::Error::other("Customs is shutting down")),
                    state,
                ));
            };
            match next {
                Some(Ok(chunk)) => match state.feed(&chunk).inspect(|_| state.note_usage()) {
                    Ok(out) if out.is_empty() => continue,
                    Ok(out) => return Some((Ok(Bytes::from(out)), state)),
                    Err(()) => {
                        state.done = true;
                        state.log_end(StreamOutcome::UpstreamError);
                        return Some((
                            Err(std::io::Error::other("the upstream stream was malformed")),
                            state,
                        ));
                    }
                },
                Some(Err(_)) => {
                    state.done = true;
                    state.log_end(StreamOutcome::UpstreamError);
                    return Some((
                        Err(std::io::Error::other("the upstream stream broke off")),
                        state,
                    ));
                }
                None => {
                    state.done = true;
                    let out = state.finish();
                    state.log_end(StreamOutcome::Completed);
                    if out.is_empty() {
                        return None;
                    }
                    return Some((Ok(Bytes::from(out)), state));
                }
            }
        }
    })
}

/// A JSON array streamed element by element (`[{...},\r\n{...}]`): each top-level
/// element is handed out as soon as its closing brace arrives.
#[derive(Default)]
pub(super) struct JsonArrayDecoder {
    buffer: Vec<u8>,
}

impl JsonArrayDecoder {
    fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    fn next_value(&mut self) -> Option<Value> {
        // Skip the array's punctuation between elements.
        let start = self
            .buffer
            .iter()
            .position(|b| !matches!(b, b'[' | b',' | b']' | b' ' | b'\n' | b'\r' | b'\t'))?;
        self.buffer.drain(..start);
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        let mut end = None;
        for (i, &b) in self.buffer.iter().enumerate() {
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = Some(i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end?;
        let element: Vec<u8> = self.buffer.drain(..end).collect();
        serde_json::from_slice(&element).ok()
    }
}

/// Server-sent events, incrementally: an event ends at a blank line.
#[derive(Default)]
pub(super) struct SseDecoder {
    buffer: Vec<u8>,
}

impl SseDecoder {
    pub(super) fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    /// The next complete event, if the buffer holds one.
    pub(super) fn next_event(&mut self) -> Option<Event> {
        loop {
            let (end, skip) = find_blank_line(&self.buffer)?;
            let block: Vec<u8> = self.buffer.drain(..end + skip).take(end).collect();
            if let Some(event) = parse_block(&block) {
                return Some(event);
            }
        }
    }

    /// What remains at the end of the stream (an event without its final blank line).
    pub(super) fn finish(&mut self) -> Option<Event> {
        let block = std::mem::take(&mut self.buffer);
        parse_block(&block)
    }
}

/// The end of the first event block and the length of its terminator.
fn find_blank_line(buffer: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < buffer.len() {
        for terminator in [&b"\r\n\r\n"[..], b"\n\n", b"\r\r"] {
            if buffer.get(i..i + terminator.len()) == Some(terminator) {
                return Some((i, terminator.len()));
            }
        }
        i += 1;
    }
    None
}

/// One event block: its `event:` name and `data:` lines (comments and other fields are
/// dropped, as a client would ignore them).
fn parse_block(block: &[u8]) -> Option<Event> {
    let text = String::from_utf8_lossy(block);
    let mut name = None;
    let mut data: Vec<&str> = Vec::new();
    for line in text.split(['\n', '\r']) {
        if let Some(value) = line.strip_prefix("event:") {
            name = Some(value.trim_start().to_owned());
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    if data.is_empty() {
        return None;
    }
    let joined = data.join("\n");
    let data = match serde_json::from_str::<Value>(&joined) {
        Ok(value) if value.is_object() || value.is_array() => EventData::Json(value),
        _ => EventData::Raw(Bytes::from(joined)),
    };
    Some(Event { name, data })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::scan::{Finding, Severity};

    fn redactor_with_email() -> (Redactor, String) {
        let mut redactor = Redactor::new();
        let text = "write to jane@example.com";
        let finding = Finding {
            entity: Arc::from("EMAIL"),
            class: Arc::from("PII.EMAIL"),
            severity: Severity::Medium,
            start: 9,
            end: 25,
            confidence: 1.0,
        };
        let redacted = redactor.redact(text, &[finding]);
        (redactor, redacted)
    }

    fn run_sse(redactor: Option<Redactor>, chunks: &[&str]) -> (String, Usage) {
        let mut state = StreamState::new(
            Box::pin(futures_util::stream::empty()),
            Framing::Sse(SseDecoder::default()),
            redactor,
            StreamEnd::default(),
        );
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(state.feed(chunk.as_bytes()).unwrap());
        }
        out.extend(state.finish());
        (String::from_utf8(out).unwrap(), state.events.usage.clone())
    }

    fn deltas(sse: &str) -> String {
        sse.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter_map(|v| {
                v.pointer("/choices/0/delta/content")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect()
    }

    fn chunk(content: &str) -> String {
        format!(
            "data: {}\n\n",
            json!({"choices": [{"index": 0, "delta": {"content": content}}]})
        )
    }

    #[test]
    fn a_placeholder_split_across_two_events_is_restored() {
        let (redactor, redacted) = redactor_with_email();
        assert_eq!(redacted, "write to [EMAIL_1]");
        let (out, _) = run_sse(
            Some(redactor),
            &[
                &chunk("Sent to [EMA"),
                &chunk("IL_1] today."),
                "data: [DONE]\n\n",
            ],
        );
        assert_eq!(deltas(&out), "Sent to jane@example.com today.");
        assert!(out.ends_with("data: [DONE]\n\n"), "{out}");
    }

    fn redactor_with(strategy: crate::scan::redact::Strategy) -> (Redactor, String) {
        let mut redactor = Redactor::with_tenant_key(b"tenant-key-for-tests");
        let text = "write to jane@example.com";
        let finding = Finding {
            entity: Arc::from("EMAIL"),
            class: Arc::from("PII.EMAIL"),
            severity: Severity::Medium,
            start: 9,
            end: 25,
            confidence: 1.0,
        };
        let redacted = redactor.redact_with(text, &[finding], |_| strategy);
        let token = redacted
            .strip_prefix("write to ")
            .unwrap_or_default()
            .to_owned();
        (redactor, token)
    }

    #[test]
    fn a_hash_token_split_across_two_events_is_restored() {
        let (redactor, token) = redactor_with(crate::scan::redact::Strategy::Hash);
        assert!(token.starts_with("[EMAIL#") && token.len() == 20, "{token}");
        // Cut inside the hex digits, and right after the `#`.
        for at in [10, 7] {
            let (head, tail) = token.split_at(at);
            let (redactor, _) = redactor_with(crate::scan::redact::Strategy::Hash);
            let (out, _) = run_sse(
                Some(redactor),
                &[
                    &chunk(&format!("Sent to {head}")),
                    &chunk(&format!("{tail} today.")),
                ],
            );
            assert_eq!(
                deltas(&out),
                "Sent to jane@example.com today.",
                "cut at {at}"
            );
        }
        // Another tenant's token (or any other) is not this request's: left as it is.
        let (out, _) = run_sse(Some(redactor), &[&chunk("[EMAIL#000000000000]")]);
        assert_eq!(deltas(&out), "[EMAIL#000000000000]");
    }

    #[test]
    fn a_fake_split_across_two_events_is_restored_and_a_reformatted_one_is_not() {
        let (redactor, fake) = redactor_with(crate::scan::redact::Strategy::Fake);
        assert!(fake.ends_with("@example.com"), "{fake}");
        let (head, tail) = fake.split_at(8);
        let (out, _) = run_sse(
            Some(redactor),
            &[
                &chunk(&format!("Sent to {head}")),
                &chunk(&format!("{tail} today.")),
                "data: [DONE]\n\n",
            ],
        );
        assert_eq!(deltas(&out), "Sent to jane@example.com today.");
        let (redactor, fake) = redactor_with(crate::scan::redact::Strategy::Fake);
        let (out, _) = run_sse(
            Some(redactor),
            &[&chunk(&format!("Sent to {}", fake.to_uppercase()))],
        );
        assert_eq!(deltas(&out), format!("Sent to {}", fake.to_uppercase()));
        // A whole answer too.
        let (redactor, fake) = redactor_with(crate::scan::redact::Strategy::Fake);
        let plan = Plan {
            redactor: Some(redactor),
            end: StreamEnd::default(),
            stream: false,
        };
        let body = json!({"choices": [{"message": {"content": format!("Mailed {fake}.")}}]});
        let out = restore_whole(&plan, body.to_string().as_bytes(), &mut Usage::default()).unwrap();
        let out: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            out["choices"][0]["message"]["content"],
            "Mailed jane@example.com."
        );
    }

    #[test]
    fn held_text_is_flushed_before_a_different_event_and_at_the_end() {
        let (redactor, _) = redactor_with_email();
        let finish = format!(
            "data: {}\n\n",
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        );
        let (out, _) = run_sse(Some(redactor), &[&chunk("a list: [1, 2"), &finish]);
        // "[1, 2" can never be a placeholder, so nothing is held at all.
        assert_eq!(deltas(&out), "a list: [1, 2");
        let (redactor, _) = redactor_with_email();
        let (out, _) = run_sse(Some(redactor), &[&chunk("ends with [EMAIL"), &finish]);
        assert_eq!(deltas(&out), "ends with [EMAIL");
        assert!(out.find("[EMAIL").unwrap() < out.find("finish_reason").unwrap());
    }

    #[test]
    fn events_split_across_network_chunks_and_crlf_framing_decode() {
        let (redactor, _) = redactor_with_email();
        let event = chunk("hi [EMAIL_1]").replace("\n\n", "\r\n\r\n");
        let (first, second) = event.split_at(17);
        let (out, _) = run_sse(Some(redactor), &[first, second]);
        assert_eq!(deltas(&out), "hi jane@example.com");
    }

    #[test]
    fn usage_is_read_from_anthropic_and_openai_streams() {
        let anthropic = [
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":11,\"output_tokens\":1}}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":7}}\n\n",
        ];
        let (out, usage) = run_sse(None, &anthropic);
        assert_eq!(
            (usage.input_tokens, usage.output_tokens),
            (Some(11), Some(7))
        );
        assert!(out.starts_with("event: message_start\ndata: "));
        let openai = format!(
            "data: {}\n\n",
            json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}})
        );
        let (_, usage) = run_sse(None, &[&openai]);
        assert_eq!(
            (usage.input_tokens, usage.output_tokens),
            (Some(3), Some(4))
        );
    }

    #[test]
    fn event_stream_frames_are_restored_and_reframed() {
        let (redactor, _) = redactor_with_email();
        let mut state = StreamState::new(
            Box::pin(futures_util::stream::empty()),
            Framing::EventStream(eventstream::Decoder::new()),
            Some(redactor),
            StreamEnd::default(),
        );
        let frame = |name: &str, v: Value| {
            eventstream::encode(&eventstream::Message::event(name, v.to_string())).unwrap()
        };
        let mut input = Vec::new();
        input.extend_from_slice(&frame(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "to [EMAIL"}}),
        ));
        input.extend_from_slice(&frame(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "_1]!"}}),
        ));
        input.extend_from_slice(&frame(
            "metadata",
            json!({"usage": {"inputTokens": 5, "outputTokens": 6}}),
        ));
        let mut out = Vec::new();
        // Fed one byte at a time: frames are decoded whatever the network does.
        for byte in &input {
            out.extend(state.feed(std::slice::from_ref(byte)).unwrap());
        }
        out.extend(state.finish());
        let mut decoder = eventstream::Decoder::new();
        decoder.push(&out);
        let mut text = String::new();
        while let Some(message) = decoder.next_message().unwrap() {
            let v: Value = serde_json::from_slice(&message.payload).unwrap();
            if let Some(t) = v.pointer("/delta/text").and_then(Value::as_str) {
                text.push_str(t);
            }
        }
        assert_eq!(text, "to jane@example.com!");
        assert_eq!(state.events.usage.output_tokens, Some(6));
    }

    #[test]
    fn whole_answers_are_restored_everywhere_and_usage_read() {
        let (redactor, _) = redactor_with_email();
        let plan = Plan {
            redactor: Some(redactor),
            end: StreamEnd::default(),
            stream: false,
        };
        let body = json!({"content": [{"type": "text", "text": "Mailed [EMAIL_1]."}], "usage": {"input_tokens": 9, "output_tokens": 2}});
        let mut usage = Usage::default();
        let out = restore_whole(&plan, body.to_string().as_bytes(), &mut usage).unwrap();
        let out: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(out["content"][0]["text"], "Mailed jane@example.com.");
        assert_eq!(usage.input_tokens, Some(9));
    }

    #[test]
    fn json_array_streams_are_restored_element_by_element() {
        let (redactor, _) = redactor_with_email();
        let mut state = StreamState::new(
            Box::pin(futures_util::stream::empty()),
            Framing::JsonArray(JsonArrayDecoder::default(), false),
            Some(redactor),
            StreamEnd::default(),
        );
        let part = |t: &str| json!({"candidates": [{"content": {"parts": [{"text": t}]}}]});
        let first = format!("[{}", part("to [EMA"));
        let rest = format!(",\r\n{}]", part("IL_1] \"quoted } brace\""));
        let mut out = state.feed(first.as_bytes()).unwrap();
        // The element is complete, but its tail is held back until the next one.
        assert!(!String::from_utf8_lossy(&out).contains("[EMA"));
        out.extend(state.feed(rest.as_bytes()).unwrap());
        out.extend(state.finish());
        let parsed: Value = serde_json::from_slice(&out).unwrap();
        let text: String = parsed
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| {
                v.pointer("/candidates/0/content/parts/0/text")
                    .and_then(Value::as_str)
            })
            .collect();
        assert_eq!(text, "to jane@example.com \"quoted } brace\"");
    }

    #[test]
    fn hold_points() {
        assert_eq!(hold_from("plain"), 5);
        assert_eq!(hold_from("to [EMA"), 3);
        assert_eq!(hold_from("to [EMAIL_1] and ["), 17);
        assert_eq!(hold_from("array [1, 2"), 11);
        assert_eq!(hold_from("x [email"), 8);
    }

    /// The ledger of a stream counted in `in_flight` and listed in `open`.
    fn listed(in_flight: &Arc<super::super::InFlight>, open: &OpenStreams) -> Arc<StreamLedger> {
        let ledger = StreamLedger::new(&StreamEnd {
            held: Some(Arc::new(in_flight.hold())),
            ..StreamEnd::default()
        });
        open.register(&ledger);
        ledger
    }

    fn counted(in_flight: &super::super::InFlight) -> usize {
        in_flight.count.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[test]
    fn a_streams_end_is_recorded_once_by_the_stream_or_by_the_shutdown() {
        let in_flight = Arc::new(super::super::InFlight::default());
        let open = Arc::new(OpenStreams::default());
        let stalled = listed(&in_flight, &open);
        let finished = listed(&in_flight, &open);
        assert_eq!(counted(&in_flight), 2);
        assert!(finished.record(StreamOutcome::Completed));
        assert_eq!(counted(&in_flight), 1, "released once recorded");
        assert!(!finished.record(StreamOutcome::ClientGone), "recorded once");
        // The shutdown records the stream still open, and only it.
        assert_eq!(open.end_all(), 1);
        assert_eq!(counted(&in_flight), 0);
        // The stream, polled or dropped later, records nothing more.
        assert!(!stalled.record(StreamOutcome::ClientGone));
        assert_eq!(open.end_all(), 0);
        // A stream listed after the shutdown ended them ends at once.
        let late = listed(&in_flight, &open);
        assert_eq!(counted(&in_flight), 0);
        assert!(!late.record(StreamOutcome::Completed));
    }

    /// The end of a stream that completes is recorded with the usage of its very last
    /// event, which only the end of the stream completes (no blank line after it).
    #[tokio::test]
    async fn a_completed_streams_end_has_the_usage_of_its_last_event() {
        let chunks: Vec<Result<Bytes, axum::Error>> = vec![
            Ok(Bytes::from(format!(
                "data: {}\n\n",
                json!({"choices": [{"index": 0, "delta": {"content": "hi"}}]})
            ))),
            Ok(Bytes::from(format!(
                "data: {}",
                json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}})
            ))),
        ];
        let state = StreamState::new(
            Box::pin(futures_util::stream::iter(chunks)),
            Framing::Sse(SseDecoder::default()),
            None,
            StreamEnd::default(),
        );
        let ledger = Arc::clone(&state.ledger);
        let sent: Vec<_> = restoring_stream(state).collect().await;
        assert!(sent.iter().all(Result::is_ok));
        let recorded = ledger.state();
        assert!(recorded.recorded);
        assert_eq!(
            (recorded.usage.input_tokens, recorded.usage.output_tokens),
            (Some(3), Some(4))
        );
    }

    #[test]
    fn the_list_of_open_streams_forgets_those_gone() {
        let in_flight = Arc::new(super::super::InFlight::default());
        let open = Arc::new(OpenStreams::default());
        let kept = listed(&in_flight, &open);
        for _ in 0..1000 {
            let gone = listed(&in_flight, &open);
            gone.record(StreamOutcome::Completed);
        }
        let listed = open.0.lock().map(|l| l.ledgers.len()).unwrap_or(usize::MAX);
        assert!(listed <= 2 * OPEN_LIST_PRUNE_FROM, "{listed} listed");
        assert_eq!(open.end_all(), 1);
        assert!(!kept.record(StreamOutcome::Completed));
        assert_eq!(counted(&in_flight), 0);
    }
}
