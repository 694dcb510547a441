//! Advisory file locks that keep two processes from managing one data dir at once.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

/// An exclusive `flock` held for as long as this value lives.
#[derive(Debug)]
pub struct DirLock {
    _lock: Flock<File>,
    pub path: PathBuf,
}

/// The lock is held by another process; `holder` is the pid it wrote, if any.
#[derive(Debug)]
pub struct Held {
    pub holder: Option<u32>,
}

impl DirLock {
    /// Takes the lock, waiting for another holder to let go.
    pub fn wait(path: &Path) -> std::io::Result<Self> {
        let file = open(path)?;
        let lock = Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| e)?;
        Self::claim(lock, path)
    }

    /// Takes the lock or reports who holds it, without waiting.
    pub fn try_take(path: &Path) -> std::io::Result<Result<Self, Held>> {
        let file = open(path)?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Self::claim(lock, path).map(Ok),
            Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                Ok(Err(Held {
                    holder: text.trim().parse().ok(),
                }))
            }
            Err((_, errno)) => Err(errno.into()),
        }
    }

    fn claim(mut lock: Flock<File>, path: &Path) -> std::io::Result<Self> {
        lock.set_len(0)?;
        lock.rewind()?;
        write!(lock, "{}", std::process::id())?;
        Ok(Self {
            _lock: lock,
            path: path.to_owned(),
        })
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}
