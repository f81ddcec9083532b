//! eConnect over TDS: see mod docs below.
