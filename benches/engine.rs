//! The engine benchmark: drives publishes through the HTTP API with API tokens
//! and prints one summary table.
//!
//!     cargo bench --bench engine -- --publishes 20000 --concurrency 64
//!     cargo bench --bench engine -- --queue sqs --workers 2 --publishes 5000
//!     cargo bench --bench engine -- --noisy-neighbour --publishes 20000
//!     cargo bench --bench engine -- --rate 1000 --duration-secs 1800
//!
//! It starts the Manch sandbox and the app itself (the release binary, on the
//! embedded default database in a temporary data directory), signs up users,
//! connects their Manch accounts through the consent page, then publishes.
//! With `--queue sqs` it also starts moto_server (from target/moto-venv, see
//! scripts/moto-venv) with a queue and dead-letter queue, and runs one
//! `--role api` process (owning the embedded database) plus `--workers`
//! `--role worker` processes on that database and queue.
//!
//! Modes:
//! - burst (default): `--publishes` publishes at `--concurrency`, spread over
//!   `--users` round-robin.
//! - `--noisy-neighbour`: two users only (`--users` is ignored). User A bursts
//!   `--publishes` publishes at `--concurrency`; meanwhile user B posts one
//!   post a second, one at a time, until A's publishes are all accepted and B
//!   has sent at least 10. B's completion latency (its POST until
//!   `GET /api/v1/jobs/{id}`, polled every 50 ms, shows a final status) gets
//!   its own rows: how long a quiet user waits behind a noisy one. The table
//!   covers both users, except that accepted publishes/s and end-to-end
//!   tasks/s are A's burst alone.
//! - steady (`--rate R`, optional `--duration-secs D`, default 60): R publishes
//!   a second for D seconds, round-robin over users, at most `--concurrency`
//!   in flight (a tick that finds them all busy is skipped and counted as
//!   behind). Every 10 s one line on stdout: elapsed, accepted so far,
//!   accepted/s and accept p99 over the last 10 s, app RSS, task backlog and
//!   429 count; a 30-minute soak shows RSS at minute 5 and minute 30. Then it
//!   waits for completion and prints the usual table for what was accepted.
//!
//! A 429 `backlog_full` answer (the per-user backlog limit) is not a failure:
//! the publish is resent after `Retry-After` (at most 10 s) and counted; accept
//! latency is that of the accepted request. Any other non-202 fails the run.
//! CPU seconds of the app (plus workers) and of PostgreSQL (the postmaster and
//! its children) over the measured window come from /proc, per 1,000 tasks
//! succeeded.
//! Only 127.0.0.1 is contacted; the run is bounded by `--publishes` (or
//! `--duration-secs`) and `--timeout-secs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;
use tokio::sync::Mutex;

#[derive(Parser, Debug)]
struct Args {
    /// Publishes to send.
    #[arg(long, default_value_t = 20_000)]
    publishes: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Users publishing (each with `targets` Manch connections and an API token).
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// Connections per user, i.e. tasks per publish.
    #[arg(long, default_value_t = 3)]
    targets: usize,
    /// Latency the sandbox adds to every post, in ms.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Schedule every post an hour ahead: measures accepting alone, with the
    /// engine idle (no completion figures).
    #[arg(long)]
    accept_only: bool,
    /// Give up waiting for completion after this long.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
    /// `in_process` (one process) or `sqs` (one api + `--workers` worker processes, moto_server).
    #[arg(long, default_value = "in_process")]
    queue: String,
    /// Worker processes in sqs mode.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Noisy-neighbour mode: user A bursts `--publishes` at `--concurrency`
    /// while user B posts once a second; B's completion latency is reported.
    /// Uses two users, ignoring `--users`.
    #[arg(long, conflicts_with_all = ["rate", "accept_only"])]
    noisy_neighbour: bool,
    /// Steady mode: publishes per second, instead of a burst of `--publishes`.
    #[arg(long)]
    rate: Option<f64>,
    /// How long steady mode (`--rate`) sends, in seconds.
    #[arg(long, default_value_t = 60, requires = "rate")]
    duration_secs: u64,
    /// cargo bench passes this; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Killer(Vec<Child>);

impl Drop for Killer {
    fn drop(&mut self) {
        for child in self.0.iter_mut().rev() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::SIGTERM,
            );
            let _ = child.wait();
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

async fn wait_ready(client: &reqwest::Client, url: &str) {
    for _ in 0..600 {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never became ready");
}

/// Signs up, connects `targets` Manch accounts, returns an API token.
async fn prepare_user(base: &str, manch: &str, n: usize, targets: usize) -> String {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let credentials = json!({
        "email": format!("bench{n}@example.com"),
        "password": "a benchmark passphrase for prasaran",
    });
    let signup = client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&credentials)
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 202, "signup failed");
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&credentials)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = login["csrf_token"].as_str().expect("login").to_owned();
    for t in 0..targets {
        let authorize: Value = client
            .post(format!("{base}/api/v1/connections/manch/authorize"))
            .header("X-CSRF-Token", &csrf)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let url = url::Url::parse(authorize["authorize_url"].as_str().unwrap()).unwrap();
        let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        form.push(("handle".into(), format!("bench{n}_{t}")));
        form.push(("decision".into(), "approve".into()));
        let approved = client
            .post(format!("{manch}oauth/authorize"))
            .form(&form)
            .send()
            .await
            .unwrap();
        let back = approved.headers()["location"].to_str().unwrap().to_owned();
        let done = client.get(back).send().await.unwrap();
        assert_eq!(done.status(), 302, "connect failed");
    }
    let token: Value = client
        .post(format!("{base}/api/v1/tokens"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"name": "bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["token"].as_str().unwrap().to_owned()
}

fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let binary = env!("CARGO_BIN_EXE_prasaran");
    let data = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        data.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let (app_port, manch_port) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{app_port}");
    let manch = format!("http://127.0.0.1:{manch_port}/");

    let sandbox = Command::new(binary)
        .args([
            "sandbox",
            "manch",
            "--bind",
            &format!("127.0.0.1:{manch_port}"),
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let sqs = args.queue == "sqs";
    let mut children = Vec::new();
    let mut queue_env: Vec<(String, String)> = Vec::new();
    if sqs {
        let (moto, env) = start_moto().await;
        children.push(moto);
        queue_env = env;
    }
    let role = if sqs { "api" } else { "all" };
    let app = app_command(binary, role, app_port, data.path(), &manch, &queue_env)
        .spawn()
        .unwrap();
    let app_pid = app.id();
    children.push(app);
    children.push(sandbox);
    let mut killer = Killer(children);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        // Below the server's keep-alive (5 s): a connection the server is closing
        // is never picked for a request (seen in a 30-minute steady run).
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    wait_ready(&client, &format!("{manch}_sandbox/posts")).await;
    wait_ready(&client, &format!("{base}/health/ready")).await;
    let options = embedded_database(data.path());
    let mut worker_pids = Vec::new();
    if sqs {
        let url = format!(
            "postgres://postgres@localhost:{}/prasaran?host={}",
            options.get_port(),
            options.get_socket().unwrap().display()
        );
        let mut env = queue_env.clone();
        env.push(("PRASARAN__DATABASE__URL".into(), url));
        for _ in 0..args.workers {
            let port = free_port();
            let worker = app_command(binary, "worker", port, data.path(), &manch, &env)
                .spawn()
                .unwrap();
            worker_pids.push(worker.id());
            killer.0.push(worker);
            wait_ready(&client, &format!("http://127.0.0.1:{port}/health/ready")).await;
        }
    }
    client
        .post(format!("{manch}_sandbox/faults"))
        .json(&json!({"rate_limit_per_s": 1_000_000_000u64, "latency_ms": args.latency_ms}))
        .send()
        .await
        .unwrap();
    let mut app_pids = vec![app_pid];
    app_pids.extend(&worker_pids);
    let postmaster = postmaster_pid(data.path());
    run(args, &client, &base, &manch, options, &app_pids, postmaster).await;
}

/// moto_server on a free port with a task queue (and its dead-letter queue);
/// the settings that point the app at it.
async fn start_moto() -> (Child, Vec<(String, String)>) {
    for (key, value) in AWS_ENV {
        // SAFETY: set before any thread of this benchmark reads the environment for AWS.
        unsafe { std::env::set_var(key, value) };
    }
    let port = free_port();
    let binary = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/moto-venv/bin/moto_server"
    );
    let moto = Command::new(binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server: run scripts/moto-venv first");
    let endpoint = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_ready(&client, &format!("{endpoint}/moto-api/")).await;
    let config = prasaran::aws::sdk_config(
        "us-east-1",
        Some(&endpoint.parse().unwrap()),
        Duration::from_secs(30),
    )
    .await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    use aws_sdk_sqs::types::QueueAttributeName;
    let dlq = sqs
        .create_queue()
        .queue_name("bench-dlq")
        .send()
        .await
        .unwrap();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(dlq.queue_url().unwrap())
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone();
    let queue = sqs
        .create_queue()
        .queue_name("bench")
        .attributes(QueueAttributeName::VisibilityTimeout, "30")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": arn, "maxReceiveCount": "5"}).to_string(),
        )
        .send()
        .await
        .unwrap();
    let env = vec![
        ("PRASARAN__QUEUE__KIND".into(), "sqs".into()),
        (
            "PRASARAN__QUEUE__SQS__QUEUE_URL".into(),
            queue.queue_url().unwrap().to_owned(),
        ),
        ("PRASARAN__QUEUE__SQS__ENDPOINT_URL".into(), endpoint),
    ];
    (moto, env)
}

const AWS_ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "bench"),
    ("AWS_SECRET_ACCESS_KEY", "bench"),
    ("AWS_REGION", "us-east-1"),
];

/// Connection options of the embedded database the first process started.
fn embedded_database(data: &std::path::Path) -> PgConnectOptions {
    let pgdata = data.join("pg");
    let pid_file = std::fs::read_to_string(pgdata.join("postmaster.pid")).unwrap();
    let lines: Vec<&str> = pid_file.lines().collect();
    PgConnectOptions::new()
        .socket(lines[4].trim())
        .port(lines[3].trim().parse().unwrap())
        .username("postgres")
        .database("prasaran")
}

/// The postmaster's pid: line 1 of the embedded database's postmaster.pid.
fn postmaster_pid(data: &std::path::Path) -> u32 {
    let pid_file = std::fs::read_to_string(data.join("pg").join("postmaster.pid")).unwrap();
    pid_file.lines().next().unwrap().trim().parse().unwrap()
}

fn app_command(
    binary: &str,
    role: &str,
    port: u16,
    data: &std::path::Path,
    manch: &str,
    extra: &[(String, String)],
) -> Command {
    let mut command = Command::new(binary);
    command
        .args([
            "serve",
            "--role",
            role,
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--ops-bind",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(data)
        .env("PRASARAN__PLATFORMS__MANCH__BASE_URL", manch)
        .env(
            "PRASARAN__PLATFORMS__MANCH__CLIENT_SECRET",
            "prasaran-dev-secret",
        )
        .env("PRASARAN__RATE_LIMITS__SIGNUP_PER_IP_PER_HOUR", "1000000")
        .env("PRASARAN__RATE_LIMITS__LOGIN_PER_IP_PER_MINUTE", "1000000")
        .env("PRASARAN__ENGINE__RATE_LIMIT_PER_S", "100000")
        // The engine is measured, not mail: connect without verifying.
        .env("PRASARAN__ACCOUNTS__VERIFIED_EMAIL_TO_CONNECT", "false")
        // Nor quotas: a load test publishes far more than one person would.
        .env("PRASARAN__QUOTAS__PUBLISHES_PER_HOUR", "100000000")
        .env("PRASARAN__QUOTAS__PUBLISHES_PER_DAY", "100000000")
        .env("PRASARAN__DATABASE__MAX_CONNECTIONS", "8")
        // PostgreSQL, the sandbox and this load generator share the machine:
        // one HTTP worker and one engine thread switch less than one per core each.
        .env(
            "PRASARAN__SERVER__WORKERS",
            std::env::var("BENCH_HTTP_WORKERS").unwrap_or_else(|_| "1".into()),
        )
        .env(
            "PRASARAN__ENGINE__WORKER_ARBITERS",
            std::env::var("BENCH_ARBITERS").unwrap_or_else(|_| "1".into()),
        )
        .env("RUST_LOG", "warn")
        .envs(AWS_ENV)
        .envs(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    // Warnings and errors of each process, for when a run goes wrong.
    let logs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-logs");
    let _ = std::fs::create_dir_all(&logs);
    match std::fs::File::create(logs.join(format!("{role}-{port}.log"))) {
        Ok(file) => command.stdout(file),
        Err(_) => command.stdout(Stdio::null()),
    };
    command
}

/// Clock ticks per second, the unit of /proc/<pid>/stat's CPU times. nix's
/// `user` feature turns on its `feature` feature, which `sysconf` needs.
fn clock_ticks() -> f64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(ticks)) if ticks > 0 => ticks as f64,
        _ => 100.0,
    }
}

/// The fields of /proc/<pid>/stat from field 3 (state) on; `None` once the
/// process is gone. The command name (field 2) may hold spaces and parentheses,
/// so the fields start after its last `)`.
fn proc_stat(pid: &str) -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    // Field 3 (state) is a letter: keep it as 0 so indices stay aligned.
    Some(
        rest.split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect(),
    )
}

/// Field `n` (1-based, as in proc(5)) of a `proc_stat` answer.
fn stat_field(fields: &[u64], n: usize) -> u64 {
    fields.get(n - 3).copied().unwrap_or(0)
}

/// CPU seconds (user + system) used so far.
#[derive(Clone, Copy)]
struct Cpu {
    /// The app process (plus the worker processes in sqs mode).
    app: f64,
    /// The postmaster with its reaped children, plus its live children.
    postgres: f64,
}

fn cpu_now(app_pids: &[u32], postmaster: u32) -> Cpu {
    let ticks = clock_ticks();
    let app: u64 = app_pids
        .iter()
        .filter_map(|pid| proc_stat(&pid.to_string()))
        .map(|f| stat_field(&f, 14) + stat_field(&f, 15))
        .sum();
    let mut postgres = proc_stat(&postmaster.to_string()).map_or(0, |f| {
        stat_field(&f, 14) + stat_field(&f, 15) + stat_field(&f, 16) + stat_field(&f, 17)
    });
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if let Some(f) = proc_stat(name)
                && stat_field(&f, 4) == u64::from(postmaster)
            {
                postgres += stat_field(&f, 14) + stat_field(&f, 15);
            }
        }
    }
    Cpu {
        app: app as f64 / ticks,
        postgres: postgres as f64 / ticks,
    }
}

/// VmRSS of a process now, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Longest wait after a 429 `backlog_full`, whatever Retry-After says.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// `POST /api/v1/posts` until accepted: a 429 `backlog_full` is waited out
/// (its Retry-After, at most 10 s) and resent, counted in `backlog_full`; any
/// other answer but 202 fails the run. Returns the job id and the latency of
/// the accepted request, in ms.
async fn publish(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: &Value,
    backlog_full: &AtomicUsize,
) -> (String, f64) {
    loop {
        let sent = Instant::now();
        let response = client
            .post(format!("{base}/api/v1/posts"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        if status == 202 {
            let latency = sent.elapsed().as_secs_f64() * 1000.0;
            let accepted: Value = response.json().await.unwrap_or_default();
            let job = accepted["job_id"].as_str().unwrap_or_default().to_owned();
            return (job, latency);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok());
        let text = response.text().await.unwrap_or_default();
        let code = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_owned));
        assert!(
            status == 429 && code.as_deref() == Some("backlog_full"),
            "publish answered {status}: {text}"
        );
        backlog_full.fetch_add(1, Ordering::Relaxed);
        // A missing or unparsable Retry-After waits a second; never less than
        // 100 ms, so a `Retry-After: 0` cannot spin.
        let wait = Duration::from_secs_f64(retry_after.unwrap_or(1.0).max(0.1));
        tokio::time::sleep(wait.min(MAX_RETRY_AFTER)).await;
    }
}

/// With `--accept-only`, an hour from now: every post is scheduled, so the
/// engine stays idle while publishes are accepted.
fn scheduled_at(args: &Args) -> Option<String> {
    args.accept_only
        .then(|| (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339())
}

fn post_body(n: usize, scheduled_at: &Option<String>) -> Value {
    match scheduled_at {
        Some(at) => json!({"content": format!("benchmark post {n}"), "scheduled_at": at}),
        None => json!({"content": format!("benchmark post {n}")}),
    }
}

/// Job statuses after which nothing changes.
const FINAL_JOB_STATUSES: [&str; 5] = [
    "succeeded",
    "partially_failed",
    "failed",
    "cancelled",
    "missed",
];

/// Polls `GET /api/v1/jobs/{job}` every 50 ms until the job is final; its
/// completion latency in ms from `sent`, or `None` past `deadline`.
async fn await_job(
    client: reqwest::Client,
    base: String,
    token: String,
    job: String,
    sent: Instant,
    deadline: Instant,
) -> Option<f64> {
    loop {
        let response = client
            .get(format!("{base}/api/v1/jobs/{job}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "job {job}");
        let view: Value = response.json().await.unwrap();
        let status = view["status"].as_str().unwrap_or_default();
        if FINAL_JOB_STATUSES.contains(&status) {
            return Some(sent.elapsed().as_secs_f64() * 1000.0);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Counters every request of a run shares.
#[derive(Default)]
struct Shared {
    accepted: AtomicUsize,
    backlog_full: AtomicUsize,
}

/// What the sending phase did.
struct Load {
    /// Publishes accepted, by every user.
    accepted: usize,
    /// Publishes and time behind the `accepted publishes/s` row: the whole
    /// run, or user A's burst in noisy-neighbour mode.
    rate_publishes: usize,
    rate_elapsed: Duration,
    /// Accept latencies in ms, every accepted request.
    accept: Vec<f64>,
    /// Said after the concurrency in the `publishes × targets` row.
    mode: String,
    quiet: Option<Quiet>,
    steady: Option<Steady>,
}

/// User B of noisy-neighbour mode.
struct Quiet {
    sent: usize,
    completions: Vec<tokio::task::JoinHandle<Option<f64>>>,
}

/// Steady mode's extra figures.
struct Steady {
    behind: usize,
    /// (elapsed s, app RSS MiB) of each 10 s report.
    rss: Vec<(u64, f64)>,
}

/// `total` publishes at `concurrency`, round-robin over `tokens`.
async fn burst(
    args: &Args,
    client: &reqwest::Client,
    base: &str,
    tokens: Arc<Vec<String>>,
    shared: Arc<Shared>,
    scheduled_at: Option<String>,
) -> Vec<f64> {
    let bar = ProgressBar::new(args.publishes as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap(),
    );
    bar.set_message("accepting");
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(args.publishes)));
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, base, tokens, next, latencies, bar, shared) = (
                client.clone(),
                base.to_owned(),
                tokens.clone(),
                next.clone(),
                latencies.clone(),
                bar.clone(),
                shared.clone(),
            );
            let total = args.publishes;
            let scheduled_at = scheduled_at.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    let token = &tokens[n % tokens.len()];
                    let body = post_body(n, &scheduled_at);
                    let (_, latency) =
                        publish(&client, &base, token, &body, &shared.backlog_full).await;
                    shared.accepted.fetch_add(1, Ordering::Relaxed);
                    mine.push(latency);
                    bar.inc(1);
                }
                latencies.lock().await.extend(mine);
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    bar.finish();
    latencies.lock().await.clone()
}

/// User A (`tokens[0]`) bursts while user B (`tokens[1]`) posts once a second
/// until A is all accepted and B has sent at least 10.
async fn noisy_neighbour(
    args: &Args,
    client: &reqwest::Client,
    base: &str,
    tokens: &[String],
    shared: Arc<Shared>,
) -> Load {
    let started = Instant::now();
    let burst_done = Arc::new(AtomicBool::new(false));
    let quiet = {
        let (client, base, token, shared, burst_done) = (
            client.clone(),
            base.to_owned(),
            tokens[1].clone(),
            shared.clone(),
            burst_done.clone(),
        );
        let timeout = Duration::from_secs(args.timeout_secs);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut accepts, mut completions) = (Vec::new(), Vec::new());
            loop {
                tick.tick().await;
                if burst_done.load(Ordering::Acquire) && accepts.len() >= 10 {
                    break;
                }
                let body = json!({"content": format!("quiet post {}", accepts.len())});
                let sent = Instant::now();
                let (job, latency) =
                    publish(&client, &base, &token, &body, &shared.backlog_full).await;
                shared.accepted.fetch_add(1, Ordering::Relaxed);
                accepts.push(latency);
                completions.push(tokio::spawn(await_job(
                    client.clone(),
                    base.clone(),
                    token.clone(),
                    job,
                    sent,
                    sent + timeout,
                )));
            }
            (accepts, completions)
        })
    };
    let mut accept = burst(
        args,
        client,
        base,
        Arc::new(vec![tokens[0].clone()]),
        shared,
        None,
    )
    .await;
    let rate_elapsed = started.elapsed();
    burst_done.store(true, Ordering::Release);
    let (quiet_accepts, completions) = quiet.await.unwrap();
    let sent = quiet_accepts.len();
    accept.extend(quiet_accepts);
    Load {
        accepted: args.publishes + sent,
        rate_publishes: args.publishes,
        rate_elapsed,
        accept,
        mode: format!(
            ", noisy neighbour: {} burst by one user + {sent} quiet by another",
            args.publishes
        ),
        quiet: Some(Quiet { sent, completions }),
        steady: None,
    }
}

/// `rate` publishes a second for `--duration-secs`, round-robin over users,
/// at most `--concurrency` in flight; a line on stdout every 10 s.
async fn steady(
    args: &Args,
    client: &reqwest::Client,
    base: &str,
    tokens: Arc<Vec<String>>,
    shared: Arc<Shared>,
    pool: sqlx::PgPool,
    app_pids: &[u32],
) -> Load {
    let rate = args.rate.unwrap_or_default();
    assert!(rate > 0.0, "--rate must be positive");
    let scheduled_at = scheduled_at(args);
    let duration = Duration::from_secs(args.duration_secs);
    let started = Instant::now();
    // Accept latencies since the last report; the reporter moves them on.
    let window = Arc::new(std::sync::Mutex::new(Vec::<f64>::new()));
    let reporter = {
        let (shared, window, app_pids) = (shared.clone(), window.clone(), app_pids.to_vec());
        let reports = args.duration_secs / 10;
        tokio::spawn(async move {
            let (mut all, mut rss) = (Vec::new(), Vec::new());
            let (mut last_accepted, mut last_at) = (0, started);
            for k in 1..=reports {
                tokio::time::sleep_until((started + Duration::from_secs(k * 10)).into()).await;
                let now = Instant::now();
                let accepted = shared.accepted.load(Ordering::Relaxed);
                let mut recent = std::mem::take(&mut *window.lock().unwrap());
                recent.sort_by(f64::total_cmp);
                let backlog: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM publish_tasks
                     WHERE status IN ('queued', 'retry_scheduled', 'unconfirmed', 'running')",
                )
                .fetch_one(&pool)
                .await
                .unwrap();
                let app_rss = rss_mib(app_pids[0]);
                let workers_rss: f64 = app_pids[1..].iter().map(|p| rss_mib(*p)).sum();
                let workers = if app_pids.len() > 1 {
                    format!(" (workers {workers_rss:.1} MiB)")
                } else {
                    String::new()
                };
                println!(
                    "[steady] {:>5} s: {accepted} accepted, {:.0}/s, accept p99 {:.1} ms, app RSS {app_rss:.1} MiB{workers}, backlog {backlog} tasks, backlog_full {}",
                    k * 10,
                    (accepted - last_accepted) as f64 / (now - last_at).as_secs_f64(),
                    percentile(&recent, 0.99),
                    shared.backlog_full.load(Ordering::Relaxed),
                );
                rss.push((k * 10, app_rss));
                all.extend(recent);
                (last_accepted, last_at) = (accepted, now);
            }
            (all, rss)
        })
    };

    let in_flight = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
    let mut requests = tokio::task::JoinSet::new();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    // Timer ticks come at most once a millisecond: catching up keeps the rate.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let end = tokio::time::Instant::from_std(started + duration);
    let (mut n, mut behind) = (0usize, 0usize);
    loop {
        if tick.tick().await >= end {
            break;
        }
        // A request that failed fails the run now, not at the end.
        while let Some(done) = requests.try_join_next() {
            done.unwrap();
        }
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            behind += 1;
            continue;
        };
        let (client, base, token, shared, window) = (
            client.clone(),
            base.to_owned(),
            tokens[n % tokens.len()].clone(),
            shared.clone(),
            window.clone(),
        );
        let body = post_body(n, &scheduled_at);
        requests.spawn(async move {
            let (_, latency) = publish(&client, &base, &token, &body, &shared.backlog_full).await;
            shared.accepted.fetch_add(1, Ordering::Relaxed);
            window.lock().unwrap().push(latency);
            drop(permit);
        });
        n += 1;
    }
    while let Some(done) = requests.join_next().await {
        done.unwrap();
    }
    let rate_elapsed = started.elapsed();
    let (mut accept, rss) = reporter.await.unwrap();
    accept.extend(std::mem::take(&mut *window.lock().unwrap()));
    let accepted = shared.accepted.load(Ordering::Relaxed);
    if !args.duration_secs.is_multiple_of(10) {
        println!(
            "[steady] {:>5.1} s: {accepted} accepted, app RSS {:.1} MiB, backlog_full {} (end)",
            rate_elapsed.as_secs_f64(),
            rss_mib(app_pids[0]),
            shared.backlog_full.load(Ordering::Relaxed),
        );
    }
    Load {
        accepted,
        rate_publishes: accepted,
        rate_elapsed,
        accept,
        mode: format!(", steady {rate}/s for {} s", args.duration_secs),
        quiet: None,
        steady: Some(Steady { behind, rss }),
    }
}

async fn run(
    mut args: Args,
    client: &reqwest::Client,
    base: &str,
    manch: &str,
    options: PgConnectOptions,
    app_pids: &[u32],
    postmaster: u32,
) {
    let (base, manch) = (base.to_owned(), manch.to_owned());
    if args.noisy_neighbour {
        args.users = 2;
    }

    eprintln!(
        "preparing {} users with {} Manch connections each…",
        args.users, args.targets
    );
    let mut tokens = Vec::new();
    for chunk in (0..args.users).collect::<Vec<_>>().chunks(8) {
        let batch = chunk
            .iter()
            .map(|n| prepare_user(&base, &manch, *n, args.targets));
        tokens.extend(futures_util::future::join_all(batch).await);
    }
    let tokens = Arc::new(tokens);
    let shared = Arc::new(Shared::default());
    // Steady mode reads the backlog while it sends.
    let early_pool = match args.rate {
        Some(_) => Some(sqlx::PgPool::connect_with(options.clone()).await.unwrap()),
        None => None,
    };

    let cpu_before = cpu_now(app_pids, postmaster);
    let load = if let Some(pool) = early_pool.clone() {
        steady(
            &args,
            client,
            &base,
            tokens.clone(),
            shared.clone(),
            pool,
            app_pids,
        )
        .await
    } else if args.noisy_neighbour {
        noisy_neighbour(&args, client, &base, &tokens, shared.clone()).await
    } else {
        let started = Instant::now();
        let accept = burst(
            &args,
            client,
            &base,
            tokens.clone(),
            shared.clone(),
            scheduled_at(&args),
        )
        .await;
        Load {
            accepted: args.publishes,
            rate_publishes: args.publishes,
            rate_elapsed: started.elapsed(),
            accept,
            mode: String::new(),
            quiet: None,
            steady: None,
        }
    };
    let accept_elapsed = load.rate_elapsed;
    let mut accept = load.accept.clone();
    accept.sort_by(f64::total_cmp);
    let backlog_full = shared.backlog_full.load(Ordering::Relaxed);
    if args.accept_only {
        let cpu_after = cpu_now(app_pids, postmaster);
        println!();
        println!(
            "| accepted publishes/s (engine idle) | {:.0} |",
            load.rate_publishes as f64 / accept_elapsed.as_secs_f64()
        );
        println!(
            "| accept latency p50 / p99 | {:.1} ms / {:.1} ms |",
            percentile(&accept, 0.5),
            percentile(&accept, 0.99)
        );
        println!("| backlog_full answers (retried) | {backlog_full} |");
        println!(
            "| CPU s while accepting (app / PostgreSQL) | {:.1} / {:.1} |",
            cpu_after.app - cpu_before.app,
            cpu_after.postgres - cpu_before.postgres
        );
        return;
    }

    // Completion, read from the app's own database.
    let pool = match early_pool {
        Some(pool) => pool,
        None => sqlx::PgPool::connect_with(options).await.unwrap(),
    };
    let publishes = load.accepted;
    let total_tasks = (publishes * args.targets) as i64;
    let done_bar = ProgressBar::new(total_tasks as u64);
    done_bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} {per_sec}").unwrap(),
    );
    done_bar.set_message("completing");
    let deadline = Instant::now() + Duration::from_secs(args.timeout_secs);
    loop {
        // Every accepted task is in the table; the unfinished ones are read from
        // the app's partial index, so polling costs nothing like a table scan.
        let unfinished: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM publish_tasks
             WHERE status IN ('queued', 'retry_scheduled', 'unconfirmed', 'running')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        let finished = total_tasks - unfinished;
        done_bar.set_position(finished as u64);
        if finished >= total_tasks || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let cpu_after = cpu_now(app_pids, postmaster);
    done_bar.finish();
    let mut quiet_completion = Vec::new();
    let mut quiet_unfinished = 0;
    let quiet_sent = load.quiet.as_ref().map(|q| q.sent);
    if let Some(quiet) = load.quiet {
        for handle in quiet.completions {
            match handle.await.unwrap() {
                Some(ms) => quiet_completion.push(ms),
                None => quiet_unfinished += 1,
            }
        }
    }
    quiet_completion.sort_by(f64::total_cmp);
    let (succeeded, failed): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) FILTER (WHERE status <> 'succeeded')
         FROM publish_tasks",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    if failed > 0 {
        // Why, so a run that lost tasks says so.
        let why: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "SELECT status, last_error, count(*) FROM publish_tasks WHERE status <> 'succeeded'
             GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5",
        )
        .fetch_all(&pool)
        .await
        .unwrap_or_default();
        for (status, error, n) in why {
            eprintln!("{n} tasks {status}: {}", error.unwrap_or_default());
        }
    }
    let mut completion: Vec<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM completed_at - created_at)::float8 * 1000 FROM publish_tasks WHERE completed_at IS NOT NULL",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let span: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM max(completed_at) - min(created_at))::float8 FROM publish_tasks",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    // Noisy neighbour: the rate is the burst's, not stretched over the quiet
    // user's posts after it (the burst user has by far the most jobs).
    let (rate_succeeded, span) = if quiet_sent.is_some() {
        sqlx::query_as(
            "SELECT count(*) FILTER (WHERE t.status = 'succeeded'),
                    extract(epoch FROM max(t.completed_at) - min(t.created_at))::float8
             FROM publish_tasks t JOIN publish_jobs j ON j.id = t.job_id
             WHERE j.user_id = (SELECT user_id FROM publish_jobs GROUP BY user_id ORDER BY count(*) DESC LIMIT 1)",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    } else {
        (succeeded, span)
    };
    completion.sort_by(f64::total_cmp);
    let sandbox: Value = client
        .get(format!("{manch}_sandbox/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let duplicates = sandbox["duplicates"].as_u64().unwrap_or(u64::MAX);
    let posted = sandbox["posts"].as_u64().unwrap_or(0);

    println!();
    println!("| figure | value |");
    println!("| --- | --- |");
    println!(
        "| publishes × targets | {} × {} = {} tasks ({} users, concurrency {}, platform latency {} ms{}) |",
        publishes,
        args.targets,
        total_tasks,
        args.users,
        args.concurrency,
        args.latency_ms,
        load.mode
    );
    println!(
        "| accepted publishes/s | {:.0} ({:.0} tasks/s created) |",
        load.rate_publishes as f64 / accept_elapsed.as_secs_f64(),
        (load.rate_publishes * args.targets) as f64 / accept_elapsed.as_secs_f64()
    );
    println!(
        "| accept latency p50 / p99 | {:.1} ms / {:.1} ms |",
        percentile(&accept, 0.5),
        percentile(&accept, 0.99)
    );
    println!(
        "| end-to-end tasks/s (succeeded) | {:.0} |",
        rate_succeeded as f64 / span
    );
    println!(
        "| completion latency p50 / p99 | {:.0} ms / {:.0} ms |",
        percentile(&completion, 0.5),
        percentile(&completion, 0.99)
    );
    println!("| tasks succeeded / not | {succeeded} / {failed} |");
    println!("| posts in the sandbox / duplicates | {posted} / {duplicates} |");
    println!("| app peak RSS | {:.0} MiB |", peak_rss_mib(app_pids[0]));
    for (i, pid) in app_pids[1..].iter().enumerate() {
        println!(
            "| worker {} peak RSS | {:.0} MiB |",
            i + 1,
            peak_rss_mib(*pid)
        );
    }
    println!("| backlog_full answers (retried) | {backlog_full} |");
    let (app_cpu, pg_cpu) = (
        cpu_after.app - cpu_before.app,
        cpu_after.postgres - cpu_before.postgres,
    );
    if succeeded > 0 {
        println!(
            "| CPU s per 1,000 tasks (app / PostgreSQL) | {:.2} / {:.2} |",
            app_cpu / succeeded as f64 * 1000.0,
            pg_cpu / succeeded as f64 * 1000.0
        );
    } else {
        println!("| CPU s per 1,000 tasks (app / PostgreSQL) | n/a / n/a |");
    }
    println!("| CPU s total (app / PostgreSQL) | {app_cpu:.1} / {pg_cpu:.1} |");
    if std::env::var_os("BENCH_TABLE_STATS").is_some() {
        // Where PostgreSQL spent its reads: scans per table (diagnosing plans).
        let stats: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT relname::text, seq_scan, seq_tup_read, coalesce(idx_scan, 0), coalesce(idx_tup_fetch, 0)
             FROM pg_stat_user_tables ORDER BY seq_tup_read DESC LIMIT 8",
        )
        .fetch_all(&pool)
        .await
        .unwrap_or_default();
        for (table, seq, seq_rows, idx, idx_rows) in stats {
            eprintln!(
                "{table}: {seq} seq scans ({seq_rows} rows), {idx} index scans ({idx_rows} rows)"
            );
        }
    }
    if let Some(sent) = quiet_sent {
        println!("| quiet user's posts during the burst | {sent} |");
        println!(
            "| quiet user's completion p50 / p99 | {:.0} ms / {:.0} ms |",
            percentile(&quiet_completion, 0.5),
            percentile(&quiet_completion, 0.99)
        );
        if quiet_unfinished > 0 {
            println!("| quiet user's posts not final by the timeout | {quiet_unfinished} |");
        }
    }
    if let Some(steady) = load.steady {
        println!(
            "| steady ticks skipped (concurrency limit reached) | {} |",
            steady.behind
        );
        let at = |(secs, mib): (u64, f64)| format!("{mib:.0} MiB at {secs} s");
        let mut points: Vec<String> = steady.rss.first().copied().map(at).into_iter().collect();
        if let Some(five) = steady.rss.iter().find(|(s, _)| *s == 300) {
            points.push(at(*five));
        }
        if steady.rss.len() > 1 {
            points.push(at(*steady.rss.last().unwrap()));
        }
        points.dedup();
        println!("| app RSS during the steady run | {} |", points.join(", "));
    }
}
