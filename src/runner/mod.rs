//! Running scenarios: one scenario as a self-contained unit ([`run`]), many in parallel
//! ([`suite`]), talking to the outside only through [`events`].

pub mod events;
pub mod report;
pub mod run;
pub mod suite;

pub use events::{Event, EventSink, NoEvents};
pub use report::{ScenarioReport, Status, Summary};
pub use run::{Network, RunOptions, run_scenario};
