//! forward for Bedrock: the AWS event-stream framing (`application/vnd.amazon.eventstream`)
//! that Bedrock's `ConverseStream` and `InvokeModelWithResponseStream` answer in.
//!
//! A stream is a sequence of self-delimiting binary frames:
//!
//! ```text
//! total length u32 BE | headers length u32 BE | CRC32 of the 8 bytes before
//! headers (name len u8, name, type u8, value)… | payload | CRC32 of everything before
//! ```
//!
//! Both checksums are CRC-32/ISO-HDLC (the zlib one). Bedrock sends each event with the
//! headers `:message-type` = `event`, `:event-type` naming the event and `:content-type`
//! = `application/json`; errors in the middle of a stream come as `:message-type` =
//! `exception` with `:exception-type`.
//!
//! The [`Decoder`] is incremental because the body arrives in network chunks that cut
//! frames anywhere. It checks the prelude as soon as its 12 bytes are there, so a frame
//! that declares more than [`MAX_FRAME_LEN`] is refused before it is buffered, and a
//! caller that drains [`Decoder::next_message`] after each [`Decoder::push`] holds at most
//! one partial frame. Payloads are sliced out of the received buffer, not copied. Errors
//! name lengths and checksums only, never header values or payload bytes.

use std::fmt;

use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};

/// The media type of an event stream.
pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// The largest frame accepted or produced: 16 MiB, the event-stream limit.
pub const MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// The largest headers section accepted or produced: 128 KiB, the event-stream limit.
pub const MAX_HEADERS_LEN: usize = 128 * 1024;

/// Total length, headers length and prelude checksum.
const PRELUDE_LEN: usize = 12;
/// The message checksum at the end of a frame.
const CRC_LEN: usize = 4;
/// A frame with no headers and no payload.
const MIN_FRAME_LEN: usize = PRELUDE_LEN + CRC_LEN;

/// One header value. The wire type byte of each variant is given in parentheses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A boolean, carried in the type byte alone (type 0 true, type 1 false).
    Bool(bool),
    /// A signed byte (type 2).
    Byte(i8),
    /// A 16-bit signed integer (type 3).
    Int16(i16),
    /// A 32-bit signed integer (type 4).
    Int32(i32),
    /// A 64-bit signed integer (type 5).
    Int64(i64),
    /// Opaque bytes, at most 65,535 (type 6).
    Bytes(Bytes),
    /// UTF-8 text, at most 65,535 bytes (type 7).
    String(String),
    /// Milliseconds since the Unix epoch (type 8).
    Timestamp(i64),
    /// A UUID's 16 bytes (type 9).
    Uuid([u8; 16]),
}

impl Value {
    fn type_byte(&self) -> u8 {
        match self {
            Value::Bool(true) => 0,
            Value::Bool(false) => 1,
            Value::Byte(_) => 2,
            Value::Int16(_) => 3,
            Value::Int32(_) => 4,
            Value::Int64(_) => 5,
            Value::Bytes(_) => 6,
            Value::String(_) => 7,
            Value::Timestamp(_) => 8,
            Value::Uuid(_) => 9,
        }
    }

    /// Bytes after the type byte.
    fn encoded_len(&self) -> usize {
        match self {
            Value::Bool(_) => 0,
            Value::Byte(_) => 1,
            Value::Int16(_) => 2,
            Value::Int32(_) => 4,
            Value::Int64(_) | Value::Timestamp(_) => 8,
            Value::Bytes(bytes) => 2 + bytes.len(),
            Value::String(text) => 2 + text.len(),
            Value::Uuid(_) => 16,
        }
    }

    /// The length of a variable-length value, which must fit two bytes.
    fn variable_len(&self) -> Option<usize> {
        match self {
            Value::Bytes(bytes) => Some(bytes.len()),
            Value::String(text) => Some(text.len()),
            _ => None,
        }
    }
}

/// One event-stream message: its headers in wire order and its payload.
///
/// `Debug` shows the headers and only the payload's length.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    /// Header names and values in the order they are (or will be) on the wire.
    pub headers: Vec<(String, Value)>,
    /// The payload; for Bedrock events, a JSON document.
    pub payload: Bytes,
}

impl Message {
    /// An event as Bedrock sends it: `:event-type` = `event_type`, `:content-type` =
    /// `application/json`, `:message-type` = `event`.
    pub fn event(event_type: &str, payload: impl Into<Bytes>) -> Message {
        Message {
            headers: vec![
                (":event-type".into(), Value::String(event_type.into())),
                (
                    ":content-type".into(),
                    Value::String("application/json".into()),
                ),
                (":message-type".into(), Value::String("event".into())),
            ],
            payload: payload.into(),
        }
    }

    /// An error inside a stream as Bedrock sends it: `:exception-type` =
    /// `exception_type` (for example `throttlingException`), `:content-type` =
    /// `application/json`, `:message-type` = `exception`.
    pub fn exception(exception_type: &str, payload: impl Into<Bytes>) -> Message {
        Message {
            headers: vec![
                (
                    ":exception-type".into(),
                    Value::String(exception_type.into()),
                ),
                (
                    ":content-type".into(),
                    Value::String("application/json".into()),
                ),
                (":message-type".into(), Value::String("exception".into())),
            ],
            payload: payload.into(),
        }
    }

    /// The first header called `name`, of any type.
    pub fn header(&self, name: &str) -> Option<&Value> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value)
    }

    /// The first header called `name` if it is a string.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        match self.header(name) {
            Some(Value::String(text)) => Some(text),
            _ => None,
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("headers", &self.headers)
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

/// Why a message cannot be encoded as a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A header name is longer than the 255 bytes its length byte can say.
    #[error("event-stream header name of {length} bytes is longer than 255")]
    HeaderNameTooLong {
        /// The name's length in bytes.
        length: usize,
    },
    /// A string or bytes header value is longer than its two length bytes can say.
    #[error("event-stream header value of {length} bytes is longer than 65535")]
    HeaderValueTooLong {
        /// The value's length in bytes.
        length: usize,
    },
    /// The headers section is larger than [`MAX_HEADERS_LEN`].
    #[error("event-stream headers of {length} bytes exceed the limit of {MAX_HEADERS_LEN}")]
    HeadersTooLarge {
        /// The headers section's length in bytes.
        length: usize,
    },
    /// The whole frame is larger than [`MAX_FRAME_LEN`].
    #[error("event-stream frame of {length} bytes exceeds the limit of {MAX_FRAME_LEN}")]
    FrameTooLarge {
        /// The frame's length in bytes.
        length: usize,
    },
}

/// Why received bytes are not a valid event stream. A stream cannot be resynchronised
/// after any of these: the [`Decoder`] keeps returning the first one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The prelude checksum does not match its 8 bytes.
    #[error(
        "event-stream prelude checksum mismatch: frame says {declared:#010x}, bytes give {computed:#010x}"
    )]
    PreludeChecksum {
        /// The checksum in the frame.
        declared: u32,
        /// The checksum of the bytes received.
        computed: u32,
    },
    /// The message checksum does not match the frame's bytes.
    #[error(
        "event-stream message checksum mismatch: frame says {declared:#010x}, bytes give {computed:#010x}"
    )]
    MessageChecksum {
        /// The checksum in the frame.
        declared: u32,
        /// The checksum of the bytes received.
        computed: u32,
    },
    /// The frame declares more than [`MAX_FRAME_LEN`] bytes.
    #[error("event-stream frame of {length} bytes exceeds the limit of {MAX_FRAME_LEN}")]
    FrameTooLarge {
        /// The declared total length.
        length: usize,
    },
    /// The frame declares fewer bytes than a prelude and a checksum take.
    #[error("event-stream frame declares {length} bytes, less than the minimum of {MIN_FRAME_LEN}")]
    FrameTooShort {
        /// The declared total length.
        length: usize,
    },
    /// The headers section is larger than [`MAX_HEADERS_LEN`] or than the frame.
    #[error("event-stream headers of {headers_length} bytes do not fit a frame of {length} bytes")]
    HeadersTooLarge {
        /// The declared headers length.
        headers_length: usize,
        /// The declared total length.
        length: usize,
    },
    /// A header runs past the end of the headers section or is not valid.
    #[error("malformed event-stream header: {0}")]
    MalformedHeader(&'static str),
    /// A header value type byte outside 0..=9.
    #[error("unknown event-stream header value type {0}")]
    UnknownValueType(u8),
    /// The stream ended in the middle of a frame.
    #[error("event stream ended inside a frame ({buffered} bytes left over)")]
    Truncated {
        /// Bytes received but not part of a whole frame.
        buffered: usize,
    },
}

/// Encodes one message as a frame.
pub fn encode(message: &Message) -> Result<Bytes, EncodeError> {
    let mut headers_length = 0usize;
    for (name, value) in &message.headers {
        if name.len() > usize::from(u8::MAX) {
            return Err(EncodeError::HeaderNameTooLong { length: name.len() });
        }
        if let Some(length) = value.variable_len()
            && length > usize::from(u16::MAX)
        {
            return Err(EncodeError::HeaderValueTooLong { length });
        }
        headers_length += 1 + name.len() + 1 + value.encoded_len();
    }
    if headers_length > MAX_HEADERS_LEN {
        return Err(EncodeError::HeadersTooLarge {
            length: headers_length,
        });
    }
    let length = MIN_FRAME_LEN + headers_length + message.payload.len();
    if length > MAX_FRAME_LEN {
        return Err(EncodeError::FrameTooLarge { length });
    }
    // Both fit u32 after the checks above (MAX_FRAME_LEN < u32::MAX).
    let total_u32 = u32::try_from(length).map_err(|_| EncodeError::FrameTooLarge { length })?;
    let headers_u32 = u32::try_from(headers_length).map_err(|_| EncodeError::HeadersTooLarge {
        length: headers_length,
    })?;

    let mut frame = BytesMut::with_capacity(length);
    frame.put_u32(total_u32);
    frame.put_u32(headers_u32);
    let prelude_crc = crc32fast::hash(&frame);
    frame.put_u32(prelude_crc);
    for (name, value) in &message.headers {
        // Lengths were checked above, so these conversions cannot fail.
        frame.put_u8(u8::try_from(name.len()).unwrap_or(u8::MAX));
        frame.put_slice(name.as_bytes());
        frame.put_u8(value.type_byte());
        match value {
            Value::Bool(_) => {}
            Value::Byte(byte) => frame.put_i8(*byte),
            Value::Int16(number) => frame.put_i16(*number),
            Value::Int32(number) => frame.put_i32(*number),
            Value::Int64(number) | Value::Timestamp(number) => frame.put_i64(*number),
            Value::Bytes(bytes) => {
                frame.put_u16(u16::try_from(bytes.len()).unwrap_or(u16::MAX));
                frame.put_slice(bytes);
            }
            Value::String(text) => {
                frame.put_u16(u16::try_from(text.len()).unwrap_or(u16::MAX));
                frame.put_slice(text.as_bytes());
            }
            Value::Uuid(uuid) => frame.put_slice(uuid),
        }
    }
    frame.put_slice(&message.payload);
    let message_crc = crc32fast::hash(&frame);
    frame.put_u32(message_crc);
    Ok(frame.freeze())
}

/// Reads frames from a byte stream that arrives in arbitrary chunks.
///
/// Call [`push`](Decoder::push) with each chunk, then [`next_message`](Decoder::next_message)
/// until it returns `Ok(None)`; at the end of the body, [`finish`](Decoder::finish) tells
/// whether a partial frame was left over.
#[derive(Default)]
pub struct Decoder {
    buffer: BytesMut,
    failed: Option<FrameError>,
}

impl Decoder {
    /// An empty decoder.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.failed.is_none() {
            self.buffer.extend_from_slice(chunk);
        }
    }

    /// The next whole message, `Ok(None)` if more bytes are needed, or the first error
    /// (again on every later call).
    pub fn next_message(&mut self) -> Result<Option<Message>, FrameError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        match self.decode_one() {
            Ok(message) => Ok(message),
            Err(error) => {
                self.buffer = BytesMut::new();
                self.failed = Some(error.clone());
                Err(error)
            }
        }
    }

    /// Bytes received but not yet returned as a message.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Call when the body has ended: an error if it stopped inside a frame or the stream
    /// had already failed.
    pub fn finish(&self) -> Result<(), FrameError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        if self.buffer.is_empty() {
            Ok(())
        } else {
            Err(FrameError::Truncated {
                buffered: self.buffer.len(),
            })
        }
    }

    fn decode_one(&mut self) -> Result<Option<Message>, FrameError> {
        let Some(prelude) = self.buffer.get(..PRELUDE_LEN) else {
            return Ok(None);
        };
        let mut prelude = prelude;
        let length = prelude.get_u32() as usize;
        let headers_length = prelude.get_u32() as usize;
        let declared = prelude.get_u32();
        let computed = crc32fast::hash(self.buffer.get(..8).unwrap_or_default());
        if declared != computed {
            return Err(FrameError::PreludeChecksum { declared, computed });
        }
        if length > MAX_FRAME_LEN {
            return Err(FrameError::FrameTooLarge { length });
        }
        if length < MIN_FRAME_LEN {
            return Err(FrameError::FrameTooShort { length });
        }
        if headers_length > MAX_HEADERS_LEN || headers_length > length - MIN_FRAME_LEN {
            return Err(FrameError::HeadersTooLarge {
                headers_length,
                length,
            });
        }
        if self.buffer.len() < length {
            self.buffer.reserve(length - self.buffer.len());
            return Ok(None);
        }

        let frame = self.buffer.split_to(length).freeze();
        let body_end = length - CRC_LEN;
        let mut trailer = frame.slice(body_end..);
        let declared = trailer.get_u32();
        let computed = crc32fast::hash(&frame[..body_end]);
        if declared != computed {
            return Err(FrameError::MessageChecksum { declared, computed });
        }
        let headers_end = PRELUDE_LEN + headers_length;
        let headers = decode_headers(frame.slice(PRELUDE_LEN..headers_end))?;
        let payload = frame.slice(headers_end..body_end);
        Ok(Some(Message { headers, payload }))
    }
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("buffered", &self.buffer.len())
            .field("failed", &self.failed)
            .finish()
    }
}

/// Parses a whole headers section.
fn decode_headers(mut section: Bytes) -> Result<Vec<(String, Value)>, FrameError> {
    let mut headers = Vec::new();
    while section.has_remaining() {
        let name_length = usize::from(section.get_u8());
        let name = take(&mut section, name_length, "name runs past the headers")?;
        let name = String::from_utf8(name.to_vec())
            .map_err(|_| FrameError::MalformedHeader("name is not UTF-8"))?;
        let value_type = take(&mut section, 1, "value type missing")?.get_u8();
        let value = match value_type {
            0 => Value::Bool(true),
            1 => Value::Bool(false),
            2 => Value::Byte(fixed(&mut section, 1)?.get_i8()),
            3 => Value::Int16(fixed(&mut section, 2)?.get_i16()),
            4 => Value::Int32(fixed(&mut section, 4)?.get_i32()),
            5 => Value::Int64(fixed(&mut section, 8)?.get_i64()),
            6 => Value::Bytes(variable(&mut section)?),
            7 => {
                let text = variable(&mut section)?;
                Value::String(
                    String::from_utf8(text.to_vec())
                        .map_err(|_| FrameError::MalformedHeader("string value is not UTF-8"))?,
                )
            }
            8 => Value::Timestamp(fixed(&mut section, 8)?.get_i64()),
            9 => {
                let mut uuid = [0u8; 16];
                uuid.copy_from_slice(&fixed(&mut section, 16)?);
                Value::Uuid(uuid)
            }
            other => return Err(FrameError::UnknownValueType(other)),
        };
        headers.push((name, value));
    }
    Ok(headers)
}

/// Splits `length` bytes off the front of `section`.
fn take(section: &mut Bytes, length: usize, what: &'static str) -> Result<Bytes, FrameError> {
    if section.len() < length {
        return Err(FrameError::MalformedHeader(what));
    }
    Ok(section.split_to(length))
}

fn fixed(section: &mut Bytes, length: usize) -> Result<Bytes, FrameError> {
    take(section, length, "value runs past the headers")
}

/// A value with a two-byte length prefix.
fn variable(section: &mut Bytes) -> Result<Bytes, FrameError> {
    let length = usize::from(fixed(section, 2)?.get_u16());
    fixed(section, length)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(bytes: &[u8]) -> Vec<Message> {
        let mut decoder = Decoder::new();
        decoder.push(bytes);
        let mut messages = Vec::new();
        while let Some(message) = decoder.next_message().unwrap() {
            messages.push(message);
        }
        decoder.finish().unwrap();
        messages
    }

    fn every_type() -> Message {
        Message {
            headers: vec![
                ("t".into(), Value::Bool(true)),
                ("f".into(), Value::Bool(false)),
                ("byte".into(), Value::Byte(-7)),
                ("short".into(), Value::Int16(-30_000)),
                ("int".into(), Value::Int32(i32::MIN)),
                ("long".into(), Value::Int64(i64::MAX)),
                (
                    "bytes".into(),
                    Value::Bytes(Bytes::from_static(b"\x00\xff")),
                ),
                ("string".into(), Value::String("héllo".into())),
                ("time".into(), Value::Timestamp(1_700_000_000_000)),
                ("uuid".into(), Value::Uuid(*b"0123456789abcdef")),
            ],
            payload: Bytes::from_static(b"{\"bytes\":\"aGk=\"}"),
        }
    }

    #[test]
    fn crc32fast_is_the_iso_hdlc_crc() {
        // The published check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn round_trip_every_value_type() {
        let messages = vec![
            every_type(),
            Message::event("contentBlockDelta", r#"{"delta":{"text":"hi"}}"#),
            Message::exception("throttlingException", r#"{"message":"slow down"}"#),
            Message {
                headers: vec![],
                payload: Bytes::new(),
            },
        ];
        let mut stream = Vec::new();
        for message in &messages {
            stream.extend_from_slice(&encode(message).unwrap());
        }
        assert_eq!(decode_all(&stream), messages);
    }

    #[test]
    fn constructors_set_bedrock_headers() {
        let event = Message::event("messageStop", "{}");
        assert_eq!(event.header_str(":event-type"), Some("messageStop"));
        assert_eq!(event.header_str(":message-type"), Some("event"));
        assert_eq!(event.header_str(":content-type"), Some("application/json"));
        let exception = Message::exception("validationException", "{}");
        assert_eq!(
            exception.header_str(":exception-type"),
            Some("validationException")
        );
        assert_eq!(exception.header_str(":message-type"), Some("exception"));
        assert_eq!(exception.header_str(":event-type"), None);
        assert_eq!(every_type().header_str("int"), None);
    }

    #[test]
    fn split_at_every_byte_boundary_decodes_identically() {
        let messages = vec![
            Message::event("messageStart", r#"{"role":"assistant"}"#),
            every_type(),
        ];
        let mut stream = Vec::new();
        for message in &messages {
            stream.extend_from_slice(&encode(message).unwrap());
        }
        for cut in 0..=stream.len() {
            let mut decoder = Decoder::new();
            let mut decoded = Vec::new();
            for chunk in [&stream[..cut], &stream[cut..]] {
                decoder.push(chunk);
                while let Some(message) = decoder.next_message().unwrap() {
                    decoded.push(message);
                }
                // Drained after each push: at most one partial frame is held.
                assert!(decoder.buffered() < stream.len());
            }
            decoder.finish().unwrap();
            assert_eq!(decoded, messages, "cut at {cut}");
        }
        // And one byte at a time.
        let mut decoder = Decoder::new();
        let mut decoded = Vec::new();
        for byte in &stream {
            decoder.push(std::slice::from_ref(byte));
            while let Some(message) = decoder.next_message().unwrap() {
                decoded.push(message);
            }
        }
        assert_eq!(decoded, messages);
    }

    /// One frame written out by hand, checksums computed separately from `encode`.
    #[test]
    fn known_answer_frame() {
        let mut expected: Vec<u8> = vec![0, 0, 0, 38, 0, 0, 0, 20];
        let prelude_crc = crc32fast::hash(&expected);
        expected.extend_from_slice(&prelude_crc.to_be_bytes());
        expected.push(11);
        expected.extend_from_slice(b":event-type");
        expected.extend_from_slice(&[7, 0, 5]);
        expected.extend_from_slice(b"chunk");
        expected.extend_from_slice(b"{}");
        let message_crc = crc32fast::hash(&expected);
        expected.extend_from_slice(&message_crc.to_be_bytes());
        assert_eq!(expected.len(), 38);

        let message = Message {
            headers: vec![(":event-type".into(), Value::String("chunk".into()))],
            payload: Bytes::from_static(b"{}"),
        };
        assert_eq!(encode(&message).unwrap(), expected);
        assert_eq!(decode_all(&expected), vec![message]);
    }

    /// The empty message from the event-stream reference test vectors.
    #[test]
    fn known_answer_empty_message() {
        let expected = [
            0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98,
            0xc8, 0xff,
        ];
        let message = Message {
            headers: vec![],
            payload: Bytes::new(),
        };
        assert_eq!(encode(&message).unwrap(), expected[..]);
    }

    #[test]
    fn corrupted_prelude_checksum_is_an_error() {
        let mut frame = encode(&Message::event("chunk", "{}")).unwrap().to_vec();
        frame[9] ^= 0x01;
        let mut decoder = Decoder::new();
        decoder.push(&frame);
        let error = decoder.next_message().unwrap_err();
        assert!(
            matches!(error, FrameError::PreludeChecksum { .. }),
            "{error}"
        );
        // The decoder stays failed.
        decoder.push(&encode(&Message::event("chunk", "{}")).unwrap());
        assert_eq!(decoder.next_message().unwrap_err(), error);
        assert_eq!(decoder.finish().unwrap_err(), error);
    }

    #[test]
    fn corrupted_length_is_caught_by_the_prelude_checksum() {
        let mut frame = encode(&Message::event("chunk", "{}")).unwrap().to_vec();
        frame[3] ^= 0x40;
        let mut decoder = Decoder::new();
        decoder.push(&frame[..PRELUDE_LEN]);
        assert!(matches!(
            decoder.next_message(),
            Err(FrameError::PreludeChecksum { .. })
        ));
    }

    #[test]
    fn corrupted_message_checksum_and_payload_are_errors() {
        let secret = "do-not-echo-this-payload";
        let frame = encode(&Message::event("chunk", secret)).unwrap().to_vec();
        for index in [frame.len() - 1, frame.len() - 6] {
            let mut corrupted = frame.clone();
            corrupted[index] ^= 0x80;
            let mut decoder = Decoder::new();
            decoder.push(&corrupted);
            let error = decoder.next_message().unwrap_err();
            assert!(
                matches!(error, FrameError::MessageChecksum { .. }),
                "{error}"
            );
            assert!(!error.to_string().contains(secret));
            assert!(!format!("{error:?}").contains(secret));
        }
    }

    /// A frame with a valid prelude checksum declaring more than 16 MiB is refused
    /// from its first 12 bytes, before anything else is buffered.
    #[test]
    fn oversized_frame_is_refused_from_the_prelude() {
        let mut prelude = Vec::new();
        prelude.extend_from_slice(&(MAX_FRAME_LEN as u32 + 1).to_be_bytes());
        prelude.extend_from_slice(&0u32.to_be_bytes());
        let crc = crc32fast::hash(&prelude);
        prelude.extend_from_slice(&crc.to_be_bytes());
        let mut decoder = Decoder::new();
        decoder.push(&prelude);
        assert_eq!(
            decoder.next_message(),
            Err(FrameError::FrameTooLarge {
                length: MAX_FRAME_LEN + 1
            })
        );
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn impossible_lengths_are_errors() {
        fn prelude(length: u32, headers_length: u32) -> Vec<u8> {
            let mut bytes = Vec::new();
            bytes.extend_from_slice(&length.to_be_bytes());
            bytes.extend_from_slice(&headers_length.to_be_bytes());
            let crc = crc32fast::hash(&bytes);
            bytes.extend_from_slice(&crc.to_be_bytes());
            bytes
        }
        let mut decoder = Decoder::new();
        decoder.push(&prelude(15, 0));
        assert_eq!(
            decoder.next_message(),
            Err(FrameError::FrameTooShort { length: 15 })
        );
        let mut decoder = Decoder::new();
        decoder.push(&prelude(20, 5));
        assert!(matches!(
            decoder.next_message(),
            Err(FrameError::HeadersTooLarge { .. })
        ));
    }

    #[test]
    fn malformed_headers_are_errors() {
        fn frame_with_headers(headers: &[u8]) -> Vec<u8> {
            let length = (MIN_FRAME_LEN + headers.len()) as u32;
            let mut frame = Vec::new();
            frame.extend_from_slice(&length.to_be_bytes());
            frame.extend_from_slice(&(headers.len() as u32).to_be_bytes());
            let crc = crc32fast::hash(&frame);
            frame.extend_from_slice(&crc.to_be_bytes());
            frame.extend_from_slice(headers);
            let crc = crc32fast::hash(&frame);
            frame.extend_from_slice(&crc.to_be_bytes());
            frame
        }
        let cases: [(&[u8], FrameError); 4] = [
            (b"\x01a\x0a", FrameError::UnknownValueType(10)),
            (
                b"\x05ab",
                FrameError::MalformedHeader("name runs past the headers"),
            ),
            (
                b"\x01a\x07\x00\x09abc",
                FrameError::MalformedHeader("value runs past the headers"),
            ),
            (
                b"\x01a\x07\x00\x01\xff",
                FrameError::MalformedHeader("string value is not UTF-8"),
            ),
        ];
        for (headers, expected) in cases {
            let mut decoder = Decoder::new();
            decoder.push(&frame_with_headers(headers));
            assert_eq!(decoder.next_message(), Err(expected));
        }
    }

    #[test]
    fn truncated_stream_is_reported_by_finish() {
        let frame = encode(&Message::event("chunk", "{}")).unwrap();
        let mut decoder = Decoder::new();
        decoder.push(&frame[..frame.len() - 1]);
        assert_eq!(decoder.next_message(), Ok(None));
        assert_eq!(
            decoder.finish(),
            Err(FrameError::Truncated {
                buffered: frame.len() - 1
            })
        );
    }

    #[test]
    fn encode_refuses_what_cannot_be_framed() {
        let long_name = Message {
            headers: vec![("n".repeat(256), Value::Bool(true))],
            payload: Bytes::new(),
        };
        assert_eq!(
            encode(&long_name),
            Err(EncodeError::HeaderNameTooLong { length: 256 })
        );
        let long_value = Message {
            headers: vec![("n".into(), Value::String("v".repeat(65_536)))],
            payload: Bytes::new(),
        };
        assert_eq!(
            encode(&long_value),
            Err(EncodeError::HeaderValueTooLong { length: 65_536 })
        );
        let big = Message {
            headers: vec![],
            payload: Bytes::from(vec![0u8; MAX_FRAME_LEN]),
        };
        assert!(matches!(
            encode(&big),
            Err(EncodeError::FrameTooLarge { .. })
        ));
    }

    #[test]
    fn debug_shows_no_payload() {
        let message = Message::event("chunk", "private words");
        let shown = format!("{message:?}");
        assert!(!shown.contains("private"), "{shown}");
        assert!(shown.contains("payload_len"));
        let mut decoder = Decoder::new();
        decoder.push(&encode(&message).unwrap()[..20]);
        assert!(!format!("{decoder:?}").contains("private"));
    }

    fn value_strategy() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            any::<i8>().prop_map(Value::Byte),
            any::<i16>().prop_map(Value::Int16),
            any::<i32>().prop_map(Value::Int32),
            any::<i64>().prop_map(Value::Int64),
            proptest::collection::vec(any::<u8>(), 0..40)
                .prop_map(|bytes| Value::Bytes(Bytes::from(bytes))),
            ".{0,20}".prop_map(Value::String),
            any::<i64>().prop_map(Value::Timestamp),
            any::<[u8; 16]>().prop_map(Value::Uuid),
        ]
    }

    fn message_strategy() -> impl Strategy<Value = Message> {
        (
            proptest::collection::vec((".{0,12}", value_strategy()), 0..6),
            proptest::collection::vec(any::<u8>(), 0..200),
        )
            .prop_map(|(headers, payload)| Message {
                headers,
                payload: Bytes::from(payload),
            })
    }

    proptest! {
        #[test]
        fn any_messages_in_any_chunks_round_trip(
            messages in proptest::collection::vec(message_strategy(), 0..4),
            chunk in 1usize..64,
        ) {
            let mut stream = Vec::new();
            for message in &messages {
                stream.extend_from_slice(&encode(message).unwrap());
            }
            let mut decoder = Decoder::new();
            let mut decoded = Vec::new();
            for piece in stream.chunks(chunk) {
                decoder.push(piece);
                while let Some(message) = decoder.next_message().unwrap() {
                    decoded.push(message);
                }
            }
            prop_assert!(decoder.finish().is_ok());
            prop_assert_eq!(decoded, messages);
        }

        /// CRC-32 catches every burst of up to 32 bits, so any one changed byte in a
        /// frame is an error, never a different message.
        #[test]
        fn any_changed_byte_is_an_error(
            message in message_strategy(),
            position in any::<proptest::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let mut frame = encode(&message).unwrap().to_vec();
            let index = position.index(frame.len());
            frame[index] ^= flip;
            let mut decoder = Decoder::new();
            decoder.push(&frame);
            let outcome = decoder.next_message();
            prop_assert!(
                outcome.is_err() || (outcome == Ok(None) && decoder.finish().is_err()),
                "byte {} changed, got {:?}", index, outcome
            );
        }
    }
}
