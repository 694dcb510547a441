//! The engine benchmark: drives publishes through the HTTP API with API tokens
//! and prints one summary table.
//!
//!     cargo bench --bench engine -- --publishes 20000 --concurrency 64
//!     cargo bench --bench engine -- --queue sqs --workers 2 --publishes 5000
//!
//! It starts the Manch sandbox and the app itself (the release binary, on the
//! embedded default database in a temporary data directory), signs up users,
//! connects their Manch accounts through the consent page, then publishes.
//! With `--queue sqs` it also starts moto_server (from target/moto-venv, see
//! scripts/moto-venv) with a queue and dead-letter queue, and runs one
//! `--role api` process (owning the embedded database) plus `--workers`
//! `--role worker` processes on that database and queue.
//! Only 127.0.0.1 is contacted; the run is bounded by `--publishes` and `--timeout-secs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    let signup: Value = client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&json!({"email": format!("bench{n}@example.com"), "password": "benchmark password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = signup["csrf_token"].as_str().expect("signup").to_owned();
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
    run(args, &client, &base, &manch, options, app_pid, &worker_pids).await;
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

async fn run(
    args: Args,
    client: &reqwest::Client,
    base: &str,
    manch: &str,
    options: PgConnectOptions,
    app_pid: u32,
    worker_pids: &[u32],
) {
    let (base, manch) = (base.to_owned(), manch.to_owned());

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

    let bar = ProgressBar::new(args.publishes as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap(),
    );
    bar.set_message("accepting");
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(args.publishes)));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, base, tokens, next, latencies, bar) = (
                client.clone(),
                base.clone(),
                tokens.clone(),
                next.clone(),
                latencies.clone(),
                bar.clone(),
            );
            let total = args.publishes;
            let scheduled_at = args
                .accept_only
                .then(|| (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339());
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    let token = &tokens[n % tokens.len()];
                    let sent = Instant::now();
                    let response = client
                        .post(format!("{base}/api/v1/posts"))
                        .bearer_auth(token)
                        .json(&match &scheduled_at {
                            Some(at) => json!({"content": format!("benchmark post {n}"), "scheduled_at": at}),
                            None => json!({"content": format!("benchmark post {n}")}),
                        })
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 202, "{:?}", response.text().await);
                    mine.push(sent.elapsed().as_secs_f64() * 1000.0);
                    bar.inc(1);
                }
                latencies.lock().await.extend(mine);
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let accept_elapsed = started.elapsed();
    bar.finish();
    let mut accept = latencies.lock().await.clone();
    accept.sort_by(f64::total_cmp);
    if args.accept_only {
        println!();
        println!(
            "| accepted publishes/s (engine idle) | {:.0} |",
            args.publishes as f64 / accept_elapsed.as_secs_f64()
        );
        println!(
            "| accept latency p50 / p99 | {:.1} ms / {:.1} ms |",
            percentile(&accept, 0.5),
            percentile(&accept, 0.99)
        );
        return;
    }

    // Completion, read from the app's own database.
    let pool = sqlx::PgPool::connect_with(options).await.unwrap();
    let total_tasks = (args.publishes * args.targets) as i64;
    let done_bar = ProgressBar::new(total_tasks as u64);
    done_bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} {per_sec}").unwrap(),
    );
    done_bar.set_message("completing");
    let deadline = Instant::now() + Duration::from_secs(args.timeout_secs);
    loop {
        let finished: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM publish_tasks WHERE status IN ('succeeded', 'failed', 'cancelled', 'missed')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        done_bar.set_position(finished as u64);
        if finished >= total_tasks || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    done_bar.finish();
    let (succeeded, failed): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) FILTER (WHERE status <> 'succeeded')
         FROM publish_tasks",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
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
    completion.sort_by(f64::total_cmp);
    let sandbox: Value = client
        .get(format!("{manch}_sandbox/posts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let duplicates = sandbox["duplicates"].as_u64().unwrap_or(u64::MAX);
    let posted = sandbox["posts"].as_array().map_or(0, |p| p.len());

    println!();
    println!("| figure | value |");
    println!("| --- | --- |");
    println!(
        "| publishes × targets | {} × {} = {} tasks ({} users, concurrency {}, platform latency {} ms) |",
        args.publishes, args.targets, total_tasks, args.users, args.concurrency, args.latency_ms
    );
    println!(
        "| accepted publishes/s | {:.0} ({:.0} tasks/s created) |",
        args.publishes as f64 / accept_elapsed.as_secs_f64(),
        total_tasks as f64 / accept_elapsed.as_secs_f64()
    );
    println!(
        "| accept latency p50 / p99 | {:.1} ms / {:.1} ms |",
        percentile(&accept, 0.5),
        percentile(&accept, 0.99)
    );
    println!(
        "| end-to-end tasks/s (succeeded) | {:.0} |",
        succeeded as f64 / span
    );
    println!(
        "| completion latency p50 / p99 | {:.0} ms / {:.0} ms |",
        percentile(&completion, 0.5),
        percentile(&completion, 0.99)
    );
    println!("| tasks succeeded / not | {succeeded} / {failed} |");
    println!("| posts in the sandbox / duplicates | {posted} / {duplicates} |");
    println!("| app peak RSS | {:.0} MiB |", peak_rss_mib(app_pid));
    for (i, pid) in worker_pids.iter().enumerate() {
        println!(
            "| worker {} peak RSS | {:.0} MiB |",
            i + 1,
            peak_rss_mib(*pid)
        );
    }
}
