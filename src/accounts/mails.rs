//! The words of the mails accounts send. Plain text: links stay visible and
//! nothing in them can be rendered as markup.

use url::Url;

use crate::mail::Mail;

pub fn verify_email(to: &str, link: &Url, hours: u32) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Verify your email address for Prasaran".into(),
        text: format!(
            "Hello,\n\n\
             A Prasaran account was created with this address. Open this link to verify it:\n\n\
             {link}\n\n\
             The link works once, for {hours} hours. Until the address is verified the \
             account can write posts but not connect platforms.\n\n\
             If you did not sign up, ignore this message.\n"
        ),
    }
}

pub fn signup_attempt(to: &str, base: &Url) -> Mail {
    let login = base.join("login").unwrap_or_else(|_| base.clone());
    let forgot = base
        .join("forgot-password")
        .unwrap_or_else(|_| base.clone());
    Mail {
        to: to.to_owned(),
        subject: "Someone tried to sign up with your address".into(),
        text: format!(
            "Hello,\n\n\
             Someone tried to create a Prasaran account with this address, which already \
             has one. Your account was not changed.\n\n\
             If it was you, log in at {login}\n\
             or, if you forgot the password, choose a new one at {forgot}\n\n\
             If it was not you, ignore this message.\n"
        ),
    }
}

pub fn reset_password(to: &str, link: &Url, minutes: u32) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Reset your Prasaran password".into(),
        text: format!(
            "Hello,\n\n\
             Open this link to choose a new password:\n\n\
             {link}\n\n\
             The link works once, for {minutes} minutes. Setting a new password signs out \
             every session and revokes every API token of the account.\n\n\
             If you did not ask for this, ignore this message: your password stays as it is.\n"
        ),
    }
}
