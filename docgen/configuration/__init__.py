"""What an authority configures, read from TOML in one strict way."""
