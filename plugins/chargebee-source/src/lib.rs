//! The Chargebee source component.
