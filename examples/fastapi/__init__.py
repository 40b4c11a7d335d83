"""The FastAPI example app: `uvicorn examples.fastapi.app:app` (README.md here)."""
