//! Unsafe settings stop start-up with one line naming the setting: dev
//! settings on a non-loopback address, and each development convenience in
//! production.

use prasaran::settings::{
    Environment, LinkCards, Settings, check_mode_requirements, check_production,
};
use secrecy::SecretString;

/// Settings production accepts.
fn production() -> Settings {
    let mut s = crate::helpers::test_settings();
    s.environment = Environment::Production;
    s.session.cookie_secure = true;
    s.session.cookie_name = "__Host-prasaran_session".into();
    s.server.public_url = Some("https://prasaran.example/".parse().unwrap());
    s.platforms.mastodon.allow_http_instances = false;
    s.platforms.matrix.allow_http_homeservers = false;
    s.engine.panic_marker = None;
    s
}

#[test]
fn production_refuses_each_development_convenience_naming_it() {
    check_production(&production()).expect("the base is acceptable");
    type Tweak = Box<dyn Fn(&mut Settings)>;
    let cases: Vec<(&str, Tweak)> = vec![
        (
            "session.cookie_secure",
            Box::new(|s| s.session.cookie_secure = false),
        ),
        (
            "session.cookie_name",
            Box::new(|s| s.session.cookie_name = "prasaran_session".into()),
        ),
        (
            "server.public_url",
            Box::new(|s| s.server.public_url = None),
        ),
        (
            "server.public_url",
            Box::new(|s| s.server.public_url = Some("http://prasaran.example/".parse().unwrap())),
        ),
        (
            "engine.panic_marker",
            Box::new(|s| s.engine.panic_marker = Some("boom".into())),
        ),
        (
            "platforms.manch.base_url",
            Box::new(|s| {
                s.platforms.manch.base_url = Some("http://manch.example/".parse().unwrap())
            }),
        ),
        (
            "platforms.bluesky.service_url",
            Box::new(|s| {
                s.platforms.bluesky.service_url = Some("http://pds.example/".parse().unwrap())
            }),
        ),
        (
            "platforms.mastodon.allow_http_instances",
            Box::new(|s| s.platforms.mastodon.allow_http_instances = true),
        ),
        (
            "platforms.matrix.allow_http_homeservers",
            Box::new(|s| s.platforms.matrix.allow_http_homeservers = true),
        ),
        (
            "platforms.bluesky.link_cards",
            Box::new(|s| s.platforms.bluesky.link_cards = LinkCards::AnyAddress),
        ),
        (
            "server.allow_insecure_dev",
            Box::new(|s| s.server.allow_insecure_dev = true),
        ),
    ];
    for (key, tweak) in cases {
        let mut settings = production();
        tweak(&mut settings);
        let error = check_production(&settings)
            .err()
            .unwrap_or_else(|| panic!("{key} accepted"));
        let line = error.to_string();
        assert!(line.contains(key), "{key}: {line}");
        assert!(!line.contains('\n'), "one line: {line}");
    }
}

#[test]
fn dev_settings_refuse_to_face_a_network_unless_told() {
    let mut settings = crate::helpers::test_settings();
    settings.server.bind = "0.0.0.0:8080".parse().unwrap();
    let error = check_mode_requirements(&settings).expect_err("refused");
    assert!(error.to_string().contains("server.bind"), "{error}");
    assert!(
        error.to_string().contains("PRASARAN_ENV=production"),
        "{error}"
    );

    settings.server.bind = "127.0.0.1:0".parse().unwrap();
    settings.server.ops_bind = "0.0.0.0:9464".parse().unwrap();
    let error = check_mode_requirements(&settings).expect_err("refused");
    assert!(error.to_string().contains("server.ops_bind"), "{error}");

    settings.server.allow_insecure_dev = true;
    check_mode_requirements(&settings).expect("allowed when asked");
    settings.environment = Environment::Production;
    settings.server.ops_token = Some(SecretString::from("x".repeat(40)));
    check_mode_requirements(&settings).expect("production may bind anywhere");
}

#[test]
fn a_sandbox_refuses_a_non_loopback_address_unless_allowed() {
    for platform in ["manch", "mastodon"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_prasaran"))
            .args(["sandbox", platform, "--bind", "0.0.0.0:0"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{platform}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--allow-remote"), "{platform}: {stderr}");
    }
}
