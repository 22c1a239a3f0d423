"""jobpulse dlt sources: one package per vendor, plus `shared` for what two or more vendors use."""
