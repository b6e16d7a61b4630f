"""HTTP only: `python -m web [--host 127.0.0.1] [--port 8000]`."""
