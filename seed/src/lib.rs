//! Create, log in and set up test users; print one User record each
