//! Real AWS-compatible endpoints for the tests: `moto_server` (SQS, KMS, S3)
//! from the project's own virtual environment, started on a free port per
//! test and killed with it; and `prasaran serve` processes in their roles.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::json;

/// Dummy credentials: moto accepts any, and nothing real is ever needed.
pub const AWS_ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
];

/// The SDK in this test process reads the same variables.
pub fn aws_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (key, value) in AWS_ENV {
            // SAFETY: set once, before any SDK client exists, to the same values in every test.
            unsafe { std::env::set_var(key, value) };
        }
    });
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn moto_binary() -> PathBuf {
    if let Ok(path) = std::env::var("MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/moto-venv/bin/moto_server");
    assert!(
        path.exists(),
        "moto_server is missing: run scripts/test (it installs moto into target/moto-venv), or set MOTO_SERVER"
    );
    path
}

/// A moto_server process on its own port.
pub struct Moto {
    pub port: u16,
    child: Option<Child>,
}

impl Moto {
    pub async fn start() -> Self {
        aws_env();
        let mut moto = Self {
            port: free_port(),
            child: None,
        };
        moto.launch().await;
        moto
    }

    async fn launch(&mut self) {
        let child = Command::new(moto_binary())
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting moto_server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while crate::helpers::http()
            .get(format!("{}/moto-api/", self.endpoint()))
            .send()
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "moto_server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An outage: the server is killed and everything it held is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The endpoint comes back on the same port (empty, as moto keeps nothing).
    pub async fn restart(&mut self) {
        self.kill();
        self.launch().await;
    }

    async fn sdk_config(&self) -> aws_config::SdkConfig {
        prasaran::aws::sdk_config(
            "us-east-1",
            Some(&self.endpoint().parse().unwrap()),
            Duration::from_secs(30),
        )
        .await
    }

    pub async fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk_config().await)
    }

    pub async fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.sdk_config().await)
    }

    /// Buckets are addressed path-style (`<endpoint>/<bucket>/<key>`), as the
    /// app does with a configured endpoint.
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config().await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// A task queue whose messages move to a dead-letter queue after
    /// `max_receives`; returns (queue URL, DLQ URL).
    pub async fn queue_with_dlq(
        &self,
        name: &str,
        visibility_secs: u32,
        max_receives: u32,
    ) -> (String, String) {
        let sqs = self.sqs().await;
        let dlq = sqs
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .send()
            .await
            .unwrap()
            .queue_url()
            .unwrap()
            .to_owned();
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&dlq)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes()
            .unwrap()[&QueueAttributeName::QueueArn]
            .clone();
        let redrive =
            json!({"deadLetterTargetArn": arn, "maxReceiveCount": max_receives.to_string()});
        let queue = sqs
            .create_queue()
            .queue_name(name)
            .attributes(
                QueueAttributeName::VisibilityTimeout,
                visibility_secs.to_string(),
            )
            .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
            .send()
            .await
            .unwrap()
            .queue_url()
            .unwrap()
            .to_owned();
        (queue, dlq)
    }

    pub async fn create_key(&self) -> String {
        self.kms()
            .await
            .create_key()
            .send()
            .await
            .unwrap()
            .key_metadata()
            .unwrap()
            .key_id()
            .to_owned()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `prasaran serve` process; killed (SIGKILL) when dropped unless stopped.
pub struct Serve {
    pub address: String,
    /// The operator listener (`/metrics`, `/health/actors`).
    pub ops_address: String,
    pub log: PathBuf,
    child: Option<Child>,
}

impl Serve {
    /// Starts `prasaran serve --role ROLE` with `env` on a free port and waits
    /// until `/health/ready` says 200.
    pub async fn start(role: &str, env: &[(String, String)]) -> Self {
        let port = free_port();
        let ops_port = free_port();
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "serve-{role}-{port}-{}.log",
            uuid::Uuid::new_v4().simple()
        ));
        let file = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_prasaran"));
        for (key, _) in std::env::vars() {
            if key.starts_with("PRASARAN") {
                command.env_remove(key);
            }
        }
        command
            .args([
                "serve",
                "--role",
                role,
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--ops-bind",
                &format!("127.0.0.1:{ops_port}"),
            ])
            .envs(AWS_ENV)
            // As in TestApp: connecting right after signup (tests/api/mail.rs
            // and logging.rs verify addresses with the rule on).
            .env("PRASARAN__ACCOUNTS__VERIFIED_EMAIL_TO_CONNECT", "false")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        let child = command.spawn().expect("starting prasaran serve");
        let serve = Self {
            address: format!("http://127.0.0.1:{port}"),
            ops_address: format!("http://127.0.0.1:{ops_port}"),
            log,
            child: Some(child),
        };
        serve.wait_ready(Duration::from_secs(60)).await;
        serve
    }

    pub async fn wait_ready(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(response) = crate::helpers::http()
                .get(format!("{}/health/ready", self.address))
                .send()
                .await
                && response.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready in time; log:\n{}",
                self.address,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `kill -9`: no shutdown, no clean-up.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait for a clean exit; returns the exit status' success.
    pub async fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A counter from this process's `/metrics`, summed over its labels matching `filter`.
    pub async fn metric(&self, name: &str, filter: &str) -> f64 {
        let text = crate::helpers::http()
            .get(format!("{}/metrics", self.ops_address))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .filter(|l| l.starts_with(name) && l.contains(filter))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill9();
    }
}
