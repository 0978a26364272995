//! Integration tests (one binary).
mod gluon;
