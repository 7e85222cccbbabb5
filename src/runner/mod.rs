//! Running a scenario: the sandbox and the world set up, the real go run against it
//! ([`gocmd`]), recovery steps applied ([`recover`]) and the rerun's integrity checked
//! ([`verify`]), in this process or in a sealed child ([`child`]), talking to the outside
//! only through [`events`] and the [`RunRecord`] it returns. Judging the record — the
//! evidence, the diagnosis, the expectations — is not the runner's job (`judge`).

pub mod child;
pub mod childlog;
pub mod egress;
pub mod entry;
pub mod events;
pub mod gocmd;
pub mod options;
pub mod record;
pub mod recover;
pub mod route;
pub mod run;
pub mod sealed_net;
pub mod up;
pub mod usage;
pub mod verify;

pub use entry::dispatch;
pub use events::{NoEvents, Progress, ProgressSink};
pub use options::{Network, RunOptions};
pub use record::{CommandReport, PhaseRecord, RecoveryRecord, RunRecord};
pub use route::run_scenario;
pub use usage::Usage;
