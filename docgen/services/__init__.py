"""Services: each orchestrates one use case (import a case, build a pack, ...)."""
