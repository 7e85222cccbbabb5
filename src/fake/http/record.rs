//! An exchange's entry in the world's request log, shared by the handlers that see the
//! exchange and the body (or tunnel) that ends it. The entry is finished exactly once:
//! explicitly when the response ends, or when the last holder lets go (the client went
//! away, the world shut down) with a note saying so.

use std::sync::{Arc, Mutex};

use crate::fake::record::{RequestLog, Slot};

/// A request's entry in the log, while the exchange lasts. Cloning shares it.
#[derive(Clone)]
pub struct Record(Arc<Entry>);

struct Entry {
    log: Arc<RequestLog>,
    slot: Slot,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Body bytes sent so far.
    bytes: u64,
    /// How the exchange ended, when not normally.
    note: Option<String>,
    /// Said before the note, whatever it ends up being ("relayed to 127.0.0.12:80").
    context: Option<String>,
    done: bool,
}

impl Record {
    /// Opens the entry of a `method` request for `path` arriving at `host`.
    pub fn begin(log: &Arc<RequestLog>, host: &str, method: &str, path: &str) -> Record {
        let slot = log.begin(host, method, path, Vec::new());
        Record(Arc::new(Entry { log: log.clone(), slot, state: Mutex::default() }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds the label of a fault that fired ("#1 respond 500").
    pub fn add_fault(&self, label: impl Into<String>) {
        self.0.log.add_fault(self.0.slot, label);
    }

    /// Records the status sent.
    pub fn status(&self, status: u16) {
        self.0.log.status(self.0.slot, status);
    }

    /// Sets how the exchange ended (the last call wins).
    pub fn note(&self, note: impl Into<String>) {
        self.state().note = Some(note.into());
    }

    /// True when a note was set.
    pub fn has_note(&self) -> bool {
        self.state().note.is_some()
    }

    /// Sets what is said before the note.
    pub fn context(&self, context: impl Into<String>) {
        self.state().context = Some(context.into());
    }

    /// Shows a note in the log now, while the exchange goes on (a running tunnel).
    pub fn show(&self, note: impl Into<String>) {
        self.0.log.note(self.0.slot, note);
    }

    /// Records how many body bytes were sent so far.
    pub fn set_bytes(&self, bytes: u64) {
        self.state().bytes = bytes;
    }

    /// Ends the entry now (later calls do nothing).
    pub fn finish(&self) {
        self.0.finish();
    }
}

impl Entry {
    fn finish(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.done {
            return;
        }
        state.done = true;
        let note = match (state.context.take(), state.note.take()) {
            (Some(context), Some(note)) => Some(format!("{context}; {note}")),
            (context, note) => context.or(note),
        };
        self.log.finish(self.slot, state.bytes, note);
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        {
            let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
            if !state.done && state.note.is_none() {
                state.note = Some(format!("client went away after {} body bytes", state.bytes));
            }
        }
        self.finish();
    }
}
