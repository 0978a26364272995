//! Procedural macros of varscope.
