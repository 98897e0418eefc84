"""Integration tests: real parts (SQLite and PostgreSQL, WeasyPrint and Word rendering, openssl, qpdf,
SMTP on loopback, worker processes), each exercised on its own or with a few others."""
