//! What an input binding's type adds to its function: the one item the
//! trigger modules (`schedule`, `queue`, `webhook`) and `function` share, in
//! a module of its own so that neither imports the other.

use serde_json::Value;

/// What a binding type adds to its function.
pub(crate) struct Trigger {
    /// The bindery function that serves the type.
    pub(crate) binary: &'static str,
    /// The function's `Events`.
    pub(crate) events: Value,
    /// Other function properties (e.g. `EventInvokeConfig`).
    pub(crate) properties: Vec<(&'static str, Value)>,
    /// IAM statements the function's role needs to be triggered (an event
    /// source mapping reads its source with the function's role).
    pub(crate) statements: Vec<Value>,
}
