//! parse and forward: the API surfaces Customs accepts and the upstream providers it
//! forwards to.
//!
//! - [`openai_api`] knows OpenAI's request shapes (Chat Completions, Responses,
//!   Embeddings) and lists every text a model would read as a decoded string with its
//!   place in the JSON, so the scanner sees what the model sees and redaction rewrites
//!   exactly those strings.
//! - [`upstream`] builds the outgoing request for a deployment (OpenAI, Azure OpenAI):
//!   URL shape, credentials from the environment, never the caller's token.
//! - [`echo`] is the built-in `customs-echo` model: it answers in OpenAI's shape with
//!   exactly what it received, so anyone can see what would have left.

pub mod echo;
pub mod openai_api;
pub mod upstream;
