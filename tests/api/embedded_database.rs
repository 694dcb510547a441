//! The embedded default: with no database URL the app runs its own cluster.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use prasaran::startup::Application;
use reqwest::StatusCode;

use crate::helpers::test_settings;

fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // tempdir is 0700; a root test run hands the cluster to `postgres`, who must get in.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn postmaster_running(pgdata: &Path) -> bool {
    pgdata.join("postmaster.pid").exists()
}

#[actix_web::test]
async fn serves_ready_on_a_private_cluster_and_stops_it_on_shutdown() {
    let dir = data_dir();
    let mut settings = test_settings();
    settings.database.url = None;
    settings.data_dir = dir.path().to_owned();

    let app = Application::build(settings.clone())
        .await
        .expect("embedded app starts");
    let pgdata = dir.path().join("pg");
    assert!(
        pgdata.join("PG_VERSION").exists(),
        "initdb ran into <data-dir>/pg"
    );
    assert!(postmaster_running(&pgdata));

    let handle = app.handle();
    let address = format!("http://127.0.0.1:{}", app.port());
    let running = actix_web::rt::spawn(app.run_until_stopped());
    let ready = crate::helpers::http()
        .get(format!("{address}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    // A second serve on the same data dir is told, clearly, that one is running.
    let second = Application::build(settings.clone()).await;
    let message = format!("{:#}", second.err().expect("second serve must refuse"));
    assert!(
        message.contains("in use by another prasaran serve"),
        "{message}"
    );

    handle.stop(true).await;
    running.await.unwrap().unwrap();
    assert!(!postmaster_running(&pgdata), "cluster stopped with the app");

    // The next start reuses the cluster and its data.
    let again = Application::build(settings)
        .await
        .expect("restart on the same cluster");
    let handle = again.handle();
    let running = actix_web::rt::spawn(again.run_until_stopped());
    handle.stop(true).await;
    running.await.unwrap().unwrap();
    assert!(!postmaster_running(&pgdata));
}

#[actix_web::test]
async fn no_server_binaries_names_both_ways_out() {
    let dir = data_dir();
    let empty_bin = tempfile::tempdir().unwrap();
    let mut settings = test_settings();
    settings.database.url = None;
    settings.data_dir = dir.path().to_owned();
    settings.database.embedded.bin_dir = Some(empty_bin.path().to_owned());

    let error = Application::build(settings).await.err().expect("must fail");
    let message = format!("{error:#}");
    assert!(message.contains("install PostgreSQL"), "{message}");
    assert!(message.contains("PRASARAN__DATABASE__URL"), "{message}");
}

#[actix_web::test]
async fn a_data_dir_the_postgres_user_cannot_enter_gets_a_sound_fallback() {
    if !nix::unistd::Uid::effective().is_root() {
        // Only a root process hands the cluster to another user.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap(); // like /root
    let mut settings = test_settings();
    settings.database.url = None;
    settings.data_dir = dir.path().to_owned();

    let app = Application::build(settings)
        .await
        .expect("fallback cluster starts");
    let pointer = std::fs::read_to_string(dir.path().join("pg.location")).unwrap();
    let pgdata = Path::new(pointer.trim()).to_owned();
    assert!(
        pgdata.starts_with("/var/lib/prasaran/clusters"),
        "{pointer}"
    );
    assert!(postmaster_running(&pgdata));

    let handle = app.handle();
    let running = actix_web::rt::spawn(app.run_until_stopped());
    handle.stop(true).await;
    running.await.unwrap().unwrap();
    assert!(!postmaster_running(&pgdata));
    std::fs::remove_dir_all(pgdata.parent().unwrap()).unwrap();
}
