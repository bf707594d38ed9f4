"""The edges of PayGate: settings, wiring, security, the REST API, the pages, background jobs."""
