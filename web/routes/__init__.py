"""HTTP routes; each module is thin and calls into `bot`."""
