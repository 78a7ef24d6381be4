"""The new door: FastAPI under /api/v2, a thin async layer over src.core."""
