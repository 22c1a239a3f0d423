"""What 2+ vendor sources use: the HTTP client, token-exchange auth, errors, redaction, time."""
