"""Shadow reads: /api reads mirrored by nginx are replayed on both doors and their answers compared.

Hosted by the FastAPI process (src/fastapi_app/shadow.py); free of any web framework and of the
Flask door, which it reaches only over HTTP. Results go to the database through src.core.parity.
"""
