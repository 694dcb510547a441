//! Who runs the embedded cluster. PostgreSQL refuses to run as root, so a
//! root process hands the cluster to an unprivileged OS user.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use nix::unistd::{Gid, Uid, User, chown};

/// The unprivileged account the cluster's programs run as (only when we are root).
#[derive(Debug, Clone)]
pub struct ClusterOwner {
    pub name: String,
    uid: Uid,
    gid: Gid,
}

impl ClusterOwner {
    /// `None` when this process is not root: then it owns the cluster itself.
    pub fn for_current_process(os_user: &str) -> Result<Option<Self>, String> {
        if !Uid::effective().is_root() {
            return Ok(None);
        }
        match User::from_name(os_user) {
            Ok(Some(user)) => Ok(Some(Self {
                name: user.name,
                uid: user.uid,
                gid: user.gid,
            })),
            Ok(None) => Err(os_user.to_owned()),
            Err(_) => Err(os_user.to_owned()),
        }
    }

    /// Makes `command` run as this user. std drops root's supplementary groups
    /// itself when a root process sets a uid.
    pub fn apply(&self, command: &mut Command) {
        command.uid(self.uid.as_raw()).gid(self.gid.as_raw());
    }

    pub fn chown(&self, path: &Path) -> std::io::Result<()> {
        chown(path, Some(self.uid), Some(self.gid)).map_err(std::io::Error::from)
    }

    /// Whether this user can traverse into `dir` (a 0700 home on the way blocks it).
    pub fn can_enter(&self, dir: &Path) -> bool {
        let mut command = Command::new("/bin/sh");
        command
            .args(["-c", "test -x \"$1\"", "sh"])
            .arg(dir)
            .current_dir("/");
        self.apply(&mut command);
        command.status().map(|s| s.success()).unwrap_or(false)
    }
}
