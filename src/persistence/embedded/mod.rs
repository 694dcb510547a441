//! The embedded default database: a private PostgreSQL cluster under the data
//! directory, started from the machine's own server binaries when no database
//! URL is configured.
//!
//! The cluster listens on a Unix socket only (no TCP), in a directory only its
//! owner can enter, so no other local user can reach its trust-authenticated
//! superuser. When prasaran runs as root the cluster runs as an unprivileged OS
//! user; if that user cannot reach the data directory (e.g. it sits in a 0700
//! home) the cluster lives under `/var/lib/prasaran/clusters/` instead and a
//! `pg.location` file in the data directory records where.

mod binaries;
mod lock;
mod owner;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::postgres::PgConnectOptions;

pub use binaries::ServerBinaries;
pub use lock::{DirLock, Held};
use owner::ClusterOwner;

/// Where clusters go when the owner cannot reach the configured data dir.
const FALLBACK_ROOT: &str = "/var/lib/prasaran/clusters";
/// Unix socket paths are limited to 107 bytes including `/.s.PGSQL.NNNNN`.
const MAX_SOCKET_DIR_LEN: usize = 90;
/// The superuser initdb creates; trust-authenticated over the private socket.
const SUPERUSER: &str = "postgres";

/// What the embedded cluster needs to know.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub data_dir: PathBuf,
    pub bin_dir: Option<PathBuf>,
    pub os_user: String,
    pub start_timeout: Duration,
    /// Also listen on TCP at this address (the tests of PostgreSQL over TLS
    /// need a network listener); None: the private socket only.
    pub listen: Option<std::net::IpAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no PostgreSQL server binaries found (looked for initdb, pg_ctl and postgres on PATH and under /usr/lib/postgresql/*/bin). Either install PostgreSQL (on Debian: apt-get install postgresql) or set PRASARAN__DATABASE__URL to a database you already run"
    )]
    NoServerBinaries,
    #[error(
        "prasaran runs as root, and PostgreSQL refuses to; the OS user `{0}` it would run the cluster as does not exist. Create it (useradd --system {0}), set PRASARAN__DATABASE__EMBEDDED__OS_USER to another unprivileged user, run prasaran as a normal user, or set PRASARAN__DATABASE__URL"
    )]
    NoOsUser(String),
    #[error(
        "the data directory {data_dir} is in use by another prasaran serve{}; stop that one, pass a different --data-dir, or set PRASARAN__DATABASE__URL",
        .pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    InUse { data_dir: String, pid: Option<u32> },
    #[error("{what} failed ({status}): {output}")]
    Command {
        what: &'static str,
        status: String,
        output: String,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> EmbeddedError {
    let context = context.into();
    move |source| EmbeddedError::Io { context, source }
}

/// A running private cluster.
#[derive(Debug)]
pub struct EmbeddedCluster {
    pgdata: PathBuf,
    socket_dir: PathBuf,
    port: u16,
    listen: Option<std::net::IpAddr>,
    binaries: ServerBinaries,
    owner: Option<ClusterOwner>,
}

impl EmbeddedCluster {
    /// Creates the cluster on first use and starts it, or attaches to it when it
    /// is already running. Blocking: call from `spawn_blocking` or at start-up.
    pub fn start(config: &ClusterConfig) -> Result<Self, EmbeddedError> {
        let binaries = ServerBinaries::locate(config.bin_dir.as_deref())
            .ok_or(EmbeddedError::NoServerBinaries)?;
        let owner =
            ClusterOwner::for_current_process(&config.os_user).map_err(EmbeddedError::NoOsUser)?;
        std::fs::create_dir_all(&config.data_dir)
            .map_err(io(format!("creating {}", config.data_dir.display())))?;
        let data_dir = std::fs::canonicalize(&config.data_dir)
            .map_err(io(format!("resolving {}", config.data_dir.display())))?;
        // Serialises initdb/start between processes sharing this data dir.
        let _start_lock =
            DirLock::wait(&data_dir.join("pg.lock")).map_err(io("locking the data directory"))?;

        let pgdata = cluster_location(&data_dir, owner.as_ref())?;
        let mut cluster = Self {
            socket_dir: socket_dir_for(&pgdata),
            pgdata,
            port: 0,
            listen: config.listen,
            binaries,
            owner,
        };
        if !cluster.pgdata.join("PG_VERSION").exists() {
            cluster.initdb()?;
        }
        match cluster.running_postmaster() {
            Some((port, socket_dir)) => {
                tracing::info!(pgdata = %cluster.pgdata.display(), port, "attaching to the running embedded PostgreSQL");
                cluster.port = port;
                cluster.socket_dir = socket_dir;
            }
            None => cluster.pg_start(config.start_timeout)?,
        }
        Ok(cluster)
    }

    /// The port of the socket (and of the TCP listener, when there is one).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Options for connecting to `database` over the private socket.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .port(self.port)
            .username(SUPERUSER)
            .database(database)
    }

    /// The same as a URL, for settings that take `database.url`.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost:{}/{database}?host={}",
            self.port,
            self.socket_dir.display()
        )
    }

    /// Stops the cluster, letting open transactions roll back ("fast" mode). Blocking.
    pub fn stop(&self) -> Result<(), EmbeddedError> {
        let mut command = self.command(&self.binaries.pg_ctl);
        command
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-m", "fast", "-w", "stop"]);
        run(command, "pg_ctl stop")?;
        tracing::info!(pgdata = %self.pgdata.display(), "embedded PostgreSQL stopped");
        Ok(())
    }

    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        // The owner may not be able to enter our working directory.
        command.current_dir("/");
        command
            .env_remove("PGDATA")
            .env_remove("PGPORT")
            .env_remove("PGHOST");
        if let Some(owner) = &self.owner {
            owner.apply(&mut command);
        }
        command
    }

    fn make_owned_dir(&self, dir: &Path) -> Result<(), EmbeddedError> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io(format!("creating {}", dir.display())))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io(format!("setting permissions of {}", dir.display())))?;
        if let Some(owner) = &self.owner {
            owner
                .chown(dir)
                .map_err(io(format!("handing {} to {}", dir.display(), owner.name)))?;
        }
        Ok(())
    }

    fn initdb(&self) -> Result<(), EmbeddedError> {
        tracing::info!(pgdata = %self.pgdata.display(), "creating the embedded PostgreSQL cluster");
        self.make_owned_dir(&self.pgdata)?;
        let mut command = self.command(&self.binaries.initdb);
        command
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C"])
            .arg("--no-instructions");
        if let Err(error) = run(command, "initdb") {
            // A half-made cluster would block every later start: remove it.
            let _ = std::fs::remove_dir_all(&self.pgdata);
            return Err(error);
        }
        Ok(())
    }

    fn pg_start(&mut self, timeout: Duration) -> Result<(), EmbeddedError> {
        if self.socket_dir != self.pgdata {
            self.make_owned_dir(&self.socket_dir.clone())?;
        }
        let socket_dir = self.socket_dir.display().to_string();
        if socket_dir.contains('\'') {
            return Err(EmbeddedError::Command {
                what: "pg_ctl start",
                status: "not run".into(),
                output: format!("socket directory {socket_dir} contains a quote"),
            });
        }
        self.port = free_port()?;
        let listen = self.listen.map(|ip| ip.to_string()).unwrap_or_default();
        let mut command = self.command(&self.binaries.pg_ctl);
        command
            .arg("-D")
            .arg(&self.pgdata)
            .arg("-l")
            .arg(self.pgdata.join("server.log"))
            .args(["-w", "-t", &timeout.as_secs().max(1).to_string(), "-o"])
            .arg(format!(
                "-p {} -k '{socket_dir}' -c listen_addresses='{listen}'",
                self.port
            ))
            .arg("start");
        run(command, "pg_ctl start").map_err(|error| self.with_server_log(error))?;
        tracing::info!(pgdata = %self.pgdata.display(), port = self.port, "embedded PostgreSQL started");
        Ok(())
    }

    /// pg_ctl says little when the server fails; its log says why.
    fn with_server_log(&self, error: EmbeddedError) -> EmbeddedError {
        match error {
            EmbeddedError::Command {
                what,
                status,
                output,
            } => {
                let log =
                    std::fs::read_to_string(self.pgdata.join("server.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                EmbeddedError::Command {
                    what,
                    status,
                    output: format!("{output} | server log: {}", tail.join(" | ")),
                }
            }
            other => other,
        }
    }

    /// Port and socket directory of a live postmaster on this cluster, from postmaster.pid.
    fn running_postmaster(&self) -> Option<(u16, PathBuf)> {
        let mut command = self.command(&self.binaries.pg_ctl);
        command.arg("-D").arg(&self.pgdata).arg("status");
        if !command.output().ok()?.status.success() {
            return None;
        }
        let pid_file = std::fs::read_to_string(self.pgdata.join("postmaster.pid")).ok()?;
        let lines: Vec<&str> = pid_file.lines().collect();
        let port = lines.get(3)?.trim().parse().ok()?;
        let socket_dir = PathBuf::from(lines.get(4)?.trim());
        Some((port, socket_dir))
    }
}

/// `<data_dir>/pg`, unless a previous run recorded another place or the owner
/// cannot reach the data dir (then a per-data-dir folder under FALLBACK_ROOT).
fn cluster_location(
    data_dir: &Path,
    owner: Option<&ClusterOwner>,
) -> Result<PathBuf, EmbeddedError> {
    let pointer = data_dir.join("pg.location");
    if let Ok(recorded) = std::fs::read_to_string(&pointer) {
        return Ok(PathBuf::from(recorded.trim()));
    }
    let Some(owner) = owner else {
        return Ok(data_dir.join("pg"));
    };
    if owner.can_enter(data_dir) {
        return Ok(data_dir.join("pg"));
    }
    let fallback = PathBuf::from(FALLBACK_ROOT)
        .join(short_hash(data_dir))
        .join("pg");
    tracing::warn!(
        data_dir = %data_dir.display(),
        cluster = %fallback.display(),
        user = %owner.name,
        "the PostgreSQL user cannot enter the data directory; keeping the cluster outside it"
    );
    if let Some(parent) = fallback.parent() {
        std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
    }
    std::fs::write(&pointer, fallback.display().to_string())
        .map_err(io(format!("writing {}", pointer.display())))?;
    Ok(fallback)
}

fn socket_dir_for(pgdata: &Path) -> PathBuf {
    if pgdata.as_os_str().len() <= MAX_SOCKET_DIR_LEN {
        pgdata.to_owned()
    } else {
        std::env::temp_dir().join(format!("prasaran-pg-{}", short_hash(pgdata)))
    }
}

fn short_hash(path: &Path) -> String {
    let digest = Sha256::digest(path.as_os_str().as_encoded_bytes());
    hex::encode(&digest[..8])
}

fn free_port() -> Result<u16, EmbeddedError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(io("finding a free port"))
}

fn run(mut command: Command, what: &'static str) -> Result<Output, EmbeddedError> {
    let output = command.output().map_err(io(format!("running {what}")))?;
    if output.status.success() {
        return Ok(output);
    }
    let text = format!(
        "{} {}",
        String::from_utf8_lossy(&output.stdout).trim(),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Err(EmbeddedError::Command {
        what,
        status: output.status.to_string(),
        output: text.trim().replace('\n', " | "),
    })
}
