"""What two or more vendor sources use: the HTTP client, token-exchange auth, errors, redaction, time."""
