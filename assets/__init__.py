"""Asset definitions of sotaboard, one module per domain."""
