//! Whether a new password is too easy to guess: `zxcvbn` (Dropbox's
//! estimator, which knows common passwords, names, words, dates, keyboard
//! patterns and repeats) must rate it at least "safely unguessable" for an
//! online attack. It runs off the event loop: a long password takes it
//! milliseconds.

use zxcvbn::Score;

use crate::domain::Password;

/// zxcvbn's 3: "safely unguessable: moderate protection from offline attack".
const LEAST: Score = Score::Three;

/// The password back when it is hard enough to guess; otherwise why not, in
/// words that say what to do. `inputs` are the user's own data (the email),
/// which a password must not lean on.
pub async fn check(password: Password, inputs: Vec<String>) -> Result<Password, String> {
    tokio::task::spawn_blocking(move || {
        let words: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let estimate = zxcvbn::zxcvbn(password.expose(), &words);
        if estimate.score() >= LEAST {
            return Ok(password);
        }
        let mut why = String::from("this password is too easy to guess");
        if let Some(feedback) = estimate.feedback() {
            if let Some(warning) = feedback.warning() {
                why.push_str(&format!(" ({warning})"));
            }
            if let Some(suggestion) = feedback.suggestions().first() {
                why.push_str(&format!(": {suggestion}"));
            }
        }
        why.push_str("; a few uncommon words together make a strong one");
        Err(why)
    })
    .await
    .unwrap_or_else(|_| Err("the password could not be checked; try again".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn verdict(raw: &str) -> Result<(), String> {
        check(
            Password::parse(raw.to_owned()).unwrap(),
            vec!["ada@example.com".into()],
        )
        .await
        .map(|_| ())
    }

    #[tokio::test]
    async fn common_and_patterned_passwords_are_refused_with_a_reason() {
        for weak in [
            "password1234",
            "aaaaaaaaaaaa",
            "qwertyuiopas",
            "ada@example.com",
        ] {
            let why = verdict(weak).await.unwrap_err();
            assert!(why.contains("too easy to guess"), "{weak}: {why}");
        }
        assert!(verdict("correct horse battery staple").await.is_ok());
        assert!(verdict("benchmark password").await.is_ok());
    }
}
