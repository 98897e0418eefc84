"""Secure distribution: certificates, signing and encryption, transports."""
