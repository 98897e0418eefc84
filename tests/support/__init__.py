"""Helpers shared by test modules of every tier: scratch databases, the demo PKI, SMTP on loopback."""
