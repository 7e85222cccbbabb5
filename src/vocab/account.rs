//! Who a process runs as. go runs as an unprivileged user by default, as on a customer's
//! laptop or CI runner: root never meets a permission error, so a whole family of real
//! failures needs go to be someone else than the files' owner.

use serde::{Deserialize, Serialize};

/// A user and group id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Account {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

impl Account {
    /// The superuser.
    pub const ROOT: Account = Account { uid: 0, gid: 0 };

    /// The user go runs as when the harness may choose: uid and gid 1000, the first
    /// ordinary account of most distributions and the usual `USER` of container images.
    pub const UNPRIVILEGED: Account = Account { uid: 1000, gid: 1000 };

    /// The account of this process (its effective ids).
    pub fn current() -> Account {
        // SAFETY: geteuid and getegid cannot fail and touch no memory.
        unsafe { Account { uid: libc::geteuid(), gid: libc::getegid() } }
    }

    /// True for uid 0.
    pub fn is_root(self) -> bool {
        self.uid == 0
    }
}

impl std::fmt::Display for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "uid {} gid {}", self.uid, self.gid)
    }
}
