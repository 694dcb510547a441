//! Platform adapters: the only code that knows a social platform's API.
//! Each platform is one module behind one object-safe trait (DESIGN §5);
//! the first, Manch, arrives with its OAuth2 connection flow.
