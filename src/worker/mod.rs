//! The edge function.
