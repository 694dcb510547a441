//! The binary's own behaviour: help text and configuration errors.

use std::process::Command;

fn prasaran() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_prasaran"));
    for (key, _) in std::env::vars() {
        if key.starts_with("PRASARAN") {
            command.env_remove(key);
        }
    }
    command
}

#[test]
fn help_explains_each_command() {
    let output = prasaran().arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for command in ["serve", "migrate"] {
        assert!(text.contains(command), "{text}");
    }
    let serve = prasaran().args(["serve", "--help"]).output().unwrap();
    let text = String::from_utf8(serve.stdout).unwrap();
    assert!(
        text.contains("--bind") && text.contains("--data-dir"),
        "{text}"
    );
}

fn start_error(envs: &[(&str, &str)]) -> String {
    let mut command = prasaran();
    command.args(["serve", "--data-dir", "/nonexistent/never-used"]);
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn a_bad_value_stops_start_up_naming_the_key() {
    let stderr = start_error(&[("PRASARAN__SERVER__WORKERS", "many")]);
    assert!(stderr.contains("server.workers"), "{stderr}");
}

#[test]
fn an_unknown_key_stops_start_up() {
    let stderr = start_error(&[("PRASARAN__SERVER__PORTT", "80")]);
    assert!(stderr.contains("portt"), "{stderr}");
}

#[test]
fn production_refuses_to_start_without_secrets() {
    let mut env = vec![("PRASARAN_ENV", "production")];
    let stderr = start_error(&env);
    assert!(stderr.contains("session.key"), "{stderr}");

    env.push(("PRASARAN__SESSION__KEY", "c2VjcmV0"));
    let stderr = start_error(&env);
    assert!(stderr.contains("keys.local.master_key"), "{stderr}");

    env.push(("PRASARAN__KEYS__LOCAL__MASTER_KEY", "c2VjcmV0"));
    let stderr = start_error(&env);
    assert!(stderr.contains("platforms.manch.base_url"), "{stderr}");

    env.push((
        "PRASARAN__PLATFORMS__MANCH__BASE_URL",
        "https://manch.example/",
    ));
    env.push(("PRASARAN__PLATFORMS__MANCH__CLIENT_SECRET", "s3cret"));
    let stderr = start_error(&env);
    assert!(stderr.contains("database.url"), "{stderr}");
}

#[test]
fn separate_roles_and_sqs_or_kms_modes_name_what_they_need() {
    let stderr = start_error(&[("PRASARAN__SERVER__ROLE", "worker")]);
    assert!(stderr.contains("queue.kind"), "{stderr}");
    let stderr = start_error(&[("PRASARAN__QUEUE__KIND", "sqs")]);
    assert!(stderr.contains("queue.sqs.queue_url"), "{stderr}");
    let stderr = start_error(&[("PRASARAN__KEYS__PROVIDER", "kms")]);
    assert!(stderr.contains("keys.kms.key_id"), "{stderr}");
    let stderr = start_error(&[("PRASARAN__QUEUE__KIND", "kafka")]);
    assert!(stderr.contains("queue.kind"), "{stderr}");

    // The command-line role is checked the same way.
    let output = prasaran()
        .args([
            "serve",
            "--role",
            "api",
            "--data-dir",
            "/nonexistent/never-used",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("queue.kind"), "{stderr}");
    let output = prasaran()
        .args(["serve", "--role", "boss"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("api, worker or all"));
}

#[actix_web::test]
async fn migrate_applies_the_migrations_and_exits() {
    let database = crate::helpers::TestDatabase::create().await;
    let output = prasaran()
        .arg("migrate")
        .env("PRASARAN__DATABASE__URL", &database.url)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("migrations applied"));
    let pool = database.pool().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        tables.contains(&"users".to_owned()) && tables.contains(&"sessions".to_owned()),
        "{tables:?}"
    );
}
