"""Pure domain logic: no I/O, no clock reads; imports nothing outside this layer but the errors."""
