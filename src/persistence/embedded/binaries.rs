//! Finding the machine's PostgreSQL server programs.

use std::path::{Path, PathBuf};

/// The server programs the embedded cluster needs, all from one installation.
#[derive(Debug, Clone)]
pub struct ServerBinaries {
    pub initdb: PathBuf,
    pub pg_ctl: PathBuf,
}

impl ServerBinaries {
    /// Looks in `configured` if given; otherwise on PATH, then under
    /// `/usr/lib/postgresql/<version>/bin`, newest version first.
    pub fn locate(configured: Option<&Path>) -> Option<Self> {
        if let Some(dir) = configured {
            return Self::in_dir(dir);
        }
        Self::on_path().or_else(Self::in_debian_layout)
    }

    fn in_dir(dir: &Path) -> Option<Self> {
        let initdb = dir.join("initdb");
        let pg_ctl = dir.join("pg_ctl");
        let postgres = dir.join("postgres");
        (is_executable(&initdb) && is_executable(&pg_ctl) && is_executable(&postgres))
            .then_some(Self { initdb, pg_ctl })
    }

    fn on_path() -> Option<Self> {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path).find_map(|dir| {
            // pg_ctl starts the `postgres` that sits beside the real file, so
            // follow a symlink such as /usr/local/bin/pg_ctl to its installation.
            let pg_ctl = std::fs::canonicalize(dir.join("pg_ctl")).ok()?;
            Self::in_dir(pg_ctl.parent()?)
        })
    }

    fn in_debian_layout() -> Option<Self> {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
                Some((version, entry.path().join("bin")))
            })
            .collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.0));
        versions.into_iter().find_map(|(_, dir)| Self::in_dir(&dir))
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
