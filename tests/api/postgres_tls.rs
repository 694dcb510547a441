//! PostgreSQL over TLS: a cluster of its own with a test certificate, and
//! `sslmode=verify-full` checked for real — the right CA and host name
//! connect (the whole app runs on it), a wrong CA or host name is refused.

use std::path::Path;
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;

use prasaran::persistence::embedded::{ClusterConfig, EmbeddedCluster};
use reqwest::StatusCode;
use secrecy::SecretString;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};

use crate::helpers::{Browser, PASSWORD, test_settings};

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (Debian package openssl) runs");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA, and a server certificate it signed for `localhost` only.
fn certificates(dir: &Path, ca_name: &str) {
    let ca_subject = format!("/CN={ca_name}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            &ca_subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

/// Puts `pem` into the cluster's data directory, owned by the server's OS
/// user and readable by it alone (PostgreSQL refuses a key anyone else may read).
async fn install(admin: &mut sqlx::PgConnection, name: &str, pem: &str) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let data_dir: String = sqlx::query_scalar("SHOW data_directory")
        .fetch_one(&mut *admin)
        .await
        .unwrap();
    let owner = std::fs::metadata(&data_dir).unwrap();
    let path = Path::new(&data_dir).join(name);
    std::fs::write(&path, pem).unwrap();
    std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid())).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[actix_web::test]
async fn verify_full_connects_to_the_right_server_only_and_the_app_runs_on_it() {
    let work = tempfile::tempdir().unwrap();
    let certs = work.path().join("certs");
    let other = work.path().join("other");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    certificates(&certs, "prasaran-test-ca");
    certificates(&other, "someone-else-ca");

    let config = ClusterConfig {
        data_dir: work.path().join("pg"),
        bin_dir: None,
        os_user: "postgres".into(),
        start_timeout: Duration::from_secs(60),
        listen: Some("127.0.0.1".parse().unwrap()),
    };
    let cluster = tokio::task::spawn_blocking(move || EmbeddedCluster::start(&config))
        .await
        .unwrap()
        .expect("a cluster of its own");
    let mut admin = cluster.connect_options("postgres").connect().await.unwrap();
    let read = |name: &str| std::fs::read_to_string(certs.join(name)).unwrap();
    install(&mut admin, "server.crt", &read("server.crt")).await;
    install(&mut admin, "server.key", &read("server.key")).await;
    for setting in [
        "ALTER SYSTEM SET ssl_cert_file = 'server.crt'",
        "ALTER SYSTEM SET ssl_key_file = 'server.key'",
        "ALTER SYSTEM SET ssl = on",
        "SELECT pg_reload_conf()",
    ] {
        admin.execute(setting).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ssl: String = sqlx::query_scalar("SHOW ssl")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    if ssl != "on" {
        let log: String = sqlx::query_scalar("SELECT pg_read_file('server.log')")
            .fetch_one(&mut admin)
            .await
            .unwrap_or_default();
        panic!("ssl did not come on; the server's log:\n{log}");
    }
    admin.execute("CREATE DATABASE prasaran_tls").await.unwrap();

    let port = cluster.port();
    let url = |host: &str, ca: &Path| {
        format!(
            "postgres://postgres@{host}:{port}/prasaran_tls?sslmode=verify-full&sslrootcert={}",
            ca.display()
        )
    };
    let connect = |url: String| async move {
        PgConnectOptions::from_str(&url)
            .unwrap()
            .connect()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    connect(url("localhost", &certs.join("ca.pem")))
        .await
        .expect("the right CA and host name connect");
    let mut tls = PgConnectOptions::from_str(&url("localhost", &certs.join("ca.pem")))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut tls)
            .await
            .unwrap();
    assert!(encrypted, "the session is encrypted");
    tls.close().await.unwrap();
    let wrong_ca = connect(url("localhost", &other.join("ca.pem"))).await;
    assert!(
        wrong_ca.is_err(),
        "a certificate from another CA is refused"
    );
    let wrong_host = connect(url("127.0.0.1", &certs.join("ca.pem"))).await;
    assert!(
        wrong_host.is_err(),
        "a certificate for another name is refused"
    );

    // The whole app, on the TLS database.
    let mut settings = test_settings();
    settings.database.url = Some(SecretString::from(url("localhost", &certs.join("ca.pem"))));
    let app = prasaran::startup::Application::build(settings)
        .await
        .expect("the app starts over TLS");
    let browser = Browser::new(&format!("http://127.0.0.1:{}", app.port()));
    let handle = app.handle();
    let running = actix_web::rt::spawn(app.run_until_stopped());
    assert_eq!(browser.get("/health/ready").await.status(), StatusCode::OK);
    assert_eq!(
        browser.signup("tls@example.com", PASSWORD).await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        browser.login("tls@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    handle.stop(true).await;
    running.await.unwrap().unwrap();
    admin.close().await.unwrap();
    tokio::task::spawn_blocking(move || cluster.stop())
        .await
        .unwrap()
        .unwrap();
}
